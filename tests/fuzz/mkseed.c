/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mkseed: writes the seed corpora of the fuzz targets, CORPUS/der,
 * CORPUS/apdu and CORPUS/jpki.  The DER and APDU seeds are written by hand
 * below, one per case worth starting from (each length form, 61xx chains,
 * 6Cxx, 63Cx, truncations, transport errors).  The JPKI seeds are real
 * conversations: mkseed makes two virtual cards (tests/emu), runs
 * fuzz-jpki's own session (fuzz_jpki_session) against them under a spread
 * of card behaviours (extended lengths or not, 61xx chaining, resets,
 * removals, corrupted answers, wrong and blocked PINs) and records each
 * answer as a frame of the scripted card's format (fuzz-card.h), so that
 * the target replays them byte for byte; a few the virtual card cannot
 * have (no JPKI AP, short-form certificates, 6Cxx) are written by hand.
 * Layer: a test tool; calls the virtual card and the card layer.
 *
 *   mkseed CORPUS    (makes the cards under $TMPDIR, then removes them)
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "fuzz-card.h"
#include "myna-err.h"
#include "transport.h"

struct script {
    uint8_t *buf;
    size_t len, cap;
};

static void put(struct script *s, const uint8_t *p, size_t n)
{
    if (s->cap - s->len < n) {
        size_t cap = s->cap ? s->cap : 4096;
        uint8_t *b;

        while (cap - s->len < n)
            cap *= 2;
        b = realloc(s->buf, cap);
        if (!b) {
            fprintf(stderr, "mkseed: out of memory\n");
            exit(1);
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void put_frame(struct script *s, const uint8_t *resp, size_t n)
{
    uint8_t hdr[2];

    if (n > FUZZ_FRAME_LONG_MAX) {
        fprintf(stderr, "mkseed: answer of %zu bytes\n", n);
        exit(1);
    }
    put(s, hdr, fuzz_frame_header(n, hdr));
    put(s, resp, n);
}

/* Bytes from a list ending in -1: as they are (put_raw) or as one frame
 * (put_bytes). */
static size_t collect(uint8_t *b, size_t cap, va_list ap)
{
    size_t n = 0;
    int v;

    while ((v = va_arg(ap, int)) >= 0 && n < cap)
        b[n++] = (uint8_t)v;
    return n;
}

static void put_raw(struct script *s, ...)
{
    uint8_t b[512];
    size_t n;
    va_list ap;

    va_start(ap, s);
    n = collect(b, sizeof(b), ap);
    va_end(ap);
    put(s, b, n);
}

static void put_bytes(struct script *s, ...)
{
    uint8_t b[512];
    size_t n;
    va_list ap;

    va_start(ap, s);
    n = collect(b, sizeof(b), ap);
    va_end(ap);
    put_frame(s, b, n);
}

/* A frame of @n data bytes (a counting pattern) and SW1 SW2. */
static void put_data(struct script *s, size_t n, uint8_t sw1, uint8_t sw2)
{
    uint8_t *b = malloc(n + 2);
    size_t i;

    if (!b) {
        fprintf(stderr, "mkseed: out of memory\n");
        exit(1);
    }
    for (i = 0; i < n; i++)
        b[i] = (uint8_t)(i + 0x30);
    b[n] = sw1;
    b[n + 1] = sw2;
    put_frame(s, b, n + 2);
    free(b);
}

/* The recorder between the transport and the virtual card. */
struct recorder {
    struct tp_card_cb inner;
    struct script out;
    bool gone;
};

static int rec_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                    uint8_t *resp, size_t cap, size_t *resplen)
{
    struct recorder *r = ctx;
    uint8_t ctl[2] = { FUZZ_FRAME_CONTROL, 0 };
    int err;

    err = r->inner.xfer(r->inner.ctx, cmd, cmdlen, resp, cap, resplen);
    if (r->gone)
        return err;
    switch (err) {
    case 0:
        put_frame(&r->out, resp, *resplen);
        break;
    case MYNA_E_NO_CARD:
        /* The end of a script says it: nothing more to record. */
        r->gone = true;
        break;
    default:
        ctl[1] = err == MYNA_E_CARD_RESET ? 0 :
                 err == MYNA_E_TRANSPORT ? 1 : 3;
        put(&r->out, ctl, sizeof(ctl));
        break;
    }
    return err;
}

static void write_seed(const char *outdir, const char *name,
                       const struct script *s)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", outdir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
        fprintf(stderr, "mkseed: cannot write %s\n", path);
        exit(1);
    }
    printf("%s: %zu bytes\n", path, s->len);
}

static void record(const char *outdir, const char *name, const char *card,
                   const struct emu_options *opt, uint8_t cfg)
{
    struct recorder r;
    struct tp_card_cb cb;
    struct transport *t = NULL;
    struct emu_card *c = NULL;

    memset(&r, 0, sizeof(r));
    if (emu_card_open(card, opt, &c) != 0)
        exit(1);
    emu_card_callbacks(c, &r.inner);
    cb = r.inner;
    cb.xfer = rec_xfer;
    cb.reset = emu_wrap_reset;
    cb.unpower = emu_wrap_unpower;
    cb.ctx = &r;
    if (tp_callback_new(&cb, &t) != 0)
        exit(1);
    put(&r.out, &cfg, 1);
    fuzz_jpki_session(t, cfg, NULL);
    tp_free(t);
    emu_card_close(c);
    write_seed(outdir, name, &r.out);
    free(r.out.buf);
}

/* The first bytes of certificate files, good and bad. */
static void seeds_der(const char *dir)
{
    struct script s = { 0 };

#define DER(name, ...) do {                         \
        s.len = 0;                                  \
        put_raw(&s, __VA_ARGS__, -1);               \
        write_seed(dir, name, &s);                  \
    } while (0)

    /* What the virtual card's authentication certificate starts with. */
    DER("cert-82", 0x30, 0x82, 0x03, 0xBA, 0x30, 0x82, 0x02, 0xA2, 0xA0,
        0x03, 0x02, 0x01, 0x02, 0x02, 0x02, 0x5E, 0xED);
    DER("short-form", 0x30, 0x03, 0x02, 0x01, 0x05, 0xFF, 0xFF);
    DER("short-max", 0x30, 0x7F);
    DER("long-81", 0x30, 0x81, 0x80, 0x04);
    DER("long-83", 0x30, 0x83, 0x01, 0x00, 0x00);
    DER("long-84", 0x30, 0x84, 0x00, 0x01, 0x00, 0x00);
    DER("long-84-max", 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF);
    DER("cert-max", 0x30, 0x82, 0x3F, 0xFC);
    DER("cert-max-plus-1", 0x30, 0x82, 0x3F, 0xFD);
    DER("indefinite", 0x30, 0x80, 0x00, 0x00);
    DER("non-minimal-81", 0x30, 0x81, 0x7F);
    DER("non-minimal-82", 0x30, 0x82, 0x00, 0xFF);
    DER("five-length-bytes", 0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00);
    DER("long-cut", 0x30, 0x82, 0x04);
    DER("multibyte-tag", 0x3F, 0x81, 0x00, 0x02);
    DER("octet-string", 0x04, 0x81, 0x90);
    DER("erased", 0xFF, 0xFF, 0xFF, 0xFF);
    DER("one-byte", 0x30);
#undef DER
    s.len = 0;
    write_seed(dir, "empty", &s);
    free(s.buf);
}

/*
 * apdu seeds: five bytes choose the command and the caller's buffer (see
 * fuzz-apdu.c: flags, CLA/INS/P2, P1/Lc, Le, cap), then the card's frames.
 */
#define A_DATA 0x01
#define A_LE 0x02
#define A_EXT 0x04
#define A_SECRET 0x08
#define A_SECRET_RESP 0x10
#define A_LOG 0x20
#define A_BIG_LC 0x40
#define A_BIG_LE 0x80
/* Buffer sizes: caps[] index, or 0x80 | n. */
#define CAP_0 0x00
#define CAP_16 0x04
#define CAP_256 0x07
#define CAP_258 0x09
#define CAP_4096 0x0C
#define CAP_65538 0x0F

static void seeds_apdu(const char *dir)
{
    struct script s = { 0 };

#define HDR(flags, b1, b2, le, cap) do {                        \
        s.len = 0;                                              \
        put_raw(&s, (flags), (b1), (b2), (le), (cap), -1);      \
    } while (0)

    /* Case 1, answered 9000. */
    HDR(0, 0x00, 0x00, 0x00, CAP_0);
    put_bytes(&s, 0x90, 0x00, -1);
    write_seed(dir, "case1-9000", &s);

    /* SELECT-like case 3 with data in the answer it may not have. */
    HDR(A_DATA | A_LOG, 0x0C, 0x09, 0x00, CAP_0);
    put_data(&s, 4, 0x90, 0x00);
    write_seed(dir, "case3-unexpected-data", &s);

    /* READ BINARY, Le 256: a full answer, then a short one. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_data(&s, 256, 0x90, 0x00);
    write_seed(dir, "case2-256", &s);
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_data(&s, 10, 0x90, 0x00);
    write_seed(dir, "case2-short", &s);

    /* Caller's buffer too small for the answer. */
    HDR(A_LE, 0x00, 0x00, 0x20, CAP_16);
    put_data(&s, 32, 0x90, 0x00);
    write_seed(dir, "buffer-small", &s);

    /* T=0: case 4 answered 61xx, then GET RESPONSE. */
    HDR(A_DATA | A_LE, 0x40, 0x10, 0x00, CAP_256);
    put_bytes(&s, 0x61, 0x10, -1);
    put_data(&s, 16, 0x90, 0x00);
    write_seed(dir, "t0-61xx", &s);

    /* T=1 chaining: data with 61xx, 61 00 meaning 256 or more. */
    HDR(A_DATA | A_LE | A_LOG, 0xC0, 0x20, 0x00, CAP_258);
    put_data(&s, 100, 0x61, 0x00);
    put_data(&s, 100, 0x61, 0x32);
    put_data(&s, 50, 0x90, 0x00);
    write_seed(dir, "t1-chain", &s);

    /* A chain in 1-byte steps. */
    HDR(A_LE, 0x00, 0x00, 0x08, CAP_16);
    put_bytes(&s, 0x61, 0x08, -1);
    put_data(&s, 1, 0x61, 0x07);
    put_data(&s, 1, 0x61, 0x06);
    put_data(&s, 1, 0x61, 0x05);
    put_data(&s, 5, 0x90, 0x00);
    write_seed(dir, "chain-1-byte", &s);

    /* GET RESPONSE that announces more and brings nothing. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_bytes(&s, 0x61, 0x10, -1);
    put_bytes(&s, 0x61, 0x10, -1);
    write_seed(dir, "chain-no-progress", &s);

    /* 6Cxx: resend with Le = xx. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_bytes(&s, 0x6C, 0x20, -1);
    put_data(&s, 32, 0x90, 0x00);
    write_seed(dir, "6cxx", &s);

    /* 6C00 means Le 256. */
    HDR(A_LE | A_EXT, 0x00, 0x00, 0x10, CAP_258);
    put_bytes(&s, 0x6C, 0x00, -1);
    put_data(&s, 256, 0x90, 0x00);
    write_seed(dir, "6c00-ext", &s);

    /* 6Cxx inside a chain. */
    HDR(A_DATA | A_LE, 0x40, 0x01, 0x00, CAP_258);
    put_data(&s, 128, 0x61, 0x00);
    put_bytes(&s, 0x6C, 0x80, -1);
    put_data(&s, 128, 0x90, 0x00);
    write_seed(dir, "6cxx-in-chain", &s);

    /* 6Cxx twice, and 6Cxx with data: both refused. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_bytes(&s, 0x6C, 0x20, -1);
    put_bytes(&s, 0x6C, 0x10, -1);
    write_seed(dir, "6cxx-twice", &s);
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_data(&s, 3, 0x6C, 0x20);
    write_seed(dir, "6cxx-with-data", &s);

    /* VERIFY: a secret case 3, wrong PIN, and the tries query. */
    HDR(A_DATA | A_SECRET | A_LOG, 0x00, 0x03, 0x00, CAP_0);
    put_bytes(&s, 0x63, 0xC2, -1);
    write_seed(dir, "verify-63c2", &s);
    HDR(0, 0x00, 0x00, 0x00, CAP_0);
    put_bytes(&s, 0x69, 0x84, -1);
    write_seed(dir, "tries-6984", &s);

    /* An extended READ BINARY of a whole certificate, personal data. */
    HDR(A_LE | A_BIG_LE | A_SECRET_RESP | A_LOG, 0x00, 0x00, 0x07,
        CAP_4096);
    put_data(&s, 1900, 0x90, 0x00);
    write_seed(dir, "ext-read-1900", &s);

    /* An extended command with more than 255 data bytes. */
    HDR(A_DATA | A_BIG_LC | A_LE, 0x40, 0x02, 0x00, CAP_65538);
    put_data(&s, 256, 0x90, 0x00);
    write_seed(dir, "ext-lc-big", &s);

    /* Answers too short to hold a status word. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_bytes(&s, 0x90, -1);
    write_seed(dir, "answer-1-byte", &s);
    HDR(A_LE, 0x00, 0x00, 0x00, 0x80 | 5);
    put_raw(&s, 0x00, -1);
    write_seed(dir, "answer-empty", &s);

    /* Transport errors: a reset, a failure, a frame cut short. */
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_raw(&s, FUZZ_FRAME_CONTROL, 0x00, -1);
    write_seed(dir, "card-reset", &s);
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_bytes(&s, 0x61, 0x10, -1);
    put_raw(&s, FUZZ_FRAME_CONTROL, 0x01, -1);
    write_seed(dir, "transport-error-in-chain", &s);
    HDR(A_LE, 0x00, 0x00, 0x00, CAP_256);
    put_raw(&s, 0x81, 0x00, 0x41, 0x42, -1);
    write_seed(dir, "frame-cut", &s);

    /* Inputs that are themselves command APDUs, for apdu_decode(). */
    s.len = 0;
    put_raw(&s, 0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00,
            0x26, 0x01, 0x00, 0x00, 0x00, 0x01, -1);
    write_seed(dir, "cmd-select-ap", &s);
    s.len = 0;
    put_raw(&s, 0x80, 0x2A, 0x00, 0x80, 0x03, 0x01, 0x02, 0x03, 0x00, -1);
    write_seed(dir, "cmd-case4s", &s);
    s.len = 0;
    put_raw(&s, 0x00, 0xB0, 0x00, 0x00, 0x00, 0x08, 0x00, -1);
    write_seed(dir, "cmd-case2e", &s);
    s.len = 0;
    put_raw(&s, 0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB,
            0x01, 0x00, -1);
    write_seed(dir, "cmd-case4e", &s);
    s.len = 0;
    put_raw(&s, 0x00, 0x20, 0x00, 0x80, -1);
    write_seed(dir, "cmd-case1", &s);
#undef HDR
    free(s.buf);
}

/* JPKI conversations the virtual card cannot have. */
static void seeds_jpki_hand(const char *outdir)
{
    struct script s = { 0 };
    uint8_t cfg = 0;
    int i;

    /* A card without the JPKI AP. */
    put(&s, &cfg, 1);
    put_bytes(&s, 0x6A, 0x82, -1);
    write_seed(outdir, "hand-no-jpki", &s);

    /* A short-form certificate, read after a token info with NUL padding;
     * then the authentication CA read in two short chunks. */
    s.len = 0;
    put(&s, &cfg, 1);
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT AP */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0006 */
    put_bytes(&s, 'J', 'P', 'K', 'I', 'A', 'P', 'I', 'C', 'C', 'T', 'O',
              'K', 'E', 'N', 0, 0, 0x90, 0x00, -1);         /* READ */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 000A */
    put_bytes(&s, 0x30, 0x03, 0x02, 0x01, 0x05, 0xFF, 0xFF, 0x90, 0x00, -1);
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 000B */
    put_bytes(&s, 0x30, 0x81, 0x81, 0x04, 0x7F, 0x90, 0x00, -1);
    {
        uint8_t rest[0x7F + 2];

        memset(rest, 0x41, sizeof(rest));
        rest[sizeof(rest) - 2] = 0x90;
        rest[sizeof(rest) - 1] = 0x00;
        put_frame(&s, rest, sizeof(rest));
    }
    write_seed(outdir, "hand-short-forms", &s);

    /* 6Cxx: the card wants another Le for the first READ BINARY, and the
     * signature comes in 61xx chunks with a 6Cxx inside the chain. */
    s.len = 0;
    put(&s, &cfg, 1);
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT AP */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0006 */
    put_bytes(&s, 0x6C, 0x10, -1);
    put_bytes(&s, 'J', 'P', 'K', 'I', 'A', 'P', 'I', 'C', 'C', 'T', 'O',
              'K', 'E', 'N', '2', ' ', 0x90, 0x00, -1);
    for (i = 0; i < 3; i++) {
        /* Each certificate: 6A82 to SELECT EF makes jpki.c select the AP
         * again and the EF again, once. */
        put_bytes(&s, 0x6A, 0x82, -1);
        put_bytes(&s, 0x90, 0x00, -1);
        put_bytes(&s, 0x6A, 0x82, -1);
    }
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0018 */
    put_bytes(&s, 0x63, 0xC3, -1);                          /* tries */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 001B */
    put_bytes(&s, 0x69, 0x84, -1);                          /* tries */
    put_bytes(&s, 0x69, 0x84, -1);                          /* VERIFY sign */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0001 */
    put_bytes(&s, 0x69, 0x82, -1);                          /* READ */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0018 */
    put_bytes(&s, 0x63, 0xC0, -1);                          /* VERIFY auth */
    put_bytes(&s, 0x90, 0x00, -1);                          /* SELECT 0017 */
    {
        uint8_t part[128 + 2];

        memset(part, 0x5A, sizeof(part));
        part[128] = 0x61;
        part[129] = 0x00;
        put_frame(&s, part, sizeof(part));                  /* SIGN */
        put_bytes(&s, 0x6C, 0x80, -1);                      /* GET RESPONSE */
        part[128] = 0x90;
        put_frame(&s, part, sizeof(part));                  /* again */
    }
    write_seed(outdir, "hand-6cxx-61xx", &s);
    free(s.buf);
}

static void make_card(const char *dir, const char *auth, const char *sign)
{
    struct emu_init_params p;

    emu_init_params_default(&p);
    p.auth_pin = auth;
    p.sign_pin = sign;
    p.serial = 0x5EED;
    if (emu_card_init(dir, &p) != 0)
        exit(1);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* CORPUS/@name, created. */
static void subdir(char *out, size_t cap, const char *corpus, const char *name)
{
    snprintf(out, cap, "%s/%s", corpus, name);
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        perror(out);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char root[4096], good[4200], other[4200], dir[4200];
    const char *tmp = getenv("TMPDIR");
    struct emu_options o;

    if (argc != 2) {
        fprintf(stderr, "usage: mkseed CORPUS\n");
        return 2;
    }
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
        perror(argv[1]);
        return 1;
    }
    subdir(dir, sizeof(dir), argv[1], "der");
    seeds_der(dir);
    subdir(dir, sizeof(dir), argv[1], "apdu");
    seeds_apdu(dir);
    subdir(dir, sizeof(dir), argv[1], "jpki");
    seeds_jpki_hand(dir);

    snprintf(root, sizeof(root), "%s/mkseed-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror(root);
        return 1;
    }
    snprintf(good, sizeof(good), "%s/good", root);
    snprintf(other, sizeof(other), "%s/other", root);
    /* One with the PINs fuzz_jpki_session() sends, one with others. */
    make_card(good, "1234", "ABC123");
    make_card(other, "9999", "ZZZ999");

#define RUN(name, card, cfg, ...) do {              \
        memset(&o, 0, sizeof(o));                   \
        __VA_ARGS__;                                \
        record(dir, name, card, &o, cfg);           \
    } while (0)

    RUN("emu-plain", good, 0x00, (void)0);
    RUN("emu-log-challenge-527", good, 0x04 | (31u << 3), (void)0);
    RUN("emu-challenge-256", good, 0x00 | (15u << 3), (void)0);
    RUN("emu-ext-auto", good, 0x01, o.extended_length = true);
    RUN("emu-ext-auto-refused", good, 0x01, (void)0);
    RUN("emu-ext-always", good, 0x02, o.extended_length = true);
    RUN("emu-chain-100", good, 0x00, o.chain_chunk = 100);
    RUN("emu-chain-9-ext", good, 0x02,
        o.extended_length = true; o.chain_chunk = 9);
    RUN("emu-reselect-clears", good, 0x00, o.reselect_clears_pin = true);
    RUN("emu-reset-after-7", good, 0x00, o.reset_after = 7);
    RUN("emu-remove-after-12", good, 0x00, o.remove_after = 12);
    RUN("emu-corrupt-sw-4", good, 0x00,
        o.corrupt = EMU_CORRUPT_SW; o.corrupt_after = 4);
    RUN("emu-corrupt-truncate-5", good, 0x00,
        o.corrupt = EMU_CORRUPT_TRUNCATE; o.corrupt_after = 5);
    RUN("emu-corrupt-garbage-3", good, 0x00,
        o.corrupt = EMU_CORRUPT_GARBAGE; o.corrupt_after = 3);
    RUN("emu-corrupt-overlong-9", good, 0x00,
        o.corrupt = EMU_CORRUPT_OVERLONG; o.corrupt_after = 9);
    RUN("emu-wrong-pins", other, 0x00, (void)0);
    /* Two more wrong tries of the 3 of the authentication PIN: blocked. */
    RUN("emu-wrong-pins-2", other, 0x00, (void)0);
    RUN("emu-blocked-auth", other, 0x00, (void)0);
#undef RUN

    if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "mkseed: could not remove %s\n", root);
    return 0;
}
