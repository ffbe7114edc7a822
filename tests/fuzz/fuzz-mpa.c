/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for mynacard-mpa's request parser and dispatcher
 * (mpa_handle) with the card side faked below the transport: a callback
 * hub whose one reader holds the scripted card of fuzz-card.h.  So both
 * sides are untrusted at once: the browser's message and every card
 * answer.
 *
 * Input: byte 0 the options (bit 0: the reader is empty), bytes 1-2 the
 * request's length N (little-endian, cut to what is there), then N bytes
 * of request, then the card's script (fuzz-card.h).
 *
 * Oracles: an answer always comes back (none only for mode "05"), and it
 * is one JSON object whose result is "0" or "1"; an error answer has an
 * errcode, a message and a message_ja, and no PIN of the request in it;
 * at most one VERIFY with data reaches the card per request, none when
 * the request's PIN has the wrong format for its mode (checked here with
 * rules of its own), and it carries exactly the request's PIN (the
 * signature password uppercased); a successful mode 01 or 02 answer
 * carries signatures that verify, here with OpenSSL, with the
 * certificate in the same answer over the digests of the request.
 *
 * FUZZ_MPA_LOG=1 prints each command header and answer on standard error.
 *
 * Layer: test code; calls mpa.h, the callback hub, fuzz-card.h, Jansson
 * and OpenSSL.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fuzz-card.h"
#include "mpa.h"
#include "myna-err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) FUZZ_CHECK("fuzz-mpa", cond)

/* The card, and what the host sent it. */
struct watch {
    struct fuzz_card fc;
    unsigned verifies;          /* VERIFY commands with data */
    uint8_t pin[64];            /* the data of the last one */
    size_t pin_len;
};

static int watch_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                      uint8_t *resp, size_t cap, size_t *resplen)
{
    struct watch *w = ctx;

    /* A short-form VERIFY (CLA 00, INS 20) with Lc > 0. */
    if (cmdlen > 5 && cmd[1] == 0x20 && cmd[4] > 0 &&
        (size_t)cmd[4] + 5 <= cmdlen) {
        w->verifies++;
        w->pin_len = cmd[4] <= sizeof(w->pin) ? cmd[4] : sizeof(w->pin);
        memcpy(w->pin, cmd + 5, w->pin_len);
    }
    /* Under FUZZ_MPA_LOG the header of each command (never its data: it
     * may be a PIN). */
    if (getenv("FUZZ_MPA_LOG") && cmdlen >= 4)
        fprintf(stderr, "fuzz-mpa: > %02X %02X %02X %02X (%zu bytes)\n",
                cmd[0], cmd[1], cmd[2], cmd[3], cmdlen);
    return fuzz_card_xfer(&w->fc, cmd, cmdlen, resp, cap, resplen);
}

static char uuid_dir[256];

static void remove_uuid_dir(void)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/mpa.json", uuid_dir);
    unlink(path);
    rmdir(uuid_dir);
}

static void setup_once(void)
{
    const char *base = getenv("MYNACARD_TEST_TMP");

    if (uuid_dir[0])
        return;
    mpa_json_wipe_on_free();   /* as mynacard-mpa runs */
    snprintf(uuid_dir, sizeof(uuid_dir), "%s/fuzz-mpa.XXXXXX",
             base ? base : "/tmp");
    CHECK(mkdtemp(uuid_dir) != NULL);
    atexit(remove_uuid_dir);
}

/* What the request says, read here with Jansson apart from request.c:
 * the mode, the PIN (when a string) and the digests (when base64 that
 * OpenSSL decodes). */
struct expect {
    char mode[8];
    char pin[80];
    size_t pin_len;
    bool has_pin;
};

static void read_request(const uint8_t *req, size_t len, struct expect *e)
{
    json_t *root = json_loadb((const char *)req, len, 0, NULL);
    json_t *v;

    memset(e, 0, sizeof(*e));
    if (!json_is_object(root))
        goto out;
    v = json_object_get(root, "mode");
    if (json_is_string(v) && json_string_length(v) < sizeof(e->mode))
        memcpy(e->mode, json_string_value(v), json_string_length(v));
    v = json_object_get(root, "pin");
    if (json_is_string(v) && json_string_length(v) < sizeof(e->pin)) {
        e->has_pin = true;
        e->pin_len = json_string_length(v);
        memcpy(e->pin, json_string_value(v), e->pin_len);
    }
out:
    json_decref(root);
}

/* The PIN formats, written again here: 4 digits for "01" and "04"; 6-16
 * of A-Z a-z 0-9 for "02". */
static bool pin_format_ok(const struct expect *e)
{
    size_t min = 4, max = 4;
    bool letters = false;

    if (strcmp(e->mode, "02") == 0) {
        min = 6;
        max = 16;
        letters = true;
    }
    if (!e->has_pin || e->pin_len < min || e->pin_len > max)
        return false;
    for (size_t i = 0; i < e->pin_len; i++) {
        unsigned char c = (unsigned char)e->pin[i];

        if (!(c >= '0' && c <= '9') &&
            !(letters && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))))
            return false;
    }
    return true;
}

static size_t b64_decode(const char *s, uint8_t *out, size_t cap)
{
    char buf[2048];
    size_t n = strlen(s);
    int got;

    /* Put the padding back (the certificate comes without). */
    if (n + 3 >= sizeof(buf) || (n + 3) / 4 * 3 > cap)
        return 0;
    memcpy(buf, s, n);
    while (n % 4)
        buf[n++] = '=';
    buf[n] = 0;
    got = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)n);
    if (got < 0)
        return 0;
    while (n > 0 && buf[n - 1] == '=') {
        got--;
        n--;
    }
    return (size_t)got;
}

/* A success of mode 01 or 02: each signature, opened with the answer's
 * certificate, is one of the request's digests. */
static void check_signatures(json_t *ans, const uint8_t *req, size_t len)
{
    static uint8_t der[1536], sig[300], rec[300], dig[300];
    json_t *root = json_loadb((const char *)req, len, 0, NULL);
    json_t *sigs = json_object_get(ans, "signature");
    json_t *cert = json_object_get(ans, "certificate");
    json_t *digs = json_object_get(root, "digest");
    const uint8_t *p = der;
    size_t derlen, i, n;
    json_t *s;
    X509 *x;

    CHECK(json_is_string(cert));
    derlen = b64_decode(json_string_value(cert), der, sizeof(der));
    x = d2i_X509(NULL, &p, (long)derlen);
    CHECK(x != NULL);
    if (json_is_string(sigs)) {
        sigs = json_pack("[O]", sigs);
    } else {
        CHECK(json_is_array(sigs));
        json_incref(sigs);
    }
    if (json_is_string(digs))
        digs = json_pack("[O]", digs);
    else
        json_incref(digs);
    CHECK(json_array_size(sigs) == json_array_size(digs));
    json_array_foreach(sigs, i, s) {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
        size_t reclen = sizeof(rec), siglen, diglen;

        CHECK(json_is_string(s));
        siglen = b64_decode(json_string_value(s), sig, sizeof(sig));
        n = b64_decode(json_string_value(json_array_get(digs, i)), dig,
                       sizeof(dig));
        diglen = n;
        CHECK(pc && EVP_PKEY_verify_recover_init(pc) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1);
        CHECK(EVP_PKEY_verify_recover(pc, rec, &reclen, sig, siglen) == 1);
        CHECK(reclen == diglen && memcmp(rec, dig, diglen) == 0);
        EVP_PKEY_CTX_free(pc);
    }
    json_decref(sigs);
    json_decref(digs);
    json_decref(root);
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct watch w;
    struct tp_hub *hub = NULL;
    struct tp_card_cb cb;
    struct mpa_ctx ctx;
    struct expect e;
    const uint8_t *req;
    size_t reqlen;
    uint8_t opts;
    char *answer = NULL;
    bool end = false;
    json_t *ans;
    const char *result;

    if (size < 3)
        return 0;
    setup_once();
    opts = data[0];
    reqlen = (size_t)data[1] | (size_t)data[2] << 8;
    if (reqlen > size - 3)
        reqlen = size - 3;
    req = data + 3;

    memset(&w, 0, sizeof(w));
    fuzz_card_init(&w.fc, req + reqlen, size - 3 - reqlen);
    memset(&cb, 0, sizeof(cb));
    cb.xfer = watch_xfer;
    cb.ctx = &w;
    cb.atr[0] = 0x3B;
    cb.atr[1] = 0x00;
    cb.atr_len = 2;
    CHECK(tp_hub_callback_new(1, &hub) == 0);
    if (!(opts & 1))
        CHECK(tp_hub_callback_insert(hub, 0, &cb) == 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.hub = hub;
    snprintf(ctx.uuid_path, sizeof(ctx.uuid_path), "%s/mpa.json", uuid_dir);

    read_request(req, reqlen, &e);
    mpa_handle(&ctx, req, reqlen, &answer, &end);

    /* At most one VERIFY with data; none for a PIN of the wrong format;
     * and it is the request's PIN (uppercased for the password). */
    CHECK(w.verifies <= 1);
    if (w.verifies) {
        CHECK(pin_format_ok(&e));
        CHECK(w.pin_len == e.pin_len);
        for (size_t i = 0; i < e.pin_len; i++)
            CHECK(w.pin[i] == (uint8_t)toupper((unsigned char)e.pin[i]));
    }
    if (end) {
        CHECK(answer == NULL);
        CHECK(strcmp(e.mode, "05") == 0);
        goto out;
    }
    CHECK(answer != NULL);
    /* FUZZ_MPA_LOG=1: the answer on stderr, to read what an input did. */
    if (getenv("FUZZ_MPA_LOG"))
        fprintf(stderr, "fuzz-mpa: %s\n", answer);
    ans = json_loads(answer, 0, NULL);
    CHECK(json_is_object(ans));
    result = json_string_value(json_object_get(ans, "result"));
    CHECK(result != NULL);
    if (strcmp(result, "1") == 0) {
        CHECK(json_is_string(json_object_get(ans, "errcode")));
        CHECK(json_is_string(json_object_get(ans, "message")));
        CHECK(json_is_string(json_object_get(ans, "message_ja")));
        if (e.has_pin && e.pin_len >= 4)
            CHECK(strstr(answer, e.pin) == NULL);
    } else {
        CHECK(strcmp(result, "0") == 0);
        if (strcmp(e.mode, "01") == 0 || strcmp(e.mode, "02") == 0)
            check_signatures(ans, req, reqlen);
    }
    json_decref(ans);
out:
    free(answer);
    tp_hub_free(hub);
    return 0;
}
