/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: RSA-PSS for TLS 1.3 (`pss = true`).  Off by
 * default: no PSS mechanism listed or accepted.  On: the authentication
 * token lists CKM_RSA_PKCS_PSS and CKM_SHA256_RSA_PKCS_PSS, takes only
 * SHA-256, MGF1-SHA256 and a 32-byte salt, and its signatures (the card's
 * P1 04) verify with OpenSSL as RSASSA-PSS; the signature token is
 * unchanged.  A card that refuses P1 04, or answers with a signature that
 * does not verify, gets an error and never a signature, and no try is
 * spent.  The user's configuration file ($XDG_CONFIG_HOME, else
 * ~/.config) is read; MYNACARD_CONF names one file instead.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

const char check_suite_name[] = "pss";

static const CK_RSA_PKCS_PSS_PARAMS tls13 = { CKM_SHA256, CKG_MGF1_SHA256,
                                              32 };

static char conf_path[PATH_MAX];
static char log_path[PATH_MAX];

/* Write @text into @path, making its directory. */
static void write_file(const char *path, const char *text)
{
    char dir[PATH_MAX];
    char *slash;
    FILE *fp;

    ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s", path),
                     (int)sizeof(dir));
    for (slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0700);
        *slash = '/';
    }
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

/* @text as the one configuration file (MYNACARD_CONF), a %s in it the
 * path of a log file (log_path); the module and the card opened again,
 * the card with @emu's switches (NULL: the profile's). */
static void open_with(const char *text, const struct emu_options *emu)
{
    char buf[1024];

    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = emu });
    /* In the card's directory, which mt_open() made afresh. */
    ck_assert_int_lt(snprintf(conf_path, sizeof(conf_path), "%s/test.conf",
                              fx.dir), (int)sizeof(conf_path));
    ck_assert_int_lt(snprintf(log_path, sizeof(log_path), "%s/debug.log",
                              fx.dir), (int)sizeof(log_path));
    ck_assert_int_lt(snprintf(buf, sizeof(buf), text, log_path),
                     (int)sizeof(buf));
    write_file(conf_path, buf);
    ck_assert_int_eq(setenv("MYNACARD_CONF", conf_path, 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    mt_find_slots();
}

/* After mt_teardown (checked fixtures tear down in reverse order). */
static void pss_teardown(void)
{
    unsetenv("MYNACARD_CONF");
    unsetenv("XDG_CONFIG_HOME");
}

static bool listed(enum mt_role r, CK_MECHANISM_TYPE m, CK_ULONG *count)
{
    CK_MECHANISM_TYPE list[16];
    CK_ULONG n = 16;
    bool found = false;

    ck_assert_rv(fx.f->C_GetMechanismList(mt_slot(r), list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++)
        found |= list[i] == m;
    if (count)
        *count = n;
    return found;
}

/* A PSS signature over the SHA-256 @hash verifies with @cert's key, with
 * MGF1-SHA256 and a salt of exactly 32 bytes. */
static bool pss_verifies(const unsigned char *cert, size_t certlen,
                         const unsigned char hash[32], const unsigned char *sig,
                         size_t siglen)
{
    const unsigned char *p = cert;
    X509 *x = d2i_X509(NULL, &p, (long)certlen);
    EVP_PKEY_CTX *ctx = NULL;
    bool ok = false;

    if (!x)
        return false;
    ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    if (ctx && EVP_PKEY_verify_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1)
        ok = EVP_PKEY_verify(ctx, sig, siglen, hash, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    X509_free(x);
    return ok;
}

static CK_RV sign_pss(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
                      CK_MECHANISM_TYPE m, const void *params, CK_ULONG plen,
                      const unsigned char *data, size_t len,
                      unsigned char *sig, CK_ULONG *siglen)
{
    CK_MECHANISM mech = { m, (void *)params, plen };
    CK_RV rv = fx.f->C_SignInit(s, &mech, key);

    if (rv != CKR_OK)
        return rv;
    return fx.f->C_Sign(s, (CK_BYTE *)data, len, sig, siglen);
}

/* ---- off ---- */

START_TEST(test_off_by_default)
{
    CK_MECHANISM mech = { CKM_RSA_PKCS_PSS, (void *)&tls13, sizeof(tls13) };
    CK_MECHANISM_INFO info;
    CK_SESSION_HANDLE s;
    CK_ULONG n;

    open_with("# nothing\n", NULL);
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        ck_assert(!listed(r, CKM_RSA_PKCS_PSS, &n));
        ck_assert(!listed(r, CKM_SHA256_RSA_PKCS_PSS, NULL));
        ck_assert_uint_eq(n, 6);
        ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(r), CKM_RSA_PKCS_PSS,
                                              &info),
                     CKR_MECHANISM_INVALID);
    }
    s = mt_session_login(MT_AUTH);
    ck_assert_rv(fx.f->C_SignInit(s, &mech, mt_one(s, CKO_PRIVATE_KEY)),
                 CKR_MECHANISM_INVALID);
    open_with("pss = false\n", NULL);
    ck_assert(!listed(MT_AUTH, CKM_RSA_PKCS_PSS, &n));
    ck_assert_uint_eq(n, 6);
}
END_TEST

/* ---- on ---- */

START_TEST(test_listed_on_auth_only)
{
    CK_MECHANISM mech = { CKM_RSA_PKCS_PSS, (void *)&tls13, sizeof(tls13) };
    CK_MECHANISM_INFO info;
    CK_SESSION_HANDLE s;
    CK_ULONG n;

    open_with("pss = true\n", NULL);
    ck_assert(listed(MT_AUTH, CKM_RSA_PKCS_PSS, &n));
    ck_assert(listed(MT_AUTH, CKM_SHA256_RSA_PKCS_PSS, NULL));
    ck_assert_uint_eq(n, 8);
    ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(MT_AUTH), CKM_RSA_PKCS_PSS,
                                          &info),
                 CKR_OK);
    ck_assert(info.flags & CKF_SIGN);
    ck_assert_uint_eq(info.ulMinKeySize, 2048);
    ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(MT_AUTH),
                                          CKM_SHA256_RSA_PKCS_PSS, &info),
                 CKR_OK);
    ck_assert(info.flags & CKF_SIGN);

    /* The signature token's documents expect PKCS#1 v1.5. */
    ck_assert(!listed(MT_SIGN, CKM_RSA_PKCS_PSS, &n));
    ck_assert_uint_eq(n, 6);
    ck_assert_rv(fx.f->C_GetMechanismInfo(mt_slot(MT_SIGN), CKM_RSA_PKCS_PSS,
                                          &info),
                 CKR_MECHANISM_INVALID);
    s = mt_session_login(MT_SIGN);
    ck_assert_rv(fx.f->C_SignInit(s, &mech, mt_one(s, CKO_PRIVATE_KEY)),
                 CKR_MECHANISM_INVALID);
}
END_TEST

START_TEST(test_sign_verifies)
{
    struct emu_options opt = { .sign_pss = true };
    CK_MECHANISM vmech = { CKM_RSA_PKCS_PSS, (void *)&tls13, sizeof(tls13) };
    unsigned char hash[32], sig[MT_SIG_LEN], sig2[MT_SIG_LEN];
    unsigned char data[1000], *cert;
    CK_ULONG siglen = sizeof(sig), siglen2 = sizeof(sig2), certlen;
    CK_OBJECT_HANDLE key, pub;
    CK_SESSION_HANDLE s;

    open_with("pss = true\n", &opt);
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    pub = mt_one(s, CKO_PUBLIC_KEY);
    cert = mt_attr(s, mt_cert_obj(s, MT_CERT_AUTH), CKA_VALUE, &certlen);
    ck_assert_int_eq(RAND_bytes(hash, sizeof(hash)), 1);
    ck_assert_int_eq(RAND_bytes(data, sizeof(data)), 1);

    /* The raw mechanism: the caller's SHA-256 hash. */
    ck_assert_rv(sign_pss(s, key, CKM_RSA_PKCS_PSS, &tls13, sizeof(tls13),
                          hash, sizeof(hash), sig, &siglen),
                 CKR_OK);
    ck_assert_uint_eq(siglen, MT_SIG_LEN);
    ck_assert_msg(pss_verifies(cert, certlen, hash, sig, siglen),
                  "CKM_RSA_PKCS_PSS: not RSASSA-PSS, MGF1-SHA256, salt 32");
    /* A random salt: the same hash signs differently. */
    ck_assert_rv(sign_pss(s, key, CKM_RSA_PKCS_PSS, &tls13, sizeof(tls13),
                          hash, sizeof(hash), sig2, &siglen2),
                 CKR_OK);
    ck_assert_mem_ne(sig, sig2, MT_SIG_LEN);
    /* C_Verify in software agrees, and refuses a changed signature. */
    ck_assert_rv(fx.f->C_VerifyInit(s, &vmech, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(s, hash, sizeof(hash), sig, siglen), CKR_OK);
    sig[5] ^= 0x40;
    ck_assert_rv(fx.f->C_VerifyInit(s, &vmech, pub), CKR_OK);
    ck_assert_rv(fx.f->C_Verify(s, hash, sizeof(hash), sig, siglen),
                 CKR_SIGNATURE_INVALID);

    /* The hash-and-sign mechanism, single- and multi-part. */
    SHA256(data, sizeof(data), hash);
    siglen = sizeof(sig);
    ck_assert_rv(sign_pss(s, key, CKM_SHA256_RSA_PKCS_PSS, &tls13,
                          sizeof(tls13), data, sizeof(data), sig, &siglen),
                 CKR_OK);
    ck_assert(pss_verifies(cert, certlen, hash, sig, siglen));
    {
        CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS_PSS, (void *)&tls13,
                              sizeof(tls13) };

        siglen = sizeof(sig);
        ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
        ck_assert_rv(fx.f->C_SignUpdate(s, data, 300), CKR_OK);
        ck_assert_rv(fx.f->C_SignUpdate(s, data + 300, sizeof(data) - 300),
                     CKR_OK);
        ck_assert_rv(fx.f->C_SignFinal(s, sig, &siglen), CKR_OK);
        ck_assert(pss_verifies(cert, certlen, hash, sig, siglen));
        ck_assert_rv(fx.f->C_VerifyInit(s, &mech, pub), CKR_OK);
        ck_assert_rv(fx.f->C_Verify(s, data, sizeof(data), sig, siglen),
                     CKR_OK);
    }
    /* PKCS#1 v1.5 is still there. */
    siglen = sizeof(sig);
    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, data, sizeof(data), sig,
                         &siglen, NULL),
                 CKR_OK);
    ck_assert(mt_verify(cert, certlen, CKM_SHA256_RSA_PKCS, data,
                        sizeof(data), sig, siglen));
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    free(cert);
}
END_TEST

START_TEST(test_params_and_lengths)
{
    struct emu_options opt = { .sign_pss = true };
    static const CK_RSA_PKCS_PSS_PARAMS bad[] = {
        { CKM_SHA_1, CKG_MGF1_SHA256, 32 },
        { CKM_SHA256, CKG_MGF1_SHA1, 32 },
        { CKM_SHA256, CKG_MGF1_SHA256, 20 },
        { CKM_SHA256, CKG_MGF1_SHA256, 0 },
        { CKM_SHA384, CKG_MGF1_SHA384, 48 },
    };
    unsigned char hash[64] = { 1 }, sig[MT_SIG_LEN];
    CK_ULONG siglen;
    CK_OBJECT_HANDLE key;
    CK_SESSION_HANDLE s;
    unsigned long before;

    open_with("pss = true\n", &opt);
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    before = mt_apdus();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CK_MECHANISM_TYPE ms[2] = { CKM_RSA_PKCS_PSS,
                                    CKM_SHA256_RSA_PKCS_PSS };

        for (int k = 0; k < 2; k++) {
            CK_MECHANISM mech = { ms[k], (void *)&bad[i], sizeof(bad[i]) };

            ck_assert_rv(fx.f->C_SignInit(s, &mech, key),
                         CKR_MECHANISM_PARAM_INVALID);
        }
    }
    {
        CK_MECHANISM none = { CKM_RSA_PKCS_PSS, NULL, 0 };
        CK_MECHANISM shortp = { CKM_RSA_PKCS_PSS, (void *)&tls13,
                                sizeof(tls13) - 1 };
        CK_MECHANISM v15 = { CKM_SHA256_RSA_PKCS, (void *)&tls13,
                             sizeof(tls13) };

        ck_assert_rv(fx.f->C_SignInit(s, &none, key),
                     CKR_MECHANISM_PARAM_INVALID);
        ck_assert_rv(fx.f->C_SignInit(s, &shortp, key),
                     CKR_MECHANISM_PARAM_INVALID);
        ck_assert_rv(fx.f->C_SignInit(s, &v15, key),
                     CKR_MECHANISM_PARAM_INVALID);
    }
    /* The raw mechanism takes a SHA-256 hash: 32 bytes, no more, no less. */
    for (size_t len = 31; len <= 33; len += 2) {
        siglen = sizeof(sig);
        ck_assert_rv(sign_pss(s, key, CKM_RSA_PKCS_PSS, &tls13, sizeof(tls13),
                              hash, len, sig, &siglen),
                     CKR_DATA_LEN_RANGE);
    }
    ck_assert_uint_eq(mt_apdus(), before);   /* nothing reached the card */
}
END_TEST

/* Whether the debug log holds @s. */
static bool log_has(const char *s)
{
    char line[1024];
    bool found = false;
    FILE *fp = fopen(log_path, "r");

    if (!fp)
        return false;
    while (!found && fgets(line, sizeof(line), fp))
        found = strstr(line, s) != NULL;
    fclose(fp);
    return found;
}

/* A card without the mode, and one that answers it wrongly: an error,
 * never a signature, a line in the debug log saying why, no try spent,
 * and PKCS#1 v1.5 still works. */
START_TEST(test_card_refuses_or_lies)
{
    struct emu_options opt = { .sign_pss = true };
    unsigned char hash[32], sig[MT_SIG_LEN], zero[MT_SIG_LEN] = { 0 };
    CK_ULONG siglen;
    CK_OBJECT_HANDLE key;
    CK_SESSION_HANDLE s;
    const char *why;
    CK_RV want;

    if (_i == 0) {
        opt.sign_pss_refused = true;
        want = CKR_FUNCTION_FAILED;
        why = "the card refused an RSA-PSS signature";
    } else {
        opt.sign_pss_bad = true;
        want = CKR_DEVICE_ERROR;
        why = "does not verify as RSASSA-PSS with MGF1-SHA256 and a 32-byte "
              "salt";
    }
    open_with("pss = true\ndebug = 1\nlog_file = %s\n", &opt);
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_int_eq(RAND_bytes(hash, sizeof(hash)), 1);
    memset(sig, 0, sizeof(sig));
    siglen = sizeof(sig);
    ck_assert_rv(sign_pss(s, key, CKM_RSA_PKCS_PSS, &tls13, sizeof(tls13),
                          hash, sizeof(hash), sig, &siglen),
                 want);
    ck_assert_mem_eq(sig, zero, sizeof(sig));
    siglen = sizeof(sig);
    ck_assert_rv(sign_pss(s, key, CKM_SHA256_RSA_PKCS_PSS, &tls13,
                          sizeof(tls13), hash, sizeof(hash), sig, &siglen),
                 want);
    ck_assert_mem_eq(sig, zero, sizeof(sig));
    ck_assert_msg(log_has(why), "the debug log does not say: %s", why);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    siglen = sizeof(sig);
    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, hash, sizeof(hash), sig,
                         &siglen, NULL),
                 CKR_OK);
}
END_TEST

/* ---- where the setting comes from ---- */

START_TEST(test_user_file)
{
    char xdg[PATH_MAX], home[PATH_MAX], path[PATH_MAX];
    const char *old_home = getenv("HOME");
    char *saved = old_home ? strdup(old_home) : NULL;
    CK_ULONG n;

    unsetenv("MYNACARD_CONF");
    ck_assert_int_lt(snprintf(xdg, sizeof(xdg), "%s/xdg", fx.dir),
                     (int)sizeof(xdg));
    ck_assert_int_lt(snprintf(home, sizeof(home), "%s/home", fx.dir),
                     (int)sizeof(home));
    /* $XDG_CONFIG_HOME/mynacard/mynacard.conf */
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/mynacard/mynacard.conf", xdg), (int)sizeof(path));
    write_file(path, "debug = 0\npss = true\n");
    ck_assert_int_eq(setenv("XDG_CONFIG_HOME", xdg, 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    mt_find_slots();
    ck_assert(listed(MT_AUTH, CKM_RSA_PKCS_PSS, &n));
    ck_assert_uint_eq(n, 8);
    /* Without it, ~/.config/mynacard/mynacard.conf. */
    unsetenv("XDG_CONFIG_HOME");
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/.config/mynacard/mynacard.conf", home), (int)sizeof(path));
    write_file(path, "pss = true\n");
    ck_assert_int_eq(setenv("HOME", home, 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    mt_find_slots();
    ck_assert(listed(MT_AUTH, CKM_RSA_PKCS_PSS, NULL));
    /* MYNACARD_CONF names one file instead of both. */
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/only.conf", fx.dir), (int)sizeof(path));
    write_file(path, "# pss not set\n");
    ck_assert_int_eq(setenv("MYNACARD_CONF", path, 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    mt_find_slots();
    ck_assert(!listed(MT_AUTH, CKM_RSA_PKCS_PSS, NULL));
    /* A relative XDG_CONFIG_HOME is ignored (the XDG specification). */
    unsetenv("MYNACARD_CONF");
    ck_assert_int_eq(setenv("XDG_CONFIG_HOME", "relative/dir", 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    mt_find_slots();
    ck_assert(listed(MT_AUTH, CKM_RSA_PKCS_PSS, NULL));   /* ~/.config's */

    unsetenv("XDG_CONFIG_HOME");
    if (saved)
        setenv("HOME", saved, 1);
    free(saved);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "pss", true);

    tcase_add_checked_fixture(tc, NULL, pss_teardown);
    check_add_tests(tc, test_off_by_default, test_listed_on_auth_only,
                    test_sign_verifies, test_params_and_lengths);
    tcase_add_loop_test(tc, test_card_refuses_or_lies, 0, 2);
    tcase_add_test(tc, test_user_file);
}
