/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The shared fixture of the in-process module tests: makes the virtual
 * card(s) once per program in a child process (so that no SoftHSM state
 * is left in the test runner), reads their certificates by raw APDUs as
 * the independent truth, copies a card for each test, and wraps the card
 * in a spy that counts and checks the APDUs the module sends.  Calls the
 * module only through the function list and the test hooks; calls the
 * virtual card, the callback hub and OpenSSL directly.
 */
#include "config.h"
#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

struct mt_fx fx;

static const uint8_t jpki_aid[10] = {
    0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01
};

/* ---- Templates: the cards made once per program ---- */

struct mt_template {
    bool made;
    char dir[PATH_MAX];
    unsigned char *der[MT_CERT_N];
    size_t der_len[MT_CERT_N];
};

static char tmp_root[PATH_MAX];
static pid_t tmp_owner;
static struct mt_template tmpl[2];

static void run_cmd(const char *fmt, const char *a, const char *b)
{
    char cmd[3 * PATH_MAX];
    int rc;

    snprintf(cmd, sizeof(cmd), fmt, a, b);
    rc = system(cmd);
    ck_assert_msg(rc == 0, "'%s' failed (%d)", cmd, rc);
}

static void remove_tmp_root(void)
{
    char cmd[PATH_MAX + 16];

    if (getpid() != tmp_owner || tmp_root[0] == '\0' ||
        getenv("MYNACARD_TEST_KEEP"))
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", tmp_root);
}

static void ensure_tmp_root(void)
{
    const char *base = getenv("MYNACARD_TEST_TMP");
    char cmd[PATH_MAX + 16];

    if (tmp_root[0] != '\0')
        return;
    if (!base || !*base)
        base = "/tmp";
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base);
    ck_assert_msg(system(cmd) == 0, "cannot create %s", base);
    snprintf(tmp_root, sizeof(tmp_root), "%s/module-XXXXXX", base);
    ck_assert_msg(mkdtemp(tmp_root) != NULL, "mkdtemp %s: %s", tmp_root,
                  strerror(errno));
    tmp_owner = getpid();
    atexit(remove_tmp_root);
}

/* One exchange with @card; returns the SW or -1. */
static int raw_card(struct emu_card *card, const uint8_t *cmd, size_t len,
                    uint8_t *resp, size_t *resplen)
{
    uint8_t buf[300];
    size_t n = 0;

    if (emu_card_apdu(card, cmd, len, buf, sizeof(buf), &n) != 0 || n < 2)
        return -1;
    if (resp)
        memcpy(resp, buf, n - 2);
    if (resplen)
        *resplen = n - 2;
    return (buf[n - 2] << 8) | buf[n - 1];
}

static int raw_select_aid(struct emu_card *card)
{
    uint8_t cmd[5 + sizeof(jpki_aid)] = { 0x00, 0xA4, 0x04, 0x0C,
                                          sizeof(jpki_aid) };

    int sw;

    memcpy(cmd + 5, jpki_aid, sizeof(jpki_aid));
    sw = raw_card(card, cmd, sizeof(cmd), NULL, NULL);
    /* The first command after power-up may get 6F00 (strict profile). */
    if (sw == 0x6F00)
        sw = raw_card(card, cmd, sizeof(cmd), NULL, NULL);
    return sw;
}

static int raw_select_ef(struct emu_card *card, uint16_t fid)
{
    uint8_t cmd[7] = { 0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF };

    return raw_card(card, cmd, sizeof(cmd), NULL, NULL);
}

static int raw_verify(struct emu_card *card, enum mt_role r, const char *pin)
{
    uint8_t cmd[5 + 32] = { 0x00, 0x20, 0x00, 0x80 };
    size_t len = strlen(pin);
    int sw;

    sw = raw_select_aid(card);
    if (sw != 0x9000)
        return sw;
    sw = raw_select_ef(card, r == MT_AUTH ? 0x0018 : 0x001B);
    if (sw != 0x9000)
        return sw;
    cmd[4] = (uint8_t)len;
    memcpy(cmd + 5, pin, len);
    return raw_card(card, cmd, 5 + len, NULL, NULL);
}

/* Read a certificate EF: its DER length comes from the header.  Runs in
 * the child that makes the card, so it reports instead of asserting.
 * Returns NULL on any failure. */
static unsigned char *raw_read_cert(struct emu_card *card, uint16_t fid,
                                    size_t *out_len)
{
    enum { CAP = 8192 };
    unsigned char *der;
    size_t have = 0, total = 0;
    int sw;

    if (raw_select_aid(card) != 0x9000 || raw_select_ef(card, fid) != 0x9000) {
        fprintf(stderr, "# SELECT of EF %04x failed\n", fid);
        return NULL;
    }
    der = malloc(CAP);
    if (!der)
        return NULL;
    while (have + 256 <= CAP) {
        uint8_t cmd[5] = { 0x00, 0xB0, (have >> 8) & 0x7F, have & 0xFF, 0x00 };
        size_t n = 0;

        sw = raw_card(card, cmd, sizeof(cmd), der + have, &n);
        if (sw != 0x9000) {
            fprintf(stderr, "# READ BINARY %04x at %zu: %04x\n", fid, have, sw);
            break;
        }
        have += n;
        if (total == 0 && have >= 4) {
            if (der[0] != 0x30)
                break;
            if (der[1] < 0x80)
                total = 2 + der[1];
            else if (der[1] == 0x81)
                total = 3 + der[2];
            else if (der[1] == 0x82)
                total = 4 + ((size_t)der[2] << 8 | der[3]);
            else
                break;
        }
        if ((total && have >= total) || n == 0)
            break;
    }
    if (total == 0 || have < total) {
        fprintf(stderr, "# certificate %04x unreadable\n", fid);
        free(der);
        return NULL;
    }
    *out_len = total;
    return der;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");

    if (!fp || fwrite(buf, 1, len, fp) != len)
        _exit(20);
    fclose(fp);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf;
    long n;

    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc(n > 0 ? (size_t)n : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static const uint16_t cert_fid[MT_CERT_N] = { 0x000A, 0x000B, 0x0001, 0x0002 };

/* The child that makes card @n: emu_card_init, then the four certificates
 * read back by raw APDUs into DIR.certK.der. */
static void make_card_child(int n, const char *dir)
{
    struct emu_init_params p;
    struct emu_card *card = NULL;
    char path[PATH_MAX + 32];

    emu_init_params_default(&p);
    p.serial = n == 0 ? 0x4D59410 + 1 : 0x4D59410 + 2;
    if (emu_card_init(dir, &p) != 0)
        _exit(10);
    if (emu_card_open(dir, NULL, &card) != 0)
        _exit(11);
    if (raw_verify(card, MT_SIGN, MT_SIGN_PIN) != 0x9000)
        _exit(12);
    for (int k = 0; k < MT_CERT_N; k++) {
        size_t len = 0;
        unsigned char *der = raw_read_cert(card, cert_fid[k], &len);

        if (!der)
            _exit(13 + k);
        snprintf(path, sizeof(path), "%s.cert%d.der", dir, k);
        write_file(path, der, len);
        free(der);
    }
    emu_card_close(card);
    _exit(0);
}

static void ensure_template(int n)
{
    struct mt_template *t = &tmpl[n];
    char path[PATH_MAX + 32];
    pid_t pid;
    int status = 0;

    if (t->made)
        return;
    ensure_tmp_root();
    ck_assert_int_lt(snprintf(t->dir, sizeof(t->dir), "%s/card%d", tmp_root,
                              n), (int)sizeof(t->dir));
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        make_card_child(n, t->dir);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "making the virtual card %s failed (status %d)", t->dir,
                  status);
    for (int k = 0; k < MT_CERT_N; k++) {
        snprintf(path, sizeof(path), "%s.cert%d.der", t->dir, k);
        t->der[k] = read_file(path, &t->der_len[k]);
    }
    t->made = true;
}

void mt_template_setup(void)
{
    ensure_template(0);
}

void mt_template2_setup(void)
{
    ensure_template(0);
    ensure_template(1);
}

void mt_template_teardown(void)
{
    /* The templates live until the program exits (remove_tmp_root). */
}

const unsigned char *mt_cert_der(enum mt_cert which, size_t *len)
{
    ck_assert(tmpl[0].made);
    *len = tmpl[0].der_len[which];
    return tmpl[0].der[which];
}

const unsigned char *mt_cert_der2(enum mt_cert which, size_t *len)
{
    ck_assert(tmpl[1].made);
    *len = tmpl[1].der_len[which];
    return tmpl[1].der[which];
}

/* SoftHSM's configuration may name its token directory by absolute path:
 * point the copy at its own tokens. */
static void fix_softhsm_conf(const char *from, const char *to)
{
    char path[PATH_MAX + 32];
    size_t len = 0, flen = strlen(from);
    unsigned char *buf;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/softhsm2.conf", to);
    if (access(path, R_OK) != 0)
        return;
    buf = read_file(path, &len);
    fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    for (size_t i = 0; i < len;) {
        if (i + flen <= len && memcmp(buf + i, from, flen) == 0 &&
            (i + flen == len || buf[i + flen] == '/' ||
             buf[i + flen] == '\n' || buf[i + flen] == ' ')) {
            fputs(to, fp);
            i += flen;
        } else {
            fputc(buf[i], fp);
            i++;
        }
    }
    fclose(fp);
    free(buf);
}

/* ---- The spy between the hub and the card ---- */

static int spy_xfer(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp,
                    size_t cap, size_t *resplen)
{
    struct mt_spy *s = ctx;
    int rv;

    if (atomic_fetch_add(&s->inflight, 1) > 0)
        atomic_fetch_add(&s->overlaps, 1);
    atomic_fetch_add(&s->apdus, 1);
    if (len >= 4) {
        switch (cmd[1]) {
        case 0x20:
            if (len > 5 && cmd[4] > 0)
                atomic_fetch_add(&s->verify_pin, 1);
            else
                atomic_fetch_add(&s->verify_query, 1);
            break;
        case 0x24:
            atomic_fetch_add(&s->change_pin, 1);
            break;
        case 0x2A:
            atomic_fetch_add(&s->sign_cmds, 1);
            break;
        case 0x84:
            atomic_fetch_add(&s->challenges, 1);
            break;
        default:
            break;
        }
    }
    rv = s->inner.xfer(s->inner.ctx, cmd, len, resp, cap, resplen);
    atomic_fetch_sub(&s->inflight, 1);
    return rv;
}

/* A power cycle the module asked for (tp_end(t, true)). */
static void spy_unpower(void *ctx)
{
    struct mt_spy *s = ctx;

    atomic_fetch_add(&s->resets, 1);
    if (s->inner.unpower)
        s->inner.unpower(s->inner.ctx);
}

/* ---- Checked fixtures ---- */

void mt_open(const struct mt_open_opts *o)
{
    struct mt_template *t;
    struct tp_card_cb inner;
    CK_RV rv;

    mt_close();
    ensure_template(o->tmpl);
    t = &tmpl[o->tmpl];

    ck_assert_int_lt(snprintf(fx.dir, sizeof(fx.dir), "%s/test-XXXXXX",
                              tmp_root), (int)sizeof(fx.dir));
    ck_assert_ptr_nonnull(mkdtemp(fx.dir));
    ck_assert_int_eq(rmdir(fx.dir), 0);
    run_cmd("cp -a '%s' '%s'", t->dir, fx.dir);
    fix_softhsm_conf(t->dir, fx.dir);

    ck_assert_msg(emu_card_open(fx.dir, o->emu, &fx.card) == 0,
                  "emu_card_open %s", fx.dir);
    memset(&inner, 0, sizeof(inner));
    emu_card_callbacks(fx.card, &inner);
    memset(&fx.spy, 0, sizeof(fx.spy));
    fx.spy.inner = inner;
    fx.cb = inner;                 /* keeps the ATR */
    fx.cb.xfer = spy_xfer;
    fx.cb.reset = emu_wrap_reset;
    fx.cb.unpower = spy_unpower;
    fx.cb.ctx = &fx.spy;

    ck_assert_int_eq(tp_hub_callback_new(o->nreaders ? o->nreaders : 1,
                                         &fx.hub), 0);
    fx.reader = 0;
    if (!o->empty)
        ck_assert_int_eq(tp_hub_callback_insert(fx.hub, 0, &fx.cb), 0);

    fx.variant = o->variant;
    mynacard_test_use_hub(fx.hub);
    mynacard_test_set_variant(o->variant);
    rv = C_GetFunctionList(&fx.f);
    ck_assert_rv(rv, CKR_OK);
    ck_assert_ptr_nonnull(fx.f);
    fx.initialized = false;
    fx.has_auth = fx.has_sign = false;
    if (!o->no_init) {
        mt_init();
        mt_find_slots();
    }
}

void mt_close(void)
{
    if (fx.initialized && fx.f)
        fx.f->C_Finalize(NULL);
    fx.initialized = false;
    if (fx.hub) {
        mynacard_test_use_hub(NULL);
        tp_hub_free(fx.hub);
        fx.hub = NULL;
    }
    if (fx.card) {
        emu_card_close(fx.card);
        fx.card = NULL;
    }
    if (fx.dir[0] != '\0' && !getenv("MYNACARD_TEST_KEEP"))
        run_cmd("rm -rf '%s'%s", fx.dir, "");
    fx.dir[0] = '\0';
}

void mt_setup(void)
{
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH });
}

void mt_setup_noinit(void)
{
    mt_open(&(struct mt_open_opts){ .variant = MYNACARD_VARIANT_BOTH,
                                    .no_init = true });
}

void mt_teardown(void)
{
    mt_close();
}

static TCase *tcase(const char *name, bool init, void (*unchecked)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, unchecked, mt_template_teardown);
    tcase_add_checked_fixture(tc, init ? mt_setup : mt_setup_noinit,
                              mt_teardown);
    tcase_set_timeout(tc, 300);
    return tc;
}

TCase *mt_tcase(Suite *s, const char *name, bool init)
{
    TCase *tc = tcase(name, init, mt_template_setup);

    suite_add_tcase(s, tc);
    return tc;
}

TCase *mt_tcase2(Suite *s, const char *name, bool init)
{
    TCase *tc = tcase(name, init, mt_template2_setup);

    suite_add_tcase(s, tc);
    return tc;
}

/* ---- The module ---- */

void mt_init(void)
{
    CK_RV rv = fx.f->C_Initialize(NULL);

    ck_assert_rv(rv, CKR_OK);
    fx.initialized = true;
}

void mt_finalize(void)
{
    CK_RV rv = fx.f->C_Finalize(NULL);

    ck_assert_rv(rv, CKR_OK);
    fx.initialized = false;
}

void mt_reinit(enum mynacard_variant v)
{
    if (fx.initialized)
        mt_finalize();
    fx.variant = v;
    mynacard_test_use_hub(fx.hub);
    mynacard_test_set_variant(v);
    mt_init();
    mt_find_slots();
}

CK_ULONG mt_slot_count(CK_BBOOL present)
{
    CK_ULONG n = 0;
    CK_RV rv = fx.f->C_GetSlotList(present, NULL, &n);

    ck_assert_rv(rv, CKR_OK);
    return n;
}

void mt_find_slots(void)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_RV rv;

    fx.has_auth = fx.has_sign = false;
    /* PKCS#11 2.40, 5.5: the slot list is recomputed by the length query
     * (NULL list) and stays as it was for the call that fetches it. */
    rv = fx.f->C_GetSlotList(CK_TRUE, NULL, &n);
    ck_assert_rv(rv, CKR_OK);
    ck_assert_uint_le(n, 16);
    rv = fx.f->C_GetSlotList(CK_TRUE, slots, &n);
    ck_assert_rv(rv, CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;

        rv = fx.f->C_GetTokenInfo(slots[i], &ti);
        ck_assert_rv(rv, CKR_OK);
        if (ti.ulMinPinLen == 4 && !fx.has_auth) {
            fx.has_auth = true;
            fx.auth_slot = slots[i];
        } else if (ti.ulMinPinLen == 6 && !fx.has_sign) {
            fx.has_sign = true;
            fx.sign_slot = slots[i];
        }
    }
}

CK_SLOT_ID mt_slot(enum mt_role r)
{
    if (r == MT_AUTH) {
        ck_assert_msg(fx.has_auth, "no authentication token found (%lu "
                      "present, %lu slots)", mt_slot_count(CK_TRUE),
                      mt_slot_count(CK_FALSE));
        return fx.auth_slot;
    }
    ck_assert_msg(fx.has_sign, "no signature token found (%lu present, "
                  "%lu slots)", mt_slot_count(CK_TRUE),
                  mt_slot_count(CK_FALSE));
    return fx.sign_slot;
}

const char *mt_pin(enum mt_role r)
{
    return r == MT_AUTH ? MT_AUTH_PIN : MT_SIGN_PIN;
}

CK_SESSION_HANDLE mt_session(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_RV rv = fx.f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);

    ck_assert_rv(rv, CKR_OK);
    ck_assert_uint_ne(s, CK_INVALID_HANDLE);
    return s;
}

CK_SESSION_HANDLE mt_session_rw(CK_SLOT_ID slot)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_RV rv = fx.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                   NULL, NULL, &s);

    ck_assert_rv(rv, CKR_OK);
    ck_assert_uint_ne(s, CK_INVALID_HANDLE);
    return s;
}

void mt_login(CK_SESSION_HANDLE s, const char *pin)
{
    CK_RV rv = fx.f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));

    ck_assert_rv(rv, CKR_OK);
}

CK_SESSION_HANDLE mt_session_login(enum mt_role r)
{
    CK_SESSION_HANDLE s = mt_session(mt_slot(r));

    mt_login(s, mt_pin(r));
    return s;
}

CK_TOKEN_INFO mt_token_info(CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    CK_RV rv;

    memset(&ti, 0, sizeof(ti));
    rv = fx.f->C_GetTokenInfo(slot, &ti);
    ck_assert_rv(rv, CKR_OK);
    return ti;
}

/* ---- Objects ---- */

CK_ULONG mt_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl_, CK_ULONG n,
                 CK_OBJECT_HANDLE *out, CK_ULONG cap)
{
    CK_ULONG got = 0, total = 0;
    CK_OBJECT_HANDLE dummy[64];
    CK_RV rv;

    rv = fx.f->C_FindObjectsInit(s, tmpl_, n);
    ck_assert_rv(rv, CKR_OK);
    do {
        /* cppcheck-suppress legacyUninitvar ; dummy only receives handles */
        CK_OBJECT_HANDLE *dst = total < cap ? out + total : dummy;
        CK_ULONG room = total < cap ? cap - total : 64;

        rv = fx.f->C_FindObjects(s, dst, room, &got);
        ck_assert_rv(rv, CKR_OK);
        total += got;
        ck_assert_uint_lt(total, 1000);
    } while (got > 0);
    rv = fx.f->C_FindObjectsFinal(s);
    ck_assert_rv(rv, CKR_OK);
    return total;
}

CK_ULONG mt_find_class(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                       CK_OBJECT_HANDLE *out, CK_ULONG cap)
{
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };

    return mt_find(s, &t, 1, out, cap);
}

CK_OBJECT_HANDLE mt_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls)
{
    CK_OBJECT_HANDLE h[8];
    CK_ULONG n = mt_find_class(s, cls, h, 8);

    ck_assert_msg(n == 1, "expected one object of class %lu, found %lu",
                  (unsigned long)cls, (unsigned long)n);
    return h[0];
}

CK_OBJECT_HANDLE mt_cert_obj(CK_SESSION_HANDLE s, enum mt_cert which)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_OBJECT_HANDLE h[8];
    size_t len = 0;
    const unsigned char *der = mt_cert_der(which, &len);
    CK_ATTRIBUTE t[2] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_VALUE, (void *)der, len },
    };
    CK_ULONG n = mt_find(s, t, 2, h, 8);

    ck_assert_msg(n == 1, "certificate %d: %lu objects with its value",
                  (int)which, (unsigned long)n);
    return h[0];
}

unsigned char *mt_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
    CK_ATTRIBUTE a = { type, NULL, 0 };
    CK_RV rv;

    rv = fx.f->C_GetAttributeValue(s, o, &a, 1);
    ck_assert_msg(rv == CKR_OK, "attribute 0x%lx: length query 0x%lx",
                  (unsigned long)type, (unsigned long)rv);
    ck_assert_uint_ne(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a.pValue = malloc(a.ulValueLen + 1);
    ck_assert_ptr_nonnull(a.pValue);
    rv = fx.f->C_GetAttributeValue(s, o, &a, 1);
    ck_assert_msg(rv == CKR_OK, "attribute 0x%lx: 0x%lx", (unsigned long)type,
                  (unsigned long)rv);
    *len = a.ulValueLen;
    return a.pValue;
}

/* A fixed-size attribute into @v: the call succeeds and fills all @len
 * bytes. */
static void attr_fixed(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE type, void *v, CK_ULONG len)
{
    CK_ATTRIBUTE a = { type, v, len };
    CK_RV rv = fx.f->C_GetAttributeValue(s, o, &a, 1);

    ck_assert_msg(rv == CKR_OK, "attribute 0x%lx: 0x%lx", (unsigned long)type,
                  (unsigned long)rv);
    ck_assert_uint_eq(a.ulValueLen, len);
}

CK_ULONG mt_attr_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE type)
{
    CK_ULONG v = 0;

    attr_fixed(s, o, type, &v, sizeof(v));
    return v;
}

CK_BBOOL mt_attr_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL v = 0xAA;

    attr_fixed(s, o, type, &v, sizeof(v));
    ck_assert_msg(v == CK_TRUE || v == CK_FALSE, "attribute 0x%lx: bool %u",
                  (unsigned long)type, v);
    return v;
}

bool mt_attr_eq(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                const void *val, size_t len)
{
    CK_ULONG n = 0;
    unsigned char *v = mt_attr(s, o, t, &n);
    bool eq = n == len && memcmp(v, val, len) == 0;

    free(v);
    return eq;
}

/* ---- Signing ---- */

CK_RV mt_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE m,
              const void *data, size_t len, unsigned char *sig,
              CK_ULONG *siglen, const char *ctx_pin)
{
    CK_MECHANISM mech = { m, NULL, 0 };
    CK_RV rv;

    rv = fx.f->C_SignInit(s, &mech, key);
    if (rv != CKR_OK)
        return rv;
    if (ctx_pin) {
        rv = fx.f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)ctx_pin,
                           strlen(ctx_pin));
        if (rv != CKR_OK)
            return rv;
    }
    return fx.f->C_Sign(s, (CK_BYTE *)data, len, sig, siglen);
}

const EVP_MD *mt_md(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_SHA1_RSA_PKCS:
        return EVP_sha1();
    case CKM_SHA224_RSA_PKCS:
        return EVP_sha224();
    case CKM_SHA256_RSA_PKCS:
        return EVP_sha256();
    case CKM_SHA384_RSA_PKCS:
        return EVP_sha384();
    case CKM_SHA512_RSA_PKCS:
        return EVP_sha512();
    default:
        return NULL;
    }
}

bool mt_verify(const unsigned char *der, size_t derlen, CK_MECHANISM_TYPE m,
               const void *data, size_t len, const unsigned char *sig,
               size_t siglen)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)derlen);
    EVP_PKEY *pk;
    bool ok = false;

    if (!x)
        return false;
    pk = X509_get0_pubkey(x);
    if (!pk)
        goto out_x509;
    if (m == CKM_RSA_PKCS) {
        /* The card padded (PKCS#1 type 1) what it was given: recover it. */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
        unsigned char out[512];
        size_t outlen = sizeof(out);

        if (ctx && EVP_PKEY_verify_recover_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_PKEY_verify_recover(ctx, out, &outlen, sig, siglen) == 1)
            ok = outlen == len && memcmp(out, data, len) == 0;
        EVP_PKEY_CTX_free(ctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        if (md && mt_md(m) &&
            EVP_DigestVerifyInit(md, NULL, mt_md(m), NULL, pk) == 1 &&
            EVP_DigestVerify(md, sig, siglen, data, len) == 1)
            ok = true;
        EVP_MD_CTX_free(md);
    }
out_x509:
    X509_free(x);
    return ok;
}

size_t mt_digest_info(const void *data, size_t len, unsigned char out[64])
{
    static const unsigned char prefix[19] = {
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
    };
    unsigned int n = 32;

    memcpy(out, prefix, sizeof(prefix));
    ck_assert_int_eq(EVP_Digest(data, len, out + sizeof(prefix), &n,
                                EVP_sha256(), NULL), 1);
    return sizeof(prefix) + n;
}

/* ---- The virtual card ---- */

int mt_tries(enum mt_role r)
{
    return emu_card_tries(fx.card, (int)r);
}

unsigned long mt_apdus(void)
{
    unsigned long apdus = 0, in = 0, out = 0;

    emu_card_counters(fx.card, &apdus, &in, &out);
    return apdus;
}

void mt_remove(void)
{
    ck_assert_int_eq(tp_hub_callback_remove(fx.hub, fx.reader), 0);
    /* Taking a card out of a reader powers it off. */
    emu_card_power_off(fx.card);
}

void mt_insert(unsigned reader)
{
    fx.reader = reader;
    /* The reader powers the card up. */
    emu_card_power_on(fx.card);
    ck_assert_int_eq(tp_hub_callback_insert(fx.hub, reader, &fx.cb), 0);
}

void mt_reset(void)
{
    /* Another program reset the card (a warm reset): PC/SC tells every
     * other connection at its next call; what the card keeps depends on
     * its profile. */
    ck_assert_int_eq(tp_hub_callback_reset(fx.hub, fx.reader), 0);
}

int mt_raw(const uint8_t *cmd, size_t len, uint8_t *resp, size_t *resplen)
{
    return raw_card(fx.card, cmd, len, resp, resplen);
}

int mt_raw_verify(enum mt_role r, const char *pin)
{
    return raw_verify(fx.card, r, pin);
}

int mt_raw_sign_probe(enum mt_role r)
{
    uint8_t cmd[5 + 64 + 1] = { 0x80, 0x2A, 0x00, 0x80 };
    unsigned char di[64];
    size_t n = mt_digest_info("probe", 5, di);
    int sw;

    sw = raw_select_aid(fx.card);
    if (sw != 0x9000)
        return sw;
    sw = raw_select_ef(fx.card, r == MT_AUTH ? 0x0017 : 0x001A);
    if (sw != 0x9000)
        return sw;
    cmd[4] = (uint8_t)n;
    memcpy(cmd + 5, di, n);
    cmd[5 + n] = 0x00;
    return raw_card(fx.card, cmd, 6 + n, NULL, NULL);
}

/* ---- Small things ---- */

bool mt_padded(const CK_UTF8CHAR *p, size_t n)
{
    bool blank = true;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\0')
            return false;
        if (p[i] != ' ')
            blank = false;
    }
    return !blank;
}

const char *mt_unpad(const CK_UTF8CHAR *p, size_t n, char *buf, size_t cap)
{
    size_t len = n < cap - 1 ? n : cap - 1;

    memcpy(buf, p, len);
    while (len > 0 && buf[len - 1] == ' ')
        len--;
    buf[len] = '\0';
    return buf;
}

bool mt_rv_in(CK_RV rv, const CK_RV *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == rv)
            return true;
    return false;
}

void mt_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
