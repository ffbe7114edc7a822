/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for the DER length parser (der.h), which reads the first
 * bytes of every certificate file from the card.  The input is the bytes
 * the card would send.  Each parse is checked against the contract of
 * der.h (on success hdrlen <= total <= max and hdrlen <= len; on failure
 * MYNA_E_BAD_RESPONSE and zeroed outputs) and against a second, independent
 * reading of the same rules written here, for a range of limits; short
 * prefixes are parsed from buffers of exactly their size so that ASan sees
 * any read past the end.  Layer: test code; calls der.h only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "myna-err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * The rules of der.h, stated differently: one tag byte whose low five bits
 * are not all ones; then a short length (< 0x80), or 0x81..0x84 and that
 * many length bytes holding a value that needs them all (no leading zero)
 * and that is at least 0x80; header plus content at most @max; the header
 * must be in the @len bytes, the content need not be.
 */
static int ref_length(const uint8_t *b, size_t len, size_t max,
                      size_t *hdrlen, size_t *total)
{
    uint64_t value = 0;
    size_t nbytes, i, hdr;

    if (len < 2 || (b[0] & 0x1F) == 0x1F)
        return -1;
    if (b[1] < 0x80) {
        hdr = 2;
        value = b[1];
    } else {
        nbytes = b[1] - 0x80u;
        if (nbytes < 1 || nbytes > 4 || len < 2 + nbytes)
            return -1;
        for (i = 0; i < nbytes; i++)
            value = value * 256u + b[2 + i];
        if (value < 0x80)
            return -1;
        if (nbytes > 1 && value < ((uint64_t)1 << (8 * (nbytes - 1))))
            return -1;
        hdr = 2 + nbytes;
    }
    if ((uint64_t)hdr + value > (uint64_t)max)
        return -1;
    *hdrlen = hdr;
    *total = hdr + (size_t)value;
    return 0;
}

static void check_element(const uint8_t *buf, size_t len, size_t max)
{
    size_t hdrlen = 77, total = 77, rhdr = 0, rtotal = 0;
    int err, ref;

    err = der_element_length(buf, len, max, &hdrlen, &total);
    ref = ref_length(buf, len, max, &rhdr, &rtotal);
    if (err != 0) {
        CHECK(err == MYNA_E_BAD_RESPONSE);
        CHECK(hdrlen == 0 && total == 0);
        CHECK(ref != 0);
        return;
    }
    CHECK(ref == 0);
    CHECK(hdrlen == rhdr && total == rtotal);
    CHECK(hdrlen >= 2 && hdrlen <= 6);
    CHECK(hdrlen <= total && total <= max);
    CHECK(hdrlen <= len);
}

static void check_cert(const uint8_t *buf, size_t len)
{
    size_t total = 77, rhdr = 0, rtotal = 0;
    int err, ref;

    err = der_cert_length(buf, len, &total);
    ref = (len >= 1 && buf[0] == 0x30)
              ? ref_length(buf, len, DER_CERT_MAX, &rhdr, &rtotal)
              : -1;
    if (err != 0) {
        CHECK(err == MYNA_E_BAD_RESPONSE);
        CHECK(total == 0);
        CHECK(ref != 0);
        return;
    }
    CHECK(ref == 0);
    CHECK(total == rtotal);
    CHECK(buf[0] == 0x30);
    CHECK(total >= 2 && total <= DER_CERT_MAX);
}

static void check_all(const uint8_t *buf, size_t len)
{
    static const size_t limits[] = {
        0, 1, 2, 5, 6, 127, 128, 129, 130, 255, 256, 257, 258,
        DER_CERT_MAX - 1, DER_CERT_MAX, 65535, 65536, 0xFFFFFFu,
        0xFFFFFFFFu, SIZE_MAX - 1, SIZE_MAX,
    };
    size_t i;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        check_element(buf, len, limits[i]);
    check_element(buf, len, len);
    check_cert(buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;

    check_all(data, size);
    /* The parser must stay inside @len even when the bytes announce more:
     * give it each short prefix in a buffer of exactly that size. */
    for (n = 0; n <= 7 && n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1);

        if (!copy)
            return 0;
        if (n > 0)
            memcpy(copy, data, n);
        check_all(copy, n);
        free(copy);
    }
    return 0;
}
