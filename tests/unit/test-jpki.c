/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Unit tests of the JPKI application protocol (apdu/jpki.c), in process:
 * against the virtual card (tests/emu) over the callback transport, and
 * against small scripted cards written here for what the virtual card
 * cannot be made to do (hostile certificate files, other DER lengths, a
 * card without the JPKI AP).  A spy between the transport and the card
 * records every command, so that the tests can count SELECTs and READ
 * BINARYs and make sure a bad PIN is never sent.  One virtual card is made
 * per test case (SoftHSM key generation is slow); tests that spend PIN
 * tries work on a copy of its directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "apdu.h"
#include "check-run.h"
#include "der.h"
#include "emu.h"
#include "jpki.h"
#include "log.h"
#include "myna-err.h"
#include "transport.h"

const char check_suite_name[] = "jpki";

/* ------------------------------------------------------------------ */
/* The spy: records every command on its way to the card.              */

#define SPY_MAX 2048u

struct cmd_rec {
    uint8_t cla, ins, p1, p2;
    size_t lc, le;
    bool ext;
    uint8_t data[JPKI_PIN_MAX];
    size_t datalen;
};

struct spy {
    struct tp_card_cb inner;
    size_t n;
    struct cmd_rec rec[SPY_MAX];
};

static int spy_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                    uint8_t *resp, size_t cap, size_t *resplen)
{
    struct spy *s = ctx;
    struct apdu a;

    if (s->n < SPY_MAX && apdu_decode(cmd, cmdlen, &a) == 0) {
        struct cmd_rec *r = &s->rec[s->n++];

        memset(r, 0, sizeof(*r));
        r->cla = a.cla;
        r->ins = a.ins;
        r->p1 = a.p1;
        r->p2 = a.p2;
        r->lc = a.lc;
        r->le = a.le;
        r->ext = cmdlen > 5 && (a.lc > 255 || a.le > 256 || a.extended);
        r->datalen = a.lc < sizeof(r->data) ? a.lc : sizeof(r->data);
        if (r->datalen)
            memcpy(r->data, a.data, r->datalen);
    }
    return s->inner.xfer(s->inner.ctx, cmd, cmdlen, resp, cap, resplen);
}

static void spy_wrap(struct spy *s, const struct tp_card_cb *inner,
                     struct tp_card_cb *out)
{
    s->inner = *inner;
    s->n = 0;
    *out = *inner;
    out->xfer = spy_xfer;
    out->reset = emu_wrap_reset;
    out->unpower = emu_wrap_unpower;
    out->ctx = s;
}

static size_t spy_count(const struct spy *s, uint8_t ins)
{
    size_t i, n = 0;

    for (i = 0; i < s->n; i++)
        n += s->rec[i].ins == ins;
    return n;
}

/* SELECTs by P1: 04 application, 02 EF. */
static size_t spy_selects(const struct spy *s, uint8_t p1)
{
    size_t i, n = 0;

    for (i = 0; i < s->n; i++)
        n += s->rec[i].ins == 0xA4 && s->rec[i].p1 == p1;
    return n;
}

/* VERIFYs that carried a PIN (not the tries query). */
static size_t spy_verifies(const struct spy *s)
{
    size_t i, n = 0;

    for (i = 0; i < s->n; i++)
        n += s->rec[i].ins == 0x20 && s->rec[i].lc > 0;
    return n;
}

/* The furthest byte a READ BINARY after the first one of a file asked
 * for: offset + Le, or 0. */
static size_t spy_read_end_after_first(const struct spy *s, size_t from)
{
    size_t i, end = 0;

    for (i = from; i < s->n; i++) {
        const struct cmd_rec *r = &s->rec[i];
        size_t off = ((size_t)(r->p1 & 0x7F) << 8) | r->p2;

        if (r->ins != 0xB0 || off == 0)
            continue;
        if (off + r->le > end)
            end = off + r->le;
    }
    return end;
}

/* ------------------------------------------------------------------ */
/* A rig: a card, the spy, the callback transport and a struct jpki.   */

struct rig {
    struct emu_card *card;   /* NULL for scripted cards */
    struct spy spy;
    struct transport *t;
    struct jpki *j;
};

#define RIGS_MAX 4
static struct rig *g_rigs[RIGS_MAX];

static struct rig *rig_over(const struct tp_card_cb *cb)
{
    struct tp_card_cb wrapped;
    struct rig *r = calloc(1, sizeof(*r));
    size_t i;

    ck_assert_ptr_nonnull(r);
    spy_wrap(&r->spy, cb, &wrapped);
    ck_assert_int_eq(tp_callback_new(&wrapped, &r->t), 0);
    ck_assert_int_eq(jpki_new(r->t, &r->j), 0);
    for (i = 0; i < RIGS_MAX; i++) {
        if (!g_rigs[i]) {
            g_rigs[i] = r;
            return r;
        }
    }
    ck_abort_msg("too many rigs");
    return NULL;
}

/* The virtual card; the classic profile unless @opt names another: these
 * tests pin the layer's behaviour on the first model, and the "profiles"
 * case below covers what the others change. */
static struct rig *rig_emu(const char *dir, const struct emu_options *opt)
{
    struct emu_options o = { 0 };
    struct emu_card *card = NULL;
    struct tp_card_cb cb;
    struct rig *r;

    if (opt)
        o = *opt;
    if (o.profile == EMU_PROFILE_DEFAULT)
        o.profile = EMU_PROFILE_CLASSIC;
    ck_assert_msg(emu_card_open(dir, &o, &card) == 0, "open card %s", dir);
    emu_card_callbacks(card, &cb);
    r = rig_over(&cb);
    r->card = card;
    return r;
}

static void rig_close(struct rig *r)
{
    size_t i;

    for (i = 0; i < RIGS_MAX; i++) {
        if (g_rigs[i] == r)
            g_rigs[i] = NULL;
    }
    jpki_free(r->j);
    tp_free(r->t);
    if (r->card)
        emu_card_close(r->card);
    free(r);
}

/* Checked teardown: close whatever a test left open (with CK_FORK=no the
 * process goes on). */
static void rigs_teardown(void)
{
    size_t i;

    for (i = 0; i < RIGS_MAX; i++) {
        if (g_rigs[i])
            rig_close(g_rigs[i]);
    }
}

static unsigned long card_apdus(const struct rig *r)
{
    unsigned long apdus = 0, in = 0, out = 0;

    emu_card_counters(r->card, &apdus, &in, &out);
    return apdus;
}

/* ------------------------------------------------------------------ */
/* Card directories.                                                   */

static char g_root[PATH_MAX];   /* this test case's temporary directory */
static char g_card[PATH_MAX];   /* its card; empty if init failed */

static const char *const LABELS[] = {
    "JPKIAPICCTOKEN", "JPKIAPGPSETOKEN", "JPKIAPIOSTOKEN"
};
static const enum jpki_token_kind LABEL_KINDS[] = {
    JPKI_KIND_JUKI, JPKI_KIND_PHONE_ANDROID, JPKI_KIND_PHONE_IOS
};
#define NLABELS (sizeof(LABELS) / sizeof(LABELS[0]))
static char g_label_cards[NLABELS][PATH_MAX];

/* snprintf that reports truncation instead of hiding it. */
static bool fmt_ok(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

static void make_root(void)
{
    const char *tmp = getenv("MYNACARD_TEST_TMP");
    char cmd[PATH_MAX + 16];

    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (!fmt_ok(snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmp),
                sizeof(cmd)) || system(cmd) != 0)
        tmp = "/tmp";
    if (!fmt_ok(snprintf(g_root, sizeof(g_root), "%s/test-jpki-XXXXXX", tmp),
                sizeof(g_root)) || !mkdtemp(g_root)) {
        perror("mkdtemp");
        g_root[0] = '\0';
    }
}

static void remove_root(void)
{
    char cmd[PATH_MAX + 16];

    if (g_root[0]) {
        if (!fmt_ok(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root),
                    sizeof(cmd)) || system(cmd) != 0)
            fprintf(stderr, "test-jpki: could not remove %s\n", g_root);
    }
    g_root[0] = '\0';
}

/* Unchecked fixture (runs once per test case, in the parent): one card.
 * Failures are reported by the tests, which find g_card empty. */
static void card_setup(void)
{
    struct emu_init_params p;

    g_card[0] = '\0';
    make_root();
    if (!g_root[0])
        return;
    emu_init_params_default(&p);
    if (!fmt_ok(snprintf(g_card, sizeof(g_card), "%s/card", g_root),
                sizeof(g_card)) || emu_card_init(g_card, &p) != 0)
        g_card[0] = '\0';
}

static void card_teardown(void)
{
    remove_root();
    g_card[0] = '\0';
}

static void labels_setup(void)
{
    size_t i;

    make_root();
    for (i = 0; i < NLABELS; i++) {
        struct emu_init_params p;

        g_label_cards[i][0] = '\0';
        if (!g_root[0])
            continue;
        emu_init_params_default(&p);
        p.token_label = LABELS[i];
        if (!fmt_ok(snprintf(g_label_cards[i], PATH_MAX, "%s/card-%zu",
                             g_root, i), PATH_MAX) ||
            emu_card_init(g_label_cards[i], &p) != 0)
            g_label_cards[i][0] = '\0';
    }
}

static void labels_teardown(void)
{
    remove_root();
}

static const char *card_dir(void)
{
    ck_assert_msg(g_card[0], "the virtual card could not be made");
    return g_card;
}

/* Replace every @from in the file at @path with @to (the card's
 * softhsm2.conf may name its token directory by absolute path). */
static void replace_in_file(const char *path, const char *from,
                            const char *to)
{
    FILE *f = fopen(path, "rb");
    char *buf, *out, *p, *q;
    size_t n, flen = strlen(from), tlen = strlen(to), cap;
    long sz;

    if (!f)
        return;
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    sz = ftell(f);
    ck_assert_int_ge(sz, 0);
    rewind(f);
    buf = calloc(1, (size_t)sz + 1);
    ck_assert_ptr_nonnull(buf);
    n = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    cap = n * (tlen + 1) + 1;
    out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    for (p = buf, q = out; *p;) {
        if (strncmp(p, from, flen) == 0) {
            memcpy(q, to, tlen);
            q += tlen;
            p += flen;
        } else {
            *q++ = *p++;
        }
    }
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(out, 1, strlen(out), f), strlen(out));
    ck_assert_int_eq(fclose(f), 0);
    free(out);
    free(buf);
}

/* A private copy of the test case's card, for tests that spend tries or
 * change PINs.  Returns a static path valid until the next call. */
static const char *card_copy(void)
{
    static char dst[PATH_MAX];
    char cmd[3 * PATH_MAX];
    char conf[PATH_MAX + 32];
    const char *src = card_dir();

    ck_assert(fmt_ok(snprintf(dst, sizeof(dst), "%s/copy-XXXXXX", g_root),
                     sizeof(dst)));
    ck_assert_ptr_nonnull(mkdtemp(dst));
    ck_assert(fmt_ok(snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", src,
                              dst), sizeof(cmd)));
    ck_assert_int_eq(system(cmd), 0);
    ck_assert(fmt_ok(snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dst),
                     sizeof(conf)));
    replace_in_file(conf, src, dst);
    return dst;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long sz;

    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    sz = ftell(f);
    ck_assert_int_gt(sz, 0);
    rewind(f);
    buf = malloc((size_t)sz);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

/* What emu_card_init writes for each certificate, by enum jpki_cert: the
 * card's file (the DER, then FF up to the file's size) and a PEM copy. */
static const char *const CERT_EFS[] = {
    [JPKI_CERT_AUTH] = "ef-000A.bin",
    [JPKI_CERT_AUTH_CA] = "ef-000B.bin",
    [JPKI_CERT_SIGN] = "ef-0001.bin",
    [JPKI_CERT_SIGN_CA] = "ef-0002.bin",
};
static const char *const CERT_PEMS[] = {
    [JPKI_CERT_AUTH] = "auth.crt.pem",
    [JPKI_CERT_AUTH_CA] = "ca-auth.crt.pem",
    [JPKI_CERT_SIGN] = "sign.crt.pem",
    [JPKI_CERT_SIGN_CA] = "ca-sign.crt.pem",
};

/* The certificate @which of the card in @dir, as the emulator wrote it:
 * the DER of its PEM copy, checked to be what the card's file holds
 * before its FF filler. */
static uint8_t *emu_cert_file(const char *dir, enum jpki_cert which,
                              size_t *len)
{
    char path[PATH_MAX + 64];
    uint8_t *ef, *der = NULL;
    size_t eflen, i;
    X509 *x;
    FILE *f;
    int n;

    ck_assert(fmt_ok(snprintf(path, sizeof(path), "%s/%s", dir,
                              CERT_PEMS[which]), sizeof(path)));
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    n = i2d_X509(x, &der);
    X509_free(x);
    ck_assert_int_gt(n, 0);

    ck_assert(fmt_ok(snprintf(path, sizeof(path), "%s/%s", dir,
                              CERT_EFS[which]), sizeof(path)));
    ef = read_whole(path, &eflen);
    ck_assert_uint_gt(eflen, (size_t)n);
    ck_assert_mem_eq(ef, der, (size_t)n);
    for (i = (size_t)n; i < eflen; i++)
        ck_assert_uint_eq(ef[i], 0xFF);
    free(ef);

    *len = (size_t)n;
    return der;   /* OPENSSL_malloc'd: OPENSSL_free */
}

static X509 *parse_cert(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_eq(p, der + len);   /* the whole buffer, nothing more */
    return x;
}

/* ------------------------------------------------------------------ */
/* A scripted card: just enough of the JPKI AP, with knobs.            */

struct sfile {
    uint16_t fid;
    const uint8_t *data;
    size_t len;
    bool secure;       /* READ BINARY answers 6982 */
};

struct script {
    bool has_jpki;
    bool jpki_selected;
    int selected;          /* index into files, or -1 */
    struct sfile files[6];
    size_t nfiles;
    bool ext_ok;           /* READ BINARY takes extended Le */
    size_t overlong;       /* extra bytes added to READ BINARY answers */
    bool empty_ok;         /* READ BINARY past the end: 9000, no data */
    uint16_t tries_sw;     /* VERIFY without data */
    uint16_t verify_sw;    /* VERIFY with data */
    uint16_t change_sw;
    uint16_t sign_sw;
    size_t sign_len;
    size_t challenge_short;
    uint16_t select_ef_sw; /* non-zero: every EF SELECT answers this */
};

static void script_init(struct script *s)
{
    memset(s, 0, sizeof(*s));
    s->has_jpki = true;
    s->selected = -1;
    s->tries_sw = 0x63C3;
    s->verify_sw = 0x9000;
    s->change_sw = 0x9000;
    s->sign_sw = 0x9000;
    s->sign_len = JPKI_SIG_LEN;
}

static void script_add(struct script *s, uint16_t fid, const uint8_t *data,
                       size_t len)
{
    ck_assert_uint_lt(s->nfiles, sizeof(s->files) / sizeof(s->files[0]));
    s->files[s->nfiles].fid = fid;
    s->files[s->nfiles].data = data;
    s->files[s->nfiles].len = len;
    s->nfiles++;
}

static int put_sw(uint8_t *resp, size_t n, uint16_t sw, size_t *resplen)
{
    resp[n] = (uint8_t)(sw >> 8);
    resp[n + 1] = (uint8_t)sw;
    *resplen = n + 2;
    return 0;
}

static int script_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                       uint8_t *resp, size_t cap, size_t *resplen)
{
    struct script *s = ctx;
    struct apdu a;
    size_t i, n;

    if (cap < 2)
        return MYNA_E_BUFFER_SMALL;
    if (apdu_decode(cmd, cmdlen, &a) != 0)
        return put_sw(resp, 0, 0x6700, resplen);

    switch (a.ins) {
    case 0xA4:
        if (a.p1 == 0x04) {
            bool ok = s->has_jpki && a.lc == sizeof(JPKI_AID) &&
                      memcmp(a.data, JPKI_AID, a.lc) == 0;

            s->jpki_selected = ok;
            s->selected = -1;
            return put_sw(resp, 0, ok ? 0x9000 : 0x6A82, resplen);
        }
        if (a.p1 == 0x02 && s->select_ef_sw)
            return put_sw(resp, 0, s->select_ef_sw, resplen);
        if (a.p1 == 0x02 && a.lc == 2 && s->jpki_selected) {
            uint16_t fid = (uint16_t)(a.data[0] << 8 | a.data[1]);

            for (i = 0; i < s->nfiles; i++) {
                if (s->files[i].fid == fid) {
                    s->selected = (int)i;
                    return put_sw(resp, 0, 0x9000, resplen);
                }
            }
        }
        return put_sw(resp, 0, 0x6A82, resplen);

    case 0xB0: {
        const struct sfile *f;
        size_t off = ((size_t)a.p1 << 8) | a.p2;

        if (s->selected < 0)
            return put_sw(resp, 0, 0x6986, resplen);
        if (a.p1 & 0x80)
            return put_sw(resp, 0, 0x6A86, resplen);
        if (a.extended && !s->ext_ok)
            return put_sw(resp, 0, 0x6700, resplen);
        f = &s->files[s->selected];
        if (f->secure)
            return put_sw(resp, 0, 0x6982, resplen);
        if (off >= f->len && !s->empty_ok)
            return put_sw(resp, 0, 0x6B00, resplen);
        n = off >= f->len ? 0 : f->len - off;
        if (n > a.le)
            n = a.le;
        if (n + s->overlong + 2 > cap)
            return MYNA_E_BUFFER_SMALL;
        if (n)
            memcpy(resp, f->data + off, n);
        memset(resp + n, 0xFF, s->overlong);
        return put_sw(resp, n + s->overlong, 0x9000, resplen);
    }

    case 0x20:
        return put_sw(resp, 0, a.lc ? s->verify_sw : s->tries_sw, resplen);

    case 0x24:
        return put_sw(resp, 0, s->change_sw, resplen);

    case 0x2A:
        if (s->sign_sw != 0x9000)
            return put_sw(resp, 0, s->sign_sw, resplen);
        if (s->sign_len + 2 > cap)
            return MYNA_E_BUFFER_SMALL;
        memset(resp, 0x5A, s->sign_len);
        return put_sw(resp, s->sign_len, 0x9000, resplen);

    case 0x84:
        n = a.le - (s->challenge_short < a.le ? s->challenge_short : a.le);
        memset(resp, 0x42, n);
        return put_sw(resp, n, 0x9000, resplen);

    default:
        return put_sw(resp, 0, 0x6D00, resplen);
    }
}

static struct rig *rig_script(struct script *s)
{
    struct tp_card_cb cb;

    memset(&cb, 0, sizeof(cb));
    cb.xfer = script_xfer;
    cb.ctx = s;
    cb.atr[0] = 0x3B;
    cb.atr_len = 1;
    return rig_over(&cb);
}

/* A certificate-shaped blob: SEQUENCE of @content bytes (not FF), its
 * length in the shortest form, then @filler FF bytes.  Returns the total
 * length of the element in *@derlen. */
static uint8_t *make_cert_file(size_t content, size_t filler, size_t *derlen,
                               size_t *filelen)
{
    uint8_t hdr[6];
    size_t h = 0, i;
    uint8_t *buf;

    hdr[h++] = 0x30;
    if (content < 0x80) {
        hdr[h++] = (uint8_t)content;
    } else if (content <= 0xFF) {
        hdr[h++] = 0x81;
        hdr[h++] = (uint8_t)content;
    } else if (content <= 0xFFFF) {
        hdr[h++] = 0x82;
        hdr[h++] = (uint8_t)(content >> 8);
        hdr[h++] = (uint8_t)content;
    } else {
        hdr[h++] = 0x83;
        hdr[h++] = (uint8_t)(content >> 16);
        hdr[h++] = (uint8_t)(content >> 8);
        hdr[h++] = (uint8_t)content;
    }
    *derlen = h + content;
    *filelen = h + content + filler;
    buf = malloc(*filelen);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, hdr, h);
    for (i = 0; i < content; i++)
        buf[h + i] = (uint8_t)(i * 7 % 251);
    memset(buf + h + content, 0xFF, filler);
    return buf;
}

static size_t reads_needed(size_t total, size_t chunk)
{
    if (total <= 256)
        return 1;
    return 1 + (total - 256 + chunk - 1) / chunk;
}

/* ------------------------------------------------------------------ */
/* Pure functions.                                                     */

struct pin_case {
    enum jpki_role role;
    const char *pin;
    int err;
    const char *norm;
};

static const struct pin_case PIN_CASES[] = {
    { JPKI_AUTH, "1234", 0, "1234" },
    { JPKI_AUTH, "0000", 0, "0000" },
    { JPKI_AUTH, "123", MYNA_E_PIN_LEN, NULL },
    { JPKI_AUTH, "12345", MYNA_E_PIN_LEN, NULL },
    { JPKI_AUTH, "", MYNA_E_PIN_LEN, NULL },
    { JPKI_AUTH, "12a4", MYNA_E_PIN_FORMAT, NULL },
    { JPKI_AUTH, "12 4", MYNA_E_PIN_FORMAT, NULL },
    { JPKI_AUTH, "abcde", MYNA_E_PIN_LEN, NULL },   /* length first */
    { JPKI_SIGN, "ABC123", 0, "ABC123" },
    { JPKI_SIGN, "abc123", 0, "ABC123" },
    { JPKI_SIGN, "Zz09aZ", 0, "ZZ09AZ" },
    { JPKI_SIGN, "ABCDEFGHIJKLMNOP", 0, "ABCDEFGHIJKLMNOP" },
    { JPKI_SIGN, "123456", 0, "123456" },
    { JPKI_SIGN, "ABC12", MYNA_E_PIN_LEN, NULL },
    { JPKI_SIGN, "ABCDEFGHIJKLMNOPQ", MYNA_E_PIN_LEN, NULL },
    { JPKI_SIGN, "ABC-123", MYNA_E_PIN_FORMAT, NULL },
    { JPKI_SIGN, "ABC 123", MYNA_E_PIN_FORMAT, NULL },
    { JPKI_SIGN, "ABC\xC3\xA9" "12", MYNA_E_PIN_FORMAT, NULL },
    { JPKI_SIGN, "a-c", MYNA_E_PIN_LEN, NULL },     /* length first */
};

START_TEST(test_pin_normalize)
{
    const struct pin_case *c = &PIN_CASES[_i];
    uint8_t norm[JPKI_PIN_MAX];
    size_t normlen = 99;
    int err;

    memset(norm, 0xEE, sizeof(norm));
    err = jpki_pin_normalize(c->role, (const uint8_t *)c->pin,
                             strlen(c->pin), norm, &normlen);
    ck_assert_int_eq(err, c->err);
    if (c->norm) {
        ck_assert_uint_eq(normlen, strlen(c->norm));
        ck_assert_mem_eq(norm, c->norm, normlen);
    }
}
END_TEST

START_TEST(test_kind_from_label)
{
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPICCTOKEN2"),
                     JPKI_KIND_MYNUMBER);
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPICCTOKEN"), JPKI_KIND_JUKI);
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPGPSETOKEN"),
                     JPKI_KIND_PHONE_ANDROID);
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPIOSTOKEN"),
                     JPKI_KIND_PHONE_IOS);
    /* Exact matches only. */
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPICCTOKEN3"),
                     JPKI_KIND_UNKNOWN);
    ck_assert_int_eq(jpki_kind_from_label("JPKIAPICCTOKEN2X"),
                     JPKI_KIND_UNKNOWN);
    ck_assert_int_eq(jpki_kind_from_label("jpkiapicctoken2"),
                     JPKI_KIND_UNKNOWN);
    ck_assert_int_eq(jpki_kind_from_label(""), JPKI_KIND_UNKNOWN);
    ck_assert_int_eq(jpki_kind_from_label(NULL), JPKI_KIND_UNKNOWN);

    ck_assert_str_eq(jpki_kind_name(JPKI_KIND_MYNUMBER), "My Number Card");
    ck_assert_str_eq(jpki_kind_name(JPKI_KIND_JUKI),
                     "Juki card (住基カード)");
    ck_assert_ptr_nonnull(jpki_kind_name(JPKI_KIND_PHONE_ANDROID));
    ck_assert_ptr_nonnull(jpki_kind_name(JPKI_KIND_PHONE_IOS));
    ck_assert_ptr_nonnull(jpki_kind_name(JPKI_KIND_UNKNOWN));
    ck_assert_str_ne(jpki_kind_name(JPKI_KIND_PHONE_ANDROID),
                     jpki_kind_name(JPKI_KIND_PHONE_IOS));
    ck_assert_ptr_nonnull(jpki_kind_name((enum jpki_token_kind)99));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Scripted cards.                                                     */

/* A SELECT answered with a VERIFY's status words (63Cx, 6983, 6984) is a
 * broken or hostile card, not a wrong or blocked PIN: the PIN never reached
 * the card, so no caller may take it as rejected (the module would refuse
 * it from then on).  Found by fuzz-jpki; kept as a regression test. */
START_TEST(test_select_pin_sw_not_pin_error)
{
    static const uint16_t sws[] = { 0x63C2, 0x63C0, 0x6983, 0x6984 };
    struct script s;
    struct rig *r;
    int tries = 7, left = 7;

    script_init(&s);
    s.select_ef_sw = sws[_i];
    script_add(&s, 0x0018, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 &left), MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries),
                     MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(jpki_change_pin(r->j, JPKI_AUTH, (const uint8_t *)"5678",
                                     4), MYNA_E_BAD_RESPONSE);
    /* No VERIFY nor CHANGE REFERENCE DATA went out. */
    ck_assert_uint_eq(spy_count(&r->spy, 0x20), 0);
    ck_assert_uint_eq(spy_count(&r->spy, 0x24), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_not_jpki)
{
    struct script s;
    struct rig *r;
    uint8_t *der = (uint8_t *)"x";
    size_t len = 7;

    script_init(&s);
    s.has_jpki = false;
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_select_ap(r->j), MYNA_E_NOT_JPKI);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len),
                     MYNA_E_NOT_JPKI);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    /* Nothing but SELECTs of the AP went out. */
    ck_assert_uint_eq(r->spy.n, 2);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 2);
    ck_assert_mem_eq(r->spy.rec[0].data, JPKI_AID, 10);
    ck_assert_uint_eq(r->spy.rec[0].p2, 0x0C);
    ck_assert_uint_eq(r->spy.rec[0].le, 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

struct size_case {
    size_t content, filler;
};

/* Short form, the 81 and 82 long forms, around the 256-byte chunk. */
static const struct size_case SIZE_CASES[] = {
    { 0x10, 300 }, { 0x7F, 0 }, { 0x7F, 1000 }, { 0x80, 50 },
    { 0xFD, 0 }, { 0xFD, 200 }, { 0xFE, 1 }, { 0xFF, 600 },
    { 0x100, 0 }, { 0x100, 2 }, { 508, 0 }, { 508, 3 }, { 509, 300 },
    { 1200, 700 }, { 1920, 0 }, { 4000, 1 }, { DER_CERT_MAX - 4, 0 },
};

START_TEST(test_cert_sizes)
{
    const struct size_case *c = &SIZE_CASES[_i / 3];
    enum jpki_ext_mode mode = (enum jpki_ext_mode)(_i % 3);
    struct script s;
    struct rig *r;
    uint8_t *file, *der = NULL;
    size_t derlen, filelen, len = 0, reads;

    file = make_cert_file(c->content, c->filler, &derlen, &filelen);
    script_init(&s);
    s.ext_ok = true;
    script_add(&s, 0x000A, file, filelen);
    r = rig_script(&s);
    jpki_set_ext_mode(r->j, mode);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_uint_eq(len, derlen);
    ck_assert_mem_eq(der, file, derlen);
    /* After the first chunk, no byte beyond the DER is asked for. */
    ck_assert_uint_le(spy_read_end_after_first(&r->spy, 0), derlen);
    reads = spy_count(&r->spy, 0xB0);
    if (mode == JPKI_EXT_NEVER)
        ck_assert_uint_eq(reads, reads_needed(derlen, 256));
    else
        ck_assert_uint_eq(reads, derlen > 256 ? 2 : 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(der);
    free(file);
}
END_TEST

struct hostile_case {
    const char *name;
    uint8_t head[8];
    size_t headlen;
    size_t filelen;      /* head, then bytes 0x11 */
    size_t overlong;
    bool empty_ok;
    int err;
};

static const struct hostile_case HOSTILE[] = {
    { "claims 2000, holds 1000", { 0x30, 0x82, 0x07, 0xCC }, 4, 1000, 0,
      false, MYNA_E_BAD_RESPONSE },
    { "claims 300, holds 256", { 0x30, 0x82, 0x01, 0x28 }, 4, 256, 0,
      false, MYNA_E_BAD_RESPONSE },
    { "claims 300, ends in empty answers", { 0x30, 0x82, 0x01, 0x28 }, 4,
      270, 0, true, MYNA_E_BAD_RESPONSE },
    { "larger than DER_CERT_MAX", { 0x30, 0x82, 0x7F, 0xFF }, 4, 40000, 0,
      false, MYNA_E_BAD_RESPONSE },
    { "4-byte length, huge", { 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xF0 }, 6, 300,
      0, false, MYNA_E_BAD_RESPONSE },
    { "5-byte length", { 0x30, 0x85, 0, 0, 0, 1, 0 }, 7, 300, 0, false,
      MYNA_E_BAD_RESPONSE },
    { "indefinite length", { 0x30, 0x80 }, 2, 300, 0, false,
      MYNA_E_BAD_RESPONSE },
    { "not minimal (81 05)", { 0x30, 0x81, 0x05 }, 3, 300, 0, false,
      MYNA_E_BAD_RESPONSE },
    { "not a SEQUENCE", { 0x04, 0x82, 0x01, 0x00 }, 4, 300, 0, false,
      MYNA_E_BAD_RESPONSE },
    { "header cut", { 0x30, 0x82, 0x01 }, 3, 3, 0, false,
      MYNA_E_BAD_RESPONSE },
    { "one byte", { 0x30 }, 1, 1, 0, false, MYNA_E_BAD_RESPONSE },
    { "empty slot", { 0xFF, 0xFF, 0xFF, 0xFF }, 4, 2000, 0, false,
      MYNA_E_NOT_FOUND },
    { "empty file, empty answer", { 0 }, 0, 0, 0, true,
      MYNA_E_BAD_RESPONSE },
    { "answers longer than asked", { 0x30, 0x82, 0x04, 0x00 }, 4, 2000, 5,
      false, MYNA_E_BAD_RESPONSE },
};

START_TEST(test_cert_hostile)
{
    const struct hostile_case *c = &HOSTILE[_i];
    struct script s;
    struct rig *r;
    uint8_t *file, *der = (uint8_t *)"x";
    size_t len = 5;

    file = malloc(c->filelen + 1);
    ck_assert_ptr_nonnull(file);
    memset(file, 0x11, c->filelen);
    memcpy(file, c->head, c->headlen < c->filelen ? c->headlen : c->filelen);
    script_init(&s);
    s.overlong = c->overlong;
    s.empty_ok = c->empty_ok;
    script_add(&s, 0x000A, file, c->filelen);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_msg(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len) == c->err,
                  "%s", c->name);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    /* Bounded: never more reads than DER_CERT_MAX allows. */
    ck_assert_uint_le(spy_count(&r->spy, 0xB0),
                      reads_needed(DER_CERT_MAX, 256));
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(file);
}
END_TEST

START_TEST(test_cert_empty_file_6b00)
{
    struct script s;
    struct rig *r;
    uint8_t *der = NULL;
    size_t len = 0;

    script_init(&s);
    script_add(&s, 0x000A, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_lt(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_ptr_null(der);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_cert_security_and_missing)
{
    uint8_t *file, *der = NULL;
    size_t derlen, filelen, len = 0;
    struct script s;
    struct rig *r;

    file = make_cert_file(1000, 100, &derlen, &filelen);
    script_init(&s);
    script_add(&s, 0x0001, file, filelen);
    s.files[0].secure = true;
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &der, &len),
                     MYNA_E_SECURITY);
    ck_assert_ptr_null(der);
    /* The file is not there at all: 6A82 twice (the retry re-selects the
     * AP once, the EF once), then MYNA_E_NOT_FOUND. */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH_CA, &der, &len),
                     MYNA_E_NOT_FOUND);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 2);
    ck_assert_uint_eq(spy_count(&r->spy, 0xB0), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, (enum jpki_cert)9, &der, &len),
                     MYNA_E_ARGS);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(file);
}
END_TEST

/* Another program selected another application between our
 * transactions: the EF select fails with 6A82, and the AP is selected
 * again, once. */
START_TEST(test_reselect_after_foreign_select)
{
    uint8_t *file, *der = NULL;
    size_t derlen, filelen, len = 0;
    struct script s;
    struct rig *r;
    int tries = -1;

    file = make_cert_file(900, 100, &derlen, &filelen);
    script_init(&s);
    script_add(&s, 0x000A, file, filelen);
    script_add(&s, 0x0018, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);

    s.jpki_selected = false;   /* someone else's SELECT */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_uint_eq(len, derlen);
    ck_assert_mem_eq(der, file, len);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 2);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(der);

    /* The same before a VERIFY: still exactly one VERIFY. */
    s.jpki_selected = false;
    s.verify_sw = 0x63C2;
    r->spy.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1111", 4,
                                 &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 2);
    ck_assert_uint_eq(spy_verifies(&r->spy), 1);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(file);
}
END_TEST

START_TEST(test_token_info_scripted)
{
    static const uint8_t nul_padded[40] = "JPKIAPIOSTOKEN\0\0\0\0\0\0\0\0\0\0"
                                          "\0\0\0\0\0\0\0\0\0\0\0\0XYZW";
    static const uint8_t weird[] = "JPKI\x01\x80TOKEN  ";
    static const uint8_t shortf[] = "JPKIAPICCTOKEN2";
    uint8_t big[300];
    struct jpki_token_info ti;
    struct script s;
    struct rig *r;

    script_init(&s);
    script_add(&s, 0x0006, nul_padded, sizeof(nul_padded));
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKIAPIOSTOKEN");
    ck_assert_int_eq(ti.kind, JPKI_KIND_PHONE_IOS);
    ck_assert_uint_eq(ti.raw_len, sizeof(nul_padded));
    ck_assert_mem_eq(ti.raw, nul_padded, sizeof(nul_padded));

    s.files[0].data = weird;
    s.files[0].len = sizeof(weird) - 1;
    jpki_forget(r->j);
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKI??TOKEN");
    ck_assert_int_eq(ti.kind, JPKI_KIND_UNKNOWN);

    s.files[0].data = shortf;
    s.files[0].len = sizeof(shortf) - 1;
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKIAPICCTOKEN2");
    ck_assert_int_eq(ti.kind, JPKI_KIND_MYNUMBER);
    ck_assert_uint_eq(ti.raw_len, 15);

    /* A label of 32 characters and no padding; a file over 256 bytes is
     * read up to 256. */
    memset(big, 'A', sizeof(big));
    s.files[0].data = big;
    s.files[0].len = sizeof(big);
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_uint_eq(strlen(ti.label), 32);
    ck_assert_uint_eq(ti.raw_len, JPKI_TOKEN_INFO_MAX);
    ck_assert_int_eq(ti.kind, JPKI_KIND_UNKNOWN);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_tries_scripted)
{
    /* 9000: some cards say so for a verified PIN, whose counter a correct
     * VERIFY set back to the maximum (here the signature password's). */
    static const uint16_t sws[] = { 0x63C5, 0x63C1, 0x63C0, 0x6983, 0x6984,
                                    0x9000, 0x6A88, 0x6982 };
    static const int want[] = { 5, 1, 0, 0, 0, 5, -1, -1 };
    struct script s;
    struct rig *r;
    size_t i;

    script_init(&s);
    script_add(&s, 0x0018, (const uint8_t *)"", 0);
    script_add(&s, 0x001B, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < sizeof(sws) / sizeof(sws[0]); i++) {
        int tries = 42, err;

        bool verified = true;

        s.tries_sw = sws[i];
        err = jpki_pin_status(r->j, i % 2 ? JPKI_SIGN : JPKI_AUTH, &tries,
                              &verified);
        if (want[i] >= 0) {
            ck_assert_int_eq(err, 0);
            ck_assert_int_eq(tries, want[i]);
            ck_assert(verified == (sws[i] == 0x9000));
        } else {
            ck_assert_int_lt(err, 0);
        }
    }
    /* Never a VERIFY with data. */
    ck_assert_uint_eq(spy_verifies(&r->spy), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_verify_scripted)
{
    static const struct {
        uint16_t sw;
        int err, tries;
    } cases[] = {
        { 0x9000, 0, -1 },
        { 0x63C2, MYNA_E_PIN_INCORRECT, 2 },
        { 0x63C0, MYNA_E_PIN_LOCKED, 0 },
        { 0x6983, MYNA_E_PIN_LOCKED, 0 },
        { 0x6984, MYNA_E_PIN_LOCKED, 0 },
        { 0x6A82, MYNA_E_NOT_FOUND, -1 },
        /* What a card just powered up may say: a VERIFY carrying a PIN is
         * never sent again for it. */
        { 0x6F00, MYNA_E_CARD, -1 },
    };
    struct script s;
    struct rig *r;
    size_t i;

    script_init(&s);
    script_add(&s, 0x001B, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int tries = 42;

        s.verify_sw = cases[i].sw;
        r->spy.n = 0;
        ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN,
                                     (const uint8_t *)"pass99", 6, &tries),
                         cases[i].err);
        ck_assert_int_eq(tries, cases[i].tries);
        /* One VERIFY, never retried, the password upper-cased, marked
         * for redaction by the APDU log (not observable here). */
        ck_assert_uint_eq(spy_verifies(&r->spy), 1);
        ck_assert_mem_eq(r->spy.rec[r->spy.n - 1].data, "PASS99", 6);
    }
    /* tries_left may be NULL. */
    s.verify_sw = 0x63C1;
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN,
                                 (const uint8_t *)"PASS99", 6, NULL),
                     MYNA_E_PIN_INCORRECT);
    s.change_sw = 0x6982;
    ck_assert_int_eq(jpki_change_pin(r->j, JPKI_SIGN,
                                     (const uint8_t *)"NEWPASS1", 8),
                     MYNA_E_SECURITY);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_sign_scripted)
{
    static const size_t lens[] = { 0, 255, 257 };
    uint8_t in[JPKI_SIGN_INPUT_MAX] = { 1 }, sig[300];
    struct script s;
    struct rig *r;
    size_t siglen = 1, i;

    script_init(&s);
    script_add(&s, 0x0017, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 51, sig, sizeof(sig),
                               &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].cla, 0x80);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].le, 256);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].lc, 51);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        s.sign_len = lens[i];
        ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 51, sig, sizeof(sig),
                                   &siglen), MYNA_E_BAD_RESPONSE);
    }
    s.sign_sw = 0x6982;
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 51, sig, sizeof(sig),
                               &siglen), MYNA_E_SECURITY);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* P1 04: the 32-byte hash alone, Le 256; a card without the mode (6A86)
 * is MYNA_E_P1P2, which the module turns into "this card cannot". */
START_TEST(test_sign_pss_scripted)
{
    uint8_t hash[JPKI_PSS_HASH_LEN] = { 7 }, sig[300];
    struct script s;
    struct rig *r;
    size_t siglen = 1;

    script_init(&s);
    script_add(&s, 0x0017, (const uint8_t *)"", 0);
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_sign_pss(r->j, JPKI_AUTH, hash, sig, sizeof(sig),
                                   &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].cla, 0x80);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].ins, 0x2A);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].p1, 0x04);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].p2, 0x80);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].lc, 32);
    ck_assert_uint_eq(r->spy.rec[r->spy.n - 1].le, 256);
    s.sign_sw = 0x6A86;
    ck_assert_int_eq(jpki_sign_pss(r->j, JPKI_AUTH, hash, sig, sizeof(sig),
                                   &siglen), MYNA_E_P1P2);
    ck_assert_uint_eq(siglen, 0);
    s.sign_sw = 0x9000;
    s.sign_len = 255;
    ck_assert_int_eq(jpki_sign_pss(r->j, JPKI_AUTH, hash, sig, sizeof(sig),
                                   &siglen), MYNA_E_BAD_RESPONSE);
    ck_assert_int_eq(jpki_sign_pss(r->j, JPKI_AUTH, hash, sig, 255, &siglen),
                     MYNA_E_BUFFER_SMALL);
    ck_assert_int_eq(jpki_sign_pss(r->j, JPKI_AUTH, NULL, sig, sizeof(sig),
                                   &siglen), MYNA_E_ARGS);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_challenge_scripted)
{
    uint8_t buf[600];
    struct script s;
    struct rig *r;

    script_init(&s);
    s.challenge_short = 1;
    r = rig_script(&s);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_get_challenge(r->j, buf, 8), MYNA_E_BAD_RESPONSE);
    s.challenge_short = 0;
    ck_assert_int_eq(jpki_get_challenge(r->j, buf, 0), 0);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_get_challenge(r->j, buf, 600), 0);
    ck_assert_uint_eq(r->spy.n, 3);
    ck_assert_uint_eq(r->spy.rec[0].le, 256);
    ck_assert_uint_eq(r->spy.rec[1].le, 256);
    ck_assert_uint_eq(r->spy.rec[2].le, 88);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* JPKI_EXT_AUTO: a card refusing extended lengths is tried once, then
 * read with short APDUs for good. */
START_TEST(test_ext_auto_learns)
{
    uint8_t *file, *der = NULL;
    size_t derlen, filelen, len = 0;
    struct script s;
    struct rig *r;

    file = make_cert_file(1500, 500, &derlen, &filelen);
    script_init(&s);
    s.ext_ok = false;
    script_add(&s, 0x000A, file, filelen);
    script_add(&s, 0x000B, file, filelen);
    r = rig_script(&s);
    jpki_set_ext_mode(r->j, JPKI_EXT_AUTO);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_uint_eq(len, derlen);
    ck_assert_mem_eq(der, file, len);
    free(der);
    /* first, the refused extended one, then short ones */
    ck_assert_uint_eq(spy_count(&r->spy, 0xB0),
                      1 + 1 + reads_needed(derlen, 256) - 1);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH_CA, &der, &len), 0);
    ck_assert_mem_eq(der, file, len);
    free(der);
    ck_assert_uint_eq(spy_count(&r->spy, 0xB0), reads_needed(derlen, 256));

    /* JPKI_EXT_ALWAYS on such a card fails. */
    jpki_set_ext_mode(r->j, JPKI_EXT_ALWAYS);
    ck_assert_int_lt(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_ptr_null(der);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(file);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The virtual card.                                                   */

START_TEST(test_select_ap)
{
    struct rig *r = rig_emu(card_dir(), NULL);
    unsigned long before;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_uint_eq(r->spy.n, 1);
    ck_assert_uint_eq(r->spy.rec[0].ins, 0xA4);
    ck_assert_uint_eq(r->spy.rec[0].p1, 0x04);
    ck_assert_uint_eq(r->spy.rec[0].p2, 0x0C);
    ck_assert_uint_eq(r->spy.rec[0].lc, 10);
    ck_assert_uint_eq(r->spy.rec[0].le, 0);
    ck_assert_mem_eq(r->spy.rec[0].data, JPKI_AID, 10);
    before = card_apdus(r);
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_uint_eq(card_apdus(r), before);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_token_info)
{
    struct rig *r = rig_emu(card_dir(), NULL);
    struct jpki_token_info ti;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, "JPKIAPICCTOKEN2");
    ck_assert_int_eq(ti.kind, JPKI_KIND_MYNUMBER);
    ck_assert_uint_ge(ti.raw_len, 32);
    ck_assert_uint_le(ti.raw_len, JPKI_TOKEN_INFO_MAX);
    ck_assert_mem_eq(ti.raw, "JPKIAPICCTOKEN2", 15);
    ck_assert_str_eq(jpki_kind_name(ti.kind), "My Number Card");
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_token_labels)
{
    struct jpki_token_info ti;
    struct rig *r;
    uint8_t *der = NULL;
    size_t len = 0;

    ck_assert_msg(g_label_cards[_i][0], "card with label %s", LABELS[_i]);
    r = rig_emu(g_label_cards[_i], NULL);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_str_eq(ti.label, LABELS[_i]);
    ck_assert_int_eq(ti.kind, LABEL_KINDS[_i]);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    X509_free(parse_cert(der, len));
    free(der);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* Read @which and check it against the emulator's file; return the
 * number of READ BINARYs it took, and the length in *@lenp if not NULL. */
static size_t check_read_cert(struct rig *r, const char *dir,
                              enum jpki_cert which, size_t *lenp)
{
    uint8_t *der = NULL, *want;
    size_t len = 0, wantlen, from = r->spy.n, reads;

    want = emu_cert_file(dir, which, &wantlen);
    ck_assert_int_eq(jpki_read_cert(r->j, which, &der, &len), 0);
    ck_assert_uint_eq(len, wantlen);
    ck_assert_mem_eq(der, want, len);
    X509_free(parse_cert(der, len));
    ck_assert_uint_le(spy_read_end_after_first(&r->spy, from), len);
    reads = 0;
    for (; from < r->spy.n; from++)
        reads += r->spy.rec[from].ins == 0xB0;
    if (lenp)
        *lenp = len;
    OPENSSL_free(want);
    free(der);
    return reads;
}

START_TEST(test_read_free_certs)
{
    static const enum jpki_cert free_certs[] = {
        JPKI_CERT_AUTH, JPKI_CERT_AUTH_CA, JPKI_CERT_SIGN_CA
    };
    struct rig *r = rig_emu(card_dir(), NULL);
    size_t i;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < 3; i++) {
        size_t before = r->spy.n, len = 0;
        size_t reads = check_read_cert(r, card_dir(), free_certs[i], &len);

        ck_assert_uint_eq(reads, reads_needed(len, 256));
        fprintf(stderr, "# cert %d: %zu bytes, %zu APDUs (%zu READ BINARY)\n",
                (int)free_certs[i], len, r->spy.n - before, reads);
    }
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_read_sign_cert)
{
    struct rig *r = rig_emu(card_copy(), NULL);
    uint8_t *der = (uint8_t *)"x";
    size_t len = 3, before;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &der, &len),
                     MYNA_E_SECURITY);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    before = r->spy.n;
    check_read_cert(r, card_dir(), JPKI_CERT_SIGN, NULL);
    fprintf(stderr, "# sign cert: %zu APDUs after the password\n",
            r->spy.n - before);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_tries_free)
{
    struct rig *r = rig_emu(card_dir(), NULL);
    int tries = -1, i;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
        ck_assert_int_eq(tries, JPKI_AUTH_TRIES);
        ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_SIGN, &tries), 0);
        ck_assert_int_eq(tries, JPKI_SIGN_TRIES);
    }
    ck_assert_int_eq(emu_card_tries(r->card, 0), JPKI_AUTH_TRIES);
    ck_assert_int_eq(emu_card_tries(r->card, 1), JPKI_SIGN_TRIES);
    ck_assert_uint_eq(spy_verifies(&r->spy), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_verify_correct_and_wrong)
{
    struct rig *r = rig_emu(card_copy(), NULL);
    int tries = 42;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 &tries), 0);
    ck_assert_int_eq(emu_card_tries(r->card, 0), 3);
    /* The card still answers 63C3 to the tries query. */
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_int_eq(tries, 3);

    r->spy.n = 0;
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"9999", 4,
                                 &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 2);
    ck_assert_uint_eq(spy_verifies(&r->spy), 1);
    ck_assert_int_eq(emu_card_tries(r->card, 0), 2);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_int_eq(tries, 2);

    /* Sign password: one wrong try, then the right one in lower case. */
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC124",
                                 6, &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 4);
    ck_assert_int_eq(emu_card_tries(r->card, 1), 4);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"abc123",
                                 6, &tries), 0);
    ck_assert_mem_eq(r->spy.rec[r->spy.n - 1].data, "ABC123", 6);
    ck_assert_int_eq(emu_card_tries(r->card, 1), 5);
    /* A correct PIN resets the counter. */
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 &tries), 0);
    ck_assert_int_eq(emu_card_tries(r->card, 0), 3);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_verify_blocked)
{
    struct rig *r = rig_emu(card_copy(), NULL);
    int tries = 42;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"0000", 4,
                                 &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 2);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"0000", 4,
                                 &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(tries, 1);
    /* The try that uses the last one: 63C0. */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"0000", 4,
                                 &tries), MYNA_E_PIN_LOCKED);
    ck_assert_int_eq(tries, 0);
    ck_assert_uint_eq(spy_verifies(&r->spy), 1);
    ck_assert_int_eq(emu_card_tries(r->card, 0), 0);
    /* Every one after it: 6984, even the right PIN. */
    tries = 42;
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 &tries), MYNA_E_PIN_LOCKED);
    ck_assert_int_eq(tries, 0);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_int_eq(tries, 0);
    /* The other PIN is untouched. */
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_SIGN, &tries), 0);
    ck_assert_int_eq(tries, 5);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_bad_format_never_sent)
{
    static const struct {
        enum jpki_role role;
        const char *pin;
        int err;
    } bad[] = {
        { JPKI_AUTH, "123", MYNA_E_PIN_LEN },
        { JPKI_AUTH, "12345", MYNA_E_PIN_LEN },
        { JPKI_AUTH, "12a4", MYNA_E_PIN_FORMAT },
        { JPKI_AUTH, "", MYNA_E_PIN_LEN },
        { JPKI_SIGN, "ABC12", MYNA_E_PIN_LEN },
        { JPKI_SIGN, "ABCDEFGHIJ1234567", MYNA_E_PIN_LEN },
        { JPKI_SIGN, "ABC-123", MYNA_E_PIN_FORMAT },
        { JPKI_SIGN, "ABC 123", MYNA_E_PIN_FORMAT },
    };
    struct rig *r = rig_emu(card_dir(), NULL);
    unsigned long before;
    size_t i;
    int tries;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    before = card_apdus(r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tries = 42;
        ck_assert_int_eq(jpki_verify(r->j, bad[i].role,
                                     (const uint8_t *)bad[i].pin,
                                     strlen(bad[i].pin), &tries),
                         bad[i].err);
        ck_assert_int_eq(tries, -1);
        ck_assert_int_eq(jpki_change_pin(r->j, bad[i].role,
                                         (const uint8_t *)bad[i].pin,
                                         strlen(bad[i].pin)),
                         bad[i].err);
    }
    ck_assert_uint_eq(card_apdus(r), before);
    ck_assert_uint_eq(r->spy.n, 0);
    ck_assert_int_eq(emu_card_tries(r->card, 0), 3);
    ck_assert_int_eq(emu_card_tries(r->card, 1), 5);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_change_pin)
{
    const char *dir = card_copy();
    struct rig *r = rig_emu(dir, NULL);
    int tries = 42;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 NULL), 0);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_change_pin(r->j, JPKI_AUTH,
                                     (const uint8_t *)"5678", 4), 0);
    ck_assert_uint_eq(r->spy.n, 1);   /* the PIN EF is still selected */
    ck_assert_uint_eq(r->spy.rec[0].ins, 0x24);
    ck_assert_uint_eq(r->spy.rec[0].p1, 0x01);
    ck_assert_uint_eq(r->spy.rec[0].p2, 0x80);
    ck_assert_mem_eq(r->spy.rec[0].data, "5678", 4);

    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    ck_assert_int_eq(jpki_change_pin(r->j, JPKI_SIGN,
                                     (const uint8_t *)"newpass2026", 11), 0);
    ck_assert_int_eq(jpki_end(r->j, true), 0);

    /* After a reset: the new PINs work, the old ones do not. */
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 &tries), MYNA_E_PIN_INCORRECT);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"5678", 4,
                                 &tries), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN,
                                 (const uint8_t *)"NEWPASS2026", 11, &tries),
                     0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    rig_close(r);

    /* And they persist in the card's directory. */
    r = rig_emu(dir, NULL);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"5678", 4,
                                 &tries), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

static const uint8_t SHA256_PREFIX[19] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

/* Verify @sig over @msg (sha256WithRSAEncryption) with @der's key. */
static int openssl_verify(const uint8_t *der, size_t derlen,
                          const uint8_t *msg, size_t msglen,
                          const uint8_t *sig, size_t siglen)
{
    X509 *x = parse_cert(der, derlen);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
                                          X509_get0_pubkey(x)), 1);
    rc = EVP_DigestVerify(ctx, sig, siglen, msg, msglen);
    EVP_MD_CTX_free(ctx);
    X509_free(x);
    return rc;
}

START_TEST(test_sign_both_keys)
{
    static const char msg[] = "mynacard test message";
    struct rig *r = rig_emu(card_copy(), NULL);
    uint8_t di[sizeof(SHA256_PREFIX) + 32], sig_a[256], sig_s[256];
    uint8_t *auth = NULL, *sign = NULL;
    size_t authlen = 0, signlen = 0, siglen = 0;

    memcpy(di, SHA256_PREFIX, sizeof(SHA256_PREFIX));
    SHA256((const uint8_t *)msg, strlen(msg), di + sizeof(SHA256_PREFIX));

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &auth, &authlen),
                     0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, di, sizeof(di), sig_a,
                               sizeof(sig_a), &siglen), MYNA_E_SECURITY);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_SIGN, di, sizeof(di), sig_s,
                               sizeof(sig_s), &siglen), MYNA_E_SECURITY);

    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 NULL), 0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, di, sizeof(di), sig_a,
                               sizeof(sig_a), &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(openssl_verify(auth, authlen, (const uint8_t *)msg,
                                    strlen(msg), sig_a, siglen), 1);
    /* The signature password is still needed for the other key. */
    ck_assert_int_eq(jpki_sign(r->j, JPKI_SIGN, di, sizeof(di), sig_s,
                               sizeof(sig_s), &siglen), MYNA_E_SECURITY);

    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &sign, &signlen),
                     0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_SIGN, di, sizeof(di), sig_s,
                               sizeof(sig_s), &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(openssl_verify(sign, signlen, (const uint8_t *)msg,
                                    strlen(msg), sig_s, siglen), 1);
    /* Each signature verifies with its own certificate only. */
    ck_assert_int_ne(openssl_verify(sign, signlen, (const uint8_t *)msg,
                                    strlen(msg), sig_a, siglen), 1);
    ck_assert_int_ne(openssl_verify(auth, authlen, (const uint8_t *)msg,
                                    strlen(msg), sig_s, siglen), 1);
    ck_assert_int_eq(jpki_end(r->j, true), 0);

    /* The reset left no verified PIN behind. */
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, di, sizeof(di), sig_a,
                               sizeof(sig_a), &siglen), MYNA_E_SECURITY);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    free(auth);
    OPENSSL_clear_free(sign, signlen);
}
END_TEST

START_TEST(test_sign_limits)
{
    struct rig *r = rig_emu(card_copy(), NULL);
    uint8_t in[JPKI_SIGN_INPUT_MAX + 1], sig[JPKI_SIG_LEN];
    size_t siglen = 0;

    memset(in, 0x33, sizeof(in));
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_AUTH, (const uint8_t *)"1234", 4,
                                 NULL), 0);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 0, sig, sizeof(sig),
                               &siglen), MYNA_E_ARGS);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, JPKI_SIGN_INPUT_MAX + 1,
                               sig, sizeof(sig), &siglen), MYNA_E_ARGS);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 32, sig, sizeof(sig) - 1,
                               &siglen), MYNA_E_BUFFER_SMALL);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, NULL, 32, sig, sizeof(sig),
                               &siglen), MYNA_E_ARGS);
    ck_assert_uint_eq(r->spy.n, 0);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, 1, sig, sizeof(sig),
                               &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(jpki_sign(r->j, JPKI_AUTH, in, JPKI_SIGN_INPUT_MAX, sig,
                               sizeof(sig), &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_challenge)
{
    static const size_t sizes[] = { 1, 8, 255, 256, 257, 1000 };
    struct rig *r = rig_emu(card_dir(), NULL);
    uint8_t a[1000], b[1000];
    size_t i;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        r->spy.n = 0;
        memset(a, 0, sizeof(a));
        ck_assert_int_eq(jpki_get_challenge(r->j, a, sizes[i]), 0);
        ck_assert_uint_eq(r->spy.n, (sizes[i] + 255) / 256);
        ck_assert_uint_eq(spy_count(&r->spy, 0x84), r->spy.n);
    }
    /* Random: two 32-byte challenges differ. */
    ck_assert_int_eq(jpki_get_challenge(r->j, a, 32), 0);
    ck_assert_int_eq(jpki_get_challenge(r->j, b, 32), 0);
    ck_assert_mem_ne(a, b, 32);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_selection_cache)
{
    struct rig *r = rig_emu(card_dir(), NULL);
    struct jpki_token_info ti;
    int tries;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    check_read_cert(r, card_dir(), JPKI_CERT_AUTH, NULL);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 1);
    /* The same file again in the same transaction: no SELECT at all. */
    r->spy.n = 0;
    check_read_cert(r, card_dir(), JPKI_CERT_AUTH, NULL);
    ck_assert_uint_eq(spy_count(&r->spy, 0xA4), 0);
    /* Another file: one SELECT EF, no SELECT of the AP. */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_read_token_info(r->j, &ti), 0);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 2);
    ck_assert_int_eq(jpki_end(r->j, false), 0);

    /* Next transaction: the AP is still trusted; the EF is selected again
     * (another program may have selected another EF in between). */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 1);

    /* jpki_forget: both are selected again. */
    jpki_forget(r->j);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x02), 1);
    ck_assert_int_eq(jpki_end(r->j, true), 0);

    /* After a reset we asked for, likewise. */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* A reset by another program, seen by tp_begin(): the transaction is open,
 * MYNA_E_CARD_RESET is returned, the cache and the card's PINs are gone. */
START_TEST(test_begin_reset)
{
    struct emu_card *card = NULL;
    struct tp_card_cb cb, wrapped;
    struct tp_hub *hub = NULL;
    struct transport *t = NULL;
    struct jpki *j = NULL;
    struct spy *spy = calloc(1, sizeof(*spy));
    uint8_t *der = NULL;
    size_t len = 0;

    struct emu_options classic = { .profile = EMU_PROFILE_CLASSIC };

    ck_assert_ptr_nonnull(spy);
    /* A card whose warm reset clears PINs (the classic profile). */
    ck_assert_int_eq(emu_card_open(card_copy(), &classic, &card), 0);
    emu_card_callbacks(card, &cb);
    spy_wrap(spy, &cb, &wrapped);
    ck_assert_int_eq(tp_hub_callback_new(1, &hub), 0);
    ck_assert_int_eq(tp_hub_callback_insert(hub, 0, &wrapped), 0);
    ck_assert_int_eq(tp_hub_connect(hub, "Virtual Reader 0", &t), 0);
    ck_assert_int_eq(jpki_new(t, &j), 0);

    ck_assert_int_eq(jpki_begin(j), 0);
    ck_assert_int_eq(jpki_verify(j, JPKI_SIGN, (const uint8_t *)"ABC123", 6,
                                 NULL), 0);
    ck_assert_int_eq(jpki_end(j, false), 0);

    ck_assert_int_eq(tp_hub_callback_reset(hub, 0), 0);
    spy->n = 0;
    ck_assert_int_eq(jpki_begin(j), MYNA_E_CARD_RESET);
    /* The transaction is open: go on, from a forgotten selection. */
    ck_assert_int_eq(jpki_read_cert(j, JPKI_CERT_SIGN, &der, &len),
                     MYNA_E_SECURITY);
    ck_assert_uint_eq(spy_selects(spy, 0x04), 1);
    ck_assert_int_eq(jpki_end(j, false), 0);
    ck_assert_int_eq(jpki_begin(j), 0);
    ck_assert_int_eq(jpki_end(j, false), 0);

    jpki_free(j);
    tp_free(t);
    tp_hub_free(hub);
    emu_card_close(card);
    free(spy);
}
END_TEST

/* A reset fault in the middle of a certificate. */
START_TEST(test_reset_mid_read)
{
    struct emu_options opt = { 0 };
    struct rig *r;
    uint8_t *der = (uint8_t *)"x";
    size_t len = 9;

    opt.reset_after = 4;   /* SELECT AP, SELECT EF, READ, then READ */
    r = rig_emu(card_dir(), &opt);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len),
                     MYNA_E_CARD_RESET);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_ge(spy_count(&r->spy, 0xB0), 1);
    /* The cache is gone: the next read selects the AP again, and works. */
    r->spy.n = 0;
    check_read_cert(r, card_dir(), JPKI_CERT_AUTH, NULL);
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 1);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

START_TEST(test_card_removed)
{
    struct emu_options opt = { 0 };
    struct rig *r;
    uint8_t *der = NULL;
    size_t len = 0;
    int tries;

    opt.remove_after = 3;
    r = rig_emu(card_dir(), &opt);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len),
                     MYNA_E_NO_CARD);
    ck_assert_ptr_null(der);
    r->spy.n = 0;
    ck_assert_int_eq(jpki_pin_tries(r->j, JPKI_AUTH, &tries), MYNA_E_NO_CARD);
    /* Selection forgotten: it starts again from the AP. */
    ck_assert_uint_eq(r->spy.rec[0].ins, 0xA4);
    ck_assert_uint_eq(r->spy.rec[0].p1, 0x04);
    jpki_end(r->j, false);
}
END_TEST

/* Answers damaged on the wire in the middle of a certificate: an error,
 * never a certificate, nothing kept. */
START_TEST(test_corrupt_mid_read)
{
    static const int kinds[] = { EMU_CORRUPT_SW, EMU_CORRUPT_TRUNCATE,
                                 EMU_CORRUPT_OVERLONG };
    struct emu_options opt = { 0 };
    struct rig *r;
    uint8_t *der = (uint8_t *)"x";
    size_t len = 9;

    opt.corrupt = kinds[_i];
    opt.corrupt_after = 4;   /* the second READ BINARY */
    r = rig_emu(card_dir(), &opt);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_lt(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    /* A 6F00 (EMU_CORRUPT_SW) is how a card just powered up answers: a
     * command without a PIN is sent once more, and only once. */
    ck_assert_uint_eq(spy_count(&r->spy, 0xB0),
                      kinds[_i] == EMU_CORRUPT_SW ? 3 : 2);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* The strict card answers the first command after a power-down 6F00
 * without doing it: a command with no PIN is sent once more. */
START_TEST(test_6f00_after_power_down)
{
    struct emu_options opt = { .profile = EMU_PROFILE_STRICT };
    struct rig *r = rig_emu(card_dir(), &opt);
    uint8_t *der = NULL;
    size_t len = 0;

    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_int_eq(jpki_end(r->j, true), 0);   /* power down and up */
    r->spy.n = 0;
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len), 0);
    ck_assert_uint_gt(len, 0);
    free(der);
    /* SELECT of the AP twice (6F00, then 9000), then as usual. */
    ck_assert_uint_eq(spy_selects(&r->spy, 0x04), 2);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* Both behaviours of the card, as nobody knows the real one: does a
 * SELECT of the JPKI AP drop a verified PIN? */
START_TEST(test_reselect_clears_pin)
{
    struct emu_options opt = { 0 };
    bool clears = _i == 1;
    struct rig *r;
    uint8_t *der = NULL;
    size_t len = 0;

    opt.reselect_clears_pin = clears;
    r = rig_emu(card_copy(), &opt);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    /* The cache spares the SELECT, whatever the card does with it. */
    ck_assert_int_eq(jpki_select_ap(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &der, &len), 0);
    OPENSSL_clear_free(der, len);
    der = NULL;
    ck_assert_int_eq(jpki_end(r->j, false), 0);

    ck_assert_int_eq(jpki_begin(r->j), 0);
    jpki_forget(r->j);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &der, &len),
                     clears ? MYNA_E_SECURITY : 0);
    OPENSSL_clear_free(der, len);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* Extended READ BINARY: the card's two settings times the three modes. */
START_TEST(test_extended_modes)
{
    struct emu_options opt = { 0 };
    bool card_ext = _i / 3 == 1;
    enum jpki_ext_mode mode = (enum jpki_ext_mode)(_i % 3);
    struct rig *r;
    uint8_t *der = NULL, *want;
    size_t len = 0, wantlen, reads;
    int err;

    opt.extended_length = card_ext;
    r = rig_emu(card_dir(), &opt);
    jpki_set_ext_mode(r->j, mode);
    want = emu_cert_file(card_dir(), JPKI_CERT_AUTH, &wantlen);
    ck_assert_uint_gt(wantlen, 256);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    err = jpki_read_cert(r->j, JPKI_CERT_AUTH, &der, &len);
    reads = spy_count(&r->spy, 0xB0);
    if (mode == JPKI_EXT_ALWAYS && !card_ext) {
        ck_assert_int_lt(err, 0);
        ck_assert_ptr_null(der);
    } else {
        ck_assert_int_eq(err, 0);
        ck_assert_uint_eq(len, wantlen);
        ck_assert_mem_eq(der, want, len);
        ck_assert_uint_le(spy_read_end_after_first(&r->spy, 0), len);
        if (mode == JPKI_EXT_NEVER)
            ck_assert_uint_eq(reads, reads_needed(len, 256));
        else if (card_ext)
            ck_assert_uint_eq(reads, 2);
        else
            ck_assert_uint_eq(reads, 1 + reads_needed(len, 256));
        free(der);
        /* AUTO remembers: a second certificate costs no failed try. */
        if (mode == JPKI_EXT_AUTO) {
            size_t calen;
            uint8_t *ca = emu_cert_file(card_dir(), JPKI_CERT_AUTH_CA,
                                        &calen);

            r->spy.n = 0;
            ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH_CA, &der,
                                            &len), 0);
            ck_assert_mem_eq(der, ca, calen);
            ck_assert_uint_eq(spy_count(&r->spy, 0xB0),
                              card_ext ? (calen > 256 ? 2u : 1u)
                                       : reads_needed(calen, 256));
            free(der);
            OPENSSL_free(ca);
        }
    }
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    OPENSSL_free(want);
}
END_TEST

/* Answers in 61xx chains (GET RESPONSE) still give the right bytes, down
 * to 1-byte chunks (a 256-byte answer then takes 255 GET RESPONSEs). */
START_TEST(test_chaining)
{
    static const unsigned chunks[] = { 1, 4, 7, 100 };
    struct emu_options opt = { 0 };
    struct rig *r;
    uint8_t sig[256], di[51];
    size_t siglen = 0;

    opt.chain_chunk = chunks[_i];
    r = rig_emu(card_copy(), &opt);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    check_read_cert(r, card_dir(), JPKI_CERT_AUTH, NULL);
    check_read_cert(r, card_dir(), JPKI_CERT_AUTH_CA, NULL);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    check_read_cert(r, card_dir(), JPKI_CERT_SIGN, NULL);
    check_read_cert(r, card_dir(), JPKI_CERT_SIGN_CA, NULL);
    memset(di, 1, sizeof(di));
    ck_assert_int_eq(jpki_sign(r->j, JPKI_SIGN, di, sizeof(di), sig,
                               sizeof(sig), &siglen), 0);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_uint_gt(spy_count(&r->spy, 0xC0), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
}
END_TEST

/* The APDU log at its highest level, for the privacy test below. */
static char g_log[1 << 18];
static struct check_log g_logc = { g_log, sizeof(g_log), 0 };

/* The signature certificate is the holder's personal data: with every APDU
 * logged, its bytes never appear, while the authentication certificate's
 * do (which shows the log would have caught a leak). */
START_TEST(test_sign_cert_not_logged)
{
    struct rig *r = rig_emu(card_copy(), NULL);
    uint8_t *sign = NULL, *auth = NULL;
    size_t slen = 0, alen = 0, at, checked = 0;

    g_logc.len = 0;
    g_log[0] = '\0';
    myna_log_set(MYNA_LOG_APDU, check_log_sink, &g_logc);
    ck_assert_int_eq(jpki_begin(r->j), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_AUTH, &auth, &alen), 0);
    ck_assert_int_eq(jpki_verify(r->j, JPKI_SIGN, (const uint8_t *)"ABC123",
                                 6, NULL), 0);
    ck_assert_int_eq(jpki_read_cert(r->j, JPKI_CERT_SIGN, &sign, &slen), 0);
    ck_assert_int_eq(jpki_end(r->j, false), 0);
    myna_log_set(MYNA_LOG_OFF, NULL, NULL);

    ck_assert_ptr_nonnull(strstr(g_log, "> 00 B0"));
    ck_assert_msg(check_log_has_bytes(&g_logc, auth + 300, 8),
                  "the public certificate is not logged");
    /* Windows the two certificates share (algorithm identifiers, parts of
     * the issuer) are logged with the public one; every other window of the
     * signature certificate must be absent. */
    for (at = 0; at + 8 <= slen; at++) {
        if (memmem(auth, alen, sign + at, 8))
            continue;
        checked++;
        ck_assert_msg(!check_log_has_bytes(&g_logc, sign + at, 8),
                      "signature certificate bytes at %zu in the log", at);
    }
    ck_assert_uint_gt(checked, slen / 2);
    free(auth);
    OPENSSL_clear_free(sign, slen);
}
END_TEST

void check_add_suite_tests(Suite *s)
{
    TCase *tc = check_tcase(s, "pure");
    tcase_add_loop_test(tc, test_pin_normalize, 0, CHECK_N(PIN_CASES));
    tcase_add_test(tc, test_kind_from_label);

    tc = check_tcase(s, "scripted");
    tcase_add_checked_fixture(tc, NULL, rigs_teardown);
    tcase_add_test(tc, test_not_jpki);
    tcase_add_loop_test(tc, test_select_pin_sw_not_pin_error, 0, 4);
    tcase_add_loop_test(tc, test_cert_sizes, 0, 3 * (CHECK_N(SIZE_CASES)));
    tcase_add_loop_test(tc, test_cert_hostile, 0, CHECK_N(HOSTILE));
    check_add_tests(
        tc, test_cert_empty_file_6b00, test_cert_security_and_missing,
        test_reselect_after_foreign_select, test_token_info_scripted,
        test_tries_scripted, test_verify_scripted, test_sign_scripted,
        test_sign_pss_scripted, test_challenge_scripted, test_ext_auto_learns);

    tc = check_tcase(s, "card");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, card_setup, card_teardown);
    tcase_add_checked_fixture(tc, NULL, rigs_teardown);
    check_add_tests(tc, test_select_ap, test_token_info, test_read_free_certs,
                    test_read_sign_cert, test_sign_cert_not_logged,
                    test_tries_free, test_verify_correct_and_wrong,
                    test_verify_blocked, test_bad_format_never_sent,
                    test_change_pin, test_sign_both_keys, test_sign_limits,
                    test_challenge, test_selection_cache, test_begin_reset,
                    test_reset_mid_read, test_card_removed);
    tcase_add_loop_test(tc, test_corrupt_mid_read, 0, 3);
    tcase_add_loop_test(tc, test_reselect_clears_pin, 0, 2);
    tcase_add_test(tc, test_6f00_after_power_down);
    tcase_add_loop_test(tc, test_extended_modes, 0, 6);
    tcase_add_loop_test(tc, test_chaining, 0, 4);

    tc = check_tcase(s, "labels");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, labels_setup, labels_teardown);
    tcase_add_checked_fixture(tc, NULL, rigs_teardown);
    tcase_add_loop_test(tc, test_token_labels, 0, (int)NLABELS);
}
