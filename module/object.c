/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Objects: what the certificates on the card become (certificate, public
 * key, private key; the CA certificates; the CKO_PROFILE that tells NSS
 * the authentication token's certificates are public).  The calls that
 * read them are find.c's.  Layer: module/, below card.c, which owns the
 * objects; parses certificates with OpenSSL and calls nothing of apdu/.
 *
 * Objects are built once per card insertion (the signature certificate's
 * after the signature password) and never change; their handles are the
 * card's handle base plus a fixed index, so they are stable while the card
 * stays in and never reused by the next card.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "module.h"
#include "log.h"

/* CKA_IDs: a certificate and its keys share one, unique on the token. */
static const uint8_t ID_AUTH[] = { 0x01 };
static const uint8_t ID_SIGN[] = { 0x02 };
static const uint8_t ID_AUTH_CA[] = { 0x81 };
static const uint8_t ID_SIGN_CA[] = { 0x82 };

static const CK_MECHANISM_TYPE mc_key_mechs[] = {
    CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS,
};

/* ---- Building ---- */

struct builder {
    struct mc_attr *a;
    size_t n, cap;
    bool failed;
};

static void add(struct builder *b, CK_ATTRIBUTE_TYPE type, const void *val,
                size_t len)
{
    struct mc_attr *at;

    if (b->failed)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 32;
        struct mc_attr *grown = realloc(b->a, cap * sizeof(*grown));

        if (!grown) {
            b->failed = true;
            return;
        }
        b->a = grown;
        b->cap = cap;
    }
    at = &b->a[b->n];
    memset(at, 0, sizeof(*at));
    at->type = type;
    at->len = len;
    if (len) {
        at->val = malloc(len);
        if (!at->val) {
            b->failed = true;
            return;
        }
        memcpy(at->val, val, len);
    }
    b->n++;
}

static void add_ulong(struct builder *b, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    add(b, type, &v, sizeof(v));
}

static void add_bool(struct builder *b, CK_ATTRIBUTE_TYPE type, bool v)
{
    CK_BBOOL bb = v ? CK_TRUE : CK_FALSE;

    add(b, type, &bb, sizeof(bb));
}

static void add_str(struct builder *b, CK_ATTRIBUTE_TYPE type, const char *s)
{
    add(b, type, s, strlen(s));
}

/* An attribute that exists but is never revealed. */
static void add_sensitive(struct builder *b, CK_ATTRIBUTE_TYPE type)
{
    add(b, type, NULL, 0);
    if (!b->failed)
        b->a[b->n - 1].sensitive = true;
}

static void attrs_free(struct mc_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        OPENSSL_clear_free(a[i].val, a[i].len);
    free(a);
}

static CK_RV finish(struct builder *b, CK_OBJECT_HANDLE handle,
                    enum jpki_role role, CK_OBJECT_CLASS cls, bool priv,
                    struct mc_object **out)
{
    struct mc_object *o;

    if (b->failed)
        goto fail;
    o = calloc(1, sizeof(*o));
    if (!o)
        goto fail;
    o->handle = handle;
    o->role = role;
    o->cls = cls;
    o->priv = priv;
    o->attrs = b->a;
    o->nattrs = b->n;
    *out = o;
    return CKR_OK;
fail:
    attrs_free(b->a, b->n);
    return CKR_HOST_MEMORY;
}

/* Storage attributes every object has. */
static void add_storage(struct builder *b, CK_OBJECT_CLASS cls, bool priv,
                        const char *label)
{
    add_ulong(b, CKA_CLASS, cls);
    add_bool(b, CKA_TOKEN, true);
    add_bool(b, CKA_PRIVATE, priv);
    add_bool(b, CKA_MODIFIABLE, false);
    add_bool(b, CKA_COPYABLE, false);
    add_bool(b, CKA_DESTROYABLE, false);
    add_str(b, CKA_LABEL, label);
}

/* What a certificate tells, as DER and bytes. */
struct cert_facts {
    uint8_t *subject, *issuer, *serial, *spki, *modulus, *exponent;
    int subject_len, issuer_len, serial_len, spki_len, modulus_len,
        exponent_len;
    CK_ULONG bits;
    CK_DATE start, end;
    bool have_dates;
    bool rsa;
    uint8_t check[3];
    uint8_t spki_hash[SHA_DIGEST_LENGTH];
    unsigned spki_hash_len;
};

static void facts_free(struct cert_facts *f)
{
    OPENSSL_clear_free(f->subject, f->subject_len > 0 ? f->subject_len : 0);
    OPENSSL_clear_free(f->issuer, f->issuer_len > 0 ? f->issuer_len : 0);
    OPENSSL_clear_free(f->serial, f->serial_len > 0 ? f->serial_len : 0);
    OPENSSL_free(f->spki);
    OPENSSL_free(f->modulus);
    OPENSSL_free(f->exponent);
}

static void to_date(const ASN1_TIME *t, CK_DATE *d)
{
    struct tm tm;
    char buf[32];

    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return;
    snprintf(buf, sizeof(buf), "%04d%02d%02d", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
    memcpy(d->year, buf, 4);
    memcpy(d->month, buf + 4, 2);
    memcpy(d->day, buf + 6, 2);
}

/* A big number as unsigned big-endian bytes (OPENSSL_malloc'd). */
static int bn_param(const EVP_PKEY *pk, const char *name, uint8_t **out)
{
    BIGNUM *bn = NULL;
    int len;

    if (!EVP_PKEY_get_bn_param(pk, name, &bn))
        return -1;
    len = BN_num_bytes(bn);
    *out = OPENSSL_malloc(len > 0 ? len : 1);
    if (!*out) {
        BN_free(bn);
        return -1;
    }
    BN_bn2bin(bn, *out);
    BN_free(bn);
    return len;
}

/*
 * What the objects need from the parsed certificate @x.  Returns CKR_OK,
 * CKR_DEVICE_ERROR when the certificate has no usable public key (the
 * card's fault), or CKR_HOST_MEMORY: re-encoding and hashing what OpenSSL
 * already parsed fail only for want of memory, and must fail the load
 * rather than leave a value out or uninitialised (found by
 * test-module-alloc).
 */
static CK_RV cert_facts(X509 *x, const uint8_t *der, size_t len,
                        struct cert_facts *f)
{
    EVP_PKEY *pk = X509_get0_pubkey(x), *own = NULL;
    uint8_t sha1[SHA_DIGEST_LENGTH];
    CK_RV rv = CKR_HOST_MEMORY;

    memset(f, 0, sizeof(*f));
    if (!pk) {
        /* OpenSSL still parses a certificate whose key it could not
         * decode, and drops why.  Decode the key on its own, so that a
         * failed allocation is not taken for a bad key. */
        uint8_t *spki = NULL;
        const uint8_t *q;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);

        if (n <= 0)
            goto out;
        q = spki;
        own = d2i_PUBKEY(NULL, &q, n);
        OPENSSL_free(spki);
        if (!own) {
            rv = mc_ossl_nomem() ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
            goto out;
        }
        pk = own;
    }
    f->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &f->subject);
    f->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &f->issuer);
    f->serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &f->serial);
    f->spki_len = i2d_PUBKEY(pk, &f->spki);
    if (f->subject_len <= 0 || f->issuer_len <= 0 || f->serial_len <= 0
        || f->spki_len <= 0)
        goto out;
    memset(&f->start, '0', sizeof(f->start));
    memset(&f->end, '0', sizeof(f->end));
    to_date(X509_get0_notBefore(x), &f->start);
    to_date(X509_get0_notAfter(x), &f->end);
    if (!SHA1(der, len, sha1))
        goto out;
    memcpy(f->check, sha1, sizeof(f->check));
    if (!X509_pubkey_digest(x, EVP_sha1(), f->spki_hash, &f->spki_hash_len))
        goto out;

    /* The type by number first: EVP_PKEY_is_a() looks the name up, which
     * allocates, and a failure there would pass an RSA key for another
     * kind (found by test-module-alloc). */
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA || EVP_PKEY_is_a(pk, "RSA")) {
        f->modulus_len = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &f->modulus);
        f->exponent_len = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &f->exponent);
        if (f->modulus_len <= 0 || f->exponent_len <= 0)
            goto out;
        f->bits = (CK_ULONG)EVP_PKEY_get_bits(pk);
        f->rsa = true;
    }
    rv = CKR_OK;
out:
    EVP_PKEY_free(own);
    return rv;
}

static CK_RV build_cert(const struct cert_facts *f, const uint8_t *der,
                        size_t len, bool user, bool priv, const char *label,
                        const uint8_t *id, size_t idlen,
                        CK_OBJECT_HANDLE handle, enum jpki_role role,
                        struct mc_object **out)
{
    struct builder b = { 0 };

    add_storage(&b, CKO_CERTIFICATE, priv, label);
    add_ulong(&b, CKA_CERTIFICATE_TYPE, CKC_X_509);
    add_bool(&b, CKA_TRUSTED, false);
    /* 1: token user, 2: authority (PKCS#11 2.40 4.6.2). */
    add_ulong(&b, CKA_CERTIFICATE_CATEGORY, user ? 1 : 2);
    add(&b, CKA_CHECK_VALUE, f->check, sizeof(f->check));
    add(&b, CKA_START_DATE, &f->start, sizeof(f->start));
    add(&b, CKA_END_DATE, &f->end, sizeof(f->end));
    add(&b, CKA_PUBLIC_KEY_INFO, f->spki, (size_t)f->spki_len);
    add(&b, CKA_SUBJECT, f->subject, (size_t)f->subject_len);
    add(&b, CKA_ID, id, idlen);
    add(&b, CKA_ISSUER, f->issuer, (size_t)f->issuer_len);
    add(&b, CKA_SERIAL_NUMBER, f->serial, (size_t)f->serial_len);
    add(&b, CKA_VALUE, der, len);
    add(&b, CKA_URL, NULL, 0);
    add(&b, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, f->spki_hash, f->spki_hash_len);
    add(&b, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0);
    add_ulong(&b, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
    add_ulong(&b, CKA_NAME_HASH_ALGORITHM, CKM_SHA_1);
    return finish(&b, handle, role, CKO_CERTIFICATE, priv, out);
}

/* What public and private keys share. */
static void add_key_common(struct builder *b, const struct cert_facts *f,
                           const uint8_t *id, size_t idlen)
{
    add_ulong(b, CKA_KEY_TYPE, CKK_RSA);
    add(b, CKA_ID, id, idlen);
    add(b, CKA_START_DATE, NULL, 0);
    add(b, CKA_END_DATE, NULL, 0);
    add_bool(b, CKA_DERIVE, false);
    /* Whether J-LIS generated the key on the card is not for us to claim. */
    add_bool(b, CKA_LOCAL, false);
    add_ulong(b, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
    add(b, CKA_ALLOWED_MECHANISMS, mc_key_mechs, sizeof(mc_key_mechs));
    add(b, CKA_SUBJECT, f->subject, (size_t)f->subject_len);
    add(b, CKA_MODULUS, f->modulus, (size_t)f->modulus_len);
    add_ulong(b, CKA_MODULUS_BITS, f->bits);
    add(b, CKA_PUBLIC_EXPONENT, f->exponent, (size_t)f->exponent_len);
    add(b, CKA_PUBLIC_KEY_INFO, f->spki, (size_t)f->spki_len);
}

static CK_RV build_pub(const struct cert_facts *f, bool priv, const char *label,
                       const uint8_t *id, size_t idlen, CK_OBJECT_HANDLE handle,
                       enum jpki_role role, struct mc_object **out)
{
    struct builder b = { 0 };

    add_storage(&b, CKO_PUBLIC_KEY, priv, label);
    add_key_common(&b, f, id, idlen);
    add_bool(&b, CKA_ENCRYPT, false);
    add_bool(&b, CKA_VERIFY, true);
    add_bool(&b, CKA_VERIFY_RECOVER, false);
    add_bool(&b, CKA_WRAP, false);
    add_bool(&b, CKA_TRUSTED, false);
    return finish(&b, handle, role, CKO_PUBLIC_KEY, priv, out);
}

static CK_RV build_priv(const struct cert_facts *f, bool always_auth,
                        const char *label, const uint8_t *id, size_t idlen,
                        CK_OBJECT_HANDLE handle, enum jpki_role role,
                        struct mc_object **out)
{
    static const CK_ATTRIBUTE_TYPE secret[] = {
        CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
        CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
    };
    struct builder b = { 0 };

    add_storage(&b, CKO_PRIVATE_KEY, true, label);
    add_key_common(&b, f, id, idlen);
    add_bool(&b, CKA_SENSITIVE, true);
    add_bool(&b, CKA_DECRYPT, false);
    add_bool(&b, CKA_SIGN, true);
    add_bool(&b, CKA_SIGN_RECOVER, false);
    add_bool(&b, CKA_UNWRAP, false);
    add_bool(&b, CKA_EXTRACTABLE, false);
    add_bool(&b, CKA_ALWAYS_SENSITIVE, true);
    add_bool(&b, CKA_NEVER_EXTRACTABLE, true);
    add_bool(&b, CKA_WRAP_WITH_TRUSTED, false);
    add_bool(&b, CKA_ALWAYS_AUTHENTICATE, always_auth);
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        add_sensitive(&b, secret[i]);
    return finish(&b, handle, role, CKO_PRIVATE_KEY, true, out);
}

CK_RV mc_objects_from_cert(enum jpki_cert which, const uint8_t *der,
                           size_t len, CK_OBJECT_HANDLE handle_base,
                           bool always_auth, struct mc_object **objs)
{
    const unsigned char *p = der;
    struct cert_facts f;
    X509 *x;
    enum jpki_role role;
    enum mc_obj_id cert_idx, pub_idx = MC_OBJ_COUNT, priv_idx = MC_OBJ_COUNT;
    const char *cert_label, *key_label = NULL;
    const uint8_t *id;
    bool user, priv;
    CK_RV rv;

    switch (which) {
    case JPKI_CERT_AUTH:
        role = JPKI_AUTH;
        cert_idx = MC_OBJ_AUTH_CERT;
        pub_idx = MC_OBJ_AUTH_PUB;
        priv_idx = MC_OBJ_AUTH_PRIV;
        cert_label = "User Authentication Certificate";
        key_label = "User Authentication Key";
        id = ID_AUTH;
        break;
    case JPKI_CERT_AUTH_CA:
        role = JPKI_AUTH;
        cert_idx = MC_OBJ_AUTH_CA;
        cert_label = "User Authentication CA";
        id = ID_AUTH_CA;
        break;
    case JPKI_CERT_SIGN:
        role = JPKI_SIGN;
        cert_idx = MC_OBJ_SIGN_CERT;
        pub_idx = MC_OBJ_SIGN_PUB;
        priv_idx = MC_OBJ_SIGN_PRIV;
        cert_label = "Digital Signature Certificate";
        key_label = "Digital Signature Key";
        id = ID_SIGN;
        break;
    case JPKI_CERT_SIGN_CA:
    default:
        role = JPKI_SIGN;
        cert_idx = MC_OBJ_SIGN_CA;
        cert_label = "Digital Signature CA";
        id = ID_SIGN_CA;
        break;
    }
    user = key_label != NULL;
    /* The signature certificate holds the holder's name and address: the
     * card shows it only after the password, and so do we. */
    priv = which == JPKI_CERT_SIGN;

    /* A certificate OpenSSL cannot parse is the card's fault (device
     * error: the caller shows the token without it); an allocation that
     * failed on the way is not, and must not lose the object for good. */
    x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return mc_ossl_nomem() ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
    rv = cert_facts(x, der, len, &f);
    if (rv != CKR_OK)
        goto out;
    rv = build_cert(&f, der, len, user, priv, cert_label, id, 1,
                    handle_base + cert_idx + 1, role, &objs[cert_idx]);
    if (rv != CKR_OK || !user)
        goto out;
    if (!f.rsa) {
        /* Not this card generation's key: show the certificate only. */
        myna_log(MYNA_LOG_ERROR, "certificate %d: not an RSA key", (int)which);
        goto out;
    }
    rv = build_pub(&f, priv, key_label, id, 1, handle_base + pub_idx + 1,
                   role, &objs[pub_idx]);
    if (rv == CKR_OK)
        rv = build_priv(&f, which == JPKI_CERT_SIGN && always_auth,
                        key_label, id, 1, handle_base + priv_idx + 1, role,
                        &objs[priv_idx]);
out:
    facts_free(&f);
    X509_free(x);
    return rv;
}

CK_RV mc_object_profile(CK_OBJECT_HANDLE handle_base, struct mc_object **out)
{
    struct builder b = { 0 };

    add_ulong(&b, CKA_CLASS, CKO_PROFILE);
    add_bool(&b, CKA_TOKEN, true);
    add_bool(&b, CKA_PRIVATE, false);
    add_bool(&b, CKA_MODIFIABLE, false);
    add_bool(&b, CKA_COPYABLE, false);
    add_bool(&b, CKA_DESTROYABLE, false);
    add_str(&b, CKA_LABEL, "Public Certificates Token");
    add_ulong(&b, CKA_PROFILE_ID, CKP_PUBLIC_CERTIFICATES_TOKEN);
    return finish(&b, handle_base + MC_OBJ_AUTH_PROFILE + 1, JPKI_AUTH,
                  CKO_PROFILE, false, out);
}

void mc_object_free(struct mc_object *o)
{
    if (!o)
        return;
    attrs_free(o->attrs, o->nattrs);
    free(o);
}

const struct mc_attr *mc_object_attr(const struct mc_object *o,
                                     CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < o->nattrs; i++)
        if (o->attrs[i].type == type)
            return &o->attrs[i];
    return NULL;
}

/* ---- Lookup ---- */
