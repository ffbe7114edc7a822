/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Test hooks of the module's static library (libmynacard-module.a).  The
 * shipped shared modules never call these; the in-process module tests
 * call them before C_Initialize to put the virtual card where PC/SC would
 * be, and then drive the module only through C_GetFunctionList.
 */
#ifndef MYNACARD_TEST_H
#define MYNACARD_TEST_H

struct tp_hub;

/* Which tokens a module shows: the three shipped modules differ only here
 * (mynacard-pkcs11.so both, mynacard-auth-pkcs11.so and
 * mynacard-sign-pkcs11.so one each). */
enum mynacard_variant {
    MYNACARD_VARIANT_BOTH = 0,
    MYNACARD_VARIANT_AUTH_ONLY,
    MYNACARD_VARIANT_SIGN_ONLY
};

/* Use @hub instead of PC/SC from the next C_Initialize on; NULL returns to
 * PC/SC.  The module does not own @hub and never frees it.  Call only
 * while the module is not initialised. */
void mynacard_test_use_hub(struct tp_hub *hub);

/* Choose the variant from the next C_Initialize on. */
void mynacard_test_set_variant(enum mynacard_variant v);

#endif
