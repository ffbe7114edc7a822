/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The virtual card's APDU state machine: the five applications, the JPKI
 * files, the manufacture-number record, the card-info AP's PIN and data,
 * VERIFY and its try counters, CHANGE REFERENCE DATA, COMPUTE
 * DIGITAL SIGNATURE through SoftHSM, GET CHALLENGE, response chaining with
 * GET RESPONSE, and the faults, latencies, counters and APDU log of struct
 * emu_options.  It follows doc/jpki-card.md; where real cards differ or
 * the reference leaves a choice open, the profile (or a switch) decides.
 * One mutex per card guards everything below it.  Uses apdu_decode() from
 * apdu/ to parse commands, SoftHSM through emu-hsm.c, and OpenSSL for
 * random bytes; nothing above the APDU codec.
 */
#include "emu.h"
#include "emu-internal.h"

#include "apdu.h"
#include "myna-err.h"
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static const uint8_t emu_atr[] = { 0x3B, 0xE0, 0x00, 0xFF, 0x81,
                                   0x31, 0xFE, 0x45, 0x14 };
/* A contactless one (ISO 14443 type B, built by the reader). */
static const uint8_t emu_atr_contactless[] = {
    0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xE0, 0xB3, 0x81, 0xA1,
    0x00, 0x7F
};

static const uint8_t aid_jpki[] = { 0xD3, 0x92, 0xF0, 0x00, 0x26,
                                    0x01, 0x00, 0x00, 0x00, 0x01 };
/* The manufacture-number AP: record 1 of short EF 1. */
static const uint8_t aid_mfg[] = { 0xD3, 0x92, 0x10, 0x00, 0x31,
                                   0x00, 0x01, 0x01, 0x01, 0x00 };
/* The card-info input support AP: EF 0011 its PIN, EF 0002 the facts. */
static const uint8_t aid_cardinfo[] = { 0xD3, 0x92, 0x10, 0x00, 0x31,
                                        0x00, 0x01, 0x01, 0x04, 0x08 };
/* The two other applications: empty shells that can be selected. */
static const uint8_t aid_other[2][10] = {
    { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02 },
    { 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01 },
};

enum app { APP_NONE, APP_JPKI, APP_MFG, APP_CARDINFO, APP_OTHER };
/* EF_TEXT: the card-info AP's EF 0002, readable after its PIN. */
enum ef_kind { EF_FREE, EF_SIGN_CERT, EF_KEY, EF_PIN, EF_TEXT };

struct ef {
    uint16_t fid;
    enum ef_kind kind;
    int role;         /* keys and PINs: 0 auth, 1 sign */
    const char *file; /* data files: the name in DIR */
    uint8_t *data;
    size_t len;
};

#define EF_COUNT 10
#define ROLE_AUTH 0
#define ROLE_SIGN 1
#define ROLE_TEXT 2   /* the card-info AP's PIN */
#define ROLE_COUNT 3
#define CI_COUNT 2    /* the card-info AP's files */
/* Room for the largest answer: an extended READ BINARY of 65536 bytes. */
#define WORK_CAP (APDU_EXT_LE_MAX + 2u)
/* COMPUTE DIGITAL SIGNATURE: PKCS#1 v1.5 type 1 leaves 256 - 11 bytes. */
#define SIGN_DATA_MAX 245u
#define SIG_LEN 256u

struct emu_card {
    pthread_mutex_t lock;
    char *dir;
    struct emu_options opt;
    char *log_path;
    FILE *log;

    /* Persistent: what DIR/card.state holds. */
    struct emu_state st;
    struct ef files[EF_COUNT];
    struct ef ci_files[CI_COUNT];
    uint8_t *mfg_rec;       /* NULL: a card made before the AP existed */
    size_t mfg_rec_len;

    struct emu_hsm *hsm;
    CK_FUNCTION_LIST *fn;
    CK_SESSION_HANDLE sess;
    CK_OBJECT_HANDLE key[2];

    /* Volatile: lost on reset. */
    enum app app;
    struct ef *cur;
    bool verified[ROLE_COUNT];
    bool powered_off;       /* a power-down came; the next power-up... */
    bool fresh_power;       /* ...makes the next APDU 6F00 (powerup_6f00) */
    uint8_t *pending;       /* chained answer still to be fetched */
    size_t pending_len, pending_off;
    uint16_t pending_sw;

    /* Faults and counters. */
    bool reset_fired;
    bool removed;
    unsigned long apdus, bytes_in, bytes_out;
    unsigned long corrupt_seen;    /* commands --corrupt counts (--corrupt-ins) */

    uint8_t *work;          /* the answer being built, WORK_CAP bytes */
};

/* An answer under construction: data in card->work, then the SW. */
struct answer {
    uint8_t *data;
    size_t len;
    uint16_t sw;
};

static const struct {
    uint16_t fid;
    enum ef_kind kind;
    int role;
    const char *file;
} ef_table[EF_COUNT] = {
    { 0x000A, EF_FREE, 0, "ef-000A.bin" },
    { 0x000B, EF_FREE, 0, "ef-000B.bin" },
    { 0x0001, EF_SIGN_CERT, ROLE_SIGN, "ef-0001.bin" },
    { 0x0002, EF_FREE, 0, "ef-0002.bin" },
    { 0x0006, EF_FREE, 0, "ef-0006.bin" },
    { 0x0008, EF_FREE, 0, "ef-0008.bin" },
    { 0x0017, EF_KEY, ROLE_AUTH, NULL },
    { 0x0018, EF_PIN, ROLE_AUTH, NULL },
    { 0x001A, EF_KEY, ROLE_SIGN, NULL },
    { 0x001B, EF_PIN, ROLE_SIGN, NULL },
};

static void sleep_us(unsigned long long us)
{
    struct timespec ts;

    if (us == 0)
        return;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int *tries_of(struct emu_card *c, int role)
{
    if (role == ROLE_TEXT)
        return &c->st.text_tries;
    return role == ROLE_AUTH ? &c->st.auth_tries : &c->st.sign_tries;
}

static int tries_max(int role)
{
    if (role == ROLE_TEXT)
        return EMU_TEXT_TRIES_MAX;
    return role == ROLE_AUTH ? EMU_AUTH_TRIES_MAX : EMU_SIGN_TRIES_MAX;
}

static char *pin_of(struct emu_card *c, int role)
{
    if (role == ROLE_TEXT)
        return c->st.text_pin;
    return role == ROLE_AUTH ? c->st.auth_pin : c->st.sign_pin;
}

static void forget_pins_locked(struct emu_card *c)
{
    c->verified[ROLE_AUTH] = c->verified[ROLE_SIGN] = false;
    c->verified[ROLE_TEXT] = false;
}

static void drop_pending_locked(struct emu_card *c)
{
    if (c->pending)
        OPENSSL_clear_free(c->pending, c->pending_len);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
}

/* Power down: selection, verified PINs and chained answers are gone. */
static void power_off_locked(struct emu_card *c)
{
    c->app = APP_NONE;
    c->cur = NULL;
    forget_pins_locked(c);
    c->powered_off = true;
    c->fresh_power = false;
    drop_pending_locked(c);
}

static void power_on_locked(struct emu_card *c)
{
    if (c->powered_off)
        c->fresh_power = c->opt.powerup_6f00;
    c->powered_off = false;
}

/* A warm reset: the selection and chained answers are gone; the verified
 * PINs too, unless this card keeps them (the measured card does). */
static void reset_locked(struct emu_card *c)
{
    /* A reset of a card without power powers it up (a cold reset). */
    if (c->powered_off)
        power_on_locked(c);
    c->app = APP_NONE;
    c->cur = NULL;
    if (!c->opt.warm_reset_keeps_pin)
        forget_pins_locked(c);
    drop_pending_locked(c);
}

/* ---- The APDU log ---- */

static void log_hex(FILE *f, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(f, i ? " %02X" : "%02X", p[i]);
}

/* INS whose command data are PINs: VERIFY, CHANGE REFERENCE DATA,
 * ENABLE/DISABLE VERIFICATION REQUIREMENT, RESET RETRY COUNTER. */
static bool ins_carries_pin(uint8_t ins)
{
    return ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x26 ||
           ins == 0x28 || ins == 0x2C;
}

static void log_command_locked(struct emu_card *c, const uint8_t *cmd,
                               size_t len)
{
    if (!c->log)
        return;
    fprintf(c->log, "> ");
    if (len > 4 && ins_carries_pin(cmd[1])) {
        /* The header only: neither the PIN nor its length (the Lc byte
         * would tell the length of the signature password). */
        log_hex(c->log, cmd, 4);
        fprintf(c->log, " [data redacted]\n");
    } else {
        log_hex(c->log, cmd, len);
        fputc('\n', c->log);
    }
    fflush(c->log);
}

static void log_answer_locked(struct emu_card *c, const uint8_t *r, size_t n)
{
    if (!c->log)
        return;
    fprintf(c->log, "< ");
    log_hex(c->log, r, n);
    fputc('\n', c->log);
    fflush(c->log);
}

static void log_event_locked(struct emu_card *c, const char *what)
{
    if (!c->log)
        return;
    fprintf(c->log, "# %s\n", what);
    fflush(c->log);
}

/* ---- Commands ---- */

static struct ef *find_fid(struct emu_card *c, uint16_t fid)
{
    size_t i;

    for (i = 0; i < EF_COUNT; i++)
        if (c->files[i].fid == fid)
            return &c->files[i];
    return NULL;
}

static struct ef *find_ci_fid(struct emu_card *c, uint16_t fid)
{
    size_t i;

    for (i = 0; i < CI_COUNT; i++)
        if (c->ci_files[i].fid == fid && (c->ci_files[i].kind == EF_PIN ||
                                          c->ci_files[i].data))
            return &c->ci_files[i];
    return NULL;
}

/* SELECT of the card-info or manufacture-number AP. */
static bool select_small_ap(struct emu_card *c, const struct apdu *a)
{
    enum app app;

    if (a->lc == sizeof(aid_cardinfo) &&
        memcmp(a->data, aid_cardinfo, sizeof(aid_cardinfo)) == 0)
        app = APP_CARDINFO;
    else if (a->lc == sizeof(aid_mfg) &&
             memcmp(a->data, aid_mfg, sizeof(aid_mfg)) == 0)
        app = APP_MFG;
    else
        return false;
    /* Leaving the JPKI AP always drops its security state (see below);
     * the card-info PIN belongs to its application the same way, and
     * selecting it again drops it as the JPKI AP's switch says. */
    c->verified[ROLE_AUTH] = c->verified[ROLE_SIGN] = false;
    if (app != APP_CARDINFO || c->app != APP_CARDINFO ||
        c->opt.reselect_clears_pin)
        c->verified[ROLE_TEXT] = false;
    c->app = app;
    c->cur = NULL;
    return true;
}

static void do_select_ef(struct emu_card *c, const struct apdu *a,
                         struct answer *ans)
{
    struct ef *ef;

    if (a->p2 != 0x0C && a->p2 != 0x00) {
        ans->sw = 0x6A86;
        return;
    }
    if (a->lc != 2) {
        ans->sw = 0x6700;
        return;
    }
    /* The JPKI AP's files, the card-info AP's two; the other
     * applications are empty shells, and the manufacture number's record
     * is read by its short EF identifier. */
    if (c->app == APP_JPKI)
        ef = find_fid(c, (uint16_t)((a->data[0] << 8) | a->data[1]));
    else if (c->app == APP_CARDINFO)
        ef = find_ci_fid(c, (uint16_t)((a->data[0] << 8) | a->data[1]));
    else
        ef = NULL;
    if (!ef) {
        ans->sw = 0x6A82;
        return;
    }
    /* Selecting works on every file, the guarded ones included; with P2
     * 00 a real card would send an FCI, which nobody reads. */
    c->cur = ef;
    ans->sw = 0x9000;
}

static void do_select(struct emu_card *c, const struct apdu *a,
                      struct answer *ans)
{
    size_t i;

    switch (a->p1) {
    case 0x04: /* by DF name */
        if (a->p2 != 0x0C && a->p2 != 0x00) {
            ans->sw = 0x6A86;
            return;
        }
        if (a->lc == 0) {
            ans->sw = 0x6700;
            return;
        }
        if (a->lc == sizeof(aid_jpki) &&
            memcmp(a->data, aid_jpki, sizeof(aid_jpki)) == 0) {
            /* Whether the real card forgets its PINs here is unknown
             * (OpenSC assumes it does): a switch. */
            if (c->opt.reselect_clears_pin)
                c->verified[0] = c->verified[1] = false;
            c->verified[ROLE_TEXT] = false;
            c->app = APP_JPKI;
            c->cur = NULL;
            ans->sw = 0x9000;
            return;
        }
        if (select_small_ap(c, a)) {
            ans->sw = 0x9000;
            return;
        }
        for (i = 0; i < 2; i++) {
            if (a->lc == sizeof(aid_other[i]) &&
                memcmp(a->data, aid_other[i], sizeof(aid_other[i])) == 0) {
                /* Leaving the JPKI AP always drops its security state:
                 * the verified PINs belong to the application. */
                forget_pins_locked(c);
                c->app = APP_OTHER;
                c->cur = NULL;
                ans->sw = 0x9000;
                return;
            }
        }
        ans->sw = 0x6A82; /* unknown AID; the selection stays */
        return;
    case 0x00:
        /* The ISO MF is not selectable: without data 6A86, by 3F00
         * 6A82.  Any other FID is looked up as P1 02 does.  The measured
         * card answers 9000 without data while an application is
         * selected, and changes nothing. */
        if (a->lc == 0) {
            ans->sw = c->opt.select_mf_9000 && c->app != APP_NONE ? 0x9000
                                                                 : 0x6A86;
            return;
        }
        if (a->lc == 2 && a->data[0] == 0x3F && a->data[1] == 0x00) {
            ans->sw = 0x6A82;
            return;
        }
        do_select_ef(c, a, ans);
        return;
    case 0x02: /* EF under the current DF */
        do_select_ef(c, a, ans);
        return;
    default:
        ans->sw = 0x6A86;
        return;
    }
}

static void do_read_binary(struct emu_card *c, const struct apdu *a,
                           struct answer *ans)
{
    struct ef *ef;
    size_t off, n;

    if (a->lc != 0 || a->le == 0) {
        ans->sw = 0x6700;
        return;
    }
    if (a->extended && !c->opt.extended_length) {
        ans->sw = 0x6700;
        return;
    }
    if (a->p1 & 0x80) {
        /* Short EF identifier in P1 bits 5-1, offset in P2.  The JPKI
         * files' SFIs are their FIDs' low bytes. */
        if (a->p1 & 0x60) {
            ans->sw = 0x6A86;
            return;
        }
        ef = c->app == APP_JPKI ? find_fid(c, a->p1 & 0x1F) : NULL;
        if (!ef) {
            ans->sw = 0x6A82;
            return;
        }
        c->cur = ef;
        off = a->p2;
    } else {
        ef = c->cur;
        if (!ef) {
            ans->sw = 0x6986; /* no current EF */
            return;
        }
        off = ((size_t)(a->p1 & 0x7F) << 8) | a->p2;
    }
    /* Keys and PINs are not transparent files: 6981, "command
     * incompatible with file structure". */
    if (ef->kind == EF_KEY || ef->kind == EF_PIN) {
        ans->sw = 0x6981;
        return;
    }
    if (ef->kind == EF_SIGN_CERT && !c->verified[ROLE_SIGN]) {
        ans->sw = 0x6982;
        return;
    }
    if (ef->kind == EF_TEXT && !c->verified[ROLE_TEXT]) {
        ans->sw = 0x6982;
        return;
    }
    if (off >= ef->len) {
        ans->sw = 0x6B00;
        return;
    }
    n = ef->len - off;
    if (n > a->le)
        n = a->le;
    memcpy(ans->data, ef->data + off, n);
    ans->len = n;
    ans->sw = 0x9000;
}

/* Persist a changed counter or PIN before the card answers.  A failure
 * becomes 6581 (memory failure), as a card whose EEPROM write failed. */
static bool persist_locked(struct emu_card *c)
{
    return emu_state_save(c->dir, &c->st) == 0;
}

static void do_verify(struct emu_card *c, const struct apdu *a,
                      struct answer *ans)
{
    int role, *tries;
    const char *pin;
    bool ok;

    if (a->p1 != 0x00 || a->p2 != 0x80) {
        ans->sw = 0x6A86;
        return;
    }
    if (!c->cur || c->cur->kind != EF_PIN) {
        ans->sw = 0x6986; /* no PIN file selected */
        return;
    }
    role = c->cur->role;
    tries = tries_of(c, role);
    if (a->lc == 0) {
        /* Tries left, also right after a correct VERIFY; 63C0 once
         * blocked (a count of zero, not 6984: nothing was tried).  Some
         * cards say 9000 for a verified PIN instead. */
        if (c->opt.empty_verify_9000 && c->verified[role])
            ans->sw = 0x9000;
        else
            ans->sw = (uint16_t)(0x63C0 | *tries);
        return;
    }
    if (*tries == 0) {
        ans->sw = 0x6984;
        return;
    }
    pin = pin_of(c, role);
    ok = a->lc == strlen(pin) && CRYPTO_memcmp(a->data, pin, a->lc) == 0;
    if (ok) {
        c->verified[role] = true;
        if (*tries != tries_max(role)) {
            *tries = tries_max(role);
            if (!persist_locked(c)) {
                ans->sw = 0x6581;
                return;
            }
        }
        ans->sw = 0x9000;
        return;
    }
    /* A wrong try also ends an earlier verification. */
    c->verified[role] = false;
    (*tries)--;
    if (!persist_locked(c)) {
        ans->sw = 0x6581;
        return;
    }
    ans->sw = (uint16_t)(0x63C0 | *tries);
}

static void do_change_pin(struct emu_card *c, const struct apdu *a,
                          struct answer *ans)
{
    char old[EMU_PIN_MAX + 1];
    char *pin;
    int role;

    if (a->p1 != 0x01 || a->p2 != 0x80) {
        ans->sw = 0x6A86;
        return;
    }
    if (!c->cur || c->cur->kind != EF_PIN) {
        ans->sw = 0x6986;
        return;
    }
    role = c->cur->role;
    if (!c->verified[role]) {
        ans->sw = 0x6982;
        return;
    }
    if (!emu_pin_format_ok(role, a->data, a->lc)) {
        ans->sw = 0x6A80;
        return;
    }
    pin = pin_of(c, role);
    memcpy(old, pin, sizeof(old));
    memcpy(pin, a->data, a->lc);
    pin[a->lc] = '\0';
    if (!persist_locked(c)) {
        memcpy(pin, old, sizeof(old)); /* the card kept the old PIN */
        ans->sw = 0x6581;
    } else {
        ans->sw = 0x9000;
    }
    OPENSSL_cleanse(old, sizeof(old));
}

/* The signing modes of COMPUTE DIGITAL SIGNATURE's P1 (doc/jpki-card.md,
 * "Signing P1 values"): 00 PKCS#1 v1.5 over the bytes sent; with sign_pss,
 * 04 RSASSA-PSS (MGF1-SHA256, 32-byte random salt) over a 32-byte SHA-256
 * hash sent, and 05 the card hashes with SHA-256, then 04. */
static void do_sign(struct emu_card *c, const struct apdu *a,
                    struct answer *ans)
{
    CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
    CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
    uint8_t hash[SHA256_DIGEST_LENGTH];
    const uint8_t *in = a->data;
    size_t inlen = a->lc;
    CK_ULONG siglen = SIG_LEN;
    uint16_t bad_length = c->opt.sign_length_6985 ? 0x6985 : 0x6700;
    bool length_ok;
    CK_RV rv;
    int role;

    bool pss_ok = c->opt.sign_pss && !c->opt.sign_pss_refused;

    if (a->p2 != 0x80 || !(a->p1 == 0x00 ||
                           (pss_ok && (a->p1 == 0x04 || a->p1 == 0x05)))) {
        ans->sw = 0x6A86;
        return;
    }
    if (!c->cur || c->cur->kind != EF_KEY) {
        ans->sw = 0x6986;
        return;
    }
    role = c->cur->role;
    if (!c->verified[role]) {
        ans->sw = 0x6982;
        return;
    }
    switch (a->p1) {
    case 0x04:
        length_ok = a->lc == SHA256_DIGEST_LENGTH;
        break;
    case 0x05:
        length_ok = a->lc >= 1;
        break;
    default:
        length_ok = a->lc >= 1 && a->lc <= SIGN_DATA_MAX;
        break;
    }
    if (!length_ok) {
        ans->sw = bad_length;
        return;
    }
    if (a->le != 0 && a->le < SIG_LEN) {
        ans->sw = 0x6700;
        return;
    }
    if (a->p1 == 0x05) {
        SHA256(a->data, a->lc, hash);
        in = hash;
        inlen = sizeof(hash);
    }
    if (a->p1 == 0x04 || a->p1 == 0x05) {
        mech.mechanism = CKM_RSA_PKCS_PSS;
        mech.pParameter = &pss;
        mech.ulParameterLen = sizeof(pss);
    }
    rv = c->fn->C_SignInit(c->sess, &mech, c->key[role]);
    if (rv == CKR_OK)
        rv = c->fn->C_Sign(c->sess, (CK_BYTE *)in, inlen, ans->data,
                           &siglen);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rv != CKR_OK || siglen != SIG_LEN) {
        fprintf(stderr, "mynacard-emu: SoftHSM C_Sign: 0x%lx\n",
                (unsigned long)rv);
        ans->sw = 0x6F00;
        return;
    }
    if (c->opt.sign_pss_bad && a->p1 != 0x00)
        ans->data[SIG_LEN / 2] ^= 0x01;    /* no longer verifies */
    sleep_us(c->opt.latency_sign_us);
    ans->len = SIG_LEN;
    ans->sw = 0x9000;
}

/* READ RECORD in the manufacture-number AP: record 1 of short EF 1, P2
 * 0C (SFI 1, P1 a record number).  Le shorter than the record: 6Cxx with
 * its length, as ISO 7816-4 says. */
static void do_read_record(struct emu_card *c, const struct apdu *a,
                           struct answer *ans)
{
    if (a->lc != 0 || a->le == 0) {
        ans->sw = 0x6700;
        return;
    }
    if ((a->p2 & 0x07) != 0x04) {
        ans->sw = 0x6A86;  /* only "record number in P1" */
        return;
    }
    if (a->p2 >> 3 != 1 || !c->mfg_rec) {
        ans->sw = 0x6A82;
        return;
    }
    if (a->p1 != 0x01) {
        ans->sw = 0x6A83;  /* record not found */
        return;
    }
    if (a->le < c->mfg_rec_len) {
        ans->sw = (uint16_t)(0x6C00 | c->mfg_rec_len);
        return;
    }
    memcpy(ans->data, c->mfg_rec, c->mfg_rec_len);
    ans->len = c->mfg_rec_len;
    ans->sw = 0x9000;
}

static void do_get_challenge(struct emu_card *c, const struct apdu *a,
                             struct answer *ans)
{
    if (a->p1 != 0x00 || a->p2 != 0x00) {
        ans->sw = 0x6A86;
        return;
    }
    if (a->lc != 0 || a->le == 0 || a->le > APDU_SHORT_LE_MAX) {
        ans->sw = 0x6700;
        return;
    }
    if (RAND_bytes(ans->data, (int)a->le) != 1) {
        ans->sw = 0x6F00;
        return;
    }
    ans->len = a->le;
    ans->sw = 0x9000;
}

/* The 61xx status word that announces @left more bytes. */
static uint16_t sw_more(size_t left)
{
    return (uint16_t)(0x6100 | (left >= 256 ? 0 : left));
}

static void do_get_response(struct emu_card *c, const struct apdu *a,
                            struct answer *ans)
{
    size_t left, n;

    if (!c->pending) {
        ans->sw = 0x6985; /* nothing to get */
        return;
    }
    if (a->p1 != 0x00 || a->p2 != 0x00) {
        ans->sw = 0x6A86;
        return;
    }
    left = c->pending_len - c->pending_off;
    n = a->le ? a->le : APDU_SHORT_LE_MAX;
    if (n > left)
        n = left;
    if (n > c->opt.chain_chunk)
        n = c->opt.chain_chunk;
    memcpy(ans->data, c->pending + c->pending_off, n);
    ans->len = n;
    c->pending_off += n;
    left -= n;
    if (left > 0) {
        ans->sw = sw_more(left);
        return;
    }
    ans->sw = c->pending_sw;
    drop_pending_locked(c);
}

static void process_locked(struct emu_card *c, const uint8_t *cmd, size_t len,
                           struct answer *ans)
{
    struct apdu a;
    bool proprietary;

    ans->data = c->work;
    ans->len = 0;
    if (len < 4 || apdu_decode(cmd, len, &a) < 0) {
        ans->sw = 0x6700;
        return;
    }
    /* Only the class bytes the JPKI card uses: 00 for the ISO commands,
     * 80 for COMPUTE DIGITAL SIGNATURE.  Chaining and secure messaging
     * bits are not supported. */
    if (a.cla != 0x00 && a.cla != 0x80) {
        ans->sw = 0x6E00;
        return;
    }
    proprietary = a.cla == 0x80;
    if (a.ins == 0xC0 && !proprietary) {
        do_get_response(c, &a, ans);
        return;
    }
    /* Any other command gives up the rest of a chained answer. */
    drop_pending_locked(c);
    /* READ RECORD exists only in the manufacture-number AP; elsewhere
     * the card answers as it always did. */
    if (a.ins == 0xB2 && !proprietary && c->app == APP_MFG) {
        do_read_record(c, &a, ans);
        return;
    }
    switch (a.ins) {
    case 0xA4:
    case 0xB0:
    case 0x20:
    case 0x24:
    case 0x84:
        if (proprietary) {
            ans->sw = 0x6E00;
            return;
        }
        break;
    case 0x2A:
        if (!proprietary) {
            ans->sw = 0x6E00;
            return;
        }
        break;
    default:
        ans->sw = 0x6D00;
        return;
    }
    switch (a.ins) {
    case 0xA4:
        do_select(c, &a, ans);
        break;
    case 0xB0:
        do_read_binary(c, &a, ans);
        break;
    case 0x20:
        do_verify(c, &a, ans);
        break;
    case 0x24:
        do_change_pin(c, &a, ans);
        break;
    case 0x2A:
        do_sign(c, &a, ans);
        break;
    case 0x84:
        do_get_challenge(c, &a, ans);
        break;
    default:
        ans->sw = 0x6D00;
        break;
    }
}

/* chain_chunk: keep what is over the chunk for GET RESPONSE. */
static int chain_locked(struct emu_card *c, struct answer *ans)
{
    size_t chunk = c->opt.chain_chunk;

    if (chunk == 0 || ans->len <= chunk || c->pending)
        return 0;
    c->pending_len = ans->len - chunk;
    c->pending = malloc(c->pending_len);
    if (!c->pending) {
        c->pending_len = 0;
        return MYNA_E_NOMEM;
    }
    memcpy(c->pending, ans->data + chunk, c->pending_len);
    c->pending_off = 0;
    c->pending_sw = ans->sw;
    ans->len = chunk;
    ans->sw = sw_more(c->pending_len);
    return 0;
}

/* Damage the answer on the wire (the card's state changed all the same,
 * as when a reader garbles an answer). */
static void corrupt_locked(struct emu_card *c, uint8_t *resp, size_t cap,
                           size_t *len)
{
    size_t extra;
    unsigned sw;

    switch (c->opt.corrupt) {
    case EMU_CORRUPT_NONE:
        break;
    case EMU_CORRUPT_SW:
        /* By default 6F00, "no precise diagnosis": never a status word
         * the JPKI card sends to a well-formed command.  A chosen one
         * plays a line that garbles an answer into another, plausible
         * one (63C2 for the 9000 of a correct VERIFY). */
        sw = c->opt.corrupt_sw ? c->opt.corrupt_sw : 0x6F00;
        resp[*len - 2] = (uint8_t)(sw >> 8);
        resp[*len - 1] = (uint8_t)sw;
        break;
    case EMU_CORRUPT_TRUNCATE:
        *len = 1;
        break;
    case EMU_CORRUPT_GARBAGE:
        RAND_bytes(resp, (int)*len);
        break;
    case EMU_CORRUPT_OVERLONG:
        /* More than any command can ask for: pad the data with 00 up to
         * the caller's buffer (at most 256 bytes more), SW kept last. */
        extra = cap - *len;
        if (extra > 256)
            extra = 256;
        if (extra == 0)
            break;
        memmove(resp + *len - 2 + extra, resp + *len - 2, 2);
        memset(resp + *len - 2, 0, extra);
        *len += extra;
        break;
    }
}

/* An APDU in the extended-length encoding (ISO 7816-4 5.1: a 00 byte
 * after the header, then two-byte lengths). */
static bool is_extended(const uint8_t *cmd, size_t len)
{
    return len >= 7 && cmd[4] == 0x00;
}

int emu_card_apdu(struct emu_card *c, const uint8_t *cmd, size_t len,
                  uint8_t *resp, size_t cap, size_t *resplen)
{
    struct answer ans;
    unsigned long long delay;
    size_t n;
    unsigned first;
    bool counted;
    int rc = 0;

    if (!c || !cmd || !resp || !resplen)
        return MYNA_E_ARGS;
    if (cap < APDU_SHORT_LE_MAX + 2u + 2u)
        return MYNA_E_BUFFER_SMALL;
    *resplen = 0;

    pthread_mutex_lock(&c->lock);
    if (c->removed) {
        rc = MYNA_E_NO_CARD;
        goto out_unlock;
    }
    if (c->opt.remove_after && c->apdus >= c->opt.remove_after) {
        c->removed = true;
        power_off_locked(c);
        log_event_locked(c, "card removed (remove_after)");
        rc = MYNA_E_NO_CARD;
        goto out_unlock;
    }
    if (c->opt.reset_after && !c->reset_fired &&
        c->apdus >= c->opt.reset_after) {
        /* Once: the command is not executed, as when the card was reset
         * before it arrived. */
        c->reset_fired = true;
        reset_locked(c);
        log_event_locked(c, "card reset (reset_after)");
        rc = MYNA_E_CARD_RESET;
        goto out_unlock;
    }

    if (c->powered_off) {
        /* The card has no power: a reader gets nothing back. */
        log_event_locked(c, "APDU to an unpowered card: no answer");
        rc = MYNA_E_TRANSPORT;
        goto out_unlock;
    }
    if (c->opt.short_apdu_only && is_extended(cmd, len)) {
        /* The reader cannot carry it: the card never sees it. */
        log_event_locked(c, "extended-length APDU refused by the reader");
        rc = MYNA_E_TRANSPORT;
        goto out_unlock;
    }
    log_command_locked(c, cmd, len);
    if (c->fresh_power) {
        /* The measured card's first answer after power came back. */
        c->fresh_power = false;
        ans.data = c->work;
        ans.len = 0;
        ans.sw = 0x6F00;
    } else {
        process_locked(c, cmd, len, &ans);
    }
    rc = chain_locked(c, &ans);
    if (rc < 0)
        goto out_unlock;
    n = ans.len + 2;
    if (n > cap) {
        drop_pending_locked(c);
        rc = MYNA_E_BUFFER_SMALL;
        goto out_unlock;
    }
    memcpy(resp, ans.data, ans.len);
    OPENSSL_cleanse(ans.data, ans.len);
    resp[ans.len] = (uint8_t)(ans.sw >> 8);
    resp[ans.len + 1] = (uint8_t)ans.sw;
    c->apdus++;
    /* --corrupt-ins: only the commands with that INS and data count (the
     * VERIFYs that carry a PIN, say), whatever else the card sees. */
    counted = !c->opt.corrupt_ins ||
              (len > 5 && cmd[1] == c->opt.corrupt_ins);
    if (counted)
        c->corrupt_seen++;
    first = c->opt.corrupt_after ? c->opt.corrupt_after : 1;
    if (c->opt.corrupt != EMU_CORRUPT_NONE && counted &&
        c->corrupt_seen >= first &&
        (c->opt.corrupt_count == 0 ||
         c->corrupt_seen - first < c->opt.corrupt_count))
        corrupt_locked(c, resp, cap, &n);
    c->bytes_in += len;
    c->bytes_out += n;
    *resplen = n;
    log_answer_locked(c, resp, n);

    /* The card is slow while it holds the line: sleep with the lock held,
     * as a second command has to wait for the card. */
    delay = (unsigned long long)c->opt.latency_apdu_us +
            (unsigned long long)c->opt.latency_byte_us * (len + n);
    sleep_us(delay);
out_unlock:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void emu_card_reset(struct emu_card *c)
{
    pthread_mutex_lock(&c->lock);
    reset_locked(c);
    log_event_locked(c, c->opt.warm_reset_keeps_pin
                            ? "warm reset (verified PINs kept)"
                            : "warm reset (verified PINs cleared)");
    pthread_mutex_unlock(&c->lock);
}

void emu_card_power_off(struct emu_card *c)
{
    pthread_mutex_lock(&c->lock);
    power_off_locked(c);
    log_event_locked(c, "power off");
    pthread_mutex_unlock(&c->lock);
}

void emu_card_power_on(struct emu_card *c)
{
    pthread_mutex_lock(&c->lock);
    power_on_locked(c);
    log_event_locked(c, "power on");
    pthread_mutex_unlock(&c->lock);
}

void emu_card_power_cycle(struct emu_card *c)
{
    pthread_mutex_lock(&c->lock);
    power_off_locked(c);
    power_on_locked(c);
    log_event_locked(c, "power off, power on");
    pthread_mutex_unlock(&c->lock);
}

const uint8_t *emu_card_atr(const struct emu_card *c, size_t *len)
{
    *len = c->opt.atr_len;
    return c->opt.atr;
}

enum emu_profile emu_card_profile(const struct emu_card *c)
{
    return c->opt.profile;
}

/* ---- Profiles ---- */

enum emu_profile emu_profile_from_name(const char *name)
{
    if (!name)
        return EMU_PROFILE_DEFAULT;
    if (strcmp(name, "classic") == 0)
        return EMU_PROFILE_CLASSIC;
    if (strcmp(name, "strict") == 0)
        return EMU_PROFILE_STRICT;
    if (strcmp(name, "contactless") == 0)
        return EMU_PROFILE_CONTACTLESS;
    return EMU_PROFILE_DEFAULT;
}

const char *emu_profile_name(enum emu_profile p)
{
    switch (emu_profile_resolve(p)) {
    case EMU_PROFILE_CLASSIC:
        return "classic";
    case EMU_PROFILE_CONTACTLESS:
        return "contactless";
    case EMU_PROFILE_STRICT:
    case EMU_PROFILE_DEFAULT:
    default:
        return "strict";
    }
}

enum emu_profile emu_profile_resolve(enum emu_profile p)
{
    enum emu_profile env;

    if (p != EMU_PROFILE_DEFAULT)
        return p;
    /* The test suite runs again on each profile through this variable. */
    env = emu_profile_from_name(getenv("MYNACARD_EMU_PROFILE"));
    return env != EMU_PROFILE_DEFAULT ? env : EMU_PROFILE_STRICT;
}

/* The profile's behaviours, added to the switches already set. */
static void apply_profile(struct emu_options *o)
{
    o->profile = emu_profile_resolve(o->profile);
    if (o->profile == EMU_PROFILE_STRICT ||
        o->profile == EMU_PROFILE_CONTACTLESS) {
        o->warm_reset_keeps_pin = true;
        o->powerup_6f00 = true;
        o->empty_verify_9000 = true;
        o->sign_length_6985 = true;
        o->select_mf_9000 = true;
        o->sign_pss = true;
    }
    if (o->profile == EMU_PROFILE_CONTACTLESS)
        o->short_apdu_only = true;
    if (o->atr_len == 0 || o->atr_len > sizeof(o->atr)) {
        const uint8_t *atr = emu_atr;
        size_t n = sizeof(emu_atr);

        if (o->profile == EMU_PROFILE_CONTACTLESS) {
            atr = emu_atr_contactless;
            n = sizeof(emu_atr_contactless);
        }
        memcpy(o->atr, atr, n);
        o->atr_len = n;
    }
}

int emu_card_tries(const struct emu_card *cc, int role)
{
    struct emu_card *c = (struct emu_card *)cc; /* for the lock only */
    int n;

    pthread_mutex_lock(&c->lock);
    n = (role >= ROLE_AUTH && role <= ROLE_TEXT) ? *tries_of(c, role) : -1;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void emu_card_counters(const struct emu_card *cc, unsigned long *apdus,
                       unsigned long *bytes_in, unsigned long *bytes_out)
{
    struct emu_card *c = (struct emu_card *)cc; /* for the lock only */

    pthread_mutex_lock(&c->lock);
    if (apdus)
        *apdus = c->apdus;
    if (bytes_in)
        *bytes_in = c->bytes_in;
    if (bytes_out)
        *bytes_out = c->bytes_out;
    pthread_mutex_unlock(&c->lock);
}

static int cb_xfer(void *ctx, const uint8_t *cmd, size_t cmdlen,
                   uint8_t *resp, size_t cap, size_t *resplen)
{
    return emu_card_apdu(ctx, cmd, cmdlen, resp, cap, resplen);
}

static void cb_reset(void *ctx)
{
    emu_card_reset(ctx);
}

static void cb_unpower(void *ctx)
{
    emu_card_power_cycle(ctx);
}

void emu_card_callbacks(struct emu_card *c, struct tp_card_cb *cb)
{
    memset(cb, 0, sizeof(*cb));
    cb->xfer = cb_xfer;
    cb->unpower = cb_unpower;
    cb->reset = cb_reset;
    cb->ctx = c;
    memcpy(cb->atr, c->opt.atr, c->opt.atr_len);
    cb->atr_len = c->opt.atr_len;
}

void emu_wrap_reset(void *ctx)
{
    const struct tp_card_cb *inner = ctx;

    if (inner->reset)
        inner->reset(inner->ctx);
}

void emu_wrap_unpower(void *ctx)
{
    const struct tp_card_cb *inner = ctx;

    if (inner->unpower)
        inner->unpower(inner->ctx);
}

/* ---- Open and close ---- */

/* An optional file of DIR: a card made before the two small applications
 * existed has neither; their applications are then selectable and
 * empty. */
static int load_optional(struct emu_card *c, const char *name,
                         uint8_t **data, size_t *len)
{
    char *path = emu_path(c->dir, name);

    *data = NULL;
    *len = 0;
    if (!path)
        return -1;
    if (emu_read_file(path, data, len) < 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "mynacard-emu: cannot read %s: %s\n", path,
                    strerror(errno));
            free(path);
            return -1;
        }
        *data = NULL;
        *len = 0;
    }
    free(path);
    return 0;
}

static int load_small_aps(struct emu_card *c)
{
    struct ef *pin = &c->ci_files[0], *text = &c->ci_files[1];

    pin->fid = 0x0011;
    pin->kind = EF_PIN;
    pin->role = ROLE_TEXT;
    text->fid = 0x0002;
    text->kind = EF_TEXT;
    text->file = EMU_CARDINFO_FILE;
    if (load_optional(c, EMU_CARDINFO_FILE, &text->data, &text->len) < 0)
        return -1;
    if (load_optional(c, EMU_MFG_RECORD_FILE, &c->mfg_rec,
                      &c->mfg_rec_len) < 0)
        return -1;
    /* READ RECORD answers with a short Le: a record of at most 255. */
    if (c->mfg_rec && (c->mfg_rec_len == 0 || c->mfg_rec_len > 255)) {
        fprintf(stderr, "mynacard-emu: %s: 1 to 255 bytes\n",
                EMU_MFG_RECORD_FILE);
        return -1;
    }
    return 0;
}

static int load_files(struct emu_card *c)
{
    size_t i;

    for (i = 0; i < EF_COUNT; i++) {
        struct ef *ef = &c->files[i];
        char *path;

        ef->fid = ef_table[i].fid;
        ef->kind = ef_table[i].kind;
        ef->role = ef_table[i].role;
        ef->file = ef_table[i].file;
        if (!ef->file)
            continue;
        path = emu_path(c->dir, ef->file);
        if (!path)
            return -1;
        if (emu_read_file(path, &ef->data, &ef->len) < 0) {
            fprintf(stderr, "mynacard-emu: cannot read %s: %s\n", path,
                    strerror(errno));
            free(path);
            return -1;
        }
        free(path);
    }
    return load_small_aps(c);
}

static int open_hsm(struct emu_card *c)
{
    CK_SLOT_ID slot;
    CK_RV rv;

    if (emu_hsm_open(c->dir, &c->hsm) < 0)
        return -1;
    c->fn = emu_hsm_fn(c->hsm);
    if (emu_hsm_find_token(c->hsm, &slot) < 0) {
        fprintf(stderr, "mynacard-emu: %s has no SoftHSM token\n", c->dir);
        return -1;
    }
    rv = c->fn->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
                              &c->sess);
    if (rv != CKR_OK) {
        c->sess = CK_INVALID_HANDLE;
        fprintf(stderr, "mynacard-emu: SoftHSM C_OpenSession: 0x%lx\n",
                (unsigned long)rv);
        return -1;
    }
    rv = c->fn->C_Login(c->sess, CKU_USER, (CK_UTF8CHAR *)c->st.hsm_user_pin,
                        strlen(c->st.hsm_user_pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        fprintf(stderr, "mynacard-emu: SoftHSM C_Login: 0x%lx\n",
                (unsigned long)rv);
        return -1;
    }
    if (emu_hsm_find_key(c->hsm, c->sess, CKO_PRIVATE_KEY, EMU_KEY_AUTH,
                         &c->key[ROLE_AUTH]) < 0 ||
        emu_hsm_find_key(c->hsm, c->sess, CKO_PRIVATE_KEY, EMU_KEY_SIGN,
                         &c->key[ROLE_SIGN]) < 0) {
        fprintf(stderr, "mynacard-emu: the card's keys are missing\n");
        return -1;
    }
    return 0;
}

int emu_card_open(const char *dir, const struct emu_options *opt,
                  struct emu_card **out)
{
    struct emu_card *c;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->sess = CK_INVALID_HANDLE;
    if (opt)
        c->opt = *opt;
    c->opt.log_path = NULL; /* the copy below owns it */
    apply_profile(&c->opt);
    pthread_mutex_init(&c->lock, NULL);
    c->dir = realpath(dir, NULL);
    if (!c->dir) {
        fprintf(stderr, "mynacard-emu: %s: %s\n", dir, strerror(errno));
        goto err;
    }
    c->work = malloc(WORK_CAP);
    if (!c->work)
        goto err;
    if (opt && opt->log_path) {
        c->log_path = strdup(opt->log_path);
        if (!c->log_path)
            goto err;
        c->opt.log_path = c->log_path;
        c->log = fopen(c->log_path, "ae");
        if (!c->log) {
            fprintf(stderr, "mynacard-emu: cannot open %s: %s\n",
                    c->log_path, strerror(errno));
            goto err;
        }
    }
    if (emu_state_load(c->dir, &c->st) < 0)
        goto err;
    if (load_files(c) < 0)
        goto err;
    /* A copied card directory must use its own tokens. */
    if (emu_write_conf(c->dir) < 0)
        goto err;
    if (open_hsm(c) < 0)
        goto err;
    *out = c;
    return 0;

err:
    emu_card_close(c);
    return -1;
}

void emu_card_close(struct emu_card *c)
{
    size_t i;

    if (!c)
        return;
    if (c->hsm) {
        if (c->sess != CK_INVALID_HANDLE) {
            c->fn->C_Logout(c->sess);
            c->fn->C_CloseSession(c->sess);
        }
        emu_hsm_close(c->hsm);
    }
    drop_pending_locked(c);
    for (i = 0; i < EF_COUNT; i++)
        free(c->files[i].data);
    for (i = 0; i < CI_COUNT; i++) {
        if (c->ci_files[i].data)
            OPENSSL_clear_free(c->ci_files[i].data, c->ci_files[i].len);
    }
    free(c->mfg_rec);
    emu_state_wipe(&c->st);
    if (c->log)
        fclose(c->log);
    free(c->log_path);
    if (c->work)
        OPENSSL_clear_free(c->work, WORK_CAP);
    free(c->dir);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
