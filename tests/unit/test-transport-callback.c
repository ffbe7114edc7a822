/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of the callback transport and hub (apdu/transport-callback.c):
 * the card behind callbacks, readers that cards enter and leave, waits
 * that time out or are cancelled from another thread, and the PC/SC
 * behaviours the layers above rely on (MYNA_E_NO_CARD after removal for
 * ever, MYNA_E_CARD_RESET once after a reset).  No PC/SC.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check-run.h"
#include "myna-err.h"
#include "transport.h"

const char check_suite_name[] = "transport-callback";

/* ---- A toy card: echoes the command's INS and counts its calls ---- */

struct toy_card {
    unsigned xfers, resets;
    size_t claim;       /* > 0: claim this many response bytes */
};

static int toy_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                    uint8_t *resp, size_t cap, size_t *resplen)
{
    struct toy_card *c = ctx;

    c->xfers++;
    if (cap < 3 || cmdlen < 2)
        return MYNA_E_TRANSPORT;
    resp[0] = cmd[1];
    resp[1] = 0x90;
    resp[2] = 0x00;
    *resplen = c->claim ? c->claim : 3;
    return 0;
}

static void toy_reset(void *ctx)
{
    struct toy_card *c = ctx;

    c->resets++;
}

static struct tp_card_cb toy_cb(struct toy_card *c)
{
    /* The toy card counts power cycles and warm resets alike. */
    struct tp_card_cb cb = { .xfer = toy_xfer, .unpower = toy_reset,
                             .reset = toy_reset, .ctx = c,
                             .atr = { 0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31,
                                      0xFE, 0x45, 0x14 },
                             .atr_len = 9 };
    return cb;
}

static const uint8_t cmd_select[] = { 0x00, 0xA4, 0x04, 0x0C };

/* Send a command; returns the transport's answer and checks the echo. */
static int send_cmd(struct transport *t)
{
    uint8_t resp[8];
    size_t len = 0;
    int err;

    err = tp_transmit(t, cmd_select, sizeof(cmd_select), resp, sizeof(resp),
                      &len);
    if (err == 0) {
        ck_assert_uint_eq(len, 3);
        ck_assert_uint_eq(resp[0], 0xA4);
    }
    return err;
}

/* ---- The standalone transport ---- */

START_TEST(test_callback_transmit_and_atr)
{
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = NULL;
    uint8_t atr[TP_ATR_MAX];
    size_t len = 0;

    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    /* The callbacks were copied: changing the caller's struct does not
     * reach the transport. */
    cb.xfer = NULL;
    ck_assert_int_eq(tp_begin(t), 0);
    ck_assert_int_eq(send_cmd(t), 0);
    ck_assert_uint_eq(card.xfers, 1);
    ck_assert_int_eq(tp_atr(t, atr, sizeof(atr), &len), 0);
    ck_assert_uint_eq(len, 9);
    ck_assert_uint_eq(atr[8], 0x14);
    ck_assert_int_eq(tp_atr(t, atr, 8, &len), MYNA_E_BUFFER_SMALL);
    ck_assert_int_eq(tp_end(t, false), 0);
    ck_assert_uint_eq(card.resets, 0);
    tp_free(t);
}
END_TEST

START_TEST(test_callback_end_reset)
{
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = NULL;

    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    ck_assert_int_eq(tp_begin(t), 0);
    ck_assert_int_eq(tp_end(t, true), 0);
    ck_assert_uint_eq(card.resets, 1);
    /* Without a reset callback, a reset is just not simulated. */
    cb.unpower = NULL;
    cb.reset = NULL;
    tp_free(t);
    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    ck_assert_int_eq(tp_end(t, true), 0);
    ck_assert_uint_eq(card.resets, 1);
    tp_free(t);
}
END_TEST

START_TEST(test_callback_overlong_response)
{
    struct toy_card card = { 0, 0, 9 };     /* claims 9 in a cap of 8 */
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = NULL;

    ck_assert_int_eq(tp_callback_new(&cb, &t), 0);
    ck_assert_int_eq(send_cmd(t), MYNA_E_TRANSPORT);
    tp_free(t);
}
END_TEST

START_TEST(test_callback_args)
{
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = (struct transport *)&card;

    ck_assert_int_eq(tp_callback_new(NULL, &t), MYNA_E_ARGS);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tp_callback_new(&cb, NULL), MYNA_E_ARGS);
    cb.xfer = NULL;
    ck_assert_int_eq(tp_callback_new(&cb, &t), MYNA_E_ARGS);
    cb = toy_cb(&card);
    cb.atr_len = TP_ATR_MAX + 1;
    ck_assert_int_eq(tp_callback_new(&cb, &t), MYNA_E_ARGS);
}
END_TEST

/* ---- The hub: readers, insert, remove, events ---- */

static struct tp_hub *hub_new(unsigned n)
{
    struct tp_hub *h = NULL;

    ck_assert_int_eq(tp_hub_callback_new(n, &h), 0);
    ck_assert_ptr_nonnull(h);
    return h;
}

START_TEST(test_hub_readers)
{
    struct tp_hub *h = hub_new(3);
    struct tp_reader_state st[TP_READERS_MAX];
    size_t n = 0;

    ck_assert_int_eq(tp_hub_list(h, st, TP_READERS_MAX, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(st[0].name, "Virtual Reader 0");
    ck_assert_str_eq(st[2].name, "Virtual Reader 2");
    ck_assert(!st[0].present && !st[1].present && !st[2].present);
    ck_assert_uint_eq(st[1].events, 0);
    /* Too small a list says how many there are. */
    ck_assert_int_eq(tp_hub_list(h, st, 2, &n), MYNA_E_BUFFER_SMALL);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(tp_hub_list(h, NULL, 0, &n), MYNA_E_BUFFER_SMALL);
    ck_assert_uint_eq(n, 3);
    tp_hub_free(h);

    h = NULL;
    ck_assert_int_eq(tp_hub_callback_new(TP_READERS_MAX + 1, &h), MYNA_E_ARGS);
    ck_assert_ptr_null(h);
    h = hub_new(0);
    ck_assert_int_eq(tp_hub_list(h, st, TP_READERS_MAX, &n), 0);
    ck_assert_uint_eq(n, 0);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_insert_remove_events)
{
    struct tp_hub *h = hub_new(2);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct tp_reader_state st[2];
    size_t n;

    ck_assert_int_eq(tp_hub_callback_insert(h, 1, &cb), 0);
    ck_assert_int_eq(tp_hub_list(h, st, 2, &n), 0);
    ck_assert(!st[0].present);
    ck_assert(st[1].present);
    ck_assert_uint_eq(st[0].events, 0);
    ck_assert_uint_eq(st[1].events, 1);

    /* A second card into a full reader is refused and changes nothing. */
    ck_assert_int_eq(tp_hub_callback_insert(h, 1, &cb), MYNA_E_ARGS);
    ck_assert_int_eq(tp_hub_list(h, st, 2, &n), 0);
    ck_assert_uint_eq(st[1].events, 1);

    ck_assert_int_eq(tp_hub_callback_remove(h, 1), 0);
    ck_assert_int_eq(tp_hub_list(h, st, 2, &n), 0);
    ck_assert(!st[1].present);
    ck_assert_uint_eq(st[1].events, 2);
    ck_assert_int_eq(tp_hub_callback_remove(h, 1), MYNA_E_NO_CARD);

    ck_assert_int_eq(tp_hub_callback_insert(h, 1, &cb), 0);
    ck_assert_int_eq(tp_hub_list(h, st, 2, &n), 0);
    ck_assert_uint_eq(st[1].events, 3);
    ck_assert_uint_eq(st[0].events, 0);

    ck_assert_int_eq(tp_hub_callback_insert(h, 2, &cb), MYNA_E_NO_READER);
    ck_assert_int_eq(tp_hub_callback_remove(h, 2), MYNA_E_NO_READER);
    ck_assert_int_eq(tp_hub_callback_reset(h, 2), MYNA_E_NO_READER);
    ck_assert_int_eq(tp_hub_callback_reset(h, 0), MYNA_E_NO_CARD);
    cb.xfer = NULL;
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), MYNA_E_ARGS);
    /* Only callback hubs can be driven so. */
    ck_assert_int_eq(tp_hub_callback_insert(NULL, 0, &cb), MYNA_E_ARGS);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_connect)
{
    struct tp_hub *h = hub_new(2);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = NULL;
    uint8_t atr[TP_ATR_MAX];
    size_t len;

    ck_assert_int_eq(tp_hub_connect(h, "No Such Reader", &t), MYNA_E_NO_READER);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t), MYNA_E_NO_CARD);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t), 0);
    ck_assert_int_eq(tp_begin(t), 0);
    ck_assert_int_eq(send_cmd(t), 0);
    ck_assert_uint_eq(card.xfers, 1);
    ck_assert_int_eq(tp_atr(t, atr, sizeof(atr), &len), 0);
    ck_assert_uint_eq(len, 9);
    ck_assert_uint_eq(atr[0], 0x3B);
    ck_assert_int_eq(tp_end(t, false), 0);
    tp_free(t);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_no_card_after_removal)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 }, card2 = { 0 };
    struct tp_card_cb cb = toy_cb(&card), cb2 = toy_cb(&card2);
    struct transport *t = NULL, *t2 = NULL;
    uint8_t atr[TP_ATR_MAX];
    size_t len;

    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t), 0);
    ck_assert_int_eq(send_cmd(t), 0);
    ck_assert_int_eq(tp_hub_callback_remove(h, 0), 0);

    ck_assert_int_eq(send_cmd(t), MYNA_E_NO_CARD);
    ck_assert_int_eq(tp_begin(t), MYNA_E_NO_CARD);
    ck_assert_int_eq(tp_atr(t, atr, sizeof(atr), &len), MYNA_E_NO_CARD);
    ck_assert_int_eq(tp_end(t, true), MYNA_E_NO_CARD);

    /* A new card in the same reader is not the old connection's card. */
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb2), 0);
    ck_assert_int_eq(send_cmd(t), MYNA_E_NO_CARD);
    ck_assert_int_eq(tp_begin(t), MYNA_E_NO_CARD);
    /* Not even the same card put back. */
    ck_assert_int_eq(tp_hub_callback_remove(h, 0), 0);
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(send_cmd(t), MYNA_E_NO_CARD);
    ck_assert_uint_eq(card.xfers, 1);
    ck_assert_uint_eq(card2.xfers, 0);
    ck_assert_uint_eq(card.resets, 0);

    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t2), 0);
    ck_assert_int_eq(send_cmd(t2), 0);
    ck_assert_uint_eq(card.xfers, 2);
    tp_free(t2);
    tp_free(t);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_card_reset_once)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t1 = NULL, *t2 = NULL;

    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t1), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t2), 0);

    ck_assert_int_eq(tp_hub_callback_reset(h, 0), 0);
    /* The card itself was power-cycled, once. */
    ck_assert_uint_eq(card.resets, 1);

    /* t1 learns it on transmit: nothing is sent, then all is normal. */
    ck_assert_int_eq(send_cmd(t1), MYNA_E_CARD_RESET);
    ck_assert_uint_eq(card.xfers, 0);
    ck_assert_int_eq(send_cmd(t1), 0);
    ck_assert_int_eq(tp_begin(t1), 0);
    ck_assert_uint_eq(card.xfers, 1);

    /* t2 learns it on begin, once. */
    ck_assert_int_eq(tp_begin(t2), MYNA_E_CARD_RESET);
    ck_assert_int_eq(tp_begin(t2), 0);
    ck_assert_int_eq(send_cmd(t2), 0);

    /* Two resets before t1 looks are still one answer. */
    ck_assert_int_eq(tp_hub_callback_reset(h, 0), 0);
    ck_assert_int_eq(tp_hub_callback_reset(h, 0), 0);
    ck_assert_uint_eq(card.resets, 3);
    ck_assert_int_eq(tp_begin(t1), MYNA_E_CARD_RESET);
    ck_assert_int_eq(send_cmd(t1), 0);

    /* A reset does not change the reader's events: same card. */
    {
        struct tp_reader_state st;
        size_t n;

        ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
        ck_assert_uint_eq(st.events, 1);
        ck_assert(st.present);
    }

    /* A connection made after the reset sees none. */
    {
        struct transport *t3 = NULL;

        ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t3), 0);
        ck_assert_int_eq(tp_begin(t3), 0);
        tp_free(t3);
    }
    tp_free(t1);
    tp_free(t2);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_end_reset)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t1 = NULL, *t2 = NULL;

    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t1), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t2), 0);
    ck_assert_int_eq(tp_begin(t1), 0);
    ck_assert_int_eq(tp_end(t1, false), 0);
    ck_assert_uint_eq(card.resets, 0);
    ck_assert_int_eq(tp_begin(t1), 0);
    ck_assert_int_eq(tp_end(t1, true), 0);
    ck_assert_uint_eq(card.resets, 1);
    /* Who asked for the reset knows; the other connection is told. */
    ck_assert_int_eq(tp_begin(t1), 0);
    ck_assert_int_eq(tp_begin(t2), MYNA_E_CARD_RESET);
    ck_assert_int_eq(tp_begin(t2), 0);
    tp_free(t1);
    tp_free(t2);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_hub_free_before_transport)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct transport *t = NULL;

    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_connect(h, "Virtual Reader 0", &t), 0);
    /* The transport keeps the hub alive (ASan would see a use after
     * free otherwise). */
    tp_hub_free(h);
    ck_assert_int_eq(send_cmd(t), 0);
    tp_free(t);
}
END_TEST

/* ---- wait and cancel ---- */

static long elapsed_ms(const struct timespec *a)
{
    struct timespec b;

    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000L + (b.tv_nsec - a->tv_nsec) / 1000000L;
}

START_TEST(test_wait_timeout)
{
    struct tp_hub *h = hub_new(1);
    struct tp_reader_state st;
    struct timespec t0;
    size_t n;

    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    ck_assert_int_eq(tp_hub_wait(h, 0), MYNA_E_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(tp_hub_wait(h, 120), MYNA_E_TIMEOUT);
    ck_assert_int_ge(elapsed_ms(&t0), 110);
    ck_assert_int_eq(tp_hub_wait(h, -2), MYNA_E_ARGS);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_wait_sees_change_before_wait)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct tp_reader_state st;
    size_t n;

    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    /* The card comes between list() and wait(): not lost. */
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(tp_hub_wait(h, 0), 0);
    /* Reported once: the next wait waits. */
    ck_assert_int_eq(tp_hub_wait(h, 0), MYNA_E_TIMEOUT);
    ck_assert_int_eq(tp_hub_callback_remove(h, 0), 0);
    ck_assert_int_eq(tp_hub_wait(h, 0), 0);
    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    ck_assert_int_eq(tp_hub_wait(h, 0), MYNA_E_TIMEOUT);
    tp_hub_free(h);
}
END_TEST

struct waiter {
    struct tp_hub *h;
    int timeout_ms;
    int result;
    long ms;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    w->result = tp_hub_wait(w->h, w->timeout_ms);
    w->ms = elapsed_ms(&t0);
    return NULL;
}

START_TEST(test_wait_woken_by_insert)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct tp_card_cb cb = toy_cb(&card);
    struct tp_reader_state st;
    struct waiter w = { h, 10000, 99, 0 };
    pthread_t th;
    size_t n;

    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_main, &w), 0);
    usleep(100 * 1000);
    ck_assert_int_eq(tp_hub_callback_insert(h, 0, &cb), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(w.result, 0);
    ck_assert_int_lt(w.ms, 5000);
    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    ck_assert(st.present);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_cancel_wakes_all_waiters)
{
    struct tp_hub *h = hub_new(1);
    struct tp_reader_state st;
    struct waiter w[3] = { { h, 10000, 99, 0 }, { h, 10000, 99, 0 },
                           { h, -1, 99, 0 } };
    pthread_t th[3];
    size_t n, i;

    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
    /* Let all three reach the wait; a late one would time out (or, for
     * the one without a limit, hang the test until Check kills it). */
    usleep(300 * 1000);
    tp_hub_cancel(h);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(w[i].result, MYNA_E_CANCELLED);
        ck_assert_int_lt(w[i].ms, 5000);
    }
    /* Answered by the waiters: the next wait waits. */
    ck_assert_int_eq(tp_hub_wait(h, 0), MYNA_E_TIMEOUT);
    tp_hub_free(h);
}
END_TEST

START_TEST(test_cancel_before_wait_once)
{
    struct tp_hub *h = hub_new(1);
    struct tp_reader_state st;
    size_t n;

    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    tp_hub_cancel(h);
    tp_hub_cancel(h);   /* two unanswered cancels are still one */
    ck_assert_int_eq(tp_hub_wait(h, -1), MYNA_E_CANCELLED);
    ck_assert_int_eq(tp_hub_wait(h, 0), MYNA_E_TIMEOUT);
    tp_hub_free(h);
}
END_TEST

/* Inserts and removes from one thread while another lists and connects:
 * under TSan/ASan this shows the locking; here it must not crash and the
 * final state must add up. */
struct churn {
    struct tp_hub *h;
    struct tp_card_cb cb;
    unsigned rounds;
    unsigned failures;  /* counted here, asserted in the test's thread */
};

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    unsigned i;

    for (i = 0; i < c->rounds; i++) {
        if (tp_hub_callback_insert(c->h, 0, &c->cb) != 0)
            c->failures++;
        if (tp_hub_callback_remove(c->h, 0) != 0)
            c->failures++;
    }
    return NULL;
}

START_TEST(test_hub_concurrent_churn)
{
    struct tp_hub *h = hub_new(1);
    struct toy_card card = { 0 };
    struct churn c = { h, toy_cb(&card), 2000, 0 };
    struct tp_reader_state st;
    struct transport *t;
    pthread_t th;
    size_t n;
    unsigned i;
    int err;

    ck_assert_int_eq(pthread_create(&th, NULL, churn_main, &c), 0);
    for (i = 0; i < 2000; i++) {
        ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
        t = NULL;
        err = tp_hub_connect(h, "Virtual Reader 0", &t);
        ck_assert(err == 0 || err == MYNA_E_NO_CARD);
        if (t) {
            err = tp_begin(t);
            ck_assert(err == 0 || err == MYNA_E_NO_CARD);
            tp_free(t);
        }
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_uint_eq(c.failures, 0);
    ck_assert_int_eq(tp_hub_list(h, &st, 1, &n), 0);
    ck_assert(!st.present);
    ck_assert_uint_eq(st.events, 4000);
    tp_hub_free(h);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "callback");
    check_add_tests(tc, test_callback_transmit_and_atr, test_callback_end_reset,
                    test_callback_overlong_response, test_callback_args);

    tc = check_tcase(s, "hub");
    check_add_tests(tc, test_hub_readers, test_hub_insert_remove_events,
                    test_hub_connect, test_hub_no_card_after_removal,
                    test_hub_card_reset_once, test_hub_end_reset,
                    test_hub_free_before_transport, test_hub_concurrent_churn);

    tc = check_tcase(s, "wait");
    tcase_set_timeout(tc, 30);
    check_add_tests(tc, test_wait_timeout, test_wait_sees_change_before_wait,
                    test_wait_woken_by_insert, test_cancel_wakes_all_waiters,
                    test_cancel_before_wait_once);
}
