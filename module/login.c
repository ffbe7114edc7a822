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

/* Take the session's card for a login-type call.  Module lock held on
 * entry and kept; on CKR_OK the caller owns a card reference. */
static CK_RV session_card_locked(CK_SESSION_HANDLE h, struct mc_session **s,
                                 struct mc_card **c)
{
    CK_RV rv = session_lookup_locked(h, s);

    if (rv != CKR_OK)
        return rv;
    *c = (*s)->card;
    card_ref_locked(*c);
    return CKR_OK;
}

static CK_RV do_login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                      CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    uint8_t norm[JPKI_PIN_MAX];
    uint8_t mac[MC_MAC_LEN];
    size_t normlen = 0;
    struct mc_session *s;
    struct mc_card *c = NULL;
    enum jpki_role role;
    bool context = false;
    CK_RV rv;
    int err;

    rv = mc_enter();
    if (rv != CKR_OK)
        return rv;
    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        goto out_leave;
    role = s->role;

    switch (userType) {
    case CKU_USER:
        if (s->card->logged_in[role]) {
            rv = CKR_USER_ALREADY_LOGGED_IN;
            goto out_leave;
        }
        break;
    case CKU_CONTEXT_SPECIFIC:
        /* Only for a signature that asks for it, between C_SignInit and
         * C_Sign (CKA_ALWAYS_AUTHENTICATE). */
        if (!s->sign.active || !s->sign.always_auth) {
            rv = CKR_OPERATION_NOT_INITIALIZED;
            goto out_leave;
        }
        if (!s->card->logged_in[role]) {
            /* Logged out since C_SignInit (a reset): the signature would
             * fail whatever PIN is given now. */
            rv = CKR_USER_NOT_LOGGED_IN;
            goto out_leave;
        }
        context = true;
        break;
    case CKU_SO:
        /* There is no security officer: the card's PINs are reset only at
         * the municipal office. */
        rv = CKR_USER_TYPE_INVALID;
        goto out_leave;
    default:
        rv = CKR_USER_TYPE_INVALID;
        goto out_leave;
    }
    if (!pPin) {
        rv = CKR_ARGUMENTS_BAD;     /* no protected authentication path */
        goto out_leave;
    }
    rv = normalize(role, pPin, ulPinLen, norm, &normlen);
    if (rv != CKR_OK)
        goto out_leave;
    rv = session_card_locked(hSession, &s, &c);
    if (rv != CKR_OK)
        goto out_leave;
    mc_leave();

    mc_pin_mac(role, norm, normlen, mac);
    err = card_login(c, role, context, norm, normlen, mac);
    OPENSSL_cleanse(norm, sizeof(norm));
    OPENSSL_cleanse(mac, sizeof(mac));
    /* Another thread logged the token in first: nothing was sent. */
    rv = err == CARD_ALREADY_LOGGED_IN ? CKR_USER_ALREADY_LOGGED_IN
                                       : mc_rv_from_err(err);

    mc_mutex_lock(mc_g.lock);
    if (rv == CKR_OK && context) {
        /* The session may have gone meanwhile; if so, nothing to mark. */
        if (session_lookup_locked(hSession, &s) == CKR_OK && s->sign.active)
            s->sign.context_ok = true;
    }
    card_unref_locked(c);
out_leave:
    OPENSSL_cleanse(norm, sizeof(norm));
    mc_leave();
    return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
              CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    CK_RV rv = do_login(hSession, userType, pPin, ulPinLen);

    return mc_ret(rv, "C_Login(session=%lu, user=%lu)",
                  (unsigned long)hSession, (unsigned long)userType);
}

CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                  CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
    /* The card knows one holder: a user name changes nothing. */
    CK_RV rv = do_login(hSession, userType, pPin, ulPinLen);

    (void)pUsername;
    (void)ulUsernameLen;
    return mc_ret(rv, "C_LoginUser(session=%lu, user=%lu)",
                  (unsigned long)hSession, (unsigned long)userType);
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    struct mc_session *s;
    struct mc_card *c = NULL;
    enum jpki_role role = JPKI_AUTH;
    CK_RV rv;

    rv = mc_enter();
    if (rv != CKR_OK)
        goto out;
    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        goto out_leave;
    role = s->role;
    if (!s->card->logged_in[role]) {
        rv = CKR_USER_NOT_LOGGED_IN;
        goto out_leave;
    }
    s->card->logged_in[role] = false;
    c = s->card;
    card_ref_locked(c);
out_leave:
    mc_leave();
    if (c) {
        /* The software state is already "logged out"; a card error here
         * cannot undo that, so it is only logged by card_logout. */
        card_logout(c, role);
        mc_mutex_lock(mc_g.lock);
        card_unref_locked(c);
        mc_mutex_unlock(mc_g.lock);
    }
out:
    return mc_ret(rv, "C_Logout(session=%lu)", (unsigned long)hSession);
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
               CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    uint8_t oldn[JPKI_PIN_MAX], newn[JPKI_PIN_MAX];
    uint8_t mac[MC_MAC_LEN];
    size_t oldlen = 0, newlen = 0;
    struct mc_session *s;
    struct mc_card *c = NULL;
    enum jpki_role role;
    CK_RV rv;
    int err;

    memset(oldn, 0, sizeof(oldn));
    memset(newn, 0, sizeof(newn));
    rv = mc_enter();
    if (rv != CKR_OK)
        goto out;
    if (!pOldPin || !pNewPin) {
        rv = CKR_ARGUMENTS_BAD;
        goto out_leave;
    }
    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK)
        goto out_leave;
    if (!(s->flags & CKF_RW_SESSION)) {
        /* PKCS#11: C_SetPIN needs a read/write session. */
        rv = CKR_SESSION_READ_ONLY;
        goto out_leave;
    }
    role = s->role;
    /* Both formats are checked before the card sees either PIN. */
    rv = normalize(role, pOldPin, ulOldLen, oldn, &oldlen);
    if (rv == CKR_OK)
        rv = normalize(role, pNewPin, ulNewLen, newn, &newlen);
    if (rv != CKR_OK)
        goto out_leave;
    rv = session_card_locked(hSession, &s, &c);
    if (rv != CKR_OK)
        goto out_leave;
    mc_leave();

    mc_pin_mac(role, oldn, oldlen, mac);
    err = card_set_pin(c, role, oldn, oldlen, mac, newn, newlen);
    OPENSSL_cleanse(mac, sizeof(mac));
    rv = mc_rv_from_err(err);

    mc_mutex_lock(mc_g.lock);
    card_unref_locked(c);
out_leave:
    mc_leave();
out:
    OPENSSL_cleanse(oldn, sizeof(oldn));
    OPENSSL_cleanse(newn, sizeof(newn));
    return mc_ret(rv, "C_SetPIN(session=%lu)", (unsigned long)hSession);
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
    /* Only J-LIS issues the card. */
    CK_RV rv = mc_initialized() ? CKR_FUNCTION_NOT_SUPPORTED
                                : CKR_CRYPTOKI_NOT_INITIALIZED;

    (void)pPin;
    (void)ulPinLen;
    (void)pLabel;
    return mc_ret(rv, "C_InitToken(slot=%lu)", (unsigned long)slotID);
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
                CK_ULONG ulPinLen)
{
    /* Resetting a PIN needs the municipal office, not a security officer
     * we could log in as. */
    CK_RV rv = mc_initialized() ? CKR_FUNCTION_NOT_SUPPORTED
                                : CKR_CRYPTOKI_NOT_INITIALIZED;

    (void)pPin;
    (void)ulPinLen;
    return mc_ret(rv, "C_InitPIN(session=%lu)", (unsigned long)hSession);
}
