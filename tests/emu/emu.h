/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The virtual My Number Card (libmynacard-emu): a JPKI card whose keys live
 * in a SoftHSM2 token in the card's directory, with the manufacture-number
 * and card-info input support applications beside it.  It answers command APDUs
 * as doc/jpki-card.md says real cards do, in one of several profiles, keeps
 * its PIN counters in the directory between runs, and injects faults on
 * demand.  Used in process by the tests (through the callback transport)
 * and by the mynacard-emu program, which plugs it into pcscd through
 * vsmartcard's vpcd.  It does not use the card layer above the APDU codec.
 */
#ifndef MYNA_EMU_H
#define MYNA_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_card_cb;

/* What `mynacard-emu init` takes. */
struct emu_init_params {
    const char *auth_pin;    /* default "1234" */
    const char *sign_pin;    /* default "ABC123" */
    const char *name;        /* holder's name, UTF-8, family and given name
                              * separated by U+3000 (as EF 0002 of the
                              * card-info AP holds it); default a test name */
    const char *name_alt;    /* substitute characters of the name; may be NULL */
    const char *address;     /* default a test address */
    const char *address_alt; /* may be NULL */
    const char *birth;       /* EYYYYMMDD, era digit then date; default */
    const char *sex;         /* "1" male, "2" female, "3" other (as JPKI) */
    const char *city;        /* for the signature certificate's subject */
    const char *token_label; /* default "JPKIAPICCTOKEN2" */
    int not_before_days;     /* validity start, days from now (<= 0) */
    int valid_days;          /* validity length in days (5 years default);
                              * negative not_before + short validity makes
                              * an expired card */
    unsigned serial;         /* 0: random; makes certificates differ per card */
    const char *text_pin;    /* the card-info AP's PIN, 4 digits; default
                              * "1234" */
    const char *mfg_number;  /* the manufacture number, 13 printable ASCII
                              * characters; default "AB12345678901" */
};

void emu_init_params_default(struct emu_init_params *p);

/* Make a new card in @dir (created if missing; must not hold a card yet).
 * Writes DIR/softhsm2.conf, DIR/tokens/, DIR/card.state, the certificates
 * and token files, and the test CAs.  Returns 0 or -1 with a message on
 * stderr. */
int emu_card_init(const char *dir, const struct emu_init_params *p);

/* Card profiles: which real card the virtual one plays (doc/jpki-card.md,
 * "Which virtual-card profile models what").  Each behaviour of a profile
 * is also a switch of struct emu_options, which adds to the profile. */
enum emu_profile {
    EMU_PROFILE_DEFAULT = 0, /* $MYNACARD_EMU_PROFILE, else strict */
    EMU_PROFILE_CLASSIC,     /* the first model: a warm reset clears PINs */
    EMU_PROFILE_STRICT,      /* the card one source measured */
    EMU_PROFILE_CONTACTLESS  /* strict, read through a contactless reader */
};

/* "classic", "strict" or "contactless"; EMU_PROFILE_DEFAULT for anything
 * else (the caller says it is wrong). */
enum emu_profile emu_profile_from_name(const char *name);
const char *emu_profile_name(enum emu_profile p);
/* EMU_PROFILE_DEFAULT resolved: $MYNACARD_EMU_PROFILE if it names a
 * profile, else strict. */
enum emu_profile emu_profile_resolve(enum emu_profile p);

/* Switches for what is not known of the real card, and faults. */
struct emu_options {
    enum emu_profile profile;
    /* The behaviours, each on in some profile (strict: the first six;
     * contactless: all seven), or alone here. */
    bool warm_reset_keeps_pin; /* only a power-down clears verified PINs */
    bool powerup_6f00;         /* 6F00 to the first APDU after power comes
                                * back (a power-down, then up) */
    bool empty_verify_9000;    /* 9000 to an empty VERIFY of a verified PIN */
    bool sign_length_6985;     /* 6985 for a bad signature input length */
    bool select_mf_9000;       /* 9000 to 00 A4 00 00 while an application
                                * is selected */
    bool sign_pss;             /* COMPUTE DIGITAL SIGNATURE P1 04 and 05 */
    bool sign_pss_refused;     /* 6A86 to P1 04 and 05, whatever the
                                * profile: a card without the PSS mode */
    bool sign_pss_bad;         /* P1 04 and 05 answer 9000 with a PSS
                                * signature one bit of which is wrong */
    bool short_apdu_only;      /* the reader cannot carry extended-length
                                * APDUs: the transport fails them */
    uint8_t atr[33];           /* atr_len > 0: this ATR, not the profile's */
    size_t atr_len;
    bool reselect_clears_pin;  /* SELECT of the JPKI AP drops verified PINs */
    bool extended_length;      /* READ BINARY accepts extended Le */
    unsigned chain_chunk;      /* > 0: answer data in chunks of this size
                                * with 61xx, for GET RESPONSE */
    unsigned latency_apdu_us;  /* per APDU */
    unsigned latency_byte_us;  /* per byte each way */
    unsigned latency_sign_us;  /* per COMPUTE DIGITAL SIGNATURE */
    unsigned reset_after;      /* > 0: reset the card after this many APDUs */
    unsigned remove_after;     /* > 0: remove the card after this many APDUs */
    enum { EMU_CORRUPT_NONE, EMU_CORRUPT_SW, EMU_CORRUPT_TRUNCATE,
           EMU_CORRUPT_GARBAGE, EMU_CORRUPT_OVERLONG } corrupt;
    unsigned corrupt_after;    /* corrupt the answer to APDU number N (1-based)
                                * and every one after it */
    unsigned corrupt_count;    /* > 0: only this many answers from there */
    unsigned corrupt_ins;      /* > 0: only the answers to commands with this
                                * INS and data count and are corrupted */
    unsigned corrupt_sw;       /* the status word EMU_CORRUPT_SW puts in;
                                * 0: 6F00 */
    const char *log_path;      /* APDU log (PIN bytes redacted); NULL: none */
};

struct emu_card;

/* Open the card in @dir with @opt (copied; NULL for defaults).  Loads
 * SoftHSM with DIR/softhsm2.conf.  Returns 0 or -1 with a message on
 * stderr. */
int emu_card_open(const char *dir, const struct emu_options *opt,
                  struct emu_card **out);
void emu_card_close(struct emu_card *c);

/* Answer one command APDU.  Returns 0 with the response (data and SW) in
 * @resp; MYNA_E_CARD_RESET or MYNA_E_NO_CARD when a reset_after or
 * remove_after fault fires (the card then behaves as reset, or answers
 * MYNA_E_NO_CARD from then on); MYNA_E_BUFFER_SMALL if @cap is below
 * 258 + 2. */
int emu_card_apdu(struct emu_card *c, const uint8_t *cmd, size_t len,
                  uint8_t *resp, size_t cap, size_t *resplen);

/* A warm reset: the selection is lost; verified PINs too, unless the
 * card keeps them across a warm reset (warm_reset_keeps_pin). */
void emu_card_reset(struct emu_card *c);
/* Power down: verified PINs and the selection are lost, on every card.
 * Power up: with powerup_6f00, the next APDU is answered 6F00 (if the
 * card was powered down before). */
void emu_card_power_off(struct emu_card *c);
void emu_card_power_on(struct emu_card *c);
/* Both, as PC/SC's SCARD_UNPOWER_CARD does. */
void emu_card_power_cycle(struct emu_card *c);

/* The ATR: --atr's, or the profile's (contact: 3B E0 00 FF 81 31 FE 45
 * 14, the first seen on real cards; contactless: 3B 88 80 01 00 00 05 E0
 * B3 81 A1 00 7F). */
const uint8_t *emu_card_atr(const struct emu_card *c, size_t *len);
/* The profile the card plays (resolved). */
enum emu_profile emu_card_profile(const struct emu_card *c);

/* Tries left, for tests (what is persisted in DIR/card.state). */
int emu_card_tries(const struct emu_card *c,
                   int role /* 0 auth, 1 sign, 2 card info */);

/* How many APDUs the card has answered, and bytes each way (benchmarks). */
void emu_card_counters(const struct emu_card *c, unsigned long *apdus,
                       unsigned long *bytes_in, unsigned long *bytes_out);

/* Fill @cb so that the callback transport talks to @c. */
void emu_card_callbacks(struct emu_card *c, struct tp_card_cb *cb);

/* For a card that wraps another (a spy, a recorder) and whose context
 * starts with the wrapped card's struct tp_card_cb: its reset and unpower
 * callbacks, which pass the event on to the wrapped card. */
void emu_wrap_reset(void *ctx);
void emu_wrap_unpower(void *ctx);

#endif
