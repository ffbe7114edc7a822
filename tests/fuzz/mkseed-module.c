/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mkseed-module: writes the seed corpus of fuzz-module, CORPUS/module.
 * Each seed is a real conversation: the module runs fuzz-module's own
 * scenario (fuzz_module_session) against the virtual card (tests/emu)
 * under one card behaviour (61xx chaining, extended lengths, a reset or
 * removal after N commands, corrupted answers, wrong PINs), and every
 * answer the card gives is recorded as a frame of the scripted card's
 * format (fuzz-card.h), so that fuzz-module replays it byte for byte.
 * Layer: a test tool; calls the virtual card, the module (through
 * fuzz-module.c) and the card layer's callback transport.
 *
 *   mkseed-module CORPUS    (makes the cards under $TMPDIR, then removes
 *                            them)
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emu.h"
#include "fuzz-card.h"
#include "fuzz-module.h"
#include "myna-err.h"
#include "transport.h"

struct script {
    uint8_t *buf;
    size_t len, cap;
};

static void put(struct script *s, const void *p, size_t n)
{
    if (s->cap - s->len < n) {
        size_t cap = s->cap ? s->cap : 4096;
        uint8_t *b;

        while (cap - s->len < n)
            cap *= 2;
        b = realloc(s->buf, cap);
        if (!b) {
            fprintf(stderr, "mkseed-module: out of memory\n");
            exit(1);
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* The recorder between the module's hub and the virtual card. */
struct recorder {
    struct tp_card_cb inner;
    struct script out;
    bool gone;
};

static int rec_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                    uint8_t *resp, size_t cap, size_t *resplen)
{
    struct recorder *r = ctx;
    uint8_t hdr[2], ctl[2] = { FUZZ_FRAME_CONTROL, 0 };
    int err;

    err = r->inner.xfer(r->inner.ctx, cmd, cmdlen, resp, cap, resplen);
    if (r->gone)
        return err;
    switch (err) {
    case 0:
        if (*resplen > FUZZ_FRAME_LONG_MAX) {
            fprintf(stderr, "mkseed-module: answer of %zu bytes\n", *resplen);
            exit(1);
        }
        put(&r->out, hdr, fuzz_frame_header(*resplen, hdr));
        put(&r->out, resp, *resplen);
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

static void record(const char *outdir, const char *name, const char *card,
                   const struct emu_options *opt, uint8_t cfg)
{
    char path[4200];
    struct recorder r;
    struct tp_card_cb cb;
    struct emu_card *c = NULL;
    FILE *f;

    memset(&r, 0, sizeof(r));
    if (emu_card_open(card, opt, &c) != 0)
        exit(1);
    emu_card_callbacks(c, &r.inner);
    cb = r.inner;
    cb.xfer = rec_xfer;
    cb.reset = emu_wrap_reset;
    cb.unpower = emu_wrap_unpower;
    cb.ctx = &r;
    put(&r.out, &cfg, 1);
    fuzz_module_session(&cb, cfg);
    emu_card_close(c);

    snprintf(path, sizeof(path), "%s/%s", outdir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(r.out.buf, 1, r.out.len, f) != r.out.len ||
        fclose(f) != 0) {
        fprintf(stderr, "mkseed-module: cannot write %s\n", path);
        exit(1);
    }
    printf("%s: %zu bytes\n", path, r.out.len);
    free(r.out.buf);
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

int main(int argc, char **argv)
{
    char root[4096], good[4200], other[4200], changed[4200], dir[4200];
    const char *tmp = getenv("TMPDIR");
    struct emu_options o;

    if (argc != 2) {
        fprintf(stderr, "usage: mkseed-module CORPUS\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s/module", argv[1]);
    if ((mkdir(argv[1], 0755) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
        perror(dir);
        return 1;
    }
    snprintf(root, sizeof(root), "%s/mkseed-module-XXXXXX",
             tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror(root);
        return 1;
    }
    snprintf(good, sizeof(good), "%s/good", root);
    snprintf(other, sizeof(other), "%s/other", root);
    snprintf(changed, sizeof(changed), "%s/changed", root);
    /* One with the scenario's PINs, one with others (every VERIFY is
     * rejected), one whose authentication PIN the scenario changes. */
    make_card(good, FM_AUTH_PIN, FM_SIGN_PIN);
    make_card(other, "9999", "ZZZ999");
    make_card(changed, FM_AUTH_PIN, FM_SIGN_PIN);

#define RUN(name, card, cfg, ...) do {              \
        memset(&o, 0, sizeof(o));                   \
        __VA_ARGS__;                                \
        record(dir, name, card, &o, cfg);           \
    } while (0)

    RUN("emu-both", good, 0x00, (void)0);
    RUN("emu-auth-only", good, 0x01, (void)0);
    RUN("emu-sign-only-raw", good, 0x06, (void)0);
    RUN("emu-both-log", good, 0x08, (void)0);
    RUN("emu-ext", good, 0x00, o.extended_length = true);
    RUN("emu-chain-100", good, 0x04, o.chain_chunk = 100);
    RUN("emu-chain-7-ext", good, 0x00,
        o.extended_length = true; o.chain_chunk = 7);
    RUN("emu-reselect-clears", good, 0x00, o.reselect_clears_pin = true);
    RUN("emu-reset-after-12", good, 0x00, o.reset_after = 12);
    RUN("emu-reset-after-30", good, 0x00, o.reset_after = 30);
    RUN("emu-remove-after-20", good, 0x00, o.remove_after = 20);
    RUN("emu-corrupt-sw-25", good, 0x00,
        o.corrupt = EMU_CORRUPT_SW; o.corrupt_after = 25);
    RUN("emu-corrupt-truncate-18", good, 0x00,
        o.corrupt = EMU_CORRUPT_TRUNCATE; o.corrupt_after = 18);
    RUN("emu-corrupt-garbage-10", good, 0x00,
        o.corrupt = EMU_CORRUPT_GARBAGE; o.corrupt_after = 10);
    RUN("emu-corrupt-overlong-5", good, 0x00,
        o.corrupt = EMU_CORRUPT_OVERLONG; o.corrupt_after = 5);
    RUN("emu-wrong-pins-again", other, 0x20, (void)0);
    RUN("emu-set-pin", changed, 0x10, (void)0);
    /* pss = true: the card's P1 04 does PSS, refuses it, or answers with a
     * signature that does not verify. */
    RUN("emu-pss", good, 0x40, o.sign_pss = true);
    RUN("emu-pss-refused", good, 0x40,
        o.sign_pss = true; o.sign_pss_refused = true);
    RUN("emu-pss-bad", good, 0x40, o.sign_pss_bad = true);
#undef RUN

    if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "mkseed-module: could not remove %s\n", root);
    return 0;
}
