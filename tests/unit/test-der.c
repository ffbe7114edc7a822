/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of the DER length parser (apdu/der.c): short and long forms,
 * and the hostile headers a broken or malicious card could send.  Pure
 * functions over byte arrays, driven from tables.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "der.h"
#include "myna-err.h"

const char check_suite_name[] = "der";

#define BAD MYNA_E_BAD_RESPONSE

struct der_case {
    const char *name;
    const char *bytes;  /* the start of the element: only these are given */
    size_t max;
    int err;
    size_t hdrlen, total;
};

static const struct der_case elem_cases[] = {
    /* Short form. */
    { "short 0", "30 00", 100, 0, 2, 2 },
    { "short 5", "30 05", 100, 0, 2, 7 },
    { "short 127", "04 7F", 200, 0, 2, 129 },
    { "short, other tag", "02 01 05", 100, 0, 2, 3 },
    /* Long form, 1 to 4 bytes, minimal. */
    { "long 1 byte 128", "30 81 80", 1000, 0, 3, 131 },
    { "long 1 byte 255", "30 81 FF", 1000, 0, 3, 258 },
    { "long 2 bytes 256", "30 82 01 00", 1000, 0, 4, 260 },
    { "long 2 bytes, real certificate", "30 82 05 3A 30 82", 16384, 0, 4,
      1342 },
    { "long 3 bytes", "30 83 01 00 00", 0x20000, 0, 5, 0x10005 },
    { "long 4 bytes", "30 84 01 00 00 00", 0x2000000, 0, 6, 0x1000006 },
#if SIZE_MAX > 0xFFFFFFFFu
    { "long 4 bytes, 0xFFFFFFFF, max SIZE_MAX", "30 84 FF FF FF FF", SIZE_MAX,
      0, 6, (size_t)0xFFFFFFFFu + 6 },
#endif
    { "total equal to max", "30 82 01 00", 260, 0, 4, 260 },
    /* Hostile. */
    { "indefinite 80", "30 80 00 00", 1000, BAD, 0, 0 },
    { "non-minimal 81 05", "30 81 05", 1000, BAD, 0, 0 },
    { "non-minimal 81 7F", "30 81 7F", 1000, BAD, 0, 0 },
    { "non-minimal 82 00 FF", "30 82 00 FF", 1000, BAD, 0, 0 },
    { "non-minimal 82 00 05", "30 82 00 05", 1000, BAD, 0, 0 },
    { "non-minimal 84 00 00 01 00", "30 84 00 00 01 00", 100000, BAD, 0, 0 },
    { "5 length bytes", "30 85 00 00 00 01 00", SIZE_MAX, BAD, 0, 0 },
    { "5 length bytes, leading 01", "30 85 01 00 00 00 00", SIZE_MAX, BAD, 0,
      0 },
    { "reserved FF", "30 FF 01 02 03 04", SIZE_MAX, BAD, 0, 0 },
    { "0xFFFFFFFF beyond max", "30 84 FF FF FF FF", 16384, BAD, 0, 0 },
    { "0xFFFFFFFF, max 0xFFFFFFFF (would wrap)", "30 84 FF FF FF FF",
      0xFFFFFFFFu, BAD, 0, 0 },
    { "total max + 1", "30 82 01 00", 259, BAD, 0, 0 },
    { "short form beyond max", "30 05", 6, BAD, 0, 0 },
    { "max smaller than the header", "30 00", 1, BAD, 0, 0 },
    { "max 0", "30 00", 0, BAD, 0, 0 },
    { "multi-byte tag", "1F 81 01 01 00", 1000, BAD, 0, 0 },
    { "multi-byte context tag", "BF 20 03 01 02 03", 1000, BAD, 0, 0 },
    /* Truncated headers. */
    { "empty", "", 1000, BAD, 0, 0 },
    { "tag only", "30", 1000, BAD, 0, 0 },
    { "81 without its byte", "30 81", 1000, BAD, 0, 0 },
    { "82 with one byte", "30 82 05", 1000, BAD, 0, 0 },
    { "84 with three bytes", "30 84 01 00 00", SIZE_MAX, BAD, 0, 0 },
};

START_TEST(test_element_length)
{
    const struct der_case *c = &elem_cases[_i];
    uint8_t *buf;
    uint8_t tmp[16];
    size_t len, hdrlen = 77, total = 77;
    int err;

    /* The header alone, on the heap with no slack: ASan catches any read
     * past what the card sent. */
    len = check_unhex(c->bytes, tmp, sizeof(tmp));
    buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, tmp, len);
    err = der_element_length(buf, len, c->max, &hdrlen, &total);
    ck_assert_msg(err == c->err, "%s: %d, want %d", c->name, err, c->err);
    if (c->err == 0) {
        ck_assert_uint_eq(hdrlen, c->hdrlen);
        ck_assert_uint_eq(total, c->total);
    }
    free(buf);
}
END_TEST

static const struct der_case cert_cases[] = {
    { "real certificate", "30 82 05 3A 30 82 04 22", 0, 0, 4, 1342 },
    { "short SEQUENCE", "30 03 02 01 00", 0, 0, 2, 5 },
    { "exactly DER_CERT_MAX", "30 82 3F FC", 0, 0, 4, 16384 },
    { "DER_CERT_MAX + 1", "30 82 3F FD", 0, BAD, 0, 0 },
    { "64 KiB", "30 83 01 00 00", 0, BAD, 0, 0 },
    { "0xFFFFFFFF", "30 84 FF FF FF FF", 0, BAD, 0, 0 },
    { "SET, not SEQUENCE", "31 82 05 3A", 0, BAD, 0, 0 },
    { "INTEGER", "02 82 05 3A", 0, BAD, 0, 0 },
    { "primitive 16", "10 82 05 3A", 0, BAD, 0, 0 },
    { "file padding FF", "FF FF FF FF", 0, BAD, 0, 0 },
    { "erased file 00", "00 00 00 00", 0, BAD, 0, 0 },
    { "indefinite", "30 80", 0, BAD, 0, 0 },
    { "non-minimal 82 00 80", "30 82 00 80", 0, BAD, 0, 0 },
    { "truncated", "30 82 05", 0, BAD, 0, 0 },
    { "tag only", "30", 0, BAD, 0, 0 },
    { "empty", "", 0, BAD, 0, 0 },
};

START_TEST(test_cert_length)
{
    const struct der_case *c = &cert_cases[_i];
    uint8_t *buf;
    uint8_t tmp[16];
    size_t len, total = 77;
    int err;

    len = check_unhex(c->bytes, tmp, sizeof(tmp));
    buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, tmp, len);
    err = der_cert_length(buf, len, &total);
    ck_assert_msg(err == c->err, "%s: %d, want %d", c->name, err, c->err);
    if (c->err == 0)
        ck_assert_uint_eq(total, c->total);
    free(buf);
}
END_TEST

START_TEST(test_args)
{
    const uint8_t b[] = { 0x30, 0x00 };
    size_t h, t;

    ck_assert_int_eq(der_element_length(NULL, 2, 10, &h, &t), MYNA_E_ARGS);
    ck_assert_int_eq(der_element_length(b, 2, 10, NULL, &t), MYNA_E_ARGS);
    ck_assert_int_eq(der_element_length(b, 2, 10, &h, NULL), MYNA_E_ARGS);
    ck_assert_int_eq(der_cert_length(NULL, 2, &t), MYNA_E_ARGS);
    ck_assert_int_eq(der_cert_length(b, 2, NULL), MYNA_E_ARGS);
}
END_TEST

/*
 * Every 1- to 6-byte header over a spread of byte values: whatever is
 * accepted must describe exactly what the bytes say and stay within max.
 */
START_TEST(test_element_length_exhaustive_short)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x05, 0x7F, 0x80, 0x81,
                                    0x82, 0x83, 0x84, 0x85, 0xFF };
    const size_t nv = sizeof(vals) / sizeof(vals[0]);
    uint8_t buf[6] = { 0x30 };
    size_t idx[5] = { 0 }, len, h, t, i, k, accepted = 0;

    for (len = 1; len <= 6; len++) {
        memset(idx, 0, sizeof(idx));
        for (;;) {
            for (i = 1; i < len; i++)
                buf[i] = vals[idx[i - 1]];
            if (der_element_length(buf, len, 100000, &h, &t) == 0) {
                size_t want = 0;

                accepted++;
                ck_assert_uint_le(h, len);
                ck_assert_uint_le(t, 100000);
                if (buf[1] < 0x80) {
                    ck_assert_uint_eq(h, 2);
                    want = buf[1];
                } else {
                    ck_assert_uint_eq(h, 2 + (buf[1] & 0x7F));
                    for (k = 2; k < h; k++)
                        want = (want << 8) | buf[k];
                    ck_assert_uint_ge(want, 0x80);
                    ck_assert_uint_ne(buf[2], 0);
                }
                ck_assert_uint_eq(t, h + want);
            }
            /* Next combination of the len - 1 bytes after the tag. */
            for (k = 0; k + 1 < len; k++) {
                if (++idx[k] < nv)
                    break;
                idx[k] = 0;
            }
            if (k + 1 >= len)
                break;
        }
    }
    ck_assert_uint_gt(accepted, 0);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "element");
    tcase_add_loop_test(tc, test_element_length, 0, CHECK_N(elem_cases));
    check_add_tests(tc, test_element_length_exhaustive_short, test_args);

    tc = check_tcase(s, "certificate");
    tcase_add_loop_test(tc, test_cert_length, 0, CHECK_N(cert_cases));
}
