/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: threads.  Eight threads, each with its own
 * session, sign on both tokens of one card at once (100 signatures, every
 * one verified with OpenSSL), and eight threads mix every kind of call;
 * the spy in front of the virtual card checks that no two APDUs were ever
 * in flight together, and the virtual card (with a per-APDU latency to
 * widen the windows) answers errors if SELECT and COMPUTE DIGITAL
 * SIGNATURE of the two keys interleave.  Sixteen threads with four
 * sessions each, two per token, sign, search, read and close and reopen
 * sessions at once while both tokens stay logged in.  Drives the module
 * only through C_GetFunctionList.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char check_suite_name[] = "module-threads";

#define NTHREADS 8
#define NSIGS 100

static const CK_MECHANISM_TYPE six[6] = {
    CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS
};

struct worker {
    pthread_t th;
    int id;
    enum mt_role role;
    int todo;
    const unsigned char *cert;  /* the certificate from CKA_VALUE */
    size_t cert_len;
    int signed_ok, verified;
    CK_RV first_error;
    char where[64];
};

static void note_failure(struct worker *w, CK_RV rv, const char *where)
{
    if (w->first_error == CKR_OK) {
        w->first_error = rv == CKR_OK ? CKR_GENERAL_ERROR : rv;
        snprintf(w->where, sizeof(w->where), "%s", where);
    }
}

static void setup_latency(void)
{
    struct emu_options opt;

    memset(&opt, 0, sizeof(opt));
    opt.latency_apdu_us = 200;
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .emu = &opt });
}

static unsigned char *cert_value(enum mt_role r, CK_ULONG *len)
{
    CK_SESSION_HANDLE s = mt_session_login(r);
    CK_OBJECT_HANDLE h =
        mt_cert_obj(s, r == MT_AUTH ? MT_CERT_AUTH : MT_CERT_SIGN);

    return mt_attr(s, h, CKA_VALUE, len);
}

static void *sign_worker(void *arg)
{
    struct worker *w = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    CK_RV rv;

    rv = fx.f->C_OpenSession(mt_slot(w->role), CKF_SERIAL_SESSION, NULL, NULL,
                             &s);
    if (rv != CKR_OK) {
        note_failure(w, rv, "C_OpenSession");
        return NULL;
    }
    if ((rv = fx.f->C_FindObjectsInit(s, &t, 1)) != CKR_OK ||
        (rv = fx.f->C_FindObjects(s, &key, 1, &n)) != CKR_OK ||
        (rv = fx.f->C_FindObjectsFinal(s)) != CKR_OK || n != 1) {
        note_failure(w, rv, "finding the key");
        goto out;
    }
    for (int i = 0; i < w->todo; i++) {
        CK_MECHANISM_TYPE m = six[(w->id + i) % 6];
        unsigned char data[64], di[64], sig[MT_SIG_LEN];
        CK_ULONG siglen = sizeof(sig);
        const unsigned char *in = data;
        size_t inlen;

        inlen = (size_t)snprintf((char *)data, sizeof(data),
                                 "thread %d signature %d", w->id, i);
        if (m == CKM_RSA_PKCS) {
            inlen = mt_digest_info(data, inlen, di);
            in = di;
        }
        rv = mt_sign(s, key, m, in, inlen, sig, &siglen,
                     w->role == MT_SIGN ? MT_SIGN_PIN : NULL);
        if (rv != CKR_OK) {
            note_failure(w, rv, "signing");
            continue;
        }
        w->signed_ok++;
        if (mt_verify(w->cert, w->cert_len, m, in, inlen, sig, siglen))
            w->verified++;
        else
            note_failure(w, CKR_OK, "verifying");
    }
out:
    fx.f->C_CloseSession(s);
    return NULL;
}

START_TEST(test_threads_sign_both_tokens)
{
    struct worker w[NTHREADS];
    CK_ULONG alen = 0, slen = 0;
    unsigned char *acert, *scert;
    int total_ok = 0, total_verified = 0, todo = 0;

    setup_latency();
    /* Log in once per token; every session of the token shares it.  These
     * sessions stay open so that the login lasts. */
    acert = cert_value(MT_AUTH, &alen);
    scert = cert_value(MT_SIGN, &slen);
    memset(w, 0, sizeof(w));
    for (int i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].role = i % 2 ? MT_SIGN : MT_AUTH;
        w[i].todo = NSIGS / NTHREADS + (i < NSIGS % NTHREADS ? 1 : 0);
        w[i].cert = w[i].role == MT_AUTH ? acert : scert;
        w[i].cert_len = w[i].role == MT_AUTH ? alen : slen;
        todo += w[i].todo;
    }
    ck_assert_int_eq(todo, NSIGS);
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&w[i].th, NULL, sign_worker, &w[i]),
                         0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(w[i].th, NULL);
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].first_error == CKR_OK,
                      "thread %d (token %d): 0x%lx while %s", i, w[i].role,
                      (unsigned long)w[i].first_error, w[i].where);
        total_ok += w[i].signed_ok;
        total_verified += w[i].verified;
    }
    ck_assert_int_eq(total_ok, NSIGS);
    ck_assert_int_eq(total_verified, NSIGS);
    ck_assert_uint_eq(mt_spied(&fx.spy.overlaps), 0);
    ck_assert_uint_ge(mt_spied(&fx.spy.sign_cmds), NSIGS);
    /* No PIN was spent on the way. */
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    free(acert);
    free(scert);
}
END_TEST

/* Every kind of call at once: token info, object search and attributes,
 * random bytes, and signatures with the authentication key. */
static void *mixed_worker(void *arg)
{
    struct worker *w = arg;
    CK_SLOT_ID slot = mt_slot(w->role);
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_RV rv;

    rv = fx.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK) {
        note_failure(w, rv, "C_OpenSession");
        return NULL;
    }
    for (int i = 0; i < w->todo; i++) {
        CK_TOKEN_INFO ti;
        CK_OBJECT_HANDLE h[16];
        CK_ULONG n = 0;
        unsigned char rnd[48];

        if ((rv = fx.f->C_GetTokenInfo(slot, &ti)) != CKR_OK) {
            note_failure(w, rv, "C_GetTokenInfo");
            break;
        }
        if ((rv = fx.f->C_FindObjectsInit(s, NULL, 0)) != CKR_OK ||
            (rv = fx.f->C_FindObjects(s, h, 16, &n)) != CKR_OK ||
            (rv = fx.f->C_FindObjectsFinal(s)) != CKR_OK) {
            note_failure(w, rv, "C_FindObjects");
            break;
        }
        for (CK_ULONG k = 0; k < n; k++) {
            CK_ATTRIBUTE a = { CKA_LABEL, NULL, 0 };

            rv = fx.f->C_GetAttributeValue(s, h[k], &a, 1);
            if (rv != CKR_OK) {
                note_failure(w, rv, "C_GetAttributeValue");
                break;
            }
        }
        if ((rv = fx.f->C_GenerateRandom(s, rnd, sizeof(rnd))) != CKR_OK) {
            note_failure(w, rv, "C_GenerateRandom");
            break;
        }
        if (w->role == MT_AUTH) {
            CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
            CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
            CK_OBJECT_HANDLE key;
            unsigned char sig[MT_SIG_LEN];
            CK_ULONG siglen = sizeof(sig);

            if ((rv = fx.f->C_FindObjectsInit(s, &t, 1)) != CKR_OK ||
                (rv = fx.f->C_FindObjects(s, &key, 1, &n)) != CKR_OK ||
                (rv = fx.f->C_FindObjectsFinal(s)) != CKR_OK || n != 1) {
                note_failure(w, rv, "finding the key");
                break;
            }
            rv = mt_sign(s, key, CKM_SHA256_RSA_PKCS, rnd, sizeof(rnd), sig,
                         &siglen, NULL);
            if (rv != CKR_OK) {
                note_failure(w, rv, "signing");
                break;
            }
            if (mt_verify(w->cert, w->cert_len, CKM_SHA256_RSA_PKCS, rnd,
                          sizeof(rnd), sig, siglen))
                w->verified++;
            else
                note_failure(w, CKR_OK, "verifying");
        }
        w->signed_ok++;
    }
    fx.f->C_CloseSession(s);
    return NULL;
}

START_TEST(test_threads_mixed_calls)
{
    struct worker w[NTHREADS];
    CK_ULONG alen = 0;
    unsigned char *acert;

    setup_latency();
    acert = cert_value(MT_AUTH, &alen);
    memset(w, 0, sizeof(w));
    for (int i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].role = i % 2 ? MT_SIGN : MT_AUTH;
        w[i].todo = 10;
        w[i].cert = acert;
        w[i].cert_len = alen;
        ck_assert_int_eq(pthread_create(&w[i].th, NULL, mixed_worker, &w[i]),
                         0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(w[i].th, NULL);
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].first_error == CKR_OK,
                      "thread %d (token %d): 0x%lx while %s", i, w[i].role,
                      (unsigned long)w[i].first_error, w[i].where);
        ck_assert_int_eq(w[i].signed_ok, 10);
        if (w[i].role == MT_AUTH)
            ck_assert_int_eq(w[i].verified, 10);
    }
    ck_assert_uint_eq(mt_spied(&fx.spy.overlaps), 0);
    free(acert);
}
END_TEST

/* Sessions opened and closed from many threads while one stays logged
 * in: the login must last as long as one session is open. */
static void *session_worker(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < w->todo; i++) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        CK_SESSION_INFO info;
        CK_RV rv;

        rv = fx.f->C_OpenSession(mt_slot(w->role), CKF_SERIAL_SESSION, NULL,
                                 NULL, &s);
        if (rv != CKR_OK) {
            note_failure(w, rv, "C_OpenSession");
            break;
        }
        rv = fx.f->C_GetSessionInfo(s, &info);
        if (rv != CKR_OK || info.state != CKS_RO_USER_FUNCTIONS)
            note_failure(w, rv, "session not logged in");
        rv = fx.f->C_CloseSession(s);
        if (rv != CKR_OK) {
            note_failure(w, rv, "C_CloseSession");
            break;
        }
        w->signed_ok++;
    }
    return NULL;
}

START_TEST(test_threads_sessions_keep_login)
{
    struct worker w[NTHREADS];
    CK_SESSION_HANDLE keep = mt_session_login(MT_AUTH);
    CK_SESSION_INFO info;

    memset(w, 0, sizeof(w));
    for (int i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].role = MT_AUTH;
        w[i].todo = 50;
        ck_assert_int_eq(pthread_create(&w[i].th, NULL, session_worker, &w[i]),
                         0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(w[i].th, NULL);
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_msg(w[i].first_error == CKR_OK, "thread %d: 0x%lx while %s",
                      i, (unsigned long)w[i].first_error, w[i].where);
        ck_assert_int_eq(w[i].signed_ok, 50);
    }
    ck_assert_rv(fx.f->C_GetSessionInfo(keep, &info), CKR_OK);
    ck_assert_uint_eq(info.state, CKS_RO_USER_FUNCTIONS);
}
END_TEST

/* ---- Many threads, many sessions of both tokens ---- */

#define NMANY 16
#define PER_THREAD 4            /* sessions: auth, sign, auth, sign */
#define MANY_ROUNDS 6

static CK_OBJECT_HANDLE many_key[2];   /* each token's private key */

static CK_RV many_round(CK_SESSION_HANDLE s, enum mt_role role, int i,
                        int *signed_n)
{
    CK_MECHANISM mech = { six[i % 6] == CKM_RSA_PKCS ? CKM_SHA256_RSA_PKCS
                                                     : six[i % 6], NULL, 0 };
    CK_OBJECT_HANDLE h[16];
    CK_SESSION_INFO si;
    CK_ULONG n = 0, len = MT_SIG_LEN;
    unsigned char sig[MT_SIG_LEN], rnd[16];
    CK_RV rv;

    if ((rv = fx.f->C_GetSessionInfo(s, &si)) != CKR_OK)
        return rv;
    /* Each token stays logged in: another session holds the login. */
    if (si.state != CKS_RO_USER_FUNCTIONS)
        return CKR_USER_NOT_LOGGED_IN;
    if ((rv = fx.f->C_FindObjectsInit(s, NULL, 0)) != CKR_OK ||
        (rv = fx.f->C_FindObjects(s, h, 16, &n)) != CKR_OK ||
        (rv = fx.f->C_FindObjectsFinal(s)) != CKR_OK)
        return rv;
    if (n < 3)
        return CKR_GENERAL_ERROR;
    if ((rv = fx.f->C_GenerateRandom(s, rnd, sizeof(rnd))) != CKR_OK)
        return rv;
    /* The authentication key signs in every round, the signature key
     * (a password each time) in one round in three. */
    if (role == MT_SIGN && i % 3 != 0)
        return CKR_OK;
    rv = mt_sign(s, many_key[role], mech.mechanism, rnd, sizeof(rnd), sig,
                 &len, role == MT_SIGN ? MT_SIGN_PIN : NULL);
    if (rv == CKR_OK)
        (*signed_n)++;
    return rv;
}

static void *many_worker(void *arg)
{
    struct worker *w = arg;
    CK_SESSION_HANDLE s[PER_THREAD];
    CK_RV rv;

    for (int k = 0; k < PER_THREAD; k++) {
        rv = fx.f->C_OpenSession(mt_slot(k % 2 ? MT_SIGN : MT_AUTH),
                                 CKF_SERIAL_SESSION, NULL, NULL, &s[k]);
        if (rv != CKR_OK) {
            note_failure(w, rv, "C_OpenSession");
            return NULL;
        }
    }
    for (int i = 0; i < MANY_ROUNDS && w->first_error == CKR_OK; i++) {
        for (int k = 0; k < PER_THREAD; k++) {
            enum mt_role role = k % 2 ? MT_SIGN : MT_AUTH;

            rv = many_round(s[k], role, w->id + i, &w->signed_ok);
            if (rv != CKR_OK) {
                note_failure(w, rv, role == MT_SIGN ? "sign token round"
                                                    : "auth token round");
                break;
            }
        }
        /* One session closed and opened again each round: never the
         * last of its token, so the login stays. */
        if (w->first_error == CKR_OK) {
            int k = i % PER_THREAD;

            if ((rv = fx.f->C_CloseSession(s[k])) != CKR_OK ||
                (rv = fx.f->C_OpenSession(mt_slot(k % 2 ? MT_SIGN : MT_AUTH),
                                          CKF_SERIAL_SESSION, NULL, NULL,
                                          &s[k])) != CKR_OK)
                note_failure(w, rv, "closing and reopening");
        }
    }
    for (int k = 0; k < PER_THREAD; k++)
        fx.f->C_CloseSession(s[k]);
    return NULL;
}

START_TEST(test_threads_many_sessions_both_tokens)
{
    struct worker w[NMANY];
    CK_SESSION_HANDLE keep_auth, keep_sign;
    int total = 0;

    setup_latency();
    keep_auth = mt_session_login(MT_AUTH);
    keep_sign = mt_session_login(MT_SIGN);
    many_key[MT_AUTH] = mt_one(keep_auth, CKO_PRIVATE_KEY);
    many_key[MT_SIGN] = mt_one(keep_sign, CKO_PRIVATE_KEY);
    memset(w, 0, sizeof(w));
    for (int i = 0; i < NMANY; i++) {
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&w[i].th, NULL, many_worker, &w[i]),
                         0);
    }
    for (int i = 0; i < NMANY; i++)
        pthread_join(w[i].th, NULL);
    for (int i = 0; i < NMANY; i++) {
        ck_assert_msg(w[i].first_error == CKR_OK, "thread %d: 0x%lx while %s",
                      i, (unsigned long)w[i].first_error, w[i].where);
        total += w[i].signed_ok;
    }
    /* Every round signed with the auth key in both of its sessions, and
     * with the sign key in one round in three. */
    ck_assert_int_ge(total, NMANY * MANY_ROUNDS * 2);
    ck_assert_uint_eq(mt_spied(&fx.spy.overlaps), 0);
    ck_assert_int_eq(mt_tries(MT_AUTH), 3);
    ck_assert_int_eq(mt_tries(MT_SIGN), 5);
    /* 64 sessions and more came and went; the two logins are intact. */
    ck_assert_uint_eq(mt_token_info(mt_slot(MT_AUTH)).ulSessionCount, 1);
    ck_assert_uint_eq(mt_token_info(mt_slot(MT_SIGN)).ulSessionCount, 1);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "threads", true);

    check_add_tests(tc, test_threads_sign_both_tokens, test_threads_mixed_calls,
                    test_threads_sessions_keep_login,
                    test_threads_many_sessions_both_tokens);
}
