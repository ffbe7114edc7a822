/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Making a new virtual card: the SoftHSM2 token with the two RSA-2048 key
 * pairs (generated inside SoftHSM, never extracted), a test CA per
 * certificate (OpenSSL keys saved as PEM so that users can issue more),
 * the authentication and signature certificates in the style of the real
 * JPKI ones, the card's files (ef-XXXX.bin), the records of the
 * manufacture-number and card-info applications (mfg-record1.bin,
 * cardinfo-0002.bin) and DIR/card.state.  Calls
 * SoftHSM through emu-hsm.c, OpenSSL 3 and libc; nothing of apdu/.
 */
#include "config.h"
#include "emu-internal.h"
#include "emu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L
#define JLIS_OU "Japan Agency for Local Authority Information Systems"
/* The arc of the holder's basic four facts in the signature certificate's
 * subjectAltName (jpki-card.md, "Certificates"). */
#define JPKI_SAN_ARC "1.2.392.200149.8.5.5."

void emu_init_params_default(struct emu_init_params *p)
{
    memset(p, 0, sizeof(*p));
    p->auth_pin = "1234";
    p->sign_pin = "ABC123";
    /* Fake data: an obviously made-up holder at the J-LIS head office.
     * The name as the card-info AP holds it: family and given name
     * separated by U+3000 (the certificate carries the same bytes). */
    p->name = "テスト" "\xe3\x80\x80" "太郎";
    p->name_alt = NULL;
    p->address = "東京都千代田区一番町25番地";
    p->address_alt = NULL;
    p->birth = "319850401";
    p->sex = "1";
    p->city = "Chiyoda-ku";
    p->token_label = "JPKIAPICCTOKEN2";
    p->not_before_days = 0;
    p->valid_days = 5 * 365 + 1;
    p->serial = 0;
    p->text_pin = EMU_TEXT_PIN_DEFAULT;
    p->mfg_number = "AB12345678901";
}

static void ossl_err(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    fprintf(stderr, "mynacard-emu: %s: %s\n", what, e ? buf : "failed");
    ERR_clear_error();
}

/* @n characters of @set, at random (unbiased when the set's size divides
 * 256, as hex does). */
static int random_chars(char *out, size_t n, const char *set)
{
    size_t setlen = strlen(set);
    uint8_t b[64];
    size_t i;

    if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
        return -1;
    for (i = 0; i < n; i++)
        out[i] = set[b[i] % setlen];
    out[n] = '\0';
    OPENSSL_cleanse(b, sizeof(b));
    return 0;
}

/* @nbytes random bytes as hex. */
static int random_hex(char *out, size_t nbytes)
{
    return random_chars(out, 2 * nbytes, "0123456789ABCDEF");
}

/* An opaque serial-like name of @n characters, as the real certificates'
 * CN: digits and capitals, no personal data. */
static int random_serial_name(char *out, size_t n)
{
    return random_chars(out, n, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ");
}

static uint64_t random_serial(void)
{
    uint64_t v = 0;

    while (v == 0) {
        if (RAND_bytes((uint8_t *)&v, sizeof(v)) != 1)
            return 1;
        v &= 0x7fffffffffffffffULL; /* a positive INTEGER in 8 bytes */
    }
    return v;
}

/* ---- SoftHSM: the token and its keys ---- */

static EVP_PKEY *pubkey_from_hsm(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                                 CK_OBJECT_HANDLE pub)
{
    CK_BYTE n[512], e[16];
    CK_ATTRIBUTE attrs[] = {
        { CKA_MODULUS, n, sizeof(n) },
        { CKA_PUBLIC_EXPONENT, e, sizeof(e) },
    };
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;

    if (f->C_GetAttributeValue(s, pub, attrs, 2) != CKR_OK) {
        fprintf(stderr, "mynacard-emu: cannot read the public key\n");
        return NULL;
    }
    bn_n = BN_bin2bn(n, (int)attrs[0].ulValueLen, NULL);
    bn_e = BN_bin2bn(e, (int)attrs[1].ulValueLen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld)
        goto out;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    if (!pkey)
        ossl_err("public key from SoftHSM");
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_e);
    BN_free(bn_n);
    return pkey;
}

static int generate_pair(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                         const char *id, EVP_PKEY **pub_out)
{
    CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits = 2048;
    CK_BYTE e[] = { 0x01, 0x00, 0x01 };
    CK_ATTRIBUTE pub_tmpl[] = {
        { CKA_TOKEN, &yes, sizeof(yes) },
        { CKA_PRIVATE, &no, sizeof(no) },
        { CKA_VERIFY, &yes, sizeof(yes) },
        { CKA_MODULUS_BITS, &bits, sizeof(bits) },
        { CKA_PUBLIC_EXPONENT, e, sizeof(e) },
        { CKA_LABEL, (void *)id, strlen(id) },
        { CKA_ID, (void *)id, strlen(id) },
    };
    /* The card's keys can sign and nothing else, and never leave it. */
    CK_ATTRIBUTE priv_tmpl[] = {
        { CKA_TOKEN, &yes, sizeof(yes) },
        { CKA_PRIVATE, &yes, sizeof(yes) },
        { CKA_SENSITIVE, &yes, sizeof(yes) },
        { CKA_EXTRACTABLE, &no, sizeof(no) },
        { CKA_SIGN, &yes, sizeof(yes) },
        { CKA_DECRYPT, &no, sizeof(no) },
        { CKA_LABEL, (void *)id, strlen(id) },
        { CKA_ID, (void *)id, strlen(id) },
    };
    CK_OBJECT_HANDLE pub, priv;
    CK_RV rv;

    rv = f->C_GenerateKeyPair(s, &mech, pub_tmpl,
                              sizeof(pub_tmpl) / sizeof(pub_tmpl[0]),
                              priv_tmpl,
                              sizeof(priv_tmpl) / sizeof(priv_tmpl[0]),
                              &pub, &priv);
    if (rv != CKR_OK) {
        fprintf(stderr, "mynacard-emu: SoftHSM C_GenerateKeyPair: 0x%lx\n",
                (unsigned long)rv);
        return -1;
    }
    *pub_out = pubkey_from_hsm(f, s, pub);
    return *pub_out ? 0 : -1;
}

/* Initialise the token in @dir, make its keys, and return their public
 * halves. */
static int make_token(const char *dir, const struct emu_state *st,
                      EVP_PKEY **auth_pub, EVP_PKEY **sign_pub)
{
    struct emu_hsm *h = NULL;
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slots[8], slot;
    CK_ULONG n = 8;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_UTF8CHAR label[32];
    CK_RV rv;
    const char *step;
    int rc = -1;

    if (emu_hsm_open(dir, &h) < 0)
        return -1;
    f = emu_hsm_fn(h);
    step = "C_GetSlotList";
    rv = f->C_GetSlotList(CK_FALSE, slots, &n);
    if (rv != CKR_OK)
        goto err_rv;
    if (n == 0) {
        fprintf(stderr, "mynacard-emu: SoftHSM offers no slot\n");
        goto out_hsm;
    }
    memset(label, ' ', sizeof(label));
    memcpy(label, EMU_HSM_TOKEN_LABEL, strlen(EMU_HSM_TOKEN_LABEL));
    step = "C_InitToken";
    rv = f->C_InitToken(slots[0], (CK_UTF8CHAR *)st->hsm_so_pin,
                        strlen(st->hsm_so_pin), label);
    if (rv != CKR_OK)
        goto err_rv;
    /* SoftHSM gives an initialised token a new slot id: look it up. */
    if (emu_hsm_find_token(h, &slot) < 0) {
        fprintf(stderr, "mynacard-emu: the new SoftHSM token is missing\n");
        goto out_hsm;
    }
    step = "C_OpenSession";
    rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
                          NULL, &s);
    if (rv != CKR_OK)
        goto err_rv;
    step = "C_Login(SO)";
    rv = f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)st->hsm_so_pin,
                    strlen(st->hsm_so_pin));
    if (rv != CKR_OK)
        goto err_rv;
    step = "C_InitPIN";
    rv = f->C_InitPIN(s, (CK_UTF8CHAR *)st->hsm_user_pin,
                      strlen(st->hsm_user_pin));
    if (rv != CKR_OK)
        goto err_rv;
    f->C_Logout(s);
    step = "C_Login(user)";
    rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)st->hsm_user_pin,
                    strlen(st->hsm_user_pin));
    if (rv != CKR_OK)
        goto err_rv;
    if (generate_pair(f, s, EMU_KEY_AUTH, auth_pub) < 0)
        goto out_session;
    if (generate_pair(f, s, EMU_KEY_SIGN, sign_pub) < 0)
        goto out_session;
    rc = 0;
    goto out_session;

err_rv:
    fprintf(stderr, "mynacard-emu: SoftHSM %s: 0x%lx\n", step,
            (unsigned long)rv);
out_session:
    if (s != CK_INVALID_HANDLE)
        f->C_CloseSession(s);
out_hsm:
    emu_hsm_close(h);
    return rc;
}

/* ---- Certificates ---- */

static X509_NAME *ca_name(const char *purpose, const char *tag)
{
    X509_NAME *n = X509_NAME_new();
    char ou[64], cn[96];

    if (!n)
        return NULL;
    snprintf(ou, sizeof(ou), "JPKI for %s", purpose);
    /* The real issuers have no CN; ours has one so that nobody takes it
     * for J-LIS, and a per-card tag so that two test cards' CAs differ. */
    snprintf(cn, sizeof(cn), "mynacard TEST CA for %s %s", purpose, tag);
    if (!X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
                                    (const unsigned char *)"JP", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                    (const unsigned char *)"JPKI", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
                                    (const unsigned char *)ou, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
                                    (const unsigned char *)JLIS_OU, -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0)) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}

static X509_NAME *user_name(const char *city, const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    if (!n)
        return NULL;
    if (!X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
                                    (const unsigned char *)"JP", -1, -1, 0) ||
        (city && !X509_NAME_add_entry_by_txt(n, "L", MBSTRING_UTF8,
                                             (const unsigned char *)city, -1,
                                             -1, 0)) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0)) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* One otherName entry: @arc under 1.2.392.200149.8.5.5, UTF8String. */
static int add_other_name(GENERAL_NAMES *gens, int arc, const char *value)
{
    char oid_txt[40];
    ASN1_OBJECT *oid = NULL;
    ASN1_TYPE *val = NULL;
    ASN1_UTF8STRING *str = NULL;
    GENERAL_NAME *gen = NULL;

    if (!value)
        return 0;
    snprintf(oid_txt, sizeof(oid_txt), JPKI_SAN_ARC "%d", arc);
    oid = OBJ_txt2obj(oid_txt, 1);
    val = ASN1_TYPE_new();
    str = ASN1_UTF8STRING_new();
    gen = GENERAL_NAME_new();
    if (!oid || !val || !str || !gen)
        goto err;
    if (!ASN1_STRING_set(str, value, (int)strlen(value)))
        goto err;
    ASN1_TYPE_set(val, V_ASN1_UTF8STRING, str);
    str = NULL;
    if (!GENERAL_NAME_set0_othername(gen, oid, val))
        goto err;
    oid = NULL;
    val = NULL;
    if (!sk_GENERAL_NAME_push(gens, gen))
        goto err;
    return 0;

err:
    GENERAL_NAME_free(gen);
    ASN1_UTF8STRING_free(str);
    ASN1_TYPE_free(val);
    ASN1_OBJECT_free(oid);
    return -1;
}

/*
 * The holder's four facts as EF 0002 of the card-info input support AP
 * holds them, from the same parameters as the signature certificate's
 * subjectAltName below: one source, so that the two always agree.  Name
 * and address are the same bytes.  The date of birth drops the
 * certificate's era digit (EYYYYMMDD becomes YYYYMMDD).  Sex: 1 and 2 are
 * the same codes; the certificate's 3 (other) becomes 9, ISO 5218's "not
 * applicable", the only other value DF25 takes (the emulator's choice: no
 * source pairs the two codes).
 */
struct cardinfo_facts {
    const char *name, *address, *birth, *sex;
    size_t birth_len;
};

static void cardinfo_facts(const struct emu_init_params *p,
                           struct cardinfo_facts *f)
{
    size_t blen = strlen(p->birth);

    f->name = p->name;
    f->address = p->address;
    f->birth = blen == 9 ? p->birth + 1 : p->birth;
    f->birth_len = blen == 9 ? 8 : blen;
    f->sex = strcmp(p->sex, "3") == 0 ? "9" : p->sex;
}

static int add_jpki_san(X509 *x, const struct emu_init_params *p)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = -1;

    if (!gens)
        return -1;
    if (add_other_name(gens, 1, p->name) < 0 ||
        add_other_name(gens, 2, p->name_alt) < 0 ||
        add_other_name(gens, 3, p->sex) < 0 ||
        add_other_name(gens, 4, p->birth) < 0 ||
        add_other_name(gens, 5, p->address) < 0 ||
        add_other_name(gens, 6, p->address_alt) < 0)
        goto out;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                          X509V3_ADD_DEFAULT) != 1)
        goto out;
    rc = 0;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

enum cert_kind { CERT_CA, CERT_AUTH, CERT_SIGN };

/*
 * Make a certificate for @pub named @subject, signed by @issuer_key under
 * @issuer_cert (NULL: self-signed, @issuer_key is then @pub's key).
 */
static X509 *make_cert(enum cert_kind kind, X509_NAME *subject,
                       EVP_PKEY *pub, X509 *issuer_cert,
                       EVP_PKEY *issuer_key, uint64_t serial, time_t nb,
                       time_t na, const struct emu_init_params *p)
{
    X509 *x = X509_new();
    X509 *iss;

    if (!x)
        return NULL;
    iss = issuer_cert ? issuer_cert : x;
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
        !X509_set_subject_name(x, subject) ||
        !X509_set_issuer_name(x, X509_get_subject_name(iss)) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), nb) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), na) ||
        !X509_set_pubkey(x, pub))
        goto err;
    if (add_ext(x, iss, NID_subject_key_identifier, "hash") < 0)
        goto err;
    switch (kind) {
    case CERT_CA:
        if (add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") <
                0)
            goto err;
        break;
    case CERT_AUTH:
        /* The authentication key signs for login: no nonRepudiation. */
        if (add_ext(x, iss, NID_authority_key_identifier, "keyid:always") <
                0 ||
            add_ext(x, iss, NID_key_usage, "critical,digitalSignature") < 0)
            goto err;
        break;
    case CERT_SIGN:
        if (add_ext(x, iss, NID_authority_key_identifier, "keyid:always") <
                0 ||
            add_ext(x, iss, NID_key_usage,
                    "critical,digitalSignature,nonRepudiation") < 0 ||
            add_jpki_san(x, p) < 0)
            goto err;
        break;
    }
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
        goto err;
    return x;

err:
    ossl_err("making a certificate");
    X509_free(x);
    return NULL;
}

/* ---- Files ---- */

static int write_in_dir(const char *dir, const char *name, const void *data,
                        size_t len, mode_t mode)
{
    char *path = emu_path(dir, name);
    int rc;

    if (!path)
        return -1;
    rc = emu_write_file(path, data, len, mode);
    if (rc < 0)
        fprintf(stderr, "mynacard-emu: cannot write %s: %s\n", path,
                strerror(errno));
    free(path);
    return rc;
}

/* A certificate file as the card holds it: the DER, then FF up to a fixed
 * size (at least 2048, and 256 bytes more than the DER rounded up). */
static int write_cert_ef(const char *dir, const char *name, X509 *x)
{
    unsigned char *der = NULL;
    uint8_t *buf;
    size_t size;
    int len, rc;

    len = i2d_X509(x, &der);
    if (len <= 0)
        return -1;
    size = ((size_t)len + 255) / 256 * 256 + 256;
    if (size < 2048)
        size = 2048;
    buf = malloc(size);
    if (!buf) {
        OPENSSL_free(der);
        return -1;
    }
    memset(buf, 0xff, size);
    memcpy(buf, der, (size_t)len);
    rc = write_in_dir(dir, name, buf, size, 0644);
    free(buf);
    OPENSSL_free(der);
    return rc;
}

/* One TLV with a two-byte tag and the shortest BER length (at most
 * 0xFFFF) at @buf + *@n; @cap is checked.  Returns 0 or -1. */
static int put_tlv(uint8_t *buf, size_t cap, size_t *n, uint16_t tag,
                   const void *v, size_t len)
{
    size_t need = 2 + (len < 0x80 ? 1 : len <= 0xFF ? 2 : 3) + len;

    if (len > 0xFFFF || need > cap - *n)
        return -1;
    buf[(*n)++] = (uint8_t)(tag >> 8);
    buf[(*n)++] = (uint8_t)tag;
    if (len >= 0x100) {
        buf[(*n)++] = 0x82;
        buf[(*n)++] = (uint8_t)(len >> 8);
    } else if (len >= 0x80) {
        buf[(*n)++] = 0x81;
    }
    buf[(*n)++] = (uint8_t)len;
    memcpy(buf + *n, v, len);
    *n += len;
    return 0;
}

/* EF 0002 of the card-info AP: FF 20 holding a first TLV that readers
 * skip (DF21 here; what the real one holds is not known), then DF22 name,
 * DF23 address, DF24 birth date and DF25 sex (doc/jpki-card.md). */
static int write_cardinfo_ef(const char *dir, const struct emu_init_params *p)
{
    static const uint8_t first[4] = { 0x00, 0x00, 0x00, 0x00 };
    struct cardinfo_facts f;
    uint8_t *inner = NULL, *file = NULL;
    size_t cap, n = 0, m = 0;
    int rc = -1;

    cardinfo_facts(p, &f);
    cap = 5 * 5 + sizeof(first) + strlen(f.name) + strlen(f.address) +
          f.birth_len + strlen(f.sex);
    inner = malloc(cap);
    file = malloc(cap + 5);
    if (!inner || !file)
        goto out;
    if (put_tlv(inner, cap, &n, 0xDF21, first, sizeof(first)) < 0 ||
        put_tlv(inner, cap, &n, 0xDF22, f.name, strlen(f.name)) < 0 ||
        put_tlv(inner, cap, &n, 0xDF23, f.address, strlen(f.address)) < 0 ||
        put_tlv(inner, cap, &n, 0xDF24, f.birth, f.birth_len) < 0 ||
        put_tlv(inner, cap, &n, 0xDF25, f.sex, strlen(f.sex)) < 0 ||
        put_tlv(file, cap + 5, &m, 0xFF20, inner, n) < 0) {
        fprintf(stderr, "mynacard-emu: the card-info data are too long\n");
        goto out;
    }
    /* 0600: the holder's facts, even if fake. */
    rc = write_in_dir(dir, EMU_CARDINFO_FILE, file, m, 0600);
out:
    if (file)
        OPENSSL_clear_free(file, cap + 5);
    if (inner)
        OPENSSL_clear_free(inner, cap);
    return rc;
}

/* Record 1 of the manufacture-number AP's short EF 1: one BER TLV whose
 * value is ASCII, the number its characters 2 to 14.  A character before
 * and one after it, so that a reader taking other characters sees the
 * difference (the real record's tag and surroundings are not known). */
static int write_mfg_record(const char *dir, const char *number)
{
    uint8_t rec[2 + 1 + EMU_MFG_NUMBER_LEN + 1];

    rec[0] = 0x80;
    rec[1] = (uint8_t)(sizeof(rec) - 2);
    rec[2] = '<';
    memcpy(rec + 3, number, EMU_MFG_NUMBER_LEN);
    rec[sizeof(rec) - 1] = '>';
    return write_in_dir(dir, EMU_MFG_RECORD_FILE, rec, sizeof(rec), 0644);
}

static int write_pem(const char *dir, const char *name, X509 *x,
                     EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len;
    int rc = -1;

    if (!b)
        return -1;
    if (x && !PEM_write_bio_X509(b, x))
        goto out;
    if (key && !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
        goto out;
    len = BIO_get_mem_data(b, &data);
    if (len <= 0)
        goto out;
    rc = write_in_dir(dir, name, data, (size_t)len, key ? 0600 : 0644);
out:
    BIO_free(b);
    return rc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_padded(uint8_t *p, size_t cap, const char *s)
{
    size_t n = strlen(s);

    memset(p, ' ', cap);
    memcpy(p, s, n < cap ? n : cap);
}

/*
 * EF 0006: a CK_TOKEN_INFO with 32-bit big-endian integers, 160 bytes
 * (one source): label 0, manufacturer 32, model 64, serial 80, flags 96,
 * eight counts and lengths 100-131, memory sizes, versions 140 and 142,
 * time 144.
 */
static int write_token_info(const char *dir, const char *label)
{
    uint8_t ti[160];
    char serial[17];

    if (random_hex(serial, 8) < 0)
        return -1;
    memset(ti, 0, sizeof(ti));
    put_padded(ti, 32, label);
    put_padded(ti + 32, 32, "J-LIS (mynacard virtual card)");
    put_padded(ti + 64, 16, "JPKI-EMU");
    put_padded(ti + 80, 16, serial);
    /* CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
     * CKF_TOKEN_INITIALIZED */
    put_be32(ti + 96, 0x0000040du);
    put_be32(ti + 100, 0xffffffffu); /* max sessions: unavailable */
    put_be32(ti + 104, 0xffffffffu);
    put_be32(ti + 108, 0xffffffffu);
    put_be32(ti + 112, 0xffffffffu);
    put_be32(ti + 116, EMU_PIN_MAX); /* max PIN length */
    put_be32(ti + 120, 4);           /* min PIN length */
    put_be32(ti + 124, 0xffffffffu);
    put_be32(ti + 128, 0xffffffffu);
    put_be32(ti + 132, 0xffffffffu);
    put_be32(ti + 136, 0xffffffffu);
    ti[140] = 1; /* hardware version 1.0 */
    ti[142] = 1; /* firmware version 1.0 */
    put_padded(ti + 144, 16, "");
    return write_in_dir(dir, "ef-0006.bin", ti, sizeof(ti), 0644);
}

/* ---- The whole card ---- */

static bool mfg_number_ok(const char *s)
{
    size_t i;

    if (strlen(s) != EMU_MFG_NUMBER_LEN)
        return false;
    for (i = 0; i < EMU_MFG_NUMBER_LEN; i++) {
        if (s[i] < 0x20 || s[i] > 0x7E)
            return false;
    }
    return true;
}

static int check_params(const struct emu_init_params *p)
{
    if (!emu_pin_format_ok(0, (const uint8_t *)p->auth_pin,
                           strlen(p->auth_pin))) {
        fprintf(stderr, "mynacard-emu: the authentication PIN must be 4 "
                "digits\n");
        return -1;
    }
    if (!emu_pin_format_ok(1, (const uint8_t *)p->sign_pin,
                           strlen(p->sign_pin))) {
        fprintf(stderr, "mynacard-emu: the signature password must be 6 to "
                "16 of A-Z and 0-9\n");
        return -1;
    }
    if (!emu_pin_format_ok(2, (const uint8_t *)p->text_pin,
                           strlen(p->text_pin))) {
        fprintf(stderr, "mynacard-emu: the card-info PIN must be 4 "
                "digits\n");
        return -1;
    }
    if (!mfg_number_ok(p->mfg_number)) {
        fprintf(stderr, "mynacard-emu: the manufacture number must be %d "
                "printable ASCII characters\n", EMU_MFG_NUMBER_LEN);
        return -1;
    }
    if (strlen(p->token_label) > 32) {
        fprintf(stderr, "mynacard-emu: token label longer than 32 bytes\n");
        return -1;
    }
    if (p->valid_days <= 0) {
        fprintf(stderr, "mynacard-emu: validity must be at least a day\n");
        return -1;
    }
    return 0;
}

/* Missing fields of @in take their defaults. */
static void fill_params(struct emu_init_params *p,
                        const struct emu_init_params *in)
{
    struct emu_init_params d;

    emu_init_params_default(&d);
    *p = in ? *in : d;
    if (!in)
        return;
#define DEF(f) if (!p->f) p->f = d.f
    DEF(auth_pin);
    DEF(sign_pin);
    DEF(name);
    DEF(address);
    DEF(birth);
    DEF(sex);
    DEF(city);
    DEF(token_label);
    DEF(text_pin);
    DEF(mfg_number);
#undef DEF
    if (p->valid_days == 0)
        p->valid_days = d.valid_days;
}

struct card_certs {
    EVP_PKEY *auth_pub, *sign_pub;
    EVP_PKEY *auth_ca_key, *sign_ca_key;
    X509 *auth_ca, *sign_ca, *auth, *sign;
};

static void certs_free(struct card_certs *c)
{
    X509_free(c->sign);
    X509_free(c->auth);
    X509_free(c->sign_ca);
    X509_free(c->auth_ca);
    EVP_PKEY_free(c->sign_ca_key);
    EVP_PKEY_free(c->auth_ca_key);
    EVP_PKEY_free(c->sign_pub);
    EVP_PKEY_free(c->auth_pub);
}

static int make_certs(struct card_certs *c, const struct emu_init_params *p)
{
    time_t now = time(NULL);
    time_t nb = now + (time_t)p->not_before_days * DAY;
    time_t na = nb + (time_t)p->valid_days * DAY;
    /* The CAs outlive their certificates, as real ones do. */
    time_t ca_nb = nb - DAY, ca_na = na + 3650 * DAY;
    uint64_t base = p->serial;
    uint64_t s_auth_ca, s_sign_ca, s_auth, s_sign;
    X509_NAME *n_auth_ca = NULL, *n_sign_ca = NULL, *n_auth = NULL,
              *n_sign = NULL;
    char tag[9], cn_auth[21], cn_sign[21];
    int rc = -1;

    /* Distinct serials per card: two certificates with the same issuer
     * name and serial number make NSS refuse the second card. */
    if (base) {
        s_auth = (base << 8) | 0x0a;
        s_auth_ca = (base << 8) | 0x0b;
        s_sign = (base << 8) | 0x01;
        s_sign_ca = (base << 8) | 0x02;
    } else {
        s_auth = random_serial();
        s_auth_ca = random_serial();
        s_sign = random_serial();
        s_sign_ca = random_serial();
    }
    if (random_hex(tag, 4) < 0 || random_serial_name(cn_auth, 20) < 0 ||
        random_serial_name(cn_sign, 20) < 0)
        return -1;
    c->auth_ca_key = EVP_RSA_gen(2048);
    c->sign_ca_key = EVP_RSA_gen(2048);
    if (!c->auth_ca_key || !c->sign_ca_key) {
        ossl_err("CA key generation");
        return -1;
    }
    n_auth_ca = ca_name("user authentication", tag);
    n_sign_ca = ca_name("digital signature", tag);
    n_auth = user_name(NULL, cn_auth);
    n_sign = user_name(p->city, cn_sign);
    if (!n_auth_ca || !n_sign_ca || !n_auth || !n_sign) {
        ossl_err("certificate names");
        goto out;
    }
    c->auth_ca = make_cert(CERT_CA, n_auth_ca, c->auth_ca_key, NULL,
                           c->auth_ca_key, s_auth_ca, ca_nb, ca_na, p);
    c->sign_ca = make_cert(CERT_CA, n_sign_ca, c->sign_ca_key, NULL,
                           c->sign_ca_key, s_sign_ca, ca_nb, ca_na, p);
    if (!c->auth_ca || !c->sign_ca)
        goto out;
    c->auth = make_cert(CERT_AUTH, n_auth, c->auth_pub, c->auth_ca,
                        c->auth_ca_key, s_auth, nb, na, p);
    c->sign = make_cert(CERT_SIGN, n_sign, c->sign_pub, c->sign_ca,
                        c->sign_ca_key, s_sign, nb, na, p);
    if (!c->auth || !c->sign)
        goto out;
    rc = 0;
out:
    X509_NAME_free(n_sign);
    X509_NAME_free(n_auth);
    X509_NAME_free(n_sign_ca);
    X509_NAME_free(n_auth_ca);
    return rc;
}

static int write_files(const char *dir, struct card_certs *c,
                       const struct emu_init_params *p)
{
    static const uint8_t ef0008[] = { 0x8f, 0x8f, 0x00 };

    if (write_cert_ef(dir, "ef-000A.bin", c->auth) < 0 ||
        write_cert_ef(dir, "ef-000B.bin", c->auth_ca) < 0 ||
        write_cert_ef(dir, "ef-0001.bin", c->sign) < 0 ||
        write_cert_ef(dir, "ef-0002.bin", c->sign_ca) < 0 ||
        write_token_info(dir, p->token_label) < 0 ||
        write_in_dir(dir, "ef-0008.bin", ef0008, sizeof(ef0008), 0644) < 0)
        return -1;
    if (write_cardinfo_ef(dir, p) < 0 ||
        write_mfg_record(dir, p->mfg_number) < 0)
        return -1;
    if (write_pem(dir, "ca-auth.crt.pem", c->auth_ca, NULL) < 0 ||
        write_pem(dir, "ca-auth.key.pem", NULL, c->auth_ca_key) < 0 ||
        write_pem(dir, "ca-sign.crt.pem", c->sign_ca, NULL) < 0 ||
        write_pem(dir, "ca-sign.key.pem", NULL, c->sign_ca_key) < 0 ||
        write_pem(dir, "auth.crt.pem", c->auth, NULL) < 0 ||
        write_pem(dir, "sign.crt.pem", c->sign, NULL) < 0)
        return -1;
    return 0;
}

int emu_card_init(const char *dir_arg, const struct emu_init_params *in)
{
    struct emu_init_params p;
    char *dir;
    struct emu_state st;
    struct card_certs certs;
    struct stat sb;
    char *state_path;
    int rc = -1;

    memset(&st, 0, sizeof(st));
    memset(&certs, 0, sizeof(certs));
    fill_params(&p, in);
    if (check_params(&p) < 0)
        return -1;
    if (mkdir(dir_arg, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "mynacard-emu: mkdir %s: %s\n", dir_arg,
                strerror(errno));
        return -1;
    }
    /* SoftHSM's configuration needs an absolute token directory. */
    dir = realpath(dir_arg, NULL);
    if (!dir) {
        fprintf(stderr, "mynacard-emu: %s: %s\n", dir_arg, strerror(errno));
        return -1;
    }
    state_path = emu_path(dir, EMU_STATE_FILE);
    if (!state_path)
        goto out;
    if (stat(state_path, &sb) == 0) {
        fprintf(stderr, "mynacard-emu: %s already holds a card\n", dir);
        free(state_path);
        goto out;
    }
    free(state_path);

    snprintf(st.auth_pin, sizeof(st.auth_pin), "%s", p.auth_pin);
    snprintf(st.sign_pin, sizeof(st.sign_pin), "%s", p.sign_pin);
    st.auth_tries = EMU_AUTH_TRIES_MAX;
    st.sign_tries = EMU_SIGN_TRIES_MAX;
    snprintf(st.text_pin, sizeof(st.text_pin), "%s", p.text_pin);
    st.text_tries = EMU_TEXT_TRIES_MAX;
    if (random_hex(st.hsm_user_pin, EMU_HSM_PIN_LEN / 2) < 0 ||
        random_hex(st.hsm_so_pin, EMU_HSM_PIN_LEN / 2) < 0)
        goto out;

    if (emu_write_conf(dir) < 0)
        goto out;
    if (make_token(dir, &st, &certs.auth_pub, &certs.sign_pub) < 0)
        goto out;
    if (make_certs(&certs, &p) < 0)
        goto out;
    if (write_files(dir, &certs, &p) < 0)
        goto out;
    /* Last: card.state is what makes the directory a card. */
    if (emu_state_save(dir, &st) < 0)
        goto out;
    rc = 0;
out:
    certs_free(&certs);
    emu_state_wipe(&st);
    free(dir);
    return rc;
}
