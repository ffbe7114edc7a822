/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The shell of every C_* call: the locks (the application's callbacks or
 * pthreads), whether the module is initialised in this process, the
 * count of calls inside (C_Finalize waits for them), and the module lock
 * taken and dropped.  Layer: the bottom of module/; calls only libc,
 * pthreads and the mutex callbacks the application gave.  init.c drives
 * the state (C_Initialize, C_Finalize); every other file only enters and
 * leaves.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"

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

bool mc_locks_are_app(void)
{
    return mc_use_app_mutex;
}

/* Check CK_C_INITIALIZE_ARGS and choose the locks (PKCS#11 2.40 5.4). */
CK_RV mc_locks_choose(const CK_C_INITIALIZE_ARGS *a)
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

/* ---- Initialised or not (init.c) ---- */

bool mc_inherited(void)
{
    return atomic_load(&mc_init_flag) && mc_pid != getpid();
}

void mc_calls_reset(void)
{
    atomic_store(&mc_init_flag, false);
    atomic_store(&mc_nwaiters, 0);
    atomic_store(&mc_ncalls, 0);    /* the parent's threads' calls */
    atomic_store(&mc_final_flag, false);
}

void mc_mark_initialized(void)
{
    mc_pid = getpid();
    atomic_store(&mc_final_flag, false);
    atomic_store(&mc_init_flag, true);
}

void mc_finalize_begin(void)
{
    atomic_store(&mc_final_flag, true);
}

bool mc_calls_inside(void)
{
    return atomic_load(&mc_ncalls) > 0;
}

bool mc_waiters_inside(void)
{
    return atomic_load(&mc_nwaiters) > 0;
}

void mc_mark_finalized(void)
{
    atomic_store(&mc_init_flag, false);
    atomic_store(&mc_final_flag, false);
}
