/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: slots and tokens.  Two tokens per card with
 * their labels, PIN lengths, flags and serial numbers; the one-token
 * variants; C_GetSlotList(TRUE) as cards come and go; polls that cost no
 * APDU; C_WaitForSlotEvent non-blocking and blocking, woken by an
 * insertion or by C_Finalize; old session handles after a removal.
 * Drives the module only through C_GetFunctionList; moves the virtual
 * card with the callback hub.
 */
#include "fixture.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

const char check_suite_name[] = "module-slots";

static bool contains_any(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strstr(s, *words))
            return true;
    return false;
}

/* The nine ATRs seen on real cards (doc/jpki-card.md), four of them
 * contactless: the module recognises the card by its JPKI application, not
 * by its ATR, so each shows both tokens and their certificates. */
static const char *const real_atrs[] = {
    "3BE000FF8131FE4514",
    "3BDA13FF8131FB468012392F31C173C601C03B",
    "3BC5FF8131FB458073C6010000",
    "3BF59100FF918171FE400042000100D1D6",
    "3BF59100FF918171FE4000420001B3A115",
    "3B888001000005E0B381A1007F",
    "3B888001000041E0B381A1003B",
    "3B888001004B51FF0081D100BC",
    "3B888001004B51FFB381D1000F",
};

START_TEST(test_real_atrs)
{
    struct emu_options o = { 0 };
    const char *h = real_atrs[_i];
    CK_SESSION_HANDLE s;

    CK_OBJECT_HANDLE keys[4];

    for (; h[0] && h[1]; h += 2) {
        unsigned v;

        ck_assert_int_eq(sscanf(h, "%2x", &v), 1);
        o.atr[o.atr_len++] = (uint8_t)v;
    }
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = &o });
    mt_find_slots();
    ck_assert(fx.has_auth && fx.has_sign);
    s = mt_session(mt_slot(MT_AUTH));
    ck_assert_uint_eq(mt_find_class(s, CKO_CERTIFICATE, keys, 4), 2);
}
END_TEST

START_TEST(test_two_tokens_per_card)
{
    CK_TOKEN_INFO a, s;

    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
    ck_assert(fx.has_auth);
    ck_assert(fx.has_sign);
    ck_assert_uint_ne(fx.auth_slot, fx.sign_slot);
    a = mt_token_info(fx.auth_slot);
    s = mt_token_info(fx.sign_slot);
    ck_assert_uint_eq(a.ulMinPinLen, 4);
    ck_assert_uint_eq(a.ulMaxPinLen, 4);
    ck_assert_uint_eq(s.ulMinPinLen, 6);
    ck_assert_uint_eq(s.ulMaxPinLen, 16);
}
END_TEST

START_TEST(test_token_labels)
{
    static const char *const auth_words[] = { "Auth", "auth", "AUTH",
                                              "認証", "利用者証明", NULL };
    static const char *const sign_words[] = { "Sign", "sign", "SIGN",
                                              "署名", NULL };
    CK_TOKEN_INFO a = mt_token_info(mt_slot(MT_AUTH));
    CK_TOKEN_INFO s = mt_token_info(mt_slot(MT_SIGN));
    char la[40], ls[40];

    ck_assert(mt_padded(a.label, sizeof(a.label)));
    ck_assert(mt_padded(s.label, sizeof(s.label)));
    mt_unpad(a.label, sizeof(a.label), la, sizeof(la));
    mt_unpad(s.label, sizeof(s.label), ls, sizeof(ls));
    ck_assert_str_ne(la, ls);
    /* A person can tell which is which. */
    ck_assert_msg(contains_any(la, auth_words),
                  "authentication token label \"%s\"", la);
    ck_assert_msg(contains_any(ls, sign_words),
                  "signature token label \"%s\"", ls);
    ck_assert_msg(!contains_any(la, sign_words), "auth label \"%s\"", la);
}
END_TEST

START_TEST(test_token_flags)
{
    const CK_FLAGS want = CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED |
                          CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED |
                          CKF_RNG;
    const CK_FLAGS never = CKF_PROTECTED_AUTHENTICATION_PATH |
                           CKF_SO_PIN_LOCKED | CKF_USER_PIN_LOCKED |
                           CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW |
                           CKF_USER_PIN_TO_BE_CHANGED;

    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_TOKEN_INFO ti = mt_token_info(mt_slot(r));

        ck_assert_msg((ti.flags & want) == want,
                      "token %d flags 0x%lx lack 0x%lx", r,
                      (unsigned long)ti.flags,
                      (unsigned long)(want & ~ti.flags));
        ck_assert_msg((ti.flags & never) == 0,
                      "fresh token %d flags 0x%lx", r,
                      (unsigned long)ti.flags);
    }
}
END_TEST

START_TEST(test_token_strings)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_TOKEN_INFO ti = mt_token_info(mt_slot(r));
        char serial[20];
        bool zeros = true;

        ck_assert(mt_padded(ti.manufacturerID, sizeof(ti.manufacturerID)));
        ck_assert(mt_padded(ti.model, sizeof(ti.model)));
        ck_assert(mt_padded(ti.serialNumber, sizeof(ti.serialNumber)));
        mt_unpad(ti.serialNumber, sizeof(ti.serialNumber), serial,
                 sizeof(serial));
        for (const char *p = serial; *p; p++)
            if (*p != '0')
                zeros = false;
        ck_assert_msg(!zeros, "dummy serial number \"%s\"", serial);
    }
}
END_TEST

START_TEST(test_serial_stable_across_reinit)
{
    CK_TOKEN_INFO a1 = mt_token_info(mt_slot(MT_AUTH));
    CK_TOKEN_INFO s1 = mt_token_info(mt_slot(MT_SIGN));
    CK_TOKEN_INFO a2, s2;

    mt_reinit(MYNACARD_VARIANT_BOTH);
    a2 = mt_token_info(mt_slot(MT_AUTH));
    s2 = mt_token_info(mt_slot(MT_SIGN));
    ck_assert_mem_eq(a1.serialNumber, a2.serialNumber, sizeof(a1.serialNumber));
    ck_assert_mem_eq(s1.serialNumber, s2.serialNumber, sizeof(s1.serialNumber));
    ck_assert_mem_eq(a1.label, a2.label, sizeof(a1.label));
    /* The two tokens of one card have serials of their own, so that a
     * pkcs11: URI with serial= names one token. */
    ck_assert_msg(memcmp(a1.serialNumber, s1.serialNumber,
                         sizeof(a1.serialNumber)) != 0,
                  "both tokens of the card have one serial");
}
END_TEST

START_TEST(test_serial_differs_between_cards)
{
    CK_TOKEN_INFO a1 = mt_token_info(mt_slot(MT_AUTH));
    CK_TOKEN_INFO s1 = mt_token_info(mt_slot(MT_SIGN));
    CK_TOKEN_INFO a2, s2;

    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .tmpl = 1 });
    a2 = mt_token_info(mt_slot(MT_AUTH));
    s2 = mt_token_info(mt_slot(MT_SIGN));
    ck_assert_msg(memcmp(a1.serialNumber, a2.serialNumber,
                         sizeof(a1.serialNumber)) != 0,
                  "two cards, one authentication token serial");
    ck_assert_msg(memcmp(s1.serialNumber, s2.serialNumber,
                         sizeof(s1.serialNumber)) != 0,
                  "two cards, one signature token serial");
}
END_TEST

START_TEST(test_slot_info)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SLOT_INFO si;

        ck_assert_rv(fx.f->C_GetSlotInfo(mt_slot(r), &si), CKR_OK);
        ck_assert(si.flags & CKF_TOKEN_PRESENT);
        ck_assert(si.flags & CKF_REMOVABLE_DEVICE);
        ck_assert(mt_padded(si.slotDescription, sizeof(si.slotDescription)));
        ck_assert(mt_padded(si.manufacturerID, sizeof(si.manufacturerID)));
    }
    ck_assert_rv(fx.f->C_GetSlotInfo(mt_slot(MT_AUTH), NULL),
                 CKR_ARGUMENTS_BAD);
}
END_TEST

START_TEST(test_invalid_slot)
{
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_SESSION_HANDLE s;
    CK_SLOT_ID bad = 0x7FFF1234;

    ck_assert_rv(fx.f->C_GetSlotInfo(bad, &si), CKR_SLOT_ID_INVALID);
    ck_assert_rv(fx.f->C_GetTokenInfo(bad, &ti), CKR_SLOT_ID_INVALID);
    ck_assert_rv(fx.f->C_OpenSession(bad, CKF_SERIAL_SESSION, NULL, NULL, &s),
                 CKR_SLOT_ID_INVALID);
}
END_TEST

START_TEST(test_slot_list_buffer_too_small)
{
    CK_SLOT_ID slots[4];
    CK_ULONG n = 1;

    ck_assert_rv(fx.f->C_GetSlotList(CK_TRUE, slots, &n),
                 CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 2);
    ck_assert_rv(fx.f->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD);
    n = 4;
    ck_assert_rv(fx.f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_variant_auth_only)
{
    mt_reinit(MYNACARD_VARIANT_AUTH_ONLY);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 1);
    ck_assert(fx.has_auth);
    ck_assert(!fx.has_sign);
}
END_TEST

START_TEST(test_variant_sign_only)
{
    mt_reinit(MYNACARD_VARIANT_SIGN_ONLY);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 1);
    ck_assert(!fx.has_auth);
    ck_assert(fx.has_sign);
}
END_TEST

/* Firefox polls C_GetSlotInfo and C_GetTokenInfo every few seconds. */
START_TEST(test_polls_send_no_apdu)
{
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_ULONG n;
    unsigned long before;

    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        ck_assert_rv(fx.f->C_GetSlotInfo(mt_slot(r), &si), CKR_OK);
        ck_assert_rv(fx.f->C_GetTokenInfo(mt_slot(r), &ti), CKR_OK);
    }
    before = mt_apdus();
    for (int i = 0; i < 20; i++) {
        for (int r = MT_AUTH; r <= MT_SIGN; r++) {
            ck_assert_rv(fx.f->C_GetSlotInfo(mt_slot(r), &si), CKR_OK);
            ck_assert_rv(fx.f->C_GetTokenInfo(mt_slot(r), &ti), CKR_OK);
        }
        n = 0;
        ck_assert_rv(fx.f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
    }
    ck_assert_uint_eq(mt_apdus(), before);
}
END_TEST

START_TEST(test_slot_list_shows_present_cards)
{
    CK_ULONG all = mt_slot_count(CK_FALSE);
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;

    ck_assert_uint_ge(all, 2);
    mt_remove();
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 0);
    /* The readers' slots stay, without a token. */
    ck_assert_uint_eq(mt_slot_count(CK_FALSE), all);
    ck_assert_rv(fx.f->C_GetSlotInfo(fx.auth_slot, &si), CKR_OK);
    ck_assert(!(si.flags & CKF_TOKEN_PRESENT));
    ck_assert_rv(fx.f->C_GetTokenInfo(fx.auth_slot, &ti),
                 CKR_TOKEN_NOT_PRESENT);

    mt_insert(0);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
    ck_assert_uint_eq(mt_slot_count(CK_FALSE), all);
    ck_assert_rv(fx.f->C_GetSlotInfo(fx.auth_slot, &si), CKR_OK);
    ck_assert(si.flags & CKF_TOKEN_PRESENT);
    mt_find_slots();
    ck_assert(fx.has_auth && fx.has_sign);
}
END_TEST

/* Poll C_WaitForSlotEvent(CKF_DONT_BLOCK) for up to @ms: the module may
 * learn of a change from a watcher thread a moment later. */
static CK_RV poll_event(CK_SLOT_ID *slot, unsigned ms)
{
    CK_RV rv;

    for (unsigned t = 0;; t += 10) {
        rv = fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, slot, NULL);
        if (rv != CKR_NO_EVENT || t >= ms)
            return rv;
        mt_sleep_ms(10);
    }
}

/* Take every pending event; each must name one of @set. */
static void drain_events(const CK_SLOT_ID *set, size_t n)
{
    CK_SLOT_ID slot;
    CK_RV rv;
    int i;

    for (i = 0; i < 8; i++) {
        rv = fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
        if (rv == CKR_NO_EVENT)
            break;
        ck_assert_rv(rv, CKR_OK);
        ck_assert(n == 2 && (slot == set[0] || slot == set[1]));
    }
    ck_assert_msg(i < 8, "events never stop");
}

START_TEST(test_wait_dont_block_no_event)
{
    CK_SLOT_ID slot;

    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
                 CKR_NO_EVENT);
    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL),
                 CKR_ARGUMENTS_BAD);
    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
                 CKR_NO_EVENT);
}
END_TEST

START_TEST(test_wait_dont_block_removal_and_insertion)
{
    CK_SLOT_ID mine[2] = { fx.auth_slot, fx.sign_slot };
    CK_SLOT_ID slot = (CK_SLOT_ID)-1;

    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
                 CKR_NO_EVENT);
    mt_remove();
    ck_assert_rv(poll_event(&slot, 3000), CKR_OK);
    ck_assert(slot == mine[0] || slot == mine[1]);
    drain_events(mine, 2);

    mt_insert(0);
    slot = (CK_SLOT_ID)-1;
    ck_assert_rv(poll_event(&slot, 3000), CKR_OK);
    ck_assert(slot == mine[0] || slot == mine[1]);
    drain_events(mine, 2);
    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
                 CKR_NO_EVENT);
}
END_TEST

static void open_empty(void)
{
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .empty = true });
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 0);
    /* An empty reader still has its slots, so that applications that
     * read the slot list once see a card inserted later. */
    ck_assert_uint_eq(mt_slot_count(CK_FALSE), 2);
}

static bool slot_present(CK_SLOT_ID slot)
{
    CK_SLOT_INFO si;

    return fx.f->C_GetSlotInfo(slot, &si) == CKR_OK &&
           (si.flags & CKF_TOKEN_PRESENT);
}

START_TEST(test_wait_insertion_returns_slot)
{
    CK_SLOT_ID slot = (CK_SLOT_ID)-1;

    open_empty();
    ck_assert_rv(fx.f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
                 CKR_NO_EVENT);
    mt_insert(0);
    ck_assert_rv(poll_event(&slot, 3000), CKR_OK);
    ck_assert_msg(slot_present(slot), "event for slot %lu, which is empty",
                  (unsigned long)slot);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
}
END_TEST

struct waiter {
    CK_FLAGS flags;
    CK_RV rv;
    CK_SLOT_ID slot;
    atomic_bool done;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;

    w->rv = fx.f->C_WaitForSlotEvent(w->flags, &w->slot, NULL);
    atomic_store(&w->done, true);
    return NULL;
}

static bool wait_done(struct waiter *w, unsigned ms)
{
    for (unsigned t = 0; t < ms && !atomic_load(&w->done); t += 10)
        mt_sleep_ms(10);
    return atomic_load(&w->done);
}

START_TEST(test_wait_blocking_woken_by_insertion)
{
    struct waiter w = { .flags = 0, .slot = (CK_SLOT_ID)-1 };
    pthread_t th;

    open_empty();
    ck_assert_int_eq(pthread_create(&th, NULL, wait_thread, &w), 0);
    mt_sleep_ms(300);
    ck_assert_msg(!atomic_load(&w.done),
                  "C_WaitForSlotEvent did not block (0x%lx)",
                  (unsigned long)w.rv);
    mt_insert(0);
    ck_assert_msg(wait_done(&w, 10000), "the insertion did not wake it");
    pthread_join(th, NULL);
    ck_assert_rv(w.rv, CKR_OK);
    ck_assert(slot_present(w.slot));
}
END_TEST

START_TEST(test_wait_blocking_woken_by_finalize)
{
    struct waiter w = { .flags = 0, .slot = (CK_SLOT_ID)-1 };
    pthread_t th;

    ck_assert_int_eq(pthread_create(&th, NULL, wait_thread, &w), 0);
    mt_sleep_ms(300);
    ck_assert_msg(!atomic_load(&w.done),
                  "C_WaitForSlotEvent did not block (0x%lx)",
                  (unsigned long)w.rv);
    ck_assert_rv(fx.f->C_Finalize(NULL), CKR_OK);
    fx.initialized = false;
    ck_assert_msg(wait_done(&w, 10000), "C_Finalize did not wake it");
    pthread_join(th, NULL);
    ck_assert_rv(w.rv, CKR_CRYPTOKI_NOT_INITIALIZED);
}
END_TEST

static void assert_session_gone(CK_SESSION_HANDLE s, const char *when)
{
    CK_SESSION_INFO si;
    CK_RV rv;

    rv = fx.f->C_GetSessionInfo(s, &si);
    ck_assert_msg(MT_RV_IN(rv, CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED),
                  "%s: C_GetSessionInfo 0x%lx", when, (unsigned long)rv);
    rv = fx.f->C_FindObjectsInit(s, NULL, 0);
    ck_assert_msg(MT_RV_IN(rv, CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED),
                  "%s: C_FindObjectsInit 0x%lx", when, (unsigned long)rv);
    rv = fx.f->C_Logout(s);
    ck_assert_msg(MT_RV_IN(rv, CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED),
                  "%s: C_Logout 0x%lx", when, (unsigned long)rv);
}

START_TEST(test_old_sessions_fail_after_removal)
{
    CK_SESSION_HANDLE sa = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE ss = mt_session(mt_slot(MT_SIGN));
    CK_SESSION_HANDLE fresh;
    CK_SESSION_INFO info;

    mt_remove();
    assert_session_gone(sa, "removed");
    assert_session_gone(ss, "removed");
    mt_insert(0);
    ck_assert_uint_eq(mt_slot_count(CK_TRUE), 2);
    assert_session_gone(sa, "re-inserted");
    assert_session_gone(ss, "re-inserted");

    /* A new session works, and starts logged out. */
    mt_find_slots();
    fresh = mt_session(mt_slot(MT_AUTH));
    ck_assert_uint_ne(fresh, sa);
    ck_assert_rv(fx.f->C_GetSessionInfo(fresh, &info), CKR_OK);
    ck_assert_uint_eq(info.state, CKS_RO_PUBLIC_SESSION);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "slots", true);

    tcase_add_test(tc, test_two_tokens_per_card);
    tcase_add_loop_test(tc, test_real_atrs, 0, 9);
    check_add_tests(tc, test_token_labels, test_token_flags, test_token_strings,
                    test_serial_stable_across_reinit, test_slot_info,
                    test_invalid_slot, test_slot_list_buffer_too_small,
                    test_variant_auth_only, test_variant_sign_only,
                    test_polls_send_no_apdu);

    tc = mt_tcase(s, "events", true);
    check_add_tests(
        tc, test_slot_list_shows_present_cards, test_wait_dont_block_no_event,
        test_wait_dont_block_removal_and_insertion,
        test_wait_insertion_returns_slot, test_wait_blocking_woken_by_insertion,
        test_wait_blocking_woken_by_finalize,
        test_old_sessions_fail_after_removal);

    tc = mt_tcase2(s, "two-cards", true);
    tcase_add_test(tc, test_serial_differs_between_cards);
}
