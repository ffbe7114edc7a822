/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of mynacard-tool's pure parts (tool/): the PIN format check
 * that stands before the card, the expiry classification behind the
 * 90-day warning, JSON string escaping of untrusted card text (control
 * characters, invalid UTF-8), the terminal sanitiser, and the holder's
 * facts read from a signature certificate's subjectAltName otherNames
 * (1.2.392.200149.8.5.5.1 to .6), over certificates made here with
 * OpenSSL.  Table-driven where there are tables.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check-run.h"
#include "myna-err.h"
#include "tool.h"

const char check_suite_name[] = "tool";

/* The library's output code reads the options main.c owns. */
struct tool_opts tool_opt;

/* ---- PIN format ---- */

struct pin_case {
    enum jpki_role role;
    const char *pin;
    int rc;
    const char *norm;   /* expected normalised PIN when rc is TOOL_OK */
};

static const struct pin_case pin_cases[] = {
    { JPKI_AUTH, "1234", TOOL_OK, "1234" },
    { JPKI_AUTH, "0000", TOOL_OK, "0000" },
    { JPKI_AUTH, "123", TOOL_EFORMAT, NULL },
    { JPKI_AUTH, "12345", TOOL_EFORMAT, NULL },
    { JPKI_AUTH, "12a4", TOOL_EFORMAT, NULL },
    { JPKI_AUTH, "12 4", TOOL_EFORMAT, NULL },
    { JPKI_AUTH, "", TOOL_EFORMAT, NULL },
    { JPKI_SIGN, "ABC123", TOOL_OK, "ABC123" },
    { JPKI_SIGN, "abc123", TOOL_OK, "ABC123" },   /* folded, as the card wants */
    { JPKI_SIGN, "123456", TOOL_OK, "123456" },
    { JPKI_SIGN, "ABCDEFGHIJKLMNOP", TOOL_OK, "ABCDEFGHIJKLMNOP" },
    { JPKI_SIGN, "ABCDEFGHIJKLMNOPQ", TOOL_EFORMAT, NULL },
    { JPKI_SIGN, "ABC12", TOOL_EFORMAT, NULL },
    { JPKI_SIGN, "ABC-123", TOOL_EFORMAT, NULL },
    { JPKI_SIGN, "ABC 123", TOOL_EFORMAT, NULL },
    { JPKI_SIGN, "\xc3\x84" "BC123", TOOL_EFORMAT, NULL },
};

START_TEST(test_pin_format)
{
    const struct pin_case *c = &pin_cases[_i];
    uint8_t norm[JPKI_PIN_MAX];
    size_t normlen = 0;
    const char *why = "unset";
    int rc;

    rc = pin_check_format(c->role, c->pin, strlen(c->pin), norm, &normlen,
                          &why);
    ck_assert_msg(rc == c->rc, "\"%s\": rc %d, want %d", c->pin, rc, c->rc);
    if (rc == TOOL_OK) {
        ck_assert_ptr_null(why);
        ck_assert_uint_eq(normlen, strlen(c->norm));
        ck_assert(memcmp(norm, c->norm, normlen) == 0);
    } else {
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_nonnull(strstr(why, c->role == JPKI_AUTH ? "4 digits"
                                                               : "6 to 16"));
    }
}
END_TEST

START_TEST(test_pin_role_parse)
{
    ck_assert_int_eq(pin_role_parse("auth"), JPKI_AUTH);
    ck_assert_int_eq(pin_role_parse("sign"), JPKI_SIGN);
    ck_assert_int_eq(pin_role_parse("AUTH"), -1);
    ck_assert_int_eq(pin_role_parse(""), -1);
    ck_assert_int_eq(pin_role_max(JPKI_AUTH), 3);
    ck_assert_int_eq(pin_role_max(JPKI_SIGN), 5);
}
END_TEST

/* ---- Expiry ---- */

#define DAY 86400LL
#define NOW 1800000000LL

struct exp_case {
    const char *name;
    long long nb, na;        /* relative to NOW, seconds */
    enum tool_expiry want;
    long long days;
};

static const struct exp_case exp_cases[] = {
    { "five years left", -DAY, 5 * 365 * DAY, TOOL_EXP_VALID, 5 * 365 },
    { "91 days left", -DAY, 91 * DAY, TOOL_EXP_VALID, 91 },
    { "90 days and 1 s left", -DAY, 90 * DAY + 1, TOOL_EXP_VALID, 90 },
    { "exactly 90 days left", -DAY, 90 * DAY, TOOL_EXP_EXPIRING, 90 },
    { "30 days left", -DAY, 30 * DAY, TOOL_EXP_EXPIRING, 30 },
    { "one second left", -DAY, 1, TOOL_EXP_EXPIRING, 0 },
    { "ends now", -DAY, 0, TOOL_EXP_EXPIRED, 0 },
    { "ended a second ago", -DAY, -1, TOOL_EXP_EXPIRED, -1 },
    { "ended a day ago", -10 * DAY, -DAY, TOOL_EXP_EXPIRED, -1 },
    { "ended 400 days ago", -800 * DAY, -400 * DAY - 5, TOOL_EXP_EXPIRED, -401 },
    { "starts tomorrow", DAY, 100 * DAY, TOOL_EXP_NOT_YET_VALID, 100 },
};

START_TEST(test_expiry)
{
    const struct exp_case *c = &exp_cases[_i];
    long long days = 12345;
    enum tool_expiry e;

    e = tool_expiry_classify((time_t)(NOW + c->nb), (time_t)(NOW + c->na),
                             (time_t)NOW, &days);
    ck_assert_msg(e == c->want, "%s: %s, want %s", c->name,
                  tool_expiry_name(e), tool_expiry_name(c->want));
    ck_assert_msg(days == c->days, "%s: %lld days, want %lld", c->name, days,
                  c->days);
}
END_TEST

/* ---- JSON escaping ---- */

struct json_case {
    const char *in;
    size_t len;          /* 0: strlen */
    const char *want;
};

#define FFFD "\xef\xbf\xbd"

static const struct json_case json_cases[] = {
    { "plain", 0, "\"plain\"" },
    { "", 0, "\"\"" },
    { "a\"b\\c", 0, "\"a\\\"b\\\\c\"" },
    { "line\nnext\ttab\r", 0, "\"line\\nnext\\ttab\\r\"" },
    /* Jansson's escapes: uppercase hex; DEL is no JSON control character
     * and stays as it is. */
    { "\x01\x1f\x7f", 0, "\"\\u0001\\u001F\x7f\"" },
    { "\x1b[31mred", 0, "\"\\u001B[31mred\"" },
    { "\xe5\xb1\xb1\xe7\x94\xb0", 0, "\"\xe5\xb1\xb1\xe7\x94\xb0\"" },   /* 山田 */
    { "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"" },                 /* U+1F600 */
    /* U+FFFD as Jansson writes it: the UTF-8 bytes EF BF BD. */
    { "a\xff" "b", 0, "\"a" FFFD "b\"" },
    { "\xc0\x80", 0, "\"" FFFD FFFD "\"" },               /* overlong NUL */
    { "\xe0\x80\x80", 0, "\"" FFFD FFFD FFFD "\"" },    /* overlong */
    { "\xed\xa0\x80", 0, "\"" FFFD FFFD FFFD "\"" },    /* surrogate */
    { "\xf4\x90\x80\x80", 0, "\"" FFFD FFFD FFFD FFFD "\"" }, /* > U+10FFFF */
    { "\xe5\xb1", 0, "\"" FFFD FFFD "\"" },               /* cut short */
    { "a\0b", 3, "\"a\\u0000b\"" },
};

START_TEST(test_json_escape)
{
    const struct json_case *c = &json_cases[_i];
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);

    ck_assert_ptr_nonnull(fp);
    json_write_string(fp, c->in, c->len ? c->len : strlen(c->in));
    fclose(fp);
    ck_assert_msg(!strcmp(buf, c->want), "case %d: got %s, want %s", _i, buf,
                  c->want);
    free(buf);
}
END_TEST

START_TEST(test_text_sanitize)
{
    char out[16];

    text_sanitize("\x1b]0;pwned\x07ok", out, sizeof(out));
    ck_assert_str_eq(out, "?]0;pwned?ok");
    text_sanitize("0123456789abcdefXYZ", out, sizeof(out));
    ck_assert_str_eq(out, "0123456789abcde");     /* bounded */
    text_sanitize("\xe5\xb1\xb1", out, sizeof(out));
    ck_assert_str_eq(out, "\xe5\xb1\xb1");        /* UTF-8 kept */
    text_sanitize(NULL, out, sizeof(out));
    ck_assert_str_eq(out, "");
}
END_TEST

/* ---- Certificates ---- */

/* Add an otherName OID = UTF8String(@val) to @gens. */
static void add_othername(GENERAL_NAMES *gens, const char *oid,
                          const char *val, size_t len)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_TYPE *v = ASN1_TYPE_new();
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);

    ck_assert(g && v && s && o);
    ck_assert(ASN1_STRING_set(s, val, (int)len) == 1);
    ASN1_TYPE_set(v, V_ASN1_UTF8STRING, s);
    ck_assert(GENERAL_NAME_set0_othername(g, o, v) == 1);
    ck_assert(sk_GENERAL_NAME_push(gens, g) > 0);
}

/* A self-signed certificate; with @san, the JPKI holder's facts (and an
 * unrelated otherName, a DNS name and an over-long address).  DER in
 * *@der (freed by the caller). */
static size_t make_cert(bool san, long serial, time_t nb, time_t na,
                        uint8_t **der)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    int len;

    ck_assert(key && x && n);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), nb);
    ASN1_TIME_set(X509_getm_notAfter(x), na);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "L", MBSTRING_UTF8,
                               (const unsigned char *)"\xe5\x8d\x83\xe4\xbb\xa3\xe7\x94\xb0\xe5\x8c\xba", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"TESTCN0001", -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    if (san) {
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        GENERAL_NAME *dns = GENERAL_NAME_new();
        ASN1_IA5STRING *d = ASN1_IA5STRING_new();
        char longaddr[2000];

        memset(longaddr, 'A', sizeof(longaddr));
        add_othername(gens, "1.2.392.200149.8.5.5.1", "\xe5\xb1\xb1\xe7\x94\xb0 \xe8\x8a\xb1\xe5\xad\x90", 13);
        add_othername(gens, "1.2.3.4", "not ours", 8);
        add_othername(gens, "1.2.392.200149.8.5.5.3", "2", 1);
        add_othername(gens, "1.2.392.200149.8.5.5.4", "419900101", 9);
        add_othername(gens, "1.2.392.200149.8.5.5.6", longaddr, sizeof(longaddr));
        add_othername(gens, "1.2.392.200149.8.5.5.51", "not a field", 11);
        ASN1_STRING_set(d, "example.jp", -1);
        GENERAL_NAME_set0_value(dns, GEN_DNS, d);
        sk_GENERAL_NAME_push(gens, dns);
        ck_assert(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1);
        GENERAL_NAMES_free(gens);
    }
    ck_assert(X509_sign(x, key, EVP_sha256()) > 0);
    *der = NULL;
    len = i2d_X509(x, der);
    ck_assert_int_gt(len, 0);
    X509_NAME_free(n);
    X509_free(x);
    EVP_PKEY_free(key);
    return (size_t)len;
}

START_TEST(test_cert_personal)
{
    struct tool_personal p;
    uint8_t *der;
    size_t len = make_cert(true, 1, NOW, NOW + 10 * DAY, &der);
    char buf[32];

    ck_assert_int_eq(tool_cert_personal(der, len, &p), 0);
    ck_assert_str_eq(p.name, "\xe5\xb1\xb1\xe7\x94\xb0 \xe8\x8a\xb1\xe5\xad\x90");
    ck_assert_str_eq(p.sex, "2");
    ck_assert_str_eq(p.birth, "419900101");
    ck_assert_str_eq(p.address, "");
    /* .1 .3 .4 .6 seen, .2 and .5 not; .51 and 1.2.3.4 ignored. */
    ck_assert_uint_eq(p.found, 0x01u | 0x04u | 0x08u | 0x20u);
    /* The over-long value is cut to the field, and terminated. */
    ck_assert_uint_eq(strlen(p.address_alt), TOOL_PERSONAL_MAX - 1);
    ck_assert_str_eq(tool_sex_name(p.sex, buf, sizeof(buf)), "female");
    ck_assert_str_eq(tool_sex_name("1", buf, sizeof(buf)), "male");
    ck_assert_str_eq(tool_sex_name("9", buf, sizeof(buf)), "other (9)");
    ck_assert_str_eq(tool_birth_date(p.birth, buf, sizeof(buf)), "1990-01-01");
    ck_assert_str_eq(tool_birth_date("4199", buf, sizeof(buf)), "4199");
    ck_assert_str_eq(tool_birth_date("41990010x", buf, sizeof(buf)), "41990010x");
    OPENSSL_free(der);
}
END_TEST

START_TEST(test_cert_no_san)
{
    struct tool_personal p;
    uint8_t *der;
    size_t len = make_cert(false, 1, NOW, NOW + 10 * DAY, &der);

    ck_assert_int_eq(tool_cert_personal(der, len, &p), 0);
    ck_assert_uint_eq(p.found, 0);
    ck_assert_str_eq(p.name, "");
    OPENSSL_free(der);
}
END_TEST

START_TEST(test_cert_garbage)
{
    static const uint8_t junk[] = { 0x30, 0x82, 0x05, 0x00, 0x01, 0x02 };
    struct tool_personal p;
    struct tool_cert_facts f;
    uint8_t *der;
    size_t len = make_cert(true, 1, NOW, NOW + 10 * DAY, &der);

    ck_assert_int_eq(tool_cert_personal(junk, sizeof(junk), &p),
                     MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(tool_cert_facts(junk, sizeof(junk), NOW, &f),
                     MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(tool_cert_facts(NULL, 0, NOW, &f), MYNA_E_BAD_RESPONSE);
    /* A real certificate cut short is refused, never read past. */
    ck_assert_int_eq(tool_cert_facts(der, len - 1, NOW, &f),
                     MYNA_E_BAD_RESPONSE);
    OPENSSL_free(der);
}
END_TEST

START_TEST(test_cert_facts)
{
    struct tool_cert_facts f;
    uint8_t *der;
    /* 2030-01-02 03:04:05 UTC is 1893553445. */
    size_t len = make_cert(false, 0x123456, 1893553445 - 100 * DAY,
                           1893553445, &der);

    ck_assert_int_eq(tool_cert_facts(der, len, 1893553445 - 30 * DAY, &f), 0);
    ck_assert_str_eq(f.serial, "12:34:56");
    ck_assert_str_eq(f.not_after, "2030-01-02 03:04:05 UTC");
    ck_assert_int_eq(f.expiry, TOOL_EXP_EXPIRING);
    ck_assert_int_eq(f.days_left, 30);
    ck_assert_ptr_nonnull(strstr(f.subject, "CN = TESTCN0001"));
    /* UTF-8 names stay UTF-8, not \\XX escapes. */
    ck_assert_ptr_nonnull(strstr(f.subject, "L = \xe5\x8d\x83\xe4\xbb\xa3\xe7\x94\xb0\xe5\x8c\xba"));
    ck_assert_str_eq(f.subject, f.issuer);
    ck_assert_int_eq(tool_cert_facts(der, len, 1893553445 + 1, &f), 0);
    ck_assert_int_eq(f.expiry, TOOL_EXP_EXPIRED);
    OPENSSL_free(der);

    len = make_cert(false, 0x12345, NOW, NOW + DAY, &der);
    ck_assert_int_eq(tool_cert_facts(der, len, NOW, &f), 0);
    ck_assert_str_eq(f.serial, "01:23:45");
    OPENSSL_free(der);
}
END_TEST

/* Every text myna_strerror gives (each code of the enum, and one past
 * it) has its line in tool/i18n.c's table, word for word, so that people
 * read it in their language; without a catalog it is the English. */
START_TEST(test_strerror_table)
{
    for (int err = MYNA_OK; err >= MYNA_E_MEMORY_FAILURE - 1; err--) {
        const char *msgid = tool_strerror_msgid(err);

        ck_assert_msg(msgid != NULL, "error %d (%s) has no translatable text",
                      err, myna_strerror(err));
        ck_assert_str_eq(msgid, myna_strerror(err));
        ck_assert_str_eq(tool_strerror(err), myna_strerror(err));
    }
}
END_TEST

/* D_(): under --json the English msgid itself, whatever the locale. */
START_TEST(test_doc_text_json)
{
    static const char msgid[] = "pcscd is running";

    tool_opt.json = true;
    ck_assert_ptr_eq(D_(msgid), msgid);
    ck_assert_str_eq(DN_("%u problem", "%u problems", 1), "%u problem");
    ck_assert_str_eq(DN_("%u problem", "%u problems", 2), "%u problems");
    tool_opt.json = false;
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "pure");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_pin_format, 0, CHECK_N(pin_cases));
    tcase_add_test(tc, test_pin_role_parse);
    tcase_add_loop_test(tc, test_expiry, 0, CHECK_N(exp_cases));
    tcase_add_loop_test(tc, test_json_escape, 0, CHECK_N(json_cases));
    check_add_tests(tc, test_text_sanitize, test_cert_personal,
                    test_cert_no_san, test_cert_garbage, test_cert_facts,
                    test_strerror_table, test_doc_text_json);
}
