/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The whole-module fuzz scenario (fuzz-module.c), shared with its seed
 * recorder (mkseed-module.c): the PKCS#11 module, linked statically and
 * driven only through C_GetFunctionList, over a callback hub whose one
 * reader holds @card.  The first input byte (@cfg) chooses:
 *
 *   bits 0-1  the variant: both tokens, authentication only, signature
 *             only, both
 *   bit 2     CKM_RSA_PKCS over a DigestInfo instead of CKM_SHA256_RSA_PKCS
 *   bit 3     the debug log at its highest level (to /dev/null)
 *   bit 4     C_SetPIN on the authentication token (1234 to 5678)
 *   bit 5     a second login with the same PIN after a rejection
 *   bit 6     `pss = true`, and the authentication token signs with
 *             CKM_SHA256_RSA_PKCS_PSS (the card's P1 04)
 *
 * Layer: test code; calls the module's PKCS#11 entry points, its test
 * hooks (mynacard-test.h), the callback hub (transport.h) and the APDU
 * decoder (apdu.h) to watch what the module sends.
 */
#ifndef MYNA_FUZZ_MODULE_H
#define MYNA_FUZZ_MODULE_H

#include <stdint.h>

struct tp_card_cb;

#define FM_AUTH_PIN "1234"
#define FM_SIGN_PIN "ABC123"
#define FM_NEW_AUTH_PIN "5678"

/* Run the scenario once over @card (copied).  Aborts when an oracle
 * fails (see fuzz-module.c). */
void fuzz_module_session(const struct tp_card_cb *card, uint8_t cfg);

#endif
