/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of the manufacture-number and card-info applications
 * (apdu/cardinfo.c), in process against a scripted card written here: the
 * JPKI AP (just its token-information file), the manufacture-number AP and
 * the card-info input support AP, with knobs for the status words and the
 * file contents.  The card records every command as bytes, so that the
 * tests check the exact APDUs, that a PIN of the wrong format is never
 * sent, and that the JPKI AP is selected again after another one.  The
 * parsers are also driven directly over good, malformed, oversized and
 * truncated inputs.  Last, the whole path against the virtual card
 * (tests/emu) in its three profiles: what the Mynaportal host will read.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "all-zero.h"
#include "apdu.h"
#include "cardinfo.h"
#include "check-run.h"
#include "emu.h"
#include "jpki.h"
#include "log.h"
#include "myna-err.h"
#include "transport.h"

const char check_suite_name[] = "cardinfo";

/* ------------------------------------------------------------------ */
/* The scripted card.                                                  */

#define LOG_MAX 64u
#define CMD_MAX 300u

enum app { APP_NONE = 0, APP_JPKI, APP_MFG, APP_CARDINFO };

struct card {
    bool has_mfg, has_cardinfo;
    enum app app;
    uint16_t ef;              /* selected EF, 0 for none */
    bool verified;            /* the card-info PIN */
    const uint8_t *record;    /* the manufacture-number record */
    size_t record_len;
    uint16_t record_sw;       /* non-zero: READ RECORD answers this */
    const uint8_t *data;      /* EF 0002 */
    size_t data_len;
    uint16_t tries_sw;        /* VERIFY without data */
    uint16_t verify_sw;       /* VERIFY with data; 9000 verifies */
    /* Every command, as sent. */
    size_t n;
    uint8_t cmd[LOG_MAX][CMD_MAX];
    size_t cmdlen[LOG_MAX];
};

static const uint8_t TOKEN_INFO[32] = "JPKIAPICCTOKEN2                 ";

static void card_init(struct card *c)
{
    memset(c, 0, sizeof(*c));
    c->has_mfg = true;
    c->has_cardinfo = true;
    c->tries_sw = 0x63C3;
    c->verify_sw = 0x9000;
}

static int put_sw(uint8_t *resp, size_t n, uint16_t sw, size_t *resplen)
{
    resp[n] = (uint8_t)(sw >> 8);
    resp[n + 1] = (uint8_t)sw;
    *resplen = n + 2;
    return 0;
}

static bool aid_is(const struct apdu *a, const uint8_t *aid, size_t len)
{
    return a->lc == len && memcmp(a->data, aid, len) == 0;
}

static int select_app(struct card *c, const struct apdu *a, uint8_t *resp,
                      size_t *resplen)
{
    enum app app = APP_NONE;

    if (aid_is(a, JPKI_AID, sizeof(JPKI_AID)))
        app = APP_JPKI;
    else if (c->has_mfg && aid_is(a, MYNA_MFG_AID, sizeof(MYNA_MFG_AID)))
        app = APP_MFG;
    else if (c->has_cardinfo &&
             aid_is(a, MYNA_CARDINFO_AID, sizeof(MYNA_CARDINFO_AID)))
        app = APP_CARDINFO;
    if (app == APP_NONE)
        return put_sw(resp, 0, 0x6A82, resplen);
    /* A real card drops the verified state of the application left. */
    if (app != c->app)
        c->verified = false;
    c->app = app;
    c->ef = 0;
    return put_sw(resp, 0, 0x9000, resplen);
}

static int select_ef(struct card *c, const struct apdu *a, uint8_t *resp,
                     size_t *resplen)
{
    uint16_t fid;
    bool ok;

    if (a->lc != 2)
        return put_sw(resp, 0, 0x6700, resplen);
    fid = (uint16_t)(a->data[0] << 8 | a->data[1]);
    ok = (c->app == APP_JPKI && fid == 0x0006) ||
         (c->app == APP_CARDINFO && (fid == 0x0011 || fid == 0x0002));
    if (!ok)
        return put_sw(resp, 0, 0x6A82, resplen);
    c->ef = fid;
    return put_sw(resp, 0, 0x9000, resplen);
}

static int read_binary(struct card *c, const struct apdu *a, uint8_t *resp,
                       size_t cap, size_t *resplen)
{
    const uint8_t *f;
    size_t flen, off = ((size_t)a->p1 << 8) | a->p2, n;

    if (a->p1 & 0x80)
        return put_sw(resp, 0, 0x6A86, resplen);
    if (c->app == APP_JPKI && c->ef == 0x0006) {
        f = TOKEN_INFO;
        flen = sizeof(TOKEN_INFO);
    } else if (c->app == APP_CARDINFO && c->ef == 0x0002) {
        if (!c->verified)
            return put_sw(resp, 0, 0x6982, resplen);
        f = c->data;
        flen = c->data_len;
    } else {
        return put_sw(resp, 0, 0x6986, resplen);
    }
    if (off >= flen)
        return put_sw(resp, 0, 0x6B00, resplen);
    n = flen - off < a->le ? flen - off : a->le;
    if (n + 2 > cap)
        return MYNA_E_BUFFER_SMALL;
    memcpy(resp, f + off, n);
    return put_sw(resp, n, 0x9000, resplen);
}

static int card_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                     uint8_t *resp, size_t cap, size_t *resplen)
{
    struct card *c = ctx;
    struct apdu a;

    if (cap < 2)
        return MYNA_E_BUFFER_SMALL;
    ck_assert_uint_lt(c->n, LOG_MAX);
    ck_assert_uint_le(cmdlen, CMD_MAX);
    memcpy(c->cmd[c->n], cmd, cmdlen);
    c->cmdlen[c->n++] = cmdlen;
    if (apdu_decode(cmd, cmdlen, &a) != 0)
        return put_sw(resp, 0, 0x6700, resplen);

    switch (a.ins) {
    case 0xA4:
        if (a.p1 == 0x04)
            return select_app(c, &a, resp, resplen);
        if (a.p1 == 0x02)
            return select_ef(c, &a, resp, resplen);
        return put_sw(resp, 0, 0x6A86, resplen);
    case 0xB0:
        return read_binary(c, &a, resp, cap, resplen);
    case 0xB2:
        if (c->app != APP_MFG)
            return put_sw(resp, 0, 0x6986, resplen);
        if (c->record_sw)
            return put_sw(resp, 0, c->record_sw, resplen);
        if (c->record_len + 2 > cap)
            return MYNA_E_BUFFER_SMALL;
        memcpy(resp, c->record, c->record_len);
        return put_sw(resp, c->record_len, 0x9000, resplen);
    case 0x20:
        if (c->app != APP_CARDINFO || c->ef != 0x0011)
            return put_sw(resp, 0, 0x6986, resplen);
        if (a.lc == 0)
            return put_sw(resp, 0, c->tries_sw, resplen);
        c->verified = c->verify_sw == 0x9000;
        return put_sw(resp, 0, c->verify_sw, resplen);
    default:
        return put_sw(resp, 0, 0x6D00, resplen);
    }
}

/* The exact bytes of command @i. */
static void assert_cmd(const struct card *c, size_t i, const uint8_t *want,
                       size_t len)
{
    ck_assert_uint_lt(i, c->n);
    ck_assert_uint_eq(c->cmdlen[i], len);
    ck_assert_mem_eq(c->cmd[i], want, len);
}

/* How many commands, from @from on, select an application (P1 04) whose
 * AID is @aid. */
static size_t count_select_ap(const struct card *c, size_t from,
                              const uint8_t *aid)
{
    size_t i, n = 0;

    for (i = from; i < c->n; i++) {
        n += c->cmdlen[i] == 15 && c->cmd[i][1] == 0xA4 &&
             c->cmd[i][2] == 0x04 && memcmp(c->cmd[i] + 5, aid, 10) == 0;
    }
    return n;
}

static size_t count_ins(const struct card *c, uint8_t ins)
{
    size_t i, n = 0;

    for (i = 0; i < c->n; i++)
        n += c->cmd[i][1] == ins;
    return n;
}

struct rig {
    struct card card;
    struct transport *t;
    struct jpki *j;
};

static struct rig *g_rig;

static void rig_setup(void)
{
    struct tp_card_cb cb;

    g_rig = calloc(1, sizeof(*g_rig));
    ck_assert_ptr_nonnull(g_rig);
    card_init(&g_rig->card);
    memset(&cb, 0, sizeof(cb));
    cb.xfer = card_xfer;
    cb.ctx = &g_rig->card;
    cb.atr[0] = 0x3B;
    cb.atr_len = 1;
    ck_assert_int_eq(tp_callback_new(&cb, &g_rig->t), 0);
    ck_assert_int_eq(jpki_new(g_rig->t, &g_rig->j), 0);
}

static void rig_teardown(void)
{
    if (!g_rig)
        return;
    jpki_free(g_rig->j);
    tp_free(g_rig->t);
    free(g_rig);
    g_rig = NULL;
}

/* ------------------------------------------------------------------ */
/* Building files.                                                     */

struct buf {
    uint8_t b[8192];
    size_t n;
};

/* A BER length in the form @form: 0 the shortest, 0x81..0x84 that long
 * form (whatever the value). */
static void put_len(struct buf *b, size_t len, int form)
{
    int k;

    if (form == 0) {
        if (len < 0x80)
            form = 0x80;
        else if (len <= 0xFF)
            form = 0x81;
        else
            form = 0x82;
    }
    if (form == 0x80) {
        b->b[b->n++] = (uint8_t)len;
        return;
    }
    b->b[b->n++] = (uint8_t)form;
    for (k = (form & 0x7F) - 1; k >= 0; k--)
        b->b[b->n++] = (uint8_t)(len >> (8 * k));
}

static void put_tlv(struct buf *b, uint16_t tag, const void *v, size_t len,
                    int form)
{
    if (tag > 0xFF)
        b->b[b->n++] = (uint8_t)(tag >> 8);
    b->b[b->n++] = (uint8_t)tag;
    put_len(b, len, form);
    memcpy(b->b + b->n, v, len);
    b->n += len;
}

static const char NAME[] = "\xe5\xb9\xb3\xe6\x88\x90\xe3\x80\x80"
                           "\xe5\xa4\xaa\xe9\x83\x8e";  /* 平成　太郎 */
static const char ADDRESS[] = "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd"
                              "\xe5\x8d\x83\xe4\xbb\xa3\xe7\x94\xb0"
                              "\xe5\x8c\xba 1-1";  /* 東京都千代田区 1-1 */
static const char BIRTH[] = "19890108";
static const char SEX[] = "1";

/* EF 0002 holding @name and the fixed other three, the outer length in
 * @form, then @filler FF bytes. */
static void make_cardinfo(struct buf *b, const char *name, size_t namelen,
                          int form, size_t filler)
{
    struct buf in = { .n = 0 };
    static const uint8_t first[3] = { 0x01, 0x02, 0x03 };

    put_tlv(&in, 0xDF21, first, sizeof(first), 0);
    put_tlv(&in, 0xDF22, name, namelen, 0);
    put_tlv(&in, 0xDF23, ADDRESS, strlen(ADDRESS), 0);
    put_tlv(&in, 0xDF24, BIRTH, strlen(BIRTH), 0);
    put_tlv(&in, 0xDF25, SEX, strlen(SEX), 0);
    b->n = 0;
    put_tlv(b, 0xFF20, in.b, in.n, form);
    memset(b->b + b->n, 0xFF, filler);
    b->n += filler;
}

/* ------------------------------------------------------------------ */
/* The manufacture number.                                             */

static const uint8_t SELECT_MFG[] = {
    0x00, 0xA4, 0x04, 0x0C, 0x0A,
    0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00
};
static const uint8_t READ_RECORD[] = { 0x00, 0xB2, 0x01, 0x0C, 0x00 };
static const uint8_t SELECT_CARDINFO[] = {
    0x00, 0xA4, 0x04, 0x0C, 0x0A,
    0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08
};
static const uint8_t SELECT_EF_PIN[] = {
    0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x11
};
static const uint8_t SELECT_EF_DATA[] = {
    0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x02
};

/* A record: tag 80, "X" + the number + "Z". */
static const uint8_t RECORD[] = {
    0x80, 0x0F, 'X', 'A', 'B', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    '0', '1', 'Z'
};

START_TEST(test_mfg_read)
{
    struct rig *r = g_rig;
    char num[MYNA_MFG_NUMBER_LEN + 1];

    r->card.record = RECORD;
    r->card.record_len = sizeof(RECORD);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), 0);
    ck_assert_str_eq(num, "AB12345678901");
    ck_assert_uint_eq(r->card.n, 2);
    assert_cmd(&r->card, 0, SELECT_MFG, sizeof(SELECT_MFG));
    assert_cmd(&r->card, 1, READ_RECORD, sizeof(READ_RECORD));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_mfg_errors)
{
    struct rig *r = g_rig;
    char num[MYNA_MFG_NUMBER_LEN + 1];

    ck_assert_int_eq(jpki_begin(r->j), 0);
    /* No such application: 6A82 to the SELECT, and nothing else sent. */
    r->card.has_mfg = false;
    memset(num, 'q', sizeof(num));
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), MYNA_E_NOT_FOUND);
    ck_assert_uint_eq(r->card.n, 1);
    ck_assert(all_zero(num, sizeof(num)));
    /* No record. */
    r->card.has_mfg = true;
    r->card.record_sw = 0x6A83;
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), MYNA_E_CARD);
    r->card.record_sw = 0x6A82;
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), MYNA_E_NOT_FOUND);
    /* A malformed record read from the card. */
    r->card.record_sw = 0;
    r->card.record = RECORD;
    r->card.record_len = sizeof(RECORD) - 1;
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), MYNA_E_BAD_RESPONSE);
    ck_assert(all_zero(num, sizeof(num)));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

static const struct {
    const char *what;
    uint8_t rec[300];
    size_t len;
    const char *want;    /* NULL: MYNA_E_BAD_RESPONSE */
} MFG_CASES[] = {
    { "15 characters", { 0x80, 15, 'X', 'A', 'B', '1', '2', '3', '4', '5',
                         '6', '7', '8', '9', '0', '1', 'Z' }, 17,
      "AB12345678901" },
    { "16 characters, other tag", { 0xC1, 16, '#', 'N', 'N', '0', '0', '0',
                                    '0', '0', '0', '0', '0', '0', '0', '7',
                                    '-', '-' }, 18, "NN00000000007" },
    { "long form 81", { 0x80, 0x81, 15, 'X', 'A', 'B', '1', '2', '3', '4',
                        '5', '6', '7', '8', '9', '0', '1', 'Z' }, 18,
      "AB12345678901" },
    { "two-byte tag", { 0x9F, 0x01, 15, 'X', 'A', 'B', '1', '2', '3', '4',
                        '5', '6', '7', '8', '9', '0', '1', 'Z' }, 18,
      "AB12345678901" },
    { "14 characters", { 0x80, 14, 'X', 'A', 'B', '1', '2', '3', '4', '5',
                         '6', '7', '8', '9', '0', '1' }, 16, NULL },
    { "a control character", { 0x80, 15, 'X', 'A', 'B', '1', '2', '3', '4',
                               '5', '6', '7', '8', 0x07, '0', '1', 'Z' },
      17, NULL },
    { "a byte above 7E", { 0x80, 15, 'X', 'A', 'B', '1', '2', '3', '4', '5',
                           '6', '7', '8', '9', '0', '1', 0xE3 }, 17, NULL },
    { "truncated value", { 0x80, 16, 'X', 'A', 'B', '1', '2', '3', '4', '5',
                           '6', '7', '8', '9', '0', '1', 'Z' }, 17, NULL },
    { "a byte after the TLV", { 0x80, 15, 'X', 'A', 'B', '1', '2', '3', '4',
                                '5', '6', '7', '8', '9', '0', '1', 'Z',
                                0x00 }, 18, NULL },
    { "indefinite length", { 0x80, 0x80, 'X', 'A', 'B', '1', '2', '3', '4',
                             '5', '6', '7', '8', '9', '0', '1', 'Z', 0x00,
                             0x00 }, 19, NULL },
    { "five length bytes", { 0x80, 0x85, 0, 0, 0, 0, 15 }, 7, NULL },
    { "length bytes cut", { 0x80, 0x82, 0x00 }, 3, NULL },
    { "huge length", { 0x80, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 'X' }, 7, NULL },
    { "tag cut", { 0x9F }, 1, NULL },
    { "tag runs on", { 0x9F, 0x81, 0x81, 0x81, 0x01, 15 }, 6, NULL },
    { "empty", { 0 }, 0, NULL },
};
#define NMFG (sizeof(MFG_CASES) / sizeof(MFG_CASES[0]))

START_TEST(test_mfg_parse)
{
    char num[MYNA_MFG_NUMBER_LEN + 1];
    int err;

    memset(num, 'q', sizeof(num));
    err = myna_parse_mfg_record(MFG_CASES[_i].rec, MFG_CASES[_i].len, num);
    if (MFG_CASES[_i].want) {
        ck_assert_msg(err == 0, "%s: %d", MFG_CASES[_i].what, err);
        ck_assert_str_eq(num, MFG_CASES[_i].want);
    } else {
        ck_assert_msg(err == MYNA_E_BAD_RESPONSE, "%s: %d",
                      MFG_CASES[_i].what, err);
        ck_assert_msg(all_zero(num, sizeof(num)), "%s: output left",
                      MFG_CASES[_i].what);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* The card-info PIN.                                                  */

START_TEST(test_verify_apdus)
{
    static const uint8_t VERIFY[] = {
        0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'
    };
    static const uint8_t TRIES[] = { 0x00, 0x20, 0x00, 0x80 };
    struct rig *r = g_rig;
    int tries = 42;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"1234", 4,
                                     &tries), 0);
    ck_assert_int_eq(tries, -1);
    ck_assert_uint_eq(r->card.n, 3);
    assert_cmd(&r->card, 0, SELECT_CARDINFO, sizeof(SELECT_CARDINFO));
    assert_cmd(&r->card, 1, SELECT_EF_PIN, sizeof(SELECT_EF_PIN));
    assert_cmd(&r->card, 2, VERIFY, sizeof(VERIFY));
    /* The application stays selected inside the transaction; its EF is
     * selected every time. */
    r->card.n = 0;
    ck_assert_int_eq(cardinfo_pin_tries(r->j, &tries), 0);
    ck_assert_int_eq(tries, 3);
    ck_assert_uint_eq(r->card.n, 2);
    assert_cmd(&r->card, 0, SELECT_EF_PIN, sizeof(SELECT_EF_PIN));
    assert_cmd(&r->card, 1, TRIES, sizeof(TRIES));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    /* A new transaction selects the application again: another program
     * may have selected another one whose EF 0011 is another PIN. */
    r->card.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_pin_tries(r->j, &tries), 0);
    ck_assert_uint_eq(r->card.n, 3);
    assert_cmd(&r->card, 0, SELECT_CARDINFO, sizeof(SELECT_CARDINFO));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

static const struct {
    uint16_t sw;
    int err, tries;
} VERIFY_CASES[] = {
    { 0x9000, 0, -1 },
    { 0x63C2, MYNA_E_PIN_INCORRECT, 2 },
    { 0x63C1, MYNA_E_PIN_INCORRECT, 1 },
    { 0x63C0, MYNA_E_PIN_LOCKED, 0 },
    { 0x6983, MYNA_E_PIN_LOCKED, 0 },
    { 0x6984, MYNA_E_PIN_LOCKED, 0 },
    { 0x6A82, MYNA_E_NOT_FOUND, -1 },
    /* What a card just powered up may say: a VERIFY carrying a PIN is
     * never sent again for it. */
    { 0x6F00, MYNA_E_CARD, -1 },
};
#define NVERIFY (sizeof(VERIFY_CASES) / sizeof(VERIFY_CASES[0]))

START_TEST(test_verify_sw)
{
    struct rig *r = g_rig;
    int tries = 42;

    r->card.verify_sw = VERIFY_CASES[_i].sw;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"0000", 4,
                                     &tries), VERIFY_CASES[_i].err);
    ck_assert_int_eq(tries, VERIFY_CASES[_i].tries);
    ck_assert_uint_eq(count_ins(&r->card, 0x20), 1);
    /* tries_left may be NULL. */
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"0000", 4, NULL),
                     VERIFY_CASES[_i].err);
    ck_assert_uint_eq(count_ins(&r->card, 0x20), 2);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

static const struct {
    const char *pin;
    size_t len;
    int err;
} BAD_PINS[] = {
    { "123", 3, MYNA_E_PIN_LEN },
    { "12345", 5, MYNA_E_PIN_LEN },
    { "", 0, MYNA_E_PIN_LEN },
    { "12a4", 4, MYNA_E_PIN_FORMAT },
    { "12 4", 4, MYNA_E_PIN_FORMAT },
    { "\xef\xbc\x91\x32", 4, MYNA_E_PIN_FORMAT },  /* fullwidth 1, then 2 */
    { "1234\0", 5, MYNA_E_PIN_LEN },
};
#define NBADPIN (sizeof(BAD_PINS) / sizeof(BAD_PINS[0]))

START_TEST(test_bad_pin_never_sent)
{
    struct rig *r = g_rig;
    int tries = 42;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)BAD_PINS[_i].pin,
                                     BAD_PINS[_i].len, &tries),
                     BAD_PINS[_i].err);
    ck_assert_int_eq(tries, -1);
    /* Nothing at all reached the card, not even a SELECT. */
    ck_assert_uint_eq(r->card.n, 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_tries_sw)
{
    static const struct {
        uint16_t sw;
        int err, tries;
    } cases[] = {
        { 0x63C3, 0, 3 },
        { 0x63C1, 0, 1 },
        { 0x63C0, 0, 0 },
        { 0x6983, 0, 0 },
        { 0x6984, 0, 0 },
        { 0x9000, 0, 3 },
        { 0x6A82, MYNA_E_NOT_FOUND, 42 },
    };
    struct rig *r = g_rig;
    size_t i;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int tries = 42;

        r->card.tries_sw = cases[i].sw;
        r->card.n = 0;
        ck_assert_int_eq(cardinfo_pin_tries(r->j, &tries), cases[i].err);
        ck_assert_int_eq(tries, cases[i].tries);
        /* The query carries no data: it spends nothing. */
        ck_assert_uint_eq(r->card.cmdlen[r->card.n - 1], 4);
    }
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reading EF 0002.                                                    */

START_TEST(test_read)
{
    static const uint8_t READ0[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
    struct rig *r = g_rig;
    struct buf f;
    struct cardinfo ci;

    make_cardinfo(&f, NAME, strlen(NAME), 0, 0);
    r->card.data = f.b;
    r->card.data_len = f.n;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"1234", 4, NULL),
                     0);
    r->card.n = 0;
    ck_assert_int_eq(cardinfo_read(r->j, &ci), 0);
    ck_assert_uint_eq(r->card.n, 2);
    assert_cmd(&r->card, 0, SELECT_EF_DATA, sizeof(SELECT_EF_DATA));
    assert_cmd(&r->card, 1, READ0, sizeof(READ0));
    ck_assert_uint_eq(ci.name_len, strlen(NAME));
    ck_assert_str_eq(ci.name, NAME);
    ck_assert_str_eq(ci.address, ADDRESS);
    ck_assert_uint_eq(ci.address_len, strlen(ADDRESS));
    ck_assert_str_eq(ci.birth, BIRTH);
    ck_assert_uint_eq(ci.birth_len, 8);
    ck_assert_str_eq(ci.sex, SEX);
    ck_assert_uint_eq(ci.sex_len, 1);
    cardinfo_clear(&ci);
    ck_assert(all_zero(&ci, sizeof(ci)));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* A file longer than one short READ BINARY: the header first, then the
 * rest from offset 256, and never the filler. */
START_TEST(test_read_long)
{
    struct rig *r = g_rig;
    char name[MYNA_CARDINFO_FIELD_MAX];
    struct buf f;
    struct cardinfo ci;
    size_t i;

    /* 170 three-byte characters and 2 ASCII: 512 bytes. */
    for (i = 0; i < 170; i++)
        memcpy(name + 3 * i, "\xe3\x81\x82", 3);  /* あ */
    name[510] = 'a';
    name[511] = 'b';
    make_cardinfo(&f, name, sizeof(name), 0, 200);
    r->card.data = f.b;
    r->card.data_len = f.n;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"1234", 4, NULL),
                     0);
    r->card.n = 0;
    ck_assert_int_eq(cardinfo_read(r->j, &ci), 0);
    ck_assert_uint_eq(ci.name_len, sizeof(name));
    ck_assert_mem_eq(ci.name, name, sizeof(name));
    ck_assert_str_eq(ci.sex, SEX);
    /* SELECT, READ at 0 (256), then the rest in short reads. */
    ck_assert_uint_eq(count_ins(&r->card, 0xB0), 1 + (f.n - 200 - 1) / 256);
    for (i = 2; i < r->card.n; i++) {
        size_t off = (size_t)r->card.cmd[i][2] << 8 | r->card.cmd[i][3];
        size_t le = r->card.cmd[i][4] ? r->card.cmd[i][4] : 256;

        ck_assert_uint_eq(r->card.cmd[i][1], 0xB0);
        ck_assert_uint_eq(off, 256 * (i - 1));
        ck_assert_uint_le(off + le, f.n - 200);
    }
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_read_errors)
{
    struct rig *r = g_rig;
    struct buf f;
    struct cardinfo ci;

    make_cardinfo(&f, NAME, strlen(NAME), 0, 0);
    r->card.data = f.b;
    r->card.data_len = f.n;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    /* Not verified: 6982, the output wiped. */
    memset(&ci, 0xAA, sizeof(ci));
    ck_assert_int_eq(cardinfo_read(r->j, &ci), MYNA_E_SECURITY);
    ck_assert(all_zero(&ci, sizeof(ci)));

    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"1234", 4, NULL),
                     0);
    /* The header claims more than the file holds: the card's 6B00. */
    f.b[2] = (uint8_t)(f.b[2] + 40);
    memset(&ci, 0xAA, sizeof(ci));
    ck_assert_int_eq(cardinfo_read(r->j, &ci), MYNA_E_BAD_RESPONSE);
    ck_assert(all_zero(&ci, sizeof(ci)));
    /* Another outer tag: refused after the first READ BINARY. */
    make_cardinfo(&f, NAME, strlen(NAME), 0, 600);
    f.b[1] = 0x21;
    r->card.data_len = f.n;
    r->card.n = 0;
    ck_assert_int_eq(cardinfo_read(r->j, &ci), MYNA_E_BAD_RESPONSE);
    ck_assert_uint_eq(count_ins(&r->card, 0xB0), 1);
    /* An outer length beyond any card-info file: nothing more read. */
    make_cardinfo(&f, NAME, strlen(NAME), 0, 0);
    f.b[2] = 0x84;
    r->card.data_len = f.n;
    r->card.n = 0;
    ck_assert_int_eq(cardinfo_read(r->j, &ci), MYNA_E_BAD_RESPONSE);
    ck_assert_uint_eq(count_ins(&r->card, 0xB0), 1);
    ck_assert(all_zero(&ci, sizeof(ci)));
    /* No such application. */
    r->card.has_cardinfo = false;
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_read(r->j, &ci), MYNA_E_NOT_FOUND);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The shared selection cache.                                         */

/* After another application, the next JPKI command selects the JPKI AP
 * again; without one in between, it does not (the cache works, so the
 * first half can fail). */
START_TEST(test_jpki_reselected)
{
    struct rig *r = g_rig;
    struct jpki_token_info ti;
    struct cardinfo ci;
    struct buf f;
    char num[MYNA_MFG_NUMBER_LEN + 1];
    size_t mark;

    r->card.record = RECORD;
    r->card.record_len = sizeof(RECORD);
    make_cardinfo(&f, NAME, strlen(NAME), 0, 0);
    r->card.data = f.b;
    r->card.data_len = f.n;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_token_label(r->j, &ti), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, 0, JPKI_AID), 1);
    mark = r->card.n;
    ck_assert_int_eq(jpki_read_token_label(r->j, &ti), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, JPKI_AID), 0);

    ck_assert_int_eq(myna_read_mfg_number(r->j, num), 0);
    mark = r->card.n;
    ck_assert_int_eq(jpki_read_token_label(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKIAPICCTOKEN2");
    ck_assert_uint_eq(count_select_ap(&r->card, mark, JPKI_AID), 1);

    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"1234", 4, NULL),
                     0);
    ck_assert_int_eq(cardinfo_read(r->j, &ci), 0);
    cardinfo_clear(&ci);
    mark = r->card.n;
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, JPKI_AID), 1);
    /* And back: the card-info AP is selected again after JPKI. */
    mark = r->card.n;
    ck_assert_int_eq(cardinfo_pin_tries(r->j, &(int){ 0 }), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, MYNA_CARDINFO_AID), 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* The manufacture number's AP is not the card-info AP: going from one to
 * the other selects. */
START_TEST(test_other_aps_distinct)
{
    struct rig *r = g_rig;
    char num[MYNA_MFG_NUMBER_LEN + 1];
    int tries = 0;
    size_t mark;

    r->card.record = RECORD;
    r->card.record_len = sizeof(RECORD);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(cardinfo_pin_tries(r->j, &tries), 0);
    mark = r->card.n;
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, MYNA_MFG_AID), 1);
    mark = r->card.n;
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, MYNA_MFG_AID), 0);
    mark = r->card.n;
    ck_assert_int_eq(cardinfo_pin_tries(r->j, &tries), 0);
    ck_assert_uint_eq(count_select_ap(&r->card, mark, MYNA_CARDINFO_AID), 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The APDU log.                                                       */

static char g_log[1 << 16];
static struct check_log g_logc = { g_log, sizeof(g_log), 0 };

/* With every APDU logged, the card-info PIN, the manufacture number and
 * the four facts never appear, while the token label read in the same
 * session does (the log would have shown them). */
START_TEST(test_not_logged)
{
    struct rig *r = g_rig;
    struct jpki_token_info ti;
    struct cardinfo ci;
    struct buf f;
    char num[MYNA_MFG_NUMBER_LEN + 1];

    r->card.record = RECORD;
    r->card.record_len = sizeof(RECORD);
    make_cardinfo(&f, NAME, strlen(NAME), 0, 0);
    r->card.data = f.b;
    r->card.data_len = f.n;
    g_logc.len = 0;
    g_log[0] = '\0';
    myna_log_set(MYNA_LOG_APDU, check_log_sink, &g_logc);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_token_label(r->j, &ti), 0);
    ck_assert_int_eq(myna_read_mfg_number(r->j, num), 0);
    ck_assert_int_eq(cardinfo_verify(r->j, (const uint8_t *)"4821", 4, NULL),
                     0);
    ck_assert_int_eq(cardinfo_read(r->j, &ci), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    myna_log_set(MYNA_LOG_OFF, NULL, NULL);
    cardinfo_clear(&ci);

    ck_assert_msg(check_log_has_bytes(&g_logc, "JPKIAPICCTOKEN2", 15),
                  "the log shows no answer");
    ck_assert_ptr_nonnull(strstr(g_log, "> 00 B2 01 0C 00"));
    ck_assert(!check_log_has_bytes(&g_logc, "4821", 4));
    ck_assert(!check_log_has_bytes(&g_logc, "AB12345678901", 13));
    ck_assert(!check_log_has_bytes(&g_logc, NAME, 9));
    ck_assert(!check_log_has_bytes(&g_logc, ADDRESS, 9));
    ck_assert(!check_log_has_bytes(&g_logc, BIRTH, 8));
}
END_TEST

/* ------------------------------------------------------------------ */
/* The parser of EF 0002.                                              */

enum mutation {
    M_GOOD_SHORT,      /* shortest lengths */
    M_GOOD_81,         /* outer length in the 81 form */
    M_GOOD_82,         /* 82 */
    M_GOOD_84,         /* 84 */
    M_GOOD_FILLER,     /* FF filler after the outer TLV */
    M_GOOD_TRAILER,    /* a well-formed TLV after DF25 inside */
    M_GOOD_FIELD_MAX,  /* a name of exactly MYNA_CARDINFO_FIELD_MAX */
    M_BAD_OUTER_TAG,
    M_BAD_ORDER,       /* DF23 before DF22 */
    M_BAD_MISSING_SEX,
    M_BAD_FIELD_OVER,  /* a name of MYNA_CARDINFO_FIELD_MAX + 1 */
    M_BAD_TRUNCATED,   /* the buffer ends inside the outer value */
    M_BAD_INNER_OVER,  /* the sex TLV runs past the outer value */
    M_BAD_INDEFINITE,
    M_BAD_UTF8,        /* a lone continuation byte in the address */
    M_BAD_OVERLONG,    /* an overlong encoding of '/' */
    M_BAD_SURROGATE,   /* an encoded surrogate */
    M_BAD_NUL,         /* a NUL inside the name */
    M_BAD_TRAILER,     /* garbage after DF25 inside */
    M_BAD_EMPTY,
    M_BAD_ONLY_HEADER,
    M_COUNT
};

static size_t build_case(enum mutation m, struct buf *f)
{
    struct buf in = { .n = 0 };
    static const uint8_t first[2] = { 0x00, 0x00 };
    char big[MYNA_CARDINFO_FIELD_MAX + 1];
    const char *name = NAME;
    size_t namelen = strlen(NAME);
    const char *addr = ADDRESS;
    size_t addrlen = strlen(ADDRESS);
    int form = 0;

    memset(big, 'n', sizeof(big));
    if (m == M_GOOD_FIELD_MAX || m == M_BAD_FIELD_OVER) {
        name = big;
        namelen = MYNA_CARDINFO_FIELD_MAX + (m == M_BAD_FIELD_OVER);
    }
    if (m == M_BAD_UTF8)
        addr = "abc\x80";
    else if (m == M_BAD_OVERLONG)
        addr = "a\xc0\xaf";
    else if (m == M_BAD_SURROGATE)
        addr = "\xed\xa0\x80";
    if (addr != ADDRESS)
        addrlen = strlen(addr);
    if (m == M_BAD_NUL)
        namelen = strlen(NAME) + 1;  /* with its NUL, inside the field */

    put_tlv(&in, 0xDF21, first, sizeof(first), 0);
    if (m == M_BAD_ORDER) {
        put_tlv(&in, 0xDF23, addr, addrlen, 0);
        put_tlv(&in, 0xDF22, name, namelen, 0);
    } else {
        put_tlv(&in, 0xDF22, name, namelen, 0);
        put_tlv(&in, 0xDF23, addr, addrlen, 0);
    }
    put_tlv(&in, 0xDF24, BIRTH, 8, 0);
    if (m != M_BAD_MISSING_SEX)
        put_tlv(&in, 0xDF25, SEX, 1, 0);
    if (m == M_BAD_INNER_OVER)
        in.b[in.n - 2] = 2;   /* DF25's length: one byte more than there is */
    if (m == M_GOOD_TRAILER)
        put_tlv(&in, 0xDF26, "x", 1, 0);
    if (m == M_BAD_TRAILER)
        in.b[in.n++] = 0xDF;

    if (m == M_GOOD_81)
        form = 0x81;
    else if (m == M_GOOD_82)
        form = 0x82;
    else if (m == M_GOOD_84)
        form = 0x84;
    f->n = 0;
    put_tlv(f, m == M_BAD_OUTER_TAG ? 0xFF21 : 0xFF20, in.b, in.n, form);
    if (m == M_BAD_INDEFINITE)
        f->b[2] = 0x80;
    if (m == M_GOOD_FILLER) {
        memset(f->b + f->n, 0xFF, 100);
        f->n += 100;
    }
    if (m == M_BAD_TRUNCATED)
        f->n -= 5;
    if (m == M_BAD_EMPTY)
        f->n = 0;
    if (m == M_BAD_ONLY_HEADER)
        f->n = 3;
    return f->n;
}

START_TEST(test_parse)
{
    enum mutation m = (enum mutation)_i;
    struct buf f;
    struct cardinfo ci;
    size_t len = build_case(m, &f);
    int err;

    memset(&ci, 0xAA, sizeof(ci));
    err = cardinfo_parse(f.b, len, &ci);
    if (m <= M_GOOD_FIELD_MAX) {
        ck_assert_msg(err == 0, "case %d: %d", _i, err);
        if (m == M_GOOD_FIELD_MAX) {
            ck_assert_uint_eq(ci.name_len, MYNA_CARDINFO_FIELD_MAX);
            ck_assert_uint_eq(ci.name[MYNA_CARDINFO_FIELD_MAX], 0);
        } else {
            ck_assert_str_eq(ci.name, NAME);
        }
        ck_assert_str_eq(ci.address, ADDRESS);
        ck_assert_str_eq(ci.birth, BIRTH);
        ck_assert_str_eq(ci.sex, SEX);
    } else {
        ck_assert_msg(err == MYNA_E_BAD_RESPONSE, "case %d: %d", _i, err);
        ck_assert_msg(all_zero(&ci, sizeof(ci)), "case %d: output left", _i);
    }
}
END_TEST

/* Every prefix of a good file is refused, and the parser reads nothing
 * beyond what it is given (valgrind/ASan would see it). */
START_TEST(test_parse_prefixes)
{
    struct buf f;
    struct cardinfo ci;
    size_t len = build_case(M_GOOD_SHORT, &f), n;

    for (n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);

        ck_assert_ptr_nonnull(copy);
        memcpy(copy, f.b, n);
        ck_assert_int_eq(cardinfo_parse(copy, n, &ci), MYNA_E_BAD_RESPONSE);
        free(copy);
    }
    ck_assert_int_eq(cardinfo_parse(f.b, len, &ci), 0);
}
END_TEST

START_TEST(test_args)
{
    struct cardinfo ci;
    char num[MYNA_MFG_NUMBER_LEN + 1];
    int tries;

    ck_assert_int_eq(cardinfo_parse(NULL, 0, &ci), MYNA_E_ARGS);
    ck_assert_int_eq(cardinfo_parse((const uint8_t *)"", 0, NULL),
                     MYNA_E_ARGS);
    ck_assert_int_eq(myna_parse_mfg_record(NULL, 0, num), MYNA_E_ARGS);
    ck_assert_int_eq(myna_read_mfg_number(NULL, num), MYNA_E_ARGS);
    ck_assert_int_eq(cardinfo_pin_tries(NULL, &tries), MYNA_E_ARGS);
    ck_assert_int_eq(cardinfo_verify(NULL, (const uint8_t *)"1234", 4, NULL),
                     MYNA_E_ARGS);
    ck_assert_int_eq(cardinfo_read(NULL, &ci), MYNA_E_ARGS);
    cardinfo_clear(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Against the virtual card.                                           */

static char g_emu_root[PATH_MAX];
static char g_emu_card[PATH_MAX];   /* empty if init failed */

static void emu_setup(void)
{
    const char *tmp = getenv("MYNACARD_TEST_TMP");
    struct emu_init_params p;
    char cmd[PATH_MAX + 16];
    int n;

    g_emu_card[0] = '\0';
    if (!tmp || !*tmp)
        tmp = "/tmp";
    n = snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmp);
    if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0)
        tmp = "/tmp";
    n = snprintf(g_emu_root, sizeof(g_emu_root), "%s/test-cardinfo-XXXXXX",
                 tmp);
    if (n < 0 || (size_t)n >= sizeof(g_emu_root) || !mkdtemp(g_emu_root)) {
        g_emu_root[0] = '\0';
        return;
    }
    emu_init_params_default(&p);
    n = snprintf(g_emu_card, sizeof(g_emu_card), "%s/card", g_emu_root);
    if (n < 0 || (size_t)n >= sizeof(g_emu_card) ||
        emu_card_init(g_emu_card, &p) != 0)
        g_emu_card[0] = '\0';
}

static void emu_teardown(void)
{
    char cmd[PATH_MAX + 16];
    int n;

    if (!g_emu_root[0])
        return;
    n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_emu_root);
    if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0)
        fprintf(stderr, "test-cardinfo: could not remove %s\n", g_emu_root);
    g_emu_root[0] = '\0';
}

/* The Mynaportal host's reads, in each profile, through the callback
 * transport: the manufacture number, the card-info PIN (a wrong one, then
 * the right one), EF 0002 with the facts the card was made with, and the
 * JPKI AP still usable after it. */
START_TEST(test_emu_end_to_end)
{
    static const enum emu_profile profiles[] = {
        EMU_PROFILE_CLASSIC, EMU_PROFILE_STRICT, EMU_PROFILE_CONTACTLESS
    };
    struct emu_options o = { .profile = profiles[_i] };
    struct emu_init_params d;
    struct emu_card *card = NULL;
    struct tp_card_cb cb;
    struct transport *t = NULL;
    struct jpki *j = NULL;
    struct jpki_token_info ti;
    struct cardinfo ci;
    char num[MYNA_MFG_NUMBER_LEN + 1];
    int tries = 42;

    ck_assert_msg(g_emu_card[0], "no virtual card");
    emu_init_params_default(&d);
    ck_assert_int_eq(emu_card_open(g_emu_card, &o, &card), 0);
    emu_card_callbacks(card, &cb);
    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    ck_assert_int_eq(jpki_new(t, &j), 0);

    ck_assert_int_eq(jpki_begin(j), 0);
    ck_assert_int_eq(jpki_read_token_label(j, &ti), 0);
    ck_assert_int_eq(myna_read_mfg_number(j, num), 0);
    ck_assert_str_eq(num, d.mfg_number);
    ck_assert_int_eq(cardinfo_pin_tries(j, &tries), 0);
    ck_assert_int_eq(tries, MYNA_CARDINFO_TRIES);
    ck_assert_int_eq(cardinfo_read(j, &ci), MYNA_E_SECURITY);
    ck_assert_int_eq(cardinfo_verify(j, (const uint8_t *)"9999", 4, &tries),
                     MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 2);
    ck_assert_int_eq(emu_card_tries(card, 2), 2);
    ck_assert_int_eq(cardinfo_verify(j, (const uint8_t *)d.text_pin, 4,
                                     &tries), 0);
    ck_assert_int_eq(emu_card_tries(card, 2), 3);
    ck_assert_int_eq(cardinfo_read(j, &ci), 0);
    ck_assert_str_eq(ci.name, d.name);
    ck_assert_str_eq(ci.address, d.address);
    ck_assert_str_eq(ci.birth, d.birth + 1);
    ck_assert_str_eq(ci.sex, d.sex);
    cardinfo_clear(&ci);
    /* JPKI again, in the same transaction. */
    ck_assert_int_eq(jpki_read_token_label(j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKIAPICCTOKEN2");
    ck_assert_int_eq(jpki_end(j, true), 0);

    jpki_free(j);
    tp_free(t);
    emu_card_close(card);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "parse");
    tcase_add_loop_test(tc, test_mfg_parse, 0, (int)NMFG);
    tcase_add_loop_test(tc, test_parse, 0, M_COUNT);
    check_add_tests(tc, test_parse_prefixes, test_args);

    tc = check_tcase(s, "scripted");
    tcase_add_checked_fixture(tc, rig_setup, rig_teardown);
    check_add_tests(tc, test_mfg_read, test_mfg_errors, test_verify_apdus);
    tcase_add_loop_test(tc, test_verify_sw, 0, (int)NVERIFY);
    tcase_add_loop_test(tc, test_bad_pin_never_sent, 0, (int)NBADPIN);
    check_add_tests(tc, test_tries_sw, test_read, test_read_long,
                    test_read_errors, test_jpki_reselected,
                    test_other_aps_distinct, test_not_logged);

    tc = check_tcase(s, "emu");
    tcase_add_unchecked_fixture(tc, emu_setup, emu_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, test_emu_end_to_end, 0, 3);
}
