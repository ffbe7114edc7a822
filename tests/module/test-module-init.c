/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: library life cycle.  C_Initialize with NULL,
 * with CKF_OS_LOCKING_OK, with the application's mutex callbacks (counted)
 * and with bad arguments; double initialisation; calls before it;
 * C_GetInfo; the 2.40 function list and the 3.0 interfaces; and fork(),
 * after which the child must initialise again.  Drives the module only
 * through C_GetFunctionList, C_GetInterfaceList and C_GetInterface.
 */
#include "config.h"
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char check_suite_name[] = "module-init";

/* ---- The application's mutex callbacks, counted ---- */

static atomic_ulong n_create, n_destroy, n_lock, n_unlock;

static CK_RV app_create(void **m)
{
    pthread_mutex_t *p = malloc(sizeof(*p));

    if (!p)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(p, NULL);
    *m = p;
    atomic_fetch_add(&n_create, 1);
    return CKR_OK;
}

static CK_RV app_destroy(void *m)
{
    pthread_mutex_destroy(m);
    free(m);
    atomic_fetch_add(&n_destroy, 1);
    return CKR_OK;
}

static CK_RV app_lock(void *m)
{
    pthread_mutex_lock(m);
    atomic_fetch_add(&n_lock, 1);
    return CKR_OK;
}

static CK_RV app_unlock(void *m)
{
    atomic_fetch_add(&n_unlock, 1);
    pthread_mutex_unlock(m);
    return CKR_OK;
}

static void reset_counts(void)
{
    atomic_store(&n_create, 0);
    atomic_store(&n_destroy, 0);
    atomic_store(&n_lock, 0);
    atomic_store(&n_unlock, 0);
}

/* Some work that needs the library's locks: slots, a session, a login and
 * a signature. */
static void do_some_work(void)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    size_t dlen = 0;
    const unsigned char *der = mt_cert_der(MT_CERT_AUTH, &dlen);

    mt_find_slots();
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, "work", 4, sig, &siglen,
                         NULL), CKR_OK);
    ck_assert(mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "work", 4, sig,
                        siglen));
    ck_assert_rv(fx.f->C_CloseSession(s), CKR_OK);
}

static bool still_uninitialised(void)
{
    CK_INFO info;

    return fx.f->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED;
}

START_TEST(test_initialize_null)
{
    CK_INFO info;

    ck_assert_rv(fx.f->C_Initialize(NULL), CKR_OK);
    fx.initialized = true;
    ck_assert_rv(fx.f->C_GetInfo(&info), CKR_OK);
    do_some_work();
    ck_assert_rv(fx.f->C_Finalize(NULL), CKR_OK);
    fx.initialized = false;
    ck_assert(still_uninitialised());
}
END_TEST

START_TEST(test_initialize_os_locking)
{
    CK_C_INITIALIZE_ARGS args;

    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    ck_assert_rv(fx.f->C_Initialize(&args), CKR_OK);
    fx.initialized = true;
    do_some_work();
    mt_finalize();
}
END_TEST

/* C_Initialize with the application's mutex callbacks and @flags, then
 * some work, the counters zeroed first. */
static void init_with_app_mutexes(CK_FLAGS flags)
{
    CK_C_INITIALIZE_ARGS args;

    reset_counts();
    memset(&args, 0, sizeof(args));
    args.CreateMutex = app_create;
    args.DestroyMutex = app_destroy;
    args.LockMutex = app_lock;
    args.UnlockMutex = app_unlock;
    args.flags = flags;
    ck_assert_rv(fx.f->C_Initialize(&args), CKR_OK);
    fx.initialized = true;
    do_some_work();
}

START_TEST(test_initialize_app_mutexes)
{
    init_with_app_mutexes(0); /* the library must use these callbacks */

    ck_assert_msg(atomic_load(&n_create) > 0, "CreateMutex never called");
    ck_assert_msg(atomic_load(&n_lock) > 0, "LockMutex never called");
    ck_assert_uint_eq(atomic_load(&n_lock), atomic_load(&n_unlock));
    mt_finalize();
    /* Every mutex the library made, it destroyed at C_Finalize. */
    ck_assert_uint_eq(atomic_load(&n_destroy), atomic_load(&n_create));
    ck_assert_uint_eq(atomic_load(&n_lock), atomic_load(&n_unlock));
}
END_TEST

START_TEST(test_initialize_app_mutexes_and_os_locking)
{
    init_with_app_mutexes(CKF_OS_LOCKING_OK); /* either kind may be used */
    ck_assert_uint_eq(atomic_load(&n_lock), atomic_load(&n_unlock));
    mt_finalize();
    ck_assert_uint_eq(atomic_load(&n_destroy), atomic_load(&n_create));
}
END_TEST

START_TEST(test_initialize_reserved_refused)
{
    CK_C_INITIALIZE_ARGS args;
    int dummy = 0;

    memset(&args, 0, sizeof(args));
    args.pReserved = &dummy;
    ck_assert_rv(fx.f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
    ck_assert(still_uninitialised());
    args.flags = CKF_OS_LOCKING_OK;
    ck_assert_rv(fx.f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
    ck_assert(still_uninitialised());
    /* A refused C_Initialize leaves the library usable. */
    mt_init();
    do_some_work();
}
END_TEST

/* Every mix of 1 to 3 of the 4 callbacks (@_i from 1 to 14), with and
 * without CKF_OS_LOCKING_OK. */
START_TEST(test_initialize_partial_mutexes_refused)
{
    CK_C_INITIALIZE_ARGS args;

    for (int os = 0; os < 2; os++) {
        memset(&args, 0, sizeof(args));
        if (_i & 1)
            args.CreateMutex = app_create;
        if (_i & 2)
            args.DestroyMutex = app_destroy;
        if (_i & 4)
            args.LockMutex = app_lock;
        if (_i & 8)
            args.UnlockMutex = app_unlock;
        args.flags = os ? CKF_OS_LOCKING_OK : 0;
        ck_assert_msg(fx.f->C_Initialize(&args) == CKR_ARGUMENTS_BAD,
                      "callbacks mask %d, flags %d: not CKR_ARGUMENTS_BAD",
                      _i, os);
        ck_assert(still_uninitialised());
    }
}
END_TEST

START_TEST(test_initialize_twice)
{
    CK_C_INITIALIZE_ARGS args;
    CK_INFO info;

    mt_init();
    ck_assert_rv(fx.f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    ck_assert_rv(fx.f->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    /* Still initialised and working. */
    ck_assert_rv(fx.f->C_GetInfo(&info), CKR_OK);
    do_some_work();
    mt_finalize();
    ck_assert_rv(fx.f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}
END_TEST

START_TEST(test_finalize_reserved_refused)
{
    int dummy = 0;

    mt_init();
    ck_assert_rv(fx.f->C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
    /* Not finalised by the refused call. */
    do_some_work();
}
END_TEST

START_TEST(test_calls_before_initialize)
{
    const CK_RV NI = CKR_CRYPTOKI_NOT_INITIALIZED;
    CK_INFO info;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s = 0;
    CK_SLOT_ID slot = 0;
    CK_ULONG n = 0;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    CK_MECHANISM_INFO mi;
    unsigned char buf[16];

    ck_assert_rv(fx.f->C_GetInfo(&info), NI);
    ck_assert_rv(fx.f->C_Finalize(NULL), NI);
    ck_assert_rv(fx.f->C_GetSlotList(CK_TRUE, NULL, &n), NI);
    ck_assert_rv(fx.f->C_GetSlotInfo(0, &si), NI);
    ck_assert_rv(fx.f->C_GetTokenInfo(0, &ti), NI);
    ck_assert_rv(fx.f->C_GetMechanismList(0, NULL, &n), NI);
    ck_assert_rv(fx.f->C_GetMechanismInfo(0, CKM_RSA_PKCS, &mi), NI);
    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), NI);
    ck_assert_rv(fx.f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s),
                 NI);
    ck_assert_rv(fx.f->C_CloseSession(1), NI);
    ck_assert_rv(fx.f->C_CloseAllSessions(0), NI);
    ck_assert_rv(fx.f->C_Login(1, CKU_USER, (CK_UTF8CHAR *)"1234", 4), NI);
    ck_assert_rv(fx.f->C_Logout(1), NI);
    ck_assert_rv(fx.f->C_FindObjectsInit(1, NULL, 0), NI);
    ck_assert_rv(fx.f->C_SignInit(1, &mech, 1), NI);
    ck_assert_rv(fx.f->C_GenerateRandom(1, buf, sizeof(buf)), NI);
    /* Nothing reached the card. */
    ck_assert_uint_eq(mt_apdus(), 0);
}
END_TEST

START_TEST(test_get_info)
{
    CK_INFO info;
    unsigned major = 99, minor = 99;

    ck_assert_rv(fx.f->C_GetInfo(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    mt_init();
    ck_assert_rv(fx.f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
    memset(&info, 0, sizeof(info));
    ck_assert_rv(fx.f->C_GetInfo(&info), CKR_OK);
    ck_assert_msg((info.cryptokiVersion.major == 2 &&
                   info.cryptokiVersion.minor >= 40) ||
                  info.cryptokiVersion.major == 3,
                  "cryptokiVersion %u.%u", info.cryptokiVersion.major,
                  info.cryptokiVersion.minor);
    ck_assert_msg(mt_padded(info.manufacturerID, sizeof(info.manufacturerID)),
                  "manufacturerID not blank-padded text");
    ck_assert_msg(mt_padded(info.libraryDescription,
                            sizeof(info.libraryDescription)),
                  "libraryDescription not blank-padded text");
    ck_assert_uint_eq(info.flags, 0);
    ck_assert_int_eq(sscanf(MYNACARD_VERSION, "%u.%u", &major, &minor), 2);
    ck_assert_uint_eq(info.libraryVersion.major, major);
    ck_assert_uint_eq(info.libraryVersion.minor, minor);
}
END_TEST

START_TEST(test_function_list)
{
    CK_FUNCTION_LIST *again = NULL;
    void (*const *fn)(void);
    size_t nfn;

    ck_assert_rv(C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
    ck_assert_rv(C_GetFunctionList(&again), CKR_OK);
    ck_assert_ptr_eq(again, fx.f);
    ck_assert_uint_eq(fx.f->version.major, 2);
    ck_assert_uint_eq(fx.f->version.minor, 40);
    /* Every entry point of 2.40 is there (a stub at worst). */
    fn = (void (*const *)(void))((const char *)fx.f +
                                 offsetof(CK_FUNCTION_LIST, C_Initialize));
    nfn = (sizeof(CK_FUNCTION_LIST) -
           offsetof(CK_FUNCTION_LIST, C_Initialize)) / sizeof(*fn);
    ck_assert_uint_eq(nfn, 68);
    for (size_t i = 0; i < nfn; i++)
        ck_assert_msg(fn[i] != NULL, "2.40 function %zu is NULL", i);
    again = NULL;
    ck_assert_rv(fx.f->C_GetFunctionList(&again), CKR_OK);
    ck_assert_ptr_eq(again, fx.f);
}
END_TEST

static bool is_pkcs11_name(const CK_UTF8CHAR *name)
{
    return name && strcmp((const char *)name, "PKCS 11") == 0;
}

START_TEST(test_interface_list)
{
    struct mt_interface list[8];
    CK_ULONG n = 0, small;
    bool v30 = false, v240 = false;

    ck_assert_rv(C_GetInterfaceList(NULL, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_rv(C_GetInterfaceList(NULL, &n), CKR_OK);
    ck_assert_uint_ge(n, 2);
    ck_assert_uint_le(n, 8);
    if (n > 1) {
        small = n - 1;
        ck_assert_rv(C_GetInterfaceList(list, &small), CKR_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(small, n);
    }
    n = 8;
    ck_assert_rv(C_GetInterfaceList(list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_VERSION *v = list[i].pFunctionList;

        ck_assert_ptr_nonnull(v);
        if (!is_pkcs11_name(list[i].pInterfaceName))
            continue;  /* a vendor interface is allowed */
        if (v->major == 3 && v->minor == 0)
            v30 = true;
        if (v->major == 2 && v->minor == 40)
            v240 = true;
    }
    ck_assert_msg(v30, "no \"PKCS 11\" 3.0 interface");
    ck_assert_msg(v240, "no \"PKCS 11\" 2.40 interface");
}
END_TEST

START_TEST(test_interface_3_0)
{
    CK_VERSION want = { 3, 0 };
    struct mt_interface *iface = NULL, *again = NULL;
    struct mt_function_list_3_0 *f3;
    void (*const *fn)(void);
    size_t nfn;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_MECHANISM mech = { CKM_AES_GCM, NULL, 0 };
    CK_RV rv;

    ck_assert_rv(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &want, NULL, 0),
                 CKR_ARGUMENTS_BAD);
    ck_assert_rv(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &want, &iface, 0),
                 CKR_OK);
    ck_assert_ptr_nonnull(iface);
    ck_assert(is_pkcs11_name(iface->pInterfaceName));
    f3 = iface->pFunctionList;
    ck_assert_ptr_nonnull(f3);
    ck_assert_uint_eq(f3->v2.version.major, 3);
    ck_assert_uint_eq(f3->v2.version.minor, 0);

    /* All 92 entry points are there: 68 of 2.40, 24 of 3.0. */
    fn = (void (*const *)(void))((const char *)f3 +
                                 offsetof(CK_FUNCTION_LIST, C_Initialize));
    nfn = (sizeof(*f3) - offsetof(CK_FUNCTION_LIST, C_Initialize)) /
          sizeof(*fn);
    ck_assert_uint_eq(nfn, 92);
    for (size_t i = 0; i < nfn; i++)
        ck_assert_msg(fn[i] != NULL, "3.0 function %zu is NULL", i);

    /* The list's own C_GetInterface answers the same. */
    ck_assert_rv(f3->C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &want, &again,
                                    0), CKR_OK);
    ck_assert_ptr_eq(again->pFunctionList, iface->pFunctionList);

    /* Drive the card through the 3.0 list. */
    ck_assert_rv(f3->v2.C_Initialize(NULL), CKR_OK);
    fx.initialized = true;
    mt_find_slots();
    ck_assert_rv(f3->v2.C_OpenSession(mt_slot(MT_AUTH), CKF_SERIAL_SESSION,
                                      NULL, NULL, &s), CKR_OK);
    ck_assert_rv(f3->v2.C_Login(s, CKU_USER, (CK_UTF8CHAR *)MT_AUTH_PIN, 4),
                 CKR_OK);
    /* The card can do no message-based encryption. */
    key = mt_one(s, CKO_PRIVATE_KEY);
    rv = f3->C_MessageEncryptInit(s, &mech, key);
    ck_assert_msg(MT_RV_IN(rv, CKR_FUNCTION_NOT_SUPPORTED,
                           CKR_MECHANISM_INVALID),
                  "C_MessageEncryptInit: 0x%lx", (unsigned long)rv);
    ck_assert_rv(f3->v2.C_Finalize(NULL), CKR_OK);
    fx.initialized = false;
}
END_TEST

START_TEST(test_interface_2_40)
{
    CK_VERSION want = { 2, 40 };
    struct mt_interface *iface = NULL;
    CK_FUNCTION_LIST *f2;

    ck_assert_rv(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &want, &iface, 0),
                 CKR_OK);
    ck_assert_ptr_nonnull(iface);
    ck_assert(is_pkcs11_name(iface->pInterfaceName));
    f2 = iface->pFunctionList;
    ck_assert_uint_eq(f2->version.major, 2);
    ck_assert_uint_eq(f2->version.minor, 40);
    /* It is a working list. */
    ck_assert_rv(f2->C_Initialize(NULL), CKR_OK);
    fx.initialized = true;
    ck_assert_uint_ge(mt_slot_count(CK_TRUE), 1);
    ck_assert_rv(f2->C_Finalize(NULL), CKR_OK);
    fx.initialized = false;
}
END_TEST

START_TEST(test_interface_default)
{
    struct mt_interface *iface = NULL;
    const CK_VERSION *v;

    ck_assert_rv(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
    ck_assert_ptr_nonnull(iface);
    ck_assert(is_pkcs11_name(iface->pInterfaceName));
    v = iface->pFunctionList;
    ck_assert_msg((v->major == 3 && v->minor == 0) ||
                  (v->major == 2 && v->minor == 40),
                  "default interface %u.%u", v->major, v->minor);
    /* The name alone picks a "PKCS 11" interface too. */
    iface = NULL;
    ck_assert_rv(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", NULL, &iface, 0),
                 CKR_OK);
    ck_assert(is_pkcs11_name(iface->pInterfaceName));
}
END_TEST

START_TEST(test_interface_unknown_refused)
{
    CK_VERSION future = { 9, 9 };
    struct mt_interface *iface = NULL;
    CK_RV rv;

    rv = C_GetInterface((CK_UTF8CHAR *)"Vendor Nonexistent", NULL, &iface, 0);
    ck_assert_msg(rv != CKR_OK, "an unknown interface name was accepted");
    rv = C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &future, &iface, 0);
    ck_assert_msg(rv != CKR_OK, "PKCS 11 version 9.9 was accepted");
}
END_TEST

/* After fork() the child's library is not initialised (PKCS#11 2.40,
 * 6.7.7.1): it must call C_Initialize itself, and then works. */
START_TEST(test_fork_child_must_initialize)
{
    CK_SESSION_HANDLE s;
    CK_TOKEN_INFO ti;
    pid_t pid;
    int status = 0;

    mt_init();
    mt_find_slots();
    s = mt_session(mt_slot(MT_AUTH));
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        CK_ULONG n = 0;
        CK_INFO info;

        if (fx.f->C_GetSlotList(CK_TRUE, NULL, &n) !=
            CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(10);
        if (fx.f->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(11);
        if (fx.f->C_GetSessionInfo(s, &(CK_SESSION_INFO){ 0 }) !=
            CKR_CRYPTOKI_NOT_INITIALIZED)
            _exit(12);
        if (fx.f->C_Initialize(NULL) != CKR_OK)
            _exit(13);
        if (fx.f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n < 1)
            _exit(14);
        if (fx.f->C_Finalize(NULL) != CKR_OK)
            _exit(15);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status),
                  "the child died (signal %d)", WTERMSIG(status));
    ck_assert_msg(WEXITSTATUS(status) == 0,
                  "child step %d failed (10: slot list before init not "
                  "CKR_CRYPTOKI_NOT_INITIALIZED, 11: C_GetInfo, 12: old "
                  "session, 13: C_Initialize, 14: slot list, 15: C_Finalize)",
                  WEXITSTATUS(status));
    /* The parent is untouched. */
    ck_assert_rv(fx.f->C_GetTokenInfo(mt_slot(MT_AUTH), &ti), CKR_OK);
    ck_assert_rv(fx.f->C_CloseSession(s), CKR_OK);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "init", false);

    check_add_tests(tc, test_initialize_null, test_initialize_os_locking,
                    test_initialize_app_mutexes,
                    test_initialize_app_mutexes_and_os_locking,
                    test_initialize_reserved_refused);
    tcase_add_loop_test(tc, test_initialize_partial_mutexes_refused, 1, 15);
    check_add_tests(tc, test_initialize_twice, test_finalize_reserved_refused,
                    test_calls_before_initialize, test_get_info,
                    test_function_list, test_interface_list, test_interface_3_0,
                    test_interface_2_40, test_interface_default,
                    test_interface_unknown_refused,
                    test_fork_child_must_initialize);
}
