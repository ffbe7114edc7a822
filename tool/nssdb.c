/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup's NSS databases: the mynacard modules registered
 * in a database (its pkcs11.txt), adding and removing one through NSS's
 * own modutil and certutil (libnss3-tools) rather than editing the files,
 * `setup nss` and `setup chromium` (the shared database ~/.pki/nssdb),
 * and what doctor says of a database.  Layer: tool/; used by firefox.c
 * and libreoffice.c for their databases.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

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

int run_nss(const char *what, char *const argv[])
{
    char out[4096];
    int st = run(argv, out, sizeof(out));

    if (st == 127) {
        complain(_("%s is missing: install NSS's tools (Debian: apt install "
                   "libnss3-tools)"),
                 argv[0]);
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

const char *base_name(const char *p)
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
    for (line = strtok_r(text, "\n", &save);;
         line = strtok_r(NULL, "\n", &save)) {
        if (!line || !strncmp(line, "library=", 8)) {
            const char *b = base_name(cur.lib);

            if (cur.lib[0] && n < cap &&
                (!strncmp(b, "mynacard", 8) ||
                 !strncmp(b, "p11-kit-proxy", 13)))
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
    if (tool_exists(cert9))
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
int nssdb_remove(const char *dir, bool *removed)
{
    struct nss_mod mods[8];
    size_t n = nssdb_mods(dir, mods, 8);
    char db[PATH_MAX + 8];

    sfmt(db, sizeof(db), "sql:%s", dir);
    for (size_t i = 0; i < n; i++) {
        char *argv[] = { "modutil",    "-dbdir", db,  "-delete",
                         mods[i].name, "-force", NULL };

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
int nssdb_add(const char *dir, const char *lib, bool *already)
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
        char *argv[] = { "modutil",   "-dbdir",        db,
                         "-add",      NSS_MODULE_NAME, "-libfile",
                         (char *)lib, "-force",        NULL };

        return run_nss(_("adding the module"), argv);
    }
}

int setup_nss(const char *lib)
{
    char dir[PATH_MAX];
    bool already = false, removed = false;

    sfmt(dir, sizeof(dir), "%s/.pki/nssdb", tool_home());
    jo_str("database", dir);
    if (tool_opt.remove) {
        if (nssdb_remove(dir, &removed) < 0)
            return TOOL_EFAIL;
        say("%s: %s\n", dir, removed ? _("removed") : _("was not registered"));
        return TOOL_OK;
    }
    if (nssdb_add(dir, lib, &already) < 0)
        return TOOL_EFAIL;
    say(_("%s: %s (used by Chromium and other NSS programs)\n"), dir,
        already ? _("already registered") : _("registered"));
    return TOOL_OK;
}

/* ---- Checks for doctor ---- */

/* The state of an NSS database for a place wanting @want (a module file
 * name); @also_ok another acceptable one (or NULL). */
enum reg_state nssdb_state(const char *dir, const char *want,
                           const char *also_ok, char *detail, size_t cap)
{
    struct nss_mod mods[8];
    size_t n = nssdb_mods(dir, mods, 8);
    enum reg_state st = REG_MISSING;

    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *b = base_name(mods[i].lib);

        if (!strcmp(b, want) || (also_ok && !strcmp(b, also_ok))) {
            if (!tool_exists(mods[i].lib)) {
                sfmt(detail, cap, D_("%s is registered but missing"),
                     mods[i].lib);
                return REG_WRONG;
            }
            return REG_OK;
        }
        if (!strcmp(b, "p11-kit-proxy.so")) {
            char auth[PATH_MAX + 32];

            sfmt(auth, sizeof(auth), "%s/mynacard-auth.module",
                 tool_p11kit_configs());
            if (!strcmp(want, MOD_AUTH) && tool_exists(auth))
                return REG_OK;
            continue;
        }
        sfmt(detail, cap, D_("%s is registered instead of %s"), b, want);
        st = REG_WRONG;
    }
    return st;
}

void reg_check_nss(struct reg_report *out)
{
    char cert9[PATH_MAX + 16];

    sfmt(out->where, sizeof(out->where), "%s/.pki/nssdb", tool_home());
    sfmt(cert9, sizeof(cert9), "%s/cert9.db", out->where);
    out->detail[0] = '\0';
    if (!tool_exists(cert9)) {
        out->state = REG_NONE;
        return;
    }
    out->state = nssdb_state(out->where, MOD_AUTH, NULL, out->detail,
                             sizeof(out->detail));
}
