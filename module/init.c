/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * C_Initialize and C_Finalize: the module's global state and fork
 * detection; the locks and the count of calls inside are call.c's, and
 * what the build fixes (the variant, the hub) is variant.c's in a shipped
 * module and test-hooks.c's in the tests.  Layer: module/, near the top
 * (only entry.c's function lists name it); it creates the transport hub
 * (apdu/transport.h) and hands every card to card.c.
 *
 * Initialisation itself is serialised by a process-wide pthread mutex that
 * exists before any C_Initialize (the module lock cannot: the application
 * chooses its kind).  A forked child sees the parent's state with another
 * pid and is treated as not initialised; its C_Initialize abandons that
 * state without touching it, since its locks and PC/SC handles belong to
 * the parent.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "module.h"
#include "myna-err.h"
#include "log.h"

struct mc_global mc_g;

/* In a forked child, the parent's state, abandoned by C_Initialize: never
 * used nor freed (its locks may be held), only kept reachable, so that a
 * leak checker in the child (valgrind, LeakSanitizer) does not take it for
 * a leak.  "used": the compiler must keep the stores to it. */
static struct mc_global mc_abandoned __attribute__((used));

static pthread_mutex_t mc_init_mutex = PTHREAD_MUTEX_INITIALIZER;
CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_RV rv;

    pthread_mutex_lock(&mc_init_mutex);
    if (mc_initialized()) {
        rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
        goto out_unlock;
    }
    if (mc_inherited()) {
        /* A forked child: the parent's locks, cards and PC/SC handles are
         * not ours to use or free.  Abandon them. */
        mc_abandoned = mc_g;
        memset(&mc_g, 0, sizeof(mc_g));
        mc_calls_reset();
    }
    rv = mc_locks_choose(pInitArgs);
    if (rv != CKR_OK)
        goto out_unlock;

    rv = mc_config_load(&mc_g.cfg);
    if (rv != CKR_OK)
        goto out_unlock;
    mc_log_open(&mc_g.cfg);

    /* OpenSSL must not clean itself up at exit before an atexit C_Finalize
     * of ours runs (NSS does that); this has effect only if the
     * application has not initialised OpenSSL itself. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);

    rv = mc_pin_key_init();
    if (rv != CKR_OK)
        goto out_config;
    rv = mc_mutex_new(&mc_g.lock);
    if (rv != CKR_OK)
        goto out_key;

    mc_g.hub = mc_build_hub();
    if (mc_g.hub) {
        mc_g.hub_owned = false;
    } else {
        int err = tp_hub_pcsc_new(&mc_g.hub);

        if (err < 0) {
            rv = mc_rv_from_err(err);
            goto out_lock;
        }
        mc_g.hub_owned = true;
    }
    mc_g.variant = mc_build_variant();
    mc_g.next_session = 1;
    card_on_kill(sessions_close_card_locked);
    mc_g.next_handle_base = MC_HANDLES_PER_CARD;

    mc_mark_initialized();

    /* A first look at the readers, so that C_WaitForSlotEvent reports only
     * what changes from now on. */
    mc_mutex_lock(mc_g.lock);
    slots_refresh_locked();
    mc_mutex_unlock(mc_g.lock);

    myna_log(MYNA_LOG_INFO, "mynacard %s initialised (variant %d, %s locks)",
             MYNACARD_VERSION, (int)mc_g.variant,
             mc_locks_are_app() ? "application" : "pthread");
    rv = CKR_OK;
    goto out_unlock;

out_lock:
    mc_mutex_free(mc_g.lock);
    mc_g.lock = NULL;
out_key:
    mc_pin_key_wipe();
out_config:
    mc_log_close();
    mc_config_free(&mc_g.cfg);
out_unlock:
    pthread_mutex_unlock(&mc_init_mutex);
    return mc_trace(rv, "C_Initialize(%s)", pInitArgs ? "args" : "NULL");
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

    nanosleep(&ts, NULL);
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    struct mc_card *cards[MC_READERS_MAX];
    unsigned ncards = 0;
    CK_RV rv = CKR_OK;

    if (pReserved)
        return mc_trace(CKR_ARGUMENTS_BAD, "C_Finalize");

    pthread_mutex_lock(&mc_init_mutex);
    if (!mc_initialized()) {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
        goto out_unlock;
    }

    /* From here new calls are refused (mc_enter).  Wake every
     * C_WaitForSlotEvent, and wait until every call inside has returned:
     * they use the module lock, the hub and the cards freed below (a
     * signature in progress finishes first; a slow card makes this wait
     * as long as its APDUs).  Cancel again each round, for a waiter that
     * entered tp_hub_wait() after the previous cancel. */
    mc_finalize_begin();
    while (mc_calls_inside()) {
        if (mc_waiters_inside())
            tp_hub_cancel(mc_g.hub);
        sleep_ms(2);
    }

    /* Close every session, and take the live cards out of the readers. */
    mc_mutex_lock(mc_g.lock);
    sessions_free_all_locked();
    for (unsigned i = 0; i < mc_g.nreaders; i++) {
        struct mc_card *c = mc_g.readers[i]->card;

        if (c) {
            card_ref_locked(c);
            cards[ncards++] = c;
        }
    }
    mc_mutex_unlock(mc_g.lock);

    /* Leave no verified PIN on any card for another program to use. */
    for (unsigned i = 0; i < ncards; i++) {
        card_logout(cards[i], JPKI_AUTH);
        card_logout(cards[i], JPKI_SIGN);
    }

    mc_mutex_lock(mc_g.lock);
    for (unsigned i = 0; i < ncards; i++) {
        if (!card_dead_locked(cards[i]))
            card_kill_locked(cards[i]);
        card_unref_locked(cards[i]);
    }
    slots_free_locked();
    mc_mutex_unlock(mc_g.lock);

    mc_mutex_free(mc_g.lock);
    if (mc_g.hub_owned)
        tp_hub_free(mc_g.hub);
    mc_pin_key_wipe();
    mc_mark_finalized();
    myna_log(MYNA_LOG_INFO, "mynacard finalised");
    mc_trace(rv, "C_Finalize");
    mc_log_close();
    mc_config_free(&mc_g.cfg);
    memset(&mc_g, 0, sizeof(mc_g));
    pthread_mutex_unlock(&mc_init_mutex);
    return rv;

out_unlock:
    pthread_mutex_unlock(&mc_init_mutex);
    return mc_trace(rv, "C_Finalize");
}
