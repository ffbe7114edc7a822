/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The fuzzers' scripted card: a simulated card for the callback transport
 * whose answers are not computed but played, one after the other, from the
 * fuzz input, so that everything above the transport (the APDU exchange,
 * the JPKI application) runs for real on whatever bytes the fuzzer makes
 * up.  Layer: test code under tests/fuzz/, on top of the card layer's
 * public headers (apdu.h, transport.h); it calls nothing else.
 *
 * The script is a sequence of frames, one per command the host sends:
 *
 *   L             0x00..0x7F: an answer of L bytes follows
 *   H L           H 0x80..0xFE: an answer of ((H & 0x7F) << 8 | L) bytes
 *                 follows (up to 32511)
 *   FF E          no answer: the transport fails with an error chosen by
 *                 E % 4: CARD_RESET, TRANSPORT, NO_CARD, BUFFER_SMALL
 *
 * An answer is the response APDU: data, then SW1 SW2.  A frame cut short by
 * the end of the input plays the bytes that are there; once the input is
 * used up the card is gone (MYNA_E_NO_CARD), so every run ends.
 */
#ifndef MYNA_FUZZ_CARD_H
#define MYNA_FUZZ_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct transport;

#define FUZZ_FRAME_SHORT_MAX 0x7Fu
#define FUZZ_FRAME_LONG_MAX 0x7EFFu
#define FUZZ_FRAME_CONTROL 0xFFu

struct fuzz_card {
    const uint8_t *p;       /* the rest of the script */
    size_t left;
    unsigned commands;      /* how many commands the host sent */
    uint8_t last_ins;       /* the INS of the last one that was not a
                             * GET RESPONSE (which only continues it) */
    size_t last_lc;         /* and its Lc */
};

/* Start playing @data (@size bytes; not copied: keep it alive). */
void fuzz_card_init(struct fuzz_card *fc, const uint8_t *data, size_t size);

/*
 * Play the next frame into @resp (@cap bytes).  Returns 0 with *@resplen
 * set, or the transport error the frame asks for, or MYNA_E_NO_CARD when
 * the script is over.  Answers longer than @cap are cut to @cap.
 */
int fuzz_card_next(struct fuzz_card *fc, uint8_t *resp, size_t cap,
                   size_t *resplen);

/*
 * A tp_xfer_fn over a struct fuzz_card (@ctx): checks that the host's
 * command is a well-formed APDU (abort() if not: the host encoder has a
 * bug), then plays the next frame.
 */
int fuzz_card_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                   uint8_t *resp, size_t cap, size_t *resplen);

/* A callback transport whose card is @fc.  Returns 0 or an error. */
int fuzz_card_transport(struct fuzz_card *fc, struct transport **out);

/* Write the frame header for an answer of @len bytes (at most
 * FUZZ_FRAME_LONG_MAX) into @hdr (2 bytes); returns its length. */
size_t fuzz_frame_header(size_t len, uint8_t hdr[2]);

/* Read every byte of @buf so that ASan sees an overread at once, and
 * return something derived from them so that the reads stay. */
uint8_t fuzz_touch(const uint8_t *buf, size_t len);

/* Turn the card layer's log on (at the APDU level, into a sink that only
 * reads the line) or off, so that the log code is fuzzed as well. */
void fuzz_log(bool on);

/* The JPKI session of fuzz-jpki.c over @t, configured by @cfg (the first
 * input byte).  @fc, when not NULL, is the card behind @t: its record of
 * the last command is then checked against what each call returns.  The
 * seed recorder (mkseed.c) runs it against the virtual card. */
void fuzz_jpki_session(struct transport *t, uint8_t cfg,
                       const struct fuzz_card *fc);

/* Aborts, which the fuzzer reports, when @cond is false: @prog, the
 * file, the line and the condition on stderr. */
#define FUZZ_CHECK(prog, cond)                                                 \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s: %s:%d: %s\n", prog, __FILE__, __LINE__,       \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
