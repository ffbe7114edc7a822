/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * ISO/IEC 7816-4 command and response APDUs: encoding (cases 1 to 4, short
 * and extended lengths), status words, and one exchange over a transport
 * that follows 61xx (GET RESPONSE) and 6Cxx (resend with the right Le).
 * Layer: below the JPKI application, above the transport.  Pure functions
 * except apdu_transmit(), which calls the transport.
 */
#ifndef MYNA_APDU_H
#define MYNA_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct transport;

#define APDU_SHORT_LC_MAX 255u
#define APDU_SHORT_LE_MAX 256u    /* Le byte 00 */
#define APDU_EXT_LC_MAX 65535u
#define APDU_EXT_LE_MAX 65536u    /* Le bytes 00 00 */
/* The largest encoded command: 4 header + 3 Lc + 65535 data + 2 Le. */
#define APDU_CMD_MAX (4u + 3u + APDU_EXT_LC_MAX + 2u)

#define SW_OK 0x9000u

struct apdu {
    uint8_t cla, ins, p1, p2;
    const uint8_t *data;  /* command data, NULL when lc == 0 */
    size_t lc;            /* 0: no data field (case 1 or 2) */
    size_t le;            /* 0: no Le field (case 1 or 3); 1..256 short,
                           * up to 65536 extended */
    bool extended;        /* force extended lengths even when short fit */
    bool secret;          /* data is a PIN: redacted in every log */
    bool secret_response; /* the answer is personal data (the signature
                           * certificate): redacted in every log and
                           * wiped from internal buffers */
};

/*
 * Encode @a into @out (@cap bytes).  Extended lengths are used when
 * a->extended is set or when lc > 255 or le > 256.  Returns 0 and sets
 * *@outlen, MYNA_E_ARGS for an impossible APDU (lc > 65535, le > 65536,
 * data NULL with lc > 0), MYNA_E_BUFFER_SMALL if @cap is too small.
 */
int apdu_encode(const struct apdu *a, uint8_t *out, size_t cap, size_t *outlen);

/*
 * Decode a command APDU (the card's side: the virtual card and the fuzzers
 * use it).  Fills @a with pointers into @buf.  Returns 0, or
 * MYNA_E_BAD_RESPONSE for anything that is not a well-formed case 1-4 APDU
 * (the name says response; for a card it is the peer's input all the same).
 */
int apdu_decode(const uint8_t *buf, size_t len, struct apdu *a);

/* Split a response: SW1 SW2 are its last two bytes.  Returns 0 and sets
 * *@sw and *@datalen, or MYNA_E_BAD_RESPONSE when @len < 2. */
int apdu_split_response(const uint8_t *resp, size_t len, uint16_t *sw,
                        size_t *datalen);

/*
 * The meaning of a final status word as an enum myna_err: 9000 -> 0,
 * 63Cx -> MYNA_E_PIN_INCORRECT (x > 0) or MYNA_E_PIN_LOCKED (x == 0),
 * 6983/6984 -> MYNA_E_PIN_LOCKED, 6982 -> MYNA_E_SECURITY,
 * 6A82 -> MYNA_E_NOT_FOUND, 6700 -> MYNA_E_WRONG_LENGTH,
 * 6B00 -> MYNA_E_OFFSET, 6D00 -> MYNA_E_INS, 6E00 -> MYNA_E_CLA, and so on.
 * Warnings 62xx are treated as errors (MYNA_E_CARD): the JPKI card never
 * sends them on success.
 */
int apdu_sw_to_err(uint16_t sw);

/* For 63Cx: x, the tries left; -1 for any other status word. */
int apdu_sw_tries_left(uint16_t sw);

/*
 * One command and its complete response over @t (inside a transaction the
 * caller opened).  Follows 61xx with GET RESPONSE (at most 64 rounds, the
 * total bounded by @cap) and 6Cxx by resending once with Le = xx.  Writes
 * the response data (without SW) to @resp and its length to *@resplen,
 * the final status word to *@sw.
 * Returns 0 whenever the card answered (whatever the status word: map it
 * with apdu_sw_to_err()), MYNA_E_BUFFER_SMALL if the data exceed @cap,
 * MYNA_E_BAD_RESPONSE for malformed answers, or a transport error.
 * @resp may be NULL when @cap is 0.
 */
int apdu_transmit(struct transport *t, const struct apdu *a, uint8_t *resp,
                  size_t cap, size_t *resplen, uint16_t *sw);

#endif
