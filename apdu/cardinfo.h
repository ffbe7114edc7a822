/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The My Number Card's two small applications beside JPKI that the
 * Mynaportal protocol needs (doc/jpki-card.md, "Applications"):
 *
 *  - the manufacture-number AP (製造番号, D3 92 10 00 31 00 01 01 01 00):
 *    READ RECORD 1 of short EF 1; one BER TLV whose value is an ASCII
 *    string; the number is its characters 2 to 14;
 *  - the card-info input support AP (券面事項入力補助AP,
 *    D3 92 10 00 31 00 01 01 04 08): a 4-digit PIN (EF 0011, its own
 *    counter of 3) guards EF 0002, which holds the holder's name, address,
 *    birth date and sex.
 *
 * Layer: beside jpki.c, on the same struct jpki (one selection cache per
 * card: selecting one of these APs deselects JPKI, and jpki.c must know).
 * Same rules as jpki.h: every call inside jpki_begin()/jpki_end(); a PIN
 * is checked for format before it can reach the card, never logged, never
 * kept, never sent twice; every byte from the card is bounded.
 *
 * The card-info fields are personal data: the caller wipes them with
 * cardinfo_clear() as soon as it is done, and never writes them anywhere
 * but to the party the user consented to.
 */
#ifndef MYNA_CARDINFO_H
#define MYNA_CARDINFO_H

#include <stddef.h>
#include <stdint.h>

struct jpki;

extern const uint8_t MYNA_MFG_AID[10];
extern const uint8_t MYNA_CARDINFO_AID[10];

#define MYNA_MFG_NUMBER_LEN 13u       /* characters 2..14 of the record */
#define MYNA_CARDINFO_PIN_LEN 4u
#define MYNA_CARDINFO_TRIES 3
#define MYNA_CARDINFO_FIELD_MAX 512u  /* bytes of UTF-8 per field */

/* Read the manufacture number into @out (13 ASCII characters, NUL
 * terminated).  Returns 0; MYNA_E_NOT_FOUND when the card has no such
 * application; MYNA_E_BAD_RESPONSE when the record is malformed, shorter
 * than 15 characters or not printable ASCII; or an error. */
int myna_read_mfg_number(struct jpki *j, char out[MYNA_MFG_NUMBER_LEN + 1]);
/* Parse the record itself (exported for tests and the fuzzer). */
int myna_parse_mfg_record(const uint8_t *rec, size_t len,
                          char out[MYNA_MFG_NUMBER_LEN + 1]);

/* Tries left for the card-info PIN, without spending one (VERIFY with no
 * data, as jpki_pin_status()).  0 means blocked.  Returns 0 or an error. */
int cardinfo_pin_tries(struct jpki *j, int *tries);

/* VERIFY the card-info PIN: exactly 4 ASCII digits, else MYNA_E_PIN_LEN /
 * MYNA_E_PIN_FORMAT and nothing is sent.  Returns 0; MYNA_E_PIN_INCORRECT
 * with *@tries_left; MYNA_E_PIN_LOCKED (*@tries_left 0); or an error.
 * @tries_left may be NULL.  Never retries. */
int cardinfo_verify(struct jpki *j, const uint8_t *pin, size_t len,
                    int *tries_left);

/* The four facts, each the UTF-8 bytes as the card holds them (NUL
 * terminated for convenience; @*_len excludes the NUL). */
struct cardinfo {
    char name[MYNA_CARDINFO_FIELD_MAX + 1];     /* DF22 */
    size_t name_len;
    char address[MYNA_CARDINFO_FIELD_MAX + 1];  /* DF23 */
    size_t address_len;
    char birth[MYNA_CARDINFO_FIELD_MAX + 1];    /* DF24, YYYYMMDD */
    size_t birth_len;
    char sex[MYNA_CARDINFO_FIELD_MAX + 1];      /* DF25, "1" "2" or "9" */
    size_t sex_len;
};

/* Read EF 0002 after cardinfo_verify() in the same transaction and parse
 * it (bounded: a malformed or oversized file is MYNA_E_BAD_RESPONSE, never
 * a partial answer).  Returns 0, MYNA_E_SECURITY when the PIN is not
 * verified, or an error.  On any error @out is wiped. */
int cardinfo_read(struct jpki *j, struct cardinfo *out);

/* Parse the contents of EF 0002 (exported for tests and the fuzzer). */
int cardinfo_parse(const uint8_t *buf, size_t len, struct cardinfo *out);

/* Wipe @ci (OPENSSL_cleanse). */
void cardinfo_clear(struct cardinfo *ci);

#endif
