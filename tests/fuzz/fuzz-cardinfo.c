/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for the manufacture-number and card-info applications
 * (cardinfo.h).  The rest of the input after its first byte is given, in
 * a heap block of exactly its size, to both parsers: cardinfo_parse() (EF
 * 0002) and myna_parse_mfg_record() (the record), each checked against
 * its contract and against a second reading of the rules written here.
 * When bit 0 of the first byte is set, the same bytes are also the script
 * of the scripted card (fuzz-card.h), and a Mynaportal session runs
 * against it: the manufacture number, the card-info PIN's tries, VERIFY
 * with a valid PIN, the read of EF 0002, then the JPKI AP again.  Layer:
 * test code; calls cardinfo.h, jpki.h and the callback transport.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all-zero.h"
#include "cardinfo.h"
#include "fuzz-card.h"
#include "jpki.h"
#include "myna-err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define CHECK_ERR(err) CHECK((err) <= 0 && (err) >= MYNA_E_MEMORY_FAILURE)

/* UTF-8 as RFC 3629 has it, written as ranges of the second byte. */
static bool ref_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i], lo = 0x80, hi = 0xBF;
        size_t n, k;

        if (c == 0x00)
            return false;
        if (c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (k = 2; k <= n; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        }
        i += n + 1;
    }
    return true;
}

/* The header of a BER TLV as cardinfo.h's parsers take it: a tag of 1 to
 * 3 bytes, a length short or 81..84.  Returns the header's length and the
 * value's in *@vlen, or 0. */
static size_t ref_header(const uint8_t *b, size_t len, uint64_t *vlen)
{
    size_t t = 1, i, nlen;
    uint64_t v = 0;

    if (len < 2)
        return 0;
    if ((b[0] & 0x1F) == 0x1F) {
        while (t < len && t < 3 && (b[t] & 0x80))
            t++;
        if (t >= len || t >= 3)
            return 0;
        t++;
    }
    if (t >= len)
        return 0;
    if (b[t] < 0x80) {
        *vlen = b[t];
        return t + 1;
    }
    nlen = b[t] & 0x7F;
    if (nlen < 1 || nlen > 4 || len - t - 1 < nlen)
        return 0;
    for (i = 0; i < nlen; i++)
        v = v << 8 | b[t + 1 + i];
    *vlen = v;
    return t + 1 + nlen;
}

static void check_field(const char *f, size_t len, const uint8_t *in,
                        size_t inlen)
{
    CHECK(len <= MYNA_CARDINFO_FIELD_MAX);
    CHECK(f[len] == '\0');
    CHECK(ref_utf8((const uint8_t *)f, len));
    /* The bytes came from the input. */
    CHECK(len == 0 || memmem(in, inlen, f, len) != NULL);
}

static void check_cardinfo(const struct cardinfo *ci, int err,
                           const uint8_t *in, size_t len)
{
    uint64_t vlen = 0;

    CHECK(err == 0 || err == MYNA_E_BAD_RESPONSE);
    if (err != 0) {
        CHECK(all_zero(ci, sizeof(*ci)));
        return;
    }
    CHECK(len >= 2 && in[0] == 0xFF && in[1] == 0x20);
    CHECK(ref_header(in, len, &vlen) > 0 && vlen <= len);
    check_field(ci->name, ci->name_len, in, len);
    check_field(ci->address, ci->address_len, in, len);
    check_field(ci->birth, ci->birth_len, in, len);
    check_field(ci->sex, ci->sex_len, in, len);
}

static void check_mfg(const char *num, int err, const uint8_t *in,
                      size_t len)
{
    uint64_t vlen = 0;
    size_t hdr, i;

    CHECK(err == 0 || err == MYNA_E_BAD_RESPONSE);
    if (err != 0) {
        CHECK(all_zero(num, MYNA_MFG_NUMBER_LEN + 1));
        return;
    }
    hdr = ref_header(in, len, &vlen);
    CHECK(hdr > 0 && vlen >= 15 && hdr + vlen == len);
    for (i = 0; i < vlen; i++)
        CHECK(in[hdr + i] >= 0x20 && in[hdr + i] <= 0x7E);
    CHECK(memcmp(num, in + hdr + 1, MYNA_MFG_NUMBER_LEN) == 0);
    CHECK(num[MYNA_MFG_NUMBER_LEN] == '\0');
}

static void parse_both(const uint8_t *data, size_t size)
{
    /* Exactly @size bytes on the heap, so that ASan sees an overread. */
    uint8_t *copy = malloc(size ? size : 1);
    char num[MYNA_MFG_NUMBER_LEN + 1];
    struct cardinfo *ci = malloc(sizeof(*ci));
    int err;

    CHECK(copy && ci);
    if (size)
        memcpy(copy, data, size);
    memset(ci, 0x5A, sizeof(*ci));
    err = cardinfo_parse(copy, size, ci);
    check_cardinfo(ci, err, copy, size);
    memset(num, 0x5A, sizeof(num));
    err = myna_parse_mfg_record(copy, size, num);
    check_mfg(num, err, copy, size);
    cardinfo_clear(ci);
    free(ci);
    free(copy);
}

/* Only the card's answer to a VERIFY with data may say a PIN is wrong. */
static void check_pin_answer(const struct fuzz_card *fc, int err, int tries)
{
    if (err == MYNA_E_PIN_INCORRECT) {
        CHECK(fc->last_ins == 0x20 && fc->last_lc == MYNA_CARDINFO_PIN_LEN);
        CHECK(tries >= 1 && tries <= 15);
    } else if (err == MYNA_E_PIN_LOCKED) {
        CHECK(fc->last_ins == 0x20 && fc->last_lc == MYNA_CARDINFO_PIN_LEN);
        CHECK(tries == 0);
    } else {
        CHECK(tries == -1);
    }
}

/* FUZZ_CARDINFO_TRACE=1: each call's result on standard error, to see
 * how far a seed gets (the inputs are made up: no personal data). */
static void trace(const char *what, int err)
{
    if (getenv("FUZZ_CARDINFO_TRACE"))
        fprintf(stderr, "fuzz-cardinfo: %s: %d\n", what, err);
}

static void session(const uint8_t *data, size_t size)
{
    static const uint8_t pin[] = "1234";
    struct fuzz_card fc;
    struct transport *t = NULL;
    struct jpki *j = NULL;
    struct cardinfo *ci = malloc(sizeof(*ci));
    char num[MYNA_MFG_NUMBER_LEN + 1];
    int err, tries = 42;
    unsigned before, mark;

    CHECK(ci);
    fuzz_card_init(&fc, data, size);
    if (fuzz_card_transport(&fc, &t) != 0 || jpki_new(t, &j) != 0)
        goto out;
    err = jpki_begin(j);
    CHECK_ERR(err);
    CHECK_ERR(jpki_select_ap(j));
    mark = fc.commands;

    memset(num, 0x5A, sizeof(num));
    err = myna_read_mfg_number(j, num);
    trace("mfg number", err);
    CHECK_ERR(err);
    if (err == 0) {
        size_t i;

        for (i = 0; i < MYNA_MFG_NUMBER_LEN; i++)
            CHECK(num[i] >= 0x20 && num[i] <= 0x7E);
        CHECK(num[MYNA_MFG_NUMBER_LEN] == '\0');
    } else {
        CHECK(all_zero(num, sizeof(num)));
    }

    err = cardinfo_pin_tries(j, &tries);
    trace("tries", err);
    CHECK_ERR(err);
    CHECK(err != 0 || (tries >= 0 && tries <= 15));

    /* A PIN of the wrong format reaches no card. */
    before = fc.commands;
    CHECK(cardinfo_verify(j, (const uint8_t *)"12a4", 4, &tries) ==
          MYNA_E_PIN_FORMAT);
    CHECK(fc.commands == before);

    err = cardinfo_verify(j, pin, 4, &tries);
    trace("verify", err);
    CHECK_ERR(err);
    check_pin_answer(&fc, err, tries);

    memset(ci, 0x5A, sizeof(*ci));
    err = cardinfo_read(j, ci);
    trace("read", err);
    CHECK_ERR(err);
    if (err == 0) {
        CHECK(ci->name_len <= MYNA_CARDINFO_FIELD_MAX &&
              ci->name[ci->name_len] == '\0');
        CHECK(ref_utf8((const uint8_t *)ci->address, ci->address_len));
        CHECK(ref_utf8((const uint8_t *)ci->birth, ci->birth_len));
        CHECK(ref_utf8((const uint8_t *)ci->sex, ci->sex_len));
        CHECK(ref_utf8((const uint8_t *)ci->name, ci->name_len));
    } else {
        CHECK(all_zero(ci, sizeof(*ci)));
    }
    cardinfo_clear(ci);

    /* Back to JPKI: once another application was asked for, the cache
     * must not believe the JPKI AP still selected, so a success comes
     * from a SELECT sent now. */
    before = fc.commands;
    err = jpki_select_ap(j);
    trace("select JPKI again", err);
    CHECK_ERR(err);
    if (err == 0 && before > mark)
        CHECK(fc.commands > before && fc.last_ins == 0xA4);
    CHECK_ERR(jpki_end(j, false));
out:
    jpki_free(j);
    tp_free(t);
    free(ci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    parse_both(data + 1, size - 1);
    if (data[0] & 1)
        session(data + 1, size - 1);
    return 0;
}
