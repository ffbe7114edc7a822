/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The JPKI application of the My Number Card (and its relatives: the
 * 住基カード and the smartphone tokens), command by command, as described
 * in doc/jpki-card.md.  Layer: above the APDU codec, below
 * module/.  Knows nothing of PKCS#11.
 *
 * A struct jpki caches what is selected on the card so that no SELECT is
 * sent twice; it is forgotten whenever the transport reports a reset.
 * Every command below must run inside a transaction opened with
 * jpki_begin() and closed with jpki_end().  Not thread-safe: the module's
 * card-session manager serialises.
 *
 * PINs: the functions here never log a PIN, never keep it and never send
 * one twice; they wipe every copy they make.
 */
#ifndef MYNA_JPKI_H
#define MYNA_JPKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct transport;

/* The two key pairs; each has its own PIN. */
enum jpki_role {
    JPKI_AUTH = 0,  /* 利用者証明用: 4-digit PIN, 3 tries */
    JPKI_SIGN = 1   /* 署名用: 6-16 of A-Z 0-9, 5 tries */
};

enum jpki_cert {
    JPKI_CERT_AUTH = 0,     /* EF 000A, free */
    JPKI_CERT_AUTH_CA = 1,  /* EF 000B, free */
    JPKI_CERT_SIGN = 2,     /* EF 0001, needs the signature password */
    JPKI_CERT_SIGN_CA = 3   /* EF 0002, free */
};

enum jpki_token_kind {
    JPKI_KIND_UNKNOWN = 0,
    JPKI_KIND_MYNUMBER,      /* JPKIAPICCTOKEN2: My Number Card */
    JPKI_KIND_JUKI,          /* JPKIAPICCTOKEN: 住基カード */
    JPKI_KIND_PHONE_ANDROID, /* JPKIAPGPSETOKEN */
    JPKI_KIND_PHONE_IOS      /* JPKIAPIOSTOKEN */
};

#define JPKI_AUTH_PIN_LEN 4u
#define JPKI_SIGN_PIN_MIN 6u
#define JPKI_SIGN_PIN_MAX 16u
#define JPKI_PIN_MAX 16u
#define JPKI_AUTH_TRIES 3
#define JPKI_SIGN_TRIES 5
#define JPKI_SIG_LEN 256u          /* RSA-2048 */
#define JPKI_SIGN_INPUT_MAX 245u   /* 256 - 11 bytes of PKCS#1 type-1 padding */
#define JPKI_PSS_HASH_LEN 32u      /* P1 04 signs a SHA-256 hash */
#define JPKI_TOKEN_INFO_MAX 256u

extern const uint8_t JPKI_AID[10];

struct jpki_token_info {
    char label[33];                  /* first 32 bytes, trailing spaces cut */
    enum jpki_token_kind kind;
    uint8_t raw[JPKI_TOKEN_INFO_MAX];/* the file as read (up to 256 bytes) */
    size_t raw_len;
};

/* How READ BINARY may use extended lengths (unknown on real cards). */
enum jpki_ext_mode {
    JPKI_EXT_NEVER = 0,  /* short APDUs only: works on every card */
    JPKI_EXT_AUTO,       /* try once per card; on an error status word fall
                          * back to short APDUs and remember */
    JPKI_EXT_ALWAYS
};

struct jpki;

/* A JPKI handle over @t, which it does not own.  Returns 0 or
 * MYNA_E_NOMEM. */
int jpki_new(struct transport *t, struct jpki **out);
void jpki_free(struct jpki *j);
void jpki_set_ext_mode(struct jpki *j, enum jpki_ext_mode mode);

/* Open a transaction.  Returns 0; MYNA_E_CARD_RESET when the card was
 * reset since the last one (the transaction is open all the same and the
 * selection cache is forgotten: the caller must forget what it knew, a
 * verified PIN above all); or a transport error (no transaction). */
int jpki_begin(struct jpki *j);
/* Close it; @unpower powers the card down, leaving no verified PIN
 * behind (a warm reset does not on every card).  The next command then
 * copes with the 6F00 a card may give first after power-up. */
int jpki_end(struct jpki *j, bool unpower);
/* Forget what is selected (another program may have changed it). */
void jpki_forget(struct jpki *j);

/* Select the JPKI AP (no-op if the cache says it is selected).  Returns
 * 0, MYNA_E_NOT_JPKI when the card has no such application, or an error. */
int jpki_select_ap(struct jpki *j);

/* Read EF 0006 and classify the token.  Returns 0 or an error. */
int jpki_read_token_info(struct jpki *j, struct jpki_token_info *out);
/* The same with only the label read (its first 32 bytes; raw_len is then
 * at most 32): all the module needs, and 224 bytes fewer on a contact
 * line that moves about 4 bytes a millisecond. */
int jpki_read_token_label(struct jpki *j, struct jpki_token_info *out);

/* Read a certificate; its length comes from its DER header (short and
 * long forms), the FF filler after it is never read, a short last chunk
 * is accepted.  *@der is malloc'd for the caller, who frees it (and
 * cleanses it first for JPKI_CERT_SIGN: it is personal data).  Returns 0,
 * MYNA_E_SECURITY for the signature certificate before its password,
 * MYNA_E_BAD_RESPONSE for a malformed file, or an error. */
int jpki_read_cert(struct jpki *j, enum jpki_cert which, uint8_t **der,
                   size_t *len);

/* Check a PIN's format without any card.  For JPKI_SIGN, lowercase a-z
 * are folded to uppercase into @norm (JPKI_PIN_MAX bytes), because the
 * card compares bytes; for JPKI_AUTH it is copied.  Returns 0,
 * MYNA_E_PIN_LEN or MYNA_E_PIN_FORMAT.  The caller wipes @norm. */
int jpki_pin_normalize(enum jpki_role role, const uint8_t *pin, size_t len,
                       uint8_t *norm, size_t *normlen);

/* Tries left for @role's PIN, without spending one (VERIFY with no data).
 * Most cards answer 63Cx even when the PIN is verified; some answer 9000
 * then, which sets *@tries to the maximum (a correct PIN resets the
 * counter) and *@verified (may be NULL) to true.  0 tries means blocked.
 * Returns 0 or an error. */
int jpki_pin_status(struct jpki *j, enum jpki_role role, int *tries,
                    bool *verified);
/* The same without the verified flag. */
int jpki_pin_tries(struct jpki *j, enum jpki_role role, int *tries);

/* VERIFY @pin (already normalised: the format is checked again and a bad
 * one never sent).  Returns 0; MYNA_E_PIN_INCORRECT with *@tries_left set;
 * MYNA_E_PIN_LOCKED (*@tries_left 0); or an error.  @tries_left may be
 * NULL.  Never retries. */
int jpki_verify(struct jpki *j, enum jpki_role role, const uint8_t *pin,
                size_t len, int *tries_left);

/* CHANGE REFERENCE DATA to @newpin, after a successful jpki_verify() of
 * the old one in the same card session.  Format checked first. */
int jpki_change_pin(struct jpki *j, enum jpki_role role,
                    const uint8_t *newpin, size_t len);

/* COMPUTE DIGITAL SIGNATURE over @in (1..245 bytes, normally a DER
 * DigestInfo; the card adds PKCS#1 v1.5 type-1 padding).  @sig must hold
 * JPKI_SIG_LEN bytes.  Returns 0, MYNA_E_SECURITY when the PIN is not
 * verified, MYNA_E_ARGS for a bad length, or an error. */
int jpki_sign(struct jpki *j, enum jpki_role role, const uint8_t *in,
              size_t inlen, uint8_t *sig, size_t cap, size_t *siglen);

/* COMPUTE DIGITAL SIGNATURE with P1 04: an RSASSA-PSS signature over
 * @hash, a 32-byte SHA-256 hash (doc/jpki-card.md, "Signing P1 values":
 * one source; the salt is not stated).  The caller must check the result:
 * a card that does not do it may answer anything.  Returns as jpki_sign();
 * MYNA_E_P1P2 when the card refuses P1 04 (6A86). */
int jpki_sign_pss(struct jpki *j, enum jpki_role role,
                  const uint8_t hash[JPKI_PSS_HASH_LEN], uint8_t *sig,
                  size_t cap, size_t *siglen);

/* GET CHALLENGE: @len random bytes (1..256 per APDU; more in rounds). */
int jpki_get_challenge(struct jpki *j, uint8_t *out, size_t len);

/* The token kind for a token-info label (exported for tests and tools). */
enum jpki_token_kind jpki_kind_from_label(const char *label);
const char *jpki_kind_name(enum jpki_token_kind kind);

#endif
