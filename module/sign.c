/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Mechanisms and what uses them: C_GetMechanismList/Info, C_Sign* (the
 * card signs), C_Verify* (in software, with the certificate's key),
 * C_GenerateRandom (GET CHALLENGE) and C_SeedRandom.  Layer: module/;
 * hashes with OpenSSL, builds the DER DigestInfo, checks signatures with
 * rsa.c, and leaves the card to card.c.  C_Sign* and C_Verify* share one
 * operation core (struct mc_op).
 *
 * The card takes 1 to 245 bytes and adds PKCS#1 v1.5 type-1 padding
 * itself: CKM_RSA_PKCS and the hash-and-sign CKM_SHA*_RSA_PKCS.  Its P1 04
 * mode, RSASSA-PSS over a SHA-256 hash, is known from one source only
 * (doc/jpki-card.md): CKM_RSA_PKCS_PSS and CKM_SHA256_RSA_PKCS_PSS are
 * listed only when the user chose them (pss = true, after mynacard-tool
 * check-pss), only on the authentication token (TLS 1.3 needs them; the
 * signature token's documents expect PKCS#1 v1.5), only with the
 * parameters of TLS 1.3's rsa_pss_rsae_sha256, and every such signature
 * is checked before it leaves (card.c).  Listing a mechanism the card
 * cannot do makes NSS and OpenSSL choose it and fail.  CKM_RSA_X_509 is
 * never listed.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "module.h"
#include "myna-err.h"
#include "log.h"

/* DER DigestInfo prefixes: SEQUENCE { AlgorithmIdentifier, OCTET STRING }
 * (RFC 8017 9.2, note 1). */
static const uint8_t DI_SHA1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b,
                                   0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                                   0x14 };
static const uint8_t DI_SHA224[] = { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                     0x04, 0x05, 0x00, 0x04, 0x1c };
static const uint8_t DI_SHA256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                     0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t DI_SHA384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                     0x02, 0x05, 0x00, 0x04, 0x30 };
static const uint8_t DI_SHA512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                     0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                     0x03, 0x05, 0x00, 0x04, 0x40 };

struct mech {
    CK_MECHANISM_TYPE type;
    const EVP_MD *(*md)(void);  /* NULL: the caller's bytes as they are */
    const uint8_t *prefix;
    size_t prefix_len;
    CK_FLAGS flags;
    bool pss;                   /* RSASSA-PSS: pss = true, authentication */
};

static const struct mech mc_mechs[] = {
    /* CKF_HW: the card does the RSA.  Verification, in software, is there
     * for applications that check what they signed. */
    { CKM_RSA_PKCS, NULL, NULL, 0, CKF_HW | CKF_SIGN | CKF_VERIFY },
    { CKM_SHA1_RSA_PKCS, EVP_sha1, DI_SHA1, sizeof(DI_SHA1),
      CKF_SIGN | CKF_VERIFY },
    { CKM_SHA224_RSA_PKCS, EVP_sha224, DI_SHA224, sizeof(DI_SHA224),
      CKF_SIGN | CKF_VERIFY },
    { CKM_SHA256_RSA_PKCS, EVP_sha256, DI_SHA256, sizeof(DI_SHA256),
      CKF_SIGN | CKF_VERIFY },
    { CKM_SHA384_RSA_PKCS, EVP_sha384, DI_SHA384, sizeof(DI_SHA384),
      CKF_SIGN | CKF_VERIFY },
    { CKM_SHA512_RSA_PKCS, EVP_sha512, DI_SHA512, sizeof(DI_SHA512),
      CKF_SIGN | CKF_VERIFY },
    /* The card's PSS mode signs the 32-byte hash itself (no DigestInfo). */
    { CKM_RSA_PKCS_PSS, NULL, NULL, 0, CKF_HW | CKF_SIGN | CKF_VERIFY, true },
    { CKM_SHA256_RSA_PKCS_PSS, EVP_sha256, NULL, 0, CKF_SIGN | CKF_VERIFY,
      true },
};
#define N_MECHS (sizeof(mc_mechs) / sizeof(mc_mechs[0]))

static const struct mech *mech_find(CK_MECHANISM_TYPE type)
{
    for (size_t i = 0; i < N_MECHS; i++)
        if (mc_mechs[i].type == type)
            return &mc_mechs[i];
    return NULL;
}

/* Whether @role's token offers @m.  Module lock (the configuration). */
static bool mech_offered(const struct mech *m, enum jpki_role role)
{
    return !m->pss || (mc_g.cfg.pss && role == JPKI_AUTH);
}

/* The one set of PSS parameters the card is known to use: SHA-256,
 * MGF1-SHA256, a 32-byte salt (TLS 1.3's rsa_pss_rsae_sha256).  Other
 * mechanisms take none. */
static CK_RV mech_params_ok(const struct mech *m, const CK_MECHANISM *mech)
{
    const CK_RSA_PKCS_PSS_PARAMS *p = mech->pParameter;

    if (!m->pss)
        return mech->pParameter || mech->ulParameterLen
               ? CKR_MECHANISM_PARAM_INVALID : CKR_OK;
    if (!p || mech->ulParameterLen != sizeof(*p) || p->hashAlg != CKM_SHA256
        || p->mgf != CKG_MGF1_SHA256 || p->sLen != JPKI_PSS_HASH_LEN)
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

/* ---- C_GetMechanismList, C_GetMechanismInfo ---- */

static CK_RV token_slot_locked(CK_SLOT_ID id, enum jpki_role *role)
{
    struct mc_reader *r;
    CK_RV rv;

    rv = slot_find_locked(id, &r, role);
    if (rv == CKR_OK && !slot_token_present_locked(r))
        rv = CKR_TOKEN_NOT_PRESENT;
    return rv;
}

CK_RV get_mechanism_list_locked(CK_SLOT_ID slotID,
                                CK_MECHANISM_TYPE_PTR pMechanismList,
                                CK_ULONG_PTR pulCount)
{
    enum jpki_role role = JPKI_AUTH;
    CK_ULONG n = 0, k = 0;
    CK_RV rv;

    rv = token_slot_locked(slotID, &role);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < N_MECHS; i++)
        n += mech_offered(&mc_mechs[i], role);
    if (pMechanismList && *pulCount < n) {
        rv = CKR_BUFFER_TOO_SMALL;
    } else if (pMechanismList) {
        for (size_t i = 0; i < N_MECHS; i++)
            if (mech_offered(&mc_mechs[i], role))
                pMechanismList[k++] = mc_mechs[i].type;
    }
    *pulCount = n;
    return rv;
}

CK_RV get_mechanism_info_locked(CK_SLOT_ID slotID,
                                CK_MECHANISM_TYPE type,
                                CK_MECHANISM_INFO_PTR pInfo)
{
    enum jpki_role role = JPKI_AUTH;
    const struct mech *m;
    CK_RV rv;

    rv = token_slot_locked(slotID, &role);
    if (rv != CKR_OK)
        return rv;
    m = mech_find(type);
    if (!m || !mech_offered(m, role))
        return CKR_MECHANISM_INVALID;
    pInfo->ulMinKeySize = MC_KEY_BITS;
    pInfo->ulMaxKeySize = MC_KEY_BITS;
    pInfo->flags = m->flags;
    return CKR_OK;
}

/* ---- Input to the RSA operation ---- */

/* Hash-and-wrap or copy, into @out (JPKI_SIGN_INPUT_MAX bytes).
 * @multipart: the data came through *Update (in @mdctx or @buf). */
static CK_RV rsa_input(const struct mech *m, EVP_MD_CTX **mdctx,
                       const uint8_t *buf, size_t buflen, bool multipart,
                       const uint8_t *data, size_t len, uint8_t *out,
                       size_t *outlen)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!m->md) {
        if (multipart) {
            data = buf;
            len = buflen;
        }
        if (len == 0 || len > JPKI_SIGN_INPUT_MAX
            || (m->pss && len != JPKI_PSS_HASH_LEN))
            return CKR_DATA_LEN_RANGE;
        memcpy(out, data, len);
        *outlen = len;
        return CKR_OK;
    }
    if (multipart) {
        if (!*mdctx || !EVP_DigestFinal_ex(*mdctx, md, &mdlen))
            return CKR_FUNCTION_FAILED;
    } else if (!EVP_Digest(data, len, md, &mdlen, m->md(), NULL)) {
        return CKR_FUNCTION_FAILED;
    }
    if (m->prefix_len)
        memcpy(out, m->prefix, m->prefix_len);
    memcpy(out + m->prefix_len, md, mdlen);
    *outlen = m->prefix_len + mdlen;
    return CKR_OK;
}

/* Feed a part to a multi-part operation. */
static CK_RV rsa_update(const struct mech *m, EVP_MD_CTX **mdctx, uint8_t *buf,
                        size_t *buflen, const uint8_t *part, size_t len)
{
    if (!m->md) {
        if (len > JPKI_SIGN_INPUT_MAX - *buflen)
            return CKR_DATA_LEN_RANGE;
        if (len)
            memcpy(buf + *buflen, part, len);
        *buflen += len;
        return CKR_OK;
    }
    if (!*mdctx) {
        *mdctx = EVP_MD_CTX_new();
        if (!*mdctx)
            return CKR_HOST_MEMORY;
        if (!EVP_DigestInit_ex(*mdctx, m->md(), NULL))
            return CKR_FUNCTION_FAILED;
    }
    if (len && !EVP_DigestUpdate(*mdctx, part, len))
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

/* Start a multi-part hash even when no part came (the hash of nothing). */
static CK_RV rsa_update_start(const struct mech *m, EVP_MD_CTX **mdctx)
{
    static const uint8_t none[1];
    size_t zero = 0;

    return m->md ? rsa_update(m, mdctx, NULL, &zero, none, 0) : CKR_OK;
}

/* ---- The operation core: C_Sign* and C_Verify* ---- */

/* The session @hSession and its signature (@verify false) or
 * verification.  Module lock. */
static CK_RV op_of_locked(CK_SESSION_HANDLE hSession, bool verify,
                          struct mc_session **s, struct mc_op **op)
{
    CK_RV rv = session_lookup_locked(hSession, s);

    if (rv == CKR_OK)
        *op = verify ? &(*s)->verify : &(*s)->sign;
    return rv;
}

/* The same, when that operation must be active. */
static CK_RV op_active_locked(CK_SESSION_HANDLE hSession, bool verify,
                              struct mc_session **s, struct mc_op **op)
{
    CK_RV rv = op_of_locked(hSession, verify, s, op);

    if (rv == CKR_OK && !(*op)->active)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    return rv;
}

/* The key @hKey for a signature: the token's private key, which needs the
 * token logged in.  Sets @op's CKA_ALWAYS_AUTHENTICATE.  Module lock. */
static CK_RV sign_key_locked(const struct mc_session *s, CK_OBJECT_HANDLE hKey,
                             struct mc_op *op)
{
    const struct mc_object *o = object_find_any_locked(s, hKey);
    const struct mc_attr *a;

    if (!o)
        return CKR_KEY_HANDLE_INVALID;
    if (o->priv && !card_logged_in_locked(s->card, s->role))
        return CKR_USER_NOT_LOGGED_IN;
    if (o->cls == CKO_PUBLIC_KEY)
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    if (o->cls != CKO_PRIVATE_KEY)
        return CKR_KEY_HANDLE_INVALID;
    a = mc_object_attr(o, CKA_ALWAYS_AUTHENTICATE);
    op->always_auth = a && a->len == 1 && *(const CK_BBOOL *)a->val;
    return CKR_OK;
}

/* The key @hKey for a verification: a public key the session sees, parsed
 * into @op->pkey.  Module lock. */
static CK_RV verify_key_locked(const struct mc_session *s,
                               CK_OBJECT_HANDLE hKey, struct mc_op *op)
{
    const struct mc_object *o;
    const struct mc_attr *a;
    EVP_PKEY *pkey;

    if (object_lookup_locked(s, hKey, &o) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    if (o->cls != CKO_PUBLIC_KEY)
        return o->cls == CKO_PRIVATE_KEY ? CKR_KEY_FUNCTION_NOT_PERMITTED
                                         : CKR_KEY_HANDLE_INVALID;
    a = mc_object_attr(o, CKA_PUBLIC_KEY_INFO);
    pkey = a ? mc_rsa_pkey_from_spki(a->val, a->len) : NULL;
    if (pkey && EVP_PKEY_get_size(pkey) <= 0) {
        /* OpenSSL 3.0 may return a key it could not finish decoding for
         * want of memory, without an error: it verifies nothing, and
         * would turn good signatures into CKR_SIGNATURE_LEN_RANGE (found
         * by test-module-alloc). */
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (!pkey)
        return CKR_FUNCTION_FAILED;
    op->pkey = pkey;
    return CKR_OK;
}

/* C_SignInit and C_VerifyInit. */
CK_RV op_init_locked(CK_SESSION_HANDLE hSession, bool verify,
                     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    const struct mech *m;
    struct mc_session *s;
    struct mc_op *op;
    CK_RV rv;

    rv = op_of_locked(hSession, verify, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!pMechanism) {
        /* PKCS#11 3.0 (5.12, 5.13): a NULL mechanism ends the active
         * operation, if any. */
        session_op_end(op);
        return CKR_OK;
    }
    if (op->active)
        return CKR_OPERATION_ACTIVE;
    m = mech_find(pMechanism->mechanism);
    if (!m || !mech_offered(m, s->role))
        return CKR_MECHANISM_INVALID;
    rv = mech_params_ok(m, pMechanism);
    if (rv != CKR_OK)
        return rv;
    memset(op, 0, sizeof(*op));
    rv = verify ? verify_key_locked(s, hKey, op) : sign_key_locked(s, hKey, op);
    if (rv != CKR_OK)
        return rv;
    op->mech = m->type;
    op->md = m->md ? m->md() : NULL;
    op->active = true;
    return CKR_OK;
}


/* C_SignUpdate and C_VerifyUpdate; an error ends the operation. */
CK_RV op_update_locked(CK_SESSION_HANDLE hSession, bool verify,
                       const uint8_t *part, CK_ULONG len)
{
    struct mc_session *s;
    struct mc_op *op;
    CK_RV rv;

    rv = op_active_locked(hSession, verify, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!part && len)
        rv = CKR_ARGUMENTS_BAD;
    else
        rv = rsa_update(mech_find(op->mech), &op->mdctx, op->buf, &op->len,
                        part, len);
    if (rv == CKR_OK)
        op->multipart = true;
    else
        session_op_end(op);
    return rv;
}

/* The active operation for a C_Sign/C_Verify (@final false) or C_*Final
 * call: @args_ok, and no one-shot call after C_*Update, else the error,
 * which ends the operation. */
static CK_RV op_final_locked(CK_SESSION_HANDLE hSession, bool verify,
                             bool final, bool args_ok, struct mc_session **s,
                             struct mc_op **op)
{
    CK_RV rv = op_active_locked(hSession, verify, s, op);

    if (rv != CKR_OK)
        return rv;
    if (!args_ok)
        rv = CKR_ARGUMENTS_BAD;
    else if (!final && (*op)->multipart)
        rv = CKR_OPERATION_ACTIVE;      /* C_Sign after C_SignUpdate */
    if (rv != CKR_OK)
        session_op_end(*op);
    return rv;
}

/* The input of the RSA operation, into @in (JPKI_SIGN_INPUT_MAX bytes):
 * @data for a one-shot call, what the *Update calls gave for a final. */
static CK_RV op_input(struct mc_op *op, const struct mech *m, bool final,
                      const uint8_t *data, size_t len, uint8_t *in,
                      size_t *inlen)
{
    CK_RV rv = CKR_OK;

    if (final && !op->multipart)
        rv = rsa_update_start(m, &op->mdctx);
    if (rv == CKR_OK)
        rv = rsa_input(m, &op->mdctx, op->buf, op->len, final, data, len, in,
                       inlen);
    return rv;
}

/* ---- Signing ---- */

/* Have the card sign @in; the card I/O is made without the module lock.
 * Module lock held. */
static CK_RV card_sign_locked(struct mc_card *c, enum jpki_role role,
                              const struct mech *m, const uint8_t *in,
                              size_t inlen, uint8_t *sig, size_t *siglen)
{
    int err;

    card_io_begin_locked(c);
    if (m->pss)
        err = card_sign_pss(c, role, in, sig, siglen);
    else
        err = card_sign(c, role, in, inlen, sig, siglen);
    card_io_end_locked(c);
    if (err == MYNA_E_CARD_RESET)
        err = MYNA_E_SECURITY;  /* a reset mid-way lost the login */
    /* The card refused the PSS mode (6A86): not a broken card, a card
     * without it; card.c logged what to do. */
    return m->pss && err == MYNA_E_P1P2 ? CKR_FUNCTION_FAILED
                                        : mc_rv_from_err(err);
}

/*
 * C_Sign (@final false, @data the whole input) and C_SignFinal (@final
 * true).  A length query and CKR_BUFFER_TOO_SMALL touch no card and keep
 * the operation; every other outcome ends it (PKCS#11 2.40 5.11).
 */
CK_RV sign_locked(CK_SESSION_HANDLE hSession, bool final,
                  const uint8_t *data, CK_ULONG len,
                  CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    uint8_t in[JPKI_SIGN_INPUT_MAX], sig[MC_SIG_LEN];
    size_t inlen = 0, siglen = 0;
    struct mc_session *s;
    struct mc_op *op;
    const struct mech *m;
    CK_RV rv;

    rv = op_final_locked(hSession, false, final,
                         pulSignatureLen && (final || data || !len), &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!pSignature) {
        *pulSignatureLen = MC_SIG_LEN;
        return CKR_OK;
    }
    if (*pulSignatureLen < MC_SIG_LEN) {
        *pulSignatureLen = MC_SIG_LEN;
        return CKR_BUFFER_TOO_SMALL;
    }
    if (!card_logged_in_locked(s->card, s->role)
        || (op->always_auth && !op->context_ok)) {
        rv = CKR_USER_NOT_LOGGED_IN;
        goto out_end;
    }
    m = mech_find(op->mech);
    rv = op_input(op, m, final, data, len, in, &inlen);
    if (rv != CKR_OK)
        goto out_end;

    /* The operation ends here whatever the card says. */
    session_op_end(op);
    rv = card_sign_locked(s->card, s->role, m, in, inlen, sig, &siglen);
    OPENSSL_cleanse(in, sizeof(in));
    if (rv == CKR_OK) {
        memcpy(pSignature, sig, siglen);
        *pulSignatureLen = siglen;
    }
    return rv;

out_end:
    session_op_end(op);
    return rv;
}

/* ---- Verifying, in software ---- */

/* C_Verify and C_VerifyFinal; both always end the operation. */
CK_RV verify_locked(CK_SESSION_HANDLE hSession, bool final,
                    const uint8_t *data, CK_ULONG len,
                    const uint8_t *sig, CK_ULONG siglen)
{
    uint8_t in[JPKI_SIGN_INPUT_MAX];
    size_t inlen = 0;
    struct mc_session *s;
    struct mc_op *op;
    const struct mech *m;
    CK_RV rv;

    rv = op_final_locked(hSession, true, final, sig && (final || data || !len),
                         &s, &op);
    if (rv != CKR_OK)
        return rv;
    m = mech_find(op->mech);
    rv = op_input(op, m, final, data, len, in, &inlen);
    if (rv != CKR_OK)
        goto out_end;
    if (siglen != (CK_ULONG)EVP_PKEY_get_size(op->pkey)) {
        rv = CKR_SIGNATURE_LEN_RANGE;
        goto out_end;
    }
    switch (mc_rsa_verify_pkey(op->pkey, m->pss, in, inlen, sig, siglen)) {
    case 1:
        rv = CKR_OK;
        break;
    case 0:
        rv = CKR_SIGNATURE_INVALID;
        break;
    default:
        rv = CKR_FUNCTION_FAILED;
        break;
    }
out_end:
    session_op_end(op);
    return rv;
}

/* ---- Random ---- */

CK_RV generate_random_locked(CK_SESSION_HANDLE hSession,
                             CK_BYTE_PTR pRandomData,
                             CK_ULONG ulRandomLen)
{
    struct mc_session *s;
    struct mc_card *c;
    CK_RV rv;
    int err;

    rv = session_lookup_locked(hSession, &s);
    if (rv != CKR_OK || ulRandomLen == 0)
        return rv;
    c = s->card;
    card_io_begin_locked(c);
    err = card_random(c, pRandomData, ulRandomLen);
    card_io_end_locked(c);
    return mc_rv_from_err(err);
}

CK_RV seed_random_locked(CK_SESSION_HANDLE hSession)
{
    struct mc_session *s;
    CK_RV rv = session_lookup_locked(hSession, &s);

    /* The card's RNG takes no seed. */
    return rv == CKR_OK ? CKR_RANDOM_SEED_NOT_SUPPORTED : rv;
}
