/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * One message in, one answer out: parse and check the request
 * (request.c), run its mode (card.c), and build the answer with Jansson.
 * Success: {"result": "0", "mode": ..., fields of the mode}.  Failure:
 * {"result": "1", "mode": ... (when it was understood), "errcode",
 * "message", "message_ja", "tries_left" (when known), "last_try" (true
 * when one try is left; the messages then say so)}.  Layer: mpa/.
 * Every answer is wiped before it is freed: some carry personal data.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "json-wipe.h"
#include "mpa.h"

static void wiping_free(void *p)
{
    if (!p)
        return;
    /* glibc: the usable size covers every byte Jansson may have written. */
    OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}

void mpa_json_wipe_on_free(void)
{
    json_set_alloc_funcs(malloc, wiping_free);
}

static char *dump(json_t *ans)
{
    char *s = ans ? json_dumps(ans, JSON_COMPACT) : NULL;

    myna_json_wipe(ans);
    json_decref(ans);
    return s;
}

/* Said before the last try, so that the person stops to check. */
static const char last_try_en[] =
    " Only one try is left: if the next PIN is wrong, it is blocked.";
static const char last_try_ja[] =
    "残りは1回です。次に間違えるとロックされます。";

static char *error_answer(enum mpa_mode mode, enum mpa_err e, int tries_left)
{
    json_t *a = json_object();
    const char *name = mpa_mode_name(mode);
    bool last = tries_left == 1;
    char en[1024], ja[1024];

    if (!a)
        return NULL;
    snprintf(en, sizeof(en), "%s%s", mpa_message_en(e), last ? last_try_en : "");
    snprintf(ja, sizeof(ja), "%s%s", mpa_message_ja(e), last ? last_try_ja : "");
    if (json_object_set_new(a, "result", json_string("1")) < 0 ||
        (name && json_object_set_new(a, "mode", json_string(name)) < 0) ||
        json_object_set_new(a, "errcode", json_string(mpa_errcode(e))) < 0 ||
        json_object_set_new(a, "message", json_string(en)) < 0 ||
        json_object_set_new(a, "message_ja", json_string(ja)) < 0 ||
        (tries_left >= 0 &&
         json_object_set_new(a, "tries_left", json_integer(tries_left)) < 0) ||
        (last && json_object_set_new(a, "last_try", json_true()) < 0)) {
        json_decref(a);
        return NULL;
    }
    return dump(a);
}

char *mpa_frame_error(enum mpa_err e)
{
    return error_answer(MPA_MODE_NONE, e, -1);
}

void mpa_handle(struct mpa_ctx *ctx, const uint8_t *buf, size_t len,
                char **answer, bool *end)
{
    struct mpa_request *rq = malloc(sizeof(*rq));
    struct mpa_outcome out = {MPA_OK, -1};
    json_t *ans = NULL;

    *answer = NULL;
    *end = false;
    if (!rq) {
        *answer = error_answer(MPA_MODE_NONE, MPA_E_INTERNAL, -1);
        return;
    }
    out.err = mpa_request_parse(buf, len, rq);
    if (out.err != MPA_OK)
        goto out_error;
    if (rq->mode == MPA_MODE_END) {
        *end = true;
        goto out;
    }
    ans = json_object();
    if (!ans || json_object_set_new(ans, "result", json_string("0")) < 0 ||
        json_object_set_new(ans, "mode",
                            json_string(mpa_mode_name(rq->mode))) < 0) {
        out.err = MPA_E_INTERNAL;
        goto out_error;
    }
    switch (rq->mode) {
    case MPA_MODE_CHECK:
        mpa_card_check(ctx, ans, &out);
        break;
    case MPA_MODE_TRIES:
        mpa_card_tries(ctx, rq->tries_for, ans, &out);
        break;
    case MPA_MODE_AUTH:
    case MPA_MODE_SIGN:
    case MPA_MODE_CARDINFO:
        if (rq->mode == MPA_MODE_CARDINFO)
            mpa_card_cardinfo(ctx, rq, ans, &out);
        else
            mpa_card_auth_sign(ctx, rq, ans, &out);
        break;
    default:
        out.err = MPA_E_BAD_MODE;
        break;
    }
    if (out.err == MPA_OK) {
        *answer = dump(ans);
        ans = NULL;
        goto out;
    }
out_error:
    *answer = error_answer(rq->mode, out.err, out.tries_left);
out:
    myna_json_wipe(ans);
    json_decref(ans);
    mpa_request_clear(rq);
    free(rq);
}
