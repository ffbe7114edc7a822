/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: login and PINs.  C_Login verified on the card
 * with exactly one try per wrong PIN and none for a PIN the card has just
 * rejected; the tries-left flags; blocked PINs; wrong formats refused
 * before the card; the lowercase signature password; C_SetPIN; the
 * refusals of CKU_SO, C_InitToken and C_InitPIN; and that C_Logout,
 * closing the last session, C_Finalize, a reset or a removal leave no
 * verified PIN, neither in the module nor on the card (checked with raw
 * APDUs to the virtual card).  Drives the module only through
 * C_GetFunctionList.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char check_suite_name[] = "module-login";

static CK_RV login(CK_SESSION_HANDLE s, const char *pin)
{
    return fx.f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
}

static CK_FLAGS token_flags(enum mt_role r)
{
    return mt_token_info(mt_slot(r)).flags;
}

static CK_STATE session_state(CK_SESSION_HANDLE s)
{
    CK_SESSION_INFO info;

    ck_assert_rv(fx.f->C_GetSessionInfo(s, &info), CKR_OK);
    return info.state;
}

/* Sign once with the token's private key and check the signature. */
static void sign_ok(enum mt_role r, CK_SESSION_HANDLE s)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    size_t dlen = 0;
    const unsigned char *der =
        mt_cert_der(r == MT_AUTH ? MT_CERT_AUTH : MT_CERT_SIGN, &dlen);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);

    ck_assert_rv(mt_sign(s, key, CKM_SHA256_RSA_PKCS, "hello", 5, sig, &siglen,
                         r == MT_SIGN ? MT_SIGN_PIN : NULL), CKR_OK);
    ck_assert(mt_verify(der, dlen, CKM_SHA256_RSA_PKCS, "hello", 5, sig,
                        siglen));
}

/* A signature attempt with @key that must be refused for want of a login,
 * without the card being asked to sign. */
static void sign_refused(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG siglen = sizeof(sig);
    unsigned long before = mt_spied(&fx.spy.sign_cmds);
    unsigned long pins = mt_spied(&fx.spy.verify_pin);
    CK_RV rv;

    rv = mt_sign(s, key, CKM_SHA256_RSA_PKCS, "hello", 5, sig, &siglen, NULL);
    /* The key may also have become invisible with the login. */
    ck_assert_msg(MT_RV_IN(rv, CKR_USER_NOT_LOGGED_IN, CKR_KEY_HANDLE_INVALID),
                  "signature without login: 0x%lx", (unsigned long)rv);
    ck_assert_msg(mt_spied(&fx.spy.verify_pin) == pins,
                  "the module sent a PIN by itself");
    /* The login state is tracked in software: the card is not asked. */
    ck_assert_msg(mt_spied(&fx.spy.sign_cmds) == before,
                  "COMPUTE DIGITAL SIGNATURE sent without a login");
}

START_TEST(test_login_correct)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session(mt_slot(r));
        unsigned long pins = mt_spied(&fx.spy.verify_pin);
        int tries = mt_tries(r);

        ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
        ck_assert_rv(login(s, mt_pin(r)), CKR_OK);
        ck_assert_uint_eq(session_state(s), CKS_RO_USER_FUNCTIONS);
        ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins + 1);
        ck_assert_int_eq(mt_tries(r), tries);
        ck_assert_rv(login(s, mt_pin(r)), CKR_USER_ALREADY_LOGGED_IN);
        sign_ok(r, s);
    }
}
END_TEST

START_TEST(test_login_state_per_token)
{
    CK_SESSION_HANDLE a1 = mt_session(mt_slot(MT_AUTH));
    CK_SESSION_HANDLE a2 = mt_session(mt_slot(MT_AUTH));
    CK_SESSION_HANDLE s1 = mt_session(mt_slot(MT_SIGN));

    mt_login(a1, MT_AUTH_PIN);
    /* Every session of the application with that token is logged in. */
    ck_assert_uint_eq(session_state(a2), CKS_RO_USER_FUNCTIONS);
    /* The other token is not. */
    ck_assert_uint_eq(session_state(s1), CKS_RO_PUBLIC_SESSION);
    ck_assert_rv(fx.f->C_Logout(a2), CKR_OK);
    ck_assert_uint_eq(session_state(a1), CKS_RO_PUBLIC_SESSION);
    ck_assert_rv(fx.f->C_Logout(a1), CKR_USER_NOT_LOGGED_IN);
}
END_TEST

START_TEST(test_login_bad_arguments)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));

    ck_assert_rv(fx.f->C_Login(s, CKU_USER, NULL, 4), CKR_ARGUMENTS_BAD);
    ck_assert_rv(fx.f->C_Login((CK_SESSION_HANDLE)0x7FFF1234, CKU_USER,
                               (CK_UTF8CHAR *)MT_AUTH_PIN, 4),
                 CKR_SESSION_HANDLE_INVALID);
    ck_assert_rv(fx.f->C_Login(s, 7, (CK_UTF8CHAR *)MT_AUTH_PIN, 4),
                 CKR_USER_TYPE_INVALID);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
}
END_TEST

START_TEST(test_login_wrong_spends_one_try)
{
    CK_SESSION_HANDLE sa = mt_session(mt_slot(MT_AUTH));
    CK_SESSION_HANDLE ss = mt_session(mt_slot(MT_SIGN));

    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_rv(login(sa, "0000"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 2);
    ck_assert_uint_eq(session_state(sa), CKS_RO_PUBLIC_SESSION);

    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    ck_assert_rv(login(ss, "WRONG1"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_SIGN), 4);
}
END_TEST

START_TEST(test_login_same_wrong_pin_not_resent)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    unsigned long apdus, pins, queries;

    ck_assert_rv(login(s, "0000"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 2);
    apdus = mt_apdus();
    pins = mt_spied(&fx.spy.verify_pin);
    queries = mt_spied(&fx.spy.verify_query);
    /* Applications send the same PIN again: the card must not see it.
     * The module may only ask the card whether its tries changed (an
     * empty VERIFY and its SELECTs: another program may have changed the
     * PIN meanwhile), which costs no try. */
    ck_assert_rv(login(s, "0000"), CKR_PIN_INCORRECT);
    ck_assert_rv(login(s, "0000"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 2);
    queries = mt_spied(&fx.spy.verify_query) - queries;
    ck_assert_uint_le(queries, 2);
    ck_assert_uint_le(mt_apdus() - apdus, 3 * queries);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    /* A different PIN is tried. */
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
}
END_TEST

START_TEST(test_pin_flags_and_lock_auth)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_FLAGS f;
    CK_RV rv;

    f = token_flags(MT_AUTH);
    ck_assert(!(f & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
                     CKF_USER_PIN_LOCKED)));

    ck_assert_rv(login(s, "0000"), CKR_PIN_INCORRECT);
    f = token_flags(MT_AUTH);
    ck_assert_msg(f & CKF_USER_PIN_COUNT_LOW, "no COUNT_LOW after 1 wrong");
    ck_assert(!(f & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)));

    ck_assert_rv(login(s, "1111"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 1);
    f = token_flags(MT_AUTH);
    ck_assert_msg(f & CKF_USER_PIN_FINAL_TRY, "no FINAL_TRY with 1 left");
    ck_assert(!(f & CKF_USER_PIN_LOCKED));

    /* The try that blocks the PIN (63C0): wrong, and now locked. */
    rv = login(s, "2222");
    ck_assert_msg(MT_RV_IN(rv, CKR_PIN_INCORRECT, CKR_PIN_LOCKED),
                  "blocking try: 0x%lx", (unsigned long)rv);
    ck_assert_int_eq(mt_tries(MT_AUTH), 0);
    f = token_flags(MT_AUTH);
    ck_assert_msg(f & CKF_USER_PIN_LOCKED, "no LOCKED when blocked");

    /* Blocked: even the right PIN is refused, and nothing is spent. */
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_PIN_LOCKED);
    ck_assert_rv(login(s, "3333"), CKR_PIN_LOCKED);
    ck_assert_int_eq(mt_tries(MT_AUTH), 0);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    /* The other token is untouched. */
    f = token_flags(MT_SIGN);
    ck_assert(!(f & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED)));
}
END_TEST

START_TEST(test_pin_flags_sign_final_try_then_cleared)
{
    static const char *const wrong[4] = { "WRONG1", "WRONG2", "WRONG3",
                                          "WRONG4" };
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));
    CK_FLAGS f;

    for (int i = 0; i < 4; i++) {
        ck_assert_rv(login(s, wrong[i]), CKR_PIN_INCORRECT);
        ck_assert_int_eq(mt_tries(MT_SIGN), 4 - i);
        f = token_flags(MT_SIGN);
        ck_assert(f & CKF_USER_PIN_COUNT_LOW);
        ck_assert_msg(!(f & CKF_USER_PIN_FINAL_TRY) == (i < 3),
                      "FINAL_TRY wrong with %d tries left", 4 - i);
    }
    /* The right password resets the card's counter, and the flags. */
    ck_assert_rv(login(s, MT_SIGN_PIN), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    f = token_flags(MT_SIGN);
    ck_assert(!(f & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
                     CKF_USER_PIN_LOCKED)));
}
END_TEST

/* Tries spent by another program show at start-up, read from the card
 * without spending one. */
START_TEST(test_tries_read_from_card)
{
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .no_init = true });
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, "0000"), 0x63C2);
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, "1111"), 0x63C1);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(mt_raw_verify(MT_SIGN, "WRONG9") & 0xFFF0, 0x63C0);
    ck_assert_int_eq(mt_tries(MT_SIGN), 0);
    emu_card_reset(fx.card);

    mt_init();
    mt_find_slots();
    ck_assert(token_flags(MT_AUTH) & CKF_USER_PIN_FINAL_TRY);
    ck_assert(token_flags(MT_SIGN) & CKF_USER_PIN_LOCKED);
    ck_assert_int_eq(mt_tries(MT_AUTH), 1);
    ck_assert_rv(login(mt_session(mt_slot(MT_SIGN)), MT_SIGN_PIN),
                 CKR_PIN_LOCKED);
    ck_assert_rv(login(mt_session(mt_slot(MT_AUTH)), MT_AUTH_PIN), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
}
END_TEST

struct bad_pin {
    enum mt_role role;
    const char *pin;
};

static const struct bad_pin bad_pins[] = {
    { MT_AUTH, "123" },
    { MT_AUTH, "12345" },
    { MT_AUTH, "" },
    { MT_AUTH, "12a4" },
    { MT_AUTH, "12 4" },
    { MT_AUTH, "\xef\xbc\x91\xef\xbc\x92" },  /* fullwidth digits */
    { MT_SIGN, "ABC12" },
    { MT_SIGN, "ABCDEFGH123456789" },          /* 17 */
    { MT_SIGN, "ABC-123" },
    { MT_SIGN, "ABC 123" },
    { MT_SIGN, "ABC_12" },
    { MT_SIGN, "\xc3\x84" "BC123" },           /* A with umlaut */
};

START_TEST(test_pin_bad_format_not_sent)
{
    const struct bad_pin *b = &bad_pins[_i];
    CK_SESSION_HANDLE s = mt_session(mt_slot(b->role));
    unsigned long apdus = mt_apdus();
    CK_RV rv;

    rv = fx.f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)b->pin, strlen(b->pin));
    ck_assert_msg(MT_RV_IN(rv, CKR_PIN_LEN_RANGE, CKR_PIN_INVALID),
                  "PIN \"%s\": 0x%lx", b->pin, (unsigned long)rv);
    ck_assert_uint_eq(mt_apdus(), apdus);
    ck_assert_int_eq(mt_tries(b->role), b->role == MT_AUTH ? 3 : 5);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
}
END_TEST

START_TEST(test_sign_pin_lowercase_folded)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));

    ck_assert_rv(login(s, "abc123"), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    ck_assert_uint_eq(session_state(s), CKS_RO_USER_FUNCTIONS);
}
END_TEST

START_TEST(test_login_so_refused)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session(mt_slot(r));
        unsigned long pins = mt_spied(&fx.spy.verify_pin);
        CK_RV rv;

        rv = fx.f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)mt_pin(r),
                           strlen(mt_pin(r)));
        ck_assert_msg(MT_RV_IN(rv, CKR_USER_TYPE_INVALID,
                               CKR_FUNCTION_NOT_SUPPORTED,
                               CKR_SESSION_READ_ONLY_EXISTS),
                      "CKU_SO: 0x%lx", (unsigned long)rv);
        ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
        ck_assert_int_eq(mt_tries(r), r == MT_AUTH ? 3 : 5);
        ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    }
}
END_TEST

static CK_RV set_pin(CK_SESSION_HANDLE s, const char *old, const char *new_)
{
    return fx.f->C_SetPIN(s, (CK_UTF8CHAR *)old, strlen(old),
                          (CK_UTF8CHAR *)new_, strlen(new_));
}

START_TEST(test_setpin_auth)
{
    CK_SESSION_HANDLE s = mt_session_rw(mt_slot(MT_AUTH));

    ck_assert_rv(set_pin(s, MT_AUTH_PIN, "5678"), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    if (session_state(s) == CKS_RO_USER_FUNCTIONS)
        ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_rv(login(s, "5678"), CKR_OK);
    sign_ok(MT_AUTH, s);
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 2);
    /* The card itself has the new PIN. */
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, "5678"), 0x9000);
}
END_TEST

START_TEST(test_setpin_sign_folded)
{
    CK_SESSION_HANDLE s = mt_session_rw(mt_slot(MT_SIGN));

    ck_assert_rv(set_pin(s, "abc123", "newpass99"), CKR_OK);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    if (session_state(s) == CKS_RO_USER_FUNCTIONS)
        ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_rv(login(s, "NEWPASS99"), CKR_OK);
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_rv(login(s, MT_SIGN_PIN), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_raw_verify(MT_SIGN, "NEWPASS99"), 0x9000);
}
END_TEST

START_TEST(test_setpin_wrong_old)
{
    CK_SESSION_HANDLE s = mt_session_rw(mt_slot(MT_AUTH));

    ck_assert_rv(set_pin(s, "0000", "5678"), CKR_PIN_INCORRECT);
    ck_assert_int_eq(mt_tries(MT_AUTH), 2);
    ck_assert_uint_eq(mt_spied(&fx.spy.change_pin), 0);
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, MT_AUTH_PIN), 0x9000);
}
END_TEST

START_TEST(test_setpin_bad_new_not_sent)
{
    static const char *const bad[][2] = {
        { MT_AUTH_PIN, "12" }, { MT_AUTH_PIN, "12a4" },
        { MT_SIGN_PIN, "AB-CD12" }, { MT_SIGN_PIN, "ABC" },
    };

    for (size_t i = 0; i < 4; i++) {
        enum mt_role r = i < 2 ? MT_AUTH : MT_SIGN;
        CK_SESSION_HANDLE s = mt_session_rw(mt_slot(r));
        unsigned long apdus = mt_apdus();
        CK_RV rv = set_pin(s, bad[i][0], bad[i][1]);

        ck_assert_msg(MT_RV_IN(rv, CKR_PIN_LEN_RANGE, CKR_PIN_INVALID),
                      "new PIN \"%s\": 0x%lx", bad[i][1], (unsigned long)rv);
        ck_assert_uint_eq(mt_apdus(), apdus);
        ck_assert_rv(fx.f->C_CloseSession(s), CKR_OK);
    }
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, MT_AUTH_PIN), 0x9000);
    ck_assert_int_eq(mt_raw_verify(MT_SIGN, MT_SIGN_PIN), 0x9000);
}
END_TEST

START_TEST(test_inittoken_refused)
{
    CK_UTF8CHAR label[32];
    CK_RV rv;

    memset(label, ' ', sizeof(label));
    memcpy(label, "new", 3);
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        rv = fx.f->C_InitToken(mt_slot(r), (CK_UTF8CHAR *)mt_pin(r),
                               strlen(mt_pin(r)), label);
        ck_assert_msg(MT_RV_IN(rv, CKR_FUNCTION_NOT_SUPPORTED,
                               CKR_TOKEN_WRITE_PROTECTED),
                      "C_InitToken: 0x%lx", (unsigned long)rv);
    }
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), 0);
    ck_assert_uint_eq(mt_spied(&fx.spy.change_pin), 0);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
}
END_TEST

START_TEST(test_initpin_refused)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_RV rv;

    rv = fx.f->C_InitPIN(s, (CK_UTF8CHAR *)"5678", 4);
    ck_assert_msg(MT_RV_IN(rv, CKR_FUNCTION_NOT_SUPPORTED,
                           CKR_USER_NOT_LOGGED_IN, CKR_SESSION_READ_ONLY,
                           CKR_TOKEN_WRITE_PROTECTED),
                  "C_InitPIN: 0x%lx", (unsigned long)rv);
    mt_login(s, MT_AUTH_PIN);
    rv = fx.f->C_InitPIN(s, (CK_UTF8CHAR *)"5678", 4);
    ck_assert_msg(MT_RV_IN(rv, CKR_FUNCTION_NOT_SUPPORTED,
                           CKR_USER_NOT_LOGGED_IN, CKR_SESSION_READ_ONLY,
                           CKR_TOKEN_WRITE_PROTECTED),
                  "C_InitPIN as user: 0x%lx", (unsigned long)rv);
    ck_assert_uint_eq(mt_spied(&fx.spy.change_pin), 0);
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, MT_AUTH_PIN), 0x9000);
}
END_TEST

START_TEST(test_logout_then_sign_refused)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);

    sign_ok(MT_AUTH, s);
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_rv(fx.f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
    sign_refused(s, key);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
}
END_TEST

/* The card holds a verified PIN (9000 from the raw probe) while logged
 * in; after @how, none (6982). */
enum leave { BY_LOGOUT, BY_CLOSE_LAST, BY_CLOSE_ALL, BY_FINALIZE };

static void assert_leaves_no_pin(enum mt_role r, enum leave how)
{
    CK_SESSION_HANDLE s = mt_session_login(r);

    sign_ok(r, s);
    ck_assert_int_eq(mt_raw_sign_probe(r), 0x9000);
    switch (how) {
    case BY_LOGOUT:
        ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
        break;
    case BY_CLOSE_LAST:
        ck_assert_rv(fx.f->C_CloseSession(s), CKR_OK);
        break;
    case BY_CLOSE_ALL:
        ck_assert_rv(fx.f->C_CloseAllSessions(mt_slot(r)), CKR_OK);
        break;
    case BY_FINALIZE:
        mt_finalize();
        break;
    }
    ck_assert_msg(mt_raw_sign_probe(r) == 0x6982,
                  "token %d: a verified PIN is left on the card", r);
}

START_TEST(test_logout_leaves_no_verified_pin)
{
    assert_leaves_no_pin((enum mt_role)_i, BY_LOGOUT);
}
END_TEST

START_TEST(test_close_last_session_leaves_no_verified_pin)
{
    assert_leaves_no_pin((enum mt_role)_i, BY_CLOSE_LAST);
}
END_TEST

START_TEST(test_close_all_sessions_leaves_no_verified_pin)
{
    assert_leaves_no_pin((enum mt_role)_i, BY_CLOSE_ALL);
}
END_TEST

START_TEST(test_finalize_leaves_no_verified_pin)
{
    assert_leaves_no_pin((enum mt_role)_i, BY_FINALIZE);
}
END_TEST

START_TEST(test_close_one_of_two_sessions_keeps_login)
{
    CK_SESSION_HANDLE s1 = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE s2 = mt_session(mt_slot(MT_AUTH));

    ck_assert_rv(fx.f->C_CloseSession(s1), CKR_OK);
    ck_assert_uint_eq(session_state(s2), CKS_RO_USER_FUNCTIONS);
    sign_ok(MT_AUTH, s2);
}
END_TEST

START_TEST(test_reset_drops_login)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    unsigned long pins;

    sign_ok(MT_AUTH, s);
    mt_reset();
    pins = mt_spied(&fx.spy.verify_pin);
    sign_refused(s, key);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    /* Logging in again works, and so does signing. */
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    sign_ok(MT_AUTH, s);
}
END_TEST

START_TEST(test_remove_insert_drops_login)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    unsigned long pins;

    sign_ok(MT_AUTH, s);
    mt_remove();
    mt_insert(0);
    mt_find_slots();
    pins = mt_spied(&fx.spy.verify_pin);
    s = mt_session(mt_slot(MT_AUTH));
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    sign_ok(MT_AUTH, s);
}
END_TEST

/* ---- What a long-running program sees of the card (every profile) ---- */

/* Another program, raw: VERIFY @pin of @r, then CHANGE REFERENCE DATA to
 * @newpin.  Returns the last status word. */
static int other_changes_pin(enum mt_role r, const char *pin,
                             const char *newpin)
{
    uint8_t cmd[5 + 16] = { 0x00, 0x24, 0x01, 0x80 };
    size_t n = strlen(newpin);
    int sw = mt_raw_verify(r, pin);

    if (sw != 0x9000)
        return sw;
    cmd[4] = (uint8_t)n;
    memcpy(cmd + 5, newpin, n);
    return mt_raw(cmd, 5 + n, NULL, NULL);
}

START_TEST(test_rejected_pin_forgotten_when_card_changed)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    unsigned long pins;

    ck_assert_rv(login(s, "5555"), CKR_PIN_INCORRECT);
    pins = mt_spied(&fx.spy.verify_pin);
    ck_assert_rv(login(s, "5555"), CKR_PIN_INCORRECT);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    /* Another program changes the PIN to exactly that value. */
    ck_assert_int_eq(other_changes_pin(MT_AUTH, MT_AUTH_PIN, "5555"), 0x9000);
    /* The same session, the same PIN: now right, and it reaches the card
     * (once). */
    ck_assert_rv(login(s, "5555"), CKR_OK);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins + 1);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    sign_ok(MT_AUTH, s);
}
END_TEST

START_TEST(test_rejected_pin_forgotten_on_new_session)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    unsigned long pins;

    ck_assert_rv(login(s, "5555"), CKR_PIN_INCORRECT);
    pins = mt_spied(&fx.spy.verify_pin);
    ck_assert_rv(login(s, "5555"), CKR_PIN_INCORRECT);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins);
    /* A new session: the card may have changed since; asked again. */
    s = mt_session(mt_slot(MT_AUTH));
    ck_assert_rv(login(s, "5555"), CKR_PIN_INCORRECT);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins + 1);
    ck_assert_int_eq(mt_tries(MT_AUTH), 1);
}
END_TEST

START_TEST(test_tries_read_again_at_new_session)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));
    unsigned long apdus;
    CK_FLAGS f;

    (void)s;
    ck_assert(!(token_flags(MT_SIGN) & CKF_USER_PIN_COUNT_LOW));
    /* Another program spends four of the five tries. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(mt_raw_verify(MT_SIGN, "WRONG9") & 0xFFF0, 0x63C0);
    /* Polling the token sends nothing... */
    apdus = mt_apdus();
    for (int i = 0; i < 5; i++)
        (void)token_flags(MT_SIGN);
    ck_assert_uint_eq(mt_apdus(), apdus);
    /* ...and a new session reads the tries again. */
    (void)mt_session(mt_slot(MT_SIGN));
    f = token_flags(MT_SIGN);
    ck_assert_msg(f & CKF_USER_PIN_COUNT_LOW, "no COUNT_LOW: 0x%lx",
                  (unsigned long)f);
    ck_assert_msg(f & CKF_USER_PIN_FINAL_TRY, "no FINAL_TRY: 0x%lx",
                  (unsigned long)f);
}
END_TEST

START_TEST(test_wrong_setpin_while_logged_in_logs_out)
{
    CK_SESSION_HANDLE s = mt_session_rw(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE key;

    mt_login(s, MT_AUTH_PIN);
    key = mt_one(s, CKO_PRIVATE_KEY);
    ck_assert_uint_eq(session_state(s), CKS_RW_USER_FUNCTIONS);
    ck_assert_rv(set_pin(s, "0000", "5678"), CKR_PIN_INCORRECT);
    /* The card refused a PIN: the token says what the card may now be. */
    ck_assert_uint_eq(session_state(s), CKS_RW_PUBLIC_SESSION);
    sign_refused(s, key);
    mt_finalize();
    ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
}
END_TEST

START_TEST(test_wrong_context_login_logs_out)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_SIGN);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };

    ck_assert_rv(fx.f->C_SignInit(s, &m, key), CKR_OK);
    ck_assert_rv(fx.f->C_Login(s, CKU_CONTEXT_SPECIFIC,
                               (CK_UTF8CHAR *)"WRONG9", 6),
                 CKR_PIN_INCORRECT);
    ck_assert_uint_eq(session_state(s), CKS_RO_PUBLIC_SESSION);
    mt_finalize();
    ck_assert_int_eq(mt_raw_sign_probe(MT_SIGN), 0x6982);
}
END_TEST

START_TEST(test_setpin_read_only_session)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    unsigned long apdus = mt_apdus();

    ck_assert_rv(set_pin(s, MT_AUTH_PIN, "5678"), CKR_SESSION_READ_ONLY);
    ck_assert_uint_eq(mt_apdus(), apdus);
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, MT_AUTH_PIN), 0x9000);
}
END_TEST

START_TEST(test_rw_session_count)
{
    CK_TOKEN_INFO ti;

    (void)mt_session(mt_slot(MT_AUTH));
    (void)mt_session_rw(mt_slot(MT_AUTH));
    (void)mt_session_rw(mt_slot(MT_AUTH));
    (void)mt_session_rw(mt_slot(MT_SIGN));
    ti = mt_token_info(mt_slot(MT_AUTH));
    ck_assert_uint_eq(ti.ulSessionCount, 3);
    ck_assert_uint_eq(ti.ulRwSessionCount, 2);
    ti = mt_token_info(mt_slot(MT_SIGN));
    ck_assert_uint_eq(ti.ulSessionCount, 1);
    ck_assert_uint_eq(ti.ulRwSessionCount, 1);
}
END_TEST

struct racer {
    CK_SESSION_HANDLE s;
    pthread_barrier_t *go;
    CK_RV rv;
};

static void *race_login(void *arg)
{
    struct racer *r = arg;

    pthread_barrier_wait(r->go);
    r->rv = login(r->s, MT_AUTH_PIN);
    return NULL;
}

START_TEST(test_two_threads_login_once)
{
    pthread_barrier_t go;
    pthread_t th[2];
    struct racer rc[2];
    unsigned long pins = mt_spied(&fx.spy.verify_pin);
    int ok = 0, already = 0;

    ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        rc[i].s = mt_session(mt_slot(MT_AUTH));
        rc[i].go = &go;
        ck_assert_int_eq(pthread_create(&th[i], NULL, race_login, &rc[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ok += rc[i].rv == CKR_OK;
        already += rc[i].rv == CKR_USER_ALREADY_LOGGED_IN;
    }
    pthread_barrier_destroy(&go);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(already, 1);
    ck_assert_uint_eq(mt_spied(&fx.spy.verify_pin), pins + 1);
}
END_TEST

START_TEST(test_foreign_reset_leaves_no_pin)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);

    sign_ok(MT_AUTH, s);
    /* Another program resets the card (a warm reset): a strict card keeps
     * the PIN; the module, logged out by the reset, must not leave it. */
    mt_reset();
    sign_refused(s, key);
    ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    sign_ok(MT_AUTH, s);
}
END_TEST

START_TEST(test_dead_program_pin_cleared_after_reset)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));

    /* Another program verified a PIN and died in its transaction: pcscd
     * resets the card.  On a card that keeps it and says so, the module
     * powers the card down at its next transaction. */
    ck_assert_int_eq(mt_raw_verify(MT_SIGN, MT_SIGN_PIN), 0x9000);
    mt_reset();
    (void)mt_token_info(mt_slot(MT_SIGN));
    (void)mt_session(mt_slot(MT_SIGN));
    (void)s;
    ck_assert_msg(mt_raw_sign_probe(MT_SIGN) == 0x6982,
                  "a dead program's PIN stays after a reset");
}
END_TEST

START_TEST(test_login_after_other_program_verified)
{
    CK_SESSION_HANDLE s;

    (void)mt_session(mt_slot(MT_AUTH));
    /* Another program left the PIN verified: a strict card answers 9000
     * to the empty VERIFY the module asks tries with.  Login still works,
     * and the module's own logout leaves nothing. */
    ck_assert_int_eq(mt_raw_verify(MT_AUTH, MT_AUTH_PIN), 0x9000);
    s = mt_session(mt_slot(MT_AUTH));
    ck_assert_uint_eq(mt_token_info(mt_slot(MT_AUTH)).flags &
                      (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED), 0);
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    sign_ok(MT_AUTH, s);
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    ck_assert_int_eq(mt_raw_sign_probe(MT_AUTH), 0x6982);
    /* After the power-down (6F00 first on a strict card), all still works. */
    ck_assert_rv(login(s, MT_AUTH_PIN), CKR_OK);
    sign_ok(MT_AUTH, s);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "login", true);

    check_add_tests(tc, test_login_correct, test_login_state_per_token,
                    test_login_bad_arguments, test_login_so_refused,
                    test_inittoken_refused, test_initpin_refused,
                    test_logout_then_sign_refused,
                    test_close_one_of_two_sessions_keeps_login);

    tc = mt_tcase(s, "pins", true);
    check_add_tests(
        tc, test_login_wrong_spends_one_try,
        test_login_same_wrong_pin_not_resent, test_pin_flags_and_lock_auth,
        test_pin_flags_sign_final_try_then_cleared, test_tries_read_from_card);
    tcase_add_loop_test(tc, test_pin_bad_format_not_sent, 0,
                        (int)CHECK_N(bad_pins));
    check_add_tests(tc, test_sign_pin_lowercase_folded, test_setpin_auth,
                    test_setpin_sign_folded, test_setpin_wrong_old,
                    test_setpin_bad_new_not_sent);

    tc = mt_tcase(s, "leave", true);
    tcase_add_loop_test(tc, test_logout_leaves_no_verified_pin, 0, 2);
    tcase_add_loop_test(tc, test_close_last_session_leaves_no_verified_pin, 0,
                        2);
    tcase_add_loop_test(tc, test_close_all_sessions_leaves_no_verified_pin, 0,
                        2);
    tcase_add_loop_test(tc, test_finalize_leaves_no_verified_pin, 0, 2);
    check_add_tests(tc, test_reset_drops_login, test_remove_insert_drops_login,
                    test_foreign_reset_leaves_no_pin,
                    test_dead_program_pin_cleared_after_reset);

    tc = mt_tcase(s, "state", true);
    check_add_tests(tc, test_rejected_pin_forgotten_when_card_changed,
                    test_rejected_pin_forgotten_on_new_session,
                    test_tries_read_again_at_new_session,
                    test_wrong_setpin_while_logged_in_logs_out,
                    test_wrong_context_login_logs_out,
                    test_setpin_read_only_session, test_rw_session_count,
                    test_two_threads_login_once,
                    test_login_after_other_program_verified);
}
