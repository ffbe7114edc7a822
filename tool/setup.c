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
 * This file is the command's dispatch and the module each target gets;
 * each target is in its own file: nssdb.c (NSS databases, setup nss and
 * chromium), firefox.c, libreoffice.c, p11kit.c; files.c has the file
 * helpers.  Environment, for tests run from the build tree:
 * MYNACARD_MODULE_DIR (the modules).
 */
#include <stdlib.h>
#include <string.h>

#include "setup.h"

#ifndef TOOL_MODULE_DIR
#define TOOL_MODULE_DIR "/usr/lib/x86_64-linux-gnu/pkcs11"
#endif

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
    if (!tool_opt.remove && !tool_exists(lib)) {
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
