/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * What jpki.c lends to the card's other applications (cardinfo.c): one
 * selection cache and one exchange per card, so that selecting another
 * application makes jpki.c forget the JPKI AP and its EF (the next JPKI
 * command selects them again), and no transport code is duplicated.
 * Layer: the card's applications, beside jpki.c; not for module/.  Same
 * rules as jpki.h: inside jpki_begin()/jpki_end(), not thread-safe.
 */
#ifndef MYNA_JPKI_INTERNAL_H
#define MYNA_JPKI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct apdu;
struct jpki;

#define JPKI_OTHER_AID_MAX 16u

/* Select the application @aid (5 to 16 bytes, not the JPKI AP) by DF name,
 * unless the cache says it is selected.  The JPKI AP and its EF are
 * forgotten either way.  Returns 0, MYNA_E_NOT_FOUND (6A82: the card has
 * no such application), or an error. */
int jpki_select_other_ap(struct jpki *j, const uint8_t *aid, size_t aidlen);

/* Select EF @fid in the application @aid, selecting the application first
 * when needed.  When the cache believed @aid selected and the card says
 * 6A82 (another program selected something else between our
 * transactions), the application and the EF are selected again, once.
 * Returns 0, MYNA_E_NOT_FOUND, or an error. */
int jpki_select_other_ef(struct jpki *j, const uint8_t *aid, size_t aidlen,
                         uint16_t fid);

/* One exchange through jpki.c's (a failure forgets the selection; a 6F00
 * is answered once more unless @a carries a PIN).  Returns 0 with the
 * status word in *@sw, MYNA_E_BAD_RESPONSE for an answer longer than
 * @cap, or a transport error. */
int jpki_transmit(struct jpki *j, const struct apdu *a, uint8_t *resp,
                  size_t cap, size_t *resplen, uint16_t *sw);

/* READ BINARY of up to @le (1..256) bytes at @offset of the selected EF,
 * short APDU.  Returns 0 with *@sw (the caller maps it), or an error. */
int jpki_read_binary_short(struct jpki *j, size_t offset, size_t le,
                           uint8_t *out, size_t *outlen, uint16_t *sw);

/* Read bytes @got to @total of the selected EF into @buf, in short or
 * extended READ BINARYs as the extended-length mode says (as
 * jpki_read_cert() does).  Returns 0, MYNA_E_BAD_RESPONSE when the file
 * ends early, or an error. */
int jpki_read_rest(struct jpki *j, uint8_t *buf, size_t got, size_t total);

/* What the card's answer @sw to a VERIFY with a PIN says: 0 (verified),
 * MYNA_E_PIN_INCORRECT with *@tries_left, MYNA_E_PIN_LOCKED (63C0, 6983,
 * 6984; *@tries_left 0), or the error of any other status word.  The one
 * mapping of every application's VERIFY.  @tries_left may be NULL. */
int jpki_verify_result(uint16_t sw, int *tries_left);

/* What the card's answer @sw to a VERIFY without data says of the tries
 * left, into *@tries: 63Cx; 0 for 6983/6984; @max for 9000 (a verified
 * PIN, *@verified set when not NULL).  Returns 0, or the error of any
 * other status word.  The one mapping of every application's counter. */
int jpki_tries_result(uint16_t sw, int max, int *tries, bool *verified);

/* Mark the answers that follow as personal data (the APDU layer then
 * masks them in its log and wipes its buffers), or stop doing so. */
void jpki_set_personal(struct jpki *j, bool personal);

#endif
