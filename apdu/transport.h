/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The transport: how bytes reach a card, and how readers and cards are
 * found and watched.  Two implementations: PC/SC (transport-pcsc.c, the
 * only file that calls pcsc-lite) and callbacks (transport-callback.c: the
 * in-process virtual card in tests, and the fuzzers' scripted cards).
 * Layer: the bottom of apdu/; knows nothing of APDU meaning or PKCS#11.
 *
 * Threading: a struct transport is used by one thread at a time (the
 * module's card-session manager serialises).  A struct tp_hub may be
 * listed from one thread while another waits in tp_hub_wait(); only
 * tp_hub_cancel() may be called from any thread at any time.
 */
#ifndef MYNA_TRANSPORT_H
#define MYNA_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_ATR_MAX 33u
#define TP_READER_NAME_MAX 128u
#define TP_READERS_MAX 16u

/* ---- One connection to one card ---- */

struct transport;

struct transport_ops {
    /* Send @cmd, receive the whole response with SW1 SW2 into @resp.
     * Returns 0, MYNA_E_BUFFER_SMALL, MYNA_E_NO_CARD, MYNA_E_CARD_RESET
     * (the card was reset since the last call: nothing was sent; the
     * connection is already re-established) or MYNA_E_TRANSPORT. */
    int (*transmit)(struct transport *t, const uint8_t *cmd, size_t cmdlen,
                    uint8_t *resp, size_t cap, size_t *resplen);
    /* Open an exclusive transaction.  Returns 0, or MYNA_E_CARD_RESET when
     * the card was reset since the last transaction (the transaction is
     * then open all the same, on the re-established connection: the
     * caller must forget its card state), MYNA_E_NO_CARD, ... */
    int (*begin)(struct transport *t);
    /* Close the transaction; @unpower powers the card down (it is
     * powered up again for the next command).  A power-down is the only
     * thing known to clear a verified PIN on every card: one real card
     * keeps it across a warm reset (doc/jpki-card.md).  The first command
     * after it may be answered 6F00.  Returns 0 or an error (which the
     * caller usually only logs). */
    int (*end)(struct transport *t, bool unpower);
    /* The card's ATR. */
    int (*atr)(struct transport *t, uint8_t *atr, size_t cap, size_t *len);
    void (*free)(struct transport *t);
};

struct transport {
    const struct transport_ops *ops;
};

static inline int tp_transmit(struct transport *t, const uint8_t *cmd,
                              size_t cmdlen, uint8_t *resp, size_t cap,
                              size_t *resplen)
{
    return t->ops->transmit(t, cmd, cmdlen, resp, cap, resplen);
}
static inline int tp_begin(struct transport *t) { return t->ops->begin(t); }
static inline int tp_end(struct transport *t, bool unpower)
{
    return t->ops->end(t, unpower);
}
static inline int tp_atr(struct transport *t, uint8_t *atr, size_t cap,
                         size_t *len)
{
    return t->ops->atr(t, atr, cap, len);
}
static inline void tp_free(struct transport *t)
{
    if (t)
        t->ops->free(t);
}

/* ---- Readers: where cards come and go ---- */

struct tp_reader_state {
    char name[TP_READER_NAME_MAX];
    bool present;          /* a card is in the reader (powered or not) */
    uint32_t events;       /* changes each time a card is inserted or
                            * removed: equal counters mean the same card
                            * has stayed in the reader */
};

struct tp_hub;

struct tp_hub_ops {
    /* The current readers and their cards, without talking to any card.
     * Cheap: the module calls it on every C_GetSlotInfo. */
    int (*list)(struct tp_hub *h, struct tp_reader_state *out, size_t cap,
                size_t *n);
    /* Block until a reader or card changes, @timeout_ms passes (-1: no
     * limit) or tp_hub_cancel() is called.  Returns 0 (something may have
     * changed: list again), MYNA_E_TIMEOUT or MYNA_E_CANCELLED. */
    int (*wait)(struct tp_hub *h, int timeout_ms);
    /* Wake every thread in wait(); safe from any thread. */
    void (*cancel)(struct tp_hub *h);
    /* Connect (shared) to the card in reader @name. */
    int (*connect)(struct tp_hub *h, const char *name, struct transport **out);
    void (*free)(struct tp_hub *h);
};

struct tp_hub {
    const struct tp_hub_ops *ops;
};

static inline int tp_hub_list(struct tp_hub *h, struct tp_reader_state *out,
                              size_t cap, size_t *n)
{
    return h->ops->list(h, out, cap, n);
}
static inline int tp_hub_wait(struct tp_hub *h, int timeout_ms)
{
    return h->ops->wait(h, timeout_ms);
}
static inline void tp_hub_cancel(struct tp_hub *h) { h->ops->cancel(h); }
static inline int tp_hub_connect(struct tp_hub *h, const char *name,
                                 struct transport **out)
{
    return h->ops->connect(h, name, out);
}
static inline void tp_hub_free(struct tp_hub *h)
{
    if (h)
        h->ops->free(h);
}

/* ---- PC/SC (transport-pcsc.c) ---- */

/* A hub over pcsc-lite: establishes its SCard context lazily, so that it
 * can be created while pcscd is down and recovers when pcscd comes back.
 * Connections are shared, T=1 or T=0, each operation inside a PC/SC
 * transaction; a reset by another program leads to a reconnect and
 * MYNA_E_CARD_RESET. */
int tp_hub_pcsc_new(struct tp_hub **out);

/* ---- Callbacks (transport-callback.c) ---- */

/* One APDU exchange with a simulated card.  Returns 0 or a transport
 * error as transport_ops.transmit does (MYNA_E_NO_CARD, MYNA_E_CARD_RESET,
 * MYNA_E_TRANSPORT). */
typedef int (*tp_xfer_fn)(void *ctx, const uint8_t *cmd, size_t cmdlen,
                          uint8_t *resp, size_t cap, size_t *resplen);
/* Power or reset the simulated card. */
typedef void (*tp_reset_fn)(void *ctx);

struct tp_card_cb {
    tp_xfer_fn xfer;
    tp_reset_fn unpower;    /* power cycle, asked for by tp_end(t, true);
                             * may be NULL */
    tp_reset_fn reset;      /* warm reset by another program
                             * (tp_hub_callback_reset); may be NULL */
    void *ctx;
    uint8_t atr[TP_ATR_MAX];
    size_t atr_len;
};

/* A transport over @cb, copied.  begin() and end() only count. */
int tp_callback_new(const struct tp_card_cb *cb, struct transport **out);

/* A hub of @nreaders simulated readers named "Virtual Reader 0", ...;
 * all empty at first.  Insert and remove are thread-safe and wake
 * waiters.  A transport connected before a removal answers
 * MYNA_E_NO_CARD forever after, as PC/SC does. */
int tp_hub_callback_new(unsigned nreaders, struct tp_hub **out);
int tp_hub_callback_insert(struct tp_hub *h, unsigned reader,
                           const struct tp_card_cb *cb);
int tp_hub_callback_remove(struct tp_hub *h, unsigned reader);
/* Simulate a warm reset by another program: the card's reset callback
 * runs, and the next begin() or transmit() of every transport connected to
 * @reader returns MYNA_E_CARD_RESET once. */
int tp_hub_callback_reset(struct tp_hub *h, unsigned reader);

#endif
