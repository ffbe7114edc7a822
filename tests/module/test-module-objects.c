/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Module tests, in process: objects and attributes.  What each token shows
 * before and after login, the CKO_PROFILE that makes the authentication
 * token "friendly" to NSS, attribute values checked against the DER the
 * virtual card holds and OpenSSL's view of it, C_GetAttributeValue to the
 * letter of PKCS#11 2.40 section 5.7, C_FindObjects with various
 * templates, and the refusals of a write-protected token.  Drives the
 * module only through C_GetFunctionList.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

const char check_suite_name[] = "module-objects";

#define UNKNOWN_ATTR ((CK_ATTRIBUTE_TYPE)0x0FFFFFF0UL)

static const CK_MECHANISM_TYPE six_mechs[6] = {
    CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS
};

static enum mt_cert user_cert(enum mt_role r)
{
    return r == MT_AUTH ? MT_CERT_AUTH : MT_CERT_SIGN;
}

/* The CKA_VALUE of every certificate @s sees must be one of @want (n of
 * them), each exactly once. */
static void assert_certs_are(CK_SESSION_HANDLE s, const enum mt_cert *want,
                             size_t n)
{
    CK_OBJECT_HANDLE h[8];
    CK_ULONG count = mt_find_class(s, CKO_CERTIFICATE, h, 8);
    bool seen[MT_CERT_N] = { false };

    ck_assert_msg(count == n, "%lu certificates, expected %zu",
                  (unsigned long)count, n);
    for (CK_ULONG i = 0; i < count; i++) {
        CK_ULONG len = 0;
        unsigned char *v = mt_attr(s, h[i], CKA_VALUE, &len);
        bool found = false;

        for (size_t k = 0; k < n; k++) {
            size_t dlen = 0;
            const unsigned char *der = mt_cert_der(want[k], &dlen);

            if (len == dlen && memcmp(v, der, dlen) == 0) {
                ck_assert_msg(!seen[want[k]], "certificate %d twice",
                              (int)want[k]);
                seen[want[k]] = true;
                found = true;
            }
        }
        ck_assert_msg(found, "certificate object %lu is not one of the card's",
                      (unsigned long)i);
        free(v);
    }
}

static CK_ULONG count_class(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    CK_OBJECT_HANDLE h[16];

    return mt_find_class(s, cls, h, 16);
}

static bool has_public_certs_profile(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_PROFILE;
    CK_ULONG id = CKP_PUBLIC_CERTIFICATES_TOKEN;
    CK_ATTRIBUTE t[2] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_PROFILE_ID, &id, sizeof(id) },
    };
    CK_OBJECT_HANDLE h[4];

    return mt_find(s, t, 2, h, 4) > 0;
}

START_TEST(test_auth_objects_without_login)
{
    static const enum mt_cert certs[] = { MT_CERT_AUTH, MT_CERT_AUTH_CA };
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE pub;

    assert_certs_are(s, certs, 2);
    pub = mt_one(s, CKO_PUBLIC_KEY);
    ck_assert(mt_attr_bool(s, pub, CKA_PRIVATE) == CK_FALSE);
    ck_assert(has_public_certs_profile(s));
}
END_TEST

START_TEST(test_auth_profile_object)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = mt_find_class(s, CKO_PROFILE, h, 4);
    bool found = false;

    ck_assert_uint_ge(n, 1);
    for (CK_ULONG i = 0; i < n; i++) {
        if (mt_attr_ulong(s, h[i], CKA_PROFILE_ID) ==
            CKP_PUBLIC_CERTIFICATES_TOKEN) {
            found = true;
            ck_assert(mt_attr_bool(s, h[i], CKA_TOKEN) == CK_TRUE);
            ck_assert(mt_attr_bool(s, h[i], CKA_PRIVATE) == CK_FALSE);
        }
    }
    ck_assert_msg(found, "no CKO_PROFILE with CKP_PUBLIC_CERTIFICATES_TOKEN");
}
END_TEST

/* cert, public key and private key share one non-empty CKA_ID. */
static void assert_shared_id(CK_SESSION_HANDLE s, enum mt_role r)
{
    CK_OBJECT_HANDLE cert = mt_cert_obj(s, user_cert(r));
    CK_OBJECT_HANDLE pub = mt_one(s, CKO_PUBLIC_KEY);
    CK_OBJECT_HANDLE priv = mt_one(s, CKO_PRIVATE_KEY);
    CK_ULONG len = 0;
    unsigned char *id = mt_attr(s, cert, CKA_ID, &len);

    ck_assert_uint_gt(len, 0);
    ck_assert_msg(mt_attr_eq(s, pub, CKA_ID, id, len), "public key CKA_ID");
    ck_assert_msg(mt_attr_eq(s, priv, CKA_ID, id, len), "private key CKA_ID");
    free(id);
}

START_TEST(test_auth_private_key_after_login)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);

    mt_one(s, CKO_PRIVATE_KEY);
    assert_shared_id(s, MT_AUTH);
}
END_TEST

START_TEST(test_sign_before_login)
{
    static const enum mt_cert certs[] = { MT_CERT_SIGN_CA };
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_SIGN));

    /* The card gives its certificate only after the password. */
    assert_certs_are(s, certs, 1);
    ck_assert_uint_eq(count_class(s, CKO_PUBLIC_KEY), 0);
    /* A token whose certificate needs a login is never "friendly". */
    ck_assert(!has_public_certs_profile(s));
}
END_TEST

START_TEST(test_sign_after_login)
{
    static const enum mt_cert certs[] = { MT_CERT_SIGN, MT_CERT_SIGN_CA };
    CK_SESSION_HANDLE s = mt_session_login(MT_SIGN);
    CK_OBJECT_HANDLE cert, pub;

    assert_certs_are(s, certs, 2);
    cert = mt_cert_obj(s, MT_CERT_SIGN);
    pub = mt_one(s, CKO_PUBLIC_KEY);
    ck_assert(mt_attr_bool(s, cert, CKA_PRIVATE) == CK_TRUE);
    ck_assert(mt_attr_bool(s, pub, CKA_PRIVATE) == CK_TRUE);
    ck_assert(mt_attr_bool(s, mt_cert_obj(s, MT_CERT_SIGN_CA), CKA_PRIVATE) ==
              CK_FALSE);
    assert_shared_id(s, MT_SIGN);
}
END_TEST

START_TEST(test_sign_private_objects_hidden_after_logout)
{
    static const enum mt_cert certs[] = { MT_CERT_SIGN_CA };
    CK_SESSION_HANDLE s = mt_session_login(MT_SIGN);

    ck_assert_uint_eq(count_class(s, CKO_PUBLIC_KEY), 1);
    ck_assert_rv(fx.f->C_Logout(s), CKR_OK);
    assert_certs_are(s, certs, 1);
    ck_assert_uint_eq(count_class(s, CKO_PUBLIC_KEY), 0);
    ck_assert_uint_eq(count_class(s, CKO_PRIVATE_KEY), 0);
}
END_TEST

START_TEST(test_cert_values_match_card)
{
    CK_SESSION_HANDLE sa = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE ss = mt_session_login(MT_SIGN);

    for (int k = 0; k < MT_CERT_N; k++) {
        CK_SESSION_HANDLE s = k < 2 ? sa : ss;
        CK_OBJECT_HANDLE h = mt_cert_obj(s, (enum mt_cert)k);
        size_t dlen = 0;
        const unsigned char *der = mt_cert_der((enum mt_cert)k, &dlen);

        ck_assert_msg(mt_attr_eq(s, h, CKA_VALUE, der, dlen),
                      "certificate %d: CKA_VALUE differs from the card", k);
    }
}
END_TEST

static void assert_i2d_eq(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                          CK_ATTRIBUTE_TYPE t, const unsigned char *der,
                          int len, const char *what)
{
    ck_assert_int_gt(len, 0);
    ck_assert_msg(mt_attr_eq(s, h, t, der, (size_t)len), "%s differs", what);
}

START_TEST(test_cert_fields_match_openssl)
{
    CK_SESSION_HANDLE sa = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE ss = mt_session_login(MT_SIGN);

    for (int k = 0; k < MT_CERT_N; k++) {
        CK_SESSION_HANDLE s = k < 2 ? sa : ss;
        CK_OBJECT_HANDLE h = mt_cert_obj(s, (enum mt_cert)k);
        size_t dlen = 0;
        const unsigned char *der = mt_cert_der((enum mt_cert)k, &dlen);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)dlen);
        unsigned char *buf = NULL;
        int len;

        ck_assert_ptr_nonnull(x);
        len = i2d_X509_NAME(X509_get_subject_name(x), &buf);
        assert_i2d_eq(s, h, CKA_SUBJECT, buf, len, "CKA_SUBJECT");
        OPENSSL_free(buf);
        buf = NULL;
        len = i2d_X509_NAME(X509_get_issuer_name(x), &buf);
        assert_i2d_eq(s, h, CKA_ISSUER, buf, len, "CKA_ISSUER");
        OPENSSL_free(buf);
        buf = NULL;
        len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &buf);
        assert_i2d_eq(s, h, CKA_SERIAL_NUMBER, buf, len, "CKA_SERIAL_NUMBER");
        OPENSSL_free(buf);
        X509_free(x);
    }
}
END_TEST

START_TEST(test_cert_attributes)
{
    CK_SESSION_HANDLE sa = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE ss = mt_session_login(MT_SIGN);

    for (int k = 0; k < MT_CERT_N; k++) {
        CK_SESSION_HANDLE s = k < 2 ? sa : ss;
        CK_OBJECT_HANDLE h = mt_cert_obj(s, (enum mt_cert)k);
        bool user = k == MT_CERT_AUTH || k == MT_CERT_SIGN;
        CK_ULONG len = 0;
        unsigned char *label;

        ck_assert_uint_eq(mt_attr_ulong(s, h, CKA_CLASS), CKO_CERTIFICATE);
        ck_assert_uint_eq(mt_attr_ulong(s, h, CKA_CERTIFICATE_TYPE), CKC_X_509);
        ck_assert_uint_eq(mt_attr_ulong(s, h, CKA_CERTIFICATE_CATEGORY),
                          user ? CK_CERTIFICATE_CATEGORY_TOKEN_USER
                               : CK_CERTIFICATE_CATEGORY_AUTHORITY);
        ck_assert(mt_attr_bool(s, h, CKA_TOKEN) == CK_TRUE);
        label = mt_attr(s, h, CKA_LABEL, &len);
        ck_assert_msg(len > 0, "certificate %d has an empty label", k);
        free(label);
        if (user) {
            unsigned char *id = mt_attr(s, h, CKA_ID, &len);

            ck_assert_uint_gt(len, 0);
            free(id);
        }
    }
}
END_TEST

static unsigned char *bn_param(EVP_PKEY *pk, const char *name, int *len)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;

    ck_assert_int_eq(EVP_PKEY_get_bn_param(pk, name, &bn), 1);
    *len = BN_num_bytes(bn);
    buf = malloc((size_t)*len + 1);
    ck_assert_ptr_nonnull(buf);
    BN_bn2bin(bn, buf);
    BN_free(bn);
    return buf;
}

START_TEST(test_key_modulus_matches_cert)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session_login((enum mt_role)r);
        size_t dlen = 0;
        const unsigned char *der = mt_cert_der(user_cert(r), &dlen);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)dlen);
        EVP_PKEY *pk;
        int nlen, elen;
        unsigned char *n, *e;
        CK_OBJECT_HANDLE keys[2];

        ck_assert_ptr_nonnull(x);
        pk = X509_get0_pubkey(x);
        n = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &nlen);
        e = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &elen);
        ck_assert_int_eq(nlen, 256);
        keys[0] = mt_one(s, CKO_PUBLIC_KEY);
        keys[1] = mt_one(s, CKO_PRIVATE_KEY);
        for (int i = 0; i < 2; i++) {
            ck_assert_msg(mt_attr_eq(s, keys[i], CKA_MODULUS, n, (size_t)nlen),
                          "token %d key %d: CKA_MODULUS", r, i);
            ck_assert_msg(mt_attr_eq(s, keys[i], CKA_PUBLIC_EXPONENT, e,
                                     (size_t)elen),
                          "token %d key %d: CKA_PUBLIC_EXPONENT", r, i);
        }
        ck_assert_uint_eq(mt_attr_ulong(s, keys[0], CKA_MODULUS_BITS), 2048);
        free(n);
        free(e);
        X509_free(x);
    }
}
END_TEST

START_TEST(test_private_key_attributes)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session_login((enum mt_role)r);
        CK_OBJECT_HANDLE k = mt_one(s, CKO_PRIVATE_KEY);
        CK_ULONG len = 0;
        unsigned char *v;
        bool seen[6] = { false };

        ck_assert_uint_eq(mt_attr_ulong(s, k, CKA_KEY_TYPE), CKK_RSA);
        ck_assert(mt_attr_bool(s, k, CKA_TOKEN) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_PRIVATE) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_SIGN) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_SENSITIVE) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_EXTRACTABLE) == CK_FALSE);
        ck_assert(mt_attr_bool(s, k, CKA_ALWAYS_SENSITIVE) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_NEVER_EXTRACTABLE) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_DECRYPT) == CK_FALSE);
        v = mt_attr(s, k, CKA_LABEL, &len);
        ck_assert_uint_gt(len, 0);
        free(v);

        v = mt_attr(s, k, CKA_ALLOWED_MECHANISMS, &len);
        ck_assert_uint_eq(len, sizeof(six_mechs));
        for (size_t i = 0; i < 6; i++) {
            CK_MECHANISM_TYPE m;

            memcpy(&m, v + i * sizeof(m), sizeof(m));
            for (size_t j = 0; j < 6; j++)
                if (m == six_mechs[j])
                    seen[j] = true;
        }
        for (size_t j = 0; j < 6; j++)
            ck_assert_msg(seen[j], "token %d: CKA_ALLOWED_MECHANISMS lacks "
                          "0x%lx", r, (unsigned long)six_mechs[j]);
        free(v);
    }
}
END_TEST

START_TEST(test_always_authenticate_default)
{
    CK_SESSION_HANDLE sa = mt_session_login(MT_AUTH);
    CK_SESSION_HANDLE ss = mt_session_login(MT_SIGN);

    ck_assert(mt_attr_bool(sa, mt_one(sa, CKO_PRIVATE_KEY),
                           CKA_ALWAYS_AUTHENTICATE) == CK_FALSE);
    ck_assert(mt_attr_bool(ss, mt_one(ss, CKO_PRIVATE_KEY),
                           CKA_ALWAYS_AUTHENTICATE) == CK_TRUE);
}
END_TEST

START_TEST(test_public_key_attributes)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session_login((enum mt_role)r);
        CK_OBJECT_HANDLE k = mt_one(s, CKO_PUBLIC_KEY);
        CK_ULONG len = 0;
        unsigned char *label;

        ck_assert_uint_eq(mt_attr_ulong(s, k, CKA_KEY_TYPE), CKK_RSA);
        ck_assert(mt_attr_bool(s, k, CKA_TOKEN) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_VERIFY) == CK_TRUE);
        ck_assert(mt_attr_bool(s, k, CKA_PRIVATE) ==
                  (r == MT_SIGN ? CK_TRUE : CK_FALSE));
        label = mt_attr(s, k, CKA_LABEL, &len);
        ck_assert_uint_gt(len, 0);
        free(label);
    }
}
END_TEST

START_TEST(test_getattr_null_gives_lengths)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h = mt_cert_obj(s, MT_CERT_AUTH);
    size_t dlen = 0;
    CK_ATTRIBUTE t[4] = {
        { CKA_CLASS, NULL, 0 },
        { CKA_VALUE, NULL, 0 },
        { CKA_TOKEN, NULL, 0 },
        { CKA_LABEL, NULL, 12345 },
    };

    mt_cert_der(MT_CERT_AUTH, &dlen);
    ck_assert_rv(fx.f->C_GetAttributeValue(s, h, t, 4), CKR_OK);
    ck_assert_uint_eq(t[0].ulValueLen, sizeof(CK_OBJECT_CLASS));
    ck_assert_uint_eq(t[1].ulValueLen, dlen);
    ck_assert_uint_eq(t[2].ulValueLen, sizeof(CK_BBOOL));
    ck_assert_uint_gt(t[3].ulValueLen, 0);
    ck_assert_uint_ne(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_ne(t[3].ulValueLen, 12345);
}
END_TEST

START_TEST(test_getattr_buffer_too_small)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h = mt_cert_obj(s, MT_CERT_AUTH);
    CK_OBJECT_CLASS cls = 0xDEAD;
    CK_CERTIFICATE_TYPE ct = 0xDEAD;
    unsigned char small[10];
    CK_ATTRIBUTE t[3] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_VALUE, small, sizeof(small) },
        { CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
    };

    ck_assert_rv(fx.f->C_GetAttributeValue(s, h, t, 3), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    /* The others are still processed. */
    ck_assert_uint_eq(t[0].ulValueLen, sizeof(cls));
    ck_assert_uint_eq(cls, CKO_CERTIFICATE);
    ck_assert_uint_eq(t[2].ulValueLen, sizeof(ct));
    ck_assert_uint_eq(ct, CKC_X_509);
}
END_TEST

START_TEST(test_getattr_sensitive)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE k = mt_one(s, CKO_PRIVATE_KEY);
    CK_OBJECT_CLASS cls = 0xDEAD;
    CK_KEY_TYPE kt = 0xDEAD;
    unsigned char buf[512];
    CK_ATTRIBUTE t[3] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_PRIVATE_EXPONENT, buf, sizeof(buf) },
        { CKA_KEY_TYPE, &kt, sizeof(kt) },
    };
    CK_ATTRIBUTE q = { CKA_PRIME_1, NULL, 0 };
    CK_ATTRIBUTE v = { CKA_VALUE, buf, sizeof(buf) };

    ck_assert_rv(fx.f->C_GetAttributeValue(s, k, t, 3),
                 CKR_ATTRIBUTE_SENSITIVE);
    ck_assert_uint_eq(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[0].ulValueLen, sizeof(cls));
    ck_assert_uint_eq(cls, CKO_PRIVATE_KEY);
    ck_assert_uint_eq(t[2].ulValueLen, sizeof(kt));
    ck_assert_uint_eq(kt, CKK_RSA);

    /* A length query of a sensitive attribute is refused the same way. */
    ck_assert_rv(fx.f->C_GetAttributeValue(s, k, &q, 1),
                 CKR_ATTRIBUTE_SENSITIVE);
    ck_assert_uint_eq(q.ulValueLen, CK_UNAVAILABLE_INFORMATION);

    /* CKA_VALUE, which a client may ask of any key, is refused as
     * sensitive too. */
    ck_assert_rv(fx.f->C_GetAttributeValue(s, k, &v, 1),
                 CKR_ATTRIBUTE_SENSITIVE);
    ck_assert_uint_eq(v.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}
END_TEST

START_TEST(test_getattr_type_invalid)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h = mt_cert_obj(s, MT_CERT_AUTH);
    CK_OBJECT_CLASS cls = 0xDEAD;
    unsigned char buf[16];
    size_t dlen = 0;
    CK_ATTRIBUTE t[4] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { UNKNOWN_ATTR, buf, sizeof(buf) },
        { CKA_VALUE, NULL, 0 },
        { CKA_MODULUS, buf, sizeof(buf) },  /* not a certificate's */
    };

    mt_cert_der(MT_CERT_AUTH, &dlen);
    ck_assert_rv(fx.f->C_GetAttributeValue(s, h, t, 4),
                 CKR_ATTRIBUTE_TYPE_INVALID);
    ck_assert_uint_eq(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[0].ulValueLen, sizeof(cls));
    ck_assert_uint_eq(cls, CKO_CERTIFICATE);
    ck_assert_uint_eq(t[2].ulValueLen, dlen);
}
END_TEST

START_TEST(test_getattr_mixed_template)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE k = mt_one(s, CKO_PRIVATE_KEY);
    CK_OBJECT_CLASS cls = 0xDEAD;
    CK_KEY_TYPE kt = 0xDEAD;
    CK_BBOOL sign = 0xAA;
    unsigned char exp[512], unk[16], mod[10];
    CK_ATTRIBUTE t[6] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_PRIVATE_EXPONENT, exp, sizeof(exp) },
        { UNKNOWN_ATTR, unk, sizeof(unk) },
        { CKA_MODULUS, mod, sizeof(mod) },
        { CKA_KEY_TYPE, &kt, sizeof(kt) },
        { CKA_SIGN, &sign, sizeof(sign) },
    };
    CK_ATTRIBUTE id = { CKA_ID, NULL, 0 };
    CK_RV rv;

    rv = fx.f->C_GetAttributeValue(s, k, t, 6);
    /* With several errors, any one of them may be returned (5.7). */
    ck_assert_msg(MT_RV_IN(rv, CKR_ATTRIBUTE_SENSITIVE,
                           CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL),
                  "mixed template: 0x%lx", (unsigned long)rv);
    /* Every attribute was processed. */
    ck_assert_uint_eq(t[0].ulValueLen, sizeof(cls));
    ck_assert_uint_eq(cls, CKO_PRIVATE_KEY);
    ck_assert_uint_eq(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(t[4].ulValueLen, sizeof(kt));
    ck_assert_uint_eq(kt, CKK_RSA);
    ck_assert_uint_eq(t[5].ulValueLen, sizeof(sign));
    ck_assert_uint_eq(sign, CK_TRUE);
    ck_assert_rv(fx.f->C_GetAttributeValue(s, k, &id, 1), CKR_OK);
    ck_assert_uint_gt(id.ulValueLen, 0);
}
END_TEST

START_TEST(test_getattr_bad_handle)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };

    ck_assert_rv(fx.f->C_GetAttributeValue(s, (CK_OBJECT_HANDLE)0x7FFF1234, &t,
                                           1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_rv(fx.f->C_GetAttributeValue(s, CK_INVALID_HANDLE, &t, 1),
                 CKR_OBJECT_HANDLE_INVALID);
}
END_TEST

/* ---- C_FindObjects ---- */

static const CK_OBJECT_CLASS all_classes[] = {
    CKO_DATA, CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY,
    CKO_SECRET_KEY, CKO_HW_FEATURE, CKO_DOMAIN_PARAMETERS, CKO_MECHANISM,
    CKO_OTP_KEY, CKO_PROFILE
};

static void assert_empty_template_finds_all(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE h[32];
    CK_ULONG n = mt_find(s, NULL, 0, h, 32), by_class = 0;

    ck_assert_uint_le(n, 32);
    for (CK_ULONG i = 0; i < n; i++)
        for (CK_ULONG j = i + 1; j < n; j++)
            ck_assert_msg(h[i] != h[j], "handle %lu found twice",
                          (unsigned long)h[i]);
    for (size_t c = 0; c < sizeof(all_classes) / sizeof(*all_classes); c++)
        by_class += count_class(s, all_classes[c]);
    ck_assert_uint_eq(n, by_class);
}

START_TEST(test_find_empty_template)
{
    CK_SESSION_HANDLE sa = mt_session(mt_slot(MT_AUTH));
    CK_SESSION_HANDLE ss = mt_session(mt_slot(MT_SIGN));
    CK_OBJECT_HANDLE h[32];

    /* Before login: 2 certificates, a public key, the profile at least. */
    ck_assert_uint_ge(mt_find(sa, NULL, 0, h, 32), 4);
    assert_empty_template_finds_all(sa);
    assert_empty_template_finds_all(ss);
    mt_login(sa, MT_AUTH_PIN);
    mt_login(ss, MT_SIGN_PIN);
    assert_empty_template_finds_all(sa);
    assert_empty_template_finds_all(ss);
    ck_assert_uint_ge(mt_find(ss, NULL, 0, h, 32), 4);
}
END_TEST

START_TEST(test_find_by_class)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);

    ck_assert_uint_eq(count_class(s, CKO_CERTIFICATE), 2);
    ck_assert_uint_eq(count_class(s, CKO_PUBLIC_KEY), 1);
    ck_assert_uint_eq(count_class(s, CKO_PRIVATE_KEY), 1);
    ck_assert_uint_eq(count_class(s, CKO_SECRET_KEY), 0);
}
END_TEST

START_TEST(test_find_by_id_and_class)
{
    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        CK_SESSION_HANDLE s = mt_session_login((enum mt_role)r);
        CK_OBJECT_HANDLE cert = mt_cert_obj(s, user_cert(r));
        CK_ULONG idlen = 0;
        unsigned char *id = mt_attr(s, cert, CKA_ID, &idlen);
        CK_OBJECT_CLASS cls;
        CK_ATTRIBUTE t[2] = {
            { CKA_ID, id, idlen },
            { CKA_CLASS, &cls, sizeof(cls) },
        };
        CK_OBJECT_HANDLE h[4];

        cls = CKO_CERTIFICATE;
        ck_assert_uint_eq(mt_find(s, t, 2, h, 4), 1);
        ck_assert_uint_eq(h[0], cert);
        cls = CKO_PUBLIC_KEY;
        ck_assert_uint_eq(mt_find(s, t, 2, h, 4), 1);
        ck_assert_uint_eq(h[0], mt_one(s, CKO_PUBLIC_KEY));
        cls = CKO_PRIVATE_KEY;
        ck_assert_uint_eq(mt_find(s, t, 2, h, 4), 1);
        ck_assert_uint_eq(h[0], mt_one(s, CKO_PRIVATE_KEY));
        /* The ID alone: exactly the key pair and its certificate. */
        ck_assert_uint_eq(mt_find(s, t, 1, h, 4), 3);
        free(id);
    }
}
END_TEST

START_TEST(test_find_no_match)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_CLASS cert = CKO_CERTIFICATE;
    CK_BBOOL yes = CK_TRUE;
    CK_CERTIFICATE_TYPE wtls = CKC_WTLS;
    CK_ATTRIBUTE by_id = { CKA_ID, "no such id", 10 };
    CK_ATTRIBUTE by_label[2] = {
        { CKA_CLASS, &cert, sizeof(cert) },
        { CKA_LABEL, "no such label", 13 },
    };
    CK_ATTRIBUTE by_type[2] = {
        { CKA_CLASS, &cert, sizeof(cert) },
        { CKA_CERTIFICATE_TYPE, &wtls, sizeof(wtls) },
    };
    CK_ATTRIBUTE by_unknown = { UNKNOWN_ATTR, &yes, sizeof(yes) };
    CK_OBJECT_HANDLE h[4];
    CK_RV rv;

    ck_assert_uint_eq(mt_find(s, &by_id, 1, h, 4), 0);
    ck_assert_uint_eq(mt_find(s, by_label, 2, h, 4), 0);
    ck_assert_uint_eq(mt_find(s, by_type, 2, h, 4), 0);
    /* An attribute no object has: no match, or refused at once (2.40
     * lists CKR_ATTRIBUTE_TYPE_INVALID for C_FindObjectsInit). */
    rv = fx.f->C_FindObjectsInit(s, &by_unknown, 1);
    if (rv == CKR_OK) {
        CK_ULONG got = 99;

        ck_assert_rv(fx.f->C_FindObjects(s, h, 4, &got), CKR_OK);
        ck_assert_uint_eq(got, 0);
        ck_assert_rv(fx.f->C_FindObjectsFinal(s), CKR_OK);
    } else {
        ck_assert_rv(rv, CKR_ATTRIBUTE_TYPE_INVALID);
    }
}
END_TEST

START_TEST(test_find_by_value_and_label)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE cert = mt_cert_obj(s, MT_CERT_AUTH);
    CK_ULONG len = 0;
    unsigned char *label = mt_attr(s, cert, CKA_LABEL, &len);
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE t[2] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_LABEL, label, len },
    };
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = mt_find(s, t, 2, h, 4);
    bool found = false;

    for (CK_ULONG i = 0; i < n; i++)
        found |= h[i] == cert;
    ck_assert_msg(found, "the certificate is not found by its own label");
    free(label);
}
END_TEST

START_TEST(test_find_small_batches)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE all[32], one[32];
    CK_ULONG n = mt_find(s, NULL, 0, all, 32), m = 0, got = 0;

    ck_assert_rv(fx.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    for (;;) {
        ck_assert_uint_lt(m, 32);
        ck_assert_rv(fx.f->C_FindObjects(s, &one[m], 1, &got), CKR_OK);
        ck_assert_uint_le(got, 1);
        if (got == 0)
            break;
        m++;
    }
    /* After the end, still nothing. */
    ck_assert_rv(fx.f->C_FindObjects(s, &one[0], 1, &got), CKR_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_rv(fx.f->C_FindObjectsFinal(s), CKR_OK);
    ck_assert_uint_eq(m, n);
    for (CK_ULONG i = 0; i < n; i++) {
        bool found = false;

        for (CK_ULONG j = 0; j < m; j++)
            found |= all[i] == one[j];
        ck_assert_msg(found, "handle %lu missing in batches",
                      (unsigned long)all[i]);
    }
}
END_TEST

START_TEST(test_find_operation_states)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(MT_AUTH));
    CK_OBJECT_HANDLE h[4];
    CK_ULONG got = 0;

    ck_assert_rv(fx.f->C_FindObjects(s, h, 4, &got),
                 CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_rv(fx.f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_rv(fx.f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    ck_assert_rv(fx.f->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
    ck_assert_rv(fx.f->C_FindObjects(s, NULL, 4, &got), CKR_ARGUMENTS_BAD);
    ck_assert_rv(fx.f->C_FindObjectsFinal(s), CKR_OK);
    ck_assert_rv(fx.f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
}
END_TEST

/* ---- A write-protected token ---- */

#define REFUSED_WRITE CKR_TOKEN_WRITE_PROTECTED, CKR_FUNCTION_NOT_SUPPORTED, \
                      CKR_SESSION_READ_ONLY

/* What the token holds (every handle), to see it unchanged. */
struct snapshot {
    CK_ULONG n;
    CK_OBJECT_HANDLE h[32];
};

static struct snapshot snap(CK_SESSION_HANDLE s)
{
    struct snapshot sn;

    sn.n = mt_find(s, NULL, 0, sn.h, 32);
    return sn;
}

static void assert_same(CK_SESSION_HANDLE s, const struct snapshot *before)
{
    struct snapshot after = snap(s);

    ck_assert_uint_eq(after.n, before->n);
    for (CK_ULONG i = 0; i < after.n; i++) {
        bool found = false;

        for (CK_ULONG j = 0; j < before->n; j++)
            found |= after.h[i] == before->h[j];
        ck_assert_msg(found, "a new object appeared");
    }
}

START_TEST(test_readonly_create_object)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    struct snapshot before = snap(s);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[3] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_TOKEN, &yes, sizeof(yes) },
        { CKA_VALUE, "data", 4 },
    };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = fx.f->C_CreateObject(s, t, 3, &h);

    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE), "C_CreateObject: 0x%lx",
                  (unsigned long)rv);
    assert_same(s, &before);
}
END_TEST

START_TEST(test_readonly_copy_object)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    struct snapshot before = snap(s);
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t = { CKA_TOKEN, &yes, sizeof(yes) };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = fx.f->C_CopyObject(s, mt_cert_obj(s, MT_CERT_AUTH), &t, 1, &h);

    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE, CKR_ACTION_PROHIBITED),
                  "C_CopyObject: 0x%lx", (unsigned long)rv);
    assert_same(s, &before);
}
END_TEST

START_TEST(test_readonly_destroy_object)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    struct snapshot before = snap(s);
    CK_OBJECT_HANDLE cert = mt_cert_obj(s, MT_CERT_AUTH);
    CK_OBJECT_HANDLE key = mt_one(s, CKO_PRIVATE_KEY);
    CK_RV rv;

    rv = fx.f->C_DestroyObject(s, cert);
    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE, CKR_ACTION_PROHIBITED),
                  "C_DestroyObject(cert): 0x%lx", (unsigned long)rv);
    rv = fx.f->C_DestroyObject(s, key);
    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE, CKR_ACTION_PROHIBITED),
                  "C_DestroyObject(key): 0x%lx", (unsigned long)rv);
    assert_same(s, &before);
    ck_assert_uint_eq(mt_cert_obj(s, MT_CERT_AUTH), cert);
}
END_TEST

START_TEST(test_readonly_set_attribute)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    CK_OBJECT_HANDLE cert = mt_cert_obj(s, MT_CERT_AUTH);
    CK_ULONG len = 0;
    unsigned char *label = mt_attr(s, cert, CKA_LABEL, &len);
    CK_ATTRIBUTE t = { CKA_LABEL, "changed", 7 };
    CK_RV rv = fx.f->C_SetAttributeValue(s, cert, &t, 1);

    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE, CKR_ATTRIBUTE_READ_ONLY,
                           CKR_ACTION_PROHIBITED),
                  "C_SetAttributeValue: 0x%lx", (unsigned long)rv);
    ck_assert(mt_attr_eq(s, cert, CKA_LABEL, label, len));
    free(label);
}
END_TEST

START_TEST(test_readonly_generate_key_pair)
{
    CK_SESSION_HANDLE s = mt_session_login(MT_AUTH);
    struct snapshot before = snap(s);
    CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
    CK_ULONG bits = 2048;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[2] = {
        { CKA_MODULUS_BITS, &bits, sizeof(bits) },
        { CKA_TOKEN, &yes, sizeof(yes) },
    };
    CK_ATTRIBUTE priv[1] = { { CKA_TOKEN, &yes, sizeof(yes) } };
    CK_OBJECT_HANDLE hp = CK_INVALID_HANDLE, hk = CK_INVALID_HANDLE;
    CK_RV rv = fx.f->C_GenerateKeyPair(s, &mech, pub, 2, priv, 1, &hp, &hk);

    ck_assert_msg(MT_RV_IN(rv, REFUSED_WRITE, CKR_MECHANISM_INVALID),
                  "C_GenerateKeyPair: 0x%lx", (unsigned long)rv);
    assert_same(s, &before);
}
END_TEST

/* R/W sessions open (pkcs11-tool asks for one even to sign), but the token
 * stays write-protected: nothing can be created or destroyed through one. */
START_TEST(test_readonly_rw_session)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_SESSION_INFO si;

    for (int r = MT_AUTH; r <= MT_SIGN; r++) {
        ck_assert(mt_token_info(mt_slot(r)).flags & CKF_WRITE_PROTECTED);
        ck_assert_rv(fx.f->C_OpenSession(mt_slot(r),
                                         CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                         NULL, NULL, &s),
                     CKR_OK);
        ck_assert_rv(fx.f->C_GetSessionInfo(s, &si), CKR_OK);
        ck_assert(si.flags & CKF_RW_SESSION);
        ck_assert_uint_eq(si.state, CKS_RW_PUBLIC_SESSION);
        {
            struct snapshot before = snap(s);
            CK_OBJECT_CLASS cls = CKO_DATA;
            CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) } };
            CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

            ck_assert_uint_gt(before.n, 0);
            ck_assert_rv(fx.f->C_CreateObject(s, t, 1, &h),
                         CKR_TOKEN_WRITE_PROTECTED);
            ck_assert_rv(fx.f->C_DestroyObject(s, before.h[0]),
                         CKR_TOKEN_WRITE_PROTECTED);
            assert_same(s, &before);
        }
        ck_assert_rv(fx.f->C_CloseSession(s), CKR_OK);
        ck_assert_rv(fx.f->C_OpenSession(mt_slot(r), 0, NULL, NULL, &s),
                     CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    }
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = mt_tcase(s, "objects", true);

    check_add_tests(
        tc, test_auth_objects_without_login, test_auth_profile_object,
        test_auth_private_key_after_login, test_sign_before_login,
        test_sign_after_login, test_sign_private_objects_hidden_after_logout,
        test_cert_values_match_card, test_cert_fields_match_openssl,
        test_cert_attributes, test_key_modulus_matches_cert,
        test_private_key_attributes, test_always_authenticate_default,
        test_public_key_attributes);

    tc = mt_tcase(s, "attributes", true);
    check_add_tests(tc, test_getattr_null_gives_lengths,
                    test_getattr_buffer_too_small, test_getattr_sensitive,
                    test_getattr_type_invalid, test_getattr_mixed_template,
                    test_getattr_bad_handle);

    tc = mt_tcase(s, "find", true);
    check_add_tests(tc, test_find_empty_template, test_find_by_class,
                    test_find_by_id_and_class, test_find_no_match,
                    test_find_by_value_and_label, test_find_small_batches,
                    test_find_operation_states);

    tc = mt_tcase(s, "read-only", true);
    check_add_tests(tc, test_readonly_create_object, test_readonly_copy_object,
                    test_readonly_destroy_object, test_readonly_set_attribute,
                    test_readonly_generate_key_pair, test_readonly_rw_session);
}
