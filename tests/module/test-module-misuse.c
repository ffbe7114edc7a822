/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: API misuse, table-driven.  Every C_* function
 * of the PKCS#11 2.40 list and of the 3.0 interface is called the wrong
 * way (NULL pointers, bad slot, session and object handles, a session of
 * the other token, the wrong order, short buffers) and must answer what
 * PKCS#11 2.40 (and 3.0 for its functions) says, and never crash.  A
 * second table calls every function with plausible arguments before
 * C_Initialize and after C_Finalize: CKR_CRYPTOKI_NOT_INITIALIZED from all
 * but the three that work without initialisation.  One Check loop test
 * per row (tcase_add_loop_test), each with a fresh copy of the virtual
 * card.  Drives the module only through C_GetFunctionList and
 * C_GetInterface.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char check_suite_name[] = "module-misuse";

#define F (fx.f)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define BAD_SLOT ((CK_SLOT_ID)4242)
#define BAD_SESSION ((CK_SESSION_HANDLE)0x5EED)
#define BAD_OBJECT ((CK_OBJECT_HANDLE)0x0B1EC7)

/* What every row may use: made by the checked fixture after mt_setup. */
static struct {
    struct mt_function_list_3_0 *f3;
    CK_SESSION_HANDLE sa, ss;        /* sessions of the auth, sign token */
    CK_SESSION_HANDLE closed;        /* a session closed again */
    CK_OBJECT_HANDLE cert, pub, priv; /* objects of the auth token */
} m;

static CK_MECHANISM sha256 = { CKM_SHA256_RSA_PKCS, NULL, 0 };
static CK_MECHANISM rsa_pkcs = { CKM_RSA_PKCS, NULL, 0 };

static struct mt_function_list_3_0 *list_3_0(void)
{
    CK_VERSION v = { 3, 0 };
    struct mt_interface *iface = NULL;

    ck_assert_rv(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &v, &iface, 0),
                 CKR_OK);
    return iface->pFunctionList;
}

/* After mt_setup: the two sessions, and the auth token's objects (its
 * private key is seen once while logged in, to learn its handle). */
static void misuse_setup(void)
{
    CK_SESSION_HANDLE tmp;

    memset(&m, 0, sizeof(m));
    m.f3 = list_3_0();
    m.sa = mt_session(mt_slot(MT_AUTH));
    m.ss = mt_session(mt_slot(MT_SIGN));
    tmp = mt_session(mt_slot(MT_AUTH));
    ck_assert_rv(F->C_CloseSession(tmp), CKR_OK);
    m.closed = tmp;
    m.cert = mt_cert_obj(m.sa, MT_CERT_AUTH);
    m.pub = mt_one(m.sa, CKO_PUBLIC_KEY);
    mt_login(m.sa, MT_AUTH_PIN);
    m.priv = mt_one(m.sa, CKO_PRIVATE_KEY);
    ck_assert_rv(F->C_Logout(m.sa), CKR_OK);
}

static void login_auth(void)
{
    mt_login(m.sa, MT_AUTH_PIN);
}

/* ---- The misuse rows ---- */

struct row {
    const char *name;
    CK_RV (*call)(void);
    CK_RV want;
};

/* A row that is a single expression. */
#define ONE(fn, expr) \
    static CK_RV fn(void) { return (expr); }

/* Library and slots. */
ONE(r_init_twice, F->C_Initialize(NULL))
static CK_RV r_init_reserved(void)
{
    CK_C_INITIALIZE_ARGS a;
    int dummy;

    mt_finalize();
    memset(&a, 0, sizeof(a));
    a.pReserved = &dummy;
    return F->C_Initialize(&a);
}
ONE(r_final_reserved, F->C_Finalize(&m))
ONE(r_info_null, F->C_GetInfo(NULL))
ONE(r_funclist_null, C_GetFunctionList(NULL))
ONE(r_iflist_null, C_GetInterfaceList(NULL, NULL))
static CK_RV r_iflist_short(void)
{
    struct mt_interface list[1];
    CK_ULONG n = 1;
    CK_RV rv = C_GetInterfaceList(list, &n);

    ck_assert_uint_eq(n, 2);       /* the count needed */
    return rv;
}
ONE(r_iface_null, C_GetInterface(NULL, NULL, NULL, 0))
static CK_RV r_iface_unknown(void)
{
    struct mt_interface *iface = (void *)&m;
    CK_RV rv = C_GetInterface((CK_UTF8CHAR *)"Vendor X", NULL, &iface, 0);

    ck_assert_ptr_null(iface);
    return rv;
}
ONE(r_slotlist_null, F->C_GetSlotList(CK_TRUE, NULL, NULL))
static CK_RV r_slotlist_short(void)
{
    CK_SLOT_ID ids[1] = { 0 };
    CK_ULONG n = 1;
    CK_RV rv = F->C_GetSlotList(CK_TRUE, ids, &n);

    ck_assert_uint_eq(n, 2);
    return rv;
}
static CK_RV r_slotlist_zero(void)
{
    CK_SLOT_ID ids[1] = { 0 };
    CK_ULONG n = 0;
    CK_RV rv = F->C_GetSlotList(CK_FALSE, ids, &n);

    ck_assert_uint_eq(n, 2);
    return rv;
}
ONE(r_slotinfo_bad, F->C_GetSlotInfo(BAD_SLOT, &(CK_SLOT_INFO){ 0 }))
ONE(r_slotinfo_null, F->C_GetSlotInfo(mt_slot(MT_AUTH), NULL))
ONE(r_tokeninfo_bad, F->C_GetTokenInfo(BAD_SLOT, &(CK_TOKEN_INFO){ 0 }))
ONE(r_tokeninfo_null, F->C_GetTokenInfo(mt_slot(MT_SIGN), NULL))
ONE(r_wait_null, F->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL))
ONE(r_wait_reserved, F->C_WaitForSlotEvent(CKF_DONT_BLOCK,
                                           &(CK_SLOT_ID){ 0 }, &m))
ONE(r_wait_none, F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &(CK_SLOT_ID){ 0 },
                                       NULL))
ONE(r_mechlist_bad, F->C_GetMechanismList(BAD_SLOT, NULL, &(CK_ULONG){ 0 }))
ONE(r_mechlist_null, F->C_GetMechanismList(mt_slot(MT_AUTH), NULL, NULL))
static CK_RV r_mechlist_short(void)
{
    CK_MECHANISM_TYPE t[2];
    CK_ULONG n = 2;
    CK_RV rv = F->C_GetMechanismList(mt_slot(MT_AUTH), t, &n);

    ck_assert_uint_eq(n, 6);
    return rv;
}
ONE(r_mechinfo_bad, F->C_GetMechanismInfo(BAD_SLOT, CKM_RSA_PKCS,
                                          &(CK_MECHANISM_INFO){ 0 }))
ONE(r_mechinfo_null, F->C_GetMechanismInfo(mt_slot(MT_AUTH), CKM_RSA_PKCS,
                                           NULL))
ONE(r_mechinfo_pss, F->C_GetMechanismInfo(mt_slot(MT_AUTH), CKM_RSA_PKCS_PSS,
                                          &(CK_MECHANISM_INFO){ 0 }))
ONE(r_inittoken, F->C_InitToken(mt_slot(MT_AUTH), (CK_UTF8CHAR *)"1234", 4,
                                (CK_UTF8CHAR *)"label"))
ONE(r_initpin, F->C_InitPIN(m.sa, (CK_UTF8CHAR *)"1234", 4))
ONE(r_setpin_bad, F->C_SetPIN(BAD_SESSION, (CK_UTF8CHAR *)"1234", 4,
                              (CK_UTF8CHAR *)"4321", 4))
ONE(r_setpin_null_old, F->C_SetPIN(m.sa, NULL, 4, (CK_UTF8CHAR *)"4321", 4))
ONE(r_setpin_null_new, F->C_SetPIN(m.sa, (CK_UTF8CHAR *)"1234", 4, NULL, 4))

/* Sessions. */
ONE(r_open_bad_slot, F->C_OpenSession(BAD_SLOT, CKF_SERIAL_SESSION, NULL,
                                      NULL, &(CK_SESSION_HANDLE){ 0 }))
ONE(r_open_null, F->C_OpenSession(mt_slot(MT_AUTH), CKF_SERIAL_SESSION, NULL,
                                  NULL, NULL))
ONE(r_open_parallel, F->C_OpenSession(mt_slot(MT_AUTH), 0, NULL, NULL,
                                      &(CK_SESSION_HANDLE){ 0 }))
ONE(r_close_bad, F->C_CloseSession(BAD_SESSION))
ONE(r_close_zero, F->C_CloseSession(CK_INVALID_HANDLE))
ONE(r_close_twice, F->C_CloseSession(m.closed))
ONE(r_closeall_bad, F->C_CloseAllSessions(BAD_SLOT))
static CK_RV r_closeall_other_token(void)
{
    CK_SESSION_INFO si;
    CK_RV rv = F->C_CloseAllSessions(mt_slot(MT_SIGN));

    /* The auth token's session is untouched; the sign token's is gone. */
    ck_assert_rv(F->C_GetSessionInfo(m.sa, &si), CKR_OK);
    ck_assert_rv(F->C_GetSessionInfo(m.ss, &si), CKR_SESSION_HANDLE_INVALID);
    return rv;
}
ONE(r_sinfo_bad, F->C_GetSessionInfo(BAD_SESSION, &(CK_SESSION_INFO){ 0 }))
ONE(r_sinfo_null, F->C_GetSessionInfo(m.sa, NULL))
ONE(r_sinfo_closed, F->C_GetSessionInfo(m.closed, &(CK_SESSION_INFO){ 0 }))
ONE(r_getopstate, F->C_GetOperationState(m.sa, NULL, &(CK_ULONG){ 0 }))
ONE(r_setopstate, F->C_SetOperationState(m.sa, (CK_BYTE *)"x", 1, 0, 0))
ONE(r_funcstatus, F->C_GetFunctionStatus(m.sa))
ONE(r_cancelfunc, F->C_CancelFunction(m.sa))

/* Login. */
ONE(r_login_bad, F->C_Login(BAD_SESSION, CKU_USER, (CK_UTF8CHAR *)"1234", 4))
ONE(r_login_closed, F->C_Login(m.closed, CKU_USER, (CK_UTF8CHAR *)"1234", 4))
ONE(r_login_null_pin, F->C_Login(m.sa, CKU_USER, NULL, 4))
ONE(r_login_bad_type, F->C_Login(m.sa, 77, (CK_UTF8CHAR *)"1234", 4))
ONE(r_login_so, F->C_Login(m.sa, CKU_SO, (CK_UTF8CHAR *)"1234", 4))
static CK_RV r_login_twice(void)
{
    login_auth();
    return F->C_Login(m.sa, CKU_USER, (CK_UTF8CHAR *)"1234", 4);
}
static CK_RV r_login_other_session(void)
{
    CK_SESSION_HANDLE s2 = mt_session(mt_slot(MT_AUTH));

    /* The login is the token's: a second session of it is logged in. */
    login_auth();
    return F->C_Login(s2, CKU_USER, (CK_UTF8CHAR *)"1234", 4);
}
static CK_RV r_login_tokens_apart(void)
{
    CK_SESSION_INFO si;
    CK_RV rv;

    /* Logging in one token does not log in the other. */
    login_auth();
    ck_assert_rv(F->C_GetSessionInfo(m.ss, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RO_PUBLIC_SESSION);
    rv = F->C_Logout(m.ss);
    ck_assert_rv(F->C_GetSessionInfo(m.sa, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RO_USER_FUNCTIONS);
    return rv;
}
ONE(r_login_context_no_op, F->C_Login(m.sa, CKU_CONTEXT_SPECIFIC,
                                      (CK_UTF8CHAR *)"1234", 4))
ONE(r_logout_bad, F->C_Logout(BAD_SESSION))
ONE(r_logout_not_in, F->C_Logout(m.sa))
static CK_RV r_logout_twice(void)
{
    login_auth();
    ck_assert_rv(F->C_Logout(m.sa), CKR_OK);
    return F->C_Logout(m.sa);
}
ONE(r_loginuser_bad, m.f3->C_LoginUser(BAD_SESSION, CKU_USER,
                                       (CK_UTF8CHAR *)"1234", 4,
                                       (CK_UTF8CHAR *)"me", 2))
ONE(r_loginuser_null, m.f3->C_LoginUser(m.sa, CKU_USER, NULL, 4,
                                        (CK_UTF8CHAR *)"me", 2))

/* Objects. */
static CK_ATTRIBUTE one_attr = { CKA_LABEL, NULL, 0 };
ONE(r_create_bad, F->C_CreateObject(BAD_SESSION, &one_attr, 1,
                                    &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_create_null, F->C_CreateObject(m.sa, &one_attr, 1, NULL))
ONE(r_create_null_tmpl, F->C_CreateObject(m.sa, NULL, 1,
                                          &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_create_ro, F->C_CreateObject(m.sa, &one_attr, 1,
                                   &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_copy_bad_obj, F->C_CopyObject(m.sa, BAD_OBJECT, NULL, 0,
                                    &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_copy_null, F->C_CopyObject(m.sa, m.cert, NULL, 0, NULL))
ONE(r_destroy_bad_session, F->C_DestroyObject(BAD_SESSION, m.cert))
ONE(r_destroy_bad_obj, F->C_DestroyObject(m.sa, BAD_OBJECT))
ONE(r_destroy_other_token, F->C_DestroyObject(m.ss, m.cert))
ONE(r_destroy_ro, F->C_DestroyObject(m.sa, m.cert))
ONE(r_size_null, F->C_GetObjectSize(m.sa, m.cert, NULL))
ONE(r_size_bad_obj, F->C_GetObjectSize(m.sa, BAD_OBJECT, &(CK_ULONG){ 0 }))
ONE(r_size_bad_session, F->C_GetObjectSize(BAD_SESSION, m.cert,
                                           &(CK_ULONG){ 0 }))
ONE(r_getattr_null, F->C_GetAttributeValue(m.sa, m.cert, NULL, 1))
ONE(r_getattr_bad_session, F->C_GetAttributeValue(BAD_SESSION, m.cert,
                                                  &one_attr, 1))
ONE(r_getattr_bad_obj, F->C_GetAttributeValue(m.sa, BAD_OBJECT, &one_attr, 1))
ONE(r_getattr_other_token, F->C_GetAttributeValue(m.ss, m.cert, &one_attr, 1))
ONE(r_getattr_private_logged_out, F->C_GetAttributeValue(m.sa, m.priv,
                                                         &one_attr, 1))
static CK_RV r_getattr_short(void)
{
    unsigned char buf[4];
    CK_ATTRIBUTE a = { CKA_VALUE, buf, sizeof(buf) };
    CK_RV rv = F->C_GetAttributeValue(m.sa, m.cert, &a, 1);

    ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    return rv;
}
static CK_RV r_getattr_unknown(void)
{
    unsigned char buf[64];
    CK_ATTRIBUTE a[2] = { { 0x7FFF0001UL, buf, sizeof(buf) },
                          { CKA_LABEL, NULL, 0 } };
    CK_RV rv = F->C_GetAttributeValue(m.sa, m.cert, a, 2);

    /* 2.40 5.7: the other attributes are still answered. */
    ck_assert_uint_eq(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_ne(a[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_gt(a[1].ulValueLen, 0);
    return rv;
}
static CK_RV r_getattr_sensitive(void)
{
    unsigned char buf[512];
    CK_ATTRIBUTE a = { CKA_PRIVATE_EXPONENT, buf, sizeof(buf) };
    CK_RV rv;

    login_auth();
    rv = F->C_GetAttributeValue(m.sa, m.priv, &a, 1);
    ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    return rv;
}
ONE(r_setattr_bad_obj, F->C_SetAttributeValue(m.sa, BAD_OBJECT, &one_attr, 1))
ONE(r_setattr_null, F->C_SetAttributeValue(m.sa, m.cert, NULL, 1))
ONE(r_setattr_ro, F->C_SetAttributeValue(m.sa, m.cert, &one_attr, 1))
ONE(r_findinit_bad, F->C_FindObjectsInit(BAD_SESSION, NULL, 0))
ONE(r_findinit_null, F->C_FindObjectsInit(m.sa, NULL, 1))
static CK_RV r_findinit_twice(void)
{
    ck_assert_rv(F->C_FindObjectsInit(m.sa, NULL, 0), CKR_OK);
    return F->C_FindObjectsInit(m.sa, NULL, 0);
}
ONE(r_find_no_init, F->C_FindObjects(m.sa, &(CK_OBJECT_HANDLE){ 0 }, 1,
                                     &(CK_ULONG){ 0 }))
static CK_RV r_find_null_count(void)
{
    ck_assert_rv(F->C_FindObjectsInit(m.sa, NULL, 0), CKR_OK);
    return F->C_FindObjects(m.sa, &(CK_OBJECT_HANDLE){ 0 }, 1, NULL);
}
static CK_RV r_find_null_out(void)
{
    ck_assert_rv(F->C_FindObjectsInit(m.sa, NULL, 0), CKR_OK);
    return F->C_FindObjects(m.sa, NULL, 4, &(CK_ULONG){ 0 });
}
static CK_RV r_find_other_session(void)
{
    /* A search belongs to its session. */
    ck_assert_rv(F->C_FindObjectsInit(m.sa, NULL, 0), CKR_OK);
    return F->C_FindObjects(m.ss, &(CK_OBJECT_HANDLE){ 0 }, 1,
                            &(CK_ULONG){ 0 });
}
ONE(r_findfinal_no_init, F->C_FindObjectsFinal(m.sa))
static CK_RV r_findfinal_twice(void)
{
    ck_assert_rv(F->C_FindObjectsInit(m.sa, NULL, 0), CKR_OK);
    ck_assert_rv(F->C_FindObjectsFinal(m.sa), CKR_OK);
    return F->C_FindObjectsFinal(m.sa);
}

/* What the card cannot do. */
static unsigned char b1[300];
static CK_ULONG l1;
ONE(r_encinit, F->C_EncryptInit(m.sa, &rsa_pkcs, m.pub))
ONE(r_enc, F->C_Encrypt(m.sa, b1, 4, b1, &l1))
ONE(r_encupd, F->C_EncryptUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_encfin, F->C_EncryptFinal(m.sa, b1, &l1))
ONE(r_decinit, F->C_DecryptInit(m.sa, &rsa_pkcs, m.priv))
ONE(r_dec, F->C_Decrypt(m.sa, b1, 4, b1, &l1))
ONE(r_decupd, F->C_DecryptUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_decfin, F->C_DecryptFinal(m.sa, b1, &l1))
ONE(r_diginit, F->C_DigestInit(m.sa, &sha256))
ONE(r_dig, F->C_Digest(m.sa, b1, 4, b1, &l1))
ONE(r_digupd, F->C_DigestUpdate(m.sa, b1, 4))
ONE(r_digkey, F->C_DigestKey(m.sa, m.pub))
ONE(r_digfin, F->C_DigestFinal(m.sa, b1, &l1))
ONE(r_signrecinit, F->C_SignRecoverInit(m.sa, &rsa_pkcs, m.priv))
ONE(r_signrec, F->C_SignRecover(m.sa, b1, 4, b1, &l1))
ONE(r_verrecinit, F->C_VerifyRecoverInit(m.sa, &rsa_pkcs, m.pub))
ONE(r_verrec, F->C_VerifyRecover(m.sa, b1, 4, b1, &l1))
ONE(r_digenc, F->C_DigestEncryptUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_decdig, F->C_DecryptDigestUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_signenc, F->C_SignEncryptUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_decver, F->C_DecryptVerifyUpdate(m.sa, b1, 4, b1, &l1))
ONE(r_wrap, F->C_WrapKey(m.sa, &rsa_pkcs, m.pub, m.priv, b1, &l1))
ONE(r_genkey_bad, F->C_GenerateKey(BAD_SESSION, &rsa_pkcs, NULL, 0,
                                   &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_genkey_null, F->C_GenerateKey(m.sa, NULL, NULL, 0,
                                    &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_genkey_ro, F->C_GenerateKey(m.sa, &rsa_pkcs, NULL, 0,
                                  &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_genpair_null, F->C_GenerateKeyPair(m.sa, &rsa_pkcs, NULL, 0, NULL, 0,
                                         NULL, NULL))
ONE(r_genpair_ro, F->C_GenerateKeyPair(m.sa, &rsa_pkcs, NULL, 0, NULL, 0,
                                       &(CK_OBJECT_HANDLE){ 0 },
                                       &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_unwrap_bad, F->C_UnwrapKey(BAD_SESSION, &rsa_pkcs, m.priv, b1, 4, NULL,
                                 0, &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_unwrap_null, F->C_UnwrapKey(m.sa, &rsa_pkcs, m.priv, NULL, 4, NULL, 0,
                                  &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_derive_null, F->C_DeriveKey(m.sa, NULL, m.priv, NULL, 0,
                                  &(CK_OBJECT_HANDLE){ 0 }))
ONE(r_derive_ro, F->C_DeriveKey(m.sa, &rsa_pkcs, m.priv, NULL, 0,
                                &(CK_OBJECT_HANDLE){ 0 }))

/* Signing. */
ONE(r_signinit_null, F->C_SignInit(m.sa, NULL, m.priv))
ONE(r_signinit_bad_session, F->C_SignInit(BAD_SESSION, &sha256, m.priv))
ONE(r_signinit_not_logged_in, F->C_SignInit(m.sa, &sha256, m.priv))
static CK_RV r_signinit_bad_key(void)
{
    login_auth();
    return F->C_SignInit(m.sa, &sha256, BAD_OBJECT);
}
static CK_RV r_signinit_cert(void)
{
    login_auth();
    return F->C_SignInit(m.sa, &sha256, m.cert);
}
static CK_RV r_signinit_pub(void)
{
    login_auth();
    return F->C_SignInit(m.sa, &sha256, m.pub);
}
static CK_RV r_signinit_other_token(void)
{
    login_auth();
    return F->C_SignInit(m.ss, &sha256, m.priv);
}
static CK_RV r_signinit_pss(void)
{
    CK_MECHANISM pss = { CKM_SHA256_RSA_PKCS_PSS, NULL, 0 };

    login_auth();
    return F->C_SignInit(m.sa, &pss, m.priv);
}
static CK_RV r_signinit_param(void)
{
    CK_ULONG junk = 1;
    CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, &junk, sizeof(junk) };

    login_auth();
    return F->C_SignInit(m.sa, &mech, m.priv);
}
static CK_RV r_signinit_twice(void)
{
    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    return F->C_SignInit(m.sa, &sha256, m.priv);
}
ONE(r_sign_no_init, F->C_Sign(m.sa, b1, 4, b1, &(CK_ULONG){ 256 }))
ONE(r_signupd_no_init, F->C_SignUpdate(m.sa, b1, 4))
ONE(r_signfin_no_init, F->C_SignFinal(m.sa, b1, &(CK_ULONG){ 256 }))
ONE(r_sign_bad_session, F->C_Sign(BAD_SESSION, b1, 4, b1, &(CK_ULONG){ 256 }))
static CK_RV r_sign_short(void)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG len = 10;
    CK_RV rv;

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    rv = F->C_Sign(m.sa, b1, 4, sig, &len);
    ck_assert_uint_eq(len, MT_SIG_LEN);
    /* 2.40 5.2: a short buffer does not end the operation. */
    len = sizeof(sig);
    ck_assert_rv(F->C_Sign(m.sa, b1, 4, sig, &len), CKR_OK);
    ck_assert_uint_eq(len, MT_SIG_LEN);
    return rv;
}
static CK_RV r_sign_null_len(void)
{
    CK_RV rv;

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    rv = F->C_Sign(m.sa, b1, 4, b1, NULL);
    /* Any error but CKR_BUFFER_TOO_SMALL ends the operation. */
    ck_assert_rv(F->C_Sign(m.sa, b1, 4, b1, &(CK_ULONG){ 256 }),
                 CKR_OPERATION_NOT_INITIALIZED);
    return rv;
}
static CK_RV r_sign_null_data(void)
{
    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    return F->C_Sign(m.sa, NULL, 4, b1, &(CK_ULONG){ 256 });
}
static CK_RV r_sign_too_long(void)
{
    unsigned char sig[MT_SIG_LEN];

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &rsa_pkcs, m.priv), CKR_OK);
    return F->C_Sign(m.sa, b1, 246, sig, &(CK_ULONG){ sizeof(sig) });
}
static CK_RV r_sign_after_update(void)
{
    unsigned char sig[MT_SIG_LEN];

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    ck_assert_rv(F->C_SignUpdate(m.sa, b1, 4), CKR_OK);
    return F->C_Sign(m.sa, b1, 4, sig, &(CK_ULONG){ sizeof(sig) });
}
static CK_RV r_signupd_null(void)
{
    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    return F->C_SignUpdate(m.sa, NULL, 4);
}
static CK_RV r_signfin_short(void)
{
    unsigned char sig[MT_SIG_LEN];
    CK_ULONG len = 255;
    CK_RV rv;

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    ck_assert_rv(F->C_SignUpdate(m.sa, b1, 4), CKR_OK);
    rv = F->C_SignFinal(m.sa, sig, &len);
    ck_assert_uint_eq(len, MT_SIG_LEN);
    len = sizeof(sig);
    ck_assert_rv(F->C_SignFinal(m.sa, sig, &len), CKR_OK);
    return rv;
}
static CK_RV r_sign_logged_out_meanwhile(void)
{
    CK_SESSION_HANDLE s2 = mt_session(mt_slot(MT_AUTH));

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    ck_assert_rv(F->C_Logout(s2), CKR_OK);
    return F->C_Sign(m.sa, b1, 4, b1, &(CK_ULONG){ 256 });
}
static CK_RV r_sessioncancel(void)
{
    CK_RV rv;

    login_auth();
    ck_assert_rv(F->C_SignInit(m.sa, &sha256, m.priv), CKR_OK);
    rv = m.f3->C_SessionCancel(m.sa, CKF_SIGN);
    ck_assert_rv(F->C_Sign(m.sa, b1, 4, b1, &(CK_ULONG){ 256 }),
                 CKR_OPERATION_NOT_INITIALIZED);
    return rv;
}
ONE(r_sessioncancel_bad, m.f3->C_SessionCancel(BAD_SESSION, CKF_SIGN))

/* Verifying. */
ONE(r_verinit_null, F->C_VerifyInit(m.sa, NULL, m.pub))
ONE(r_verinit_bad_key, F->C_VerifyInit(m.sa, &sha256, BAD_OBJECT))
ONE(r_verinit_other_token, F->C_VerifyInit(m.ss, &sha256, m.pub))
static CK_RV r_verinit_priv(void)
{
    login_auth();
    return F->C_VerifyInit(m.sa, &sha256, m.priv);
}
static CK_RV r_verinit_twice(void)
{
    ck_assert_rv(F->C_VerifyInit(m.sa, &sha256, m.pub), CKR_OK);
    return F->C_VerifyInit(m.sa, &sha256, m.pub);
}
ONE(r_verify_no_init, F->C_Verify(m.sa, b1, 4, b1, 256))
ONE(r_verupd_no_init, F->C_VerifyUpdate(m.sa, b1, 4))
ONE(r_verfin_no_init, F->C_VerifyFinal(m.sa, b1, 256))
static CK_RV r_verify_null_sig(void)
{
    ck_assert_rv(F->C_VerifyInit(m.sa, &sha256, m.pub), CKR_OK);
    return F->C_Verify(m.sa, b1, 4, NULL, 256);
}
static CK_RV r_verify_len(void)
{
    ck_assert_rv(F->C_VerifyInit(m.sa, &sha256, m.pub), CKR_OK);
    return F->C_Verify(m.sa, b1, 4, b1, 100);
}
static CK_RV r_verify_bad_sig(void)
{
    unsigned char sig[MT_SIG_LEN];

    memset(sig, 0x5A, sizeof(sig));
    ck_assert_rv(F->C_VerifyInit(m.sa, &sha256, m.pub), CKR_OK);
    return F->C_Verify(m.sa, b1, 4, sig, sizeof(sig));
}

/* Random. */
ONE(r_random_bad, F->C_GenerateRandom(BAD_SESSION, b1, 8))
ONE(r_random_null, F->C_GenerateRandom(m.sa, NULL, 8))
ONE(r_seed_null, F->C_SeedRandom(m.sa, NULL, 8))
ONE(r_seed, F->C_SeedRandom(m.sa, b1, 8))

/* The 3.0 message functions: not for this card. */
typedef CK_RV (*msg9_fn)(CK_SESSION_HANDLE, void *, CK_ULONG, CK_BYTE *,
                         CK_ULONG, CK_BYTE *, CK_ULONG, CK_BYTE *, CK_ULONG *);
typedef CK_RV (*msg5_fn)(CK_SESSION_HANDLE, void *, CK_ULONG, CK_BYTE *,
                         CK_ULONG);
typedef CK_RV (*msg8_fn)(CK_SESSION_HANDLE, void *, CK_ULONG, CK_BYTE *,
                         CK_ULONG, CK_BYTE *, CK_ULONG *, CK_FLAGS);
typedef CK_RV (*msg1_fn)(CK_SESSION_HANDLE);
typedef CK_RV (*msginit_fn)(CK_SESSION_HANDLE, CK_MECHANISM *,
                            CK_OBJECT_HANDLE);
typedef CK_RV (*msg7_fn)(CK_SESSION_HANDLE, void *, CK_ULONG, CK_BYTE *,
                         CK_ULONG, CK_BYTE *, CK_ULONG *);
typedef CK_RV (*msg3_fn)(CK_SESSION_HANDLE, void *, CK_ULONG);
typedef CK_RV (*msg7v_fn)(CK_SESSION_HANDLE, void *, CK_ULONG, CK_BYTE *,
                          CK_ULONG, CK_BYTE *, CK_ULONG);

/* message_rest[] of struct mt_function_list_3_0, in the 3.0 order. */
enum {
    M_ENC_MSG, M_ENC_BEGIN, M_ENC_NEXT, M_ENC_FINAL, M_DEC_INIT, M_DEC_MSG,
    M_DEC_BEGIN, M_DEC_NEXT, M_DEC_FINAL, M_SIGN_INIT, M_SIGN_MSG,
    M_SIGN_BEGIN, M_SIGN_NEXT, M_SIGN_FINAL, M_VER_INIT, M_VER_MSG,
    M_VER_BEGIN, M_VER_NEXT, M_VER_FINAL, M_COUNT
};
_Static_assert(M_COUNT == 19, "the 3.0 message functions");
#define MSG(i, type) ((type)m.f3->message_rest[i])

/* Call message function @i (-1: C_MessageEncryptInit) on @s. */
static CK_RV call_message(int i, CK_SESSION_HANDLE s)
{
    switch (i) {
    case -1:
        return m.f3->C_MessageEncryptInit(s, &rsa_pkcs, m.pub);
    case M_ENC_MSG:
        return MSG(i, msg9_fn)(s, NULL, 0, b1, 0, b1, 4, b1, &l1);
    case M_DEC_MSG:
        return MSG(i, msg9_fn)(s, NULL, 0, b1, 0, b1, 4, b1, &l1);
    case M_ENC_BEGIN:
    case M_DEC_BEGIN:
        return MSG(i, msg5_fn)(s, NULL, 0, b1, 0);
    case M_ENC_NEXT:
    case M_DEC_NEXT:
        return MSG(i, msg8_fn)(s, NULL, 0, b1, 4, b1, &l1, 0);
    case M_ENC_FINAL:
    case M_DEC_FINAL:
    case M_SIGN_FINAL:
    case M_VER_FINAL:
        return MSG(i, msg1_fn)(s);
    case M_DEC_INIT:
    case M_SIGN_INIT:
    case M_VER_INIT:
        return MSG(i, msginit_fn)(s, &sha256, m.priv);
    case M_SIGN_MSG:
    case M_SIGN_NEXT:
        return MSG(i, msg7_fn)(s, NULL, 0, b1, 4, b1, &l1);
    case M_SIGN_BEGIN:
    case M_VER_BEGIN:
        return MSG(i, msg3_fn)(s, NULL, 0);
    case M_VER_MSG:
    case M_VER_NEXT:
        return MSG(i, msg7v_fn)(s, NULL, 0, b1, 4, b1, 256);
    default:
        ck_abort_msg("no message function %d", i);
        return CKR_GENERAL_ERROR;
    }
}

static CK_RV r_messages(void)
{
    /* All twenty, each answering the same. */
    for (int i = -1; i < M_COUNT; i++)
        ck_assert_msg(call_message(i, m.sa) == CKR_FUNCTION_NOT_SUPPORTED,
                      "message function %d", i);
    return CKR_FUNCTION_NOT_SUPPORTED;
}

#define ROW(fn, want) { #fn, fn, want }

static const struct row rows[] = {
    ROW(r_init_twice, CKR_CRYPTOKI_ALREADY_INITIALIZED),
    ROW(r_init_reserved, CKR_ARGUMENTS_BAD),
    ROW(r_final_reserved, CKR_ARGUMENTS_BAD),
    ROW(r_info_null, CKR_ARGUMENTS_BAD),
    ROW(r_funclist_null, CKR_ARGUMENTS_BAD),
    ROW(r_iflist_null, CKR_ARGUMENTS_BAD),
    ROW(r_iflist_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_iface_null, CKR_ARGUMENTS_BAD),
    ROW(r_iface_unknown, CKR_ARGUMENTS_BAD),
    ROW(r_slotlist_null, CKR_ARGUMENTS_BAD),
    ROW(r_slotlist_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_slotlist_zero, CKR_BUFFER_TOO_SMALL),
    ROW(r_slotinfo_bad, CKR_SLOT_ID_INVALID),
    ROW(r_slotinfo_null, CKR_ARGUMENTS_BAD),
    ROW(r_tokeninfo_bad, CKR_SLOT_ID_INVALID),
    ROW(r_tokeninfo_null, CKR_ARGUMENTS_BAD),
    ROW(r_wait_null, CKR_ARGUMENTS_BAD),
    ROW(r_wait_reserved, CKR_ARGUMENTS_BAD),
    ROW(r_wait_none, CKR_NO_EVENT),
    ROW(r_mechlist_bad, CKR_SLOT_ID_INVALID),
    ROW(r_mechlist_null, CKR_ARGUMENTS_BAD),
    ROW(r_mechlist_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_mechinfo_bad, CKR_SLOT_ID_INVALID),
    ROW(r_mechinfo_null, CKR_ARGUMENTS_BAD),
    ROW(r_mechinfo_pss, CKR_MECHANISM_INVALID),
    ROW(r_inittoken, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_initpin, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_setpin_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_setpin_null_old, CKR_ARGUMENTS_BAD),
    ROW(r_setpin_null_new, CKR_ARGUMENTS_BAD),
    ROW(r_open_bad_slot, CKR_SLOT_ID_INVALID),
    ROW(r_open_null, CKR_ARGUMENTS_BAD),
    ROW(r_open_parallel, CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    ROW(r_close_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_close_zero, CKR_SESSION_HANDLE_INVALID),
    ROW(r_close_twice, CKR_SESSION_HANDLE_INVALID),
    ROW(r_closeall_bad, CKR_SLOT_ID_INVALID),
    ROW(r_closeall_other_token, CKR_OK),
    ROW(r_sinfo_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_sinfo_null, CKR_ARGUMENTS_BAD),
    ROW(r_sinfo_closed, CKR_SESSION_HANDLE_INVALID),
    ROW(r_getopstate, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_setopstate, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_funcstatus, CKR_FUNCTION_NOT_PARALLEL),
    ROW(r_cancelfunc, CKR_FUNCTION_NOT_PARALLEL),
    ROW(r_login_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_login_closed, CKR_SESSION_HANDLE_INVALID),
    ROW(r_login_null_pin, CKR_ARGUMENTS_BAD),
    ROW(r_login_bad_type, CKR_USER_TYPE_INVALID),
    ROW(r_login_so, CKR_USER_TYPE_INVALID),
    ROW(r_login_twice, CKR_USER_ALREADY_LOGGED_IN),
    ROW(r_login_other_session, CKR_USER_ALREADY_LOGGED_IN),
    ROW(r_login_tokens_apart, CKR_USER_NOT_LOGGED_IN),
    ROW(r_login_context_no_op, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_logout_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_logout_not_in, CKR_USER_NOT_LOGGED_IN),
    ROW(r_logout_twice, CKR_USER_NOT_LOGGED_IN),
    ROW(r_loginuser_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_loginuser_null, CKR_ARGUMENTS_BAD),
    ROW(r_create_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_create_null, CKR_ARGUMENTS_BAD),
    ROW(r_create_null_tmpl, CKR_ARGUMENTS_BAD),
    ROW(r_create_ro, CKR_TOKEN_WRITE_PROTECTED),
    ROW(r_copy_bad_obj, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_copy_null, CKR_ARGUMENTS_BAD),
    ROW(r_destroy_bad_session, CKR_SESSION_HANDLE_INVALID),
    ROW(r_destroy_bad_obj, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_destroy_other_token, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_destroy_ro, CKR_TOKEN_WRITE_PROTECTED),
    ROW(r_size_null, CKR_ARGUMENTS_BAD),
    ROW(r_size_bad_obj, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_size_bad_session, CKR_SESSION_HANDLE_INVALID),
    ROW(r_getattr_null, CKR_ARGUMENTS_BAD),
    ROW(r_getattr_bad_session, CKR_SESSION_HANDLE_INVALID),
    ROW(r_getattr_bad_obj, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_getattr_other_token, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_getattr_private_logged_out, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_getattr_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_getattr_unknown, CKR_ATTRIBUTE_TYPE_INVALID),
    ROW(r_getattr_sensitive, CKR_ATTRIBUTE_SENSITIVE),
    ROW(r_setattr_bad_obj, CKR_OBJECT_HANDLE_INVALID),
    ROW(r_setattr_null, CKR_ARGUMENTS_BAD),
    ROW(r_setattr_ro, CKR_TOKEN_WRITE_PROTECTED),
    ROW(r_findinit_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_findinit_null, CKR_ARGUMENTS_BAD),
    ROW(r_findinit_twice, CKR_OPERATION_ACTIVE),
    ROW(r_find_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_find_null_count, CKR_ARGUMENTS_BAD),
    ROW(r_find_null_out, CKR_ARGUMENTS_BAD),
    ROW(r_find_other_session, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_findfinal_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_findfinal_twice, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_encinit, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_enc, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_encupd, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_encfin, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_decinit, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_dec, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_decupd, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_decfin, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_diginit, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_dig, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_digupd, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_digkey, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_digfin, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_signrecinit, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_signrec, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_verrecinit, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_verrec, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_digenc, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_decdig, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_signenc, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_decver, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_wrap, CKR_FUNCTION_NOT_SUPPORTED),
    ROW(r_genkey_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_genkey_null, CKR_ARGUMENTS_BAD),
    ROW(r_genkey_ro, CKR_TOKEN_WRITE_PROTECTED),
    ROW(r_genpair_null, CKR_ARGUMENTS_BAD),
    ROW(r_genpair_ro, CKR_TOKEN_WRITE_PROTECTED),
    ROW(r_unwrap_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_unwrap_null, CKR_ARGUMENTS_BAD),
    ROW(r_derive_null, CKR_ARGUMENTS_BAD),
    ROW(r_derive_ro, CKR_TOKEN_WRITE_PROTECTED),
    /* PKCS#11 3.0: a NULL mechanism ends the operation (none here). */
    ROW(r_signinit_null, CKR_OK),
    ROW(r_signinit_bad_session, CKR_SESSION_HANDLE_INVALID),
    ROW(r_signinit_not_logged_in, CKR_USER_NOT_LOGGED_IN),
    ROW(r_signinit_bad_key, CKR_KEY_HANDLE_INVALID),
    ROW(r_signinit_cert, CKR_KEY_HANDLE_INVALID),
    ROW(r_signinit_pub, CKR_KEY_FUNCTION_NOT_PERMITTED),
    ROW(r_signinit_other_token, CKR_KEY_HANDLE_INVALID),
    ROW(r_signinit_pss, CKR_MECHANISM_INVALID),
    ROW(r_signinit_param, CKR_MECHANISM_PARAM_INVALID),
    ROW(r_signinit_twice, CKR_OPERATION_ACTIVE),
    ROW(r_sign_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_signupd_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_signfin_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_sign_bad_session, CKR_SESSION_HANDLE_INVALID),
    ROW(r_sign_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_sign_null_len, CKR_ARGUMENTS_BAD),
    ROW(r_sign_null_data, CKR_ARGUMENTS_BAD),
    ROW(r_sign_too_long, CKR_DATA_LEN_RANGE),
    ROW(r_sign_after_update, CKR_OPERATION_ACTIVE),
    ROW(r_signupd_null, CKR_ARGUMENTS_BAD),
    ROW(r_signfin_short, CKR_BUFFER_TOO_SMALL),
    ROW(r_sign_logged_out_meanwhile, CKR_USER_NOT_LOGGED_IN),
    ROW(r_sessioncancel, CKR_OK),
    ROW(r_sessioncancel_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_verinit_null, CKR_OK),
    ROW(r_verinit_bad_key, CKR_KEY_HANDLE_INVALID),
    ROW(r_verinit_other_token, CKR_KEY_HANDLE_INVALID),
    ROW(r_verinit_priv, CKR_KEY_FUNCTION_NOT_PERMITTED),
    ROW(r_verinit_twice, CKR_OPERATION_ACTIVE),
    ROW(r_verify_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_verupd_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_verfin_no_init, CKR_OPERATION_NOT_INITIALIZED),
    ROW(r_verify_null_sig, CKR_ARGUMENTS_BAD),
    ROW(r_verify_len, CKR_SIGNATURE_LEN_RANGE),
    ROW(r_verify_bad_sig, CKR_SIGNATURE_INVALID),
    ROW(r_random_bad, CKR_SESSION_HANDLE_INVALID),
    ROW(r_random_null, CKR_ARGUMENTS_BAD),
    ROW(r_seed_null, CKR_ARGUMENTS_BAD),
    ROW(r_seed, CKR_RANDOM_SEED_NOT_SUPPORTED),
    ROW(r_messages, CKR_FUNCTION_NOT_SUPPORTED),
};

START_TEST(test_misuse)
{
    const struct row *r = &rows[_i];
    CK_RV rv;

    rv = r->call();
    ck_assert_msg(rv == r->want, "%s: expected 0x%lx, got 0x%lx", r->name,
                  (unsigned long)r->want, (unsigned long)rv);
    /* The module still works after the misuse: a fresh session of each
     * token answers (unless the row finalised the library). */
    if (fx.initialized && r->call != r_init_reserved) {
        CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));

        ck_assert_rv(F->C_CloseSession(s), CKR_OK);
    }
}
END_TEST

/* ---- Every function before C_Initialize and after C_Finalize ---- */

/* Handles used in the calls: real ones from before C_Finalize, or made
 * up before C_Initialize. */
static CK_SESSION_HANDLE ni_session = 1;
static CK_OBJECT_HANDLE ni_object = 17;

static CK_RV ni_call(int i)
{
    static CK_SLOT_ID slots[8];
    static CK_ATTRIBUTE attr = { CKA_LABEL, NULL, 0 };
    CK_SESSION_HANDLE s = ni_session, hs = 0;
    CK_OBJECT_HANDLE o = ni_object, ho = 0, ho2 = 0;
    CK_ULONG n = 8;
    CK_INFO info;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_SESSION_INFO ssi;
    CK_MECHANISM_INFO mi;
    CK_MECHANISM_TYPE mechs[8];
    CK_SLOT_ID slot = 0;

    l1 = sizeof(b1);
    switch (i) {
    case 0: return F->C_GetInfo(&info);
    case 1: return F->C_GetSlotList(CK_TRUE, slots, &n);
    case 2: return F->C_GetSlotInfo(0, &si);
    case 3: return F->C_GetTokenInfo(0, &ti);
    case 4: return F->C_GetMechanismList(0, mechs, &n);
    case 5: return F->C_GetMechanismInfo(0, CKM_RSA_PKCS, &mi);
    case 6: return F->C_InitToken(0, (CK_UTF8CHAR *)"1234", 4,
                                  (CK_UTF8CHAR *)"label");
    case 7: return F->C_InitPIN(s, (CK_UTF8CHAR *)"1234", 4);
    case 8: return F->C_SetPIN(s, (CK_UTF8CHAR *)"1234", 4,
                               (CK_UTF8CHAR *)"4321", 4);
    case 9: return F->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &hs);
    case 10: return F->C_CloseSession(s);
    case 11: return F->C_CloseAllSessions(0);
    case 12: return F->C_GetSessionInfo(s, &ssi);
    case 13: return F->C_GetOperationState(s, b1, &l1);
    case 14: return F->C_SetOperationState(s, b1, 4, 0, 0);
    case 15: return F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)"1234", 4);
    case 16: return F->C_Logout(s);
    case 17: return F->C_CreateObject(s, &attr, 1, &ho);
    case 18: return F->C_CopyObject(s, o, &attr, 1, &ho);
    case 19: return F->C_DestroyObject(s, o);
    case 20: return F->C_GetObjectSize(s, o, &n);
    case 21: return F->C_GetAttributeValue(s, o, &attr, 1);
    case 22: return F->C_SetAttributeValue(s, o, &attr, 1);
    case 23: return F->C_FindObjectsInit(s, &attr, 1);
    case 24: return F->C_FindObjects(s, &ho, 1, &n);
    case 25: return F->C_FindObjectsFinal(s);
    case 26: return F->C_EncryptInit(s, &rsa_pkcs, o);
    case 27: return F->C_Encrypt(s, b1, 4, b1, &l1);
    case 28: return F->C_EncryptUpdate(s, b1, 4, b1, &l1);
    case 29: return F->C_EncryptFinal(s, b1, &l1);
    case 30: return F->C_DecryptInit(s, &rsa_pkcs, o);
    case 31: return F->C_Decrypt(s, b1, 4, b1, &l1);
    case 32: return F->C_DecryptUpdate(s, b1, 4, b1, &l1);
    case 33: return F->C_DecryptFinal(s, b1, &l1);
    case 34: return F->C_DigestInit(s, &sha256);
    case 35: return F->C_Digest(s, b1, 4, b1, &l1);
    case 36: return F->C_DigestUpdate(s, b1, 4);
    case 37: return F->C_DigestKey(s, o);
    case 38: return F->C_DigestFinal(s, b1, &l1);
    case 39: return F->C_SignInit(s, &sha256, o);
    case 40: return F->C_Sign(s, b1, 4, b1, &l1);
    case 41: return F->C_SignUpdate(s, b1, 4);
    case 42: return F->C_SignFinal(s, b1, &l1);
    case 43: return F->C_SignRecoverInit(s, &rsa_pkcs, o);
    case 44: return F->C_SignRecover(s, b1, 4, b1, &l1);
    case 45: return F->C_VerifyInit(s, &sha256, o);
    case 46: return F->C_Verify(s, b1, 4, b1, 256);
    case 47: return F->C_VerifyUpdate(s, b1, 4);
    case 48: return F->C_VerifyFinal(s, b1, 256);
    case 49: return F->C_VerifyRecoverInit(s, &rsa_pkcs, o);
    case 50: return F->C_VerifyRecover(s, b1, 256, b1, &l1);
    case 51: return F->C_DigestEncryptUpdate(s, b1, 4, b1, &l1);
    case 52: return F->C_DecryptDigestUpdate(s, b1, 4, b1, &l1);
    case 53: return F->C_SignEncryptUpdate(s, b1, 4, b1, &l1);
    case 54: return F->C_DecryptVerifyUpdate(s, b1, 4, b1, &l1);
    case 55: return F->C_GenerateKey(s, &rsa_pkcs, &attr, 1, &ho);
    case 56: return F->C_GenerateKeyPair(s, &rsa_pkcs, &attr, 1, &attr, 1,
                                         &ho, &ho2);
    case 57: return F->C_WrapKey(s, &rsa_pkcs, o, o, b1, &l1);
    case 58: return F->C_UnwrapKey(s, &rsa_pkcs, o, b1, 4, &attr, 1, &ho);
    case 59: return F->C_DeriveKey(s, &rsa_pkcs, o, &attr, 1, &ho);
    case 60: return F->C_SeedRandom(s, b1, 4);
    case 61: return F->C_GenerateRandom(s, b1, 4);
    case 62: return F->C_GetFunctionStatus(s);
    case 63: return F->C_CancelFunction(s);
    case 64: return F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
    case 65: return F->C_Finalize(NULL);
    case 66: return m.f3->C_LoginUser(s, CKU_USER, (CK_UTF8CHAR *)"1234", 4,
                                      (CK_UTF8CHAR *)"me", 2);
    case 67: return m.f3->C_SessionCancel(s, CKF_SIGN);
    default:
        /* 68..87: the 3.0 message functions (68: MessageEncryptInit). */
        return call_message(i - 69, s);
    }
}
#define NI_CALLS (68 + 1 + M_COUNT)

/* The three that need no initialisation, with a check that they work. */
static void works_uninitialised(void)
{
    CK_FUNCTION_LIST *f = NULL;
    struct mt_interface *iface = NULL;
    CK_ULONG n = 0;

    ck_assert_rv(C_GetFunctionList(&f), CKR_OK);
    ck_assert_ptr_eq(f, fx.f);
    ck_assert_rv(C_GetInterfaceList(NULL, &n), CKR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_rv(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
    ck_assert_ptr_nonnull(iface);
}

START_TEST(test_before_initialize)
{
    CK_RV rv;

    m.f3 = list_3_0();
    ni_session = 1;
    ni_object = 17;
    rv = ni_call(_i);
    ck_assert_msg(rv == CKR_CRYPTOKI_NOT_INITIALIZED,
                  "call %d before C_Initialize: 0x%lx", _i, (unsigned long)rv);
    works_uninitialised();
    ck_assert_uint_eq(mt_apdus(), 0);
}
END_TEST

START_TEST(test_after_finalize)
{
    unsigned long apdus;
    CK_RV rv;

    /* Real handles, made before C_Finalize. */
    misuse_setup();
    login_auth();
    ni_session = m.sa;
    ni_object = m.priv;
    mt_finalize();
    apdus = mt_apdus();
    rv = ni_call(_i);
    ck_assert_msg(rv == CKR_CRYPTOKI_NOT_INITIALIZED,
                  "call %d after C_Finalize: 0x%lx", _i, (unsigned long)rv);
    works_uninitialised();
    ck_assert_uint_eq(mt_apdus(), apdus);
    /* And the library comes back. */
    mt_init();
    mt_find_slots();
    ck_assert_rv(F->C_GetSessionInfo(ni_session, &(CK_SESSION_INFO){ 0 }),
                 CKR_SESSION_HANDLE_INVALID);
    ck_assert_rv(F->C_CloseSession(mt_session(mt_slot(MT_AUTH))), CKR_OK);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "misuse", true);

    tcase_add_checked_fixture(tc, misuse_setup, NULL);
    tcase_add_loop_test(tc, test_misuse, 0, (int)N_OF(rows));

    tc = mt_tcase(s, "before-initialize", false);
    tcase_add_loop_test(tc, test_before_initialize, 0, NI_CALLS);

    tc = mt_tcase(s, "after-finalize", true);
    tcase_add_loop_test(tc, test_after_finalize, 0, NI_CALLS);
}
