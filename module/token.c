/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * C_GetTokenInfo: what a token shows, from its card (read once per
 * insertion, card.c), its slot (slot.c) and its sessions (session.c).
 * Layer: module/; above those three.
 */
#include <stdio.h>

#include "module.h"

#define LABEL_MYNA_AUTH "My Number Card (Authentication)"
#define LABEL_MYNA_SIGN "My Number Card (Signature)"
#define LABEL_JUKI_AUTH "Juki Card (Authentication)"
#define LABEL_JUKI_SIGN "Juki Card (Signature)"
#define LABEL_PHONE_AUTH "JPKI Smartphone (Authentication)"
#define LABEL_PHONE_SIGN "JPKI Smartphone (Signature)"
#define FITS_32(s) _Static_assert(sizeof(s) - 1 <= 32, s " is too long")
FITS_32(LABEL_MYNA_AUTH);
FITS_32(LABEL_MYNA_SIGN);
FITS_32(LABEL_JUKI_AUTH);
FITS_32(LABEL_JUKI_SIGN);
FITS_32(LABEL_PHONE_AUTH);
FITS_32(LABEL_PHONE_SIGN);

/* Honest: the card is J-LIS's, the PKCS#11 view of it ours. */
#define TOKEN_MANUFACTURER "J-LIS (via mynacard)"
#define TOKEN_MODEL "JPKI"

/* ---- C_GetTokenInfo ---- */

static const char *token_label(enum jpki_token_kind kind, enum jpki_role role)
{
    bool auth = role == JPKI_AUTH;

    switch (kind) {
    case JPKI_KIND_JUKI:
        return auth ? LABEL_JUKI_AUTH : LABEL_JUKI_SIGN;
    case JPKI_KIND_PHONE_ANDROID:
    case JPKI_KIND_PHONE_IOS:
        return auth ? LABEL_PHONE_AUTH : LABEL_PHONE_SIGN;
    case JPKI_KIND_MYNUMBER:
    case JPKI_KIND_UNKNOWN:
    default:
        return auth ? LABEL_MYNA_AUTH : LABEL_MYNA_SIGN;
    }
}

static CK_FLAGS pin_flags(int tries, int max)
{
    if (tries < 0)
        return 0;               /* unknown: claim nothing */
    if (tries == 0)
        return CKF_USER_PIN_LOCKED;
    if (tries == 1)
        return CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
    if (tries < max)
        return CKF_USER_PIN_COUNT_LOW;
    return 0;
}

static void fill_token_info_locked(const struct mc_card *c,
                                   enum jpki_role role, CK_TOKEN_INFO *ti)
{
    bool auth = role == JPKI_AUTH;

    mc_pad(ti->label, sizeof(ti->label),
           token_label(card_kind_locked(c), role));
    mc_pad(ti->manufacturerID, sizeof(ti->manufacturerID), TOKEN_MANUFACTURER);
    mc_pad(ti->model, sizeof(ti->model), TOKEN_MODEL);
    /* One card, two tokens: the card's 14 first hex digits and the token,
     * so that a pkcs11: URI's serial= names exactly one token, and a person
     * sees that both come from the same card. */
    char serial[17];

    snprintf(serial, sizeof(serial), "%.14s-%c", card_serial_locked(c),
             auth ? 'A' : 'S');
    mc_pad(ti->serialNumber, sizeof(ti->serialNumber), serial);
    /* CKF_USER_PIN_INITIALIZED: without it NSS never logs in.  CKF_RNG:
     * GET CHALLENGE needs no PIN, and NSS asks for random bytes at start. */
    ti->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED
                | CKF_LOGIN_REQUIRED | CKF_WRITE_PROTECTED | CKF_RNG
                | pin_flags(card_tries_locked(c, role),
                            auth ? JPKI_AUTH_TRIES : JPKI_SIGN_TRIES);
    ti->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    ti->ulSessionCount = sessions_count_locked(c, role);
    /* Read/write sessions open (see C_OpenSession), though nothing can
     * be written through them. */
    ti->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    ti->ulRwSessionCount = sessions_count_rw_locked(c, role);
    ti->ulMinPinLen = auth ? JPKI_AUTH_PIN_LEN : JPKI_SIGN_PIN_MIN;
    ti->ulMaxPinLen = auth ? JPKI_AUTH_PIN_LEN : JPKI_SIGN_PIN_MAX;
    ti->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    ti->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    ti->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    ti->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    ti->hardwareVersion.major = 0;
    ti->hardwareVersion.minor = 0;
    ti->firmwareVersion.major = 0;
    ti->firmwareVersion.minor = 0;
    mc_pad(ti->utcTime, sizeof(ti->utcTime), "");   /* no clock */
}

CK_RV get_token_info_locked(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    struct mc_reader *r;
    struct mc_card *c;
    enum jpki_role role;
    CK_RV rv;

    rv = slot_find_locked(slotID, &r, &role);
    if (rv == CKR_OK)
        rv = slot_loaded_card_locked(r, &c);
    if (rv != CKR_OK)
        return rv;
    fill_token_info_locked(c, role, pInfo);
    card_unref_locked(c);
    return CKR_OK;
}
