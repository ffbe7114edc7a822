/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: mechanisms and signing.  The six mechanisms
 * and never PSS or raw RSA; CKM_RSA_PKCS up to 245 bytes; every hashed
 * mechanism single- and multi-part on both tokens; length queries that
 * touch no card; CKR_BUFFER_TOO_SMALL keeping the operation; the
 * signature key's CKA_ALWAYS_AUTHENTICATE; GET CHALLENGE before login;
 * C_Verify in software.  Every signature is checked with OpenSSL against
 * the certificate read through the module's CKA_VALUE.  Drives the module
 * only through C_GetFunctionList.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

const char check_suite_name[] = "module-sign";

static const CK_MECHANISM_TYPE six[6] = {
    CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS
};
static const CK_MECHANISM_TYPE hashed[5] = {
    CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS
};

/* A logged-in session on @r, its private key and its certificate as the
 * module shows it (CKA_VALUE). */
struct signer {
    enum mt_role role;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    unsigned char *cert;
    CK_ULONG cert_len;
    const char *ctx_pin;  /* for CKU_CONTEXT_SPECIFIC, or NULL */
};

static struct signer signer(enum mt_role r)
{
    struct signer g = { .role = r };
    CK_OBJECT_HANDLE cert;

    g.s = mt_session_login(r);
    g.key = mt_one(g.s, CKO_PRIVATE_KEY);
    cert = mt_cert_obj(g.s, r == MT_AUTH ? MT_CERT_AUTH : MT_CERT_SIGN);
    g.cert = mt_attr(g.s, cert, CKA_VALUE, &g.cert_len);
    if (mt_attr_bool(g.s, g.key, CKA_ALWAYS_AUTHENTICATE))
        g.ctx_pin = mt_pin(r);
    return g;
}

static void signer_free(struct signer *g)
{
    free(g->cert);
}

static CK_RV context_login(struct signer *g)
{
    if (!g->ctx_pin)
        return CKR_OK;
    return fx.f->C_Login(g->s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)g->ctx_pin,
                         strlen(g->ctx_pin));
}

static void sign_verify(struct signer *g, CK_MECHANISM_TYPE m,
                        const void *data, size_t len)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);

    ck_assert_rv(mt_sign(g->s, g->key, m, data, len, sig, &siglen, g->ctx_pin),
                 CKR_OK);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    ck_assert_msg(mt_verify(g->cert, g->cert_len, m, data, len, sig, siglen),
                  "token %d mechanism 0x%lx: signature does not verify",
                  g->role, (unsigned long)m);
}

/* ---- Mechanisms ---- */

START_TEST(test_mechanism_list_exactly_six)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_MECHANISM_TYPE list[16];
        CK_ULONG n = 0;
        bool seen[6] = { false };

        ck_assert_rv(fx.f->C_GetMechanismList(mt_slot(r), NULL, &n), CKR_OK);
        ck_assert_uint_eq(n, 6);
        n = 1;
        ck_assert_rv(fx.f->C_GetMechanismList(mt_slot(r), list, &n),
                     CKR_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(n, 6);
        n = 16;
        ck_assert_rv(fx.f->C_GetMechanismList(mt_slot(r), list, &n), CKR_OK);
        ck_assert_uint_eq(n, 6);
        for (CK_ULONG i = 0; i < n; i++) {
            bool known = false;

            ck_assert_uint_ne(list[i], CKM_RSA_PKCS_PSS);
            ck_assert_uint_ne(list[i], CKM_RSA_X_509);
            for (int j = 0; j < 6; j++) {
                if (list[i] == six[j]) {
                    ck_assert(!seen[j]);
                    seen[j] = known = true;
                }
            }
            ck_assert_msg(known, "unexpected mechanism 0x%lx",
                          (unsigned long)list[i]);
        }
    }
}
END_TEST

START_TEST(test_mechanism_info)
{
    static const CK_MECHANISM_TYPE never[] = {
        CKM_RSA_PKCS_PSS, CKM_RSA_X_509, CKM_SHA256_RSA_PKCS_PSS,
        CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS_OAEP
    };

    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_MECHANISM_INFO mi;

        for (int j = 0; j < 6; j++) {
            ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(r), six[j], &mi),
                         CKR_OK);
            ck_assert_msg(mi.flags & CKF_SIGN, "0x%lx lacks CKF_SIGN",
                          (unsigned long)six[j]);
            ck_assert_uint_le(mi.ulMinKeySize, 2048);
            ck_assert_uint_ge(mi.ulMaxKeySize, 2048);
        }
        for (size_t j = 0; j < sizeof(never) / sizeof(*never); j++)
            ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(r), never[j], &mi),
                         CKR_MECHANISM_INVALID);
    }
}
END_TEST

START_TEST(test_sign_init_refusals)
{
    struct signer g = signer(MT_AUTH);
    CK_MECHANISM pss = { CKM_RSA_PKCS_PSS, NULL, 0 };
    CK_MECHANISM x509 = { CKM_RSA_X_509, NULL, 0 };
    CK_MECHANISM good = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    CK_RV rv;

    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"x", 1, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_rv(fx.f->C_SignInit(g.s, &pss, g.key), CKR_MECHANISM_INVALID);
    ck_assert_rv(fx.f->C_SignInit(g.s, &x509, g.key), CKR_MECHANISM_INVALID);
    rv = fx.f->C_SignInit(g.s, &good, mt_one(g.s, CKO_PUBLIC_KEY));
    ck_assert_msg(MT_RV_IN(rv, CKR_KEY_FUNCTION_NOT_PERMITTED,
                           CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_HANDLE_INVALID),
                  "C_SignInit with the public key: 0x%lx", (unsigned long)rv);
    /* PKCS#11 3.0: a NULL mechanism ends the active operation; with none
     * active there is nothing to end. */
    ck_assert_rv(fx.f->C_SignInit(g.s, NULL, g.key), CKR_OK);
    /* None of these left an operation behind. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &good, g.key), CKR_OK);
    ck_assert_rv(fx.f->C_SignInit(g.s, &good, g.key), CKR_OPERATION_ACTIVE);
    ck_assert_rv(fx.f->C_SignInit(g.s, NULL, 0), CKR_OK);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"x", 1, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_rv(fx.f->C_SignInit(g.s, &good, g.key), CKR_OK);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"x", 1, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, CKM_SHA256_RSA_PKCS, "x", 1, sig,
                        siglen));
    signer_free(&g);
}
END_TEST

/* ---- CKM_RSA_PKCS ---- */

START_TEST(test_rsa_pkcs_digest_info)
{
    struct signer g = signer((enum mt_role)_i);
    unsigned char di[64], sig[MT_SIG_LEN];
    size_t n = mt_digest_info("message", 7, di);
    CK_ULONG siglen = sizeof(sig);

    sign_verify(&g, CKM_RSA_PKCS, di, n);
    /* And it is a valid SHA-256 PKCS#1 v1.5 signature of the message. */
    ck_assert_rv(mt_sign(g.s, g.key, CKM_RSA_PKCS, di, n, sig, &siglen,
                         g.ctx_pin), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, CKM_SHA256_RSA_PKCS, "message", 7,
                        sig, siglen));
    signer_free(&g);
}
END_TEST

START_TEST(test_rsa_pkcs_245_bytes)
{
    struct signer g = signer((enum mt_role)_i);
    unsigned char data[245];

    ck_assert_int_eq(RAND_bytes(data, sizeof(data)), 1);
    sign_verify(&g, CKM_RSA_PKCS, data, sizeof(data));
    sign_verify(&g, CKM_RSA_PKCS, data, 1);
    signer_free(&g);
}
END_TEST

START_TEST(test_rsa_pkcs_246_bytes_refused)
{
    struct signer g = signer(MT_AUTH);
    unsigned char data[246], sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long cmds = mt_spied(&fx.spy.sign_cmds);

    memset(data, 0x5A, sizeof(data));
    ck_assert_rv(mt_sign(g.s, g.key, CKM_RSA_PKCS, data, sizeof(data), sig,
                         &siglen, NULL), CKR_DATA_LEN_RANGE);
    ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds), cmds);
    /* The failure ended the operation (5.2): a new one starts. */
    sign_verify(&g, CKM_RSA_PKCS, data, 245);
    signer_free(&g);
}
END_TEST

/* ---- Hashed mechanisms: _i = token * 5 + mechanism ---- */

START_TEST(test_hash_single_part)
{
    struct signer g = signer((enum mt_role)(_i / 5));
    CK_MECHANISM_TYPE m = hashed[_i % 5];
    unsigned char data[1000];

    ck_assert_int_eq(RAND_bytes(data, sizeof(data)), 1);
    sign_verify(&g, m, data, sizeof(data));
    sign_verify(&g, m, "", 0);
    signer_free(&g);
}
END_TEST

START_TEST(test_hash_multi_part)
{
    struct signer g = signer((enum mt_role)(_i / 5));
    CK_MECHANISM mech = { hashed[_i % 5], NULL, 0 };
    unsigned char data[3000], sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long cmds;

    ck_assert_int_eq(RAND_bytes(data, sizeof(data)), 1);
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(context_login(&g), CKR_OK);
    cmds = mt_spied(&fx.spy.sign_cmds);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, data, 1), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, data + 1, 0), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, data + 1, 2000), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, data + 2001, 999), CKR_OK);
    /* Hashing is the module's: the card signs once, at the end. */
    ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds), cmds);
    ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen), CKR_OK);
    ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds), cmds + 1);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    ck_assert_msg(mt_verify(g.cert, g.cert_len, mech.mechanism, data,
                            sizeof(data), sig, siglen),
                  "multi-part 0x%lx does not verify",
                  (unsigned long)mech.mechanism);
    /* The operation is over. */
    ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);
    signer_free(&g);
}
END_TEST

START_TEST(test_rsa_pkcs_multi_part)
{
    struct signer g = signer(MT_AUTH);
    CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
    unsigned char di[64], sig[MT_SIG_LEN];
    size_t n = mt_digest_info("parts", 5, di);
    CK_ULONG siglen = sizeof(sig);
    CK_RV rv;

    /* Multi-part CKM_RSA_PKCS is optional; if offered it must be right. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    rv = fx.f->C_SignUpdate(g.s, di, 10);
    if (rv == CKR_OK) {
        ck_assert_rv(fx.f->C_SignUpdate(g.s, di + 10, n - 10), CKR_OK);
        ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen), CKR_OK);
        ck_assert(mt_verify(g.cert, g.cert_len, CKM_RSA_PKCS, di, n, sig,
                            siglen));
    } else {
        ck_assert_msg(MT_RV_IN(rv, CKR_FUNCTION_NOT_SUPPORTED,
                               CKR_MECHANISM_INVALID),
                      "C_SignUpdate(CKM_RSA_PKCS): 0x%lx", (unsigned long)rv);
        sign_verify(&g, CKM_RSA_PKCS, di, n);
    }
    signer_free(&g);
}
END_TEST

/* ---- Lengths and buffers ---- */

START_TEST(test_length_query_touches_no_card)
{
    struct signer g = signer((enum mt_role)_i);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = 0;
    unsigned long apdus;

    /* Single-part. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(context_login(&g), CKR_OK);
    apdus = mt_apdus();
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, NULL, &siglen), CKR_OK);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    ck_assert_uint_eq(mt_apdus(), apdus);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, mech.mechanism, "abc", 3, sig,
                        siglen));

    /* Multi-part. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(context_login(&g), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, (CK_BYTE *)"abc", 3), CKR_OK);
    apdus = mt_apdus();
    siglen = 0;
    ck_assert_rv(fx.f->C_SignFinal(g.s, NULL, &siglen), CKR_OK);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    ck_assert_uint_eq(mt_apdus(), apdus);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, mech.mechanism, "abc", 3, sig,
                        siglen));
    signer_free(&g);
}
END_TEST

START_TEST(test_buffer_too_small_keeps_operation)
{
    struct signer g = signer((enum mt_role)_i);
    CK_MECHANISM mech = { CKM_SHA384_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen;

    /* Single-part. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(context_login(&g), CKR_OK);
    siglen = 100;
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, mech.mechanism, "abc", 3, sig,
                        siglen));
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);

    /* Multi-part. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(context_login(&g), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(g.s, (CK_BYTE *)"abc", 3), CKR_OK);
    siglen = 255;
    ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_SignFinal(g.s, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, mech.mechanism, "abc", 3, sig,
                        siglen));
    signer_free(&g);
}
END_TEST

/* ---- CKA_ALWAYS_AUTHENTICATE ---- */

START_TEST(test_always_authenticate_sign_key)
{
    struct signer g = signer(MT_SIGN);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long cmds;
    CK_RV rv;

    ck_assert_ptr_nonnull(g.ctx_pin);
    /* No operation: nothing to authenticate for (2.40, 5.6). */
    ck_assert_rv(fx.f->C_Login(g.s, CKU_CONTEXT_SPECIFIC,
                               (CK_UTF8CHAR *)MT_SIGN_PIN, 6),
                 CKR_OPERATION_NOT_INITIALIZED);

    /* Without the context-specific login: refused, card not asked. */
    cmds = mt_spied(&fx.spy.sign_cmds);
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_USER_NOT_LOGGED_IN);
    ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds), cmds);

    /* With it: signed. */
    rv = fx.f->C_SignInit(g.s, &mech, g.key);
    ck_assert_msg(MT_RV_IN(rv, CKR_OK, CKR_OPERATION_ACTIVE),
                  "C_SignInit after the refusal: 0x%lx", (unsigned long)rv);
    ck_assert_rv(fx.f->C_Login(g.s, CKU_CONTEXT_SPECIFIC,
                               (CK_UTF8CHAR *)MT_SIGN_PIN, 6), CKR_OK);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen), CKR_OK);
    ck_assert(mt_verify(g.cert, g.cert_len, mech.mechanism, "abc", 3, sig,
                        siglen));

    /* It counts for one signature only. */
    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    siglen = sizeof(sig);
    ck_assert_rv(fx.f->C_Sign(g.s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_USER_NOT_LOGGED_IN);
    signer_free(&g);
}
END_TEST

START_TEST(test_always_authenticate_wrong_pin)
{
    struct signer g = signer(MT_SIGN);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };

    ck_assert_rv(fx.f->C_SignInit(g.s, &mech, g.key), CKR_OK);
    ck_assert_rv(fx.f->C_Login(g.s, CKU_CONTEXT_SPECIFIC,
                               (CK_UTF8CHAR *)"WRONG1", 6), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_SIGN), 4);
    signer_free(&g);
}
END_TEST

START_TEST(test_auth_key_signs_without_context_login)
{
    struct signer g = signer(MT_AUTH);

    ck_assert_ptr_null(g.ctx_pin);
    sign_verify(&g, CKM_SHA256_RSA_PKCS, "one", 3);
    sign_verify(&g, CKM_SHA256_RSA_PKCS, "two", 3);
    signer_free(&g);
}
END_TEST

/* ---- Random and verification ---- */

START_TEST(test_generate_random_before_login)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session(mt_slot(r));
        unsigned char a[32], b[32], big[300], zero[300];
        unsigned long ch = mt_spied(&fx.spy.challenges);

        memset(a, 0, sizeof(a));
        memset(b, 0, sizeof(b));
        memset(big, 0, sizeof(big));
        memset(zero, 0, sizeof(zero));
        ck_assert_rv(fx.f->C_GenerateRandom(s, a, sizeof(a)), CKR_OK);
        ck_assert_rv(fx.f->C_GenerateRandom(s, b, sizeof(b)), CKR_OK);
        ck_assert_msg(mt_spied(&fx.spy.challenges) > ch,
                      "no GET CHALLENGE sent");
        ck_assert(memcmp(a, b, sizeof(a)) != 0);
        ck_assert(memcmp(a, zero, sizeof(a)) != 0);
        ck_assert_rv(fx.f->C_GenerateRandom(s, big, sizeof(big)), CKR_OK);
        ck_assert(memcmp(big + 256, zero, 44) != 0);
        ck_assert_rv(fx.f->C_GenerateRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
    }
}
END_TEST

START_TEST(test_verify_in_software)
{
    struct signer g = signer(MT_AUTH);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    CK_MECHANISM raw = { CKM_RSA_PKCS, NULL, 0 };
    CK_SESSION_HANDLE pub_s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE pub = mt_one(pub_s, CKO_PUBLIC_KEY);
    unsigned char sig[MT_SIG_LEN], di[64];
    CK_ULONG siglen = sizeof(sig);
    size_t n = mt_digest_info("verify me", 9, di);
    unsigned long apdus;

    ck_assert_rv(mt_sign(g.s, g.key, CKM_SHA256_RSA_PKCS, "verify me", 9, sig,
                         &siglen, NULL), CKR_OK);
    apdus = mt_apdus();
    ck_assert_rv(fx.f->C_VerifyInit(pub_s, &mech, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(pub_s, (CK_BYTE *)"verify me", 9, sig, siglen),
                 CKR_OK);
    ck_assert_rv(fx.f->C_VerifyInit(pub_s, &raw, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(pub_s, di, n, sig, siglen), CKR_OK);

    sig[100] ^= 0x01;
    ck_assert_rv(fx.f->C_VerifyInit(pub_s, &mech, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(pub_s, (CK_BYTE *)"verify me", 9, sig, siglen),
                 CKR_SIGNATURE_INVALID);
    sig[100] ^= 0x01;
    ck_assert_rv(fx.f->C_VerifyInit(pub_s, &mech, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(pub_s, (CK_BYTE *)"verify mE", 9, sig, siglen),
                 CKR_SIGNATURE_INVALID);
    ck_assert_uint_eq(mt_apdus(), apdus);
    signer_free(&g);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "mechanisms", true);

    check_add_tests(tc, test_mechanism_list_exactly_six, test_mechanism_info,
                    test_sign_init_refusals);

    tc = mt_tcase(s, "sign", true);
    tcase_add_loop_test(tc, test_rsa_pkcs_digest_info, 0, 2);
    tcase_add_loop_test(tc, test_rsa_pkcs_245_bytes, 0, 2);
    check_add_tests(tc, test_rsa_pkcs_246_bytes_refused,
                    test_rsa_pkcs_multi_part);
    tcase_add_loop_test(tc, test_hash_single_part, 0, 10);
    tcase_add_loop_test(tc, test_hash_multi_part, 0, 10);
    tcase_add_loop_test(tc, test_length_query_touches_no_card, 0, 2);
    tcase_add_loop_test(tc, test_buffer_too_small_keeps_operation, 0, 2);
    check_add_tests(tc, test_always_authenticate_sign_key,
                    test_always_authenticate_wrong_pin,
                    test_auth_key_signs_without_context_login);

    tc = mt_tcase(s, "random-verify", true);
    check_add_tests(tc, test_generate_random_before_login,
                    test_verify_in_software);
}
