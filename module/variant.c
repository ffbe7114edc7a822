/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * What a shipped module fixes (module.h, mc_build_*): its readers come
 * from PC/SC, and which tokens it shows.  Layer: module/.  Compiled once
 * per shared module with -DMYNACARD_VARIANT=..., so that
 * mynacard-auth-pkcs11.so
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

/* No hub given: C_Initialize opens PC/SC. */
struct tp_hub *mc_build_hub(void)
{
    return NULL;
}
