/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Logging in and PINs: C_Login, C_LoginUser, C_Logout, C_SetPIN,
 * C_InitToken, C_InitPIN.  Layer: module/; checks PIN formats with
 * jpki_pin_normalize (no card needed) and leaves the card to card.c.
 *
 * A blocked PIN can only be reset at the holder's municipal office, so
 * every try matters: a PIN of the wrong format never reaches the card, a
 * PIN the card rejected is not sent again in this process (we keep only
 * its HMAC under a random per-process key, per card and role), and the
 * module never retries.  Every copy of a PIN is wiped before returning,
 * and no PIN is ever logged.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "module.h"
#include "myna-err.h"
#include "log.h"

static uint8_t mc_pin_key[32];

CK_RV mc_pin_key_init(void)
{
    if (RAND_bytes(mc_pin_key, sizeof(mc_pin_key)) != 1)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

void mc_pin_key_wipe(void)
{
    OPENSSL_cleanse(mc_pin_key, sizeof(mc_pin_key));
}

void mc_pin_mac(enum jpki_role role, const uint8_t *pin, size_t len,
                uint8_t mac[MC_MAC_LEN])
{
    uint8_t msg[1 + JPKI_PIN_MAX];
    unsigned int maclen = MC_MAC_LEN;

    /* The role in the message keeps the two PINs' memos apart even if a
     * caller mixed them up. */
    msg[0] = (uint8_t)role;
    memcpy(msg + 1, pin, len);
    if (!HMAC(EVP_sha256(), mc_pin_key, sizeof(mc_pin_key), msg, 1 + len,
              mac, &maclen))
        memset(mac, 0, MC_MAC_LEN);     /* never matches a real MAC... */
    OPENSSL_cleanse(msg, sizeof(msg));
}

/* Normalise @pin for @role into @norm.  CKR_OK, CKR_PIN_LEN_RANGE or
 * CKR_PIN_INVALID, decided without a card. */
static CK_RV normalize(enum jpki_role role, const CK_UTF8CHAR *pin, CK_ULONG len,
                       uint8_t *norm, size_t *normlen)
{
    int err;

    /* Longer than any PIN: refuse before copying anything. */
    if (len > JPKI_PIN_MAX)
        return CKR_PIN_LEN_RANGE;
    err = jpki_pin_normalize(role, pin, len, norm, normlen);
    return mc_rv_from_err(err);
}

/* Check @userType against the session's state: CKR_OK with *@context
 * set for a CKU_CONTEXT_SPECIFIC login, or the error.  Module lock. */
static CK_RV login_allowed_locked(const struct mc_session *s,
                                  CK_USER_TYPE userType, bool *context)
{
    bool logged_in = card_logged_in_locked(s->card, s->role);

    switch (userType) {
    case CKU_USER:
        *context = false;
        return logged_in ? CKR_USER_ALREADY_LOGGED_IN : CKR_OK;
    case CKU_CONTEXT_SPECIFIC:
        /* Only for a signature that asks for it, between C_SignInit and
         * C_Sign (CKA_ALWAYS_AUTHENTICATE). */
        if (!s->sign.active || !s->sign.always_auth)
            return CKR_OPERATION_NOT_INITIALIZED;
        /* Logged out since C_SignInit (a reset): the signature would fail
         * whatever PIN is given now. */
        *context = true;
        return logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
    case CKU_SO:
        /* There is no security officer: the card's PINs are reset only at
         * the municipal office. */
    default:
        return CKR_USER_TYPE_INVALID;
    }
}

CK_RV login_locked(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                   CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    uint8_t norm[JPKI_PIN_MAX];
    uint8_t mac[MC_MAC_LEN];
    size_t normlen = 0;
    struct mc_session *s;
    struct mc_card *c;
    enum jpki_role role;
    bool context = false;
    CK_RV rv;
    int err;

    rv = session_lookup_locked(hSession, &s);
    if (rv == CKR_OK)
        rv = login_allowed_locked(s, userType, &context);
    if (rv != CKR_OK)
        return rv;
    if (!pPin)
        return CKR_ARGUMENTS_BAD;   /* no protected authentication path */
    role = s->role;
    rv = normalize(role, pPin, ulPinLen, norm, &normlen);
    if (rv != CKR_OK)
        goto out_wipe;

    c = s->card;
    card_io_begin_locked(c);
    mc_pin_mac(role, norm, normlen, mac);
    err = card_login(c, role, context, norm, normlen, mac);
    OPENSSL_cleanse(mac, sizeof(mac));
    card_io_end_locked(c);
    /* Another thread logged the token in first: nothing was sent. */
    rv = err == CARD_ALREADY_LOGGED_IN ? CKR_USER_ALREADY_LOGGED_IN
                                       : mc_rv_from_err(err);
    if (rv == CKR_OK && context) {
        /* The session may have gone meanwhile; if so, nothing to mark. */
        if (session_lookup_locked(hSession, &s) == CKR_OK && s->sign.active)
            s->sign.context_ok = true;
    }
out_wipe:
    OPENSSL_cleanse(norm, sizeof(norm));
    return rv;
}

CK_RV logout_locked(CK_SESSION_HANDLE hSession)
{
    struct mc_session *s;
    struct mc_card *c;
    enum jpki_role role;
    CK_RV rv;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    role = s->role;
    c = s->card;
    if (!card_logged_in_locked(c, role))
        return CKR_USER_NOT_LOGGED_IN;
    card_set_logged_out_locked(c, role);
    /* The software state is already "logged out"; a card error here
     * cannot undo that, so it is only logged by card_logout. */
    card_io_begin_locked(c);
    card_logout(c, role);
    card_io_end_locked(c);
    return CKR_OK;
}

CK_RV set_pin_locked(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
                     CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
                     CK_ULONG ulNewLen)
{
    uint8_t oldn[JPKI_PIN_MAX], newn[JPKI_PIN_MAX];
    uint8_t mac[MC_MAC_LEN];
    size_t oldlen = 0, newlen = 0;
    struct mc_session *s;
    struct mc_card *c;
    enum jpki_role role;
    CK_RV rv;
    int err;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        return rv;
    /* PKCS#11: C_SetPIN needs a read/write session. */
    if (!(s->flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_ONLY;
    role = s->role;
    memset(oldn, 0, sizeof(oldn));
    memset(newn, 0, sizeof(newn));
    /* Both formats are checked before the card sees either PIN. */
    rv = normalize(role, pOldPin, ulOldLen, oldn, &oldlen);
    if (rv == CKR_OK)
        rv = normalize(role, pNewPin, ulNewLen, newn, &newlen);
    if (rv != CKR_OK)
        goto out_wipe;

    mc_pin_mac(role, oldn, oldlen, mac);
    c = s->card;
    card_io_begin_locked(c);
    err = card_set_pin(c, role, oldn, oldlen, mac, newn, newlen);
    OPENSSL_cleanse(mac, sizeof(mac));
    card_io_end_locked(c);
    rv = mc_rv_from_err(err);
out_wipe:
    OPENSSL_cleanse(oldn, sizeof(oldn));
    OPENSSL_cleanse(newn, sizeof(newn));
    return rv;
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
    /* Only J-LIS issues the card. */
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_SUPPORTED);

    (void)pPin;
    (void)ulPinLen;
    (void)pLabel;
    return mc_trace(rv, "C_InitToken(slot=%lu)", (unsigned long)slotID);
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
                CK_ULONG ulPinLen)
{
    /* Resetting a PIN needs the municipal office, not a security officer
     * we could log in as. */
    CK_RV rv = MC_UNLOCKED(CKR_FUNCTION_NOT_SUPPORTED);

    (void)pPin;
    (void)ulPinLen;
    return mc_trace(rv, "C_InitPIN(session=%lu)", (unsigned long)hSession);
}
