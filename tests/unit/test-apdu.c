/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of the APDU codec (apdu/apdu.c), the error texts (err.c) and
 * the APDU log (log.c).  Pure functions are driven from tables; the
 * exchange (apdu_transmit) runs against scripted cards behind the callback
 * transport, and against a lying transport written here.  Links only the
 * card layer; no PC/SC.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "check-run.h"
#include "log.h"
#include "myna-err.h"
#include "transport.h"

const char check_suite_name[] = "apdu";

/* ---- Helpers ---- */

static void tohex(const uint8_t *buf, size_t len, char *out, size_t cap)
{
    size_t i, pos = 0;

    out[0] = '\0';
    for (i = 0; i < len && pos + 4 <= cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, i ? " %02X" : "%02X",
                                buf[i]);
}

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 7 + 0x5A) & 0xFF);
}

/* Every log line while a test has the sink installed. */
static char logbuf[1 << 16];
static struct check_log logc = { logbuf, sizeof(logbuf), 0 };

static void log_capture_start(void)
{
    logc.len = 0;
    logbuf[0] = '\0';
    myna_log_set(MYNA_LOG_APDU, check_log_sink, &logc);
}

/* Each test leaves logging off, also under CK_FORK=no. */
static void log_teardown(void)
{
    myna_log_set(MYNA_LOG_OFF, NULL, NULL);
}

/* ---- apdu_encode, byte-exact; apdu_decode gives each one back ---- */

struct enc_case {
    const char *name;
    size_t lc, le;
    bool extended;
    const char *head;   /* header and Lc, before the data */
    const char *tail;   /* Le, after the data */
};

static const struct enc_case enc_cases[] = {
    { "case 1", 0, 0, false, "00 A4 04 0C", "" },
    { "case 1 with extended set has no length", 0, 0, true, "00 A4 04 0C", "" },
    { "case 2S Le 1", 0, 1, false, "00 A4 04 0C", "01" },
    { "case 2S Le 255", 0, 255, false, "00 A4 04 0C", "FF" },
    { "case 2S Le 256 is 00", 0, 256, false, "00 A4 04 0C", "00" },
    { "case 2E Le 257", 0, 257, false, "00 A4 04 0C", "00 01 01" },
    { "case 2E Le 65535", 0, 65535, false, "00 A4 04 0C", "00 FF FF" },
    { "case 2E Le 65536 is 00 00", 0, 65536, false, "00 A4 04 0C", "00 00 00" },
    { "case 2E forced, Le 1", 0, 1, true, "00 A4 04 0C", "00 00 01" },
    { "case 2E forced, Le 256", 0, 256, true, "00 A4 04 0C", "00 01 00" },
    { "case 3S Lc 1", 1, 0, false, "00 A4 04 0C 01", "" },
    { "case 3S Lc 255", 255, 0, false, "00 A4 04 0C FF", "" },
    { "case 3E Lc 256", 256, 0, false, "00 A4 04 0C 00 01 00", "" },
    { "case 3E Lc 65535", 65535, 0, false, "00 A4 04 0C 00 FF FF", "" },
    { "case 3E forced, Lc 2", 2, 0, true, "00 A4 04 0C 00 00 02", "" },
    { "case 4S Lc 3 Le 1", 3, 1, false, "00 A4 04 0C 03", "01" },
    { "case 4S Lc 255 Le 256", 255, 256, false, "00 A4 04 0C FF", "00" },
    { "case 4E Lc 256 Le 256", 256, 256, false, "00 A4 04 0C 00 01 00", "01 00" },
    { "case 4E Lc 1 Le 257", 1, 257, false, "00 A4 04 0C 00 00 01", "01 01" },
    { "case 4E Lc 1 Le 65536", 1, 65536, false, "00 A4 04 0C 00 00 01", "00 00" },
    { "case 4E Lc 65535 Le 65536", 65535, 65536, false, "00 A4 04 0C 00 FF FF", "00 00" },
    { "case 4E forced, Lc 5 Le 5", 5, 5, true, "00 A4 04 0C 00 00 05", "00 05" },
};

static size_t enc_expected(const struct enc_case *c, uint8_t *out, size_t cap)
{
    size_t n, i;

    n = check_unhex(c->head, out, cap);
    ck_assert_uint_le(n + c->lc, cap);
    for (i = 0; i < c->lc; i++)
        out[n++] = pattern_byte(i);
    n += check_unhex(c->tail, out + n, cap - n);
    return n;
}

START_TEST(test_encode_byte_exact)
{
    const struct enc_case *c = &enc_cases[_i];
    static uint8_t data[APDU_EXT_LC_MAX], want[APDU_CMD_MAX], got[APDU_CMD_MAX];
    struct apdu a = { 0x00, 0xA4, 0x04, 0x0C, NULL, 0, 0, false, false };
    size_t wantlen, gotlen = 0, i;

    for (i = 0; i < c->lc; i++)
        data[i] = pattern_byte(i);
    a.data = c->lc ? data : NULL;
    a.lc = c->lc;
    a.le = c->le;
    a.extended = c->extended;
    wantlen = enc_expected(c, want, sizeof(want));

    /* Exactly the room it needs is enough ... */
    ck_assert_int_eq(apdu_encode(&a, got, wantlen, &gotlen), 0);
    ck_assert_msg(gotlen == wantlen, "%s: length %zu, want %zu", c->name,
                  gotlen, wantlen);
    ck_assert_msg(memcmp(got, want, wantlen) == 0, "%s: bytes differ", c->name);
    /* ... and one byte less is not, without writing past the end. */
    memset(got, 0xEE, sizeof(got));
    ck_assert_int_eq(apdu_encode(&a, got, wantlen - 1, &gotlen),
                     MYNA_E_BUFFER_SMALL);
    ck_assert_uint_eq(got[wantlen - 1], 0xEE);
}
END_TEST

START_TEST(test_decode_roundtrip)
{
    const struct enc_case *c = &enc_cases[_i];
    static uint8_t buf[APDU_CMD_MAX];
    uint8_t head[16];
    struct apdu a;
    size_t len;

    len = enc_expected(c, buf, sizeof(buf));
    ck_assert_msg(apdu_decode(buf, len, &a) == 0, "%s: refused", c->name);
    ck_assert_uint_eq(a.cla, 0x00);
    ck_assert_uint_eq(a.ins, 0xA4);
    ck_assert_uint_eq(a.p1, 0x04);
    ck_assert_uint_eq(a.p2, 0x0C);
    ck_assert_uint_eq(a.lc, c->lc);
    ck_assert_uint_eq(a.le, c->le);
    if (c->lc > 0)  /* the data sit right after header and Lc */
        ck_assert_ptr_eq(a.data,
                         buf + check_unhex(c->head, head, sizeof(head)));
    else
        ck_assert_ptr_null(a.data);
    /* Case 1 has no lengths to be extended; every other case must say. */
    if (c->lc > 0 || c->le > 0)
        ck_assert_int_eq(a.extended,
                         c->extended || c->lc > 255 || c->le > 256);
    ck_assert(!a.secret);
}
END_TEST

START_TEST(test_encode_rejects_impossible)
{
    static uint8_t data[APDU_EXT_LC_MAX + 1];
    static uint8_t out[APDU_CMD_MAX + 16];
    struct apdu a = { 0x00, 0xB0, 0x00, 0x00, NULL, 0, 0, false, false };
    size_t len = 0;

    a.data = data;
    a.lc = APDU_EXT_LC_MAX + 1;
    ck_assert_int_eq(apdu_encode(&a, out, sizeof(out), &len), MYNA_E_ARGS);
    a.lc = 0;
    a.data = NULL;
    a.le = APDU_EXT_LE_MAX + 1;
    ck_assert_int_eq(apdu_encode(&a, out, sizeof(out), &len), MYNA_E_ARGS);
    a.le = 0;
    a.lc = 1;
    ck_assert_int_eq(apdu_encode(&a, out, sizeof(out), &len), MYNA_E_ARGS);
    ck_assert_int_eq(apdu_encode(NULL, out, sizeof(out), &len), MYNA_E_ARGS);
    a.lc = 0;
    ck_assert_int_eq(apdu_encode(&a, out, sizeof(out), NULL), MYNA_E_ARGS);
    ck_assert_int_eq(apdu_encode(&a, out, 3, &len), MYNA_E_BUFFER_SMALL);
    ck_assert_int_eq(apdu_encode(&a, NULL, 0, &len), MYNA_E_BUFFER_SMALL);
}
END_TEST

/* ---- apdu_decode refuses malformed lengths ---- */

static const char *const decode_bad[] = {
    "",
    "00",
    "00 A4",
    "00 A4 04",
    "00 A4 04 0C 02 AA",              /* Lc 2, one byte of data */
    "00 A4 04 0C 01 AA BB CC",        /* Lc 1, two bytes too many */
    "00 A4 04 0C 03 AA BB CC DD EE",  /* Lc 3 and two Le bytes */
    "00 A4 04 0C 00 00",              /* extended marker, one byte */
    "00 A4 04 0C 00 00 00 00",        /* extended Lc 0 and a byte */
    "00 A4 04 0C 00 00 00 AA BB",     /* extended Lc 0 with data */
    "00 A4 04 0C 00 00 02 AA",        /* extended Lc 2, one byte */
    "00 A4 04 0C 00 00 01 AA BB",     /* case 4E with a one-byte Le */
    "00 A4 04 0C 00 00 01 AA BB CC DD", /* two bytes too many */
    "00 2A 00 80 01 AA 00 00",        /* short Lc, extended Le */
    "00 A4 04 0C FF 00",              /* Lc 255, one byte */
};

START_TEST(test_decode_rejects)
{
    uint8_t buf[64];
    struct apdu a;
    size_t len;

    len = check_unhex(decode_bad[_i], buf, sizeof(buf));
    memset(&a, 0x55, sizeof(a));
    ck_assert_msg(apdu_decode(buf, len, &a) == MYNA_E_BAD_RESPONSE,
                  "accepted \"%s\"", decode_bad[_i]);
    /* A refused APDU leaves nothing that points into the input. */
    ck_assert_ptr_null(a.data);
    ck_assert_uint_eq(a.lc, 0);
}
END_TEST

/*
 * Every accepted input is canonical: encoding what decode found gives the
 * same bytes back.  Short random buffers exercise the length boundaries.
 */
START_TEST(test_decode_canonical_random)
{
    uint8_t buf[24], out[64];
    struct apdu a;
    size_t len, outlen, i;
    unsigned seed = 12345, accepted = 0, round;

    for (round = 0; round < 200000; round++) {
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof(buf);
        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
            /* Small length bytes make well-formed APDUs likely. */
            if (i >= 4 && i <= 6 && (seed & 0x300))
                buf[i] = (uint8_t)((seed >> 20) % 20);
        }
        if (apdu_decode(buf, len, &a) < 0)
            continue;
        accepted++;
        ck_assert_int_eq(apdu_encode(&a, out, sizeof(out), &outlen), 0);
        ck_assert_msg(outlen == len && memcmp(out, buf, len) == 0,
                      "not canonical, round %u, length %zu", round, len);
    }
    ck_assert_uint_gt(accepted, 1000);
}
END_TEST

/* ---- Status words ---- */

struct sw_case {
    uint16_t sw;
    int err;
    int tries;
};

static const struct sw_case sw_cases[] = {
    { 0x9000, 0, -1 },
    { 0x63C0, MYNA_E_PIN_LOCKED, 0 },
    { 0x63C1, MYNA_E_PIN_INCORRECT, 1 },
    { 0x63C2, MYNA_E_PIN_INCORRECT, 2 },
    { 0x63C5, MYNA_E_PIN_INCORRECT, 5 },
    { 0x63CF, MYNA_E_PIN_INCORRECT, 15 },
    { 0x6300, MYNA_E_CARD, -1 },
    { 0x6381, MYNA_E_CARD, -1 },
    { 0x63B3, MYNA_E_CARD, -1 },
    { 0x6983, MYNA_E_PIN_LOCKED, -1 },
    { 0x6984, MYNA_E_PIN_LOCKED, -1 },
    { 0x6982, MYNA_E_SECURITY, -1 },
    { 0x6A82, MYNA_E_NOT_FOUND, -1 },
    { 0x6700, MYNA_E_WRONG_LENGTH, -1 },
    { 0x6B00, MYNA_E_OFFSET, -1 },
    { 0x6D00, MYNA_E_INS, -1 },
    { 0x6E00, MYNA_E_CLA, -1 },
    { 0x6A80, MYNA_E_P1P2, -1 },
    { 0x6A81, MYNA_E_P1P2, -1 },
    { 0x6A86, MYNA_E_P1P2, -1 },
    { 0x6985, MYNA_E_CONDITIONS, -1 },
    { 0x6581, MYNA_E_MEMORY_FAILURE, -1 },
    { 0x6100, MYNA_E_BAD_RESPONSE, -1 },
    { 0x6110, MYNA_E_BAD_RESPONSE, -1 },
    { 0x6C00, MYNA_E_BAD_RESPONSE, -1 },
    { 0x6C10, MYNA_E_BAD_RESPONSE, -1 },
    { 0x6200, MYNA_E_CARD, -1 },
    { 0x6283, MYNA_E_CARD, -1 },
    { 0x6A83, MYNA_E_CARD, -1 },
    { 0x6986, MYNA_E_CARD, -1 },
    { 0x6F00, MYNA_E_CARD, -1 },
    { 0x6400, MYNA_E_CARD, -1 },
    { 0x9001, MYNA_E_CARD, -1 },
    { 0x0000, MYNA_E_CARD, -1 },
    { 0xFFFF, MYNA_E_CARD, -1 },
};

START_TEST(test_sw_mapping)
{
    const struct sw_case *c = &sw_cases[_i];

    ck_assert_msg(apdu_sw_to_err(c->sw) == c->err, "SW %04X gives %d, want %d",
                  c->sw, apdu_sw_to_err(c->sw), c->err);
    ck_assert_msg(apdu_sw_tries_left(c->sw) == c->tries,
                  "SW %04X tries %d, want %d", c->sw,
                  apdu_sw_tries_left(c->sw), c->tries);
}
END_TEST

START_TEST(test_split_response)
{
    const uint8_t r[] = { 0xAA, 0xBB, 0xCC, 0x63, 0xC2 };
    uint16_t sw = 0;
    size_t dl = 99;

    ck_assert_int_eq(apdu_split_response(r, 0, &sw, &dl), MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(apdu_split_response(r, 1, &sw, &dl), MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(apdu_split_response(r + 3, 2, &sw, &dl), 0);
    ck_assert_uint_eq(sw, 0x63C2);
    ck_assert_uint_eq(dl, 0);
    ck_assert_int_eq(apdu_split_response(r, sizeof(r), &sw, &dl), 0);
    ck_assert_uint_eq(sw, 0x63C2);
    ck_assert_uint_eq(dl, 3);
}
END_TEST

/* ---- Error texts ---- */

static const int all_errs[] = {
    MYNA_OK, MYNA_E_GENERAL, MYNA_E_NOMEM, MYNA_E_ARGS, MYNA_E_BUFFER_SMALL,
    MYNA_E_NO_SERVICE, MYNA_E_NO_READER, MYNA_E_NO_CARD, MYNA_E_CARD_RESET,
    MYNA_E_TRANSPORT, MYNA_E_CANCELLED, MYNA_E_TIMEOUT, MYNA_E_BAD_RESPONSE,
    MYNA_E_NOT_FOUND, MYNA_E_SECURITY, MYNA_E_PIN_INCORRECT,
    MYNA_E_PIN_LOCKED, MYNA_E_PIN_FORMAT, MYNA_E_PIN_LEN,
    MYNA_E_WRONG_LENGTH, MYNA_E_OFFSET, MYNA_E_INS, MYNA_E_CLA, MYNA_E_P1P2,
    MYNA_E_CONDITIONS, MYNA_E_CARD, MYNA_E_NOT_JPKI, MYNA_E_MEMORY_FAILURE,
};

START_TEST(test_strerror_distinct)
{
    const char *unknown = myna_strerror(-9999);
    size_t i, j;

    ck_assert_ptr_nonnull(unknown);
    ck_assert_ptr_nonnull(myna_strerror(12345));
    for (i = 0; i < sizeof(all_errs) / sizeof(all_errs[0]); i++) {
        const char *s = myna_strerror(all_errs[i]);

        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strcmp(s, unknown) != 0, "%d has no text", all_errs[i]);
        /* A sentence: a capital first and a full stop last. */
        ck_assert(s[0] >= 'A' && s[0] <= 'Z');
        ck_assert_int_eq(s[strlen(s) - 1], '.');
        for (j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, myna_strerror(all_errs[j])) != 0,
                          "%d and %d share a text", all_errs[i], all_errs[j]);
    }
}
END_TEST

/* ---- The log ---- */

START_TEST(test_log_default_off)
{
    /* Nobody has called myna_log_set() in this process yet (each test runs
     * in a fresh child, and the fixture turns logging off under no-fork). */
    ck_assert(!myna_log_enabled(MYNA_LOG_ERROR));
    ck_assert(!myna_log_enabled(MYNA_LOG_APDU));
    logc.len = 0;
    myna_log(MYNA_LOG_ERROR, "nothing %d", 1);
    ck_assert_uint_eq(logc.len, 0);
}
END_TEST

START_TEST(test_log_levels)
{
    char big[3000];

    myna_log_set(MYNA_LOG_INFO, check_log_sink, &logc);
    logc.len = 0;
    logbuf[0] = '\0';
    ck_assert(myna_log_enabled(MYNA_LOG_ERROR));
    ck_assert(myna_log_enabled(MYNA_LOG_INFO));
    ck_assert(!myna_log_enabled(MYNA_LOG_DEBUG));
    ck_assert(!myna_log_enabled(MYNA_LOG_OFF));
    myna_log(MYNA_LOG_INFO, "slot %d", 7);
    myna_log(MYNA_LOG_DEBUG, "hidden");
    ck_assert_str_eq(logbuf, "slot 7\n");

    /* A long line is cut, not overrun, and says so. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    logc.len = 0;
    myna_log(MYNA_LOG_ERROR, "%s", big);
    ck_assert_uint_lt(logc.len, 1100);
    ck_assert(strstr(logbuf, "...\n") != NULL);

    myna_log_set(MYNA_LOG_DEBUG, NULL, NULL);
    ck_assert(!myna_log_enabled(MYNA_LOG_ERROR));
}
END_TEST

START_TEST(test_log_apdu_format)
{
    const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80, 0x04,
                               0x31, 0x32, 0x33, 0x34 };
    const uint8_t resp[] = { 0x90, 0x00 };
    static uint8_t big[1000];

    log_capture_start();
    myna_log_apdu(true, verify, sizeof(verify), false);
    myna_log_apdu(true, verify, sizeof(verify), true);
    myna_log_apdu(false, resp, sizeof(resp), false);
    ck_assert_str_eq(logbuf, "> 00 20 00 80 04 31 32 33 34\n"
                             "> 00 20 00 80 04 ** ** ** **\n"
                             "< 90 00\n");

    /* A long response is shortened but keeps its status word. */
    big[998] = 0x6A;
    big[999] = 0x82;
    logc.len = 0;
    myna_log_apdu(false, big, sizeof(big), false);
    ck_assert(strstr(logbuf, "... 6A 82 (1000 bytes)\n") != NULL);
    ck_assert_uint_lt(logc.len, 1200);

    /* Below the APDU level nothing is written. */
    myna_log_set(MYNA_LOG_DEBUG, check_log_sink, &logc);
    logc.len = 0;
    logbuf[0] = '\0';
    myna_log_apdu(true, verify, sizeof(verify), false);
    ck_assert_uint_eq(logc.len, 0);
}
END_TEST

/* ---- apdu_transmit against scripted cards ---- */

#define SCRIPT_STEPS 8

/* A card that answers from a list and records what it was sent. */
struct script_card {
    const char *resp[SCRIPT_STEPS]; /* hex, SW included; NULL ends */
    int err[SCRIPT_STEPS];          /* a transport error instead */
    size_t pos;
    char cmd[SCRIPT_STEPS][256];    /* what came, as hex */
};

static int script_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                       uint8_t *resp, size_t cap, size_t *resplen)
{
    struct script_card *sc = ctx;
    size_t n;

    if (sc->pos >= SCRIPT_STEPS || (!sc->resp[sc->pos] && !sc->err[sc->pos]))
        return MYNA_E_TRANSPORT;    /* unscripted: the test will fail */
    tohex(cmd, cmdlen, sc->cmd[sc->pos], sizeof(sc->cmd[0]));
    if (sc->err[sc->pos])
        return sc->err[sc->pos++];
    n = check_unhex(sc->resp[sc->pos], resp, cap);
    sc->pos++;
    *resplen = n;
    return 0;
}

static struct transport *script_transport(struct script_card *sc)
{
    struct tp_card_cb cb = { .xfer = script_xfer, .ctx = sc };
    struct transport *t = NULL;

    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    return t;
}

static const struct apdu read_binary = { 0x00, 0xB0, 0x00, 0x00, NULL, 0,
                                         256, false, false };

START_TEST(test_transmit_simple)
{
    struct script_card sc = { { "AA BB 90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[16];
    size_t len = 0;
    uint16_t sw = 0;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), 0);
    ck_assert_str_eq(sc.cmd[0], "00 B0 00 00 00");
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(buf[0], 0xAA);
    ck_assert_uint_eq(buf[1], 0xBB);
    ck_assert_uint_eq(sw, 0x9000);
    ck_assert_uint_eq(sc.pos, 1);
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_error_sw_is_returned)
{
    struct script_card sc = { { "6A 82" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    size_t len = 9;
    uint16_t sw = 0;

    /* The card answered: 0, with the status word for the caller to map;
     * no buffer is needed for an answer without data. */
    ck_assert_int_eq(apdu_transmit(t, &read_binary, NULL, 0, &len, &sw), 0);
    ck_assert_uint_eq(sw, 0x6A82);
    ck_assert_uint_eq(len, 0);
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_transport_error)
{
    struct script_card sc = { { NULL }, { MYNA_E_NO_CARD }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[4];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), MYNA_E_NO_CARD);
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_6c_resend)
{
    struct script_card sc = {
        { "6C 04", "01 02 03 04 90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[8];
    size_t len = 0;
    uint16_t sw = 0;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), 0);
    ck_assert_str_eq(sc.cmd[0], "00 B0 00 00 00");
    ck_assert_str_eq(sc.cmd[1], "00 B0 00 00 04");
    ck_assert_uint_eq(len, 4);
    ck_assert_uint_eq(buf[3], 0x04);
    ck_assert_uint_eq(sw, 0x9000);
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_6c00_means_256)
{
    struct script_card sc = { { "6C 00", "90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    struct apdu a = { 0x00, 0x84, 0x00, 0x00, NULL, 0, 8, false, false };
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(t, &a, NULL, 0, &len, &sw), 0);
    ck_assert_str_eq(sc.cmd[1], "00 84 00 00 00");
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_double_6c)
{
    struct script_card sc = {
        { "6C 04", "6C 02", "01 02 90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[8];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), MYNA_E_BAD_RESPONSE);
    ck_assert_uint_eq(sc.pos, 2);   /* no third try */
    tp_free(t);
}
END_TEST

START_TEST(test_transmit_6c_with_data)
{
    struct script_card sc = {
        { "AA 6C 04", "01 02 03 04 90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[8];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), MYNA_E_BAD_RESPONSE);
    tp_free(t);
}
END_TEST

/* Truncated answers, first or in the middle of a GET RESPONSE chain. */
static const char *const truncated[][2] = {
    { "", NULL },
    { "90", NULL },
    { "61 04", "" },
    { "AA 61 04", "BB" },
};

START_TEST(test_transmit_truncated)
{
    struct script_card sc = { { truncated[_i][0], truncated[_i][1] }, { 0 },
                              0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    uint8_t buf[8];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), MYNA_E_BAD_RESPONSE);
    tp_free(t);
}
END_TEST

/*
 * A card that chains: @total data bytes, at most @chunk in each answer,
 * 61xx announcing what is left (61 00 when 256 or more).  With @empty_first
 * the first answer has no data, as T=0 cards do.  GET RESPONSE commands
 * are checked against what was announced.
 */
struct chain_card {
    size_t total, chunk, sent;
    bool empty_first;
    bool forever;           /* 61 01 without data, for ever */
    unsigned xfers, get_responses, bad_get_response;
    uint8_t last_le;
};

static int chain_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                      uint8_t *resp, size_t cap, size_t *resplen)
{
    struct chain_card *cc = ctx;
    size_t n, left, i;

    cc->xfers++;
    if (cmdlen >= 2 && cmd[1] == 0xC0) {
        cc->get_responses++;
        /* GET RESPONSE must be 00 C0 00 00 Le with the announced Le. */
        if (cmdlen != 5 || cmd[0] != 0x00 || cmd[2] != 0 || cmd[3] != 0 ||
            cmd[4] != cc->last_le)
            cc->bad_get_response++;
    }
    if (cc->forever) {
        ck_assert_uint_ge(cap, 2);
        resp[0] = 0x61;
        resp[1] = 0x01;
        cc->last_le = 0x01;
        *resplen = 2;
        return 0;
    }
    n = cc->total - cc->sent;
    if (n > cc->chunk)
        n = cc->chunk;
    if (cc->empty_first && cc->xfers == 1)
        n = 0;
    ck_assert_uint_ge(cap, n + 2);
    for (i = 0; i < n; i++)
        resp[i] = pattern_byte(cc->sent + i);
    cc->sent += n;
    left = cc->total - cc->sent;
    if (left == 0) {
        resp[n] = 0x90;
        resp[n + 1] = 0x00;
    } else {
        resp[n] = 0x61;
        resp[n + 1] = left >= 256 ? 0x00 : (uint8_t)left;
        cc->last_le = resp[n + 1];
    }
    *resplen = n + 2;
    return 0;
}

struct chain_case {
    const char *name;
    size_t total, chunk;
    bool empty_first;
    size_t cap;
    int err;
    unsigned get_responses;     /* when err == 0 */
};

static const struct chain_case chain_cases[] = {
    { "no chaining", 200, 256, false, 4096, 0, 0 },
    { "T=0: 61xx first, then all", 200, 256, true, 4096, 0, 1 },
    { "61 00 means 256", 600, 256, false, 4096, 0, 2 },
    { "61 00 then 61 00 then 61 58", 856, 256, true, 4096, 0, 4 },
    { "1-byte chunks", 40, 1, false, 4096, 0, 39 },
    { "1-byte chunks, 256 bytes", 256, 1, false, 4096, 0, 255 },
    { "1-byte chunks, 2000 bytes", 2000, 1, false, 4096, 0, 1999 },
    { "T=0 then 1-byte chunks", 300, 1, true, 4096, 0, 300 },
    { "exactly the buffer", 600, 256, false, 600, 0, 2 },
    { "one byte over the buffer", 600, 256, false, 599,
      MYNA_E_BUFFER_SMALL, 0 },
    { "over the buffer in the first answer", 200, 256, false, 100,
      MYNA_E_BUFFER_SMALL, 0 },
    { "1-byte chunks over the buffer", 40, 1, false, 39,
      MYNA_E_BUFFER_SMALL, 0 },
};

START_TEST(test_transmit_chaining)
{
    const struct chain_case *c = &chain_cases[_i];
    struct chain_card cc = { c->total, c->chunk, 0, c->empty_first, false,
                             0, 0, 0, 0 };
    struct tp_card_cb cb = { .xfer = chain_xfer, .ctx = &cc };
    struct transport *t = NULL;
    uint8_t *buf;
    size_t len = 0, i;
    uint16_t sw = 0;
    int err;

    /* Exactly @cap bytes on the heap, so that ASan sees any overrun. */
    buf = malloc(c->cap);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    err = apdu_transmit(t, &read_binary, buf, c->cap, &len, &sw);
    ck_assert_msg(err == c->err, "%s: %d, want %d", c->name, err, c->err);
    ck_assert_uint_eq(cc.bad_get_response, 0);
    if (c->err == 0) {
        ck_assert_uint_eq(sw, 0x9000);
        ck_assert_uint_eq(len, c->total);
        ck_assert_uint_eq(cc.get_responses, c->get_responses);
        for (i = 0; i < len; i++)
            ck_assert_uint_eq(buf[i], pattern_byte(i));
    }
    tp_free(t);
    free(buf);
}
END_TEST

START_TEST(test_transmit_61_forever)
{
    struct chain_card cc = { 0, 0, 0, false, true, 0, 0, 0, 0 };
    struct tp_card_cb cb = { .xfer = chain_xfer, .ctx = &cc };
    struct transport *t = NULL;
    uint8_t buf[16];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    ck_assert_int_eq(apdu_transmit(t, &read_binary, buf, sizeof(buf), &len,
                                   &sw), MYNA_E_BAD_RESPONSE);
    /* The command's empty 61xx is allowed (T=0); a GET RESPONSE that
     * announces more and brings nothing ends the exchange at once. */
    ck_assert_uint_eq(cc.xfers, 2);
    tp_free(t);
}
END_TEST

/* A transport that lies about the response length. */
struct lying_transport {
    struct transport base;
    size_t extra;       /* claim cap + extra bytes */
    size_t fixed;       /* or this many, when extra == 0 */
};

static int lying_transmit(struct transport *t, const uint8_t *cmd,
                          size_t cmdlen, uint8_t *resp, size_t cap,
                          size_t *resplen)
{
    struct lying_transport *lt = (struct lying_transport *)t;

    if (cap >= 2) {
        resp[0] = 0x90;
        resp[1] = 0x00;
    }
    *resplen = lt->extra ? cap + lt->extra : lt->fixed;
    return 0;
}

static int lying_begin(struct transport *t) { return 0; }
static int lying_end(struct transport *t, bool reset) { return 0; }
static int lying_atr(struct transport *t, uint8_t *atr, size_t cap,
                     size_t *len)
{
    *len = 0;
    return 0;
}
static void lying_free(struct transport *t) { }

static const struct transport_ops lying_ops = {
    lying_transmit, lying_begin, lying_end, lying_atr, lying_free,
};

START_TEST(test_transmit_length_past_buffer)
{
    struct lying_transport lt = { { &lying_ops }, 1, 0 };
    uint8_t buf[16];
    size_t len = 0;
    uint16_t sw = 0;

    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, buf, sizeof(buf),
                                   &len, &sw), MYNA_E_BAD_RESPONSE);
    ck_assert_uint_eq(len, 0);
    lt.extra = 0;
    lt.fixed = 1;
    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, buf, sizeof(buf),
                                   &len, &sw), MYNA_E_BAD_RESPONSE);
    lt.fixed = 2;
    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, buf, sizeof(buf),
                                   &len, &sw), 0);
    ck_assert_uint_eq(sw, 0x9000);
}
END_TEST

START_TEST(test_transmit_args)
{
    struct lying_transport lt = { { &lying_ops }, 0, 2 };
    uint8_t buf[4];
    size_t len;
    uint16_t sw;

    ck_assert_int_eq(apdu_transmit(NULL, &read_binary, buf, 4, &len, &sw),
                     MYNA_E_ARGS);
    ck_assert_int_eq(apdu_transmit(&lt.base, NULL, buf, 4, &len, &sw),
                     MYNA_E_ARGS);
    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, NULL, 4, &len, &sw),
                     MYNA_E_ARGS);
    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, buf, 4, NULL, &sw),
                     MYNA_E_ARGS);
    ck_assert_int_eq(apdu_transmit(&lt.base, &read_binary, buf, 4, &len, NULL),
                     MYNA_E_ARGS);
}
END_TEST

/* ---- A PIN never reaches the log ---- */

/* The PIN the secret APDUs carry: bytes no other part of the exchange
 * sends, so that finding them in the log means a leak. */
static const uint8_t secret_pin[] = { 'Q', 'Z', '7', '3', 'X', 'K' };
static const char *const secret_pin_hex = "51 5A 37 33 58 4B";

struct secret_case {
    const char *name;
    const char *resp[3];
};

static const struct secret_case secret_cases[] = {
    { "plain", { "90 00" } },
    { "wrong PIN", { "63 C2" } },
    { "61xx chain", { "61 02", "01 02 90 00" } },
};

START_TEST(test_transmit_secret_not_logged)
{
    const struct secret_case *c = &secret_cases[_i];
    struct script_card sc = { { c->resp[0], c->resp[1], c->resp[2] }, { 0 },
                              0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    struct apdu verify = { 0x00, 0x20, 0x00, 0x80, secret_pin,
                           sizeof(secret_pin), 0, false, true };
    uint8_t buf[8];
    size_t len;
    uint16_t sw;

    log_capture_start();
    ck_assert_int_eq(apdu_transmit(t, &verify, buf, sizeof(buf), &len, &sw), 0);
    /* The card did get the PIN ... */
    ck_assert(strstr(sc.cmd[0], secret_pin_hex) != NULL);
    /* ... the log shows the command, masked, and never the PIN. */
    ck_assert_msg(strstr(logbuf, "> 00 20 00 80 06 ** ** ** ** ** **") != NULL,
                  "%s: log is\n%s", c->name, logbuf);
    ck_assert_msg(strstr(logbuf, "51 5A") == NULL &&
                  strstr(logbuf, "33 58 4B") == NULL &&
                  strstr(logbuf, "QZ73XK") == NULL,
                  "%s: PIN in the log:\n%s", c->name, logbuf);
    tp_free(t);
}
END_TEST

/* A command carrying a PIN is never sent twice: a 6Cxx answer to it (which
 * no VERIFY can rightly get) is refused, not honoured with a resend.  Found
 * by fuzz-module. */
START_TEST(test_transmit_secret_6cxx_not_resent)
{
    struct script_card sc = { { "6C 00", "90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    struct apdu verify = { 0x00, 0x20, 0x00, 0x80, secret_pin,
                           sizeof(secret_pin), 0, false, true };
    uint8_t buf[8];
    size_t len;
    uint16_t sw;

    log_capture_start();
    ck_assert_int_eq(apdu_transmit(t, &verify, buf, sizeof(buf), &len, &sw),
                     MYNA_E_BAD_RESPONSE);
    ck_assert_uint_eq(sc.pos, 1);
    ck_assert(strstr(sc.cmd[0], secret_pin_hex) != NULL);
    ck_assert_msg(strstr(logbuf, "QZ73XK") == NULL &&
                  strstr(logbuf, "51 5A") == NULL, "PIN in the log:\n%s",
                  logbuf);
    tp_free(t);
}
END_TEST

/* The same exchange without the secret flag does show the data: the sink
 * works, so the test above could fail. */
START_TEST(test_transmit_public_logged)
{
    struct script_card sc = { { "90 00" }, { 0 }, 0, { { 0 } } };
    struct transport *t = script_transport(&sc);
    struct apdu verify = { 0x00, 0x20, 0x00, 0x80, secret_pin,
                           sizeof(secret_pin), 0, false, false };
    size_t len;
    uint16_t sw;

    log_capture_start();
    ck_assert_int_eq(apdu_transmit(t, &verify, NULL, 0, &len, &sw), 0);
    ck_assert(strstr(logbuf, "> 00 20 00 80 06 51 5A 37 33 58 4B\n") != NULL);
    ck_assert(strstr(logbuf, "< 90 00\n") != NULL);
    tp_free(t);
}
END_TEST

/* A response marked as personal data (the signature certificate) is
 * masked in the log, chained parts included, but still reaches the caller. */
START_TEST(test_transmit_secret_response_not_logged)
{
    struct script_card sc = { { "61 03", "C4 C5 C6 90 00" }, { 0 }, 0,
                              { { 0 } } };
    struct transport *t = script_transport(&sc);
    struct apdu rb = { .cla = 0x00, .ins = 0xB0, .le = 256,
                       .secret_response = true };
    uint8_t buf[16];
    size_t len;
    uint16_t sw;

    log_capture_start();
    ck_assert_int_eq(apdu_transmit(t, &rb, buf, sizeof(buf), &len, &sw), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_uint_eq(buf[0], 0xC4);
    ck_assert_uint_eq(sw, 0x9000);
    ck_assert_msg(strstr(logbuf, "C4") == NULL && strstr(logbuf, "C5") == NULL,
                  "personal data in the log:\n%s", logbuf);
    ck_assert_msg(strstr(logbuf, "< ** ** ** 90 00") != NULL, "log is\n%s",
                  logbuf);
    tp_free(t);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "encode");
    tcase_add_loop_test(tc, test_encode_byte_exact, 0, CHECK_N(enc_cases));
    tcase_add_test(tc, test_encode_rejects_impossible);

    tc = check_tcase(s, "decode");
    tcase_add_loop_test(tc, test_decode_roundtrip, 0, CHECK_N(enc_cases));
    tcase_add_loop_test(tc, test_decode_rejects, 0, CHECK_N(decode_bad));
    tcase_add_test(tc, test_decode_canonical_random);

    tc = check_tcase(s, "status");
    tcase_add_loop_test(tc, test_sw_mapping, 0, CHECK_N(sw_cases));
    check_add_tests(tc, test_split_response, test_strerror_distinct);

    tc = check_tcase(s, "log");
    tcase_add_checked_fixture(tc, NULL, log_teardown);
    check_add_tests(tc, test_log_default_off, test_log_levels,
                    test_log_apdu_format);

    tc = check_tcase(s, "transmit");
    tcase_add_checked_fixture(tc, NULL, log_teardown);
    check_add_tests(tc, test_transmit_simple,
                    test_transmit_error_sw_is_returned,
                    test_transmit_transport_error, test_transmit_6c_resend,
                    test_transmit_6c00_means_256, test_transmit_double_6c,
                    test_transmit_6c_with_data);
    tcase_add_loop_test(tc, test_transmit_truncated, 0, CHECK_N(truncated));
    tcase_add_loop_test(tc, test_transmit_chaining, 0, CHECK_N(chain_cases));
    check_add_tests(tc, test_transmit_61_forever,
                    test_transmit_length_past_buffer, test_transmit_args,
                    test_transmit_secret_response_not_logged);
    tcase_add_loop_test(tc, test_transmit_secret_not_logged, 0,
                        CHECK_N(secret_cases));
    check_add_tests(tc, test_transmit_secret_6cxx_not_resent,
                    test_transmit_public_logged);
}
