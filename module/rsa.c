/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * RSA signature checks in software, with OpenSSL: C_Verify* (sign.c) and
 * the check of every signature the card makes before it leaves the module
 * (card.c).  Layer: module/, below both; calls only OpenSSL and
 * mc_ossl_nomem() (error.c).
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "module.h"

/* Set @ctx (verify_init done) up for RSASSA-PSS over a SHA-256 hash with
 * MGF1-SHA256 and a salt of exactly 32 bytes. */
static int set_pss(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1
           && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
           && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
           && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, JPKI_PSS_HASH_LEN) == 1;
}

int mc_rsa_verify_pkey(EVP_PKEY *pkey, bool pss, const uint8_t *tbs,
                       size_t tbslen, const uint8_t *sig, size_t siglen)
{
    EVP_PKEY_CTX *ctx;
    int ok;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return -1;
    /* No digest set for PKCS#1 v1.5: the provider decrypts, removes the
     * type-1 padding and compares with @tbs, which is what CKM_RSA_PKCS
     * means. */
    if (EVP_PKEY_verify_init(ctx) != 1
        || (pss ? !set_pss(ctx)
                : EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)) {
        EVP_PKEY_CTX_free(ctx);
        return -1;
    }
    ok = EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen);
    EVP_PKEY_CTX_free(ctx);
    /* OpenSSL answers 0 for a bad signature and for a failed allocation
     * alike: only the first is CKR_SIGNATURE_INVALID. */
    if (ok != 1 && mc_ossl_nomem())
        return -1;
    return ok == 1 ? 1 : 0;
}

EVP_PKEY *mc_rsa_pkey_from_spki(const uint8_t *spki, size_t len)
{
    const unsigned char *p = spki;

    return d2i_PUBKEY(NULL, &p, (long)len);
}

EVP_PKEY_CTX *mc_rsa_verify_ctx_new(const uint8_t *spki, size_t spkilen)
{
    EVP_PKEY *pkey = mc_rsa_pkey_from_spki(spki, spkilen);
    EVP_PKEY_CTX *ctx;

    if (!pkey)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    EVP_PKEY_free(pkey);            /* the context holds its own reference */
    if (!ctx)
        return NULL;
    if (EVP_PKEY_verify_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int mc_rsa_pkcs1_verify_ctx(EVP_PKEY_CTX *ctx, const uint8_t *tbs,
                            size_t tbslen, const uint8_t *sig, size_t siglen)
{
    int ok = EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen);

    /* As mc_rsa_verify_pkey(): a failed allocation is not a bad signature. */
    if (ok != 1 && mc_ossl_nomem())
        return -1;
    return ok == 1 ? 1 : 0;
}

int mc_rsa_pkcs1_verify(const uint8_t *spki, size_t spkilen,
                        const uint8_t *tbs, size_t tbslen,
                        const uint8_t *sig, size_t siglen)
{
    EVP_PKEY *pkey = mc_rsa_pkey_from_spki(spki, spkilen);
    int ok;

    if (!pkey)
        return -1;
    ok = mc_rsa_verify_pkey(pkey, false, tbs, tbslen, sig, siglen);
    EVP_PKEY_free(pkey);
    return ok;
}

int mc_rsa_pss_verify(const uint8_t *spki, size_t spkilen,
                      const uint8_t *hash, size_t hashlen,
                      const uint8_t *sig, size_t siglen)
{
    EVP_PKEY *pkey;
    int ok;

    if (hashlen != JPKI_PSS_HASH_LEN)
        return 0;
    pkey = mc_rsa_pkey_from_spki(spki, spkilen);
    if (!pkey)
        return -1;
    ok = mc_rsa_verify_pkey(pkey, true, hash, hashlen, sig, siglen);
    EVP_PKEY_free(pkey);
    return ok;
}
