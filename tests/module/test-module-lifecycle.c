/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: the library's life against threads and
 * processes.  C_Finalize while eight threads are inside calls of both
 * tokens (signing, searching, random bytes, waiting for slot events) on a
 * slow card: each call finishes or answers CKR_CRYPTOKI_NOT_INITIALIZED,
 * nothing crashes or hangs, and no PIN stays verified.  A forked child
 * gets CKR_CRYPTOKI_NOT_INITIALIZED until it initialises again, then
 * logs in and signs.  A process that exits without C_Finalize, or that
 * calls C_Finalize from an atexit handler (NSS and pdfsig do) while a
 * thread is still signing, exits cleanly: these run as child processes
 * whose exit status is checked.  (Many threads on many sessions at once
 * are in test-module-threads.c.)  Drives the module only through
 * C_GetFunctionList.
 */
#include "fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char check_suite_name[] = "module-lifecycle";

#define NWORKERS 8
#define ROUNDS 6

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A slow card: every APDU takes 3 ms and a signature 30 ms more, so that
 * C_Finalize lands inside card I/O. */
static void open_slow(void)
{
    struct emu_options opt;

    memset(&opt, 0, sizeof(opt));
    opt.latency_apdu_us = 3000;
    opt.latency_sign_us = 30000;
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = &opt });
}

/* ---- C_Finalize while other threads are inside calls ---- */

struct worker {
    pthread_t th;
    int id;
    enum mt_role role;
    CK_OBJECT_HANDLE key;       /* the auth key, for signers */
    atomic_bool done;
    unsigned ok_calls;          /* calls answered CKR_OK */
    bool saw_ni;                /* CKR_CRYPTOKI_NOT_INITIALIZED came */
    CK_RV bad;                  /* the first answer neither of those */
    char where[48];
};

/* Record @rv from @what; true when the worker must stop. */
static bool outcome(struct worker *w, CK_RV rv, const char *what)
{
    if (rv == CKR_OK) {
        w->ok_calls++;
        return false;
    }
    if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
        w->saw_ni = true;
        return true;
    }
    if (w->bad == CKR_OK) {
        w->bad = rv;
        snprintf(w->where, sizeof(w->where), "%s", what);
    }
    return true;
}

static void one_round(struct worker *w, CK_SESSION_HANDLE s, int i)
{
    unsigned char buf[MT_SIG_LEN];
    CK_ULONG len = sizeof(buf);
    CK_TOKEN_INFO ti;
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0;
    CK_SLOT_ID slot;
    CK_ATTRIBUTE a = { CKA_LABEL, NULL, 0 };
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };

    switch (w->id % 4) {
    case 0:
        if (outcome(w, fx.f->C_GetTokenInfo(mt_slot(w->role), &ti),
                    "C_GetTokenInfo") ||
            outcome(w, fx.f->C_FindObjectsInit(s, NULL, 0),
                    "C_FindObjectsInit") ||
            outcome(w, fx.f->C_FindObjects(s, h, 16, &n), "C_FindObjects") ||
            (n > 0 && outcome(w, fx.f->C_GetAttributeValue(s, h[0], &a, 1),
                              "C_GetAttributeValue")) ||
            outcome(w, fx.f->C_FindObjectsFinal(s), "C_FindObjectsFinal"))
            return;
        break;
    case 1:
        if (w->role == MT_AUTH) {
            if (outcome(w, fx.f->C_SignInit(s, &mech, w->key), "C_SignInit") ||
                outcome(w, fx.f->C_Sign(s, (CK_BYTE *)"data", 4, buf, &len),
                        "C_Sign"))
                return;
        } else if (outcome(w, fx.f->C_GenerateRandom(s, buf, 32),
                           "C_GenerateRandom")) {
            return;
        }
        break;
    case 2:
        if (outcome(w, fx.f->C_GenerateRandom(s, buf, 16 + (CK_ULONG)i % 16),
                    "C_GenerateRandom") ||
            outcome(w, fx.f->C_GetSessionInfo(s, &(CK_SESSION_INFO){ 0 }),
                    "C_GetSessionInfo"))
            return;
        break;
    default:
        /* Blocks until C_Finalize wakes it: no card event comes. */
        if (w->id == 3) {
            CK_RV rv = fx.f->C_WaitForSlotEvent(0, &slot, NULL);

            if (rv != CKR_OK)
                outcome(w, rv, "C_WaitForSlotEvent");
            else
                w->ok_calls++;
            return;
        }
        if (outcome(w, fx.f->C_GetMechanismList(mt_slot(w->role), NULL, &n),
                    "C_GetMechanismList"))
            return;
        break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; !w->saw_ni && w->bad == CKR_OK; i++) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

        if (outcome(w, fx.f->C_OpenSession(mt_slot(w->role),
                                           CKF_SERIAL_SESSION, NULL, NULL,
                                           &s),
                    "C_OpenSession"))
            break;
        one_round(w, s, i);
        if (w->saw_ni || w->bad != CKR_OK)
            break;
        outcome(w, fx.f->C_CloseSession(s), "C_CloseSession");
    }
    /* Once it said so, the library stays uninitialised for this thread. */
    if (w->saw_ni &&
        fx.f->C_GetSlotList(CK_TRUE, NULL, &(CK_ULONG){ 0 }) !=
            CKR_CRYPTOKI_NOT_INITIALIZED && w->bad == CKR_OK) {
        w->bad = CKR_GENERAL_ERROR;
        snprintf(w->where, sizeof(w->where), "a call after finalisation");
    }
    atomic_store(&w->done, true);
    return NULL;
}

START_TEST(test_finalize_while_calls_run)
{
    struct worker w[NWORKERS];
    unsigned long total_ok = 0;

    open_slow();
    for (int round = 0; round < ROUNDS; round++) {
        CK_SESSION_HANDLE keep;
        CK_OBJECT_HANDLE key;
        double t0, took;
        CK_RV rv;

        if (round > 0) {
            mt_init();
            mt_find_slots();
        }
        /* The auth token stays logged in through this session. */
        keep = mt_session_login(MT_AUTH);
        key = mt_one(keep, CKO_PRIVATE_KEY);
        memset(w, 0, sizeof(w));
        for (int i = 0; i < NWORKERS; i++) {
            w[i].id = i;
            w[i].role = (i / 4) ? MT_SIGN : MT_AUTH;
            w[i].key = key;
            ck_assert_int_eq(pthread_create(&w[i].th, NULL, worker_main,
                                            &w[i]), 0);
        }
        /* A different moment each round. */
        mt_sleep_ms(15 + 23 * (unsigned)round);
        t0 = now_s();
        rv = fx.f->C_Finalize(NULL);
        took = now_s() - t0;
        fx.initialized = false;
        ck_assert_rv(rv, CKR_OK);
        /* It waits for the calls inside, which are short; a hang is not. */
        ck_assert_msg(took < 20.0, "C_Finalize took %.1f s", took);

        for (double dl = now_s() + 30.0; now_s() < dl;) {
            bool all = true;

            for (int i = 0; i < NWORKERS; i++)
                all = all && atomic_load(&w[i].done);
            if (all)
                break;
            mt_sleep_ms(5);
        }
        for (int i = 0; i < NWORKERS; i++)
            ck_assert_msg(atomic_load(&w[i].done),
                          "round %d: thread %d hangs after C_Finalize", round,
                          i);
        for (int i = 0; i < NWORKERS; i++) {
            pthread_join(w[i].th, NULL);
            ck_assert_msg(w[i].bad == CKR_OK,
                          "round %d: thread %d got 0x%lx from %s", round, i,
                          (unsigned long)w[i].bad, w[i].where);
            ck_assert_msg(w[i].saw_ni, "round %d: thread %d never saw "
                          "CKR_CRYPTOKI_NOT_INITIALIZED", round, i);
            total_ok += w[i].ok_calls;
        }
        /* C_Finalize left no PIN verified on the card. */
        ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
    }
    /* The threads did work before C_Finalize (how much depends on the
     * machine's load), and no try was spent. */
    ck_assert_uint_gt(total_ok, NWORKERS);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    /* And the library comes back. */
    mt_init();
    mt_find_slots();
    ck_assert_rv(fx.f->C_CloseSession(mt_session_login(MT_AUTH)), CKR_OK);
}
END_TEST

/* ---- Child processes ---- */

/* Wait for @pid at most @secs; kill it if it hangs.  Returns the status,
 * or -1 for a hang. */
static int wait_child(pid_t pid, double secs)
{
    double dl = now_s() + secs;
    int status = 0;

    while (now_s() < dl) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        ck_assert_int_eq(r, 0);
        mt_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void expect_exit(int status, int want, const char *what)
{
    ck_assert_msg(status != -1, "%s: the child hangs", what);
    ck_assert_msg(WIFEXITED(status), "%s: the child died of signal %d", what,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WEXITSTATUS(status) == want, "%s: exit status %d, not %d",
                  what, WEXITSTATUS(status), want);
}

/* In a child: initialise, log in to the auth token and sign once with its
 * key; exit with @base + the failing step on failure. */
static CK_SESSION_HANDLE child_login_sign(int base)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8, len = MT_SIG_LEN;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    size_t derlen = 0;
    const unsigned char *der = mt_cert_der(MT_CERT_AUTH, &derlen);

    if (fx.f->C_Initialize(NULL) != CKR_OK)
        _exit(base + 1);
    if (fx.f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK || n != 2)
        _exit(base + 2);
    if (fx.f->C_OpenSession(mt_slot(MT_AUTH), CKF_SERIAL_SESSION, NULL, NULL,
                            &s) != CKR_OK)
        _exit(base + 3);
    if (fx.f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)MT_AUTH_PIN, 4) != CKR_OK)
        _exit(base + 4);
    n = 0;
    if (fx.f->C_FindObjectsInit(s, &t, 1) != CKR_OK ||
        fx.f->C_FindObjects(s, &key, 1, &n) != CKR_OK || n != 1 ||
        fx.f->C_FindObjectsFinal(s) != CKR_OK)
        _exit(base + 5);
    if (fx.f->C_SignInit(s, &mech, key) != CKR_OK ||
        fx.f->C_Sign(s, (CK_BYTE *)"child", 5, sig, &len) != CKR_OK)
        _exit(base + 6);
    if (!mt_verify(der, derlen, CKM_SHA256_RSA_PKCS, "child", 5, sig, len))
        _exit(base + 7);
    return s;
}

/* After fork() the child's library answers CKR_CRYPTOKI_NOT_INITIALIZED,
 * even for the parent's session, until it initialises; then it logs in
 * and signs.  The parent goes on with its own session meanwhile. */
START_TEST(test_fork_child_initializes_and_signs)
{
    CK_SESSION_HANDLE ps = mt_session_login(MT_AUTH);
    CK_SESSION_INFO si;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        CK_ULONG n = 0;

        if (fx.f->C_GetSlotList(CK_TRUE, NULL, &n) !=
            CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(10);
        if (fx.f->C_GetSessionInfo(ps, &si) != CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(11);
        if (fx.f->C_Finalize(NULL) != CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(12);
        child_login_sign(20);
        if (fx.f->C_Finalize(NULL) != CKR_OK)
            _exit(31);
        _exit(0);
    }
    expect_exit(wait_child(pid, 60), 0, "forked child");
    ck_assert_rv(fx.f->C_GetSessionInfo(ps, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RO_USER_FUNCTIONS);
}
END_TEST

/* A program that exits without C_Finalize, with a session logged in and a
 * thread blocked in C_WaitForSlotEvent. */
static void *waiter(void *arg)
{
    CK_SLOT_ID slot;

    (void)arg;
    fx.f->C_WaitForSlotEvent(0, &slot, NULL);
    return NULL;
}

START_TEST(test_exit_without_finalize)
{
    pid_t pid;

    mt_finalize();
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        pthread_t th;

        child_login_sign(20);
        if (pthread_create(&th, NULL, waiter, NULL) != 0)
            _exit(40);
        mt_sleep_ms(50);
        exit(0);
    }
    expect_exit(wait_child(pid, 60), 0, "exit without C_Finalize");
}
END_TEST

/* C_Finalize from an atexit handler, as NSS does, while another thread is
 * still inside C_Sign on a slow card: the handler's C_Finalize waits for
 * it, returns CKR_OK and leaves no PIN verified on the card. */
static void *slow_signer(void *arg)
{
    CK_SESSION_HANDLE s = *(CK_SESSION_HANDLE *)arg;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    CK_ULONG n = 0;

    if (fx.f->C_FindObjectsInit(s, &t, 1) != CKR_OK ||
        fx.f->C_FindObjects(s, &key, 1, &n) != CKR_OK ||
        fx.f->C_FindObjectsFinal(s) != CKR_OK)
        return NULL;
    for (;;) {
        unsigned char sig[MT_SIG_LEN];
        CK_ULONG len = sizeof(sig);

        if (fx.f->C_SignInit(s, &mech, key) != CKR_OK ||
            fx.f->C_Sign(s, (CK_BYTE *)"x", 1, sig, &len) != CKR_OK)
            return NULL;
    }
}

static pthread_t signer;

static void finalize_at_exit(void)
{
    CK_RV rv = fx.f->C_Finalize(NULL);

    if (rv != CKR_OK)
        _exit(50);
    /* The signer's next call answered CKR_CRYPTOKI_NOT_INITIALIZED and it
     * returned. */
    if (pthread_join(signer, NULL) != 0)
        _exit(52);
    /* The card (this process's copy) holds no verified PIN. */
    if (mt_raw_sign_probe(MT_AUTH) != 0x6982)
        _exit(51);
    /* Reached only if all went well: exit()'s own status stands. */
}

START_TEST(test_finalize_from_atexit)
{
    pid_t pid;

    open_slow();
    mt_finalize();
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static CK_SESSION_HANDLE s;

        s = child_login_sign(20);
        if (atexit(finalize_at_exit) != 0)
            _exit(41);
        if (pthread_create(&signer, NULL, slow_signer, &s) != 0)
            _exit(40);
        mt_sleep_ms(100);     /* the signer is in the card now and then */
        exit(7);
    }
    expect_exit(wait_child(pid, 60), 7, "C_Finalize in atexit");
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "lifecycle", true);

    check_add_tests(tc, test_finalize_while_calls_run,
                    test_fork_child_initializes_and_signs,
                    test_exit_without_finalize, test_finalize_from_atexit);
}
