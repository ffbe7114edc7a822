/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool setup p11-kit: the two-token module in a p11-kit module
 * file of the holder's (or, as root, /etc/pkcs11/modules), left alone
 * when the installation registers it already; and doctor's check of it.
 * Layer: tool/.
 *
 * Environment, for tests run from the build tree: MYNACARD_P11KIT_CONFIGS
 * (the installation's p11-kit module files), MYNACARD_P11KIT_USER_DIR
 * (where setup p11-kit writes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"

#ifndef TOOL_P11KIT_CONFIGS
#define TOOL_P11KIT_CONFIGS "/usr/share/p11-kit/modules"
#endif

#define P11KIT_FILE "mynacard.module"
#define P11KIT_MARK "# Written by mynacard-tool setup p11-kit"

const char *tool_p11kit_configs(void)
{
    const char *d = getenv("MYNACARD_P11KIT_CONFIGS");

    return d && *d ? d : TOOL_P11KIT_CONFIGS;
}

void tool_p11kit_user_dir(char *buf, size_t cap)
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

int setup_p11kit(const char *lib)
{
    char pkg[PATH_MAX + 32], udir[PATH_MAX], ufile[PATH_MAX + 32], *text;
    char body[PATH_MAX + 512];
    bool ours;
    int n;

    sfmt(pkg, sizeof(pkg), "%s/%s", tool_p11kit_configs(), P11KIT_FILE);
    tool_p11kit_user_dir(udir, sizeof(udir));
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
        say("p11-kit: %s\n",
            ours ? _("removed") : _("was not registered by mynacard-tool"));
        if (tool_exists(pkg))
            say(_("  The installation itself registers mynacard in %s: "
                  "uninstall the package to undo that.\n"),
                pkg);
        return TOOL_OK;
    }
    if (tool_exists(pkg)) {
        say(_("p11-kit: already registered by the installation (%s); nothing "
              "to do\n"),
            pkg);
        jo_str("installed", pkg);
        return TOOL_OK;
    }
    if (tool_exists(ufile) && !ours) {
        complain(_("%s exists and was not written by mynacard-tool: left as "
                   "it is"),
                 ufile);
        return TOOL_EFAIL;
    }
    if (tool_mkdir_p(udir, 0755) < 0) {
        complain(_("cannot create %s: %s"), udir, strerror(errno));
        return TOOL_EFAIL;
    }
    n = sfmt(body, sizeof(body),
             P11KIT_MARK
             "; `mynacard-tool setup p11-kit --remove`\n"
             "# removes it.  The My Number Card's two tokens for p11-kit\n"
             "# (GnuTLS, OpenSSL, OpenSSH ...); browsers get the\n"
             "# authentication-only module through their own setup.\n"
             "module: %s\n"
             "critical: no\n"
             "disable-in: firefox firefox-esr firefox-bin thunderbird "
             "thunderbird-bin\n",
             lib);
    if (n < 0 || (size_t)n >= sizeof(body) ||
        tool_write_file(ufile, body, (size_t)n, 0644) < 0) {
        complain(_("cannot write %s: %s"), ufile, strerror(errno));
        return TOOL_EFAIL;
    }
    say(_("p11-kit: registered in %s\n"), ufile);
    return TOOL_OK;
}

void reg_check_p11kit(struct reg_report *out)
{
    char udir[PATH_MAX], f[PATH_MAX + 32], *text, *m;

    out->detail[0] = '\0';
    sfmt(out->where, sizeof(out->where), "%s/%s", tool_p11kit_configs(),
         P11KIT_FILE);
    if (tool_exists(out->where)) {
        out->state = REG_OK;
        return;
    }
    tool_p11kit_user_dir(udir, sizeof(udir));
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
        if (tool_exists(path))
            out->state = REG_OK;
        else
            sfmt(out->detail, sizeof(out->detail),
                 D_("the module it names, %s, is missing"), path);
    }
    free(text);
}
