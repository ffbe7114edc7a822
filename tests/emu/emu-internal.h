/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Internals shared by the files of the virtual card: the persistent card
 * state (emu-state.c), the file helpers, and the SoftHSM2 instances the
 * card's keys live in (emu-hsm.c).  Not part of the emu.h contract: only
 * the emulator's own files include it.
 */
#ifndef MYNA_EMU_INTERNAL_H
#define MYNA_EMU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

/* The longest PIN either PIN file accepts (the signature password). */
#define EMU_PIN_MAX 16
#define EMU_AUTH_TRIES_MAX 3
#define EMU_SIGN_TRIES_MAX 5
/* The card-info input support AP's 4-digit PIN (EF 0011). */
#define EMU_TEXT_TRIES_MAX 3
#define EMU_TEXT_PIN_DEFAULT "1234"
/* The manufacture number: characters 2 to 14 of its record's value. */
#define EMU_MFG_NUMBER_LEN 13
/* The internal SoftHSM PINs: hex of 16 random bytes. */
#define EMU_HSM_PIN_LEN 32
/* The label of the SoftHSM token inside the card directory. */
#define EMU_HSM_TOKEN_LABEL "mynacard-emu"
/* CKA_ID and CKA_LABEL of the two key pairs. */
#define EMU_KEY_AUTH "auth"
#define EMU_KEY_SIGN "sign"

#define EMU_STATE_FILE "card.state"
#define EMU_CONF_FILE "softhsm2.conf"
/* The two small applications beside JPKI (doc/jpki-card.md): the
 * manufacture-number AP's record 1 of short EF 1, and the card-info input
 * support AP's EF 0002 (test data, made by emu_card_init from the same
 * parameters as the signature certificate). */
#define EMU_MFG_RECORD_FILE "mfg-record1.bin"
#define EMU_CARDINFO_FILE "cardinfo-0002.bin"

/* What DIR/card.state holds.  The PINs are kept in clear: this is a test
 * card with fake data, and the file is 0600. */
struct emu_state {
    char auth_pin[EMU_PIN_MAX + 1];
    char sign_pin[EMU_PIN_MAX + 1];
    int auth_tries;
    int sign_tries;
    /* The card-info AP's PIN; cards made before it existed get the
     * default and a full counter when they are loaded. */
    char text_pin[EMU_PIN_MAX + 1];
    int text_tries;
    char hsm_user_pin[EMU_HSM_PIN_LEN + 1];
    char hsm_so_pin[EMU_HSM_PIN_LEN + 1];
};

/* Read DIR/card.state.  Returns 0, or -1 with a message on stderr. */
int emu_state_load(const char *dir, struct emu_state *st);

/* Write DIR/card.state atomically: a temporary file, fsync, rename, fsync
 * of the directory.  When it returns 0 the new counters survive a kill or
 * a power loss.  Returns 0 or -1 (errno kept, message on stderr). */
int emu_state_save(const char *dir, const struct emu_state *st);

/* Wipe the PINs a state holds. */
void emu_state_wipe(struct emu_state *st);

/* Write @len bytes to @path atomically (as emu_state_save does) with
 * permissions @mode.  Returns 0 or -1 with errno set. */
int emu_write_file(const char *path, const void *data, size_t len,
                   mode_t mode);

/* Read the whole of @path (at most 1 MiB) into a new buffer.  Returns 0, or
 * -1 with errno set. */
int emu_read_file(const char *path, uint8_t **data, size_t *len);

/* Write DIR/softhsm2.conf (tokens in DIR/tokens) unless it already says
 * exactly that: a card directory copied with cp -a must not keep using
 * the original's tokens.  @dir must be absolute.  Returns 0 or -1 with a
 * message on stderr. */
int emu_write_conf(const char *dir);

/* A malloc'd "DIR/NAME", or NULL. */
char *emu_path(const char *dir, const char *name);

/* The 4-digit authentication PIN, or the 6 to 16 character signature
 * password of A-Z and 0-9, or the card-info AP's 4-digit PIN (@role 0
 * auth, 1 sign, 2 card info). */
bool emu_pin_format_ok(int role, const uint8_t *pin, size_t len);

/*
 * A SoftHSM2 library initialised with one card's DIR/softhsm2.conf.
 * SoftHSM is a process-wide singleton and reads SOFTHSM2_CONF only in
 * C_Initialize, so each card open at the same time needs its own copy of
 * the library: the first card uses the installed file, later ones a
 * private copy (dlopen of another path loads a separate instance).
 * Instances are never dlclose'd (SoftHSM and OpenSSL do not like being
 * unloaded); a finalised one is reused by the next card.  Thread-safe.
 */
struct emu_hsm;

/* Initialise a SoftHSM instance for the card in @dir.  Returns 0 or -1
 * with a message on stderr. */
int emu_hsm_open(const char *dir, struct emu_hsm **out);
CK_FUNCTION_LIST *emu_hsm_fn(const struct emu_hsm *h);
/* C_Finalize and give the instance back to the pool. */
void emu_hsm_close(struct emu_hsm *h);

/* The slot of the card's token (label EMU_HSM_TOKEN_LABEL).  Returns 0 or
 * -1. */
int emu_hsm_find_token(struct emu_hsm *h, CK_SLOT_ID *slot);

/* The first object of class @cls with CKA_ID @id in @s.  Returns 0 or -1. */
int emu_hsm_find_key(struct emu_hsm *h, CK_SESSION_HANDLE s,
                     CK_OBJECT_CLASS cls, const char *id,
                     CK_OBJECT_HANDLE *out);

#endif
