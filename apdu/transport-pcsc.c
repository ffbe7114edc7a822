/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The PC/SC transport over pcsc-lite: readers and cards as pcscd sees them,
 * one SCARD_SHARE_SHARED connection per struct transport.  Layer: the
 * bottom of apdu/, and the only file of the project that calls SCard*; it
 * knows nothing of what the bytes it moves mean.  It may call pcsc-lite,
 * pthreads and the logger, nothing else.  Every pcsc-lite result becomes an
 * enum myna_err in pcsc_err() or, where the meaning depends on the
 * operation, right where it is returned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>
#include <pcsclite.h>

#include "log.h"
#include "myna-err.h"
#include "transport.h"

/* The pseudo-reader through which SCardGetStatusChange reports readers
 * coming and going.  It is never listed as a reader of ours. */
static const char pnp_reader[] = "\\\\?PnP?\\Notification";

/* A blocked wait re-enters SCardGetStatusChange at least this often.
 * pcsc-lite drops an SCardCancel that arrives before the waiting call has
 * reached pcscd (its client checks a "cancellable" flag first), so a cancel
 * that lands in that gap is only seen when the slice ends; and pcsc-lite
 * counts the readers for the PnP pseudo-reader anew at every call, so each
 * slice also re-checks the reader list itself. */
#define WAIT_SLICE_MS 1000

/* Bits of dwEventState that describe who uses the card rather than the
 * card.  Left out of the state a wait starts from: pcsc-lite wakes a
 * waiter whose current state claims INUSE or EXCLUSIVE as soon as that
 * stops being true, so keeping them would wake us whenever a connection
 * (ours included) comes or goes. */
#define STATE_SHARING_BITS (SCARD_STATE_INUSE | SCARD_STATE_EXCLUSIVE)

/* ---- Errors ---- */

/* True when @rv says the context is dead: pcscd stopped or restarted.
 * pcsc-lite answers SCARD_E_INVALID_HANDLE for a context it no longer
 * knows after pcscd restarted, and SCARD_F_COMM_ERROR when the socket
 * broke in the middle of a call. */
static bool pcsc_service_lost(LONG rv)
{
    return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
           rv == SCARD_E_INVALID_HANDLE || rv == SCARD_F_COMM_ERROR;
}

/* The one mapping of pcsc-lite results to enum myna_err. */
static int pcsc_err(LONG rv)
{
    switch (rv) {
    case SCARD_S_SUCCESS:
        return MYNA_OK;
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_E_INVALID_HANDLE:
    case SCARD_F_COMM_ERROR:
    case SCARD_E_SERVER_TOO_BUSY:
        return MYNA_E_NO_SERVICE;
    case SCARD_E_NO_MEMORY:
        return MYNA_E_NOMEM;
    case SCARD_E_INVALID_PARAMETER:
    case SCARD_E_INVALID_VALUE:
        return MYNA_E_ARGS;
    case SCARD_E_INSUFFICIENT_BUFFER:
        return MYNA_E_BUFFER_SMALL;
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
    case SCARD_E_NO_READERS_AVAILABLE:
        return MYNA_E_NO_READER;
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
        return MYNA_E_NO_CARD;
    case SCARD_W_RESET_CARD:
        return MYNA_E_CARD_RESET;
    case SCARD_E_CANCELLED:
    case SCARD_E_SYSTEM_CANCELLED:
        return MYNA_E_CANCELLED;
    case SCARD_E_TIMEOUT:
        return MYNA_E_TIMEOUT;
    default:
        /* Mute, unpowered or unsupported cards, protocol mismatches,
         * sharing violations, lost data, pcscd's internal errors: the
         * bytes did not get through, and nothing more specific applies. */
        return MYNA_E_TRANSPORT;
    }
}

static void log_rv(const char *call, LONG rv)
{
    myna_log(MYNA_LOG_DEBUG, "pcsc: %s: %s (0x%08lX)", call,
             pcsc_stringify_error(rv), (unsigned long)(uint32_t)rv);
}

/* ---- Time ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Readers (the hub) ---- */

/* What list() last reported of one reader: the state that the next wait()
 * compares the present with, so that a change between list() and wait()
 * is not missed. */
struct pcsc_seen {
    char name[TP_READER_NAME_MAX];
    DWORD state;
};

/* One thread blocked in wait(), on a context of its own: pcsc-lite holds a
 * context's lock for the whole of an SCardGetStatusChange, so waiting on
 * the context that list() uses would stall list(). */
struct pcsc_waiter {
    struct pcsc_waiter *next;
    SCARDCONTEXT ctx;
    bool ctx_valid;      /* under wait_mu: cancel() may SCardCancel ctx */
    unsigned cancel_gen; /* hub->cancel_gen when this wait began */
};

struct pcsc_hub {
    struct tp_hub hub;

    /* mu guards ctx and the reader snapshot. */
    pthread_mutex_t mu;
    SCARDCONTEXT ctx;
    bool ctx_valid;
    uint16_t ctx_gen;    /* contexts established so far: a new pcscd
                          * starts its counters afresh, so this goes into
                          * the upper half of every events counter */
    bool seen_valid;     /* list() has run at least once */
    bool seen_service;   /* pcscd answered at the last list() */
    size_t nseen;
    struct pcsc_seen seen[TP_READERS_MAX];

    /* wait_mu guards the waiters and cancel_gen; cond wakes waiters that
     * sleep while pcscd is away. */
    pthread_mutex_t wait_mu;
    pthread_cond_t cond;
    struct pcsc_waiter *waiters;
    unsigned cancel_gen;
};

static struct pcsc_hub *hub_of(struct tp_hub *h)
{
    return (struct pcsc_hub *)h;
}

/* Establish the hub's context if there is none.  Caller holds h->mu. */
static int hub_ctx_locked(struct pcsc_hub *h)
{
    LONG rv;

    if (h->ctx_valid)
        return 0;
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &h->ctx);
    if (rv != SCARD_S_SUCCESS) {
        log_rv("SCardEstablishContext", rv);
        /* Whatever went wrong, no context means no pcscd for us. */
        return rv == SCARD_E_NO_MEMORY ? MYNA_E_NOMEM : MYNA_E_NO_SERVICE;
    }
    h->ctx_valid = true;
    h->ctx_gen++;
    return 0;
}

/* Forget a context that pcscd no longer knows; the next call establishes a
 * new one.  Caller holds h->mu. */
static void hub_drop_ctx_locked(struct pcsc_hub *h)
{
    if (!h->ctx_valid)
        return;
    /* Fails when pcscd is gone, but frees pcsc-lite's memory all the same. */
    (void)SCardReleaseContext(h->ctx);
    h->ctx_valid = false;
}

/* The names of the readers pcscd knows, without the PnP pseudo-reader, in
 * @names (at most TP_READERS_MAX; longer names are skipped, as nobody
 * could connect to them through a struct tp_reader_state).  Returns
 * SCARD_S_SUCCESS (also when there are no readers) or pcsc-lite's error. */
static LONG list_names(SCARDCONTEXT ctx, char names[][TP_READER_NAME_MAX],
                       size_t *n)
{
    LPSTR msz = NULL;
    DWORD len = SCARD_AUTOALLOCATE;
    LONG rv;
    const char *p;

    *n = 0;
    rv = SCardListReaders(ctx, NULL, (LPSTR)&msz, &len);
    if (rv == SCARD_E_NO_READERS_AVAILABLE)
        return SCARD_S_SUCCESS;
    if (rv != SCARD_S_SUCCESS)
        return rv;
    /* A multi-string: names ended by NUL, the list by an empty name. */
    for (p = msz; p < msz + len && *p != '\0'; p += strlen(p) + 1) {
        size_t l = strlen(p);

        if (strcmp(p, pnp_reader) == 0 || l >= TP_READER_NAME_MAX)
            continue;
        if (*n == TP_READERS_MAX)
            break;
        memcpy(names[*n], p, l + 1);
        (*n)++;
    }
    (void)SCardFreeMemory(ctx, msz);
    return SCARD_S_SUCCESS;
}

/* One list() on the current context.  Caller holds h->mu. */
static LONG hub_snapshot_locked(struct pcsc_hub *h, struct pcsc_seen *seen,
                                size_t *nseen)
{
    char names[TP_READERS_MAX][TP_READER_NAME_MAX];
    SCARD_READERSTATE st[TP_READERS_MAX];
    size_t n, i;
    LONG rv;

    rv = list_names(h->ctx, names, &n);
    if (rv != SCARD_S_SUCCESS) {
        log_rv("SCardListReaders", rv);
        return rv;
    }
    *nseen = 0;
    if (n == 0)
        return SCARD_S_SUCCESS;
    memset(st, 0, sizeof(st));
    for (i = 0; i < n; i++) {
        st[i].szReader = names[i];
        st[i].dwCurrentState = SCARD_STATE_UNAWARE;
    }
    /* Timeout 0 with every state UNAWARE: pcscd's view right now. */
    rv = SCardGetStatusChange(h->ctx, 0, st, (DWORD)n);
    if (rv == SCARD_E_TIMEOUT)
        rv = SCARD_S_SUCCESS;
    if (rv == SCARD_E_UNKNOWN_READER) {
        /* A reader left between the two calls: report what we have as
         * absent; the next list() sees it gone. */
        rv = SCARD_S_SUCCESS;
    }
    if (rv != SCARD_S_SUCCESS) {
        log_rv("SCardGetStatusChange", rv);
        return rv;
    }
    for (i = 0; i < n; i++) {
        memcpy(seen[i].name, names[i], sizeof(seen[i].name));
        seen[i].state = st[i].dwEventState;
    }
    *nseen = n;
    return SCARD_S_SUCCESS;
}

static int pcsc_hub_list(struct tp_hub *hub, struct tp_reader_state *out,
                         size_t cap, size_t *n)
{
    struct pcsc_hub *h = hub_of(hub);
    LONG rv = SCARD_E_NO_SERVICE;
    int err = 0;
    int attempt;
    size_t i;

    *n = 0;
    pthread_mutex_lock(&h->mu);
    /* A context from before a pcscd restart fails once; then try a fresh
     * one straight away rather than report no readers for a whole call. */
    for (attempt = 0; attempt < 2; attempt++) {
        err = hub_ctx_locked(h);
        if (err < 0)
            break;
        rv = hub_snapshot_locked(h, h->seen, &h->nseen);
        if (!pcsc_service_lost(rv))
            break;
        hub_drop_ctx_locked(h);
        err = MYNA_E_NO_SERVICE;
    }
    h->seen_valid = true;
    if (err == 0 && rv != SCARD_S_SUCCESS)
        err = pcsc_err(rv);
    if (err < 0) {
        /* No readers to report.  Without pcscd, wait() watches for it to
         * return. */
        h->seen_service = err != MYNA_E_NO_SERVICE;
        h->nseen = 0;
        goto out_unlock;
    }
    h->seen_service = true;
    /* The caller gets the first @cap readers; pcsc-lite has at most 16. */
    for (i = 0; i < h->nseen && i < cap; i++) {
        DWORD st = h->seen[i].state;

        memcpy(out[i].name, h->seen[i].name, sizeof(out[i].name));
        out[i].present = (st & SCARD_STATE_PRESENT) != 0;
        /* pcsc-lite keeps a per-reader counter of card insertions and
         * removals in the upper 16 bits of dwEventState (seen on 1.9.9:
         * +1 on each insertion and each removal, unchanged by resets and
         * by connections).  A new pcscd restarts it, so the context
         * generation goes above it: equal values mean the same card. */
        out[i].events = ((uint32_t)h->ctx_gen << 16) | ((st >> 16) & 0xFFFFu);
    }
    *n = i;
out_unlock:
    pthread_mutex_unlock(&h->mu);
    return err;
}

static bool cancelled_locked(struct pcsc_hub *h, const struct pcsc_waiter *w)
{
    return h->cancel_gen != w->cancel_gen;
}

/* Sleep up to @ms or until cancel().  Returns true if cancelled. */
static bool sleep_cancellable(struct pcsc_hub *h, struct pcsc_waiter *w,
                              int64_t ms)
{
    struct timespec ts;
    bool cancelled;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->wait_mu);
    while (!cancelled_locked(h, w)) {
        if (pthread_cond_timedwait(&h->cond, &h->wait_mu, &ts) == ETIMEDOUT)
            break;
    }
    cancelled = cancelled_locked(h, w);
    pthread_mutex_unlock(&h->wait_mu);
    return cancelled;
}

/* True if the readers pcscd has now differ from those list() reported. */
static bool readers_changed(const char names[][TP_READER_NAME_MAX], size_t n,
                            const struct pcsc_seen *seen, size_t nseen)
{
    size_t i;

    if (n != nseen)
        return true;
    for (i = 0; i < n; i++) {
        /* pcsc-lite lists readers in slot order; a reordering is a change
         * too, and costs only one extra list(). */
        if (strcmp(names[i], seen[i].name) != 0)
            return true;
    }
    return false;
}

/* One slice of a wait on a live context.  Returns 1 if something changed,
 * 0 if the slice passed quietly, MYNA_E_CANCELLED, or MYNA_E_NO_SERVICE
 * when pcscd went away (which the caller reports as a change). */
static int wait_slice(struct pcsc_hub *h, struct pcsc_waiter *w,
                      const struct pcsc_seen *seen, size_t nseen,
                      int64_t slice_ms)
{
    char names[TP_READERS_MAX][TP_READER_NAME_MAX];
    SCARD_READERSTATE st[TP_READERS_MAX + 1];
    size_t n, i;
    LONG rv;

    rv = list_names(w->ctx, names, &n);
    if (rv != SCARD_S_SUCCESS) {
        log_rv("SCardListReaders", rv);
        return pcsc_service_lost(rv) ? MYNA_E_NO_SERVICE : 1;
    }
    if (readers_changed(names, n, seen, nseen))
        return 1;
    memset(st, 0, sizeof(st));
    for (i = 0; i < n; i++) {
        st[i].szReader = names[i];
        st[i].dwCurrentState = seen[i].state &
                               ~(DWORD)(SCARD_STATE_CHANGED | STATE_SHARING_BITS);
    }
    /* pcsc-lite wakes on the pseudo-reader when the number of readers
     * changes during the call; the count from before the call is compared
     * by readers_changed() above. */
    st[n].szReader = pnp_reader;
    st[n].dwCurrentState = (DWORD)n << 16;
    rv = SCardGetStatusChange(w->ctx, (DWORD)slice_ms, st, (DWORD)(n + 1));
    switch (rv) {
    case SCARD_S_SUCCESS:
        return 1;
    case SCARD_E_TIMEOUT:
        return 0;
    case SCARD_E_CANCELLED:
        /* Only cancel() cancels our contexts; the caller checks the
         * generation. */
        return 0;
    case SCARD_E_UNKNOWN_READER:
        return 1;
    default:
        log_rv("SCardGetStatusChange", rv);
        if (pcsc_service_lost(rv))
            return MYNA_E_NO_SERVICE;
        /* Not worth waking the caller for, but do not spin on it either. */
        return sleep_cancellable(h, w, slice_ms) ? MYNA_E_CANCELLED : 0;
    }
}

static void waiter_link(struct pcsc_hub *h, struct pcsc_waiter *w)
{
    pthread_mutex_lock(&h->wait_mu);
    w->cancel_gen = h->cancel_gen;
    w->ctx_valid = false;
    w->next = h->waiters;
    h->waiters = w;
    pthread_mutex_unlock(&h->wait_mu);
}

static void waiter_unlink(struct pcsc_hub *h, struct pcsc_waiter *w)
{
    struct pcsc_waiter **pp;

    pthread_mutex_lock(&h->wait_mu);
    for (pp = &h->waiters; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->wait_mu);
}

/* Give the waiter a context of its own.  Returns false if pcscd is away. */
static bool waiter_establish(struct pcsc_hub *h, struct pcsc_waiter *w)
{
    SCARDCONTEXT ctx;
    LONG rv;

    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
    if (rv != SCARD_S_SUCCESS)
        return false;
    /* Published under wait_mu so that cancel() never sees half of it. */
    pthread_mutex_lock(&h->wait_mu);
    w->ctx = ctx;
    w->ctx_valid = true;
    pthread_mutex_unlock(&h->wait_mu);
    return true;
}

static void waiter_release(struct pcsc_hub *h, struct pcsc_waiter *w)
{
    bool valid;

    /* Withdrawn under wait_mu first: after that, cancel() cannot be in
     * SCardCancel on this context any more. */
    pthread_mutex_lock(&h->wait_mu);
    valid = w->ctx_valid;
    w->ctx_valid = false;
    pthread_mutex_unlock(&h->wait_mu);
    if (valid)
        (void)SCardReleaseContext(w->ctx);
}

static int pcsc_hub_wait(struct tp_hub *hub, int timeout_ms)
{
    struct pcsc_hub *h = hub_of(hub);
    struct pcsc_seen seen[TP_READERS_MAX];
    struct pcsc_waiter w;
    size_t nseen;
    bool seen_valid, seen_service, first;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    int err;

    /* Start from what list() last reported, not from the present: a card
     * that came between list() and wait() must wake us at once. */
    pthread_mutex_lock(&h->mu);
    seen_valid = h->seen_valid;
    seen_service = h->seen_service;
    nseen = h->nseen;
    memcpy(seen, h->seen, nseen * sizeof(seen[0]));
    pthread_mutex_unlock(&h->mu);
    /* Never listed: the first wait reports a change so that the caller
     * lists; with no readers at all it is also where it would start. */
    if (!seen_valid)
        seen_service = true;

    memset(&w, 0, sizeof(w));
    waiter_link(h, &w);
    for (first = true;; first = false) {
        int64_t left = deadline - now_ms();
        int64_t slice = left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS;

        pthread_mutex_lock(&h->wait_mu);
        err = cancelled_locked(h, &w) ? MYNA_E_CANCELLED : 0;
        pthread_mutex_unlock(&h->wait_mu);
        if (err < 0)
            break;
        /* Look at least once, so that wait(0) is a poll. */
        if (left <= 0 && !first) {
            err = MYNA_E_TIMEOUT;
            break;
        }
        if (slice < 0)
            slice = 0;
        if (!w.ctx_valid && !waiter_establish(h, &w)) {
            /* pcscd is away.  If it was there at the last list(), its
             * readers are gone now: a change. */
            if (seen_service) {
                err = 0;
                break;
            }
            if (sleep_cancellable(h, &w, slice)) {
                err = MYNA_E_CANCELLED;
                break;
            }
            continue;
        }
        if (!seen_service) {
            /* pcscd came back since the last list(). */
            err = 0;
            break;
        }
        err = wait_slice(h, &w, seen, nseen, slice);
        if (err == MYNA_E_NO_SERVICE || err == 1) {
            err = 0;
            break;
        }
        if (err < 0)
            break;
    }
    waiter_release(h, &w);
    waiter_unlink(h, &w);
    return err;
}

static void pcsc_hub_cancel(struct tp_hub *hub)
{
    struct pcsc_hub *h = hub_of(hub);
    struct pcsc_waiter *w;

    pthread_mutex_lock(&h->wait_mu);
    h->cancel_gen++;
    for (w = h->waiters; w != NULL; w = w->next) {
        /* pcsc-lite's SCardCancel may be called from any thread while
         * another blocks in SCardGetStatusChange on the same context; it
         * opens a session of its own to pcscd. */
        if (w->ctx_valid)
            (void)SCardCancel(w->ctx);
    }
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->wait_mu);
}

static void pcsc_hub_free(struct tp_hub *hub)
{
    struct pcsc_hub *h = hub_of(hub);

    pthread_mutex_lock(&h->mu);
    hub_drop_ctx_locked(h);
    pthread_mutex_unlock(&h->mu);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->wait_mu);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- One card connection ---- */

struct pcsc_transport {
    struct transport tp;
    SCARDCONTEXT ctx;       /* its own: a signature that takes a second
                             * must not hold up list() on the hub's */
    SCARDHANDLE card;
    DWORD proto;
    char reader[TP_READER_NAME_MAX];
    uint16_t card_events;   /* the reader's insert/remove counter when we
                             * connected: tells a reset from a new card */
    bool gone;              /* card removed or pcscd lost: for ever */
    bool reset_pending;     /* a reset that atr() absorbed, not yet told */
    bool self_reset;        /* end(t, true) powered the card down: the
                             * SCARD_W_RESET_CARD that follows is ours */
};

static struct pcsc_transport *tp_of(struct transport *t)
{
    return (struct pcsc_transport *)t;
}

/* The insert/remove counter of @reader (see pcsc_hub_list()). */
static LONG reader_events(SCARDCONTEXT ctx, const char *reader, uint16_t *ev)
{
    SCARD_READERSTATE st;
    LONG rv;

    memset(&st, 0, sizeof(st));
    st.szReader = reader;
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(ctx, 0, &st, 1);
    if (rv == SCARD_E_TIMEOUT)
        rv = SCARD_S_SUCCESS;
    if (rv == SCARD_S_SUCCESS)
        *ev = (uint16_t)(st.dwEventState >> 16);
    return rv;
}

/* A transport failed with @rv in @call.  Removal, a vanished reader and a
 * lost pcscd all end this connection for good: from then on it answers
 * MYNA_E_NO_CARD without asking pcscd, as the header promises.  (pcsc-lite
 * would keep saying SCARD_W_REMOVED_CARD, unless a later reset by another
 * program overwrote that with SCARD_W_RESET_CARD.) */
static bool tp_card_left(struct pcsc_transport *t);

static int tp_fail(struct pcsc_transport *t, const char *call, LONG rv)
{
    log_rv(call, rv);
    if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD ||
        rv == SCARD_E_UNKNOWN_READER || rv == SCARD_E_READER_UNAVAILABLE ||
        pcsc_service_lost(rv) || tp_card_left(t)) {
        t->gone = true;
        return MYNA_E_NO_CARD;
    }
    return pcsc_err(rv);
}

/* How long a failed call waits for pcscd to see a removal: pcscd learns of
 * one by polling the reader driver (every 400 ms in pcsc-lite 1.9.9). */
#define CARD_LEFT_WAIT_MS 1500

/* Did the card leave the reader?  Asked after a call failed for a reason
 * that does not say (a card pulled out in the middle of a command makes
 * pcsc-lite answer SCARD_E_NOT_TRANSACTED, and pcscd may not have noticed
 * the removal yet): the reader's state is empty, or its insert/remove
 * counter moved since we connected, now or within CARD_LEFT_WAIT_MS.  A
 * failure with the card still in costs that wait, once. */
static bool tp_card_left(struct pcsc_transport *t)
{
    SCARD_READERSTATE st;
    int64_t deadline = now_ms() + CARD_LEFT_WAIT_MS;
    DWORD timeout = 0;
    LONG rv;

    memset(&st, 0, sizeof(st));
    st.szReader = t->reader;
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    for (;;) {
        int64_t left;

        rv = SCardGetStatusChange(t->ctx, timeout, &st, 1);
        if (rv == SCARD_E_UNKNOWN_READER || pcsc_service_lost(rv))
            return true;
        if (rv != SCARD_S_SUCCESS)   /* SCARD_E_TIMEOUT: nothing changed */
            return false;
        if ((st.dwEventState & (SCARD_STATE_EMPTY | SCARD_STATE_UNKNOWN |
                                SCARD_STATE_UNAVAILABLE)) ||
            (uint16_t)(st.dwEventState >> 16) != t->card_events) {
            myna_log(MYNA_LOG_DEBUG, "pcsc: %s: the card left", t->reader);
            return true;
        }
        left = deadline - now_ms();
        if (left <= 0)
            return false;
        /* Wait for the next change of the state we now know. */
        st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
        timeout = (DWORD)left;
    }
}

/* After another program's SCardDisconnect(SCARD_UNPOWER_CARD) the card
 * stays unpowered, and SCardReconnect(SCARD_LEAVE_CARD) succeeds without
 * powering it up (measured on pcsc-lite 1.9.9 with vpcd): only a reset
 * does.  The card lost every PIN with its power, so a reset costs
 * nothing. */
static LONG power_up_if_off(struct pcsc_transport *t)
{
    DWORD state = 0, proto = 0, namelen = 0, alen = 0;
    LONG rv;

    rv = SCardStatus(t->card, NULL, &namelen, &state, &proto, NULL, &alen);
    if (rv != SCARD_S_SUCCESS || (state & SCARD_POWERED))
        return rv;
    myna_log(MYNA_LOG_DEBUG, "pcsc: %s: card unpowered, powering it up",
             t->reader);
    return SCardReconnect(t->card, SCARD_SHARE_SHARED,
                          SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                          SCARD_RESET_CARD, &t->proto);
}

/* The card was reset (SCARD_W_RESET_CARD): reconnect without touching it.
 * Returns 0 when the reset was our own end(t, true), which the caller
 * already knows about; MYNA_E_CARD_RESET for anyone else's;
 * MYNA_E_NO_CARD when the card in the reader is no longer ours. */
static int tp_after_reset(struct pcsc_transport *t)
{
    uint16_t ev;
    LONG rv;
    int i;

    /* Another reset may come between the two; a few rounds settle it. */
    for (i = 0; i < 3; i++) {
        rv = SCardReconnect(t->card, SCARD_SHARE_SHARED,
                            SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                            SCARD_LEAVE_CARD, &t->proto);
        if (rv != SCARD_W_RESET_CARD)
            break;
    }
    if (rv != SCARD_S_SUCCESS)
        return tp_fail(t, "SCardReconnect", rv);
    rv = power_up_if_off(t);
    if (rv != SCARD_S_SUCCESS)
        return tp_fail(t, "SCardReconnect", rv);
    /* SCardReconnect connects to whatever card is in the reader now: if
     * ours was removed and another inserted before the reset, that is a
     * new card, which only the counter tells. */
    rv = reader_events(t->ctx, t->reader, &ev);
    if (rv != SCARD_S_SUCCESS)
        return tp_fail(t, "SCardGetStatusChange", rv);
    if (ev != t->card_events) {
        myna_log(MYNA_LOG_DEBUG, "pcsc: %s: another card since connect",
                 t->reader);
        t->gone = true;
        return MYNA_E_NO_CARD;
    }
    if (t->self_reset) {
        t->self_reset = false;
        return 0;
    }
    myna_log(MYNA_LOG_DEBUG, "pcsc: %s: card reset by another program",
             t->reader);
    return MYNA_E_CARD_RESET;
}

static int pcsc_transmit(struct transport *tp, const uint8_t *cmd,
                         size_t cmdlen, uint8_t *resp, size_t cap,
                         size_t *resplen)
{
    struct pcsc_transport *t = tp_of(tp);
    const SCARD_IO_REQUEST *pci;
    DWORD rlen;
    LONG rv;
    int err;

    *resplen = 0;
    if (t->gone)
        return MYNA_E_NO_CARD;
    if (t->reset_pending) {
        t->reset_pending = false;
        return MYNA_E_CARD_RESET;
    }
    if (cmdlen > MAX_BUFFER_SIZE_EXTENDED || cmdlen < 4)
        return MYNA_E_ARGS;
    pci = t->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    /* pcsc-lite never returns more than this; a larger DWORD buys nothing. */
    rlen = (DWORD)(cap > MAX_BUFFER_SIZE_EXTENDED ? MAX_BUFFER_SIZE_EXTENDED
                                                   : cap);
    rv = SCardTransmit(t->card, pci, cmd, (DWORD)cmdlen, NULL, resp, &rlen);
    if (rv == SCARD_W_RESET_CARD) {
        /* Nothing was sent.  Our own reset changes nothing the caller
         * does not know: send the command on the new connection. */
        err = tp_after_reset(t);
        if (err < 0)
            return err;
        pci = t->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
        rlen = (DWORD)(cap > MAX_BUFFER_SIZE_EXTENDED ? MAX_BUFFER_SIZE_EXTENDED
                                                       : cap);
        rv = SCardTransmit(t->card, pci, cmd, (DWORD)cmdlen, NULL, resp,
                           &rlen);
    }
    if (rv == SCARD_W_RESET_CARD) {
        /* Reset again by someone else in between: tell the caller, with
         * the connection re-established. */
        err = tp_after_reset(t);
        return err < 0 ? err : MYNA_E_CARD_RESET;
    }
    if (rv != SCARD_S_SUCCESS)
        return tp_fail(t, "SCardTransmit", rv);
    /* Anything without SW1 SW2 did not come from a card.  vpcd answers
     * success with no bytes when the card left in the middle of the
     * command: a removal, if the reader says so. */
    if (rlen < 2) {
        myna_log(MYNA_LOG_DEBUG, "pcsc: SCardTransmit: %lu bytes",
                 (unsigned long)rlen);
        if (tp_card_left(t)) {
            t->gone = true;
            return MYNA_E_NO_CARD;
        }
        return MYNA_E_TRANSPORT;
    }
    t->self_reset = false;
    *resplen = rlen;
    return 0;
}

static int pcsc_begin(struct transport *tp)
{
    struct pcsc_transport *t = tp_of(tp);
    bool reset = false;
    LONG rv;
    int err;
    int i;

    if (t->gone)
        return MYNA_E_NO_CARD;
    if (t->reset_pending) {
        t->reset_pending = false;
        reset = true;
    }
    /* pcsc-lite refuses the transaction with SCARD_W_RESET_CARD until the
     * handle is reconnected; after that the transaction opens on the new
     * connection. */
    for (i = 0; i < 3; i++) {
        rv = SCardBeginTransaction(t->card);
        if (rv != SCARD_W_RESET_CARD)
            break;
        err = tp_after_reset(t);
        if (err == MYNA_E_CARD_RESET)
            reset = true;
        else if (err < 0)
            return err;
    }
    if (rv != SCARD_S_SUCCESS) {
        /* A reset not yet told stays so until the caller can hear it. */
        t->reset_pending = reset;
        return tp_fail(t, "SCardBeginTransaction", rv);
    }
    t->self_reset = false;
    return reset ? MYNA_E_CARD_RESET : 0;
}

static int pcsc_end(struct transport *tp, bool unpower)
{
    struct pcsc_transport *t = tp_of(tp);
    LONG rv;

    if (t->gone)
        return MYNA_E_NO_CARD;
    /* Not SCARD_RESET_CARD: a warm reset leaves the PINs verified on a
     * card measured by one source (doc/jpki-card.md, "What clears a
     * verified PIN"). */
    rv = SCardEndTransaction(t->card,
                             unpower ? SCARD_UNPOWER_CARD : SCARD_LEAVE_CARD);
    if (rv != SCARD_S_SUCCESS) {
        /* A SCARD_W_RESET_CARD stays on the handle: the next begin()
         * reconnects and reports it. */
        return tp_fail(t, "SCardEndTransaction", rv);
    }
    /* pcsc-lite flags the power cycle as a reset on our own handle too,
     * so that the next begin() would see SCARD_W_RESET_CARD for what the
     * caller asked for: remember it is ours. */
    if (unpower)
        t->self_reset = true;
    return 0;
}

static int pcsc_atr(struct transport *tp, uint8_t *atr, size_t cap,
                    size_t *len)
{
    struct pcsc_transport *t = tp_of(tp);
    BYTE buf[MAX_ATR_SIZE];
    char name[MAX_READERNAME];
    DWORD namelen, state, proto, alen;
    LONG rv;
    int err;
    int i;

    *len = 0;
    if (t->gone)
        return MYNA_E_NO_CARD;
    for (i = 0; i < 2; i++) {
        namelen = sizeof(name);
        alen = sizeof(buf);
        rv = SCardStatus(t->card, name, &namelen, &state, &proto, buf, &alen);
        if (rv != SCARD_W_RESET_CARD)
            break;
        /* Reconnecting consumes pcsc-lite's reset flag: keep the news for
         * the next begin() or transmit(), which must tell the caller. */
        err = tp_after_reset(t);
        if (err == MYNA_E_CARD_RESET)
            t->reset_pending = true;
        else if (err < 0)
            return err;
    }
    if (rv != SCARD_S_SUCCESS)
        return tp_fail(t, "SCardStatus", rv);
    if (alen > cap)
        return MYNA_E_BUFFER_SMALL;
    memcpy(atr, buf, alen);
    *len = alen;
    return 0;
}

static void pcsc_free(struct transport *tp)
{
    struct pcsc_transport *t = tp_of(tp);

    /* Leave the card as it is: the caller resets it through end() when it
     * has something to hide; another program may be using it. */
    (void)SCardDisconnect(t->card, SCARD_LEAVE_CARD);
    (void)SCardReleaseContext(t->ctx);
    free(t);
}

static const struct transport_ops pcsc_transport_ops = {
    .transmit = pcsc_transmit,
    .begin = pcsc_begin,
    .end = pcsc_end,
    .atr = pcsc_atr,
    .free = pcsc_free,
};

/* SCardConnect's result as an error of connect(). */
static int connect_err(const char *call, LONG rv)
{
    log_rv(call, rv);
    if (rv == SCARD_W_REMOVED_CARD)
        return MYNA_E_NO_CARD;
    return pcsc_err(rv);
}

static int pcsc_hub_connect(struct tp_hub *hub, const char *name,
                            struct transport **out)
{
    struct pcsc_transport *t;
    uint16_t before, after;
    LONG rv;
    int err;
    int i;

    (void)hub;
    *out = NULL;
    if (name == NULL || strlen(name) >= TP_READER_NAME_MAX)
        return MYNA_E_ARGS;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return MYNA_E_NOMEM;
    t->tp.ops = &pcsc_transport_ops;
    strcpy(t->reader, name);

    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &t->ctx);
    if (rv != SCARD_S_SUCCESS) {
        log_rv("SCardEstablishContext", rv);
        err = rv == SCARD_E_NO_MEMORY ? MYNA_E_NOMEM : MYNA_E_NO_SERVICE;
        goto out_free;
    }
    /* The counter read on both sides of the connect: if a card came or
     * went in between, we cannot tell which one we hold; try again. */
    for (i = 0; i < 3; i++) {
        rv = reader_events(t->ctx, name, &before);
        if (rv != SCARD_S_SUCCESS) {
            err = connect_err("SCardGetStatusChange", rv);
            goto out_release;
        }
        rv = SCardConnect(t->ctx, name, SCARD_SHARE_SHARED,
                          SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &t->card,
                          &t->proto);
        if (rv != SCARD_S_SUCCESS) {
            err = connect_err("SCardConnect", rv);
            goto out_release;
        }
        rv = reader_events(t->ctx, name, &after);
        if (rv != SCARD_S_SUCCESS) {
            err = connect_err("SCardGetStatusChange", rv);
            goto out_disconnect;
        }
        if (before == after)
            break;
        (void)SCardDisconnect(t->card, SCARD_LEAVE_CARD);
    }
    if (i == 3) {
        /* Cards keep coming and going: none of them is here to stay. */
        err = MYNA_E_NO_CARD;
        goto out_release;
    }
    t->card_events = after;
    *out = &t->tp;
    return 0;

out_disconnect:
    (void)SCardDisconnect(t->card, SCARD_LEAVE_CARD);
out_release:
    (void)SCardReleaseContext(t->ctx);
out_free:
    free(t);
    return err;
}

static const struct tp_hub_ops pcsc_hub_ops = {
    .list = pcsc_hub_list,
    .wait = pcsc_hub_wait,
    .cancel = pcsc_hub_cancel,
    .connect = pcsc_hub_connect,
    .free = pcsc_hub_free,
};

int tp_hub_pcsc_new(struct tp_hub **out)
{
    struct pcsc_hub *h;
    pthread_condattr_t ca;
    int err = MYNA_E_GENERAL;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return MYNA_E_NOMEM;
    h->hub.ops = &pcsc_hub_ops;
    if (pthread_mutex_init(&h->mu, NULL) != 0)
        goto out_free;
    if (pthread_mutex_init(&h->wait_mu, NULL) != 0)
        goto out_mu;
    if (pthread_condattr_init(&ca) != 0)
        goto out_wait_mu;
    /* Timed sleeps count on the monotonic clock, like the wait deadline. */
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&h->cond, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        goto out_wait_mu;
    }
    pthread_condattr_destroy(&ca);
    /* No context yet: pcscd may not be running; list() establishes it. */
    *out = &h->hub;
    return 0;

out_wait_mu:
    pthread_mutex_destroy(&h->wait_mu);
out_mu:
    pthread_mutex_destroy(&h->mu);
out_free:
    free(h);
    return err;
}
