/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: the PIN and privacy guarantees that need to
 * look inside the process.  (1) No PIN is left in memory the module
 * freed: this program is linked with -Wl,--wrap=free, so every free() of
 * the module's and the card layer's code (both linked in statically) goes
 * through __wrap_free, which scans the block for the PINs' bytes before
 * freeing it; a full run logs in to both tokens (the signature password
 * typed in lower case, folded), signs, is refused a wrong PIN, changes a
 * PIN and back, logs out and finalizes.  The virtual card's own frees (it
 * keeps the PINs, as a card does) are not scanned: a layer between the hub
 * and the card marks the time spent inside the card.  OpenSSL's frees are
 * not wrapped (a shared library), which is why the module hands every
 * secret to OPENSSL_clear_free.  (2) No PIN and no personal data in the
 * debug log at its highest level (MYNACARD_DEBUG=4, log_file) through the
 * same run.  (3) A VERIFY whose answer is garbled or lost after the card
 * took it leaves no PIN verified on the card (the module resets it); a
 * regression test of what fuzz-module found.  Drives the module only
 * through C_GetFunctionList.
 */
#include "fixture.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "myna-err.h"

/* Under valgrind the scan reads bytes the module never wrote (the unused
 * tail of a buffer), on purpose: a PIN may be anywhere in the block.  The
 * block is about to be freed, so it is marked defined for the scan rather
 * than reported. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>

const char check_suite_name[] = "module-privacy";
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

/* ---- The free() scanner ---- */

void __real_free(void *p);
void __wrap_free(void *p);

static const char *const pins[] = {
    MT_AUTH_PIN, MT_SIGN_PIN, "abc123", "5678", "9876",
};
#define N_PINS (sizeof(pins) / sizeof(pins[0]))

static atomic_bool scan_on;
static _Thread_local bool in_card;
static atomic_ulong scanned, hits;
static char hit_what[64];

void __wrap_free(void *p)
{
    if (p && atomic_load(&scan_on) && !in_card) {
        size_t n = malloc_usable_size(p);

        (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
        atomic_fetch_add(&scanned, 1);
        for (size_t i = 0; i < N_PINS; i++) {
            if (memmem(p, n, pins[i], strlen(pins[i]))) {
                if (atomic_fetch_add(&hits, 1) == 0)
                    snprintf(hit_what, sizeof(hit_what), "%s in a block of "
                             "%zu bytes", pins[i], n);
            }
        }
    }
    __real_free(p);
}

/* ---- A layer between the hub and the card ---- */

enum fault { FAULT_NONE, FAULT_GARBLE_VERIFY, FAULT_LOSE_VERIFY };

static struct {
    struct tp_card_cb inner;
    enum fault fault;
    unsigned faults_done;
} layer;

static int layer_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                      uint8_t *resp, size_t cap, size_t *resplen)
{
    bool verify = cmdlen > 5 && cmd[1] == 0x20 && cmd[4] > 0;
    int err;

    (void)ctx;
    in_card = true;
    err = layer.inner.xfer(layer.inner.ctx, cmd, cmdlen, resp, cap, resplen);
    in_card = false;
    if (err != 0 || !verify || layer.fault == FAULT_NONE ||
        layer.faults_done > 0)
        return err;
    /* The card took the VERIFY; its answer does not reach the module
     * as it was. */
    layer.faults_done++;
    if (layer.fault == FAULT_LOSE_VERIFY) {
        *resplen = 0;
        return MYNA_E_TRANSPORT;
    }
    if (*resplen + 1 <= cap) {
        memmove(resp + 1, resp, *resplen);
        resp[0] = 0x00;             /* a data byte no VERIFY answer has */
        (*resplen)++;
    }
    return 0;
}

static void layer_reset(void *ctx)
{
    (void)ctx;
    in_card = true;
    emu_wrap_reset(&layer.inner);
    in_card = false;
}

static void layer_unpower(void *ctx)
{
    (void)ctx;
    in_card = true;
    emu_wrap_unpower(&layer.inner);
    in_card = false;
}

/* Put the layer between the hub and the card (a re-insertion). */
static void layer_install(enum fault fault)
{
    memset(&layer, 0, sizeof(layer));
    layer.inner = fx.cb;
    layer.fault = fault;
    fx.cb.xfer = layer_xfer;
    fx.cb.reset = layer_reset;
    fx.cb.unpower = layer_unpower;
    fx.cb.ctx = NULL;
    mt_remove();
    mt_insert(fx.reader);
    mt_find_slots();
}

/* ---- The run ---- */

static void sign_with(CK_SESSION_HANDLE s, enum mt_role r, const char *ctx)
{
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    size_t dlen = 0;
    const unsigned char *der =
        mt_cert_der(r == MT_AUTH ? MT_CERT_AUTH : MT_CERT_SIGN, &dlen);

    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, "privacy", 7, sig,
                         &siglen, ctx), CKR_OK);
    ck_assert(mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "privacy", 7, sig,
                        siglen));
}

/* Everything that handles a PIN: wrong PIN, login, signatures (the
 * signature key asks again), C_SetPIN there and back, logout, finalize. */
static void full_run(void)
{
    CK_SESSION_HANDLE a, s;

    a = mt_session_rw(mt_slot(MT_AUTH));
    ck_assert_rv(fx.f->C_Login(a, CKU_USER, (CK_UTF8CHAR *)"9876", 4),
                 CKR_PIN_INCORRECT);
    ck_assert_rv(fx.f->C_Login(a, CKU_USER, (CK_UTF8CHAR *)"9876", 4),
                 CKR_PIN_INCORRECT);
    mt_login(a, MT_AUTH_PIN);
    sign_with(a, MT_AUTH, NULL);
    ck_assert_rv(fx.f->C_SetPIN(a, (CK_UTF8CHAR *)MT_AUTH_PIN, 4,
                                (CK_UTF8CHAR *)"5678", 4), CKR_OK);
    ck_assert_rv(fx.f->C_SetPIN(a, (CK_UTF8CHAR *)"5678", 4,
                                (CK_UTF8CHAR *)MT_AUTH_PIN, 4), CKR_OK);

    s = mt_session(mt_slot(MT_SIGN));
    mt_login(s, "abc123");          /* folded to ABC123 */
    mt_cert_obj(s, MT_CERT_SIGN);   /* the signature certificate, read */
    sign_with(s, MT_SIGN, "abc123");

    ck_assert_rv(fx.f->C_Logout(a), CKR_OK);
    ck_assert_rv(fx.f->C_CloseAllSessions(mt_slot(MT_AUTH)), CKR_OK);
    ck_assert_rv(fx.f->C_CloseAllSessions(mt_slot(MT_SIGN)), CKR_OK);
    mt_finalize();
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
}

START_TEST(test_scanner_finds_a_pin)
{
    char *p = malloc(64);

    /* The scanner itself: a block holding a PIN is caught. */
    ck_assert_ptr_nonnull(p);
    memset(p, 'x', 64);
    memcpy(p + 20, MT_SIGN_PIN, strlen(MT_SIGN_PIN));
    atomic_store(&hits, 0);
    atomic_store(&scan_on, true);
    free(p);
    atomic_store(&scan_on, false);
    ck_assert_uint_eq(atomic_load(&hits), 1);
}
END_TEST

START_TEST(test_no_pin_in_freed_memory)
{
    layer_install(FAULT_NONE);
    atomic_store(&hits, 0);
    atomic_store(&scanned, 0);
    hit_what[0] = '\0';
    atomic_store(&scan_on, true);
    full_run();
    atomic_store(&scan_on, false);
    /* The module did free memory while we watched (so the wrap is in
     * place), and none of it held a PIN. */
    ck_assert_uint_gt(atomic_load(&scanned), 50);
    ck_assert_msg(atomic_load(&hits) == 0, "%lu freed blocks held a PIN (%s)",
                  (unsigned long)atomic_load(&hits), hit_what);
}
END_TEST

/* Read the whole file at @path (NUL-terminated, malloc'd). */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    ck_assert_int_ge(n, 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

/* @word in @text as a token of its own (not digits inside a number or a
 * hex dump). */
static bool has_token(const char *text, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = text, *end = text + len;

    while ((p = memmem(p, (size_t)(end - p), word, wl)) != NULL) {
        bool before = p > text && is_alnum(p[-1]);
        bool after = p + wl < end && is_alnum(p[wl]);

        if (!before && !after)
            return true;
        p++;
    }
    return false;
}

/* "31 32 33 34" for "1234", upper case. */
static void hex_of(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    for (; *s && o + 4 < cap; s++)
        o += (size_t)snprintf(out + o, cap - o, "%s%02X", o ? " " : "",
                              (unsigned char)*s);
}

START_TEST(test_no_pin_or_personal_data_in_log)
{
    char dir[PATH_MAX], conf[PATH_MAX + 16], logp[PATH_MAX + 16], hex[64];
    const char *tmp = getenv("MYNACARD_TEST_TMP");
    struct emu_init_params p;
    const unsigned char *der;
    char *log, dhex[3 * 32 + 1];
    size_t len, dlen = 0;
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/privacy-log-XXXXXX", tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf, sizeof(conf), "%s/conf", dir);
    snprintf(logp, sizeof(logp), "%s/log", dir);
    fp = fopen(conf, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "debug = 4\nlog_file = %s\n", logp);
    fclose(fp);
    setenv("MYNACARD_CONF", conf, 1);
    setenv("MYNACARD_DEBUG", "4", 1);
    mt_reinit(MYNACARD_VARIANT_BOTH);
    layer_install(FAULT_NONE);
    full_run();
    unsetenv("MYNACARD_CONF");
    unsetenv("MYNACARD_DEBUG");

    log = slurp(logp, &len);
    /* The log is the highest level: calls and APDUs, VERIFY redacted. */
    ck_assert_msg(strstr(log, "C_Login") && strstr(log, "C_SetPIN"),
                  "the log lacks the calls");
    ck_assert_msg(strstr(log, "> 00 20 00 80 04 ** ** ** **"),
                  "the log lacks the redacted VERIFY");
    for (size_t i = 0; i < N_PINS; i++) {
        ck_assert_msg(!has_token(log, len, pins[i]), "PIN %s in the log",
                      pins[i]);
        hex_of(pins[i], hex, sizeof(hex));
        ck_assert_msg(!strstr(log, hex), "PIN %s in the log as %s", pins[i],
                      hex);
    }
    /* The holder's data, and the end of the signature certificate. */
    emu_init_params_default(&p);
    ck_assert_msg(!strstr(log, p.name), "the name in the log");
    ck_assert_msg(!strstr(log, p.address), "the address in the log");
    ck_assert_msg(!strstr(log, p.birth), "the birth date in the log");
    der = mt_cert_der(MT_CERT_SIGN, &dlen);
    ck_assert_uint_gt(dlen, 32);
    for (size_t i = 0; i < 32; i++)
        snprintf(dhex + 3 * i, 4, "%02X ", der[dlen - 32 + i]);
    dhex[3 * 32 - 1] = '\0';
    ck_assert_msg(!strstr(log, dhex), "the signature certificate in the log");
    free(log);
    unlink(logp);
    unlink(conf);
    rmdir(dir);
}
END_TEST

/* _i: 0 auth garbled, 1 auth lost, 2 sign garbled, 3 sign lost. */
START_TEST(test_unsure_verify_leaves_no_pin)
{
    enum mt_role r = _i < 2 ? MT_AUTH : MT_SIGN;
    CK_SESSION_HANDLE s;
    CK_RV rv;

    layer_install(_i % 2 ? FAULT_LOSE_VERIFY : FAULT_GARBLE_VERIFY);
    s = mt_session(mt_slot(r));
    rv = fx.f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)mt_pin(r),
                       strlen(mt_pin(r)));
    ck_assert_uint_eq(layer.faults_done, 1);
    ck_assert_msg(rv != CKR_OK, "C_Login said CKR_OK without a verdict");
    /* The card did take the PIN: no try spent... */
    ck_assert_int_eq(mt_tries(r), r == MT_AUTH ? 3 : 5);
    /* ...and the module left it verified for nobody, while the
     * application still runs with its session open. */
    ck_assert_int_eq(mt_raw_sign_probe(r), 0x6982);
    /* The PIN is not held against the person: the next try is sent. */
    mt_login(s, mt_pin(r));
}
END_TEST

void check_add_suite_tests(Suite *su)
{
    TCase *tc = mt_tcase(su, "privacy", true);

    check_add_tests(tc, test_scanner_finds_a_pin, test_no_pin_in_freed_memory,
                    test_no_pin_or_personal_data_in_log);
    tcase_add_loop_test(tc, test_unsure_verify_leaves_no_pin, 0, 4);
}
