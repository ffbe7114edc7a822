/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for the APDU codec (apdu.h).  The whole input is first
 * parsed as a command APDU by apdu_decode() (the virtual card's parser),
 * which must re-encode to the same bytes, and as a response by
 * apdu_split_response() and apdu_sw_to_err().  Then its first five bytes
 * choose a command (case, Lc, Le, short or extended, secret flags) and the
 * caller's buffer size, and the rest is played by the scripted card
 * (fuzz-card.h) to apdu_transmit(), so that 61xx chains, 6Cxx resends,
 * truncated and oversized answers all come from the fuzzer.  The card
 * checks every command the host sends against what the previous answer
 * asked for, and a successful exchange must return exactly the data the
 * card sent.  Layer: test code; calls apdu.h and the callback transport.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "fuzz-card.h"
#include "myna-err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define HDR_LEN 5u

/*
 * The input's first five bytes: flags (below); CLA, INS and P2 (and the
 * low byte of a big Le); P1 and Lc; Le; the caller's buffer size (bit 7
 * set: 0..127 bytes, else an entry of caps[]).
 */
#define F_DATA 0x01u        /* a data field (case 3 or 4) */
#define F_LE 0x02u          /* an Le field (case 2 or 4) */
#define F_EXT 0x04u         /* force extended lengths */
#define F_SECRET 0x08u
#define F_SECRET_RESP 0x10u
#define F_LOG 0x20u
#define F_BIG_LC 0x40u      /* Lc above 255 */
#define F_BIG_LE 0x80u      /* Le above 256 */

static const size_t caps[16] = {
    0, 1, 2, 3, 16, 100, 255, 256, 257, 258, 511, 1024, 4096, 16384,
    65536, 65538,
};

/* The scripted card, and what it has sent so far. */
struct apdu_card {
    struct fuzz_card fc;
    struct apdu cmd;        /* the command apdu_transmit() was asked for */
    uint8_t first[APDU_CMD_MAX];
    size_t first_len;
    uint16_t last_sw;       /* SW of the last answer (0: none yet) */
    uint8_t last_ins;       /* INS of the last command */
    uint8_t *sent;          /* the data of every answer but 6Cxx ones */
    size_t sent_len, sent_cap;
    uint16_t final_sw;
};

static int apdu_card_xfer(void *ctx, const uint8_t *cmdbuf, size_t cmdlen,
                          uint8_t *resp, size_t cap, size_t *resplen)
{
    struct apdu_card *c = ctx;
    struct apdu got;
    uint8_t sw1;
    size_t n;
    int err;

    CHECK(apdu_decode(cmdbuf, cmdlen, &got) == 0);
    if (c->fc.commands == 0) {
        /* The first command is the one asked for, encoded as
         * apdu_encode() does it. */
        CHECK(cmdlen == c->first_len);
        CHECK(memcmp(cmdbuf, c->first, cmdlen) == 0);
    } else {
        sw1 = (uint8_t)(c->last_sw >> 8);
        /* Only 61xx and 6Cxx make apdu_transmit() send anything more. */
        CHECK(sw1 == 0x61 || sw1 == 0x6C);
        if (sw1 == 0x61) {
            CHECK(cmdlen == 5);
            CHECK(cmdbuf[0] == 0x00 && cmdbuf[1] == 0xC0 &&
                  cmdbuf[2] == 0x00 && cmdbuf[3] == 0x00);
            CHECK(cmdbuf[4] == (uint8_t)c->last_sw);
        } else {
            /* The same command again, with Le = SW2 (00: 256). */
            CHECK(got.ins == c->last_ins);
            CHECK(got.le == ((c->last_sw & 0xFF) ? (c->last_sw & 0xFF)
                                                 : APDU_SHORT_LE_MAX));
            if (got.ins == c->cmd.ins) {
                CHECK(got.lc == c->cmd.lc);
                CHECK(got.lc == 0 ||
                      memcmp(got.data, c->cmd.data, got.lc) == 0);
            }
        }
    }
    c->last_ins = got.ins;
    c->fc.commands++;

    err = fuzz_card_next(&c->fc, resp, cap, &n);
    *resplen = n;
    if (err < 0 || n < 2)
        return err;
    c->last_sw = (uint16_t)((resp[n - 2] << 8) | resp[n - 1]);
    if ((c->last_sw >> 8) != 0x6C && n - 2 <= c->sent_cap - c->sent_len) {
        memcpy(c->sent + c->sent_len, resp, n - 2);
        c->sent_len += n - 2;
    }
    return 0;
}

/* apdu_decode() on arbitrary bytes; whatever it accepts must encode back
 * to the same bytes. */
static void fuzz_decode(const uint8_t *data, size_t size)
{
    struct apdu a;
    uint8_t *out;
    size_t outlen = 0;
    int err;

    err = apdu_decode(data, size, &a);
    if (err != 0) {
        CHECK(err == MYNA_E_BAD_RESPONSE);
        return;
    }
    CHECK(size >= 4);
    CHECK(a.lc <= APDU_EXT_LC_MAX && a.le <= APDU_EXT_LE_MAX);
    CHECK((a.lc == 0) == (a.data == NULL));
    if (a.lc > 0) {
        CHECK(a.data >= data + 5 && a.data + a.lc <= data + size);
        fuzz_touch(a.data, a.lc);
    }
    out = malloc(size);
    if (!out)
        return;
    CHECK(apdu_encode(&a, out, size, &outlen) == 0);
    CHECK(outlen == size && memcmp(out, data, size) == 0);
    /* One byte less must be refused, not overrun. */
    CHECK(apdu_encode(&a, out, size - 1, &outlen) == MYNA_E_BUFFER_SMALL);
    free(out);
}

/* apdu_split_response() and the status word helpers. */
static void fuzz_status(const uint8_t *data, size_t size)
{
    size_t datalen = 0;
    uint16_t sw = 0;
    int err, tries;

    err = apdu_split_response(data, size, &sw, &datalen);
    if (size < 2) {
        CHECK(err == MYNA_E_BAD_RESPONSE);
        return;
    }
    CHECK(err == 0);
    CHECK(datalen == size - 2);
    CHECK(sw == ((data[size - 2] << 8) | data[size - 1]));

    err = apdu_sw_to_err(sw);
    tries = apdu_sw_tries_left(sw);
    CHECK(err <= 0 && err >= MYNA_E_MEMORY_FAILURE);
    CHECK(myna_strerror(err) != NULL);
    CHECK((err == 0) == (sw == SW_OK));
    if ((sw & 0xFFF0) == 0x63C0) {
        CHECK(tries == (sw & 0x0F));
        CHECK(err == (tries ? MYNA_E_PIN_INCORRECT : MYNA_E_PIN_LOCKED));
    } else {
        CHECK(tries == -1);
    }
}

/* The command the first bytes describe. */
static void build_command(const uint8_t *h, struct apdu *a, uint8_t *payload,
                          size_t *cap)
{
    uint8_t flags = h[0];
    size_t i;

    memset(a, 0, sizeof(*a));
    a->cla = (h[1] & 0x80) ? 0x80 : 0x00;
    a->ins = (h[1] & 0x40) ? 0x2A : 0xB0;
    a->p1 = h[2] & 0x7F;
    a->p2 = h[1];
    if (flags & F_DATA) {
        a->lc = 1 + (h[2] & 0x3F);
        if (flags & F_BIG_LC)
            a->lc = 256 + ((size_t)h[2] << 4);
        for (i = 0; i < a->lc; i++)
            payload[i] = (uint8_t)(i * 7 + 1);
        a->data = payload;
    }
    if (flags & F_LE) {
        a->le = h[3] ? h[3] : APDU_SHORT_LE_MAX;  /* 1..256 */
        if (flags & F_BIG_LE)
            a->le = 257 + ((((size_t)h[3] << 8) | h[1]) %
                           (APDU_EXT_LE_MAX - APDU_SHORT_LE_MAX));
    }
    a->extended = (flags & F_EXT) != 0;
    a->secret = (flags & F_SECRET) != 0;
    a->secret_response = (flags & F_SECRET_RESP) != 0;
    if (h[4] & 0x80)
        *cap = h[4] & 0x7F;
    else
        *cap = caps[h[4] & 0x0F];
}

static void fuzz_transmit(const uint8_t *data, size_t size)
{
    static uint8_t payload[256 + (255u << 4)];
    struct apdu_card card;
    struct transport *t = NULL;
    struct tp_card_cb cb;
    struct apdu a;
    uint8_t *resp = NULL;
    size_t cap = 0, resplen = 77;
    uint16_t sw = 77;
    int err;

    if (size < HDR_LEN)
        return;
    memset(&card, 0, sizeof(card));
    build_command(data, &a, payload, &cap);
    fuzz_log((data[0] & F_LOG) != 0);
    card.cmd = a;
    CHECK(apdu_encode(&a, card.first, sizeof(card.first),
                      &card.first_len) == 0);
    fuzz_card_init(&card.fc, data + HDR_LEN, size - HDR_LEN);
    card.sent_cap = size;
    card.sent = malloc(card.sent_cap);
    if (!card.sent)
        goto out;
    if (cap > 0) {
        resp = malloc(cap);
        if (!resp)
            goto out;
    }

    memset(&cb, 0, sizeof(cb));
    cb.xfer = apdu_card_xfer;
    cb.ctx = &card;
    if (tp_callback_new(&cb, &t) != 0)
        goto out;

    err = apdu_transmit(t, &a, resp, cap, &resplen, &sw);
    if (err != 0) {
        CHECK(err == MYNA_E_BUFFER_SMALL || err == MYNA_E_BAD_RESPONSE ||
              err == MYNA_E_NO_CARD || err == MYNA_E_CARD_RESET ||
              err == MYNA_E_TRANSPORT);
        CHECK(resplen == 0 && sw == 0);
        goto out;
    }
    /* Exactly the data the card sent, and a final status word. */
    CHECK(resplen <= cap);
    CHECK(resplen == card.sent_len);
    CHECK(resplen == 0 || memcmp(resp, card.sent, resplen) == 0);
    CHECK(sw == card.last_sw);
    CHECK((sw >> 8) != 0x61 && (sw >> 8) != 0x6C);
    if (resplen > 0)
        fuzz_touch(resp, resplen);
out:
    tp_free(t);
    free(resp);
    free(card.sent);
    fuzz_log(false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode(data, size);
    fuzz_status(data, size);
    fuzz_transmit(data, size);
    return 0;
}
