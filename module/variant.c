/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Which tokens a shipped module shows.  Layer: module/.  Compiled once per
 * shared module with -DMYNACARD_VARIANT=..., it replaces the static
 * library's weak default (both tokens), so that mynacard-auth-pkcs11.so
 * shows only the authentication token (for Firefox: NSS would ask for the
 * signature password at every TLS login otherwise) and
 * mynacard-sign-pkcs11.so only the signature token (for LibreOffice).
 */
#include "module.h"

#ifndef MYNACARD_VARIANT
#error "MYNACARD_VARIANT must name an enum mynacard_variant value"
#endif

enum mynacard_variant mc_build_variant(void)
{
    return MYNACARD_VARIANT;
}
