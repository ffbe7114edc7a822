/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: a card removed or reset in the middle of a
 * session.  Removal between C_SignInit and C_Sign, in a multi-part
 * signature, during an object search and while threads sign; a reset by
 * another program between operations and inside one; the card vanishing
 * or resetting during an APDU (faults of the virtual card).  Each must
 * give the right CKR and leave the module working once the card is back.
 * Drives the module only through C_GetFunctionList.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char check_suite_name[] = "module-removal";

/* What a session of a removed card may answer (PKCS#11 2.40, 5.1). */
#define GONE CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED

static CK_STATE session_state(CK_SESSION_HANDLE s)
{
    CK_SESSION_INFO info;

    ck_assert_rv(fx.f->C_GetSessionInfo(s, &info), CKR_OK);
    return info.state;
}

/* After the card is back: a new session, a login (unless @logged_in: a
 * session that survived holds one), a verified signature. */
static void assert_works_again_as(bool logged_in)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    size_t dlen = 0;
    const unsigned char *der = mt_cert_der(MT_CERT_AUTH, &dlen);

    mt_find_slots();
    s = mt_session(mt_slot(MT_AUTH));
    ck_assert_uint_eq(session_state(s), logged_in ? CKS_RO_USER_FUNCTIONS
                                                  : CKS_RO_PUBLIC_SESSION);
    if (!logged_in)
        mt_login(s, MT_AUTH_PIN);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, "again", 5, sig, &siglen,
                         NULL), CKR_OK);
    ck_assert(mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "again", 5, sig,
                        siglen));
}

static void assert_works_again(void)
{
    assert_works_again_as(false);
}

START_TEST(test_remove_between_sign_init_and_sign)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    CK_RV rv;

    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    mt_remove();
    rv = fx.f->C_Sign(s, (CK_BYTE *)"abc", 3, sig, &siglen);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_Sign after removal: 0x%lx",
                  (unsigned long)rv);
    mt_insert(0);
    rv = fx.f->C_Sign(s, (CK_BYTE *)"abc", 3, sig, &siglen);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_Sign after re-insertion: 0x%lx",
                  (unsigned long)rv);
    assert_works_again();
}
END_TEST

START_TEST(test_remove_mid_multipart)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_MECHANISM mech = { CKM_SHA512_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    CK_RV rv;

    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    ck_assert_rv(fx.f->C_SignUpdate(s, (CK_BYTE *)"part one", 8), CKR_OK);
    mt_remove();
    rv = fx.f->C_SignUpdate(s, (CK_BYTE *)"part two", 8);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_SignUpdate: 0x%lx", (unsigned long)rv);
    rv = fx.f->C_SignFinal(s, sig, &siglen);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_SignFinal: 0x%lx", (unsigned long)rv);
    mt_insert(0);
    assert_works_again();
}
END_TEST

START_TEST(test_remove_during_find)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h[8];
    CK_ULONG n = 0;
    CK_RV rv;

    ck_assert_rv(fx.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    mt_remove();
    rv = fx.f->C_FindObjects(s, h, 8, &n);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_FindObjects: 0x%lx", (unsigned long)rv);
    rv = fx.f->C_FindObjectsFinal(s);
    ck_assert_msg(MT_RV_IN(rv, GONE), "C_FindObjectsFinal: 0x%lx",
                  (unsigned long)rv);
    mt_insert(0);
    assert_works_again();
}
END_TEST

START_TEST(test_remove_then_close_is_safe)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_RV rv;

    mt_remove();
    rv = fx.f->C_CloseSession(s);
    ck_assert_msg(MT_RV_IN(rv, CKR_OK, GONE), "C_CloseSession: 0x%lx",
                  (unsigned long)rv);
    rv = fx.f->C_CloseAllSessions(mt_slot(MT_AUTH));
    ck_assert_msg(MT_RV_IN(rv, CKR_OK, CKR_TOKEN_NOT_PRESENT),
                  "C_CloseAllSessions: 0x%lx", (unsigned long)rv);
    /* And C_Finalize with the card out, as at process exit. */
    mt_finalize();
    mt_insert(0);
    mt_init();
    assert_works_again();
}
END_TEST

START_TEST(test_reset_between_sign_init_and_sign)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long pins = mt_spied(&fx.spy.verify_pin);
    unsigned long cmds = mt_spied(&fx.spy.sign_cmds);

    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    mt_reset();
    /* The card forgot the PIN: the login is gone, and no PIN is resent.
     * The transport reports the reset before any APDU, so the card is not
     * even asked to sign. */
    ck_assert_rv(fx.f->C_Sign(s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_USER_NOT_LOGGED_IN);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    ck_assert_uint_eq(mt_spied(&fx.spy.sign_cmds), cmds);
    /* The session itself survives a reset. */
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    assert_works_again();
}
END_TEST

START_TEST(test_reset_public_operations_continue)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    unsigned char rnd[32];

    mt_reset();
    /* Objects readable without a login still read... */
    {
        size_t dlen = 0;
        const unsigned char *der = mt_cert_der(MT_CERT_AUTH, &dlen);

        ck_assert(mt_attr_eq(s, mt_cert_obj(s, MT_CERT_AUTH), CKA_VALUE, der,
                             dlen));
    }
    ck_assert_rv(fx.f->C_GenerateRandom(s, rnd, sizeof(rnd)), CKR_OK);
    mt_reset();
    /* ...and a login after a reset reaches the right PIN file. */
    mt_login(s, MT_AUTH_PIN);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    assert_works_again_as(true);
}
END_TEST

START_TEST(test_reset_sign_token_drops_cert)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_SIGN);
    CK_OBJECT_HANDLE h[4];

    ck_assert_uint_eq(mt_find_class(s, CKO_PUBLIC_KEY, h, 4), 1);
    mt_reset();
    /* Once the module learns of the reset (at its next card operation),
     * the session is public, and the signature certificate, which needs
     * the password, is hidden again. */
    {
        unsigned char rnd[8];

        ck_assert_rv(fx.f->C_GenerateRandom(s, rnd, sizeof(rnd)), CKR_OK);
    }
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    ck_assert_uint_eq(mt_find_class(s, CKO_PUBLIC_KEY, h, 4), 0);
    ck_assert_uint_eq(mt_find_class(s, CKO_CERTIFICATE, h, 4), 1);
}
END_TEST

/* ---- Faults inside an APDU ---- */

/* How many APDUs the module sends up to (not including) C_Sign after a
 * login and C_SignInit, on a fresh card. */
static unsigned long apdus_before_sign(void)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };

    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    return mt_apdus();
}

START_TEST(test_card_vanishes_during_sign)
{
    struct emu_options opt;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long n = apdus_before_sign();
    CK_RV rv;

    memset(&opt, 0, sizeof(opt));
    opt.remove_after = (unsigned)n;
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = &opt });
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    ck_assert_uint_eq(mt_apdus(), n);
    rv = fx.f->C_Sign(s, (CK_BYTE *)"abc", 3, sig, &siglen);
    ck_assert_msg(MT_RV_IN(rv, GONE, CKR_DEVICE_ERROR),
                  "C_Sign on a vanished card: 0x%lx", (unsigned long)rv);
}
END_TEST

START_TEST(test_card_resets_during_sign)
{
    struct emu_options opt;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long n = apdus_before_sign();
    unsigned long pins;

    memset(&opt, 0, sizeof(opt));
    opt.reset_after = (unsigned)n;
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = &opt });
    s = mt_session_login(MT_AUTH);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_rv(fx.f->C_SignInit(s, &mech, key), CKR_OK);
    ck_assert_uint_eq(mt_apdus(), n);
    pins = mt_spied(&fx.spy.verify_pin);
    /* The PIN went with the reset; the module must not verify it again
     * by itself. */
    ck_assert_rv(fx.f->C_Sign(s, (CK_BYTE *)"abc", 3, sig, &siglen),
                 CKR_USER_NOT_LOGGED_IN);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
}
END_TEST

/* ---- Removal while threads sign ---- */

struct signer_thread {
    pthread_t th;
    int ok, verified;
    CK_RV last;
    bool bad_rv;
    atomic_int *started;        /* threads past their set-up */
};

static void *signing_loop(void *arg)
{
    struct signer_thread *t = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    size_t dlen = 0;
    const unsigned char *der = mt_cert_der(MT_CERT_AUTH, &dlen);
    CK_RV rv;

    rv = fx.f->C_OpenSession(mt_slot(MT_AUTH), CKF_SERIAL_SESSION, NULL, NULL,
                             &s);
    if (rv == CKR_OK && (rv = fx.f->C_FindObjectsInit(s, &tmpl, 1)) == CKR_OK &&
        (rv = fx.f->C_FindObjects(s, &key, 1, &n)) == CKR_OK)
        rv = fx.f->C_FindObjectsFinal(s);
    atomic_fetch_add(t->started, 1);
    if (rv != CKR_OK || n != 1) {
        t->last = rv;
        t->bad_rv = true;
        return NULL;
    }
    for (int i = 0; i < 1000; i++) {
        unsigned char sig[MT_SIG_LEN];
        CK_ULONG siglen = sizeof(sig);

        rv = mt_sign(s, key, CKM_SHA256_RSA_PKCS, "loop", 4, sig, &siglen,
                     NULL);
        t->last = rv;
        if (rv != CKR_OK) {
            t->bad_rv = !MT_RV_IN(rv, GONE);
            break;
        }
        t->ok++;
        if (mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "loop", 4, sig, siglen))
            t->verified++;
    }
    return NULL;
}

START_TEST(test_remove_while_threads_sign)
{
    struct signer_thread t[4];
    atomic_int started = 0;
    CK_SESSION_HANDLE keep = mt_session_login(MT_AUTH);

    (void)keep;
    memset(t, 0, sizeof(t));
    for (int i = 0; i < 4; i++) {
        t[i].started = &started;
        ck_assert_int_eq(pthread_create(&t[i].th, NULL, signing_loop, &t[i]),
                         0);
    }
    /* Every thread set up (a session and its key: C_OpenSession reads the
     * tries, which under valgrind takes a while) before the removal. */
    while (atomic_load(&started) < 4)
        mt_sleep_ms(5);
    mt_sleep_ms(200);
    mt_remove();
    for (int i = 0; i < 4; i++)
        pthread_join(t[i].th, NULL);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(!t[i].bad_rv, "thread %d ended with 0x%lx", i,
                      (unsigned long)t[i].last);
        ck_assert_msg(t[i].last != CKR_OK, "thread %d never noticed", i);
        ck_assert_int_eq(t[i].verified, t[i].ok);
    }
    mt_insert(0);
    assert_works_again();
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "removal", true);

    check_add_tests(tc, test_remove_between_sign_init_and_sign,
                    test_remove_mid_multipart, test_remove_during_find,
                    test_remove_then_close_is_safe,
                    test_remove_while_threads_sign);

    tc = mt_tcase(s, "reset", true);
    check_add_tests(tc, test_reset_between_sign_init_and_sign,
                    test_reset_public_operations_continue,
                    test_reset_sign_token_drops_cert);

    tc = mt_tcase(s, "faults", true);
    check_add_tests(tc, test_card_vanishes_during_sign,
                    test_card_resets_during_sign);
}
