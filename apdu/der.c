/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Just enough DER (X.690, 8.1.2 and 8.1.3, with the DER rules of 10.1) to
 * learn how long a certificate on the card is from its first bytes: the
 * certificate files are fixed-size and padded with FF after the DER.
 * Layer: a pure helper of the JPKI application in apdu/; calls nothing.
 * Every byte comes from the card and is untrusted.
 */
#include "der.h"


#include "myna-err.h"

/* Tag and length bytes: one tag byte, then 1 + up to 4 length bytes. */
#define DER_LEN_BYTES_MAX 4u

int der_element_length(const uint8_t *buf, size_t len, size_t max,
                       size_t *hdrlen, size_t *total)
{
    uint32_t content = 0;
    size_t nlen, hdr, i;

    if (!hdrlen || !total || (!buf && len > 0))
        return MYNA_E_ARGS;
    *hdrlen = 0;
    *total = 0;
    if (len < 2)
        return MYNA_E_BAD_RESPONSE;

    /* Tag number 31 in the low bits announces a multi-byte tag. */
    if ((buf[0] & 0x1F) == 0x1F)
        return MYNA_E_BAD_RESPONSE;

    if (buf[1] < 0x80) {
        hdr = 2;
        content = buf[1];
    } else {
        nlen = buf[1] & 0x7F;
        /* 80 is the indefinite form, which DER forbids; FF is reserved
         * and anything past 4 bytes is beyond any card file. */
        if (nlen == 0 || nlen > DER_LEN_BYTES_MAX)
            return MYNA_E_BAD_RESPONSE;
        if (len - 2 < nlen)
            return MYNA_E_BAD_RESPONSE;
        /* DER: no leading zero byte in the long form. */
        if (buf[2] == 0x00)
            return MYNA_E_BAD_RESPONSE;
        for (i = 0; i < nlen; i++)
            content = (content << 8) | buf[2 + i];  /* nlen <= 4: no overflow */
        /* DER: lengths below 128 take the short form. */
        if (content < 0x80)
            return MYNA_E_BAD_RESPONSE;
        hdr = 2 + nlen;
    }

    /* total = hdr + content <= max, written so that it cannot wrap. */
    if (max < hdr || content > max - hdr)
        return MYNA_E_BAD_RESPONSE;
    *hdrlen = hdr;
    *total = hdr + content;
    return 0;
}

int der_cert_length(const uint8_t *buf, size_t len, size_t *total)
{
    size_t hdrlen;

    if (!total || (!buf && len > 0))
        return MYNA_E_ARGS;
    *total = 0;
    if (len < 1)
        return MYNA_E_BAD_RESPONSE;
    /* A certificate is a SEQUENCE (universal, constructed, 16). */
    if (buf[0] != 0x30)
        return MYNA_E_BAD_RESPONSE;
    return der_element_length(buf, len, DER_CERT_MAX, &hdrlen, total);
}
