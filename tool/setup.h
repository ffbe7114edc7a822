/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * What the files of mynacard-tool setup share among themselves and with
 * no one else: the module file names, each target's setup, and the NSS
 * database editing that Firefox's profiles, ~/.pki/nssdb and
 * LibreOffice's database all go through.  Layer: tool/; private to
 * setup.c, nssdb.c, firefox.c, libreoffice.c and p11kit.c (tool.h is the
 * tool's interface).
 */
#ifndef MYNA_TOOL_SETUP_H
#define MYNA_TOOL_SETUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "tool.h"

#define NSS_MODULE_NAME "My Number Card"
#define MOD_AUTH "mynacard-auth-pkcs11.so"
#define MOD_SIGN "mynacard-sign-pkcs11.so"
#define MOD_BOTH "mynacard-pkcs11.so"
#define PROFILES_MAX 32

/* ---- NSS databases (nssdb.c) ---- */

/* Run NSS's tool argv[0] (@what for the message when it fails).
 * Returns 0 or -1 (said). */
int run_nss(const char *what, char *const argv[]);
/* The file name of path @p. */
const char *base_name(const char *p);
/* Remove every mynacard module from the database in @dir; *@removed set
 * when one was.  Returns 0 or -1 (said). */
int nssdb_remove(const char *dir, bool *removed);
/* Register @lib in @dir (created if needed), replacing any other
 * mynacard module there; *@already when it was registered alone.
 * Returns 0 or -1 (said). */
int nssdb_add(const char *dir, const char *lib, bool *already);
/* The state of an NSS database for a place wanting @want (a module file
 * name); @also_ok another acceptable one (or NULL). */
enum reg_state nssdb_state(const char *dir, const char *want,
                           const char *also_ok, char *detail, size_t cap);

/* ---- p11-kit (p11kit.c) ---- */

/* The installation's p11-kit module files: $MYNACARD_P11KIT_CONFIGS,
 * else the install one. */
const char *tool_p11kit_configs(void);
/* Where setup p11-kit writes: $MYNACARD_P11KIT_USER_DIR, else
 * /etc/pkcs11/modules as root, else the user's p11-kit directory. */
void tool_p11kit_user_dir(char *buf, size_t cap);

/* ---- Each target's setup, with @lib the module to register ---- */
int setup_firefox(const char *lib);     /* firefox.c */
int setup_nss(const char *lib);         /* nssdb.c: nss and chromium */
int setup_libreoffice(const char *lib); /* libreoffice.c */
int setup_p11kit(const char *lib);      /* p11kit.c */

#endif
