/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * A request from the browser, parsed with Jansson and checked field by
 * field into a struct mpa_request of fixed size: the mode, service_id
 * ("01", the only service), the digests (strict base64, 1 to
 * JPKI_SIGN_INPUT_MAX bytes each, at most MPA_DIGESTS_MAX), the PIN (a
 * string of at most MPA_PIN_FIELD_MAX bytes; its format is checked by the
 * mode, which knows which PIN it is), and `for` of mode tries.  Unknown
 * fields are ignored (the extension and the page add their own).  Layer:
 * mpa/; no card.  The field names and values of the protocol are the
 * reverse-engineered ones of mynaportal.md: they live here and in card.c
 * only.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "mpa.h"

static const struct {
    const char *name;
    enum mpa_mode mode;
} modes[] = {
    {"01", MPA_MODE_AUTH},
    {"02", MPA_MODE_SIGN},
    {"04", MPA_MODE_CARDINFO},
    {"05", MPA_MODE_END},
    {"check", MPA_MODE_CHECK},
    {"tries", MPA_MODE_TRIES},
};

const char *mpa_mode_name(enum mpa_mode m)
{
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (modes[i].mode == m)
            return modes[i].name;
    return NULL;
}

static enum mpa_mode mode_from_json(json_t *v)
{
    if (!json_is_string(v))
        return MPA_MODE_NONE;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (json_string_length(v) == strlen(modes[i].name) &&
            strcmp(json_string_value(v), modes[i].name) == 0)
            return modes[i].mode;
    return MPA_MODE_NONE;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long mpa_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    size_t pad = 0, n, outlen = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    while (pad < len && pad < 2 && s[len - 1 - pad] == '=')
        pad++;
    n = len - pad;
    /* With padding the whole must be a multiple of 4; without, a
     * remainder of 1 cannot be. */
    if (pad && len % 4 != 0)
        return -1;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (outlen >= cap)
                return -1;
            out[outlen++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero (canonical encoding), and the padding
     * must be exactly what the length needs. */
    if (acc != 0)
        return -1;
    if (pad && pad != (4 - n % 4) % 4)
        return -1;
    return (long)outlen;
}

bool mpa_cardinfo_pin_ok(const uint8_t *pin, size_t len)
{
    if (len != MYNA_CARDINFO_PIN_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return false;
    return true;
}

static enum mpa_err take_digest(struct mpa_request *rq, json_t *v)
{
    long n;

    if (!json_is_string(v) || rq->ndigests >= MPA_DIGESTS_MAX)
        return MPA_E_BAD_DIGEST;
    n = mpa_base64_decode(json_string_value(v), json_string_length(v),
                          rq->digest[rq->ndigests], JPKI_SIGN_INPUT_MAX);
    if (n <= 0)
        return MPA_E_BAD_DIGEST;
    rq->digest_len[rq->ndigests++] = (size_t)n;
    return MPA_OK;
}

static enum mpa_err take_digests(struct mpa_request *rq, json_t *v)
{
    size_t i;
    json_t *item;
    enum mpa_err e;

    if (rq->mode == MPA_MODE_SIGN && json_is_array(v)) {
        if (json_array_size(v) == 0 || json_array_size(v) > MPA_DIGESTS_MAX)
            return MPA_E_BAD_DIGEST;
        json_array_foreach(v, i, item) {
            e = take_digest(rq, item);
            if (e != MPA_OK)
                return e;
        }
        return MPA_OK;
    }
    return take_digest(rq, v);
}

/* Copy the PIN out of the parsed document and wipe Jansson's copy, first
 * thing, so that no error path below leaves it behind. */
static void take_pin(struct mpa_request *rq, json_t *root)
{
    json_t *v = json_object_get(root, "pin");
    size_t n;

    if (!v)
        return;
    rq->has_pin = true;
    if (!json_is_string(v)) {
        rq->pin_too_long = true;   /* malformed all the same */
        return;
    }
    n = json_string_length(v);
    if (n > sizeof(rq->pin))
        rq->pin_too_long = true;
    else {
        memcpy(rq->pin, json_string_value(v), n);
        rq->pin_len = n;
    }
    OPENSSL_cleanse((char *)json_string_value(v), n);
}

static enum mpa_err check_fields(struct mpa_request *rq, json_t *root)
{
    json_t *v;

    rq->mode = mode_from_json(json_object_get(root, "mode"));
    if (rq->mode == MPA_MODE_NONE)
        return MPA_E_BAD_MODE;
    switch (rq->mode) {
    case MPA_MODE_AUTH:
    case MPA_MODE_SIGN:
    case MPA_MODE_CARDINFO:
        v = json_object_get(root, "service_id");
        if (!json_is_string(v) || strcmp(json_string_value(v), "01") != 0 ||
            json_string_length(v) != 2)
            return MPA_E_BAD_SERVICE;
        if (rq->mode != MPA_MODE_CARDINFO) {
            v = json_object_get(root, "digest");
            if (!v)
                return MPA_E_BAD_DIGEST;
            enum mpa_err e = take_digests(rq, v);
            if (e != MPA_OK)
                return e;
        }
        if (!rq->has_pin)
            return MPA_E_PIN_MISSING;
        return MPA_OK;
    case MPA_MODE_TRIES:
        v = json_object_get(root, "for");
        rq->tries_for = mode_from_json(v);
        if (rq->tries_for != MPA_MODE_AUTH && rq->tries_for != MPA_MODE_SIGN &&
            rq->tries_for != MPA_MODE_CARDINFO)
            return MPA_E_BAD_REQUEST;
        return MPA_OK;
    default:
        return MPA_OK;
    }
}

enum mpa_err mpa_request_parse(const uint8_t *buf, size_t len,
                               struct mpa_request *rq)
{
    json_error_t jerr;
    json_t *root;
    enum mpa_err e;

    memset(rq, 0, sizeof(*rq));
    /* Jansson checks the UTF-8 and refuses \u0000 in strings (no
     * JSON_ALLOW_NUL), so every string below is a C string of its own
     * length. */
    root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return MPA_E_BAD_REQUEST;
    if (!json_is_object(root)) {
        json_decref(root);
        return MPA_E_BAD_REQUEST;
    }
    take_pin(rq, root);
    e = check_fields(rq, root);
    json_decref(root);
    return e;
}

void mpa_request_clear(struct mpa_request *rq)
{
    OPENSSL_cleanse(rq, sizeof(*rq));
}
