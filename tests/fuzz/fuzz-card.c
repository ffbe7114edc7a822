/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The fuzzers' scripted card (see fuzz-card.h for the script format) and
 * small helpers every target shares.  Layer: test code under tests/fuzz/;
 * calls the card layer's public API (apdu_decode, tp_callback_new,
 * myna_log_set) and libc only.
 */
#include "fuzz-card.h"

#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "log.h"
#include "myna-err.h"
#include "transport.h"

/* The ATR of the first real card in doc/jpki-card.md. */
static const uint8_t fuzz_atr[] = {
    0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14
};

void fuzz_card_init(struct fuzz_card *fc, const uint8_t *data, size_t size)
{
    fc->p = data;
    fc->left = data ? size : 0;
    fc->commands = 0;
    fc->last_ins = 0;
    fc->last_lc = 0;
}

static const int control_errors[4] = {
    MYNA_E_CARD_RESET, MYNA_E_TRANSPORT, MYNA_E_NO_CARD, MYNA_E_BUFFER_SMALL,
};

int fuzz_card_next(struct fuzz_card *fc, uint8_t *resp, size_t cap,
                   size_t *resplen)
{
    size_t len, hdr;
    uint8_t b0;
    int err;

    *resplen = 0;
    if (fc->left == 0)
        return MYNA_E_NO_CARD;
    b0 = fc->p[0];
    if (b0 == FUZZ_FRAME_CONTROL) {
        if (fc->left < 2) {
            fc->left = 0;
            return MYNA_E_NO_CARD;
        }
        err = control_errors[fc->p[1] % 4];
        fc->p += 2;
        fc->left -= 2;
        return err;
    }
    if (b0 <= FUZZ_FRAME_SHORT_MAX) {
        hdr = 1;
        len = b0;
    } else {
        if (fc->left < 2) {
            fc->left = 0;
            return MYNA_E_NO_CARD;
        }
        hdr = 2;
        len = ((size_t)(b0 & 0x7F) << 8) | fc->p[1];
    }
    fc->p += hdr;
    fc->left -= hdr;
    if (len > fc->left)
        len = fc->left;         /* a frame cut by the end of the input */
    if (len > cap)
        len = cap;
    if (len > 0)
        memcpy(resp, fc->p, len);
    fc->p += len;
    fc->left -= len;
    *resplen = len;
    return 0;
}

int fuzz_card_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                   uint8_t *resp, size_t cap, size_t *resplen)
{
    struct fuzz_card *fc = ctx;
    struct apdu a;

    /* Whatever the card said before, the host must only ever send
     * well-formed command APDUs. */
    if (apdu_decode(cmd, cmdlen, &a) != 0)
        abort();
    fuzz_touch(cmd, cmdlen);
    fc->commands++;
    if (a.ins != 0xC0) {
        fc->last_ins = a.ins;
        fc->last_lc = a.lc;
    }
    return fuzz_card_next(fc, resp, cap, resplen);
}

int fuzz_card_transport(struct fuzz_card *fc, struct transport **out)
{
    struct tp_card_cb cb;

    memset(&cb, 0, sizeof(cb));
    cb.xfer = fuzz_card_xfer;
    cb.ctx = fc;
    memcpy(cb.atr, fuzz_atr, sizeof(fuzz_atr));
    cb.atr_len = sizeof(fuzz_atr);
    return tp_callback_new(&cb, out);
}

size_t fuzz_frame_header(size_t len, uint8_t hdr[2])
{
    if (len <= FUZZ_FRAME_SHORT_MAX) {
        hdr[0] = (uint8_t)len;
        return 1;
    }
    hdr[0] = (uint8_t)(0x80 | (len >> 8));
    hdr[1] = (uint8_t)len;
    return 2;
}

uint8_t fuzz_touch(const uint8_t *buf, size_t len)
{
    volatile uint8_t acc = 0;
    size_t i;

    for (i = 0; i < len; i++)
        acc ^= buf[i];
    return acc;
}

static void fuzz_log_sink(void *ctx, const char *line)
{
    (void)ctx;
    fuzz_touch((const uint8_t *)line, strlen(line) + 1);
}

void fuzz_log(bool on)
{
    myna_log_set(on ? MYNA_LOG_APDU : MYNA_LOG_OFF, fuzz_log_sink, NULL);
}
