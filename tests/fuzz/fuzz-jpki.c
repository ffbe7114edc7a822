/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for the JPKI application (jpki.h) against a card whose every
 * answer comes from the fuzz input (the scripted card of fuzz-card.h).  The
 * input's first byte chooses the READ BINARY length mode, the log and the
 * GET CHALLENGE size; the rest is the script.  One session runs everything
 * the module ever asks of a card: begin, SELECT, token information, the four
 * certificates, both PIN counters, VERIFY with valid PINs, both signatures,
 * GET CHALLENGE and end; a second one, after the first has left its cache
 * behind, reads again, changes a PIN and ends with a reset.  Calls go on
 * after errors, as the module's would.  Every buffer returned is read to
 * its last byte in a heap block of exactly its size, checked against the
 * contract in jpki.h, and freed.  Layer: test code; calls jpki.h, der.h and
 * the callback transport.  fuzz_jpki_session() is shared with the seed
 * recorder (mkseed.c), so the seeds always follow this sequence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "digest-info.h"
#include "fuzz-card.h"
#include "jpki.h"
#include "myna-err.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Every function of jpki.h returns 0 or one enum myna_err. */
#define CHECK_ERR(err) CHECK((err) <= 0 && (err) >= MYNA_E_MEMORY_FAILURE)

/* The PINs of the virtual card's defaults: valid formats, so sent. */
static const uint8_t auth_pin[] = "1234";
static const uint8_t sign_pin[] = "abc123";  /* folded to ABC123 */
static const uint8_t new_auth_pin[] = "5678";

/* One run: the handle, and the card behind it when it is the scripted
 * one (NULL under the seed recorder). */
struct session {
    struct jpki *j;
    const struct fuzz_card *fc;
};

/* The last command the card saw (GET RESPONSE aside: the answer it
 * brings belongs to the command before) had INS @ins, and data if
 * @with_data. */
static bool last_was(const struct session *s, uint8_t ins, bool with_data)
{
    if (!s->fc)
        return true;
    return s->fc->last_ins == ins && (s->fc->last_lc > 0) == with_data;
}

static void token_info(struct session *s)
{
    struct jpki_token_info *ti;
    size_t n;
    int err;

    /* On the heap so that ASan guards its edges. */
    ti = malloc(sizeof(*ti));
    if (!ti)
        return;
    err = jpki_read_token_info(s->j, ti);
    CHECK_ERR(err);
    if (err == 0) {
        CHECK(last_was(s, 0xB0, false));
        CHECK(ti->raw_len <= sizeof(ti->raw));
        fuzz_touch(ti->raw, ti->raw_len);
        n = strnlen(ti->label, sizeof(ti->label));
        CHECK(n < sizeof(ti->label) && n <= ti->raw_len);
        CHECK(ti->kind == jpki_kind_from_label(ti->label));
        CHECK(jpki_kind_name(ti->kind) != NULL);
    }
    free(ti);
}

static void read_cert(struct session *s, enum jpki_cert which)
{
    uint8_t *der = (uint8_t *)1;
    size_t len = 77, total = 0;
    int err;

    err = jpki_read_cert(s->j, which, &der, &len);
    CHECK_ERR(err);
    if (err != 0) {
        CHECK(der == NULL && len == 0);
        return;
    }
    /* A whole certificate as its own header announces it. */
    CHECK(der != NULL && len >= 2 && len <= DER_CERT_MAX);
    fuzz_touch(der, len);
    CHECK(der_cert_length(der, len, &total) == 0 && total == len);
    free(der);
}

static void pin_tries(struct session *s, enum jpki_role role)
{
    int tries = -77, err;

    err = jpki_pin_tries(s->j, role, &tries);
    CHECK_ERR(err);
    if (err == 0) {
        /* Only a VERIFY without data may tell the counter. */
        CHECK(last_was(s, 0x20, false));
        CHECK(tries >= 0 && tries <= 15);
    }
}

static void verify(struct session *s, enum jpki_role role,
                   const uint8_t *pin, size_t len)
{
    int tries = -77, err;

    err = jpki_verify(s->j, role, pin, len, &tries);
    CHECK_ERR(err);
    CHECK(err != MYNA_E_PIN_LEN && err != MYNA_E_PIN_FORMAT);
    /* Right, wrong or blocked: only the card's answer to the PIN itself
     * may say so (jpki.h: *tries_left is set with these). */
    if (err == 0 || err == MYNA_E_PIN_INCORRECT || err == MYNA_E_PIN_LOCKED)
        CHECK(last_was(s, 0x20, true));
    if (err == MYNA_E_PIN_INCORRECT)
        CHECK(tries >= 1 && tries <= 15);
    else if (err == MYNA_E_PIN_LOCKED)
        CHECK(tries == 0);
    else
        CHECK(tries == -1);
}

static void sign(struct session *s, enum jpki_role role)
{
    uint8_t *sig;
    size_t siglen = 77;
    int err;

    sig = malloc(JPKI_SIG_LEN);
    if (!sig)
        return;
    err = jpki_sign(s->j, role, digest_info, sizeof(digest_info), sig,
                    JPKI_SIG_LEN, &siglen);
    CHECK_ERR(err);
    CHECK(err != MYNA_E_ARGS);
    if (err == 0) {
        CHECK(last_was(s, 0x2A, true));
        CHECK(siglen == JPKI_SIG_LEN);
        fuzz_touch(sig, siglen);
    } else {
        CHECK(siglen == 0);
    }
    free(sig);
}

static void challenge(struct session *s, size_t len)
{
    uint8_t *buf;
    int err;

    buf = malloc(len);
    if (!buf)
        return;
    err = jpki_get_challenge(s->j, buf, len);
    CHECK_ERR(err);
    if (err == 0)
        fuzz_touch(buf, len);
    free(buf);
}

void fuzz_jpki_session(struct transport *t, uint8_t cfg,
                       const struct fuzz_card *fc)
{
    static const enum jpki_ext_mode modes[4] = {
        JPKI_EXT_NEVER, JPKI_EXT_AUTO, JPKI_EXT_ALWAYS, JPKI_EXT_AUTO,
    };
    size_t chlen = (cfg >> 3) ? (size_t)(cfg >> 3) * 17u : 8u;
    struct session s = { .fc = fc };
    int err;

    if (jpki_new(t, &s.j) != 0)
        return;
    jpki_set_ext_mode(s.j, modes[cfg & 3]);

    /* What the module does when a card comes in and a user logs in. */
    CHECK_ERR(jpki_begin(s.j));
    CHECK_ERR(jpki_select_ap(s.j));
    token_info(&s);
    read_cert(&s, JPKI_CERT_AUTH);
    read_cert(&s, JPKI_CERT_AUTH_CA);
    read_cert(&s, JPKI_CERT_SIGN_CA);
    pin_tries(&s, JPKI_AUTH);
    pin_tries(&s, JPKI_SIGN);
    verify(&s, JPKI_SIGN, sign_pin, sizeof(sign_pin) - 1);
    read_cert(&s, JPKI_CERT_SIGN);
    verify(&s, JPKI_AUTH, auth_pin, sizeof(auth_pin) - 1);
    sign(&s, JPKI_AUTH);
    sign(&s, JPKI_SIGN);
    challenge(&s, chlen);
    CHECK_ERR(jpki_end(s.j, false));

    /* A later transaction: the AP is cached, the EF is not. */
    err = jpki_begin(s.j);
    CHECK_ERR(err);
    read_cert(&s, JPKI_CERT_AUTH);
    err = jpki_change_pin(s.j, JPKI_AUTH, new_auth_pin,
                          sizeof(new_auth_pin) - 1);
    CHECK_ERR(err);
    CHECK(err != MYNA_E_PIN_LEN && err != MYNA_E_PIN_FORMAT);
    CHECK_ERR(jpki_end(s.j, true));
    jpki_free(s.j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_card fc;
    struct transport *t = NULL;

    if (size < 1)
        return 0;
    fuzz_log((data[0] & 0x04) != 0);
    fuzz_card_init(&fc, data + 1, size - 1);
    if (fuzz_card_transport(&fc, &t) == 0)
        fuzz_jpki_session(t, data[0], &fc);
    tp_free(t);
    fuzz_log(false);
    return 0;
}
