/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-mpa: the native messaging host (host name mynacard.mynaportal)
 * that lets Mynaportal and e-Tax use the card from a Linux browser, as the
 * official "MPA" does on Windows (the protocol, as this host speaks it:
 * doc/mynacard-mpa.1, REQUESTS and ERRORS).  Layer: a program beside module/,
 * built directly on the card layer (apdu/: jpki_*, cardinfo_*, the PC/SC
 * hub), never through PKCS#11.  One file per concern: frame.c (the 4-byte
 * length framing), request.c (parsing and checking a request), answer.c
 * (the answers and the error table), ident.c (uuid and combination_code),
 * card.c (the card, mode by mode), mpa.c (the dispatcher), main.c.
 *
 * Every byte from the browser is untrusted: a message is at most
 * MPA_MSG_MAX bytes, every field is checked for type, length and alphabet
 * before anything reaches the card.  PINs live only in a fixed buffer of
 * the request, are wiped right after their VERIFY (and the parser's and
 * the input's copies right after parsing), are never logged or written,
 * never sent when malformed or when the card says the PIN is blocked, and
 * never sent twice.  The signature certificate and the card-info fields
 * are personal data: they go only into the answer, which is wiped after it
 * is written.
 */
#ifndef MYNA_MPA_H
#define MYNA_MPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cardinfo.h"
#include "jpki.h"

struct tp_hub;

#define MPA_HOST_NAME "mynacard.mynaportal"
/* Chromium allows a host 4 GB per message; no request of this protocol
 * needs more than a few KiB. */
#define MPA_MSG_MAX (64u * 1024u)
/* Mode 02 signs an array of digests; the sites send one or a few. */
#define MPA_DIGESTS_MAX 16u
/* A PIN field longer than this is refused as malformed before any check
 * (the longest valid one, the signature password, has 16 characters). */
#define MPA_PIN_FIELD_MAX 64u
#define MPA_UUID_LEN 16u

/* ---- Framing (frame.c) ---- */
enum mpa_frame_status {
    MPA_FRAME_OK = 0,
    MPA_FRAME_EOF = 1,        /* clean end of input before a length */
    MPA_FRAME_TRUNCATED = -1, /* input ended inside a length or a message */
    MPA_FRAME_TOO_BIG = -2,   /* the length is over MPA_MSG_MAX: not read */
    MPA_FRAME_EMPTY = -3,     /* a length of 0 */
    MPA_FRAME_NOMEM = -4
};
/* The length prefix: 4 bytes, little-endian.  Pure. */
uint32_t mpa_frame_len(const uint8_t hdr[4]);
/* Read one message from @in into *@buf (malloc'd, @len bytes plus a NUL,
 * never more than MPA_MSG_MAX + 1 bytes; the caller wipes and frees it).
 * The length is checked before anything is allocated. */
int mpa_frame_read(FILE *in, uint8_t **buf, size_t *len);
/* Write @len bytes as one message and flush.  Returns 0 or -1. */
int mpa_frame_write(FILE *out, const char *msg, size_t len);

/* ---- Errors of this program (answer.c) ---- */
enum mpa_err {
    MPA_OK = 0,
    MPA_E_BAD_REQUEST,    /* not JSON, not an object, a field of the wrong
                           * type or size */
    MPA_E_BAD_MODE,       /* no mode, or one we do not know */
    MPA_E_BAD_SERVICE,    /* service_id is not "01" */
    MPA_E_BAD_DIGEST,     /* digest missing, not base64, empty, too long,
                           * too many */
    MPA_E_TOO_BIG,        /* the message is over MPA_MSG_MAX */
    MPA_E_BAD_FRAME,      /* the input ended inside a message */
    MPA_E_PIN_MISSING,
    MPA_E_PIN_FORMAT,     /* not sent */
    MPA_E_PIN_INCORRECT,  /* one try spent */
    MPA_E_PIN_LOCKED,     /* blocked: not sent */
    MPA_E_NO_SERVICE,     /* pcscd */
    MPA_E_NO_READER,
    MPA_E_NO_CARD,
    MPA_E_NOT_JPKI,       /* no JPKI application: not a My Number Card */
    MPA_E_NO_APP,         /* no manufacture-number or card-info AP */
    MPA_E_CARD,           /* the card failed or answered nonsense */
    MPA_E_SIG_INVALID,    /* the card's signature does not verify */
    MPA_E_CONFIG,         /* the uuid file cannot be read or written */
    MPA_E_INTERNAL
};
/* The stable short code ("PIN_INCORRECT", ...) of @e.  Never NULL. */
const char *mpa_errcode(enum mpa_err e);
/* What happened and what to do, in English and in Japanese. */
const char *mpa_message_en(enum mpa_err e);
const char *mpa_message_ja(enum mpa_err e);
/* The mpa_err for a card-layer error (enum myna_err). */
enum mpa_err mpa_err_from_card(int err);

/* ---- Requests (request.c) ---- */
enum mpa_mode {
    MPA_MODE_NONE = 0,
    MPA_MODE_AUTH,      /* "01" */
    MPA_MODE_SIGN,      /* "02" */
    MPA_MODE_CARDINFO,  /* "04" */
    MPA_MODE_END,       /* "05" */
    MPA_MODE_CHECK,     /* "check" (ours) */
    MPA_MODE_TRIES      /* "tries" (ours) */
};

struct mpa_request {
    enum mpa_mode mode;
    /* mode 01: one digest; 02: one or more (digest_array: it came as an
     * array, and the answer's signature is an array either way). */
    uint8_t digest[MPA_DIGESTS_MAX][JPKI_SIGN_INPUT_MAX];
    size_t digest_len[MPA_DIGESTS_MAX];
    size_t ndigests;
    /* The PIN as the request gave it (not yet format-checked: that is
     * done by the mode, so that the answer can say so). */
    uint8_t pin[MPA_PIN_FIELD_MAX];
    size_t pin_len;
    bool has_pin;
    bool pin_too_long;
    /* mode tries: which PIN, as a mode ("01", "02", "04"). */
    enum mpa_mode tries_for;
};

/* The mode string of @m ("01", ..., "check"); NULL for MPA_MODE_NONE. */
const char *mpa_mode_name(enum mpa_mode m);
/* Parse @len bytes of @buf (untrusted).  Fills @rq and returns MPA_OK, or
 * an error with rq->mode set when the mode itself was understood.  The
 * parser's copy of the PIN is wiped before this returns; the caller wipes
 * @buf, and @rq with mpa_request_clear(). */
enum mpa_err mpa_request_parse(const uint8_t *buf, size_t len,
                               struct mpa_request *rq);
void mpa_request_clear(struct mpa_request *rq);

/* Strict base64 (RFC 4648 alphabet, padding optional but only at the end
 * and only as much as the length needs, no whitespace) into @out (@cap
 * bytes).  Returns the length, or -1.  Pure. */
long mpa_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap);
/* Exactly four ASCII digits (the card-info PIN).  Pure. */
bool mpa_cardinfo_pin_ok(const uint8_t *pin, size_t len);

/* ---- Identity (ident.c) ---- */
/* The uuid file: $XDG_CONFIG_HOME/mynacard/mpa.json when XDG_CONFIG_HOME
 * is absolute, else $HOME/.config/mynacard/mpa.json.  Returns 0 or -1. */
int mpa_uuid_path(char *buf, size_t cap);
/* Load the uuid from @path, or make one (16 random bytes) and write it
 * there (mode 0600, directories 0700) when the file does not exist.
 * Returns 0 or -1 (a file that exists but is malformed is an error, not
 * replaced: the site knows this installation by it). */
int mpa_uuid_load(const char *path, uint8_t uuid[MPA_UUID_LEN]);
/* hex(SHA-256(magic || @mfg (13 ASCII) || @uuid)) into @out (65 bytes). */
void mpa_combination_code(const char *mfg, const uint8_t uuid[MPA_UUID_LEN],
                          char out[65]);
/* Lowercase hex of @len bytes into @out (2 * @len + 1 bytes).  Pure. */
void mpa_hex(const uint8_t *in, size_t len, char *out);

/* ---- The program (mpa.c, card.c) ---- */
struct mpa_ctx {
    /* The readers: NULL means a PC/SC hub made for each request (the card
     * is not held between messages); the fuzzer and tests give their
     * own, not freed here. */
    struct tp_hub *hub;
    /* The uuid file; empty means mpa_uuid_path(). */
    char uuid_path[4096];
};

/* Make every block Jansson frees wiped first: its parser keeps copies of
 * the strings it reads (the PIN among them) in buffers of its own, which
 * it frees without wiping.  Call once, before any JSON is parsed. */
void mpa_json_wipe_on_free(void);

/* Answer one message (@len bytes of @buf, untrusted).  Returns the
 * answer as a malloc'd NUL-terminated JSON string in *@answer (the caller
 * wipes and frees it), or NULL for mode 05 (no answer: the program ends);
 * *@end is set when the program must end after writing it. */
void mpa_handle(struct mpa_ctx *ctx, const uint8_t *buf, size_t len,
                char **answer, bool *end);
/* An error answer for a framing problem (no request to go with it). */
char *mpa_frame_error(enum mpa_err e);

/* What a mode gives back besides its answer fields. */
struct mpa_outcome {
    enum mpa_err err;
    int tries_left;   /* -1 when not known */
};
/* The modes that talk to the card (card.c).  Each adds its answer's
 * fields to @ans on success; on error it sets @out and @ans is thrown
 * away.  Modes 01, 02 and 04 load (or make) the uuid once the card has
 * answered, so that a missing reader or card leaves no file behind. */
void mpa_card_auth_sign(struct mpa_ctx *ctx, struct mpa_request *rq,
                        json_t *ans, struct mpa_outcome *out);
void mpa_card_cardinfo(struct mpa_ctx *ctx, struct mpa_request *rq,
                       json_t *ans, struct mpa_outcome *out);
void mpa_card_tries(struct mpa_ctx *ctx, enum mpa_mode which, json_t *ans,
                    struct mpa_outcome *out);
void mpa_card_check(struct mpa_ctx *ctx, json_t *ans, struct mpa_outcome *out);

#endif
