/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Just enough DER to learn how long a certificate on the card is from its
 * first bytes.  Pure functions over byte arrays; every byte is untrusted.
 */
#ifndef MYNA_DER_H
#define MYNA_DER_H

#include <stddef.h>
#include <stdint.h>

/* The most a JPKI certificate file may claim to hold.  Real ones are about
 * 1.3 to 2 KiB; anything larger is hostile or broken. */
#define DER_CERT_MAX 16384u

/*
 * Parse the tag and length of the DER element at the start of @buf
 * (@len bytes available, which may be fewer than the element).  Sets
 * *@hdrlen (tag + length bytes) and *@total (header + content).
 * Accepts only a one-byte tag, short-form lengths and long forms of 1 to 4
 * length bytes, minimally encoded as DER requires.  Returns 0,
 * MYNA_E_BAD_RESPONSE for indefinite, non-minimal, oversized (> @max total)
 * or overflowing lengths, or for too few bytes to read the header.
 */
int der_element_length(const uint8_t *buf, size_t len, size_t max,
                       size_t *hdrlen, size_t *total);

/* The total length of a certificate: the outer element must be a
 * SEQUENCE (0x30) of at most DER_CERT_MAX bytes.  Returns as above. */
int der_cert_length(const uint8_t *buf, size_t len, size_t *total);

#endif
