/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup libreoffice: the signature-only module in an NSS
 * database of its own (~/.config/mynacard/libreoffice-nssdb) that
 * LibreOffice's CertDir setting (registrymodifications.xcu) names, the
 * holder's previous CertDir kept to give back on --remove, refused while
 * LibreOffice runs on that user installation; and doctor's check of it.
 * Layer: tool/; the database through nssdb.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "setup.h"

#define LO_CERTDIR_ITEM                                                        \
    "<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"     \
    "<prop oor:name=\"CertDir\""

static void lo_dirs(char *inst, size_t icap, char *nssdb, size_t ncap)
{
    char cfg[PATH_MAX];

    tool_config_home(cfg, sizeof(cfg));
    sfmt(inst, icap, "%s/libreoffice/4", cfg);
    sfmt(nssdb, ncap, "%s/mynacard/libreoffice-nssdb", cfg);
}

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
    if (!tool_exists(lock))
        return false;
    d = opendir("/proc");
    if (!d)
        return true; /* cannot tell: be careful */
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
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        default:
            break;
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
    static const struct {
        const char *ent;
        char ch;
    } t[] = {
        { "&amp;", '&' },  { "&lt;", '<' },    { "&gt;", '>' },
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
        sfmt(out, olen,
             "%.*s%s oor:op=\"fuse\"><value>%s</value></prop></item>\n%s",
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

int setup_libreoffice(const char *lib)
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

        if (tool_is_dir(db) && nssdb_remove(db, &removed) < 0)
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
          "names\n"),
        already ? _("already registered") : _("registered"), db);
    if (prev[0] && strcmp(prev, db) != 0)
        say(_("  (it named %s before; `setup libreoffice --remove` gives that "
              "back)\n"),
            prev);
    if (env && *env)
        complain(_("note: MOZILLA_CERTIFICATE_FOLDER=%s is set and LibreOffice "
                   "uses it first: unset it, or set it to sql:%s"),
                 env, db);
    return TOOL_OK;
}

void reg_check_libreoffice(struct reg_report *out)
{
    char inst[PATH_MAX], db[PATH_MAX], xcu[PATH_MAX + 48], dir[PATH_MAX];
    const char *env = getenv("MOZILLA_CERTIFICATE_FOLDER");
    char *text;

    lo_dirs(inst, sizeof(inst), db, sizeof(db));
    out->detail[0] = '\0';
    sfmt(out->where, sizeof(out->where), "%s", inst);
    if (!tool_is_dir(inst)) {
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
    out->state =
        nssdb_state(dir, MOD_SIGN, MOD_BOTH, out->detail, sizeof(out->detail));
}
