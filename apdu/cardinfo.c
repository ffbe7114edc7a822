/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The manufacture-number AP and the card-info input support AP of the My
 * Number Card (cardinfo.h; doc/jpki-card.md, "Applications").  Layer: the
 * card's applications, beside jpki.c, whose selection cache and exchange
 * it shares through jpki-internal.h; below that only the APDU codec.
 * Knows nothing of PKCS#11.
 *
 * Every byte from the card is untrusted: the BER parser below reads
 * nothing past the bytes it was given and bounds every length.  The PIN is
 * copied only into a local buffer, wiped on every path, marked secret for
 * the APDU log, and sent at most once.  The card-info fields are personal
 * data: their answers are marked so for the APDU layer, and every buffer
 * that held them is wiped.
 */
#include "cardinfo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu.h"
#include "jpki-internal.h"
#include "log.h"
#include "myna-err.h"

const uint8_t MYNA_MFG_AID[10] = {
    0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00
};
const uint8_t MYNA_CARDINFO_AID[10] = {
    0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08
};

/* Elementary files of the card-info input support AP. */
#define EF_CARDINFO_PIN 0x0011u
#define EF_CARDINFO_DATA 0x0002u

/* The tags of EF 0002 (two-byte BER tags). */
#define TAG_CARDINFO 0xFF20u
#define TAG_NAME 0xDF22u
#define TAG_ADDRESS 0xDF23u
#define TAG_BIRTH 0xDF24u
#define TAG_SEX 0xDF25u

/* The most EF 0002 may claim to hold: four fields of at most
 * MYNA_CARDINFO_FIELD_MAX bytes and the first TLV, whose size no source
 * gives.  Anything larger is hostile or broken. */
#define CARDINFO_FILE_MAX 8192u

/* The manufacture number is characters 2 to 14 of the record's value. */
#define MFG_VALUE_MIN 15u
#define MFG_FIRST 1u

/* A BER tag of more than 3 bytes is never used here. */
#define TAG_BYTES_MAX 3u

/*
 * The header of the BER TLV at @buf (@len bytes available; the value may
 * lie beyond them).  Tags of 1 to 3 bytes; lengths in the short form or
 * the long forms 81 to 84 (BER: not necessarily minimal); the indefinite
 * form is refused.  Sets *@tag (its bytes, big-endian), *@hdrlen and
 * *@vlen.  Returns 0 or MYNA_E_BAD_RESPONSE.
 */
static int tlv_header(const uint8_t *buf, size_t len, uint32_t *tag,
                      size_t *hdrlen, size_t *vlen)
{
    size_t i = 0, nlen, k;
    uint32_t t;
    size_t v = 0;

    if (len < 2)
        return MYNA_E_BAD_RESPONSE;
    t = buf[i++];
    if ((t & 0x1Fu) == 0x1Fu) {
        /* Subsequent tag bytes: bit 8 set on all but the last. */
        for (;;) {
            if (i >= len || i >= TAG_BYTES_MAX)
                return MYNA_E_BAD_RESPONSE;
            t = (t << 8) | buf[i];
            if (!(buf[i++] & 0x80u))
                break;
        }
    }
    if (i >= len)
        return MYNA_E_BAD_RESPONSE;
    if (buf[i] < 0x80u) {
        v = buf[i++];
    } else {
        nlen = buf[i++] & 0x7Fu;
        /* 80 is the indefinite form; more than 4 bytes cannot be sane. */
        if (nlen == 0 || nlen > 4 || nlen > len - i)
            return MYNA_E_BAD_RESPONSE;
        for (k = 0; k < nlen; k++)
            v = (v << 8) | buf[i++];
    }
    if (v > (size_t)-1 - i)
        return MYNA_E_BAD_RESPONSE;
    *tag = t;
    *hdrlen = i;
    *vlen = v;
    return 0;
}

/* A whole TLV inside @len bytes: as tlv_header(), and the value fits. */
static int tlv_whole(const uint8_t *buf, size_t len, uint32_t *tag,
                     size_t *hdrlen, size_t *vlen)
{
    int err = tlv_header(buf, len, tag, hdrlen, vlen);

    if (err < 0)
        return err;
    if (*vlen > len - *hdrlen)
        return MYNA_E_BAD_RESPONSE;
    return 0;
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * without NUL, which the NUL-terminated copies could not carry. */
static bool utf8_ok(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t n, k;
        uint32_t cp, min;

        if (c == 0)
            return false;
        if (c < 0x80u) {
            i++;
            continue;
        }
        if (c >= 0xC2u && c <= 0xDFu) {
            n = 1;
            cp = c & 0x1Fu;
            min = 0x80u;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            n = 2;
            cp = c & 0x0Fu;
            min = 0x800u;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            n = 3;
            cp = c & 0x07u;
            min = 0x10000u;
        } else {
            return false;
        }
        if (n > len - i - 1)
            return false;
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu))
            return false;
        i += n + 1;
    }
    return true;
}

int myna_parse_mfg_record(const uint8_t *rec, size_t len,
                          char out[MYNA_MFG_NUMBER_LEN + 1])
{
    size_t hdrlen = 0, vlen = 0, i;
    uint32_t tag = 0;
    int err;

    if (!out)
        return MYNA_E_ARGS;
    memset(out, 0, MYNA_MFG_NUMBER_LEN + 1);
    if (!rec)
        return MYNA_E_ARGS;
    err = tlv_whole(rec, len, &tag, &hdrlen, &vlen);
    if (err < 0)
        return err;
    /* One TLV, the whole record. */
    if (hdrlen + vlen != len || vlen < MFG_VALUE_MIN)
        return MYNA_E_BAD_RESPONSE;
    for (i = 0; i < vlen; i++) {
        uint8_t c = rec[hdrlen + i];

        if (c < 0x20u || c > 0x7Eu)
            return MYNA_E_BAD_RESPONSE;
    }
    memcpy(out, rec + hdrlen + MFG_FIRST, MYNA_MFG_NUMBER_LEN);
    out[MYNA_MFG_NUMBER_LEN] = '\0';
    return 0;
}

int myna_read_mfg_number(struct jpki *j, char out[MYNA_MFG_NUMBER_LEN + 1])
{
    /* READ RECORD 1 of short EF 1: P2 = SFI << 3 | 100 (P1 is a record
     * number); Le 00, 256 bytes.  The number identifies the card, and
     * through the Mynaportal combination code its holder: kept out of the
     * APDU log like personal data. */
    struct apdu a = {
        .cla = 0x00, .ins = 0xB2, .p1 = 0x01, .p2 = 0x0C,
        .le = APDU_SHORT_LE_MAX, .secret_response = true,
    };
    uint8_t rec[APDU_SHORT_LE_MAX];
    size_t n = 0;
    uint16_t sw;
    int err;

    if (!j || !out)
        return MYNA_E_ARGS;
    memset(out, 0, MYNA_MFG_NUMBER_LEN + 1);
    err = jpki_select_other_ap(j, MYNA_MFG_AID, sizeof(MYNA_MFG_AID));
    if (err < 0)
        return err;
    err = jpki_transmit(j, &a, rec, sizeof(rec), &n, &sw);
    if (err < 0)
        goto out_wipe_rec;
    myna_log(MYNA_LOG_DEBUG, "cardinfo: READ RECORD manufacture number: "
             "SW %04X, %zu bytes", sw, n);
    if (sw != SW_OK) {
        err = apdu_sw_to_err(sw);
        if (err == 0)
            err = MYNA_E_BAD_RESPONSE;
        goto out_wipe_rec;
    }
    err = myna_parse_mfg_record(rec, n, out);
out_wipe_rec:
    OPENSSL_cleanse(rec, sizeof(rec));
    return err;
}

static bool cardinfo_pin_format_ok(const uint8_t *pin, size_t len, int *err)
{
    size_t i;

    if (len != MYNA_CARDINFO_PIN_LEN) {
        *err = MYNA_E_PIN_LEN;
        return false;
    }
    for (i = 0; i < len; i++) {
        if (pin[i] < '0' || pin[i] > '9') {
            *err = MYNA_E_PIN_FORMAT;
            return false;
        }
    }
    return true;
}

int cardinfo_pin_tries(struct jpki *j, int *tries)
{
    struct apdu a = { .cla = 0x00, .ins = 0x20, .p1 = 0x00, .p2 = 0x80 };
    uint16_t sw;
    int err;

    if (!j || !tries)
        return MYNA_E_ARGS;
    err = jpki_select_other_ef(j, MYNA_CARDINFO_AID,
                               sizeof(MYNA_CARDINFO_AID), EF_CARDINFO_PIN);
    if (err < 0)
        return err;
    /* VERIFY without data asks for the counter and spends nothing. */
    err = jpki_transmit(j, &a, NULL, 0, NULL, &sw);
    if (err < 0)
        return err;
    myna_log(MYNA_LOG_DEBUG, "cardinfo: PIN tries: SW %04X", sw);
    return jpki_tries_result(sw, MYNA_CARDINFO_TRIES, tries, NULL);
}

int cardinfo_verify(struct jpki *j, const uint8_t *pin, size_t len,
                    int *tries_left)
{
    uint8_t buf[MYNA_CARDINFO_PIN_LEN];
    struct apdu a = {
        .cla = 0x00, .ins = 0x20, .p1 = 0x00, .p2 = 0x80, .secret = true,
    };
    uint16_t sw;
    int err = 0;

    if (tries_left)
        *tries_left = -1;  /* unknown unless the card tells */
    if (!j || (!pin && len > 0))
        return MYNA_E_ARGS;
    /* The format first: a wrong one never reaches the card (an empty PIN
     * included: said apart so that no NULL reaches memcpy). */
    if (!pin)
        return MYNA_E_PIN_LEN;
    if (!cardinfo_pin_format_ok(pin, len, &err))
        return err;
    memcpy(buf, pin, len);
    err = jpki_select_other_ef(j, MYNA_CARDINFO_AID,
                               sizeof(MYNA_CARDINFO_AID), EF_CARDINFO_PIN);
    if (err < 0)
        goto out_wipe_pin;

    a.data = buf;
    a.lc = len;
    err = jpki_transmit(j, &a, NULL, 0, NULL, &sw);
    if (err < 0)
        goto out_wipe_pin;
    myna_log(MYNA_LOG_DEBUG, "cardinfo: VERIFY card-info PIN: SW %04X", sw);

    /* The same mapping as jpki_verify(). */
    err = jpki_verify_result(sw, tries_left);

out_wipe_pin:
    OPENSSL_cleanse(buf, sizeof(buf));
    return err;
}

void cardinfo_clear(struct cardinfo *ci)
{
    if (ci)
        OPENSSL_cleanse(ci, sizeof(*ci));
}

/* Copy the field at @v (@vlen bytes, already inside the buffer) to @dst. */
static int copy_field(char *dst, size_t *dstlen, const uint8_t *v,
                      size_t vlen)
{
    if (vlen > MYNA_CARDINFO_FIELD_MAX || !utf8_ok(v, vlen))
        return MYNA_E_BAD_RESPONSE;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    *dstlen = vlen;
    return 0;
}

static int parse_fields(const uint8_t *buf, size_t len, struct cardinfo *out)
{
    static const uint32_t tags[4] = {
        TAG_NAME, TAG_ADDRESS, TAG_BIRTH, TAG_SEX
    };
    char *dst[4] = { out->name, out->address, out->birth, out->sex };
    size_t *dstlen[4] = {
        &out->name_len, &out->address_len, &out->birth_len, &out->sex_len
    };
    size_t hdrlen = 0, vlen = 0, pos, i;
    uint32_t tag = 0;
    int err;

    err = tlv_whole(buf, len, &tag, &hdrlen, &vlen);
    if (err < 0)
        return err;
    if (tag != TAG_CARDINFO)
        return MYNA_E_BAD_RESPONSE;
    /* Bytes after the outer TLV are the file's filler: not looked at. */
    buf += hdrlen;
    len = vlen;

    /* The first TLV, whatever it is, is skipped. */
    err = tlv_whole(buf, len, &tag, &hdrlen, &vlen);
    if (err < 0)
        return err;
    pos = hdrlen + vlen;

    for (i = 0; i < 4; i++) {
        err = tlv_whole(buf + pos, len - pos, &tag, &hdrlen, &vlen);
        if (err < 0)
            return err;
        if (tag != tags[i])
            return MYNA_E_BAD_RESPONSE;
        err = copy_field(dst[i], dstlen[i], buf + pos + hdrlen, vlen);
        if (err < 0)
            return err;
        pos += hdrlen + vlen;
    }
    /* Anything after the four facts must at least be well formed. */
    while (pos < len) {
        err = tlv_whole(buf + pos, len - pos, &tag, &hdrlen, &vlen);
        if (err < 0)
            return err;
        pos += hdrlen + vlen;
    }
    return 0;
}

int cardinfo_parse(const uint8_t *buf, size_t len, struct cardinfo *out)
{
    int err;

    if (!out)
        return MYNA_E_ARGS;
    cardinfo_clear(out);
    if (!buf)
        return MYNA_E_ARGS;
    err = parse_fields(buf, len, out);
    if (err < 0)
        cardinfo_clear(out);
    return err;
}

int cardinfo_read(struct jpki *j, struct cardinfo *out)
{
    uint8_t first[APDU_SHORT_LE_MAX];
    uint8_t *buf = NULL;
    size_t n = 0, hdrlen = 0, vlen = 0, total = 0;
    uint32_t tag = 0;
    uint16_t sw;
    int err;

    if (!out)
        return MYNA_E_ARGS;
    cardinfo_clear(out);
    if (!j)
        return MYNA_E_ARGS;
    err = jpki_select_other_ef(j, MYNA_CARDINFO_AID,
                               sizeof(MYNA_CARDINFO_AID), EF_CARDINFO_DATA);
    if (err < 0)
        return err;

    jpki_set_personal(j, true);
    /* The first 256 bytes hold the TLV header whatever its length form;
     * a short APDU, which every card takes. */
    err = jpki_read_binary_short(j, 0, APDU_SHORT_LE_MAX, first, &n, &sw);
    if (err < 0)
        goto out_wipe_first;
    myna_log(MYNA_LOG_DEBUG, "cardinfo: read EF 0002: SW %04X, %zu bytes",
             sw, n);
    if (sw != SW_OK) {
        /* 6982: the card-info PIN is not verified. */
        err = apdu_sw_to_err(sw);
        if (err == 0)
            err = MYNA_E_BAD_RESPONSE;
        goto out_wipe_first;
    }
    err = tlv_header(first, n, &tag, &hdrlen, &vlen);
    if (err < 0)
        goto out_wipe_first;
    if (tag != TAG_CARDINFO || vlen > CARDINFO_FILE_MAX - hdrlen) {
        myna_log(MYNA_LOG_DEBUG, "cardinfo: EF 0002: tag %X, %zu bytes: "
                 "refused", (unsigned)tag, vlen);
        err = MYNA_E_BAD_RESPONSE;
        goto out_wipe_first;
    }
    total = hdrlen + vlen;

    buf = malloc(total);
    if (!buf) {
        err = MYNA_E_NOMEM;
        goto out_wipe_first;
    }
    if (n > total)
        n = total;
    memcpy(buf, first, n);
    err = jpki_read_rest(j, buf, n, total);
    if (err < 0)
        goto out_free_buf;
    err = cardinfo_parse(buf, total, out);

out_free_buf:
    OPENSSL_clear_free(buf, total);
out_wipe_first:
    jpki_set_personal(j, false);
    OPENSSL_cleanse(first, sizeof(first));
    if (err < 0)
        cardinfo_clear(out);
    return err;
}
