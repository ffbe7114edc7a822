/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: every allocation failure.  A whole scenario
 * (initialise, slots, token info, sessions of both tokens, search,
 * attributes, login to both, single- and multi-part signatures, the
 * signature password asked again, software verification, random bytes,
 * logout, close, finalise) runs once for every N, with the Nth allocation
 * made inside a module call failing.  The call that met the failure must
 * answer CKR_HOST_MEMORY (or another clean error), or succeed with a
 * right answer that the later steps check (slots, objects, certificate
 * bytes, signatures verified with OpenSSL); the same call made again must
 * then succeed (the module still works, no PIN is wrongly remembered as
 * rejected, no login is half-made), and C_Finalize follows; no PIN try is
 * spent, none stays verified; no leak (AddressSanitizer's leak check sees
 * every batch's process).
 *
 * Which allocations: this program is linked with -Wl,--wrap=malloc,
 * --wrap=calloc, --wrap=realloc, --wrap=strdup, which catches every call
 * of those in the module's and the card layer's static libraries (and in
 * the test's own code, which is never failed); and OpenSSL's
 * CRYPTO_set_mem_functions() catches OpenSSL's own allocations (X.509
 * parsing, digests, HMAC, RSA verification) made for the module.  Only
 * allocations on the test thread while it is inside a C_* call count, and
 * not while the virtual card answers an APDU (the card is not under test
 * here).  Not covered: allocations inside libc itself (fopen of the
 * configuration file) and inside p11-kit or pcsc-lite.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <execinfo.h>
#include <unistd.h>

#include <openssl/crypto.h>

const char check_suite_name[] = "module-alloc";

/* ---- The allocator that fails ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static _Thread_local bool in_module;   /* inside a C_* call, not the card */
static long alloc_no;                  /* counted allocations this run */
static long fail_at;                   /* 0: none fails */
static long injected;                  /* failures made this run */
static long n_libc, n_openssl;         /* counted, by kind */

static bool fail_now(bool openssl)
{
    if (!in_module)
        return false;
    alloc_no++;
    if (openssl)
        n_openssl++;
    else
        n_libc++;
    if (alloc_no != fail_at)
        return false;
    injected++;
    if (getenv("MYNACARD_ALLOC_TRACE")) {
        /* Where the failure lands (addr2line -e ... makes it readable). */
        void *bt[24];

        in_module = false;
        backtrace_symbols_fd(bt, backtrace(bt, 24), STDERR_FILENO);
        in_module = true;
    }
    return true;
}

void *__wrap_malloc(size_t n)
{
    return fail_now(false) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now(false) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now(false) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now(false) ? NULL : __real_strdup(s);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return fail_now(true) ? NULL : __real_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return fail_now(true) ? NULL : __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* ---- The card, outside the count ---- */

static struct tp_card_cb card_cb;

static int card_xfer(void *ctx, const uint8_t *cmd, size_t len,
                     uint8_t *resp, size_t cap, size_t *resplen)
{
    bool was = in_module;
    int rv;

    (void)ctx;
    in_module = false;
    rv = card_cb.xfer(card_cb.ctx, cmd, len, resp, cap, resplen);
    in_module = was;
    return rv;
}

/* A reset or power cycle passed on to the card: not the module's. */
static void card_pass(void (*pass)(void *inner))
{
    bool was = in_module;

    in_module = false;
    pass(&card_cb);
    in_module = was;
}

static void card_reset(void *ctx)
{
    (void)ctx;
    card_pass(emu_wrap_reset);
}

static void card_unpower(void *ctx)
{
    (void)ctx;
    card_pass(emu_wrap_unpower);
}

/* The fixture's card (behind its spy) again, wrapped by the two above. */
static void alloc_setup(void)
{
    mt_remove();
    card_cb = fx.cb;
    fx.cb.xfer = card_xfer;
    fx.cb.reset = card_cb.reset ? card_reset : NULL;
    fx.cb.unpower = card_cb.unpower ? card_unpower : NULL;
    fx.cb.ctx = NULL;
    mt_insert(0);
}

/* ---- The scenario ---- */

/* The slots of the card in reader 0 (slot ids are 2 * reader + role);
 * the fixture's mt_slot() needs a look at the tokens first, which would be
 * calls outside the scenario. */
#define AUTH_SLOT ((CK_SLOT_ID)0)
#define SIGN_SLOT ((CK_SLOT_ID)1)

/* A module call, counted (and maybe failed). */
#define CALL(expr) (in_module = true, rv = (expr), in_module = false, rv)

struct run {
    CK_SESSION_HANDLE sa, ss;
    CK_OBJECT_HANDLE cert, akey, apub, skey;
    CK_ULONG nobjs;
    long failed_step;          /* the step that met the failure, or -1 */
    CK_RV failed_rv;
};

/* A step's answer that is wrong although the calls said CKR_OK (a
 * vendor-defined value, never a module's answer). */
#define WRONG_ANSWER ((CK_RV)0x8000ABCDUL)

static CK_ULONG expected_objs;  /* what a clean run's search finds */
static CK_ULONG last_nobjs;

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                                 CK_RV *out)
{
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    CK_RV rv;

    if (CALL(fx.f->C_FindObjectsInit(s, &t, 1)) != CKR_OK)
        goto out;
    if (CALL(fx.f->C_FindObjects(s, &h, 1, &n)) != CKR_OK) {
        fx.f->C_FindObjectsFinal(s);
        goto out;
    }
    if (CALL(fx.f->C_FindObjectsFinal(s)) == CKR_OK && n != 1)
        rv = WRONG_ANSWER;
out:
    *out = rv;
    return h;
}

static CK_RV sign_check(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
                        enum mt_cert cert, const char *ctx_pin,
                        bool multipart)
{
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG len = sizeof(sig);
    size_t derlen = 0;
    const unsigned char *der = mt_cert_der(cert, &derlen);
    CK_RV rv;

    if (CALL(fx.f->C_SignInit(s, &mech, key)) != CKR_OK)
        return rv;
    if (ctx_pin &&
        CALL(fx.f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)ctx_pin,
                           strlen(ctx_pin))) != CKR_OK)
        goto out_cancel;
    if (multipart) {
        if (CALL(fx.f->C_SignUpdate(s, (CK_BYTE *)"to ", 3)) != CKR_OK ||
            CALL(fx.f->C_SignUpdate(s, (CK_BYTE *)"sign", 4)) != CKR_OK ||
            CALL(fx.f->C_SignFinal(s, sig, &len)) != CKR_OK)
            goto out_cancel;
    } else if (CALL(fx.f->C_Sign(s, (CK_BYTE *)"to sign", 7, sig, &len)) !=
               CKR_OK) {
        goto out_cancel;
    }
    return mt_verify(der, derlen, CKM_SHA256_RSA_PKCS, "to sign", 7, sig, len)
               ? CKR_OK : WRONG_ANSWER;
out_cancel:
    /* An operation a failure left open (the context login failed): end it
     * as an application would, uncounted. */
    {
        unsigned char junk[MT_SIG_LEN];
        CK_ULONG jl = sizeof(junk);

        fx.f->C_Sign(s, (CK_BYTE *)"x", 1, junk, &jl);
    }
    return rv;
}

static CK_RV step(struct run *r, int i)
{
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    CK_TOKEN_INFO ti;
    CK_RV rv = CKR_OK;

    switch (i) {
    case 0:
        return CALL(fx.f->C_Initialize(NULL));
    case 1:
        if (CALL(fx.f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
            return rv;
        if (CALL(fx.f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
            return rv;
        return n == 2 ? CKR_OK : WRONG_ANSWER;
    case 2:
        if (CALL(fx.f->C_GetTokenInfo(AUTH_SLOT, &ti)) != CKR_OK)
            return rv;
        return CALL(fx.f->C_GetTokenInfo(SIGN_SLOT, &ti));
    case 3:
        return CALL(fx.f->C_OpenSession(AUTH_SLOT, CKF_SERIAL_SESSION,
                                        NULL, NULL, &r->sa));
    case 4:
        return CALL(fx.f->C_OpenSession(SIGN_SLOT, CKF_SERIAL_SESSION,
                                        NULL, NULL, &r->ss));
    case 5: {
        CK_OBJECT_HANDLE h[32];

        if (CALL(fx.f->C_FindObjectsInit(r->sa, NULL, 0)) != CKR_OK)
            return rv;
        if (CALL(fx.f->C_FindObjects(r->sa, h, 32, &r->nobjs)) != CKR_OK) {
            fx.f->C_FindObjectsFinal(r->sa);
            return rv;
        }
        if (CALL(fx.f->C_FindObjectsFinal(r->sa)) != CKR_OK)
            return rv;
        last_nobjs = r->nobjs;
        if (expected_objs && r->nobjs != expected_objs)
            return WRONG_ANSWER;
        return CKR_OK;
    }
    case 6: {
        unsigned char buf[4096];
        CK_ATTRIBUTE a = { CKA_VALUE, buf, sizeof(buf) };
        size_t derlen = 0;
        const unsigned char *der;

        r->cert = mt_cert_obj(r->sa, MT_CERT_AUTH);
        der = mt_cert_der(MT_CERT_AUTH, &derlen);
        if (CALL(fx.f->C_GetAttributeValue(r->sa, r->cert, &a, 1)) != CKR_OK)
            return rv;
        return a.ulValueLen == derlen && !memcmp(buf, der, derlen)
                   ? CKR_OK : WRONG_ANSWER;
    }
    case 7:
        return CALL(fx.f->C_Login(r->sa, CKU_USER, (CK_UTF8CHAR *)MT_AUTH_PIN,
                                  4));
    case 8:
        r->akey = find_one(r->sa, CKO_PRIVATE_KEY, &rv);
        if (rv != CKR_OK)
            return rv;
        return sign_check(r->sa, r->akey, MT_CERT_AUTH, NULL, false);
    case 9:
        return sign_check(r->sa, r->akey, MT_CERT_AUTH, NULL, true);
    case 10:
        return CALL(fx.f->C_Login(r->ss, CKU_USER, (CK_UTF8CHAR *)MT_SIGN_PIN,
                                  strlen(MT_SIGN_PIN)));
    case 11:
        r->skey = find_one(r->ss, CKO_PRIVATE_KEY, &rv);
        if (rv != CKR_OK)
            return rv;
        return sign_check(r->ss, r->skey, MT_CERT_SIGN, MT_SIGN_PIN, false);
    case 12: {
        CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
        unsigned char sig[MT_SIG_LEN];
        CK_ULONG len = sizeof(sig);

        r->apub = find_one(r->sa, CKO_PUBLIC_KEY, &rv);
        if (rv != CKR_OK)
            return rv;
        /* A signature made without the count, checked with the count. */
        if (fx.f->C_SignInit(r->sa, &mech, r->akey) != CKR_OK ||
            fx.f->C_Sign(r->sa, (CK_BYTE *)"v", 1, sig, &len) != CKR_OK)
            return WRONG_ANSWER;
        if (CALL(fx.f->C_VerifyInit(r->sa, &mech, r->apub)) != CKR_OK)
            return rv;
        return CALL(fx.f->C_Verify(r->sa, (CK_BYTE *)"v", 1, sig, len));
    }
    case 13: {
        unsigned char rnd[40];

        return CALL(fx.f->C_GenerateRandom(r->sa, rnd, sizeof(rnd)));
    }
    case 14:
        return CALL(fx.f->C_Logout(r->sa));
    case 15:
        return CALL(fx.f->C_CloseSession(r->sa));
    case 16:
        return CALL(fx.f->C_CloseAllSessions(SIGN_SLOT));
    case 17:
        return CALL(fx.f->C_Finalize(NULL));
    default:
        ck_abort_msg("no step %d", i);
        return CKR_GENERAL_ERROR;
    }
}
#define N_STEPS 18

static const char *const step_names[N_STEPS] = {
    "C_Initialize", "C_GetSlotList", "C_GetTokenInfo", "open auth session",
    "open sign session", "search", "certificate value", "auth login",
    "auth signature", "auth multi-part signature", "sign login",
    "sign signature with context login", "verify", "random", "logout",
    "close session", "close all sessions", "C_Finalize",
};

/*
 * A failure in the middle of a card operation may end the transaction
 * with a card reset, so as to leave no PIN verified that the module is not
 * sure of; the reset logs both tokens out (the card has no other way).
 * The application then sees CKR_USER_NOT_LOGGED_IN and logs in again:
 * so does the scenario, uncounted, before it goes on.
 */
static void restore_logins(struct run *r, int step_done)
{
    CK_SESSION_INFO si;

    if (step_done >= 7 && step_done < 14 &&
        fx.f->C_GetSessionInfo(r->sa, &si) == CKR_OK &&
        si.state == CKS_RO_PUBLIC_SESSION)
        mt_login(r->sa, MT_AUTH_PIN);
    if (step_done >= 10 && step_done < 16 &&
        fx.f->C_GetSessionInfo(r->ss, &si) == CKR_OK &&
        si.state == CKS_RO_PUBLIC_SESSION)
        mt_login(r->ss, MT_SIGN_PIN);
}

/* Errors a call may answer for a failed allocation. */
static bool clean_error(CK_RV rv)
{
    return rv == CKR_HOST_MEMORY || rv == CKR_DEVICE_MEMORY ||
           rv == CKR_FUNCTION_FAILED || rv == CKR_GENERAL_ERROR ||
           rv == CKR_DEVICE_ERROR;
}

/* Run the scenario with allocation @n failing (0: none); returns how many
 * allocations it counted.  Asserts the outcome of every step. */
static long run_scenario(long n)
{
    struct run r;

    memset(&r, 0, sizeof(r));
    r.failed_step = -1;
    /* Every run finds the card in the same state, whatever the one before
     * left (a logout powers the card down, and a strict card answers 6F00
     * first after power comes back): the same allocations each time. */
    emu_card_power_cycle(fx.card);
    alloc_no = 0;
    injected = 0;
    fail_at = n;
    for (int i = 0; i < N_STEPS; i++) {
        long before = injected;
        CK_RV rv = step(&r, i);

        if (injected == before) {
            /* No failure in this step: it must simply work. */
            ck_assert_msg(rv == CKR_OK, "N=%ld: %s failed (0x%lx) with no "
                          "allocation failure", n, step_names[i],
                          (unsigned long)rv);
            continue;
        }
        if (rv == CKR_OK)
            continue;   /* absorbed, and the answer was checked right */
        ck_assert_msg(clean_error(rv), "N=%ld: %s answered 0x%lx for a "
                      "failed allocation", n, step_names[i],
                      (unsigned long)rv);
        r.failed_step = i;
        r.failed_rv = rv;
        /* The module still works: the same step again, nothing failing. */
        fail_at = 0;
        rv = step(&r, i);
        ck_assert_msg(rv == CKR_OK, "N=%ld: %s failed (0x%lx) once, and "
                      "then 0x%lx when done again", n, step_names[i],
                      (unsigned long)r.failed_rv, (unsigned long)rv);
        restore_logins(&r, i);
        /* What follows is a clean run's: straight to C_Finalize, which
         * must free all (the leak checkers see it), to keep the thousands
         * of runs short. */
        if (i < N_STEPS - 2)
            i = N_STEPS - 2;
    }
    /* No PIN try was spent, and no PIN is left verified on the card. */
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
    ck_assert_int_eq(mt_raw_sign_probe(MT_SIGN), 0x6982);
    fail_at = 0;
    return alloc_no;
}

/* ---- The tests ---- */

#define BATCHES 50               /* loop tests; each takes its share of N */

static long total;               /* allocations in a clean run */

/* A clean run, twice (the first also warms OpenSSL's lazy set-up, which
 * must not count), so that the batches know how many there are. */
static void count_setup(void)
{
    mt_template_setup();
    mt_setup_noinit();
    alloc_setup();
    run_scenario(0);
    n_libc = n_openssl = 0;
    total = run_scenario(0);
    expected_objs = last_nobjs;
    printf("# %ld allocations in the scenario: %ld by the module and the "
           "card layer, %ld by OpenSSL for them\n", total, n_libc, n_openssl);
    fflush(stdout);
    mt_teardown();
}

START_TEST(test_clean_run)
{
    /* The counting is real: the scenario allocates, and a clean run of it
     * in this fresh fixture counts the same and finds the same objects
     * (four on the auth token before login: two certificates, the public
     * key, the profile). */
    ck_assert_int_ge(total, BATCHES);
    ck_assert_uint_eq(expected_objs, 4);
    ck_assert_int_eq(run_scenario(0), total);
    ck_assert_int_eq(injected, 0);
}
END_TEST

/* Batch _i of BATCHES: every N in its share of 1..total, or every
 * MYNACARD_ALLOC_STRIDE-th of them (CI's valgrind run, where a scenario
 * takes a second: every N is taken by the plain and sanitizer runs). */
START_TEST(test_fail_nth)
{
    long first = (long)_i * total / BATCHES + 1;
    long last = ((long)_i + 1) * total / BATCHES;
    const char *only = getenv("MYNACARD_ALLOC_N");
    const char *stride_env = getenv("MYNACARD_ALLOC_STRIDE");
    long stride = stride_env ? atol(stride_env) : 1;

    /* MYNACARD_ALLOC_N=n: that one N only (with MYNACARD_ALLOC_TRACE, to
     * see where it fails). */
    if (only) {
        long n = atol(only);

        if (n < first || n > last)
            return;
        first = last = n;
    }

    ck_assert_int_le(first, last);
    ck_assert_int_ge(stride, 1);
    for (long n = first; n <= last; n += stride) {
        run_scenario(n);
        ck_assert_msg(injected == 1, "N=%ld: %ld allocations failed", n,
                      injected);
    }
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *clean = tcase_create("clean");
    TCase *tc = tcase_create("fail-nth");

    /* Before OpenSSL allocates anything. */
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions failed\n");
        exit(EXIT_FAILURE);
    }
    tcase_add_unchecked_fixture(clean, count_setup, NULL);
    tcase_add_checked_fixture(clean, mt_setup_noinit, mt_teardown);
    tcase_add_checked_fixture(clean, alloc_setup, NULL);
    tcase_set_timeout(clean, 300);
    tcase_add_test(clean, test_clean_run);

    tcase_add_unchecked_fixture(tc, count_setup, NULL);
    tcase_add_checked_fixture(tc, mt_setup_noinit, mt_teardown);
    tcase_add_checked_fixture(tc, alloc_setup, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_fail_nth, 0, BATCHES);
    suite_add_tcase(s, clean);
    suite_add_tcase(s, tc);
}
