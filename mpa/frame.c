/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Native messaging framing: each message, both ways, is a 4-byte length
 * in the machine's order (little-endian on every machine we build for;
 * we decode it as little-endian explicitly) and that many bytes of UTF-8
 * JSON.  Layer: mpa/, pure stdio.  The length comes from the browser and
 * is checked against MPA_MSG_MAX before any allocation.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mpa.h"

uint32_t mpa_frame_len(const uint8_t hdr[4])
{
    return (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
           (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
}

int mpa_frame_read(FILE *in, uint8_t **buf, size_t *len)
{
    uint8_t hdr[4];
    size_t got;
    uint32_t n;
    uint8_t *p;

    *buf = NULL;
    *len = 0;
    got = fread(hdr, 1, sizeof(hdr), in);
    if (got == 0)
        return MPA_FRAME_EOF;
    if (got < sizeof(hdr))
        return MPA_FRAME_TRUNCATED;
    n = mpa_frame_len(hdr);
    if (n == 0)
        return MPA_FRAME_EMPTY;
    if (n > MPA_MSG_MAX)
        return MPA_FRAME_TOO_BIG;
    p = malloc((size_t)n + 1);
    if (!p)
        return MPA_FRAME_NOMEM;
    got = fread(p, 1, n, in);
    if (got < n) {
        OPENSSL_cleanse(p, got);
        free(p);
        return MPA_FRAME_TRUNCATED;
    }
    p[n] = 0;
    *buf = p;
    *len = n;
    return MPA_FRAME_OK;
}

int mpa_frame_write(FILE *out, const char *msg, size_t len)
{
    uint8_t hdr[4];

    if (len > UINT32_MAX)
        return -1;
    hdr[0] = (uint8_t)len;
    hdr[1] = (uint8_t)(len >> 8);
    hdr[2] = (uint8_t)(len >> 16);
    hdr[3] = (uint8_t)(len >> 24);
    if (fwrite(hdr, 1, sizeof(hdr), out) != sizeof(hdr) ||
        fwrite(msg, 1, len, out) != len || fflush(out) != 0)
        return -1;
    return 0;
}
