/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The card-session manager: one struct mc_card per card in a reader, from
 * its insertion to its removal.  It owns the connection (tp_hub_connect)
 * and the JPKI handle, serialises every APDU of both tokens and all
 * threads behind its I/O lock, wraps each operation in a transaction
 * (jpki_begin/jpki_end), and keeps what is true on the card: which PIN we
 * verified, the certificates (read once per insertion; the signature
 * certificate only in memory, cleansed when freed), the tries left.
 * Layer: module/; the only file of the module that talks to the card
 * (jpki_*) and connects to it (tp_hub_connect), and the only one that
 * sees struct mc_card.  It calls nothing above it: the sessions of a card
 * that died are closed through the hook init.c sets (card_on_kill).
 *
 * Identity: a card is the reader's events counter at the time it was
 * made.  When the counter moves on (slot.c sees it) or the transport says
 * the card is gone, the card is killed: its sessions are closed, so every
 * old handle fails, and the next use of the reader makes a new card.
 *
 * Logging out powers the card down: the one thing known to clear a
 * verified PIN on every card (doc/jpki-card.md, "What clears a verified
 * PIN").  A reset by another program logs both tokens out in software; as
 * a warm reset may leave our PINs verified on the card, a card that may
 * hold one is then powered down at once, so that the card agrees.  Most
 * cards cannot say whether a PIN is verified, so the software state (and
 * may_hold) is all there is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "module.h"
#include "myna-err.h"
#include "log.h"

struct mc_pin_memo {
    uint8_t mac[MC_PIN_MEMO_MAX][MC_MAC_LEN];
    unsigned n;
};

/*
 * A card is known by the reader's events counter; when that changes the
 * card is dead and a new one is made lazily.
 */
struct mc_card {
    struct mc_reader *reader;   /* lives until C_Finalize */
    uint32_t events;            /* the reader's counter when it was made */

    /* Module lock. */
    unsigned refs;              /* the reader's, sessions', running calls' */
    bool dead;                  /* removed: every session of it is closed */
    bool loaded;                /* the fields below are filled */
    enum jpki_token_kind kind;
    char serial[17];            /* 16 hex digits and NUL */
    int tries[2];               /* PIN tries left, -1 unknown */
    bool logged_in[2];          /* per token; shared by its sessions */
    struct mc_object *objs[MC_OBJ_COUNT];
    CK_OBJECT_HANDLE handle_base;

    /* I/O lock. */
    void *io;
    struct transport *tp;
    struct jpki *j;
    bool pin_verified[2];       /* what we verified and did not reset */
    bool may_hold[2];           /* the card may hold this PIN verified by
                                 * us: a VERIFY went out and was not
                                 * refused.  Only our own power-down
                                 * clears it; a warm reset does not clear
                                 * the PIN on every card */
    int memo_tries[2];          /* tries left when the memo was last
                                 * checked (for the debug log) */
    bool tries_fresh[2];        /* tries read by card_load and no session
                                 * opened since: card_session_opened()
                                 * need not read them again */
    EVP_PKEY_CTX *verify_ctx[2];/* each key's signature check, made at its
                                 * first signature (card_sign) */
    struct mc_pin_memo memo[2]; /* HMACs of PINs the card rejected */
};

/* Closes the sessions of a card that died (card_on_kill). */
static void (*card_close_sessions)(struct mc_card *c);

void card_on_kill(void (*close_sessions)(struct mc_card *c))
{
    card_close_sessions = close_sessions;
}

static const char *role_name(enum jpki_role role)
{
    return role == JPKI_AUTH ? "authentication" : "signature";
}

static int max_tries(enum jpki_role role)
{
    return role == JPKI_AUTH ? JPKI_AUTH_TRIES : JPKI_SIGN_TRIES;
}

static bool is_gone(int err)
{
    return err == MYNA_E_NO_CARD || err == MYNA_E_NO_READER;
}

/* Errors after which the card's state is unknown: stop, do not go on
 * reading.  Everything else is a status word about one file or command. */
static bool is_fatal(int err)
{
    return is_gone(err) || err == MYNA_E_TRANSPORT || err == MYNA_E_NO_SERVICE
           || err == MYNA_E_CARD_RESET || err == MYNA_E_NOMEM;
}

/* ---- Lifetime (module lock) ---- */

static void card_free(struct mc_card *c)
{
    for (int i = 0; i < MC_OBJ_COUNT; i++)
        mc_object_free(c->objs[i]);
    EVP_PKEY_CTX_free(c->verify_ctx[JPKI_AUTH]);
    EVP_PKEY_CTX_free(c->verify_ctx[JPKI_SIGN]);
    jpki_free(c->j);
    tp_free(c->tp);
    mc_mutex_free(c->io);
    OPENSSL_cleanse(c->memo, sizeof(c->memo));
    free(c);
}

struct mc_card *card_current_locked(struct mc_reader *r)
{
    struct mc_card *c;

    if (r->card && !r->card->dead)
        return r->card;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (mc_mutex_new(&c->io) != CKR_OK) {
        free(c);
        return NULL;
    }
    c->reader = r;
    c->events = r->events;
    c->refs = 1;                /* the reader's */
    c->tries[JPKI_AUTH] = -1;
    c->tries[JPKI_SIGN] = -1;
    snprintf(c->serial, sizeof(c->serial), "%016u", 0u);
    c->handle_base = mc_g.next_handle_base;
    mc_g.next_handle_base += MC_HANDLES_PER_CARD;
    r->card = c;
    return c;
}

void card_ref_locked(struct mc_card *c)
{
    c->refs++;
}

void card_unref_locked(struct mc_card *c)
{
    if (--c->refs == 0)
        card_free(c);
}

bool card_dead_locked(const struct mc_card *c)
{
    return c->dead;
}

bool card_loaded_locked(const struct mc_card *c)
{
    return c->loaded;
}

uint32_t card_events_locked(const struct mc_card *c)
{
    return c->events;
}

enum jpki_token_kind card_kind_locked(const struct mc_card *c)
{
    return c->kind;
}

const char *card_serial_locked(const struct mc_card *c)
{
    return c->serial;
}

int card_tries_locked(const struct mc_card *c, enum jpki_role role)
{
    return c->tries[role];
}

bool card_logged_in_locked(const struct mc_card *c, enum jpki_role role)
{
    return c->logged_in[role];
}

void card_set_logged_out_locked(struct mc_card *c, enum jpki_role role)
{
    c->logged_in[role] = false;
}

const struct mc_object *card_object_locked(const struct mc_card *c,
                                           CK_OBJECT_HANDLE h)
{
    if (h <= c->handle_base || h > c->handle_base + MC_OBJ_COUNT)
        return NULL;
    return c->objs[h - c->handle_base - 1];
}

const struct mc_object *card_object_at_locked(const struct mc_card *c,
                                              unsigned index)
{
    return index < MC_OBJ_COUNT ? c->objs[index] : NULL;
}

void card_io_begin_locked(struct mc_card *c)
{
    card_ref_locked(c);
    mc_unlock_for_io();
}

void card_io_end_locked(struct mc_card *c)
{
    mc_relock_after_io();
    card_unref_locked(c);
}

void card_kill_locked(struct mc_card *c)
{
    struct mc_reader *r = c->reader;

    if (c->dead)
        return;
    c->dead = true;
    c->logged_in[JPKI_AUTH] = false;
    c->logged_in[JPKI_SIGN] = false;
    /* Until the reader's counter moves on, this card is not to be made
     * again (not JPKI, or gone before the hub noticed). */
    r->unusable = true;
    r->unusable_events = c->events;
    myna_log(MYNA_LOG_INFO, "reader %u: card forgotten (removed, replaced, "
             "unusable or finalised)", r->index);
    card_ref_locked(c);         /* survive the loop below */
    if (card_close_sessions)
        card_close_sessions(c);
    if (r->card == c) {
        r->card = NULL;
        card_unref_locked(c);   /* the reader's reference */
    }
    card_unref_locked(c);
}

/* ---- Helpers under the I/O lock ---- */

static bool card_dead(struct mc_card *c)
{
    bool dead;

    mc_mutex_lock(mc_g.lock);
    dead = c->dead;
    mc_mutex_unlock(mc_g.lock);
    return dead;
}

static void card_gone(struct mc_card *c)
{
    mc_mutex_lock(mc_g.lock);
    card_kill_locked(c);
    mc_mutex_unlock(mc_g.lock);
}

static void memo_clear(struct mc_pin_memo *m);

/* Every verified PIN is lost: both tokens are logged out.  The card may
 * have changed meanwhile, so what it rejected is forgotten. */
static void card_forget_pins(struct mc_card *c)
{
    c->pin_verified[JPKI_AUTH] = false;
    c->pin_verified[JPKI_SIGN] = false;
    memo_clear(&c->memo[JPKI_AUTH]);
    memo_clear(&c->memo[JPKI_SIGN]);
    mc_mutex_lock(mc_g.lock);
    if (c->logged_in[JPKI_AUTH] || c->logged_in[JPKI_SIGN])
        myna_log(MYNA_LOG_INFO, "reader %u: card reset, tokens logged out",
                 c->reader->index);
    c->logged_in[JPKI_AUTH] = false;
    c->logged_in[JPKI_SIGN] = false;
    mc_mutex_unlock(mc_g.lock);
}

/* What an error mid-transaction means for the card as a whole. */
static int card_check(struct mc_card *c, int err)
{
    if (is_gone(err))
        card_gone(c);
    else if (err == MYNA_E_CARD_RESET)
        card_forget_pins(c);
    return err;
}

/* After a reset by another program: does the card say a PIN is still
 * verified?  pcscd resets the card when a program dies inside a
 * transaction, and a program logs out with a reset: either way nobody
 * means a PIN to stay, yet a card that keeps PINs across a warm reset
 * keeps it.  Cards that answer an empty VERIFY of a verified PIN with 9000
 * say so; the others answer 63Cx and cost two short exchanges.  Inside a
 * transaction; I/O lock held. */
static bool foreign_pin_verified(struct mc_card *c)
{
    for (int role = JPKI_AUTH; role <= JPKI_SIGN; role++) {
        bool verified = false;
        int tries = -1;

        if (jpki_pin_status(c->j, (enum jpki_role)role, &tries,
                            &verified) < 0)
            return false;   /* the caller's next command finds out */
        if (verified) {
            myna_log(MYNA_LOG_INFO, "reader %u: %s PIN still verified "
                     "after another program's reset", c->reader->index,
                     role_name((enum jpki_role)role));
            return true;
        }
    }
    return false;
}

static int card_connect(struct mc_card *c)
{
    int err;

    if (c->j)
        return 0;
    if (!c->tp) {
        /* The hub is used under the module lock (transport.h). */
        mc_mutex_lock(mc_g.lock);
        err = tp_hub_connect(mc_g.hub, c->reader->name, &c->tp);
        mc_mutex_unlock(mc_g.lock);
        if (err < 0) {
            c->tp = NULL;
            return err;
        }
    }
    return jpki_new(c->tp, &c->j);
}

/* Open a transaction.  *@was_reset: the card was reset since our last
 * one, every PIN is gone (already accounted for).  On error there is no
 * transaction. */
static int card_begin(struct mc_card *c, bool *was_reset)
{
    int err;

    *was_reset = false;
    if (card_dead(c))
        return MYNA_E_NO_CARD;
    err = card_connect(c);
    if (err < 0)
        return card_check(c, err);
    err = jpki_begin(c->j);
    if (err == MYNA_E_CARD_RESET) {
        *was_reset = true;
        card_forget_pins(c);
        if (c->may_hold[JPKI_AUTH] || c->may_hold[JPKI_SIGN] ||
            foreign_pin_verified(c)) {
            /* We are logged out now; a card that keeps its PINs across a
             * warm reset would still sign for anyone.  Power it down,
             * and go on in a new transaction. */
            myna_log(MYNA_LOG_INFO, "reader %u: card reset by another "
                     "program; powering it down so that no PIN "
                     "stays verified", c->reader->index);
            err = jpki_end(c->j, true);
            if (err == 0) {
                c->may_hold[JPKI_AUTH] = false;
                c->may_hold[JPKI_SIGN] = false;
                err = jpki_begin(c->j);
                if (err == MYNA_E_CARD_RESET)
                    err = 0;    /* ours, or one more: nothing verified */
            }
            if (err < 0) {
                jpki_forget(c->j);
                return card_check(c, err);
            }
        }
        return 0;
    }
    return card_check(c, err);
}

static void card_end(struct mc_card *c, bool unpower)
{
    int err = jpki_end(c->j, unpower);

    if (unpower) {
        card_forget_pins(c);
        if (err == 0) {
            c->may_hold[JPKI_AUTH] = false;
            c->may_hold[JPKI_SIGN] = false;
        }
    }
    if (err < 0) {
        myna_log(MYNA_LOG_ERROR, "reader %u: ending the transaction%s: %s",
                 c->reader->index, unpower ? " with a power-down" : "",
                 myna_strerror(err));
        if (is_gone(err))
            card_gone(c);
    }
}

/* ---- The rejected-PIN memo (I/O lock) ---- */

static bool memo_has(const struct mc_pin_memo *m, const uint8_t *mac)
{
    bool hit = false;

    for (unsigned i = 0; i < m->n; i++)
        hit |= CRYPTO_memcmp(m->mac[i], mac, MC_MAC_LEN) == 0;
    return hit;
}

static void memo_add(struct mc_pin_memo *m, const uint8_t *mac)
{
    if (memo_has(m, mac))
        return;
    if (m->n == MC_PIN_MEMO_MAX) {
        memmove(m->mac[0], m->mac[1], (MC_PIN_MEMO_MAX - 1) * MC_MAC_LEN);
        m->n--;
    }
    memcpy(m->mac[m->n++], mac, MC_MAC_LEN);
}

static void memo_clear(struct mc_pin_memo *m)
{
    OPENSSL_cleanse(m, sizeof(*m));
}

/* ---- Loading a new card ---- */

struct load_result {
    enum jpki_token_kind kind;
    char serial[17];
    int tries[2];
    struct mc_object *objs[MC_OBJ_COUNT];
};

static int hex_serial(const uint8_t *data, size_t len, char out[17])
{
    uint8_t md[SHA256_DIGEST_LENGTH];

    /* Stable for a card, different between cards: the authentication
     * certificate is unique per card and readable without a PIN.  SHA256()
     * fails only for want of memory: no serial from an unset buffer. */
    if (!SHA256(data, len, md))
        return MYNA_E_NOMEM;
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
    return 0;
}

/* Read one free certificate and make its objects; a card error about that
 * file only is logged and skipped. */
static int load_cert(struct mc_card *c, enum jpki_cert which,
                     struct load_result *res)
{
    uint8_t *der = NULL;
    size_t len = 0;
    int err;

    err = jpki_read_cert(c->j, which, &der, &len);
    if (err < 0) {
        myna_log(MYNA_LOG_ERROR, "reader %u: certificate %d: %s",
                 c->reader->index, (int)which, myna_strerror(err));
        return is_fatal(err) ? err : 0;
    }
    err = which == JPKI_CERT_AUTH ? hex_serial(der, len, res->serial) : 0;
    if (err == 0) {
        CK_RV rv = mc_objects_from_cert(which, der, len, c->handle_base,
                                        mc_g.cfg.sign_always_authenticate,
                                        res->objs);

        /* Out of memory fails the load (tried again at the next call); a
         * certificate the card spoilt leaves the token without it. */
        if (rv == CKR_HOST_MEMORY)
            err = MYNA_E_NOMEM;
        else if (rv != CKR_OK)
            myna_log(MYNA_LOG_ERROR, "reader %u: certificate %d unusable",
                     c->reader->index, (int)which);
    }
    free(der);
    return err;
}

static int load_in_transaction(struct mc_card *c, struct load_result *res)
{
    struct jpki_token_info ti;
    int err;

    err = jpki_select_ap(c->j);
    if (err < 0)
        return err;

    /* The label says which kind of token this is; the rest of the file
     * is never used: 32 bytes, not 256. */
    err = jpki_read_token_label(c->j, &ti);
    if (err < 0) {
        if (is_fatal(err))
            return err;
        myna_log(MYNA_LOG_ERROR, "reader %u: token information: %s",
                 c->reader->index, myna_strerror(err));
    } else {
        res->kind = ti.kind;
        myna_log(MYNA_LOG_INFO, "reader %u: %s (%s)", c->reader->index,
                 jpki_kind_name(ti.kind), ti.label);
    }

    /* The authentication certificate always: the serial numbers of both
     * tokens come from it.  A CA certificate only when its token is shown:
     * the one-token modules (Firefox's, LibreOffice's) never show the
     * other, and each certificate costs about five READ BINARY. */
    err = load_cert(c, JPKI_CERT_AUTH, res);
    if (err == 0 && mc_role_shown(JPKI_AUTH))
        err = load_cert(c, JPKI_CERT_AUTH_CA, res);
    if (err == 0 && mc_role_shown(JPKI_SIGN))
        err = load_cert(c, JPKI_CERT_SIGN_CA, res);
    if (err < 0)
        return err;
    if (mc_object_profile(c->handle_base, &res->objs[MC_OBJ_AUTH_PROFILE])
        != CKR_OK)
        return MYNA_E_NOMEM;

    /* Tries left of the shown tokens' PINs only (token flags, and a
     * blocked PIN refused without the card); the other stays unknown. */
    for (int role = JPKI_AUTH; role <= JPKI_SIGN; role++) {
        bool verified = false;

        if (!mc_role_shown((enum jpki_role)role))
            continue;
        err = jpki_pin_status(c->j, (enum jpki_role)role, &res->tries[role],
                              &verified);
        if (err < 0) {
            res->tries[role] = -1;
            if (is_fatal(err))
                return err;
        } else if (verified) {
            /* Not by us: another program, or one that died, left it so.
             * Our tokens still ask for the PIN. */
            myna_log(MYNA_LOG_INFO, "reader %u: the card says its %s PIN "
                     "is verified (not by this program)", c->reader->index,
                     role_name((enum jpki_role)role));
        }
    }
    return 0;
}

int card_load(struct mc_card *c)
{
    struct load_result res;
    bool loaded, reset;
    int err;

    memset(&res, 0, sizeof(res));
    snprintf(res.serial, sizeof(res.serial), "%016u", 0u);
    res.tries[JPKI_AUTH] = -1;
    res.tries[JPKI_SIGN] = -1;

    mc_mutex_lock(c->io);
    mc_mutex_lock(mc_g.lock);
    loaded = c->loaded;
    mc_mutex_unlock(mc_g.lock);
    if (loaded) {
        err = 0;                /* another thread was first */
        goto out_unlock;
    }

    err = card_begin(c, &reset);
    if (err < 0)
        goto out_unlock;
    err = load_in_transaction(c, &res);
    card_check(c, err);
    card_end(c, false);

    mc_mutex_lock(mc_g.lock);
    if (err == MYNA_E_NOT_JPKI) {
        myna_log(MYNA_LOG_INFO, "reader %u: not a JPKI card",
                 c->reader->index);
        card_kill_locked(c);
    } else if (err == 0 && !c->dead) {
        c->kind = res.kind;
        memcpy(c->serial, res.serial, sizeof(c->serial));
        c->tries[JPKI_AUTH] = res.tries[JPKI_AUTH];
        c->tries[JPKI_SIGN] = res.tries[JPKI_SIGN];
        c->tries_fresh[JPKI_AUTH] = true;
        c->tries_fresh[JPKI_SIGN] = true;
        for (int i = 0; i < MC_OBJ_COUNT; i++) {
            c->objs[i] = res.objs[i];
            res.objs[i] = NULL;
        }
        c->loaded = true;
    }
    mc_mutex_unlock(mc_g.lock);

out_unlock:
    mc_mutex_unlock(c->io);
    for (int i = 0; i < MC_OBJ_COUNT; i++)
        mc_object_free(res.objs[i]);
    return err;
}

/* After the signature password: the signature certificate and its keys.
 * Personal data: it stays in memory, and is cleansed when freed. */
static int load_sign_cert(struct mc_card *c)
{
    struct mc_object *objs[MC_OBJ_COUNT] = { NULL };
    uint8_t *der = NULL;
    size_t len = 0;
    bool have;
    int err;
    CK_RV rv;

    mc_mutex_lock(mc_g.lock);
    have = c->objs[MC_OBJ_SIGN_CERT] != NULL;
    mc_mutex_unlock(mc_g.lock);
    if (have)
        return 0;

    err = jpki_read_cert(c->j, JPKI_CERT_SIGN, &der, &len);
    if (err < 0) {
        card_check(c, err);
        myna_log(MYNA_LOG_ERROR, "reader %u: signature certificate: %s",
                 c->reader->index, myna_strerror(err));
        return err == MYNA_E_NOMEM ? err : 0;
    }
    rv = mc_objects_from_cert(JPKI_CERT_SIGN, der, len, c->handle_base,
                              mc_g.cfg.sign_always_authenticate, objs);
    OPENSSL_clear_free(der, len);
    if (rv == CKR_HOST_MEMORY) {
        for (int i = 0; i < MC_OBJ_COUNT; i++)
            mc_object_free(objs[i]);
        return MYNA_E_NOMEM;
    }
    if (rv != CKR_OK)
        myna_log(MYNA_LOG_ERROR, "reader %u: signature certificate unusable",
                 c->reader->index);

    mc_mutex_lock(mc_g.lock);
    for (int i = 0; i < MC_OBJ_COUNT; i++) {
        if (objs[i] && !c->objs[i]) {
            c->objs[i] = objs[i];
            objs[i] = NULL;
        }
    }
    mc_mutex_unlock(mc_g.lock);
    for (int i = 0; i < MC_OBJ_COUNT; i++)
        mc_object_free(objs[i]);
    return 0;
}

/* ---- PINs ---- */

/* Publish what a VERIFY said.  I/O lock held.  A PIN the card refused
 * leaves the token logged out, as the card says.  The card may hold a PIN
 * verified all the same: an earlier verification the refusal did not end,
 * or a correct PIN whose 9000 the line garbled into 63Cx (found by the
 * faults suite, whose garbage once read as 63Cx): may_hold is set, and
 * closing the token's last session, C_Logout or C_Finalize powers the
 * card down. */
static void after_verify(struct mc_card *c, enum jpki_role role, int err,
                         int left, const uint8_t *mac)
{
    int tries = -1;

    if (err == 0 || err == MYNA_E_PIN_INCORRECT || err == MYNA_E_PIN_LOCKED)
        c->may_hold[role] = true;
    if (err == 0) {
        c->pin_verified[role] = true;
        memo_clear(&c->memo[role]);
        tries = max_tries(role);
    } else if (err == MYNA_E_PIN_INCORRECT) {
        memo_add(&c->memo[role], mac);
        c->memo_tries[role] = left;
        tries = left;
    } else if (err == MYNA_E_PIN_LOCKED) {
        tries = 0;
    } else {
        return;
    }
    myna_log(MYNA_LOG_INFO, "reader %u: %s PIN %s, %d tries left",
             c->reader->index, role_name(role),
             err == 0 ? "verified" : "rejected", tries);
    if (err != 0)
        c->pin_verified[role] = false;
    mc_mutex_lock(mc_g.lock);
    c->tries[role] = tries;
    if (err != 0 && c->logged_in[role]) {
        myna_log(MYNA_LOG_INFO, "reader %u: %s token logged out: the card "
                 "refused a PIN", c->reader->index, role_name(role));
        c->logged_in[role] = false;
    }
    mc_mutex_unlock(mc_g.lock);
}

/* Did a VERIFY of @role end without a verdict the module trusts, while it
 * may have reached the card?  Its answer was garbled, cut or lost (err is
 * not a PIN verdict, nor a removal or reset that took any PIN with it),
 * so the card may hold the PIN verified without our knowing: the caller
 * then ends the transaction with a power-down, so that no verified PIN
 * stays behind for another program (found by fuzz-module: a VERIFY
 * answered with data and 9000).  I/O lock held. */
static bool verify_unsure(const struct mc_card *c, enum jpki_role role,
                          int err)
{
    return err < 0 && err != MYNA_E_PIN_INCORRECT && err != MYNA_E_PIN_LOCKED
           && err != MYNA_E_PIN_FORMAT && err != MYNA_E_PIN_LEN
           && err != MYNA_E_CARD_RESET && !is_gone(err)
           && !c->pin_verified[role];
}

/* Refuse without sending the PIN what the card would refuse: a PIN it
 * already rejected (applications re-send it), and a blocked PIN.  A PIN
 * in the memo is refused only while the card's counter is not full again:
 * another program may have changed the PIN to it (which needs the right
 * one first, and that fills the counter), and then the user's PIN must
 * reach the card.  Asking costs an empty VERIFY, never a try.  Inside a
 * transaction; I/O lock held. */
static int precheck_pin(struct mc_card *c, enum jpki_role role,
                        const uint8_t *mac)
{
    bool verified = false;
    int tries, err;

    mc_mutex_lock(mc_g.lock);
    tries = c->tries[role];
    mc_mutex_unlock(mc_g.lock);
    if (tries == 0)
        return MYNA_E_PIN_LOCKED;
    if (!memo_has(&c->memo[role], mac))
        return 0;
    err = jpki_pin_status(c->j, role, &tries, &verified);
    if (err < 0)
        return card_check(c, err);
    mc_mutex_lock(mc_g.lock);
    c->tries[role] = tries;
    mc_mutex_unlock(mc_g.lock);
    /* Only a correct VERIFY fills the counter again, and the PIN can only
     * change after one: anything else (the same count, or fewer) leaves
     * the rejected PIN as wrong as it was. */
    if (!verified && tries != max_tries(role)) {
        c->memo_tries[role] = tries;
        return tries == 0 ? MYNA_E_PIN_LOCKED : MYNA_E_PIN_INCORRECT;
    }
    myna_log(MYNA_LOG_DEBUG, "reader %u: %s PIN tries now %d (were %d): "
             "a PIN was verified since, rejected PINs forgotten",
             c->reader->index, role_name(role), tries, c->memo_tries[role]);
    memo_clear(&c->memo[role]);
    return 0;
}

/* The one way a PIN reaches the card, with c->io held: begin a
 * transaction, refuse what precheck_pin() refuses (a PIN rejected before,
 * a blocked PIN) without sending it, then VERIFY and record the answer.
 * *@open says whether the transaction is still open: then the caller ends
 * it, powering the card down when *@unsure (the card may hold the PIN
 * verified and the module cannot tell). */
static int verify_in_transaction(struct mc_card *c, enum jpki_role role,
                                 const uint8_t *pin, size_t len,
                                 const uint8_t *mac, bool *open, bool *unsure)
{
    bool reset;
    int err, left = -1;

    *open = false;
    *unsure = false;
    err = card_begin(c, &reset);
    if (err < 0)
        return err;
    err = precheck_pin(c, role, mac);
    if (err < 0) {
        card_end(c, false);
        return err;
    }
    *open = true;

    /* The JPKI layer selects the PIN file afresh in every transaction, so
     * a selection another program made cannot misdirect this VERIFY. */
    err = jpki_verify(c->j, role, pin, len, &left);
    *unsure = verify_unsure(c, role, err);
    after_verify(c, role, err, left, mac);
    card_check(c, err);
    return err;
}

int card_login(struct mc_card *c, enum jpki_role role, bool context,
               const uint8_t *pin, size_t len, const uint8_t *mac)
{
    bool open, unsure, logged_in;
    int err;

    mc_mutex_lock(c->io);
    if (!context) {
        /* Another thread may have logged in while this one waited for the
         * I/O lock: then the PIN must not go to the card again. */
        mc_mutex_lock(mc_g.lock);
        logged_in = c->logged_in[role];
        mc_mutex_unlock(mc_g.lock);
        if (logged_in) {
            err = CARD_ALREADY_LOGGED_IN;
            goto out_unlock;
        }
    }
    err = verify_in_transaction(c, role, pin, len, mac, &open, &unsure);
    if (!open)
        goto out_unlock;
    if (err == 0 && role == JPKI_SIGN && load_sign_cert(c) == MYNA_E_NOMEM) {
        /* No memory for the key's objects: a login that shows no key is
         * no login.  Fail it, and power the card down below so that the
         * PIN it just verified does not stay verified. */
        err = MYNA_E_NOMEM;
        unsure = true;
    }
    if (err == 0 && !context) {
        mc_mutex_lock(mc_g.lock);
        c->logged_in[role] = true;
        mc_mutex_unlock(mc_g.lock);
    }
    card_end(c, unsure);
out_unlock:
    mc_mutex_unlock(c->io);
    return err;
}

int card_set_pin(struct mc_card *c, enum jpki_role role,
                 const uint8_t *oldpin, size_t oldlen, const uint8_t *oldmac,
                 const uint8_t *newpin, size_t newlen)
{
    bool open, logged_in, unsure;
    int err;

    mc_mutex_lock(c->io);
    err =
        verify_in_transaction(c, role, oldpin, oldlen, oldmac, &open, &unsure);
    if (!open)
        goto out_unlock;
    if (err == 0) {
        err = jpki_change_pin(c->j, role, newpin, newlen);
        card_check(c, err);
        if (err == 0) {
            /* Whatever was rejected before was measured against the old
             * PIN. */
            memo_clear(&c->memo[role]);
            myna_log(MYNA_LOG_INFO, "reader %u: %s PIN changed",
                     c->reader->index, role_name(role));
        }
    }

    /* The old PIN is verified now: leave it so only if the token was
     * logged in anyway. */
    mc_mutex_lock(mc_g.lock);
    logged_in = c->logged_in[role];
    mc_mutex_unlock(mc_g.lock);
    card_end(c, (c->pin_verified[role] && !logged_in) || unsure);
out_unlock:
    mc_mutex_unlock(c->io);
    return err;
}

int card_logout(struct mc_card *c, enum jpki_role role)
{
    bool reset;
    int err = 0;

    mc_mutex_lock(c->io);
    if ((!c->pin_verified[role] && !c->may_hold[role]) || !c->j)
        goto out_unlock;        /* nothing of ours verified on the card */
    err = card_begin(c, &reset);
    if (err < 0)
        goto out_unlock;        /* gone: so is the PIN */
    /* The card has no "unverify", and a warm reset is not enough on every
     * card: a power-down is the only way, and it logs the other token out
     * too.  card_begin() already did it if another program's reset came
     * first. */
    if (c->may_hold[JPKI_AUTH] || c->may_hold[JPKI_SIGN] ||
        c->pin_verified[JPKI_AUTH] || c->pin_verified[JPKI_SIGN]) {
        card_end(c, true);
        myna_log(MYNA_LOG_INFO, "reader %u: %s token logged out, card "
                 "powered down", c->reader->index, role_name(role));
    } else {
        card_end(c, false);
    }
out_unlock:
    mc_mutex_unlock(c->io);
    return err;
}

int card_session_opened(struct mc_card *c, enum jpki_role role)
{
    bool reset, verified = false;
    int err = 0, tries = -1;

    mc_mutex_lock(c->io);
    memo_clear(&c->memo[role]);
    if (c->tries_fresh[role]) {
        /* card_load read them just now, for this very session. */
        c->tries_fresh[role] = false;
        goto out_unlock;
    }
    err = card_begin(c, &reset);
    if (err < 0)
        goto out_unlock;
    err = jpki_pin_status(c->j, role, &tries, &verified);
    card_check(c, err);
    card_end(c, false);
    if (err == 0) {
        mc_mutex_lock(mc_g.lock);
        c->tries[role] = tries;
        mc_mutex_unlock(mc_g.lock);
    }
out_unlock:
    mc_mutex_unlock(c->io);
    return err;
}

/* ---- Signing and random ---- */

/* The DER SubjectPublicKeyInfo of @role's key, copied (module lock). */
static uint8_t *copy_spki(struct mc_card *c, enum jpki_role role, size_t *len)
{
    const struct mc_object *o;
    const struct mc_attr *a;
    uint8_t *out = NULL;

    mc_mutex_lock(mc_g.lock);
    o = c->objs[role == JPKI_AUTH ? MC_OBJ_AUTH_PUB : MC_OBJ_SIGN_PUB];
    a = o ? mc_object_attr(o, CKA_PUBLIC_KEY_INFO) : NULL;
    if (a && a->len) {
        out = malloc(a->len);
        if (out) {
            memcpy(out, a->val, a->len);
            *len = a->len;
        }
    }
    mc_mutex_unlock(mc_g.lock);
    return out;
}

/* The signature check of @role's key, made once per card: parsing the key
 * costs more than the RSA check itself.  *@out is NULL when the token
 * shows no usable public key (nothing to check against).  Returns 0, or
 * MYNA_E_NOMEM: a signature is never let out unchecked for want of
 * memory.  I/O lock held. */
static int verify_ctx(struct mc_card *c, enum jpki_role role,
                      EVP_PKEY_CTX **out)
{
    uint8_t *spki;
    size_t spkilen = 0;

    if (!c->verify_ctx[role]) {
        spki = copy_spki(c, role, &spkilen);
        if (spki)
            c->verify_ctx[role] = mc_rsa_verify_ctx_new(spki, spkilen);
        free(spki);
        if (!c->verify_ctx[role] && mc_ossl_nomem())
            return MYNA_E_NOMEM;
    }
    *out = c->verify_ctx[role];
    return 0;
}

/* Sign with @role's key, PKCS#1 v1.5 over @in or (@pss) RSASSA-PSS over
 * the 32-byte hash @in, and check the signature with the certificate's
 * key before it leaves the module: a faulty answer, or a signature by the
 * other key, must never reach the application (cheap next to the card's
 * second).  The PSS mode is known from one source only (doc/jpki-card.md):
 * with no key to check it against there is no PSS signature at all. */
static int sign_checked(struct mc_card *c, enum jpki_role role, bool pss,
                        const uint8_t *in, size_t inlen, uint8_t *sig,
                        size_t *siglen)
{
    EVP_PKEY_CTX *check = NULL;
    uint8_t *spki = NULL;
    size_t spkilen = 0;
    bool reset;
    int err, ok;

    *siglen = 0;
    mc_mutex_lock(c->io);
    if (pss) {
        spki = copy_spki(c, role, &spkilen);
        err = spki ? 0 : MYNA_E_NOMEM;
    } else {
        err = verify_ctx(c, role, &check);
    }
    if (err < 0)
        goto out_unlock;
    err = card_begin(c, &reset);
    if (err < 0)
        goto out_unlock;
    if (!c->pin_verified[role]) {
        /* Lost to a reset since C_Login: nothing to send. */
        err = MYNA_E_SECURITY;
        goto out_end;
    }

    if (pss) {
        err = jpki_sign_pss(c->j, role, in, sig, MC_SIG_LEN, siglen);
        if (err == MYNA_E_P1P2)
            myna_log(MYNA_LOG_ERROR, "reader %u: the card refused an RSA-PSS "
                     "signature (COMPUTE DIGITAL SIGNATURE with P1 04): it "
                     "cannot log in to TLS 1.3 sites; set pss = false in "
                     "mynacard.conf (mynacard-tool check-pss --disable)",
                     c->reader->index);
        ok = err == 0 ? mc_rsa_pss_verify(spki, spkilen, in, inlen, sig,
                                          *siglen)
                      : 1;
    } else {
        err = jpki_sign(c->j, role, in, inlen, sig, MC_SIG_LEN, siglen);
        ok = err == 0 && check
             ? mc_rsa_pkcs1_verify_ctx(check, in, inlen, sig, *siglen) : 1;
    }
    if (ok != 1) {
        if (ok == 0)
            myna_log(MYNA_LOG_ERROR, "reader %u: the card's signature does "
                     "not verify %swith the certificate's key: not "
                     "returned%s", c->reader->index,
                     pss ? "as RSASSA-PSS with MGF1-SHA256 and a 32-byte "
                           "salt (P1 04) " : "",
                     pss ? "; if this card always does so, set pss = false"
                         : "");
        OPENSSL_cleanse(sig, MC_SIG_LEN);
        *siglen = 0;
        err = ok == 0 ? MYNA_E_BAD_RESPONSE : MYNA_E_NOMEM;
    }
    if (err == MYNA_E_SECURITY) {
        /* 6982: the card does not have the PIN (another program reset or
         * re-selected): the token is logged out. */
        c->pin_verified[role] = false;
        mc_mutex_lock(mc_g.lock);
        c->logged_in[role] = false;
        mc_mutex_unlock(mc_g.lock);
    }
    card_check(c, err);
out_end:
    card_end(c, false);
out_unlock:
    mc_mutex_unlock(c->io);
    free(spki);
    return err;
}

int card_sign(struct mc_card *c, enum jpki_role role, const uint8_t *in,
              size_t inlen, uint8_t *sig, size_t *siglen)
{
    return sign_checked(c, role, false, in, inlen, sig, siglen);
}

int card_sign_pss(struct mc_card *c, enum jpki_role role,
                  const uint8_t hash[JPKI_PSS_HASH_LEN], uint8_t *sig,
                  size_t *siglen)
{
    return sign_checked(c, role, true, hash, JPKI_PSS_HASH_LEN, sig, siglen);
}

int card_random(struct mc_card *c, uint8_t *out, size_t len)
{
    bool reset;
    int err;

    mc_mutex_lock(c->io);
    err = card_begin(c, &reset);
    if (err < 0)
        goto out_unlock;
    err = jpki_get_challenge(c->j, out, len);
    card_check(c, err);
    card_end(c, false);
out_unlock:
    mc_mutex_unlock(c->io);
    return err;
}
