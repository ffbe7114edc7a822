/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The callback transport: a simulated card behind two function pointers
 * (struct tp_card_cb), and a hub of simulated readers into which tests put
 * and from which they pull such cards, the way a person uses a PC/SC
 * reader.  Layer: the bottom of apdu/, beside transport-pcsc.c; calls only
 * libc, pthreads and the card's callbacks.  It mimics what PC/SC does that
 * the layers above must survive: removal (MYNA_E_NO_CARD forever on that
 * connection) and resets by other programs (MYNA_E_CARD_RESET once).
 *
 * Lifetime: a transport connected through a hub holds a reference on the
 * hub, so the hub and transports may be freed in any order.  The card's
 * callbacks are called without any lock held (a card may insert, remove or
 * reset from inside its own callback); the owner of a card's ctx must
 * therefore keep it alive until no transport can still be inside one of
 * its callbacks, even after tp_hub_callback_remove().
 */
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "myna-err.h"

struct cb_reader {
    char name[TP_READER_NAME_MAX];
    bool present;
    uint32_t events;        /* bumped by insert and remove */
    uint64_t gen;           /* which card: changes on insert and remove */
    uint64_t resets;        /* bumped on every reset of the current card */
    struct tp_card_cb cb;   /* the card, when present */
};

struct cb_hub {
    struct tp_hub base;
    pthread_mutex_t lock;
    pthread_cond_t cond;    /* signalled on insert, remove and cancel */
    unsigned refs;          /* the hub's owner + each transport; lock */
    unsigned nreaders;
    struct cb_reader readers[TP_READERS_MAX];
    uint64_t changes;       /* bumped on insert and remove */
    uint64_t seen;          /* the value of changes last reported to a
                             * caller of list() or wait() */
    uint64_t cancels;       /* bumped by cancel: wakes every waiter */
    bool cancel_pending;    /* a cancel no waiter has answered yet */
};

struct cb_transport {
    struct transport base;
    /* Standalone (tp_callback_new): the card itself. */
    struct tp_card_cb cb;
    /* Through a hub: the reader and the card generation connected to. */
    struct cb_hub *hub;
    unsigned reader;
    uint64_t gen;
    uint64_t resets_seen;
    unsigned begins, ends;  /* for debugging: begin() and end() count */
};

static void hub_unref(struct cb_hub *hub);

/* ---- The transport ---- */

/*
 * The card a hub transport talks to, copied under the hub lock, or the
 * error PC/SC would give: MYNA_E_NO_CARD once the card it was connected
 * to left (even if another card came in since), MYNA_E_CARD_RESET once
 * after each reset someone else did.  @consume_reset is false for calls
 * (atr) that do not report resets.
 */
static int card_get(struct cb_transport *ct, struct tp_card_cb *cb,
                    bool consume_reset)
{
    struct cb_hub *hub = ct->hub;
    struct cb_reader *r;
    int err = 0;

    if (!hub) {
        *cb = ct->cb;
        return 0;
    }
    pthread_mutex_lock(&hub->lock);
    r = &hub->readers[ct->reader];
    if (!r->present || r->gen != ct->gen) {
        err = MYNA_E_NO_CARD;
        goto out_unlock;
    }
    if (consume_reset && r->resets != ct->resets_seen) {
        ct->resets_seen = r->resets;
        err = MYNA_E_CARD_RESET;
        goto out_unlock;
    }
    *cb = r->cb;
out_unlock:
    pthread_mutex_unlock(&hub->lock);
    return err;
}

static int cbt_transmit(struct transport *t, const uint8_t *cmd, size_t cmdlen,
                        uint8_t *resp, size_t cap, size_t *resplen)
{
    struct cb_transport *ct = (struct cb_transport *)t;
    struct tp_card_cb cb;
    size_t n = 0;
    int err;

    if (!cmd || !resp || !resplen)
        return MYNA_E_ARGS;
    *resplen = 0;
    err = card_get(ct, &cb, true);
    if (err < 0)
        return err;
    err = cb.xfer(cb.ctx, cmd, cmdlen, resp, cap, &n);
    if (err < 0)
        return err;
    /* A simulated card that overran the buffer has a bug; do not pass
     * a length past @cap up to code that would trust it. */
    if (n > cap)
        return MYNA_E_TRANSPORT;
    *resplen = n;
    return 0;
}

static int cbt_begin(struct transport *t)
{
    struct cb_transport *ct = (struct cb_transport *)t;
    struct tp_card_cb cb;
    int err;

    err = card_get(ct, &cb, true);
    /* As with PC/SC, a reset is reported with the transaction open. */
    if (err == 0 || err == MYNA_E_CARD_RESET)
        ct->begins++;
    return err;
}

static int cbt_end(struct transport *t, bool unpower)
{
    struct cb_transport *ct = (struct cb_transport *)t;
    struct tp_card_cb cb;
    struct cb_hub *hub = ct->hub;
    struct cb_reader *r;

    ct->ends++;
    if (!unpower)
        return 0;

    if (!hub) {
        cb = ct->cb;
    } else {
        pthread_mutex_lock(&hub->lock);
        r = &hub->readers[ct->reader];
        if (!r->present || r->gen != ct->gen) {
            pthread_mutex_unlock(&hub->lock);
            return MYNA_E_NO_CARD;
        }
        /* Other connections to this card see the power cycle as a
         * reset (PC/SC does); we asked for it, so we do not. */
        r->resets++;
        ct->resets_seen = r->resets;
        cb = r->cb;
        pthread_mutex_unlock(&hub->lock);
    }
    if (cb.unpower)
        cb.unpower(cb.ctx);
    return 0;
}

static int cbt_atr(struct transport *t, uint8_t *atr, size_t cap, size_t *len)
{
    struct cb_transport *ct = (struct cb_transport *)t;
    struct tp_card_cb cb;
    int err;

    if (!len || (!atr && cap > 0))
        return MYNA_E_ARGS;
    err = card_get(ct, &cb, false);
    if (err < 0)
        return err;
    *len = cb.atr_len;
    if (cb.atr_len > cap)
        return MYNA_E_BUFFER_SMALL;
    /* atr is non-NULL here (cap > 0); said again for scan-build. */
    if (cb.atr_len > 0 && atr)
        memcpy(atr, cb.atr, cb.atr_len);
    return 0;
}

static void cbt_free(struct transport *t)
{
    struct cb_transport *ct = (struct cb_transport *)t;

    if (!ct)
        return;
    if (ct->hub)
        hub_unref(ct->hub);
    free(ct);
}

static const struct transport_ops cbt_ops = {
    .transmit = cbt_transmit,
    .begin = cbt_begin,
    .end = cbt_end,
    .atr = cbt_atr,
    .free = cbt_free,
};

static bool card_cb_valid(const struct tp_card_cb *cb)
{
    return cb && cb->xfer && cb->atr_len <= TP_ATR_MAX;
}

int tp_callback_new(const struct tp_card_cb *cb, struct transport **out)
{
    struct cb_transport *ct;

    if (!out)
        return MYNA_E_ARGS;
    *out = NULL;
    if (!card_cb_valid(cb))
        return MYNA_E_ARGS;
    ct = calloc(1, sizeof(*ct));
    if (!ct)
        return MYNA_E_NOMEM;
    ct->base.ops = &cbt_ops;
    ct->cb = *cb;
    *out = &ct->base;
    return 0;
}

/* ---- The hub ---- */

static void hub_unref(struct cb_hub *hub)
{
    bool last;

    pthread_mutex_lock(&hub->lock);
    last = --hub->refs == 0;
    pthread_mutex_unlock(&hub->lock);
    if (!last)
        return;
    pthread_cond_destroy(&hub->cond);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

static int hub_list(struct tp_hub *h, struct tp_reader_state *out, size_t cap,
                    size_t *n)
{
    struct cb_hub *hub = (struct cb_hub *)h;
    size_t i, count;

    if (!n || (!out && cap > 0))
        return MYNA_E_ARGS;
    pthread_mutex_lock(&hub->lock);
    count = hub->nreaders < cap ? hub->nreaders : cap;
    for (i = 0; i < count; i++) {
        memcpy(out[i].name, hub->readers[i].name, sizeof(out[i].name));
        out[i].present = hub->readers[i].present;
        out[i].events = hub->readers[i].events;
    }
    *n = hub->nreaders;
    /* The caller has now seen this state: wait() blocks until it changes. */
    hub->seen = hub->changes;
    pthread_mutex_unlock(&hub->lock);
    return hub->nreaders > cap ? MYNA_E_BUFFER_SMALL : 0;
}

/* @ts = now + @ms on the clock the condition variable waits on. */
static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/*
 * Cancel semantics: cancel() wakes every thread inside wait(), and each
 * returns MYNA_E_CANCELLED.  A cancel that no waiter received (nobody was
 * waiting) is remembered, and the next wait() returns MYNA_E_CANCELLED at
 * once, one time only: a C_Finalize that races a thread just about to
 * call C_WaitForSlotEvent must not leave that thread blocked for ever.
 *
 * Lost wake-ups: a change since the last list() or wait() makes wait()
 * return 0 at once, so a change between list() and wait() is not missed.
 */
static int hub_wait(struct tp_hub *h, int timeout_ms)
{
    struct cb_hub *hub = (struct cb_hub *)h;
    struct timespec deadline;
    uint64_t cancels, start;
    int err = 0, rc;

    if (timeout_ms < -1)
        return MYNA_E_ARGS;
    if (timeout_ms >= 0)
        deadline_after(&deadline, timeout_ms);

    pthread_mutex_lock(&hub->lock);
    cancels = hub->cancels;
    /* What the callers last saw, taken now: another thread's list() while
     * we sleep must not hide the change that woke us. */
    start = hub->seen;
    for (;;) {
        if (hub->cancel_pending || hub->cancels != cancels) {
            hub->cancel_pending = false;
            err = MYNA_E_CANCELLED;
            break;
        }
        if (hub->changes != start) {
            hub->seen = hub->changes;
            err = 0;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&hub->cond, &hub->lock);
            continue;
        }
        rc = pthread_cond_timedwait(&hub->cond, &hub->lock, &deadline);
        if (rc == ETIMEDOUT) {
            /* A change or cancel that arrived with the timeout wins. */
            if (hub->cancel_pending || hub->cancels != cancels) {
                hub->cancel_pending = false;
                err = MYNA_E_CANCELLED;
            } else if (hub->changes != start) {
                hub->seen = hub->changes;
                err = 0;
            } else {
                err = MYNA_E_TIMEOUT;
            }
            break;
        }
    }
    pthread_mutex_unlock(&hub->lock);
    return err;
}

static void hub_cancel(struct tp_hub *h)
{
    struct cb_hub *hub = (struct cb_hub *)h;

    pthread_mutex_lock(&hub->lock);
    hub->cancels++;
    hub->cancel_pending = true;
    pthread_cond_broadcast(&hub->cond);
    pthread_mutex_unlock(&hub->lock);
}

static int hub_connect(struct tp_hub *h, const char *name,
                       struct transport **out)
{
    struct cb_hub *hub = (struct cb_hub *)h;
    struct cb_transport *ct;
    struct cb_reader *r = NULL;
    unsigned i;
    int err = 0;

    if (!name || !out)
        return MYNA_E_ARGS;
    *out = NULL;
    ct = calloc(1, sizeof(*ct));
    if (!ct)
        return MYNA_E_NOMEM;

    pthread_mutex_lock(&hub->lock);
    for (i = 0; i < hub->nreaders; i++) {
        if (strcmp(hub->readers[i].name, name) == 0) {
            r = &hub->readers[i];
            break;
        }
    }
    if (!r) {
        err = MYNA_E_NO_READER;
        goto out_unlock;
    }
    if (!r->present) {
        err = MYNA_E_NO_CARD;
        goto out_unlock;
    }
    ct->base.ops = &cbt_ops;
    ct->hub = hub;
    ct->reader = i;
    ct->gen = r->gen;
    ct->resets_seen = r->resets;
    hub->refs++;
out_unlock:
    pthread_mutex_unlock(&hub->lock);
    if (err < 0) {
        free(ct);
        return err;
    }
    *out = &ct->base;
    return 0;
}

static void hub_free(struct tp_hub *h)
{
    if (h)
        hub_unref((struct cb_hub *)h);
}

static const struct tp_hub_ops hub_ops = {
    .list = hub_list,
    .wait = hub_wait,
    .cancel = hub_cancel,
    .connect = hub_connect,
    .free = hub_free,
};

int tp_hub_callback_new(unsigned nreaders, struct tp_hub **out)
{
    struct cb_hub *hub;
    pthread_condattr_t attr;
    unsigned i;
    int err;

    if (!out)
        return MYNA_E_ARGS;
    *out = NULL;
    if (nreaders > TP_READERS_MAX)
        return MYNA_E_ARGS;
    hub = calloc(1, sizeof(*hub));
    if (!hub)
        return MYNA_E_NOMEM;

    if (pthread_mutex_init(&hub->lock, NULL) != 0) {
        err = MYNA_E_GENERAL;
        goto out_hub;
    }
    /* Timeouts measured on the monotonic clock survive clock changes. */
    if (pthread_condattr_init(&attr) != 0) {
        err = MYNA_E_GENERAL;
        goto out_lock;
    }
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&hub->cond, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        err = MYNA_E_GENERAL;
        goto out_lock;
    }
    pthread_condattr_destroy(&attr);

    hub->base.ops = &hub_ops;
    hub->refs = 1;
    hub->nreaders = nreaders;
    for (i = 0; i < nreaders; i++)
        snprintf(hub->readers[i].name, sizeof(hub->readers[i].name),
                 "Virtual Reader %u", i);
    *out = &hub->base;
    return 0;

out_lock:
    pthread_mutex_destroy(&hub->lock);
out_hub:
    free(hub);
    return err;
}

/* The hub behind @h; callback hubs only (the ops table says which). */
static struct cb_hub *cb_hub_of(struct tp_hub *h)
{
    if (!h || h->ops != &hub_ops)
        return NULL;
    return (struct cb_hub *)h;
}

/* Lock @hub and find @reader (*@r): the error when there is no such
 * reader, or when a card is in it and @want_card is false (remove that
 * card first), or none is and @want_card is true.  The lock is held on
 * return, error or not. */
static int lock_reader(struct cb_hub *hub, unsigned reader, bool want_card,
                       struct cb_reader **r)
{
    pthread_mutex_lock(&hub->lock);
    if (reader >= hub->nreaders)
        return MYNA_E_NO_READER;
    *r = &hub->readers[reader];
    if ((*r)->present != want_card)
        return want_card ? MYNA_E_NO_CARD : MYNA_E_ARGS;
    return 0;
}

/* A card came into @r or left it (the lock held): a new generation, and
 * whoever waits for a change wakes. */
static void reader_changed_locked(struct cb_hub *hub, struct cb_reader *r)
{
    r->events++;
    r->gen++;
    hub->changes++;
    pthread_cond_broadcast(&hub->cond);
}

int tp_hub_callback_insert(struct tp_hub *h, unsigned reader,
                           const struct tp_card_cb *cb)
{
    struct cb_hub *hub = cb_hub_of(h);
    struct cb_reader *r = NULL;
    int err;

    if (!hub || !card_cb_valid(cb))
        return MYNA_E_ARGS;
    err = lock_reader(hub, reader, false, &r);
    if (err == 0) {
        r->cb = *cb;
        r->present = true;
        reader_changed_locked(hub, r);
    }
    pthread_mutex_unlock(&hub->lock);
    return err;
}

int tp_hub_callback_remove(struct tp_hub *h, unsigned reader)
{
    struct cb_hub *hub = cb_hub_of(h);
    struct cb_reader *r = NULL;
    int err;

    if (!hub)
        return MYNA_E_ARGS;
    err = lock_reader(hub, reader, true, &r);
    if (err == 0) {
        /* A new generation orphans every transport connected to this
         * card. */
        memset(&r->cb, 0, sizeof(r->cb));
        r->present = false;
        reader_changed_locked(hub, r);
    }
    pthread_mutex_unlock(&hub->lock);
    return err;
}

/*
 * Another program reset the card (a warm reset): the card's reset callback
 * runs once, here, without the hub lock, and each
 * transport connected to it learns of it on its next begin() or
 * transmit().
 */
int tp_hub_callback_reset(struct tp_hub *h, unsigned reader)
{
    struct cb_hub *hub = cb_hub_of(h);
    struct cb_reader *r = NULL;
    struct tp_card_cb cb = { 0 };
    int err;

    if (!hub)
        return MYNA_E_ARGS;
    err = lock_reader(hub, reader, true, &r);
    if (err == 0) {
        r->resets++;
        cb = r->cb;
    }
    pthread_mutex_unlock(&hub->lock);
    if (err == 0 && cb.reset)
        cb.reset(cb.ctx);
    return err;
}
