/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * ISO/IEC 7816-4 command APDUs (cases 1 to 4, short and extended lengths),
 * status words, and one complete exchange that follows 61xx with GET
 * RESPONSE and 6Cxx with a resend.  Layer: the APDU codec of apdu/, below
 * the JPKI application; calls only the transport (transport.h), the log
 * and OpenSSL's OPENSSL_cleanse.  Every byte from the card is untrusted.
 */
#include "apdu.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "myna-err.h"
#include "transport.h"

/* The most a transport can return for one command: 65536 data + SW. */
#define APDU_RESP_MAX (APDU_EXT_LE_MAX + 2u)
/*
 * GET RESPONSE rounds are bounded by progress, not by a count: every
 * answer to a GET RESPONSE that announces more (61xx) must bring at least
 * one byte, and the bytes are bounded by the caller's @cap.  So a card that
 * chains in 1-byte chunks still works (slowly), and one that keeps saying
 * 61xx without data is stopped at once.  Only the answer to the command
 * itself may be empty (T=0 cards answer a case 4 command with 61xx).
 */

/* The encoded size of @a, which apdu_encode() has already validated. */
static size_t encoded_size(const struct apdu *a, bool ext)
{
    size_t n = 4;

    if (a->lc > 0)
        n += (ext ? 3 : 1) + a->lc;
    if (a->le > 0) {
        if (!ext)
            n += 1;
        else if (a->lc > 0)
            n += 2;     /* Le after an extended Lc: HH LL */
        else
            n += 3;     /* case 2E: 00 HH LL */
    }
    return n;
}

int apdu_encode(const struct apdu *a, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t n, pos;
    bool ext;

    if (!a || !outlen || (!out && cap > 0))
        return MYNA_E_ARGS;
    if (a->lc > APDU_EXT_LC_MAX || a->le > APDU_EXT_LE_MAX)
        return MYNA_E_ARGS;
    if (a->lc > 0 && !a->data)
        return MYNA_E_ARGS;

    ext = a->extended || a->lc > APDU_SHORT_LC_MAX || a->le > APDU_SHORT_LE_MAX;
    n = encoded_size(a, ext);
    if (n > cap)
        return MYNA_E_BUFFER_SMALL;

    out[0] = a->cla;
    out[1] = a->ins;
    out[2] = a->p1;
    out[3] = a->p2;
    pos = 4;

    if (a->lc > 0) {
        if (ext) {
            out[pos++] = 0x00;
            out[pos++] = (uint8_t)(a->lc >> 8);
            out[pos++] = (uint8_t)a->lc;
        } else {
            out[pos++] = (uint8_t)a->lc;
        }
        memcpy(out + pos, a->data, a->lc);
        pos += a->lc;
    }
    if (a->le > 0) {
        /* Le 256 (short) and 65536 (extended) are encoded as zeros: the
         * casts below truncate them to exactly that. */
        if (!ext) {
            out[pos++] = (uint8_t)a->le;
        } else {
            if (a->lc == 0)
                out[pos++] = 0x00;
            out[pos++] = (uint8_t)(a->le >> 8);
            out[pos++] = (uint8_t)a->le;
        }
    }
    *outlen = pos;
    return 0;
}

/* Le from its encoding: zero means the maximum (ISO 7816-4, 5.1). */
static size_t le_short(uint8_t b)
{
    return b ? b : APDU_SHORT_LE_MAX;
}

static size_t le_ext(uint8_t hi, uint8_t lo)
{
    size_t le = ((size_t)hi << 8) | lo;

    return le ? le : APDU_EXT_LE_MAX;
}

/*
 * ISO 7816-4, 5.1: the body after the 4-byte header is one of
 *   (empty)                    case 1
 *   Le                         case 2S
 *   Lc data                    case 3S   (Lc 01..FF)
 *   Lc data Le                 case 4S
 *   00 Le1 Le2                 case 2E
 *   00 Lc1 Lc2 data            case 3E   (Lc 0001..FFFF)
 *   00 Lc1 Lc2 data Le1 Le2    case 4E
 * and nothing else: every other length combination is refused.
 */
int apdu_decode(const uint8_t *buf, size_t len, struct apdu *a)
{
    size_t body, lc;

    if (!buf || !a)
        return MYNA_E_ARGS;
    memset(a, 0, sizeof(*a));
    if (len < 4)
        return MYNA_E_BAD_RESPONSE;

    a->cla = buf[0];
    a->ins = buf[1];
    a->p1 = buf[2];
    a->p2 = buf[3];
    body = len - 4;

    if (body == 0)
        return 0;                               /* case 1 */
    if (body == 1) {
        a->le = le_short(buf[4]);               /* case 2S */
        return 0;
    }

    if (buf[4] != 0x00) {
        lc = buf[4];
        if (body == 1 + lc) {                   /* case 3S */
            a->lc = lc;
            a->data = buf + 5;
            return 0;
        }
        if (body == 2 + lc) {                   /* case 4S */
            a->lc = lc;
            a->data = buf + 5;
            a->le = le_short(buf[5 + lc]);
            return 0;
        }
        goto malformed;
    }

    /* From here on a leading 00 announces extended lengths. */
    if (body < 3)
        goto malformed;
    a->extended = true;
    if (body == 3) {
        a->le = le_ext(buf[5], buf[6]);         /* case 2E */
        return 0;
    }
    lc = ((size_t)buf[5] << 8) | buf[6];
    if (lc == 0)
        goto malformed;         /* an extended Lc of zero does not exist */
    if (body == 3 + lc) {                       /* case 3E */
        a->lc = lc;
        a->data = buf + 7;
        return 0;
    }
    if (body == 5 + lc) {                       /* case 4E */
        a->lc = lc;
        a->data = buf + 7;
        a->le = le_ext(buf[7 + lc], buf[8 + lc]);
        return 0;
    }

malformed:
    memset(a, 0, sizeof(*a));
    return MYNA_E_BAD_RESPONSE;
}

int apdu_split_response(const uint8_t *resp, size_t len, uint16_t *sw,
                        size_t *datalen)
{
    if (!sw || !datalen || (!resp && len > 0))
        return MYNA_E_ARGS;
    if (len < 2)
        return MYNA_E_BAD_RESPONSE;
    *sw = (uint16_t)((resp[len - 2] << 8) | resp[len - 1]);
    *datalen = len - 2;
    return 0;
}

int apdu_sw_to_err(uint16_t sw)
{
    uint8_t sw1 = sw >> 8;

    switch (sw) {
    case 0x9000:
        return 0;
    case 0x63C0:        /* the try that used the last one */
    case 0x6983:        /* authentication method blocked */
    case 0x6984:        /* every try after the PIN blocked (JPKI) */
        return MYNA_E_PIN_LOCKED;
    case 0x6982:
        return MYNA_E_SECURITY;
    case 0x6A82:
        return MYNA_E_NOT_FOUND;
    case 0x6700:
        return MYNA_E_WRONG_LENGTH;
    case 0x6B00:
        return MYNA_E_OFFSET;
    case 0x6D00:
        return MYNA_E_INS;
    case 0x6E00:
        return MYNA_E_CLA;
    case 0x6A80:
    case 0x6A81:
    case 0x6A86:
        return MYNA_E_P1P2;
    case 0x6985:
        return MYNA_E_CONDITIONS;
    case 0x6581:
        return MYNA_E_MEMORY_FAILURE;
    default:
        break;
    }
    if ((sw & 0xFFF0) == 0x63C0)
        return MYNA_E_PIN_INCORRECT;    /* 63C1..63CF: tries left */
    /*
     * apdu_transmit() consumes 61xx and 6Cxx; one that reaches here came
     * where no exchange was finished, which is an answer we cannot use.
     */
    if (sw1 == 0x61 || sw1 == 0x6C)
        return MYNA_E_BAD_RESPONSE;
    /* Other 63xx, warnings 62xx and everything unknown. */
    return MYNA_E_CARD;
}

int apdu_sw_tries_left(uint16_t sw)
{
    if ((sw & 0xFFF0) == 0x63C0)
        return sw & 0x0F;
    return -1;
}

/* Encode @a into the heap; the caller wipes (if secret) and frees *@out. */
static int encode_alloc(const struct apdu *a, uint8_t **out, size_t *outlen)
{
    uint8_t *buf;
    size_t cap;
    int err;

    /* At most 4 header + 3 Lc + data + 3 Le; lc is checked by encode. */
    if (a->lc > APDU_EXT_LC_MAX)
        return MYNA_E_ARGS;
    cap = 10 + a->lc;
    buf = malloc(cap);
    if (!buf)
        return MYNA_E_NOMEM;
    err = apdu_encode(a, buf, cap, outlen);
    if (err < 0) {
        free(buf);
        return err;
    }
    *out = buf;
    return 0;
}

/* Wipe a command that may have carried a PIN, then free it. */
static void free_cmd(uint8_t *cmd, size_t cmdlen, bool secret)
{
    if (!cmd)
        return;
    if (secret)
        OPENSSL_cleanse(cmd, cmdlen);
    free(cmd);
}

int apdu_transmit(struct transport *t, const struct apdu *a, uint8_t *resp,
                  size_t cap, size_t *resplen, uint16_t *sw)
{
    struct apdu again;
    uint8_t getresp[5] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
    uint8_t *cmd = NULL, *rbuf;
    const uint8_t *cur;
    size_t cmdlen = 0, curlen, rlen, datalen, total = 0;
    bool resent = false, cur_secret;
    uint16_t status;
    int err;

    if (!t || !a || !resplen || !sw || (!resp && cap > 0))
        return MYNA_E_ARGS;
    *resplen = 0;
    *sw = 0;

    err = encode_alloc(a, &cmd, &cmdlen);
    if (err < 0)
        return err;
    rbuf = malloc(APDU_RESP_MAX);
    if (!rbuf) {
        err = MYNA_E_NOMEM;
        goto out_cmd;
    }

    cur = cmd;
    curlen = cmdlen;
    cur_secret = a->secret;
    for (;;) {
        myna_log_apdu(true, cur, curlen, cur_secret);
        rlen = 0;
        err = tp_transmit(t, cur, curlen, rbuf, APDU_RESP_MAX, &rlen);
        if (err < 0)
            goto out_rbuf;
        /* A transport that claims more than it was given is broken. */
        if (rlen < 2 || rlen > APDU_RESP_MAX) {
            myna_log(MYNA_LOG_ERROR, "apdu: response of %zu bytes", rlen);
            err = MYNA_E_BAD_RESPONSE;
            goto out_rbuf;
        }
        myna_log_apdu(false, rbuf, rlen, a->secret_response);
        datalen = rlen - 2;
        status = (uint16_t)((rbuf[rlen - 2] << 8) | rbuf[rlen - 1]);

        if ((status >> 8) == 0x6C) {
            /*
             * Wrong Le: resend the same command with Le = SW2 (00 = 256),
             * once.  A card that says 6Cxx again, or sends data with it,
             * is not one we can talk to.  Nor one that says it to a
             * command carrying a PIN: a PIN is never sent twice (found by
             * fuzz-module: a VERIFY answered 6Cxx went out again).
             */
            if (resent || datalen > 0 || a->secret) {
                err = MYNA_E_BAD_RESPONSE;
                goto out_rbuf;
            }
            resent = true;
            if (cur == getresp) {
                getresp[4] = (uint8_t)status;
                continue;
            }
            again = *a;
            again.le = (status & 0xFF) ? (status & 0xFF) : APDU_SHORT_LE_MAX;
            free_cmd(cmd, cmdlen, a->secret);
            cmd = NULL;
            err = encode_alloc(&again, &cmd, &cmdlen);
            if (err < 0)
                goto out_rbuf;
            cur = cmd;
            curlen = cmdlen;
            continue;
        }

        /* Data come with 61xx (T=1 chaining) as well as with the final SW. */
        if (datalen > cap - total) {
            err = MYNA_E_BUFFER_SMALL;
            goto out_rbuf;
        }
        if (datalen > 0) {
            memcpy(resp + total, rbuf, datalen);
            total += datalen;
        }

        if ((status >> 8) != 0x61)
            break;
        if (cur == getresp && datalen == 0) {
            myna_log(MYNA_LOG_ERROR,
                     "apdu: GET RESPONSE announced more but brought nothing");
            err = MYNA_E_BAD_RESPONSE;
            goto out_rbuf;
        }
        /* The command has done its work: no PIN need stay in memory. */
        if (cmd) {
            free_cmd(cmd, cmdlen, a->secret);
            cmd = NULL;
        }
        /* 61 00 announces 256 bytes or more; Le 00 asks for 256. */
        getresp[4] = (uint8_t)status;
        cur = getresp;
        curlen = sizeof(getresp);
        cur_secret = false;
    }

    *resplen = total;
    *sw = status;
    err = 0;
out_rbuf:
    if (a->secret_response)
        OPENSSL_clear_free(rbuf, APDU_RESP_MAX);
    else
        free(rbuf);
out_cmd:
    free_cmd(cmd, cmdlen, a->secret);
    return err;
}
