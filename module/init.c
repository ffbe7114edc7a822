/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * C_Initialize and C_Finalize: the module's global state, the choice of
 * locks (the application's callbacks or pthreads), fork detection, and
 * the test hooks of mynacard-test.h.  Layer: module/; it creates the
 * transport hub (apdu/transport.h) and hands every card to card.c.
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
static atomic_bool mc_init_flag;
static atomic_bool mc_final_flag;
static atomic_int mc_nwaiters;
static pid_t mc_pid;

/* C_* calls between their mc_enter() and their mc_leave(), so that
 * C_Finalize frees nothing a call still uses (the module lock, cards in
 * card I/O, the hub).  mc_in_call marks the thread's counted call.  The
 * trace comes after mc_leave(): the log has its own lock, and C_Finalize
 * closes its file only through it (apdu/log.c). */
static atomic_int mc_ncalls;
static _Thread_local bool mc_in_call;

/* The application's mutex callbacks, when it gave them without
 * CKF_OS_LOCKING_OK: PKCS#11 then requires us to use them. */
static bool mc_use_app_mutex;
static CK_CREATEMUTEX mc_app_create;
static CK_DESTROYMUTEX mc_app_destroy;
static CK_LOCKMUTEX mc_app_lock;
static CK_UNLOCKMUTEX mc_app_unlock;

/* Test hooks: read at the next C_Initialize. */
static struct tp_hub *mc_test_hub;
static bool mc_test_variant_set;
static enum mynacard_variant mc_test_variant;

void mynacard_test_use_hub(struct tp_hub *hub)
{
    mc_test_hub = hub;
}

void mynacard_test_set_variant(enum mynacard_variant v)
{
    mc_test_variant = v;
    mc_test_variant_set = true;
}

/* The shipped modules link variant.c, whose strong definition replaces
 * this one; the tests get this default (and may override it above). */
__attribute__((weak)) enum mynacard_variant mc_build_variant(void)
{
    return MYNACARD_VARIANT_BOTH;
}

/* ---- Locks ---- */

CK_RV mc_mutex_new(void **out)
{
    pthread_mutex_t *m;

    if (mc_use_app_mutex)
        return mc_app_create(out);
    m = malloc(sizeof(*m));
    if (!m)
        return CKR_HOST_MEMORY;
    if (pthread_mutex_init(m, NULL) != 0) {
        free(m);
        return CKR_CANT_LOCK;
    }
    *out = m;
    return CKR_OK;
}

void mc_mutex_free(void *m)
{
    if (!m)
        return;
    if (mc_use_app_mutex) {
        mc_app_destroy(m);
        return;
    }
    pthread_mutex_destroy(m);
    free(m);
}

void mc_mutex_lock(void *m)
{
    if (mc_use_app_mutex)
        mc_app_lock(m);
    else
        pthread_mutex_lock(m);
}

void mc_mutex_unlock(void *m)
{
    if (mc_use_app_mutex)
        mc_app_unlock(m);
    else
        pthread_mutex_unlock(m);
}

/* ---- State ---- */

bool mc_initialized(void)
{
    return atomic_load(&mc_init_flag) && mc_pid == getpid();
}

CK_RV mc_enter(void)
{
    bool counted = !mc_in_call;

    /* Counted before the checks, and C_Finalize raises its flag before it
     * looks at the count (both sequentially consistent): either this call
     * sees the flag and leaves, or C_Finalize sees the call and waits for
     * it.  A call that comes once C_Finalize has begun is refused here,
     * before it can see a half-closed module. */
    if (counted)
        atomic_fetch_add(&mc_ncalls, 1);
    if (!mc_initialized() || mc_finalizing()) {
        if (counted)
            atomic_fetch_sub(&mc_ncalls, 1);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    mc_in_call = true;
    mc_mutex_lock(mc_g.lock);
    return CKR_OK;
}

CK_RV mc_leave(CK_RV rv)
{
    mc_mutex_unlock(mc_g.lock);
    if (mc_in_call) {
        mc_in_call = false;
        atomic_fetch_sub(&mc_ncalls, 1);
    }
    return rv;
}

void mc_unlock_for_io(void)
{
    mc_mutex_unlock(mc_g.lock);
}

void mc_relock_after_io(void)
{
    mc_mutex_lock(mc_g.lock);
}

bool mc_finalizing(void)
{
    return atomic_load(&mc_final_flag);
}

void mc_waiter_enter(void)
{
    atomic_fetch_add(&mc_nwaiters, 1);
}

void mc_waiter_leave(void)
{
    atomic_fetch_sub(&mc_nwaiters, 1);
}

void mc_pad(CK_UTF8CHAR *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    memset(dst, ' ', n);
    if (len > n) {
        /* Cut at a character boundary: never half a UTF-8 sequence. */
        len = n;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
}

/* Check CK_C_INITIALIZE_ARGS and choose the locks (PKCS#11 2.40 5.4). */
static CK_RV choose_locks(const CK_C_INITIALIZE_ARGS *a)
{
    int given;

    mc_use_app_mutex = false;
    if (!a)
        return CKR_OK;
    if (a->pReserved)
        return CKR_ARGUMENTS_BAD;
    given = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex
            + !!a->UnlockMutex;
    if (given != 0 && given != 4)
        return CKR_ARGUMENTS_BAD;
    /* With CKF_OS_LOCKING_OK we may choose: pthreads.  Without it but with
     * callbacks we must use the callbacks. */
    if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK)) {
        mc_use_app_mutex = true;
        mc_app_create = a->CreateMutex;
        mc_app_destroy = a->DestroyMutex;
        mc_app_lock = a->LockMutex;
        mc_app_unlock = a->UnlockMutex;
    }
    return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_RV rv;

    pthread_mutex_lock(&mc_init_mutex);
    if (atomic_load(&mc_init_flag)) {
        if (mc_pid == getpid()) {
            rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
            goto out_unlock;
        }
        /* A forked child: the parent's locks, cards and PC/SC handles are
         * not ours to use or free.  Abandon them. */
        mc_abandoned = mc_g;
        memset(&mc_g, 0, sizeof(mc_g));
        atomic_store(&mc_init_flag, false);
        atomic_store(&mc_nwaiters, 0);
        atomic_store(&mc_ncalls, 0);    /* the parent's threads' calls */
        atomic_store(&mc_final_flag, false);
    }
    rv = choose_locks(pInitArgs);
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

    if (mc_test_hub) {
        mc_g.hub = mc_test_hub;
        mc_g.hub_owned = false;
    } else {
        int err = tp_hub_pcsc_new(&mc_g.hub);

        if (err < 0) {
            rv = mc_rv_from_err(err);
            goto out_lock;
        }
        mc_g.hub_owned = true;
    }
    mc_g.variant = mc_test_variant_set ? mc_test_variant : mc_build_variant();
    mc_g.next_session = 1;
    mc_g.next_handle_base = MC_HANDLES_PER_CARD;

    mc_pid = getpid();
    atomic_store(&mc_final_flag, false);
    atomic_store(&mc_init_flag, true);

    /* A first look at the readers, so that C_WaitForSlotEvent reports only
     * what changes from now on. */
    mc_mutex_lock(mc_g.lock);
    slots_refresh_locked();
    mc_mutex_unlock(mc_g.lock);

    myna_log(MYNA_LOG_INFO, "mynacard %s initialised (variant %d, %s locks)",
             MYNACARD_VERSION, (int)mc_g.variant,
             mc_use_app_mutex ? "application" : "pthread");
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
    atomic_store(&mc_final_flag, true);
    while (atomic_load(&mc_ncalls) > 0) {
        if (atomic_load(&mc_nwaiters) > 0)
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
        if (!cards[i]->dead)
            card_kill_locked(cards[i]);
        card_unref_locked(cards[i]);
    }
    slots_free_locked();
    mc_mutex_unlock(mc_g.lock);

    mc_mutex_free(mc_g.lock);
    if (mc_g.hub_owned)
        tp_hub_free(mc_g.hub);
    mc_pin_key_wipe();
    atomic_store(&mc_init_flag, false);
    atomic_store(&mc_final_flag, false);
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
