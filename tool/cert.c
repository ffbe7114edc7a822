/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * X.509 facts for mynacard-tool, through OpenSSL: subject, issuer,
 * serial number, validity and how soon it ends, and the holder's facts
 * in the signature certificate's subjectAltName.  Layer: tool/; pure
 * functions over DER bytes from the card, which are untrusted: OpenSSL
 * parses them within the length given, and every string copied out is
 * bounded.  An expired certificate is the most common failure at
 * hospitals and for e-Tax, hence the 90-day warning.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "myna-err.h"
#include "tool.h"

/* The arc of the JPKI holder's facts: .1 name, .2 its substitute
 * characters, .3 sex, .4 birth date, .5 address, .6 its substitutes. */
#define JPKI_PERSONAL_ARC "1.2.392.200149.8.5.5."

enum tool_expiry tool_expiry_classify(time_t not_before, time_t not_after,
                                      time_t now, long long *days_left)
{
    long long secs = (long long)not_after - (long long)now;
    long long days;

    /* Whole days, rounded down also below zero: one second past the end
     * is day -1, not day 0. */
    days = secs / 86400;
    if (secs < 0 && secs % 86400 != 0)
        days--;
    if (days_left)
        *days_left = days;
    if (now < not_before)
        return TOOL_EXP_NOT_YET_VALID;
    if (now >= not_after)
        return TOOL_EXP_EXPIRED;
    if (secs <= (long long)TOOL_EXPIRY_WARN_DAYS * 86400)
        return TOOL_EXP_EXPIRING;
    return TOOL_EXP_VALID;
}

const char *tool_expiry_name(enum tool_expiry e)
{
    switch (e) {
    case TOOL_EXP_VALID:
        return "valid";
    case TOOL_EXP_EXPIRING:
        return "expiring";
    case TOOL_EXP_EXPIRED:
        return "expired";
    case TOOL_EXP_NOT_YET_VALID:
    default:
        return "not-yet-valid";
    }
}

static X509 *parse(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;

    if (!der || len == 0 || len > 65536)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    return x;
}

/* A name as UTF-8 "C = JP, O = JPKI, ...", as `openssl x509 -text`
 * prints it, without escaping non-ASCII. */
static void name_str(const X509_NAME *n, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    out[0] = '\0';
    if (!b)
        return;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        len = BIO_get_mem_data(b, &data);
        if (len > 0 && data) {
            if ((size_t)len >= cap)
                len = (long)cap - 1;
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(b);
}

static void serial_str(const ASN1_INTEGER *ai, char *out, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    char *hex;
    size_t n, o = 0;

    out[0] = '\0';
    if (!bn)
        return;
    hex = BN_bn2hex(bn);
    BN_free(bn);
    if (!hex)
        return;
    n = strlen(hex);
    /* Colon-separated pairs, as browsers show it; an odd length gets a
     * leading zero. */
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        if (i == 0 && n % 2) {
            out[o++] = '0';
        } else if (i > 0 && (i + n % 2) % 2 == 0) {
            out[o++] = ':';
        }
        out[o++] = hex[i];
    }
    out[o] = '\0';
    OPENSSL_free(hex);
}

static int time_of(const ASN1_TIME *t, time_t *out, char *str, size_t cap)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    strftime(str, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return 0;
}

int tool_cert_facts(const uint8_t *der, size_t len, time_t now,
                    struct tool_cert_facts *f)
{
    time_t nb, na;
    X509 *x;
    int err = MYNA_E_BAD_RESPONSE;

    memset(f, 0, sizeof(*f));
    x = parse(der, len);
    if (!x)
        return MYNA_E_BAD_RESPONSE;
    name_str(X509_get_subject_name(x), f->subject, sizeof(f->subject));
    name_str(X509_get_issuer_name(x), f->issuer, sizeof(f->issuer));
    serial_str(X509_get0_serialNumber(x), f->serial, sizeof(f->serial));
    if (time_of(X509_get0_notBefore(x), &nb, f->not_before,
                sizeof(f->not_before)) < 0 ||
        time_of(X509_get0_notAfter(x), &na, f->not_after,
                sizeof(f->not_after)) < 0)
        goto out_free;
    f->expiry = tool_expiry_classify(nb, na, now, &f->days_left);
    err = 0;
out_free:
    X509_free(x);
    return err;
}

/* Copy an otherName value (a string type) into @out, bounded; a NUL
 * inside ends it. */
static void copy_value(const ASN1_TYPE *v, char *out, size_t cap)
{
    const ASN1_STRING *s;
    size_t n;

    out[0] = '\0';
    if (!v)
        return;
    switch (v->type) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_VISIBLESTRING:
        s = v->value.asn1_string;
        break;
    default:
        return;
    }
    if (!s || ASN1_STRING_length(s) <= 0)
        return;
    n = (size_t)ASN1_STRING_length(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, ASN1_STRING_get0_data(s), n);
    out[n] = '\0';
}

int tool_cert_personal(const uint8_t *der, size_t len,
                       struct tool_personal *p)
{
    GENERAL_NAMES *gens;
    X509 *x;
    int crit = 0;

    memset(p, 0, sizeof(*p));
    x = parse(der, len);
    if (!x)
        return MYNA_E_BAD_RESPONSE;
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char oid[64], *field;
        size_t cap, arc = sizeof(JPKI_PERSONAL_ARC) - 1;
        int n;

        if (!g || g->type != GEN_OTHERNAME || !g->d.otherName)
            continue;
        n = OBJ_obj2txt(oid, sizeof(oid), g->d.otherName->type_id, 1);
        if (n <= 0 || (size_t)n >= sizeof(oid) ||
            strncmp(oid, JPKI_PERSONAL_ARC, arc) != 0 ||
            strlen(oid) != arc + 1)
            continue;
        switch (oid[arc]) {
        case '1': field = p->name; cap = sizeof(p->name); break;
        case '2': field = p->name_alt; cap = sizeof(p->name_alt); break;
        case '3': field = p->sex; cap = sizeof(p->sex); break;
        case '4': field = p->birth; cap = sizeof(p->birth); break;
        case '5': field = p->address; cap = sizeof(p->address); break;
        case '6': field = p->address_alt; cap = sizeof(p->address_alt); break;
        default: continue;
        }
        copy_value(g->d.otherName->value, field, cap);
        if (field[0])
            p->found |= 1u << (oid[arc] - '1');
    }
    GENERAL_NAMES_free(gens);
    X509_free(x);
    return 0;
}

const char *tool_sex_name(const char *code, char *buf, size_t cap)
{
    if (!strcmp(code, "1"))
        return "male";
    if (!strcmp(code, "2"))
        return "female";
    snprintf(buf, cap, "other (%.4s)", code);
    return buf;
}

const char *tool_sex_label(const char *code, char *buf, size_t cap)
{
    if (!strcmp(code, "1"))
        return _("male");
    if (!strcmp(code, "2"))
        return _("female");
    snprintf(buf, cap, _("other (%.4s)"), code);
    return buf;
}

const char *tool_birth_date(const char *code, char *buf, size_t cap)
{
    size_t n = strlen(code);

    /* EYYYYMMDD: an era digit, then the Gregorian date. */
    if (n != 9 || strspn(code, "0123456789") != 9) {
        snprintf(buf, cap, "%s", code);
        return buf;
    }
    snprintf(buf, cap, "%.4s-%.2s-%.2s", code + 1, code + 5, code + 7);
    return buf;
}
