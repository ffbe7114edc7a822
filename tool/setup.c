/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup firefox|nss|libreoffice|p11-kit [--remove]: register
 * the right module where each program looks for it, or undo that; and the
 * checks of those registrations that doctor runs.  (setup mynaportal is
 * mynaportal.c's; the file helpers and Firefox's profiles are shared with
 * it through tool.h.)  Layer: tool/; touches
 * only files in the holder's home (and, as root, /etc/pkcs11/modules), and
 * runs NSS's modutil and certutil (libnss3-tools) for NSS databases rather
 * than editing them.
 *
 * Which module where: browsers (Firefox, and Chromium through the shared
 * NSS database ~/.pki/nssdb) get the authentication-only module, because
 * NSS asks for the password of every token whose certificates are not
 * public and the signature certificate is not; LibreOffice gets the
 * signature-only module, in an NSS database of its own
 * (~/.config/mynacard/libreoffice-nssdb) that its CertDir setting names,
 * so that Firefox never sees the signature token; p11-kit gets the
 * two-token module, for GnuTLS, OpenSSL and the rest.
 *
 * Environment, for tests run from the build tree: MYNACARD_MODULE_DIR
 * (the modules), MYNACARD_P11KIT_CONFIGS (the installation's p11-kit
 * module files), MYNACARD_P11KIT_USER_DIR (where setup p11-kit writes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

#ifndef TOOL_MODULE_DIR
#define TOOL_MODULE_DIR "/usr/lib/x86_64-linux-gnu/pkcs11"
#endif
#ifndef TOOL_P11KIT_CONFIGS
#define TOOL_P11KIT_CONFIGS "/usr/share/p11-kit/modules"
#endif

#define NSS_MODULE_NAME "My Number Card"
#define MOD_AUTH "mynacard-auth-pkcs11.so"
#define MOD_SIGN "mynacard-sign-pkcs11.so"
#define MOD_BOTH "mynacard-pkcs11.so"
#define P11KIT_FILE "mynacard.module"
#define P11KIT_MARK "# Written by mynacard-tool setup p11-kit"
#define LO_CERTDIR_ITEM \
    "<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">" \
    "<prop oor:name=\"CertDir\""
#define PROFILES_MAX 32
#define FILE_MAX (16u << 20)

/* ---- Paths ---- */

const char *tool_home(void)
{
    const char *h = getenv("HOME");
    struct passwd *pw;

    if (h && *h)
        return h;
    pw = getpwuid(getuid());
    return pw && pw->pw_dir ? pw->pw_dir : "/";
}

void tool_config_home(char *buf, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME");

    if (x && *x == '/')
        sfmt(buf, cap, "%s", x);
    else
        sfmt(buf, cap, "%s/.config", tool_home());
}

const char *tool_module_dir(void)
{
    const char *d = getenv("MYNACARD_MODULE_DIR");

    return d && *d ? d : TOOL_MODULE_DIR;
}

const char *tool_module_for(const char *target, char *buf, size_t cap)
{
    const char *m = MOD_BOTH;

    if (!strcmp(target, "firefox") || !strcmp(target, "nss")
        || !strcmp(target, "chromium"))
        m = MOD_AUTH;
    else if (!strcmp(target, "libreoffice"))
        m = MOD_SIGN;
    sfmt(buf, cap, "%s/%s", tool_module_dir(), m);
    return buf;
}

static const char *p11kit_configs(void)
{
    const char *d = getenv("MYNACARD_P11KIT_CONFIGS");

    return d && *d ? d : TOOL_P11KIT_CONFIGS;
}

static void p11kit_user_dir(char *buf, size_t cap)
{
    const char *d = getenv("MYNACARD_P11KIT_USER_DIR");
    char cfg[PATH_MAX];

    if (d && *d) {
        sfmt(buf, cap, "%s", d);
        return;
    }
    /* p11-kit ignores a user's own module files when running as root:
     * root's registration is the administrator's directory. */
    if (geteuid() == 0) {
        sfmt(buf, cap, "/etc/pkcs11/modules");
        return;
    }
    tool_config_home(cfg, sizeof(cfg));
    sfmt(buf, cap, "%s/pkcs11/modules", cfg);
}

static void lo_dirs(char *inst, size_t icap, char *nssdb, size_t ncap)
{
    char cfg[PATH_MAX];

    tool_config_home(cfg, sizeof(cfg));
    sfmt(inst, icap, "%s/libreoffice/4", cfg);
    sfmt(nssdb, ncap, "%s/mynacard/libreoffice-nssdb", cfg);
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int tool_mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Read a whole (small) file; NULL when missing or too big. */
char *tool_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "re");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!fp)
        return NULL;
    for (;;) {
        size_t r;

        if (cap - n < 4096) {
            char *g;

            if (cap >= FILE_MAX)
                goto fail;
            cap = cap ? cap * 2 : 8192;
            g = realloc(buf, cap + 1);
            if (!g)
                goto fail;
            buf = g;
        }
        r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

/* Write @data to @path through a temporary file and rename(), with
 * exactly @mode: the umask does not narrow it, since a file for all users
 * (setup mynaportal --system) must stay readable by them. */
int tool_write_file(const char *path, const char *data, size_t len,
                    mode_t mode)
{
    char tmp[PATH_MAX];
    FILE *fp;
    int fd;

    if ((size_t)sfmt(tmp, sizeof(tmp), "%s.mynacard-tmp", path) >= sizeof(tmp))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    fp = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- Running NSS's tools ---- */

/* Run @argv with stdin from /dev/null; its output (bounded) in @out.
 * Returns its exit status, 127 when it cannot be run, -1 on failure. */
static int run(char *const argv[], char *out, size_t cap)
{
    int pfd[2], status = 0;
    size_t n = 0;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);

        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char sink[512];
        ssize_t r;

        if (n + 1 < cap)
            r = read(pfd[0], out + n, cap - 1 - n);
        else
            r = read(pfd[0], sink, sizeof(sink));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (n + 1 < cap)
            n += (size_t)r;
    }
    close(pfd[0]);
    if (cap)
        out[n] = '\0';
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run_nss(const char *what, char *const argv[])
{
    char out[4096];
    int st = run(argv, out, sizeof(out));

    if (st == 127) {
        complain(_("%s is missing: install NSS's tools (Debian: apt install "
                 "libnss3-tools)"), argv[0]);
        return -1;
    }
    if (st != 0) {
        complain(_("%s failed (%s):\n%s"), argv[0], what, out);
        return -1;
    }
    return 0;
}

/* ---- NSS databases ---- */

struct nss_mod {
    char name[128];
    char lib[PATH_MAX];
};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');

    return s ? s + 1 : p;
}

/* The modules of mynacard (and p11-kit-proxy) in @dir's pkcs11.txt.
 * Returns how many were put in @out. */
static size_t nssdb_mods(const char *dir, struct nss_mod *out, size_t cap)
{
    char path[PATH_MAX], *text, *line, *save = NULL;
    struct nss_mod cur;
    size_t n = 0;

    sfmt(path, sizeof(path), "%s/pkcs11.txt", dir);
    text = tool_slurp(path, NULL);
    if (!text)
        return 0;
    memset(&cur, 0, sizeof(cur));
    /* Entries are blocks of key=value lines separated by blank lines;
     * strtok_r skips the blank lines, so a block ends at its next
     * library= line or at the end. */
    for (line = strtok_r(text, "\n", &save); ; line = strtok_r(NULL, "\n", &save)) {
        if (!line || !strncmp(line, "library=", 8)) {
            const char *b = base_name(cur.lib);

            if (cur.lib[0] && n < cap &&
                (!strncmp(b, "mynacard", 8) || !strncmp(b, "p11-kit-proxy", 13)))
                out[n++] = cur;
            memset(&cur, 0, sizeof(cur));
            if (!line)
                break;
            sfmt(cur.lib, sizeof(cur.lib), "%s", line + 8);
        } else if (!strncmp(line, "name=", 5)) {
            sfmt(cur.name, sizeof(cur.name), "%s", line + 5);
        }
    }
    free(text);
    return n;
}

static int nssdb_create(const char *dir)
{
    char db[PATH_MAX + 8], cert9[PATH_MAX];

    sfmt(cert9, sizeof(cert9), "%s/cert9.db", dir);
    if (exists(cert9))
        return 0;
    if (tool_mkdir_p(dir, 0700) < 0) {
        complain(_("cannot create %s: %s"), dir, strerror(errno));
        return -1;
    }
    sfmt(db, sizeof(db), "sql:%s", dir);
    {
        char *argv[] = { "certutil", "-N", "-d", db, "--empty-password", NULL };

        return run_nss(_("creating an NSS database"), argv);
    }
}

/* Remove every mynacard module from the database in @dir. */
static int nssdb_remove(const char *dir, bool *removed)
{
    struct nss_mod mods[8];
    size_t n = nssdb_mods(dir, mods, 8);
    char db[PATH_MAX + 8];

    sfmt(db, sizeof(db), "sql:%s", dir);
    for (size_t i = 0; i < n; i++) {
        char *argv[] = { "modutil", "-dbdir", db, "-delete", mods[i].name,
                         "-force", NULL };

        if (strncmp(base_name(mods[i].lib), "mynacard", 8) != 0)
            continue;
        if (run_nss(_("removing a module"), argv) < 0)
            return -1;
        *removed = true;
    }
    return 0;
}

/* Register @lib in @dir (created if needed), replacing any other
 * mynacard module there (the two-token one would make a browser ask for
 * the signature password). */
static int nssdb_add(const char *dir, const char *lib, bool *already)
{
    struct nss_mod mods[8];
    size_t n;
    char db[PATH_MAX + 8];
    bool removed = false;

    *already = false;
    if (nssdb_create(dir) < 0)
        return -1;
    n = nssdb_mods(dir, mods, 8);
    {
        size_t ours = 0, others = 0;

        for (size_t i = 0; i < n; i++) {
            if (!strcmp(mods[i].lib, lib))
                ours++;
            else if (!strncmp(base_name(mods[i].lib), "mynacard", 8))
                others++;
        }
        if (ours == 1 && others == 0) {
            *already = true;
            return 0;
        }
    }
    if (nssdb_remove(dir, &removed) < 0)
        return -1;
    sfmt(db, sizeof(db), "sql:%s", dir);
    {
        char *argv[] = { "modutil", "-dbdir", db, "-add", NSS_MODULE_NAME,
                         "-libfile", (char *)lib, "-force", NULL };

        return run_nss(_("adding the module"), argv);
    }
}

/* ---- Firefox profiles ---- */

/* The profile directories listed in ~/.mozilla/firefox/profiles.ini. */
size_t tool_firefox_profiles(char out[][PATH_MAX], size_t cap)
{
    char base[PATH_MAX], ini[PATH_MAX + 16], *text, *line, *save = NULL;
    char path[PATH_MAX] = "";
    bool in_profile = false, relative = true;
    size_t n = 0;

    sfmt(base, sizeof(base), "%s/.mozilla/firefox", tool_home());
    sfmt(ini, sizeof(ini), "%s/profiles.ini", base);
    text = tool_slurp(ini, NULL);
    if (!text)
        return 0;
    for (line = strtok_r(text, "\r\n", &save); ; line = strtok_r(NULL, "\r\n", &save)) {
        if (!line || line[0] == '[') {
            if (in_profile && path[0] && n < cap) {
                if (relative)
                    sfmt(out[n], PATH_MAX, "%s/%s", base, path);
                else
                    sfmt(out[n], PATH_MAX, "%s", path);
                if (is_dir(out[n]))
                    n++;
            }
            if (!line)
                break;
            in_profile = !strncmp(line, "[Profile", 8);
            path[0] = '\0';
            relative = true;
        } else if (!strncmp(line, "Path=", 5)) {
            sfmt(path, sizeof(path), "%s", line + 5);
        } else if (!strncmp(line, "IsRelative=", 11)) {
            relative = line[11] != '0';
        }
    }
    free(text);
    return n;
}

static bool pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Firefox holds a profile with a `lock` symlink to "ADDRESS:+PID" and an
 * fcntl lock on `.parentlock`; either, with a live process, means it
 * runs.  Sets *@pid when known. */
bool tool_profile_in_use(const char *dir, pid_t *pid)
{
    char path[PATH_MAX + 16], target[256];
    struct flock fl;
    ssize_t n;
    int fd;

    *pid = 0;
    sfmt(path, sizeof(path), "%s/lock", dir);
    n = readlink(path, target, sizeof(target) - 1);
    if (n > 0) {
        char *plus;

        target[n] = '\0';
        plus = strrchr(target, '+');
        if (plus) {
            long v = strtol(plus + 1, NULL, 10);

            if (v > 0 && v < INT_MAX && pid_alive((pid_t)v)) {
                *pid = (pid_t)v;
                return true;
            }
        }
    }
    sfmt(path, sizeof(path), "%s/.parentlock", dir);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
            *pid = fl.l_pid;
            close(fd);
            return true;
        }
        close(fd);
    }
    return false;
}

static int setup_firefox(const char *lib)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);
    int rc = TOOL_OK;
    pid_t pid;

    if (n == 0) {
        if (tool_opt.remove) {
            say(_("No Firefox profile: nothing to remove.\n"));
            return TOOL_OK;
        }
        complain(_("no Firefox profile in %s/.mozilla/firefox: start Firefox "
                 "once, close it, and run this again"), tool_home());
        return TOOL_EFAIL;
    }
    /* All or nothing: check every profile before touching any. */
    for (size_t i = 0; i < n; i++) {
        if (tool_profile_in_use(prof[i], &pid)) {
            complain(_("Firefox is running (process %ld, profile %s): please "
                     "close it and run this again; nothing was changed"),
                     (long)pid, prof[i]);
            jo_str("refused", "firefox-running");
            return TOOL_EBUSY;
        }
    }
    jo_arr_begin("profiles");
    for (size_t i = 0; i < n; i++) {
        bool already = false, removed = false;
        int r;

        if (tool_opt.remove)
            r = nssdb_remove(prof[i], &removed);
        else
            r = nssdb_add(prof[i], lib, &already);
        jo_obj_begin(NULL);
        jo_str("profile", prof[i]);
        jo_bool("ok", r == 0);
        jo_obj_end();
        if (r < 0) {
            rc = TOOL_EFAIL;
            continue;
        }
        if (tool_opt.remove)
            say("%s: %s\n", prof[i],
                removed ? _("removed") : _("was not registered"));
        else
            say("%s: %s\n", prof[i],
                already ? _("already registered") : _("registered"));
    }
    jo_arr_end();
    if (rc == TOOL_OK && !tool_opt.remove)
        say(_("Firefox will show \"%s\" under Settings > Privacy & Security > "
            "Security Devices.  Log-ins need TLS 1.2: see `mynacard-tool "
            "doctor`.\n"), NSS_MODULE_NAME);
    return rc;
}

static int setup_nss(const char *lib)
{
    char dir[PATH_MAX];
    bool already = false, removed = false;

    sfmt(dir, sizeof(dir), "%s/.pki/nssdb", tool_home());
    jo_str("database", dir);
    if (tool_opt.remove) {
        if (nssdb_remove(dir, &removed) < 0)
            return TOOL_EFAIL;
        say("%s: %s\n", dir,
            removed ? _("removed") : _("was not registered"));
        return TOOL_OK;
    }
    if (nssdb_add(dir, lib, &already) < 0)
        return TOOL_EFAIL;
    say(_("%s: %s (used by Chromium and other NSS programs)\n"), dir,
        already ? _("already registered") : _("registered"));
    return TOOL_OK;
}

/* ---- LibreOffice ---- */

/* Read /proc/@pid/@what (NUL-separated strings) into @buf; its length,
 * or 0 when unreadable. */
static size_t proc_read(const char *pid, const char *what, char *buf,
                        size_t cap)
{
    char path[300];
    size_t n;
    FILE *fp;

    sfmt(path, sizeof(path), "/proc/%s/%s", pid, what);
    fp = fopen(path, "re");
    if (!fp)
        return 0;
    n = fread(buf, 1, cap - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return n;
}

/* The value of @key= among the NUL-separated strings of @buf, or NULL. */
static const char *nul_list_get(const char *buf, size_t len, const char *key)
{
    size_t kl = strlen(key);

    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        if (!strncmp(buf + i, key, kl) && buf[i + kl] == '=')
            return buf + i + kl + 1;
    return NULL;
}

/* Does process @pid (a soffice.bin) use the user installation @inst?
 * Its -env:UserInstallation argument says so, else its environment
 * (XDG_CONFIG_HOME or HOME), from which LibreOffice derives it.  When
 * neither can be read, assume it does. */
static bool soffice_uses(const char *pid, const char *inst)
{
    static char buf[65536];
    char dir[PATH_MAX];
    const char *v;
    size_t n;

    n = proc_read(pid, "cmdline", buf, sizeof(buf));
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
        const char *arg = strstr(buf + i, "UserInstallation=");

        if (arg) {
            arg += strlen("UserInstallation=");
            if (!strncmp(arg, "file://", 7))
                arg += 7;
            return !strcmp(arg, inst);
        }
    }
    n = proc_read(pid, "environ", buf, sizeof(buf));
    if (n == 0)
        return true;
    v = nul_list_get(buf, n, "XDG_CONFIG_HOME");
    if (v && *v == '/') {
        sfmt(dir, sizeof(dir), "%s/libreoffice/4", v);
    } else {
        v = nul_list_get(buf, n, "HOME");
        if (!v)
            return true;
        sfmt(dir, sizeof(dir), "%s/.config/libreoffice/4", v);
    }
    return !strcmp(dir, inst);
}

/* LibreOffice runs on @inst when the user installation is locked (.lock)
 * and a soffice.bin process of ours uses it; a stale lock alone is not
 * enough, nor another user installation's LibreOffice. */
static bool libreoffice_running(const char *inst)
{
    char lock[PATH_MAX + 8];
    DIR *d;
    struct dirent *e;
    bool found = false;

    sfmt(lock, sizeof(lock), "%s/.lock", inst);
    if (!exists(lock))
        return false;
    d = opendir("/proc");
    if (!d)
        return true;    /* cannot tell: be careful */
    while (!found && (e = readdir(d)) != NULL) {
        char path[300], comm[64] = "";
        struct stat st;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        sfmt(path, sizeof(path), "/proc/%s", e->d_name);
        if (stat(path, &st) < 0 || st.st_uid != geteuid())
            continue;
        if (proc_read(e->d_name, "comm", comm, sizeof(comm)) == 0 ||
            strncmp(comm, "soffice.bin", 11) != 0)
            continue;
        found = soffice_uses(e->d_name, inst);
    }
    closedir(d);
    return found;
}

static void xml_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;

    for (; *in && o + 7 < cap; in++) {
        const char *rep = NULL;

        switch (*in) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: break;
        }
        if (rep) {
            memcpy(out + o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void xml_unescape(const char *in, size_t len, char *out, size_t cap)
{
    static const struct { const char *ent; char ch; } t[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
        { "&quot;", '"' }, { "&apos;", '\'' },
    };
    size_t o = 0, i = 0;

    while (i < len && o + 1 < cap) {
        bool done = false;

        for (size_t k = 0; k < sizeof(t) / sizeof(t[0]) && in[i] == '&'; k++) {
            size_t el = strlen(t[k].ent);

            if (i + el <= len && !strncmp(in + i, t[k].ent, el)) {
                out[o++] = t[k].ch;
                i += el;
                done = true;
                break;
            }
        }
        if (!done)
            out[o++] = in[i++];
    }
    out[o] = '\0';
}

/* The CertDir value in registrymodifications.xcu (@text), into @out;
 * the item's span in *@start and *@end.  Returns false when unset. */
static bool xcu_find_certdir(const char *text, char *out, size_t cap,
                             const char **start, const char **end)
{
    const char *m = strstr(text, LO_CERTDIR_ITEM), *v, *ve, *e;

    if (out && cap)
        out[0] = '\0';
    if (!m)
        return false;
    e = strstr(m, "</item>");
    if (!e)
        return false;
    e += strlen("</item>");
    if (*e == '\n')
        e++;
    v = strstr(m, "<value>");
    ve = v ? strstr(v, "</value>") : NULL;
    if (out && v && ve && ve < e)
        xml_unescape(v + 7, (size_t)(ve - v - 7), out, cap);
    if (start)
        *start = m;
    if (end)
        *end = e;
    return true;
}

/* Set CertDir to @value, or remove the item when @value is NULL. */
static int xcu_set_certdir(const char *xcu, const char *value)
{
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\" "
        "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
        "</oor:items>\n";
    char *text, *out, esc[PATH_MAX * 6 + 1];
    const char *s = NULL, *e = NULL, *close_tag;
    size_t len = 0, olen;
    int r;

    text = tool_slurp(xcu, &len);
    if (!text) {
        if (!value)
            return 0;
        text = strdup(head);
        if (!text)
            return -1;
        len = strlen(text);
    }
    olen = len + sizeof(esc) + 256;
    out = malloc(olen);
    if (!out) {
        free(text);
        return -1;
    }
    /* Drop the old item, keep everything else as it was. */
    if (xcu_find_certdir(text, NULL, 0, &s, &e)) {
        memmove((char *)s, e, strlen(e) + 1);
        len = strlen(text);
    }
    close_tag = strstr(text, "</oor:items>");
    if (!close_tag) {
        complain(_("%s does not look like LibreOffice's settings file"), xcu);
        free(text);
        free(out);
        return -1;
    }
    if (value) {
        xml_escape(value, esc, sizeof(esc));
        sfmt(out, olen, "%.*s%s oor:op=\"fuse\"><value>%s</value></prop></item>\n%s",
                 (int)(close_tag - text), text, LO_CERTDIR_ITEM, esc, close_tag);
    } else {
        sfmt(out, olen, "%s", text);
    }
    r = tool_write_file(xcu, out, strlen(out), 0600);
    if (r < 0)
        complain(_("cannot write %s: %s"), xcu, strerror(errno));
    free(text);
    free(out);
    return r;
}

static int setup_libreoffice(const char *lib)
{
    char inst[PATH_MAX], db[PATH_MAX], user[PATH_MAX + 8], xcu[PATH_MAX + 40];
    char prevfile[PATH_MAX + 40], prev[PATH_MAX] = "", *text;
    const char *env = getenv("MOZILLA_CERTIFICATE_FOLDER");
    bool already = false, removed = false;

    lo_dirs(inst, sizeof(inst), db, sizeof(db));
    sfmt(user, sizeof(user), "%s/user", inst);
    sfmt(xcu, sizeof(xcu), "%s/registrymodifications.xcu", user);
    tool_config_home(prevfile, sizeof(prevfile));
    sfmt(prevfile + strlen(prevfile), sizeof(prevfile) - strlen(prevfile),
         "/mynacard/libreoffice-certdir.previous");
    jo_str("database", db);
    if (libreoffice_running(inst)) {
        complain(_("LibreOffice is running: please close it and run this "
                 "again (it rewrites its settings when it exits); nothing "
                 "was changed"));
        jo_str("refused", "libreoffice-running");
        return TOOL_EBUSY;
    }
    text = tool_slurp(xcu, NULL);
    if (text) {
        xcu_find_certdir(text, prev, sizeof(prev), NULL, NULL);
        free(text);
    }
    if (tool_opt.remove) {
        char *saved;

        if (is_dir(db) && nssdb_remove(db, &removed) < 0)
            return TOOL_EFAIL;
        if (!strcmp(prev, db)) {
            /* Give back the folder the holder had chosen before. */
            saved = tool_slurp(prevfile, NULL);
            if (saved)
                saved[strcspn(saved, "\n")] = '\0';
            if (xcu_set_certdir(xcu, saved && *saved ? saved : NULL) < 0) {
                free(saved);
                return TOOL_EFAIL;
            }
            free(saved);
            unlink(prevfile);
            removed = true;
        }
        say("LibreOffice: %s\n",
            removed ? _("removed") : _("was not registered"));
        return TOOL_OK;
    }
    if (nssdb_add(db, lib, &already) < 0)
        return TOOL_EFAIL;
    if (strcmp(prev, db) != 0) {
        if (prev[0]) {
            char line[PATH_MAX + 2];
            int n = sfmt(line, sizeof(line), "%s\n", prev);

            if (tool_write_file(prevfile, line, (size_t)n, 0600) < 0) {
                complain(_("cannot write %s: %s"), prevfile, strerror(errno));
                return TOOL_EFAIL;
            }
        }
        if (tool_mkdir_p(user, 0700) < 0 || xcu_set_certdir(xcu, db) < 0)
            return TOOL_EFAIL;
        already = false;
    }
    say(_("LibreOffice: %s: the signature module in %s, which LibreOffice's "
        "certificate path (Tools > Options > Security > Certificate) now "
        "names\n"), already ? _("already registered") : _("registered"), db);
    if (prev[0] && strcmp(prev, db) != 0)
        say(_("  (it named %s before; `setup libreoffice --remove` gives that "
            "back)\n"), prev);
    if (env && *env)
        complain(_("note: MOZILLA_CERTIFICATE_FOLDER=%s is set and LibreOffice "
                 "uses it first: unset it, or set it to sql:%s"), env, db);
    return TOOL_OK;
}

/* ---- p11-kit ---- */

static int setup_p11kit(const char *lib)
{
    char pkg[PATH_MAX + 32], udir[PATH_MAX], ufile[PATH_MAX + 32], *text;
    char body[PATH_MAX + 512];
    bool ours;
    int n;

    sfmt(pkg, sizeof(pkg), "%s/%s", p11kit_configs(), P11KIT_FILE);
    p11kit_user_dir(udir, sizeof(udir));
    sfmt(ufile, sizeof(ufile), "%s/%s", udir, P11KIT_FILE);
    jo_str("file", ufile);
    text = tool_slurp(ufile, NULL);
    ours = text && strstr(text, P11KIT_MARK);
    free(text);
    if (tool_opt.remove) {
        if (ours && unlink(ufile) < 0) {
            complain(_("cannot remove %s: %s"), ufile, strerror(errno));
            return TOOL_EFAIL;
        }
        say("p11-kit: %s\n", ours ? _("removed")
                                  : _("was not registered by mynacard-tool"));
        if (exists(pkg))
            say(_("  The installation itself registers mynacard in %s: "
                "uninstall the package to undo that.\n"), pkg);
        return TOOL_OK;
    }
    if (exists(pkg)) {
        say(_("p11-kit: already registered by the installation (%s); nothing "
            "to do\n"), pkg);
        jo_str("installed", pkg);
        return TOOL_OK;
    }
    if (exists(ufile) && !ours) {
        complain(_("%s exists and was not written by mynacard-tool: left as "
                 "it is"), ufile);
        return TOOL_EFAIL;
    }
    if (tool_mkdir_p(udir, 0755) < 0) {
        complain(_("cannot create %s: %s"), udir, strerror(errno));
        return TOOL_EFAIL;
    }
    n = sfmt(body, sizeof(body),
                 P11KIT_MARK "; `mynacard-tool setup p11-kit --remove`\n"
                 "# removes it.  The My Number Card's two tokens for p11-kit\n"
                 "# (GnuTLS, OpenSSL, OpenSSH ...); browsers get the\n"
                 "# authentication-only module through their own setup.\n"
                 "module: %s\n"
                 "critical: no\n"
                 "disable-in: firefox firefox-esr firefox-bin thunderbird "
                 "thunderbird-bin\n", lib);
    if (n < 0 || (size_t)n >= sizeof(body) ||
        tool_write_file(ufile, body, (size_t)n, 0644) < 0) {
        complain(_("cannot write %s: %s"), ufile, strerror(errno));
        return TOOL_EFAIL;
    }
    say(_("p11-kit: registered in %s\n"), ufile);
    return TOOL_OK;
}

int cmd_setup(int argc, char **argv)
{
    char lib[PATH_MAX];
    const char *t;

    if (argc != 1) {
        complain(_("usage: mynacard-tool setup "
                 "firefox|chromium|nss|libreoffice|p11-kit|mynaportal "
                 "[--remove]"));
        return TOOL_EUSAGE;
    }
    t = argv[0];
    if (strcmp(t, "firefox") && strcmp(t, "chromium") && strcmp(t, "nss") &&
        strcmp(t, "libreoffice") && strcmp(t, "p11-kit") &&
        strcmp(t, "mynaportal")) {
        complain(_("unknown target \"%s\": firefox, chromium, nss, libreoffice, "
                 "p11-kit or mynaportal"), t);
        return TOOL_EUSAGE;
    }
    if (!strcmp(t, "mynaportal")) {
        jo_str("target", t);
        return setup_mynaportal();
    }
    if (tool_opt.system || tool_opt.allow_unsigned) {
        complain(_("--system and --allow-unsigned apply to setup mynaportal "
                 "only"));
        return TOOL_EUSAGE;
    }
    tool_module_for(t, lib, sizeof(lib));
    jo_str("target", t);
    jo_str("module", lib);
    jo_bool("remove", tool_opt.remove);
    if (!tool_opt.remove && !exists(lib)) {
        complain(_("the module %s is missing: is mynacard installed?  "
                 "(MYNACARD_MODULE_DIR names another directory)"), lib);
        return TOOL_EFAIL;
    }
    if (!strcmp(t, "firefox"))
        return setup_firefox(lib);
    /* Chromium on Linux loads the security devices of the user's shared
     * NSS database, ~/.pki/nssdb: the same place as `setup nss`. */
    if (!strcmp(t, "nss") || !strcmp(t, "chromium"))
        return setup_nss(lib);
    if (!strcmp(t, "libreoffice"))
        return setup_libreoffice(lib);
    return setup_p11kit(lib);
}

/* ---- Checks for doctor ---- */

/* The state of an NSS database for a place wanting @want (a module file
 * name); @also_ok another acceptable one (or NULL). */
static enum reg_state nssdb_state(const char *dir, const char *want,
                                  const char *also_ok, char *detail,
                                  size_t cap)
{
    struct nss_mod mods[8];
    size_t n = nssdb_mods(dir, mods, 8);
    enum reg_state st = REG_MISSING;

    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *b = base_name(mods[i].lib);

        if (!strcmp(b, want) || (also_ok && !strcmp(b, also_ok))) {
            if (!exists(mods[i].lib)) {
                sfmt(detail, cap, D_("%s is registered but missing"),
                         mods[i].lib);
                return REG_WRONG;
            }
            return REG_OK;
        }
        if (!strcmp(b, "p11-kit-proxy.so")) {
            char auth[PATH_MAX + 32];

            sfmt(auth, sizeof(auth), "%s/mynacard-auth.module",
                     p11kit_configs());
            if (!strcmp(want, MOD_AUTH) && exists(auth))
                return REG_OK;
            continue;
        }
        sfmt(detail, cap, D_("%s is registered instead of %s"), b, want);
        st = REG_WRONG;
    }
    return st;
}

size_t reg_check_firefox(struct reg_report *out, size_t cap)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);

    for (size_t i = 0; i < n && i < cap; i++) {
        sfmt(out[i].where, sizeof(out[i].where), "%s", prof[i]);
        out[i].state = nssdb_state(prof[i], MOD_AUTH, NULL, out[i].detail,
                                   sizeof(out[i].detail));
    }
    return n < cap ? n : cap;
}

void reg_check_nss(struct reg_report *out)
{
    char cert9[PATH_MAX + 16];

    sfmt(out->where, sizeof(out->where), "%s/.pki/nssdb", tool_home());
    sfmt(cert9, sizeof(cert9), "%s/cert9.db", out->where);
    out->detail[0] = '\0';
    if (!exists(cert9)) {
        out->state = REG_NONE;
        return;
    }
    out->state = nssdb_state(out->where, MOD_AUTH, NULL, out->detail,
                             sizeof(out->detail));
}

void reg_check_libreoffice(struct reg_report *out)
{
    char inst[PATH_MAX], db[PATH_MAX], xcu[PATH_MAX + 48], dir[PATH_MAX];
    const char *env = getenv("MOZILLA_CERTIFICATE_FOLDER");
    char *text;

    lo_dirs(inst, sizeof(inst), db, sizeof(db));
    out->detail[0] = '\0';
    sfmt(out->where, sizeof(out->where), "%s", inst);
    if (!is_dir(inst)) {
        out->state = REG_NONE;
        return;
    }
    /* The database LibreOffice will open, in its own order. */
    dir[0] = '\0';
    if (env && *env) {
        sfmt(dir, sizeof(dir), "%s", strncmp(env, "sql:", 4) ? env : env + 4);
    } else {
        sfmt(xcu, sizeof(xcu), "%s/user/registrymodifications.xcu", inst);
        text = tool_slurp(xcu, NULL);
        if (text) {
            xcu_find_certdir(text, dir, sizeof(dir), NULL, NULL);
            free(text);
        }
    }
    if (!dir[0]) {
        out->state = REG_MISSING;
        sfmt(out->detail, sizeof(out->detail), "%s",
             D_("no certificate folder set (LibreOffice would use a "
                "Firefox profile, which should not show the signature "
                "token)"));
        return;
    }
    sfmt(out->where, sizeof(out->where), "%s", dir);
    out->state = nssdb_state(dir, MOD_SIGN, MOD_BOTH, out->detail,
                             sizeof(out->detail));
}

void reg_check_p11kit(struct reg_report *out)
{
    char udir[PATH_MAX], f[PATH_MAX + 32], *text, *m;

    out->detail[0] = '\0';
    sfmt(out->where, sizeof(out->where), "%s/%s", p11kit_configs(),
             P11KIT_FILE);
    if (exists(out->where)) {
        out->state = REG_OK;
        return;
    }
    p11kit_user_dir(udir, sizeof(udir));
    sfmt(f, sizeof(f), "%s/%s", udir, P11KIT_FILE);
    text = tool_slurp(f, NULL);
    if (!text) {
        out->state = REG_MISSING;
        return;
    }
    sfmt(out->where, sizeof(out->where), "%s", f);
    out->state = REG_WRONG;
    sfmt(out->detail, sizeof(out->detail), "%s", D_("it names no module"));
    m = strstr(text, "\nmodule:");
    if (m) {
        char path[PATH_MAX];

        m += 8;
        m += strspn(m, " \t");
        sfmt(path, sizeof(path), "%.*s", (int)strcspn(m, " \t\r\n"), m);
        if (exists(path))
            out->state = REG_OK;
        else
            sfmt(out->detail, sizeof(out->detail),
                 D_("the module it names, %s, is missing"), path);
    }
    free(text);
}

void reg_check_tls(size_t *profiles, size_t *capped)
{
    static char prof[PROFILES_MAX][PATH_MAX];
    size_t n = tool_firefox_profiles(prof, PROFILES_MAX);

    *profiles = n;
    *capped = 0;
    for (size_t i = 0; i < n; i++) {
        static const char *const files[] = { "user.js", "prefs.js" };
        bool cap = false;

        for (size_t k = 0; k < 2 && !cap; k++) {
            char path[PATH_MAX + 16], *text;

            sfmt(path, sizeof(path), "%s/%s", prof[i], files[k]);
            text = tool_slurp(path, NULL);
            if (text) {
                cap = strstr(text, "\"security.tls.version.max\", 3)") != NULL;
                free(text);
            }
        }
        if (cap)
            (*capped)++;
    }
}
