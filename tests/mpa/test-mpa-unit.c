/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of mynacard-mpa's parts that need no card: the framing (the
 * length prefix, a message over the limit refused before anything is
 * read, truncated input), strict base64, the request checks field by
 * field, the card-info PIN format, combination_code against vectors
 * computed apart (Python's hashlib, see the comment there), the uuid file
 * (made 0600, kept, a malformed one refused and left alone) and the error
 * codes.  The card side is tested end to end in tests/system/mpa.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check-run.h"
#include "mpa.h"

const char check_suite_name[] = "mpa";

/* ---- framing ---- */

static FILE *mem(const void *data, size_t len)
{
    /* fmemopen of 0 bytes is refused by glibc; an empty stream then. */
    FILE *f = tmpfile();

    ck_assert_ptr_nonnull(f);
    if (len)
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

START_TEST(test_frame_len_le)
{
    static const uint8_t h[4] = {0x01, 0x02, 0x03, 0x04};

    ck_assert_uint_eq(mpa_frame_len(h), 0x04030201u);
}
END_TEST

START_TEST(test_frame_read_ok_then_eof)
{
    static const uint8_t in[] = {3, 0, 0, 0, '{', '}', ' ', 2, 0, 0, 0, '[', ']'};
    FILE *f = mem(in, sizeof(in));
    uint8_t *buf;
    size_t len;

    ck_assert_int_eq(mpa_frame_read(f, &buf, &len), MPA_FRAME_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(buf, "{} ", 3);
    ck_assert_int_eq(buf[3], 0);
    free(buf);
    ck_assert_int_eq(mpa_frame_read(f, &buf, &len), MPA_FRAME_OK);
    ck_assert_mem_eq(buf, "[]", 2);
    free(buf);
    ck_assert_int_eq(mpa_frame_read(f, &buf, &len), MPA_FRAME_EOF);
    ck_assert_ptr_null(buf);
    fclose(f);
}
END_TEST

/* Each bad stream and what the reader must say. */
static const struct {
    uint8_t in[8];
    size_t len;
    int want;
} bad_frames[] = {
    {{1, 0}, 2, MPA_FRAME_TRUNCATED},                  /* half a length */
    {{5, 0, 0, 0, 'a', 'b'}, 6, MPA_FRAME_TRUNCATED},  /* short message */
    {{0, 0, 0, 0}, 4, MPA_FRAME_EMPTY},
    {{0xFF, 0xFF, 0xFF, 0xFF, 'x'}, 5, MPA_FRAME_TOO_BIG},  /* 4 GiB - 1 */
    {{0x01, 0x00, 0x01, 0x00, 'x'}, 5, MPA_FRAME_TOO_BIG},  /* 64 KiB + 1 */
};

START_TEST(test_frame_read_bad)
{
    FILE *f = mem(bad_frames[_i].in, bad_frames[_i].len);
    uint8_t *buf = (uint8_t *)&buf;
    size_t len = 7;

    ck_assert_int_eq(mpa_frame_read(f, &buf, &len), bad_frames[_i].want);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    /* A refused length is not followed by a read of the message. */
    if (bad_frames[_i].want == MPA_FRAME_TOO_BIG)
        ck_assert_int_eq(fgetc(f), 'x');
    fclose(f);
}
END_TEST

START_TEST(test_frame_limit_exact)
{
    size_t n = MPA_MSG_MAX;
    uint8_t *in = calloc(1, n + 4), *buf;
    size_t len;
    FILE *f;

    ck_assert_ptr_nonnull(in);
    in[0] = (uint8_t)n;
    in[1] = (uint8_t)(n >> 8);
    in[2] = (uint8_t)(n >> 16);
    f = mem(in, n + 4);
    ck_assert_int_eq(mpa_frame_read(f, &buf, &len), MPA_FRAME_OK);
    ck_assert_uint_eq(len, MPA_MSG_MAX);
    free(buf);
    free(in);
    fclose(f);
}
END_TEST

START_TEST(test_frame_write)
{
    FILE *f = tmpfile();
    uint8_t got[16];

    ck_assert_int_eq(mpa_frame_write(f, "{\"a\":1}", 7), 0);
    rewind(f);
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 11);
    ck_assert_mem_eq(got, "\x07\x00\x00\x00{\"a\":1}", 11);
    fclose(f);
}
END_TEST

/* ---- base64 ---- */

static const struct {
    const char *in;
    long want;          /* length, or -1 */
    const char *bytes;
} b64_cases[] = {
    {"AAEC", 3, "\x00\x01\x02"},
    {"AAE=", 2, "\x00\x01"},
    {"AAE", 2, "\x00\x01"},          /* unpadded, as the answers' certificate */
    {"AA==", 1, "\x00"},
    {"AA", 1, "\x00"},
    {"+/+/", 3, "\xfb\xff\xbf"},
    {"", 0, ""},
    {"A", -1, NULL},                 /* one character is no byte */
    {"AA=", -1, NULL},               /* padding that does not fill 4 */
    {"AB==", -1, NULL},              /* leftover bits not zero */
    {"AA==AA==", -1, NULL},          /* padding in the middle */
    {"AAE==", -1, NULL},
    {"AA E", -1, NULL},              /* no whitespace */
    {"AA\nE", -1, NULL},
    {"AA-_", -1, NULL},              /* not base64url */
    {"AAA===", -1, NULL},
};

START_TEST(test_base64)
{
    uint8_t out[8];
    const char *in = b64_cases[_i].in;
    long n = mpa_base64_decode(in, strlen(in), out, sizeof(out));

    ck_assert_int_eq(n, b64_cases[_i].want);
    if (n > 0)
        ck_assert_mem_eq(out, b64_cases[_i].bytes, (size_t)n);
}
END_TEST

START_TEST(test_base64_cap)
{
    uint8_t out[3];

    ck_assert_int_eq(mpa_base64_decode("AAECAw", 6, out, 3), -1);
    ck_assert_int_eq(mpa_base64_decode("AAEC", 4, out, 3), 3);
}
END_TEST

/* ---- card-info PIN ---- */

START_TEST(test_cardinfo_pin)
{
    ck_assert(mpa_cardinfo_pin_ok((const uint8_t *)"0123", 4));
    ck_assert(!mpa_cardinfo_pin_ok((const uint8_t *)"012", 3));
    ck_assert(!mpa_cardinfo_pin_ok((const uint8_t *)"01234", 5));
    ck_assert(!mpa_cardinfo_pin_ok((const uint8_t *)"01a3", 4));
    ck_assert(!mpa_cardinfo_pin_ok((const uint8_t *)"01\0003", 4));
    ck_assert(!mpa_cardinfo_pin_ok((const uint8_t *)"\xef\xbc\x91" "1", 4));
}
END_TEST

/* ---- requests ---- */

static const struct {
    const char *json;
    enum mpa_err want;
    enum mpa_mode mode;    /* rq.mode afterwards */
} req_cases[] = {
    {"{\"mode\":\"check\"}", MPA_OK, MPA_MODE_CHECK},
    {"{\"mode\":\"05\"}", MPA_OK, MPA_MODE_END},
    {"{\"mode\":\"tries\",\"for\":\"01\"}", MPA_OK, MPA_MODE_TRIES},
    {"{\"mode\":\"tries\",\"for\":\"04\"}", MPA_OK, MPA_MODE_TRIES},
    {"{\"mode\":\"tries\",\"for\":\"05\"}", MPA_E_BAD_REQUEST, MPA_MODE_TRIES},
    {"{\"mode\":\"tries\"}", MPA_E_BAD_REQUEST, MPA_MODE_TRIES},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AAEC\",\"pin\":\"1234\"}",
     MPA_OK, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AAEC\",\"pin\":\"1234\",\"extra\":[1]}",
     MPA_OK, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"02\",\"digest\":\"AAEC\",\"pin\":\"1234\"}",
     MPA_E_BAD_SERVICE, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":1,\"digest\":\"AAEC\",\"pin\":\"1234\"}",
     MPA_E_BAD_SERVICE, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"digest\":\"AAEC\",\"pin\":\"1234\"}",
     MPA_E_BAD_SERVICE, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"pin\":\"1234\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"\",\"pin\":\"1234\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"A A\",\"pin\":\"1234\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_AUTH},
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":[\"AAEC\"],\"pin\":\"1234\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_AUTH},   /* an array only in mode 02 */
    {"{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AAEC\"}",
     MPA_E_PIN_MISSING, MPA_MODE_AUTH},
    {"{\"mode\":\"02\",\"service_id\":\"01\",\"digest\":[\"AAEC\",\"AAE\"],\"pin\":\"abc123\"}",
     MPA_OK, MPA_MODE_SIGN},
    {"{\"mode\":\"02\",\"service_id\":\"01\",\"digest\":[],\"pin\":\"abc123\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_SIGN},
    {"{\"mode\":\"02\",\"service_id\":\"01\",\"digest\":[\"AAEC\",7],\"pin\":\"abc123\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_SIGN},
    {"{\"mode\":\"02\",\"service_id\":\"01\",\"digest\":{},\"pin\":\"abc123\"}",
     MPA_E_BAD_DIGEST, MPA_MODE_SIGN},
    {"{\"mode\":\"04\",\"service_id\":\"01\",\"pin\":\"1234\"}", MPA_OK,
     MPA_MODE_CARDINFO},
    {"{\"mode\":\"04\",\"service_id\":\"01\"}", MPA_E_PIN_MISSING,
     MPA_MODE_CARDINFO},
    {"{\"mode\":\"03\"}", MPA_E_BAD_MODE, MPA_MODE_NONE},
    {"{\"mode\":\"01 \"}", MPA_E_BAD_MODE, MPA_MODE_NONE},
    {"{\"mode\":1}", MPA_E_BAD_MODE, MPA_MODE_NONE},
    {"{}", MPA_E_BAD_MODE, MPA_MODE_NONE},
    {"[\"mode\",\"01\"]", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
    {"\"01\"", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
    {"{\"mode\":\"check\"", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
    {"{\"mode\":\"check\"} x", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
    {"{\"mode\":\"check\",\"mode\":\"01\"}", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
    {"{\"mode\":\"ch\xff\"}", MPA_E_BAD_REQUEST, MPA_MODE_NONE},   /* UTF-8 */
    {"{\"mode\":\"check\\u0000\"}", MPA_E_BAD_REQUEST, MPA_MODE_NONE},
};

START_TEST(test_request)
{
    struct mpa_request rq;
    const char *j = req_cases[_i].json;

    ck_assert_int_eq(mpa_request_parse((const uint8_t *)j, strlen(j), &rq),
                     req_cases[_i].want);
    ck_assert_int_eq(rq.mode, req_cases[_i].mode);
    mpa_request_clear(&rq);
}
END_TEST

START_TEST(test_request_fields)
{
    static const char j[] =
        "{\"mode\":\"02\",\"service_id\":\"01\",\"digest\":[\"AAEC\",\"/w\"],"
        "\"pin\":\"abc123\"}";
    struct mpa_request rq;

    ck_assert_int_eq(mpa_request_parse((const uint8_t *)j, strlen(j), &rq),
                     MPA_OK);
    ck_assert_uint_eq(rq.ndigests, 2);
    ck_assert_uint_eq(rq.digest_len[0], 3);
    ck_assert_mem_eq(rq.digest[0], "\x00\x01\x02", 3);
    ck_assert_uint_eq(rq.digest_len[1], 1);
    ck_assert_int_eq(rq.digest[1][0], 0xff);
    ck_assert(rq.has_pin && !rq.pin_too_long);
    ck_assert_uint_eq(rq.pin_len, 6);
    ck_assert_mem_eq(rq.pin, "abc123", 6);
    mpa_request_clear(&rq);
    for (size_t i = 0; i < sizeof(rq); i++)
        ck_assert_int_eq(((uint8_t *)&rq)[i], 0);
}
END_TEST

/* A request with a digest of @n bytes (base64 of n bytes of 'A'). */
static enum mpa_err digest_of(size_t n)
{
    char j[1024], b64[512];
    uint8_t raw[300];
    struct mpa_request rq;
    enum mpa_err e;

    memset(raw, 'A', sizeof(raw));
    ck_assert_uint_le(n, sizeof(raw));
    ck_assert_int_ge(EVP_EncodeBlock((unsigned char *)b64, raw, (int)n), 0);
    snprintf(j, sizeof(j), "{\"mode\":\"01\",\"service_id\":\"01\","
             "\"digest\":\"%s\",\"pin\":\"1234\"}", b64);
    e = mpa_request_parse((const uint8_t *)j, strlen(j), &rq);
    if (e == MPA_OK)
        ck_assert_uint_eq(rq.digest_len[0], n);
    mpa_request_clear(&rq);
    return e;
}

START_TEST(test_request_digest_bounds)
{
    ck_assert_int_eq(digest_of(1), MPA_OK);
    ck_assert_int_eq(digest_of(JPKI_SIGN_INPUT_MAX), MPA_OK);
    ck_assert_int_eq(digest_of(JPKI_SIGN_INPUT_MAX + 1), MPA_E_BAD_DIGEST);
    ck_assert_int_eq(digest_of(300), MPA_E_BAD_DIGEST);
}
END_TEST

START_TEST(test_request_digest_count)
{
    char j[2048];
    size_t off;
    struct mpa_request rq;

    for (size_t n = MPA_DIGESTS_MAX; n <= MPA_DIGESTS_MAX + 1; n++) {
        off = (size_t)snprintf(j, sizeof(j), "{\"mode\":\"02\",\"service_id\":"
                               "\"01\",\"pin\":\"abc123\",\"digest\":[");
        for (size_t i = 0; i < n; i++)
            off += (size_t)snprintf(j + off, sizeof(j) - off, "%s\"AAEC\"",
                                    i ? "," : "");
        snprintf(j + off, sizeof(j) - off, "]}");
        ck_assert_int_eq(mpa_request_parse((const uint8_t *)j, strlen(j), &rq),
                         n <= MPA_DIGESTS_MAX ? MPA_OK : MPA_E_BAD_DIGEST);
        mpa_request_clear(&rq);
    }
}
END_TEST

START_TEST(test_request_pin_shapes)
{
    static const char too_long[] =
        "{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AA\",\"pin\":"
        "\"12345678901234567890123456789012345678901234567890123456789012345\"}";
    static const char number[] =
        "{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AA\",\"pin\":1234}";
    struct mpa_request rq;

    /* Parsed, but marked: the mode answers PIN_FORMAT and sends nothing. */
    ck_assert_int_eq(mpa_request_parse((const uint8_t *)too_long,
                                       strlen(too_long), &rq), MPA_OK);
    ck_assert(rq.has_pin && rq.pin_too_long);
    ck_assert_uint_eq(rq.pin_len, 0);
    mpa_request_clear(&rq);
    ck_assert_int_eq(mpa_request_parse((const uint8_t *)number,
                                       strlen(number), &rq), MPA_OK);
    ck_assert(rq.has_pin && rq.pin_too_long);
    mpa_request_clear(&rq);
}
END_TEST

/* ---- combination_code ---- */

/* Vectors from Python, apart from this code:
 *   m = bytes.fromhex("2e71f6620bc654ced494e5ec34fe03c8")
 *   hashlib.sha256(m + b"AB12345678901" + bytes(range(16))).hexdigest()
 *   hashlib.sha256(m + b"0000000000000" + bytes([0xff] * 16)).hexdigest() */
START_TEST(test_combination_code)
{
    uint8_t uuid[MPA_UUID_LEN];
    char code[65];

    for (size_t i = 0; i < sizeof(uuid); i++)
        uuid[i] = (uint8_t)i;
    mpa_combination_code("AB12345678901", uuid, code);
    ck_assert_str_eq(code, "fce0235e1e7f8f28aec34af7ce51b03d"
                           "41927d2226bd3591b828dc3e8663bbcf");
    memset(uuid, 0xff, sizeof(uuid));
    mpa_combination_code("0000000000000", uuid, code);
    ck_assert_str_eq(code, "d48893604a5b62c2543656e68fd63489"
                           "1872584d957627d1dd3e0da383890d32");
}
END_TEST

START_TEST(test_hex)
{
    char out[7];

    mpa_hex((const uint8_t *)"\x00\xab\xff", 3, out);
    ck_assert_str_eq(out, "00abff");
}
END_TEST

/* ---- the uuid file ---- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("MYNACARD_TEST_TMP");

    if (!base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(tmpdir, sizeof(tmpdir), "%s/mpa-unit.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(test_uuid_path)
{
    char p[512];

    setenv("XDG_CONFIG_HOME", "/x/conf", 1);
    setenv("HOME", "/h", 1);
    ck_assert_int_eq(mpa_uuid_path(p, sizeof(p)), 0);
    ck_assert_str_eq(p, "/x/conf/mynacard/mpa.json");
    setenv("XDG_CONFIG_HOME", "relative", 1);
    ck_assert_int_eq(mpa_uuid_path(p, sizeof(p)), 0);
    ck_assert_str_eq(p, "/h/.config/mynacard/mpa.json");
    unsetenv("XDG_CONFIG_HOME");
    ck_assert_int_eq(mpa_uuid_path(p, sizeof(p)), 0);
    ck_assert_str_eq(p, "/h/.config/mynacard/mpa.json");
    unsetenv("HOME");
    ck_assert_int_eq(mpa_uuid_path(p, sizeof(p)), -1);
}
END_TEST

START_TEST(test_uuid_made_and_kept)
{
    char path[512], text[256], hex[33];
    uint8_t a[MPA_UUID_LEN], b[MPA_UUID_LEN];
    struct stat st;
    FILE *f;
    size_t n;

    make_tmpdir();
    snprintf(path, sizeof(path), "%s/conf/mynacard/mpa.json", tmpdir);
    ck_assert_int_eq(mpa_uuid_load(path, a), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* The file says what the program uses. */
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    mpa_hex(a, sizeof(a), hex);
    ck_assert_ptr_nonnull(strstr(text, "\"uuid\""));
    ck_assert_ptr_nonnull(strstr(text, hex));
    /* Kept: the second load reads the same. */
    ck_assert_int_eq(mpa_uuid_load(path, b), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* Another file gets another uuid (random, 2^-128 to be equal). */
    snprintf(path, sizeof(path), "%s/other.json", tmpdir);
    ck_assert_int_eq(mpa_uuid_load(path, b), 0);
    ck_assert_mem_ne(a, b, sizeof(a));
}
END_TEST

START_TEST(test_uuid_malformed_kept)
{
    static const char *bad[] = {
        "{\"uuid\": \"00112233\"}",
        "{\"uuid\": \"zz112233445566778899aabbccddeeff\"}",
        "{\"uuid\": 5}",
        "not json",
    };
    char path[512], back[128];
    uint8_t u[MPA_UUID_LEN];
    FILE *f;
    size_t n;

    make_tmpdir();
    snprintf(path, sizeof(path), "%s/mpa.json", tmpdir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(bad[i], f);
        fclose(f);
        ck_assert_int_eq(mpa_uuid_load(path, u), -1);
        f = fopen(path, "r");
        n = fread(back, 1, sizeof(back) - 1, f);
        fclose(f);
        back[n] = 0;
        ck_assert_str_eq(back, bad[i]);   /* not replaced */
    }
}
END_TEST

/* ---- errors ---- */

START_TEST(test_errcodes_distinct)
{
    for (int a = MPA_OK; a <= MPA_E_INTERNAL; a++) {
        ck_assert_ptr_nonnull(mpa_message_en(a));
        ck_assert_ptr_nonnull(mpa_message_ja(a));
        for (int b = a + 1; b <= MPA_E_INTERNAL; b++)
            ck_assert_str_ne(mpa_errcode(a), mpa_errcode(b));
    }
    ck_assert_str_eq(mpa_errcode(MPA_E_PIN_INCORRECT), "PIN_INCORRECT");
    ck_assert_str_eq(mpa_errcode(MPA_E_PIN_LOCKED), "PIN_LOCKED");
    ck_assert_str_eq(mpa_errcode(MPA_E_PIN_FORMAT), "PIN_FORMAT");
    ck_assert_str_eq(mpa_errcode(MPA_E_NO_CARD), "NO_CARD");
    ck_assert_str_eq(mpa_errcode(MPA_E_NO_READER), "NO_READER");
    ck_assert_str_eq(mpa_errcode(MPA_E_BAD_REQUEST), "BAD_REQUEST");
}
END_TEST

/* mpa_handle without a card: the answers to requests refused before the
 * card, built by Jansson, parsed back here. */
START_TEST(test_handle_refusals)
{
    static const char req[] = "{\"mode\":\"01\",\"service_id\":\"01\","
                              "\"digest\":\"AAEC\",\"pin\":\"12a4\"}";
    struct mpa_ctx ctx;
    json_error_t jerr;
    json_t *a;
    char *ans;
    bool end;

    memset(&ctx, 0, sizeof(ctx));
    make_tmpdir();
    snprintf(ctx.uuid_path, sizeof(ctx.uuid_path), "%s/mpa.json", tmpdir);
    mpa_handle(&ctx, (const uint8_t *)req, strlen(req), &ans, &end);
    ck_assert(!end);
    ck_assert_ptr_nonnull(ans);
    a = json_loads(ans, 0, &jerr);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(json_string_value(json_object_get(a, "result")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(a, "mode")), "01");
    ck_assert_str_eq(json_string_value(json_object_get(a, "errcode")),
                     "PIN_FORMAT");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(a, "message_ja")));
    ck_assert_ptr_null(json_object_get(a, "tries_left"));
    ck_assert_ptr_null(strstr(ans, "12a4"));
    json_decref(a);
    free(ans);
    mpa_handle(&ctx, (const uint8_t *)"{\"mode\":\"05\"}", 13, &ans, &end);
    ck_assert(end);
    ck_assert_ptr_null(ans);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "mpa");

    check_add_tests(tc, test_frame_len_le, test_frame_read_ok_then_eof);
    tcase_add_loop_test(tc, test_frame_read_bad, 0, CHECK_N(bad_frames));
    check_add_tests(tc, test_frame_limit_exact, test_frame_write);
    tcase_add_loop_test(tc, test_base64, 0, CHECK_N(b64_cases));
    check_add_tests(tc, test_base64_cap, test_cardinfo_pin);
    tcase_add_loop_test(tc, test_request, 0, CHECK_N(req_cases));
    check_add_tests(tc, test_request_fields, test_request_digest_bounds,
                    test_request_digest_count, test_request_pin_shapes,
                    test_combination_code, test_hex, test_uuid_path,
                    test_uuid_made_and_kept, test_uuid_malformed_kept,
                    test_errcodes_distinct, test_handle_refusals);
}
