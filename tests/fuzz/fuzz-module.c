/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Fuzz target for the whole PKCS#11 module.  The module's static library
 * runs over a callback hub (transport.h) with one reader whose card is the
 * scripted card of fuzz-card.h: every answer the module gets comes from
 * the fuzz input, below the transport interface, so everything above it
 * (the APDU exchange, the JPKI application, the card manager, objects,
 * login and signing) runs for real.  The scenario is what an application
 * does, through C_GetFunctionList only: C_Initialize; the slot list, slot
 * and token information, the mechanisms; on each token a session, every
 * object and its attributes; C_Login with a PIN of the right format (and
 * again with the same one after a rejection); C_Sign (with the
 * context-specific login the signature key asks for), C_SetPIN, C_Logout,
 * C_CloseAllSessions and C_Finalize.  The first input byte chooses the
 * options (fuzz-module.h); the rest is the card's script.
 *
 * Oracles, besides ASan and UBSan: the module only sends well-formed APDUs
 * (fuzz_card_xfer); every C_* returns a standard CKR (never a leaked
 * negative error); C_GetAttributeValue gives the same lengths twice and
 * fills exactly them; a VERIFY carries only a PIN the application gave
 * (never one of the wrong format, never a retry: at most one VERIFY with
 * data per C_Login or C_SetPIN, none from any other call), a PIN the card
 * rejected is never sent again, C_Login says CKR_OK only if a VERIFY was
 * sent; C_Sign says CKR_OK only for a signature that verifies with the
 * token's own certificate (as RSASSA-PSS, salt 32, for the PSS
 * mechanism); and once C_Finalize returns, no PIN the card
 * said it accepted is left verified on it (the module reset the card, or
 * the card went away or was reset since).
 *
 * Layer: test code; calls the module (C_GetFunctionList, mynacard-test.h),
 * the callback hub and the APDU decoder, and OpenSSL for the checks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "apdu.h"
#include "fuzz-card.h"
#include "fuzz-module.h"
#include "myna-err.h"
#include "mynacard-test.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) FUZZ_CHECK("fuzz-module", cond)

#define FM_SLOTS_MAX 8u
#define FM_OBJECTS_MAX 32u
#define FM_SIG_MAX 512u

/* What the module sent the card, and what the card said to the PINs. */
struct watch {
    struct tp_card_cb inner;
    unsigned verifies;          /* VERIFY commands carrying data */
    unsigned changes;           /* CHANGE REFERENCE DATA with data */
    bool in_verify;             /* the last command was a VERIFY with data
                                 * (or a GET RESPONSE continuing it) */
    bool pin_on_card;           /* the card answered 9000 to a VERIFY and
                                 * has not been reset or gone since */
    bool new_pin_set;           /* the card accepted 5678 */
    bool full_count_seen;       /* an empty VERIFY answered 9000 or with a
                                 * full counter (63C3, 63C5): someone
                                 * verified a PIN, which may have changed */
};

static bool is_pin(const struct apdu *a, const char *pin)
{
    size_t n = strlen(pin);

    return a->lc == n && memcmp(a->data, pin, n) == 0;
}

static int watch_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                      uint8_t *resp, size_t cap, size_t *resplen)
{
    struct watch *w = ctx;
    bool continues, verify = false;
    struct apdu a;
    uint16_t sw;
    int err;

    /* fuzz_card_xfer aborts on a malformed command; the recorder's card
     * answers it with an error.  Either way, decode it here too. */
    CHECK(apdu_decode(cmd, cmdlen, &a) == 0);
    if (a.ins == 0x20 && a.lc > 0) {
        /* Only the PINs the application gave, as they are (the
         * signature password is already upper case). */
        CHECK(is_pin(&a, FM_AUTH_PIN) || is_pin(&a, FM_SIGN_PIN) ||
              (w->new_pin_set && is_pin(&a, FM_NEW_AUTH_PIN)));
        w->verifies++;
        verify = true;
    }
    if (a.ins == 0x24 && a.lc > 0) {
        CHECK(is_pin(&a, FM_NEW_AUTH_PIN));
        w->changes++;
    }
    continues = a.ins == 0xC0 && w->in_verify;

    err = w->inner.xfer(w->inner.ctx, cmd, cmdlen, resp, cap, resplen);
    w->in_verify = false;
    if (err == MYNA_E_NO_CARD || err == MYNA_E_CARD_RESET) {
        /* Removed or reset: whatever was verified is gone. */
        w->pin_on_card = false;
        return err;
    }
    if (err != 0 || *resplen < 2)
        return err;
    sw = (uint16_t)(resp[*resplen - 2] << 8 | resp[*resplen - 1]);
    if (verify || continues) {
        if (sw == 0x9000)
            w->pin_on_card = true;
        else if ((sw >> 8) == 0x61)
            w->in_verify = true;
    }
    if (a.ins == 0x24 && a.lc > 0 && sw == 0x9000)
        w->new_pin_set = true;
    if (a.ins == 0x20 && a.lc == 0 &&
        (sw == 0x9000 || sw == 0x63C3 || sw == 0x63C5))
        w->full_count_seen = true;
    return err;
}

/* A power cycle asked for by the module: no PIN stays verified. */
static void watch_unpower(void *ctx)
{
    struct watch *w = ctx;

    w->pin_on_card = false;
    w->in_verify = false;
    if (w->inner.unpower)
        w->inner.unpower(w->inner.ctx);
}

/* A warm reset: some cards keep their verified PINs through it. */
static void watch_reset(void *ctx)
{
    struct watch *w = ctx;

    w->in_verify = false;
    if (w->inner.reset)
        w->inner.reset(w->inner.ctx);
}

/* Every CKR the module may return is a standard one: a negative enum
 * myna_err that leaked through would be a huge CK_RV. */
static CK_RV rv_ok(CK_RV rv)
{
    CHECK(rv <= CKR_FUNCTION_REJECTED);
    return rv;
}

static void touch(const void *p, size_t n)
{
    if (n > 0)
        fuzz_touch(p, n);
}

/* All attributes an application asks for, the sensitive ones included. */
static const CK_ATTRIBUTE_TYPE attr_types[] = {
    CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_ID, CKA_VALUE,
    CKA_CERTIFICATE_TYPE, CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_SUBJECT,
    CKA_TRUSTED, CKA_CERTIFICATE_CATEGORY, CKA_CHECK_VALUE,
    CKA_START_DATE, CKA_END_DATE, CKA_KEY_TYPE, CKA_MODULUS,
    CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT,
    CKA_SIGN, CKA_VERIFY, CKA_DECRYPT, CKA_SENSITIVE, CKA_EXTRACTABLE,
    CKA_ALWAYS_AUTHENTICATE, CKA_PUBLIC_KEY_INFO, CKA_ALLOWED_MECHANISMS,
    0x601UL /* CKA_PROFILE_ID */,
};
#define N_ATTRS (sizeof(attr_types) / sizeof(attr_types[0]))

/* Read every attribute of @o twice (sizes, then values in heap blocks of
 * exactly the size given) and check that both calls agree. */
static void read_attrs(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                       CK_OBJECT_HANDLE o)
{
    CK_ATTRIBUTE t[N_ATTRS];
    CK_ULONG lens[N_ATTRS];
    CK_RV rv;
    size_t i;

    for (i = 0; i < N_ATTRS; i++) {
        t[i].type = attr_types[i];
        t[i].pValue = NULL;
        t[i].ulValueLen = 0;
    }
    rv = rv_ok(f->C_GetAttributeValue(s, o, t, N_ATTRS));
    if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE &&
        rv != CKR_ATTRIBUTE_TYPE_INVALID)
        return;
    for (i = 0; i < N_ATTRS; i++) {
        lens[i] = t[i].ulValueLen;
        if (lens[i] == CK_UNAVAILABLE_INFORMATION)
            continue;
        CHECK(lens[i] <= 65536);
        t[i].pValue = malloc(lens[i] ? lens[i] : 1);
        CHECK(t[i].pValue != NULL);
    }
    rv = rv_ok(f->C_GetAttributeValue(s, o, t, N_ATTRS));
    for (i = 0; i < N_ATTRS; i++) {
        if (lens[i] != CK_UNAVAILABLE_INFORMATION &&
            (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
             rv == CKR_ATTRIBUTE_TYPE_INVALID)) {
            /* The same object: the same length, filled to its end. */
            CHECK(t[i].ulValueLen == lens[i]);
            touch(t[i].pValue, lens[i]);
        }
        free(t[i].pValue);
    }
}

struct token {
    CK_SLOT_ID slot;
    bool auth;                  /* the 4-digit PIN's token */
    CK_SESSION_HANDLE s;
    bool logged_in;
};

static const uint8_t digest_info_prefix[19] = {
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

/* The certificate with CKA_ID @id on @s, as an X509, or NULL. */
static X509 *token_cert(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                        const uint8_t *id, CK_ULONG idlen)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE find[2] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_ID, (void *)id, idlen },
    };
    CK_OBJECT_HANDLE o;
    CK_ULONG n = 0;
    CK_ATTRIBUTE val = { CKA_VALUE, NULL, 0 };
    const unsigned char *p;
    unsigned char *der;
    X509 *x = NULL;

    if (rv_ok(f->C_FindObjectsInit(s, find, 2)) != CKR_OK)
        return NULL;
    if (rv_ok(f->C_FindObjects(s, &o, 1, &n)) != CKR_OK)
        n = 0;
    rv_ok(f->C_FindObjectsFinal(s));
    if (n != 1)
        return NULL;
    if (rv_ok(f->C_GetAttributeValue(s, o, &val, 1)) != CKR_OK ||
        val.ulValueLen == 0 || val.ulValueLen > 65536)
        return NULL;
    der = malloc(val.ulValueLen);
    CHECK(der != NULL);
    val.pValue = der;
    if (rv_ok(f->C_GetAttributeValue(s, o, &val, 1)) == CKR_OK) {
        p = der;
        x = d2i_X509(NULL, &p, (long)val.ulValueLen);
    }
    free(der);
    return x;
}

/* A C_Sign that says CKR_OK returned a signature that verifies with the
 * token's certificate (checked here, independently of the module). */
static void check_signature(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                            const uint8_t *id, CK_ULONG idlen, bool raw,
                            bool pss, const uint8_t *tbs, size_t tbslen,
                            const uint8_t *sig, size_t siglen)
{
    X509 *x = token_cert(f, s, id, idlen);
    EVP_PKEY *pk;
    EVP_PKEY_CTX *ctx;
    EVP_MD_CTX *md;
    int ok;

    /* No certificate, no way to check: the module must not have signed. */
    CHECK(x != NULL);
    pk = X509_get0_pubkey(x);
    CHECK(pk != NULL);
    if (pss) {
        EVP_PKEY_CTX *pctx = NULL;

        md = EVP_MD_CTX_new();
        CHECK(md != NULL);
        ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
             EVP_DigestVerify(md, sig, siglen, tbs, tbslen) == 1;
        EVP_MD_CTX_free(md);
    } else if (raw) {
        ctx = EVP_PKEY_CTX_new(pk, NULL);
        CHECK(ctx != NULL);
        ok = EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen) == 1;
        EVP_PKEY_CTX_free(ctx);
    } else {
        md = EVP_MD_CTX_new();
        CHECK(md != NULL);
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
             EVP_DigestVerify(md, sig, siglen, tbs, tbslen) == 1;
        EVP_MD_CTX_free(md);
    }
    X509_free(x);
    CHECK(ok);
}

static void sign_once(CK_FUNCTION_LIST *f, struct token *t, struct watch *w,
                      bool raw, bool pss)
{
    static const uint8_t msg[] = "fuzz-module";
    static CK_RSA_PKCS_PSS_PARAMS pss_params = { CKM_SHA256, CKG_MGF1_SHA256,
                                                 32 };
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find = { CKA_CLASS, &cls, sizeof(cls) };
    CK_MECHANISM mech = { raw ? CKM_RSA_PKCS : CKM_SHA256_RSA_PKCS, NULL, 0 };
    CK_BBOOL always = CK_FALSE;
    uint8_t id[64];
    CK_ATTRIBUTE attrs[2] = {
        { CKA_ID, id, sizeof(id) },
        { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) },
    };
    uint8_t tbs[51], *sig;
    size_t tbslen;
    CK_ULONG siglen = FM_SIG_MAX, n = 0;
    CK_OBJECT_HANDLE key;
    const char *pin = t->auth ? FM_AUTH_PIN : FM_SIGN_PIN;
    unsigned before;
    CK_RV rv;

    if (rv_ok(f->C_FindObjectsInit(t->s, &find, 1)) != CKR_OK)
        return;
    if (rv_ok(f->C_FindObjects(t->s, &key, 1, &n)) != CKR_OK)
        n = 0;
    rv_ok(f->C_FindObjectsFinal(t->s));
    if (n != 1)
        return;
    if (rv_ok(f->C_GetAttributeValue(t->s, key, attrs, 2)) != CKR_OK)
        return;

    pss = pss && t->auth;
    if (pss) {
        raw = false;
        mech.mechanism = CKM_SHA256_RSA_PKCS_PSS;
        mech.pParameter = &pss_params;
        mech.ulParameterLen = sizeof(pss_params);
    }
    if (raw) {
        unsigned int mdlen = 32;

        memcpy(tbs, digest_info_prefix, sizeof(digest_info_prefix));
        CHECK(EVP_Digest(msg, sizeof(msg) - 1, tbs + 19, &mdlen,
                         EVP_sha256(), NULL) == 1);
        tbslen = sizeof(tbs);
    } else {
        memcpy(tbs, msg, sizeof(msg) - 1);
        tbslen = sizeof(msg) - 1;
    }

    before = w->verifies;
    rv = rv_ok(f->C_SignInit(t->s, &mech, key));
    CHECK(w->verifies == before);
    if (rv != CKR_OK)
        return;
    if (always) {
        rv = rv_ok(f->C_Login(t->s, CKU_CONTEXT_SPECIFIC,
                              (CK_UTF8CHAR *)pin, strlen(pin)));
        CHECK(w->verifies - before <= 1);
        CHECK(rv != CKR_OK || w->verifies - before == 1);
        before = w->verifies;
    }
    sig = malloc(FM_SIG_MAX);
    CHECK(sig != NULL);
    rv = rv_ok(f->C_Sign(t->s, tbs, tbslen, sig, &siglen));
    /* Signing never sends a PIN. */
    CHECK(w->verifies == before);
    if (rv == CKR_OK) {
        CHECK(siglen > 0 && siglen <= FM_SIG_MAX);
        check_signature(f, t->s, id, attrs[0].ulValueLen, raw, pss, tbs,
                        tbslen, sig, siglen);
    }
    free(sig);
}

static void login(CK_FUNCTION_LIST *f, struct token *t, struct watch *w,
                  bool again)
{
    const char *pin = t->auth ? FM_AUTH_PIN : FM_SIGN_PIN;
    unsigned before = w->verifies;
    CK_RV rv;

    rv = rv_ok(f->C_Login(t->s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)));
    /* One VERIFY at most: no retry. */
    CHECK(w->verifies - before <= 1);
    /* Only the card can say yes. */
    CHECK(rv != CKR_OK || w->verifies - before == 1);
    if (rv == CKR_OK) {
        t->logged_in = true;
        return;
    }
    if (rv != CKR_PIN_INCORRECT || !again)
        return;
    /* The card rejected this PIN: it is never sent again, unless the card
     * says since that a PIN was verified (its counter full again: the PIN
     * may have been changed to this one). */
    before = w->verifies;
    w->full_count_seen = false;
    rv = rv_ok(f->C_Login(t->s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)));
    CHECK(w->verifies == before || w->full_count_seen);
    CHECK(w->verifies - before <= 1);
    CHECK(rv != CKR_OK || w->verifies - before == 1);
}

static void token_work(CK_FUNCTION_LIST *f, struct token *t, struct watch *w,
                       uint8_t cfg)
{
    CK_OBJECT_HANDLE objs[FM_OBJECTS_MAX];
    CK_ULONG n = 0, i;
    unsigned before;

    before = w->verifies;
    if (rv_ok(f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                               NULL, NULL, &t->s)) != CKR_OK) {
        t->s = CK_INVALID_HANDLE;
        return;
    }
    if (rv_ok(f->C_FindObjectsInit(t->s, NULL, 0)) == CKR_OK) {
        if (rv_ok(f->C_FindObjects(t->s, objs, FM_OBJECTS_MAX, &n)) != CKR_OK)
            n = 0;
        CHECK(n <= FM_OBJECTS_MAX);
        rv_ok(f->C_FindObjectsFinal(t->s));
    }
    for (i = 0; i < n; i++)
        read_attrs(f, t->s, objs[i]);
    CHECK(w->verifies == before);

    login(f, t, w, cfg & 0x20);
    if (t->logged_in) {
        /* The signature certificate shows only now. */
        n = 0;
        if (rv_ok(f->C_FindObjectsInit(t->s, NULL, 0)) == CKR_OK) {
            if (rv_ok(f->C_FindObjects(t->s, objs, FM_OBJECTS_MAX, &n))
                != CKR_OK)
                n = 0;
            rv_ok(f->C_FindObjectsFinal(t->s));
        }
        for (i = 0; i < n; i++)
            read_attrs(f, t->s, objs[i]);
    }
    sign_once(f, t, w, cfg & 0x04, cfg & 0x40);

    if (t->auth && (cfg & 0x10)) {
        before = w->verifies;
        rv_ok(f->C_SetPIN(t->s, (CK_UTF8CHAR *)FM_AUTH_PIN, 4,
                          (CK_UTF8CHAR *)FM_NEW_AUTH_PIN, 4));
        CHECK(w->verifies - before <= 1);
    }
}

static void slot_info(CK_FUNCTION_LIST *f, CK_SLOT_ID id, struct token *t)
{
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_MECHANISM_TYPE mechs[16];
    CK_MECHANISM_INFO mi;
    CK_ULONG n = 16, i;

    rv_ok(f->C_GetSlotInfo(id, &si));
    t->slot = id;
    t->auth = true;
    if (rv_ok(f->C_GetTokenInfo(id, &ti)) == CKR_OK) {
        CHECK(ti.ulMinPinLen <= ti.ulMaxPinLen);
        t->auth = ti.ulMaxPinLen == 4;
    }
    if (rv_ok(f->C_GetMechanismList(id, mechs, &n)) == CKR_OK) {
        CHECK(n <= 16);
        for (i = 0; i < n; i++)
            rv_ok(f->C_GetMechanismInfo(id, mechs[i], &mi));
    }
}

/* The configuration files (quiet_config). */
static char conf_path[] = "/tmp/fuzz-module-conf-XXXXXX";
static char conf_pss_path[] = "/tmp/fuzz-module-pss-XXXXXX";
static void quiet_config(void);

void fuzz_module_session(const struct tp_card_cb *card, uint8_t cfg)
{
    static const enum mynacard_variant variants[4] = {
        MYNACARD_VARIANT_BOTH, MYNACARD_VARIANT_AUTH_ONLY,
        MYNACARD_VARIANT_SIGN_ONLY, MYNACARD_VARIANT_BOTH,
    };
    struct token toks[FM_SLOTS_MAX];
    CK_SLOT_ID slots[FM_SLOTS_MAX];
    CK_ULONG nslots = FM_SLOTS_MAX, i;
    CK_FUNCTION_LIST *f = NULL;
    struct tp_card_cb cb;
    struct tp_hub *hub = NULL;
    struct watch w;

    quiet_config();
    memset(&w, 0, sizeof(w));
    memset(toks, 0, sizeof(toks));
    w.inner = *card;
    cb = *card;
    cb.xfer = watch_xfer;
    cb.reset = watch_reset;
    cb.unpower = watch_unpower;
    cb.ctx = &w;
    CHECK(tp_hub_callback_new(1, &hub) == 0);
    CHECK(tp_hub_callback_insert(hub, 0, &cb) == 0);

    /* The highest debug level, into /dev/null (see the configuration
     * file written by LLVMFuzzerTestOneInput), so that every log line
     * the module makes from card data is formatted. */
    setenv("MYNACARD_DEBUG",
           (cfg & 0x08) || getenv("FUZZ_MODULE_LOG") ? "4" : "0", 1);
    setenv("MYNACARD_CONF", cfg & 0x40 ? conf_pss_path : conf_path, 1);
    mynacard_test_use_hub(hub);
    mynacard_test_set_variant(variants[cfg & 3]);
    CHECK(C_GetFunctionList(&f) == CKR_OK);
    CHECK(f->C_Initialize(NULL) == CKR_OK);

    if (rv_ok(f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)
        nslots = 0;
    CHECK(nslots <= FM_SLOTS_MAX);
    for (i = 0; i < nslots; i++)
        slot_info(f, slots[i], &toks[i]);
    for (i = 0; i < nslots; i++)
        token_work(f, &toks[i], &w, cfg);
    for (i = 0; i < nslots; i++) {
        if (toks[i].s == CK_INVALID_HANDLE)
            continue;
        if (toks[i].logged_in)
            rv_ok(f->C_Logout(toks[i].s));
        rv_ok(f->C_CloseAllSessions(toks[i].slot));
    }
    CHECK(f->C_Finalize(NULL) == CKR_OK);
    mynacard_test_use_hub(NULL);
    tp_hub_free(hub);

    /* The module leaves no PIN verified on the card. */
    CHECK(!w.pin_on_card);
}

static void remove_config(void)
{
    unlink(conf_path);
    unlink(conf_pss_path);
}

static void write_config(char *path, const char *text)
{
    FILE *fp;
    int fd;

    fd = mkstemp(path);
    CHECK(fd >= 0);
    fp = fdopen(fd, "w");
    CHECK(fp != NULL);
    fputs(text, fp);
    CHECK(fclose(fp) == 0);
}

/* The two configuration files: the log to /dev/null (FUZZ_MODULE_LOG=1
 * keeps it on stderr, to read a crash), and pss on or not.  Written once,
 * removed at exit. */
static void quiet_config(void)
{
    static bool done;
    const char *log = getenv("FUZZ_MODULE_LOG") ? "" : "log_file = /dev/null\n";
    char text[64];

    if (done)
        return;
    done = true;
    write_config(conf_path, log);
    snprintf(text, sizeof(text), "%spss = true\n", log);
    write_config(conf_pss_path, text);
    atexit(remove_config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_card fc;
    struct tp_card_cb cb;

    if (size < 1)
        return 0;
    fuzz_card_init(&fc, data + 1, size - 1);
    memset(&cb, 0, sizeof(cb));
    cb.xfer = fuzz_card_xfer;
    cb.ctx = &fc;
    /* The ATR of the first real card in doc/jpki-card.md. */
    memcpy(cb.atr, (const uint8_t[]){ 0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31,
                                      0xFE, 0x45, 0x14 }, 9);
    cb.atr_len = 9;
    fuzz_module_session(&cb, data[0]);
    return 0;
}
