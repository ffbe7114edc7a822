/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The modes that talk to the card.  Layer: mpa/; calls the card layer
 * (the hub of transport.h, jpki.h, cardinfo.h), never pcsc-lite itself.
 * Each request opens the first reader with a card, runs in one
 * transaction and ends it; a mode that sent a PIN ends with the card
 * powered down (jpki_end(j, true)) so that no verified PIN is left
 * behind for another program.  A PIN is format-checked before the card
 * is even opened, its counter read first (a blocked PIN is not sent), and
 * it is sent once: a rejection is reported with the tries left, never
 * retried.  A signature is verified with the card's own certificate
 * before it is handed out.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mpa.h"
#include "myna-err.h"
#include "transport.h"

struct mcard {
    struct tp_hub *hub;
    bool own_hub;
    struct transport *tp;
    struct jpki *j;
    bool in_tx;
    char reader[TP_READER_NAME_MAX];
};

static void mcard_close(struct mcard *c, bool unpower)
{
    /* A failed power-down leaves a verified PIN only until the card
     * loses power (pcscd powers an unused card down); nothing more useful
     * can be done here. */
    if (c->in_tx)
        (void)jpki_end(c->j, unpower);
    jpki_free(c->j);
    tp_free(c->tp);
    if (c->own_hub)
        tp_hub_free(c->hub);
    memset(c, 0, sizeof(*c));
}

/* The hub and the first reader with a card, its name in c->reader.
 * Returns 0, MYNA_E_NO_SERVICE, MYNA_E_NO_READER (none at all),
 * MYNA_E_NO_CARD (readers, all empty) or an error. */
static int mcard_find(struct mpa_ctx *ctx, struct mcard *c, size_t *nreaders)
{
    struct tp_reader_state rs[TP_READERS_MAX];
    size_t n = 0;
    int err;

    memset(c, 0, sizeof(*c));
    *nreaders = 0;
    if (ctx->hub) {
        c->hub = ctx->hub;
    } else {
        err = tp_hub_pcsc_new(&c->hub);
        c->own_hub = c->hub != NULL;
        if (err < 0)
            return err;
        if (!c->hub)
            return MYNA_E_GENERAL;
    }
    err = tp_hub_list(c->hub, rs, TP_READERS_MAX, &n);
    /* pcsc-lite says "no readers" with an error; it is an empty list. */
    if (err == MYNA_E_NO_READER) {
        n = 0;
        err = 0;
    }
    if (err < 0)
        return err;
    if (n > TP_READERS_MAX)
        n = TP_READERS_MAX;
    *nreaders = n;
    if (n == 0)
        return MYNA_E_NO_READER;
    for (size_t i = 0; i < n; i++) {
        if (rs[i].present) {
            memcpy(c->reader, rs[i].name, sizeof(c->reader));
            c->reader[sizeof(c->reader) - 1] = 0;
            return 0;
        }
    }
    return MYNA_E_NO_CARD;
}

/* Connect and open a transaction.  A reset since some earlier
 * transaction is not an error: we hold nothing across requests. */
static int mcard_connect(struct mcard *c)
{
    int err = tp_hub_connect(c->hub, c->reader, &c->tp);

    if (err < 0)
        return err;
    err = jpki_new(c->tp, &c->j);
    if (err < 0)
        return err;
    err = jpki_begin(c->j);
    if (err == MYNA_E_CARD_RESET)
        err = 0;
    if (err < 0)
        return err;
    c->in_tx = true;
    return 0;
}

static int mcard_open(struct mpa_ctx *ctx, struct mcard *c)
{
    size_t n;
    int err = mcard_find(ctx, c, &n);

    if (err == 0)
        err = mcard_connect(c);
    return err;
}

static int select_jpki(struct mcard *c)
{
    int err = jpki_select_ap(c->j);

    return err == MYNA_E_NOT_FOUND ? MYNA_E_NOT_JPKI : err;
}

/* Whether @sig is @in signed with PKCS#1 v1.5 type-1 padding by the key
 * of certificate @der (the card pads the bytes as given: no DigestInfo is
 * added, so none is expected). */
static bool sig_verifies(const uint8_t *der, size_t derlen, const uint8_t *in,
                         size_t inlen, const uint8_t *sig, size_t siglen)
{
    const uint8_t *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)derlen);
    EVP_PKEY_CTX *pc = NULL;
    bool ok = false;

    if (!x || p != der + derlen)
        goto out;
    pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
    if (!pc || EVP_PKEY_verify_init(pc) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1)
        goto out;
    ok = EVP_PKEY_verify(pc, sig, siglen, in, inlen) == 1;
out:
    EVP_PKEY_CTX_free(pc);
    X509_free(x);
    return ok;
}

/* Base64 of @len bytes, standard alphabet, with or without the '='
 * padding; malloc'd, NULL when out of memory. */
static char *b64(const uint8_t *in, size_t len, bool pad)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(cap);
    int n;

    if (!out)
        return NULL;
    n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    if (n < 0) {
        free(out);
        return NULL;
    }
    while (!pad && n > 0 && out[n - 1] == '=')
        out[--n] = 0;
    return out;
}

/* json_object_set_new that reports failure as an error. */
static enum mpa_err put(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0 ? MPA_OK
                                                      : MPA_E_INTERNAL;
}

static int load_uuid(struct mpa_ctx *ctx, uint8_t uuid[MPA_UUID_LEN])
{
    char path[sizeof(ctx->uuid_path)];

    if (ctx->uuid_path[0])
        return mpa_uuid_load(ctx->uuid_path, uuid);
    if (mpa_uuid_path(path, sizeof(path)) < 0)
        return -1;
    return mpa_uuid_load(path, uuid);
}

/* The uuid and combination_code of every card mode's answer.  Reads the
 * manufacture number (it selects its own application). */
static enum mpa_err put_identity(struct mpa_ctx *ctx, struct mcard *c,
                                 json_t *ans)
{
    char mfg[MYNA_MFG_NUMBER_LEN + 1], code[65], hex[2 * MPA_UUID_LEN + 1];
    uint8_t uuid[MPA_UUID_LEN];
    int err = myna_read_mfg_number(c->j, mfg);

    if (err < 0)
        return mpa_err_from_card(err);
    if (load_uuid(ctx, uuid) < 0) {
        OPENSSL_cleanse(mfg, sizeof(mfg));
        return MPA_E_CONFIG;
    }
    mpa_combination_code(mfg, uuid, code);
    OPENSSL_cleanse(mfg, sizeof(mfg));
    if (!code[0])
        return MPA_E_INTERNAL;
    mpa_hex(uuid, MPA_UUID_LEN, hex);
    if (put(ans, "uuid", json_string(hex)) != MPA_OK ||
        put(ans, "combination_code", json_string(code)) != MPA_OK)
        return MPA_E_INTERNAL;
    return MPA_OK;
}

/* Open the card for a mode that reads it with a PIN, and put its
 * identity (put_identity) in @ans.  MPA_OK or the error for the browser;
 * the caller closes @c either way. */
static enum mpa_err open_identified(struct mpa_ctx *ctx, struct mcard *c,
                                    json_t *ans)
{
    int err = mcard_open(ctx, c);

    if (err < 0)
        return mpa_err_from_card(err);
    return put_identity(ctx, c, ans);
}

/* Read @role's counter, then VERIFY @pin once.  Sets out->tries_left. */
static int verify_once(struct mcard *c, enum jpki_role role,
                       const uint8_t *pin, size_t len,
                       struct mpa_outcome *out)
{
    int tries = -1, left = -1, err;

    err = jpki_pin_tries(c->j, role, &tries);
    if (err < 0)
        return err;
    out->tries_left = tries;
    if (tries == 0)
        return MYNA_E_PIN_LOCKED;   /* not sent */
    err = jpki_verify(c->j, role, pin, len, &left);
    if (err == MYNA_E_PIN_INCORRECT || err == MYNA_E_PIN_LOCKED)
        out->tries_left = left;
    else if (err == 0)
        out->tries_left = -1;
    return err;
}

void mpa_card_auth_sign(struct mpa_ctx *ctx, struct mpa_request *rq,
                        json_t *ans, struct mpa_outcome *out)
{
    enum jpki_role role = rq->mode == MPA_MODE_AUTH ? JPKI_AUTH : JPKI_SIGN;
    enum jpki_cert which = role == JPKI_AUTH ? JPKI_CERT_AUTH : JPKI_CERT_SIGN;
    uint8_t norm[JPKI_PIN_MAX];
    uint8_t sig[MPA_DIGESTS_MAX][JPKI_SIG_LEN];
    size_t siglen[MPA_DIGESTS_MAX] = { 0 };
    size_t normlen = 0, derlen = 0;
    uint8_t *der = NULL;
    char *s = NULL;
    json_t *sigs = NULL;
    struct mcard c;
    int err = 0;

    memset(&c, 0, sizeof(c));
    out->err = MPA_OK;
    out->tries_left = -1;
    if (rq->pin_too_long ||
        jpki_pin_normalize(role, rq->pin, rq->pin_len, norm, &normlen) < 0) {
        out->err = MPA_E_PIN_FORMAT;
        goto out_wipe;
    }
    OPENSSL_cleanse(rq->pin, sizeof(rq->pin));
    /* The manufacture number first: a card without it fails before its
     * PIN is sent. */
    out->err = open_identified(ctx, &c, ans);
    if (out->err != MPA_OK)
        goto out_close;
    err = select_jpki(&c);
    if (err == 0)
        err = verify_once(&c, role, norm, normlen, out);
    OPENSSL_cleanse(norm, sizeof(norm));
    for (size_t i = 0; err == 0 && i < rq->ndigests; i++)
        err = jpki_sign(c.j, role, rq->digest[i], rq->digest_len[i], sig[i],
                        sizeof(sig[i]), &siglen[i]);
    if (err == 0)
        err = jpki_read_cert(c.j, which, &der, &derlen);
    if (err < 0) {
        out->err = mpa_err_from_card(err);
        goto out_close;
    }
    for (size_t i = 0; i < rq->ndigests; i++) {
        if (!sig_verifies(der, derlen, rq->digest[i], rq->digest_len[i],
                          sig[i], siglen[i])) {
            out->err = MPA_E_SIG_INVALID;
            goto out_close;
        }
    }
    /* Mode 01 answers one signature; mode 02 an array, one per digest
     * (mynaportal.md), even for a single digest given as a string. */
    if (role == JPKI_SIGN) {
        sigs = json_array();
        if (!sigs) {
            out->err = MPA_E_INTERNAL;
            goto out_close;
        }
    }
    for (size_t i = 0; i < rq->ndigests; i++) {
        s = b64(sig[i], siglen[i], true);
        if (!s) {
            out->err = MPA_E_INTERNAL;
            goto out_close;
        }
        if (sigs)
            out->err = json_array_append_new(sigs, json_string(s)) == 0
                           ? MPA_OK : MPA_E_INTERNAL;
        else
            out->err = put(ans, "signature", json_string(s));
        free(s);
        if (out->err != MPA_OK)
            goto out_close;
    }
    if (sigs) {
        out->err = put(ans, "signature", sigs);
        sigs = NULL;
        if (out->err != MPA_OK)
            goto out_close;
    }
    /* The certificate without '=' padding (mynaportal.md). */
    s = b64(der, derlen, false);
    out->err = s ? put(ans, "certificate", json_string(s)) : MPA_E_INTERNAL;
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
out_close:
    json_decref(sigs);
    if (der)
        OPENSSL_clear_free(der, derlen);
    mcard_close(&c, true);
out_wipe:
    OPENSSL_cleanse(norm, sizeof(norm));
    OPENSSL_cleanse(rq->pin, sizeof(rq->pin));
    OPENSSL_cleanse(sig, sizeof(sig));
}

static enum mpa_err put_hex(json_t *ans, const char *key, const char *v,
                            size_t len)
{
    char hex[2 * MYNA_CARDINFO_FIELD_MAX + 1];
    enum mpa_err e;

    if (len > MYNA_CARDINFO_FIELD_MAX)
        return MPA_E_CARD;
    mpa_hex((const uint8_t *)v, len, hex);
    e = put(ans, key, json_string(hex));
    OPENSSL_cleanse(hex, sizeof(hex));
    return e;
}

void mpa_card_cardinfo(struct mpa_ctx *ctx, struct mpa_request *rq,
                       json_t *ans, struct mpa_outcome *out)
{
    struct cardinfo *ci = NULL;
    struct mcard c;
    int tries = -1, left = -1, err;

    memset(&c, 0, sizeof(c));
    out->err = MPA_OK;
    out->tries_left = -1;
    if (rq->pin_too_long || !mpa_cardinfo_pin_ok(rq->pin, rq->pin_len)) {
        out->err = MPA_E_PIN_FORMAT;
        goto out_wipe;
    }
    ci = malloc(sizeof(*ci));
    if (!ci) {
        out->err = MPA_E_INTERNAL;
        goto out_wipe;
    }
    memset(ci, 0, sizeof(*ci));
    out->err = open_identified(ctx, &c, ans);
    if (out->err != MPA_OK)
        goto out_close;
    err = cardinfo_pin_tries(c.j, &tries);
    if (err == 0) {
        out->tries_left = tries;
        if (tries == 0)
            err = MYNA_E_PIN_LOCKED;   /* not sent */
    }
    if (err == 0) {
        err = cardinfo_verify(c.j, rq->pin, rq->pin_len, &left);
        out->tries_left = err == MYNA_E_PIN_INCORRECT ||
                          err == MYNA_E_PIN_LOCKED ? left : -1;
    }
    OPENSSL_cleanse(rq->pin, sizeof(rq->pin));
    if (err == 0)
        err = cardinfo_read(c.j, ci);
    if (err < 0) {
        out->err = mpa_err_from_card(err);
        goto out_close;
    }
    out->err = put_hex(ans, "name", ci->name, ci->name_len);
    if (out->err == MPA_OK)
        out->err = put_hex(ans, "sex", ci->sex, ci->sex_len);
    if (out->err == MPA_OK)
        out->err = put_hex(ans, "address", ci->address, ci->address_len);
    if (out->err == MPA_OK)
        out->err = put_hex(ans, "birthday", ci->birth, ci->birth_len);
out_close:
    mcard_close(&c, true);
out_wipe:
    if (ci) {
        cardinfo_clear(ci);
        free(ci);
    }
    OPENSSL_cleanse(rq->pin, sizeof(rq->pin));
}

static int tries_of(struct mcard *c, enum mpa_mode which, int *tries)
{
    int err;

    *tries = -1;
    if (which == MPA_MODE_CARDINFO)
        return cardinfo_pin_tries(c->j, tries);
    err = select_jpki(c);
    if (err < 0)
        return err;
    return jpki_pin_tries(c->j, which == MPA_MODE_AUTH ? JPKI_AUTH : JPKI_SIGN,
                          tries);
}

static int tries_max(enum mpa_mode which)
{
    if (which == MPA_MODE_SIGN)
        return JPKI_SIGN_TRIES;
    return which == MPA_MODE_AUTH ? JPKI_AUTH_TRIES : MYNA_CARDINFO_TRIES;
}

void mpa_card_tries(struct mpa_ctx *ctx, enum mpa_mode which, json_t *ans,
                    struct mpa_outcome *out)
{
    struct mcard c;
    int tries = -1;
    int err = mcard_open(ctx, &c);

    out->tries_left = -1;
    if (err == 0)
        err = tries_of(&c, which, &tries);
    mcard_close(&c, false);
    out->err = mpa_err_from_card(err);
    if (out->err != MPA_OK)
        return;
    out->tries_left = tries;
    if (put(ans, "for", json_string(mpa_mode_name(which))) != MPA_OK ||
        put(ans, "tries_left", json_integer(tries)) != MPA_OK ||
        put(ans, "tries_max", json_integer(tries_max(which))) != MPA_OK ||
        put(ans, "last_try", json_boolean(tries == 1)) != MPA_OK)
        out->err = MPA_E_INTERNAL;
}

/* A JSON integer, or null when unknown. */
static json_t *int_or_null(int err, int v)
{
    return err == 0 && v >= 0 ? json_integer(v) : json_null();
}

void mpa_card_check(struct mpa_ctx *ctx, json_t *ans, struct mpa_outcome *out)
{
    static const enum mpa_mode pins[] = {
        MPA_MODE_AUTH, MPA_MODE_SIGN, MPA_MODE_CARDINFO,
    };
    char mfg[MYNA_MFG_NUMBER_LEN + 1], reader[TP_READER_NAME_MAX];
    struct mcard c;
    size_t nreaders = 0;
    bool service, card = false, jpki = false, mfg_present = false;
    json_t *tries = json_object(), *mfgobj = json_object();
    int err = mcard_find(ctx, &c, &nreaders);

    out->err = MPA_OK;
    out->tries_left = -1;
    service = err != MYNA_E_NO_SERVICE;
    if (err == 0) {
        err = mcard_connect(&c);
        card = err == 0;
    }
    if (card) {
        jpki = select_jpki(&c) == 0;
        for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
            int t = -1, e = tries_of(&c, pins[i], &t);

            if (tries)
                json_object_set_new(tries, mpa_mode_name(pins[i]),
                                    int_or_null(e, t));
        }
        /* Only whether it is there: the number itself stays out of a
         * diagnosis that people paste into bug reports. */
        mfg_present = myna_read_mfg_number(c.j, mfg) == 0;
        OPENSSL_cleanse(mfg, sizeof(mfg));
    }
    memcpy(reader, c.reader, sizeof(reader));
    mcard_close(&c, false);
    if (!tries || !mfgobj ||
        put(mfgobj, "present", json_boolean(mfg_present)) != MPA_OK) {
        json_decref(tries);
        json_decref(mfgobj);
        out->err = MPA_E_INTERNAL;
        return;
    }
    if (put(ans, "host", json_string(MPA_HOST_NAME)) != MPA_OK ||
        put(ans, "pcscd", json_boolean(service)) != MPA_OK ||
        put(ans, "readers", json_integer((json_int_t)nreaders)) != MPA_OK ||
        put(ans, "reader", reader[0] ? json_string(reader) : json_null())
            != MPA_OK ||
        put(ans, "card_present", json_boolean(card)) != MPA_OK ||
        put(ans, "jpki_ap", json_boolean(jpki)) != MPA_OK ||
        put(ans, "tries_left", tries) != MPA_OK ||
        put(ans, "manufacture_number", mfgobj) != MPA_OK)
        out->err = MPA_E_INTERNAL;
}
