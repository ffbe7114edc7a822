/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: the configuration file (named by MYNACARD_CONF)
 * and the debug log.  The signature key's CKA_ALWAYS_AUTHENTICATE can be
 * switched off, the `readers` filter hides readers, and the debug log
 * (level 4: C_* calls and APDUs, also by MYNACARD_DEBUG) never holds a
 * PIN, in text or in hex, nor bytes of the signature certificate.  Drives
 * the module only through C_GetFunctionList.
 */
#include "fixture.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char check_suite_name[] = "module-config";

static char conf_path[PATH_MAX];
static char log_path[PATH_MAX];

/* Write @text as the configuration, point MYNACARD_CONF at it and
 * initialise the module again. */
static void use_config(const char *text)
{
    FILE *fp;

    ck_assert_int_lt(snprintf(conf_path, sizeof(conf_path), "%s/test.conf",
                              fx.dir), (int)sizeof(conf_path));
    ck_assert_int_lt(snprintf(log_path, sizeof(log_path), "%s/debug.log",
                              fx.dir), (int)sizeof(log_path));
    fp = fopen(conf_path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, text, log_path);
    fclose(fp);
    ck_assert_int_eq(setenv("MYNACARD_CONF", conf_path, 1), 0);
    mt_reinit(MYNACARD_VARIANT_BOTH);
}

static void config_teardown(void)
{
    mt_teardown();
    unsetenv("MYNACARD_CONF");
    unsetenv("MYNACARD_DEBUG");
}

START_TEST(test_config_sign_always_authenticate_off)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    unsigned char sig[MT_SIG_LEN];
    size_t dlen = 0;
    const unsigned char *der = mt_cert_der(MT_CERT_SIGN, &dlen);

    use_config("# test\nsign_always_authenticate = false\nlog_file = %s\n");
    s = mt_session_login(MT_SIGN);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert(mt_attr_bool(s, key, CKA_ALWAYS_AUTHENTICATE) == CK_FALSE);
    /* Several signatures after one login. */
    for (int i = 0; i < 3; i++) {
        CK_ULONG siglen = sizeof(sig);

        ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, "many", 4, sig,
                             &siglen, NULL), CKR_OK);
        ck_assert(mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "many", 4, sig,
                            siglen));
    }
}
END_TEST

START_TEST(test_config_readers_filter)
{
    use_config("readers = No Such Reader, Another One\nlog_file = %s\n");
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 0);
    use_config("readers = Nothing, Virtual Reader\nlog_file = %s\n");
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
}
END_TEST

/* The log with spaces and colons dropped and letters in upper case, so
 * that hex dumps in any layout can be searched. */
static char *read_log_squeezed(size_t *rawlen)
{
    FILE *fp = fopen(log_path, "r");
    char *buf;
    size_t n = 0;
    int ch;

    ck_assert_msg(fp != NULL, "no debug log at %s", log_path);
    buf = malloc(4 << 20);
    ck_assert_ptr_nonnull(buf);
    *rawlen = 0;
    while ((ch = fgetc(fp)) != EOF && n < (4u << 20) - 1) {
        (*rawlen)++;
        if (ch == ' ' || ch == ':' || ch == '\t')
            continue;
        buf[n++] = (char)toupper(ch);
    }
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void hex(const void *p, size_t n, char *out)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", b[i]);
}

static void assert_absent(const char *log, const void *secret, size_t n,
                          const char *what)
{
    char hx[128], text[64];

    ck_assert_uint_lt(n, 60);
    hex(secret, n, hx);
    ck_assert_msg(strstr(log, hx) == NULL, "%s in hex in the log", what);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)toupper(((const unsigned char *)secret)[i]);
    text[n] = '\0';
    /* As text, a PIN would stand as a token of its own ("pin=6049").  The
     * log is full of hex (signatures, random bytes, certificates), where a
     * 4-digit PIN turns up by chance inside longer runs; those are not
     * leaks, so only an occurrence with no letter or digit on either side
     * counts. */
    for (const char *p = strstr(log, text); p; p = strstr(p + 1, text)) {
        bool before = p > log && isalnum((unsigned char)p[-1]);
        bool after = isalnum((unsigned char)p[n]);

        ck_assert_msg(before || after, "%s in the log", what);
    }
}

static bool in_public_cert(const unsigned char *p, size_t n)
{
    static const enum mt_cert pub[] = { MT_CERT_AUTH, MT_CERT_AUTH_CA,
                                        MT_CERT_SIGN_CA };

    for (size_t k = 0; k < 3; k++) {
        size_t len = 0;
        const unsigned char *der = mt_cert_der(pub[k], &len);

        if (memmem(der, len, p, n))
            return true;
    }
    return false;
}

static void exercise_pins(void)
{
    CK_SESSION_HANDLE sa = mt_session_rw(mt_slot(MT_AUTH));
    CK_SESSION_HANDLE ss = mt_session(mt_slot(MT_SIGN));
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);

    /* Wrong PINs too: they reach the card and come back as 63Cx. */
    ck_assert_rv(fx.f->C_Login(sa, CKU_USER, (CK_UTF8CHAR *)"9786", 4),
                 CKR_PIN_INCORRECT);
    ck_assert_rv(fx.f->C_Login(ss, CKU_USER, (CK_UTF8CHAR *)"QZXJWV77", 8),
                 CKR_PIN_INCORRECT);
    mt_login(sa, MT_AUTH_PIN);
    mt_login(ss, MT_SIGN_PIN);
    ck_assert_rv(mt_sign(ss, mt_one(ss, CKO_PRIVATE_KEY), CKM_SHA256_RSA_PKCS,
                         "x", 1, sig, &siglen, MT_SIGN_PIN), CKR_OK);
    ck_assert_rv(fx.f->C_SetPIN(sa, (CK_UTF8CHAR *)MT_AUTH_PIN, 4,
                                (CK_UTF8CHAR *)"6049", 4), CKR_OK);
    mt_finalize();
}

static void assert_log_clean(void)
{
    size_t rawlen = 0, dlen = 0;
    char *log = read_log_squeezed(&rawlen);
    const unsigned char *der = mt_cert_der(MT_CERT_SIGN, &dlen);

    ck_assert_uint_gt(rawlen, 0);
    /* It is the level-4 log: calls and APDUs are there. */
    ck_assert_msg(strstr(log, "C_LOGIN") != NULL, "C_Login not logged");
    ck_assert_msg(strstr(log, "00A4040C0AD392F00026010000000") != NULL,
                  "the SELECT of the JPKI AP is not logged");
    /* PINs, right or wrong, old or new, never. */
    assert_absent(log, "1234", 4, "the authentication PIN");
    assert_absent(log, "ABC123", 6, "the signature password");
    assert_absent(log, "9786", 4, "a wrong authentication PIN");
    assert_absent(log, "QZXJWV77", 8, "a wrong signature password");
    assert_absent(log, "6049", 4, "the new authentication PIN");
    /* Nor the signature certificate, which holds the holder's name,
     * address and birth date: no 24-byte stretch of it that appears in no
     * public certificate (the issuer's name does). */
    for (size_t off = 0; off + 24 <= dlen; off += 8) {
        char hx[64];

        if (in_public_cert(der + off, 24))
            continue;
        hex(der + off, 24, hx);
        ck_assert_msg(strstr(log, hx) == NULL,
                      "bytes %zu..%zu of the signature certificate in the log",
                      off, off + 23);
    }
    free(log);
}

START_TEST(test_debug_log_redacts_pins)
{
    use_config("debug = 4\nlog_file = %s\n");
    exercise_pins();
    assert_log_clean();
}
END_TEST

START_TEST(test_debug_env_redacts_pins)
{
    ck_assert_int_eq(setenv("MYNACARD_DEBUG", "4", 1), 0);
    use_config("log_file = %s\n");
    exercise_pins();
    assert_log_clean();
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = tcase_create("config");

    tcase_add_unchecked_fixture(tc, mt_template_setup, mt_template_teardown);
    tcase_add_checked_fixture(tc, mt_setup, config_teardown);
    tcase_set_timeout(tc, 300);
    check_add_tests(tc, test_config_sign_always_authenticate_off,
                    test_config_readers_filter, test_debug_log_redacts_pins,
                    test_debug_env_redacts_pins);
    suite_add_tcase(s, tc);
}
