/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Whether a buffer was wiped: the card-info tests and the card-info fuzz
 * target both check that a failed read leaves its output zero.
 */
#ifndef MYNA_ALL_ZERO_H
#define MYNA_ALL_ZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool all_zero(const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < len; i++) {
        if (b[i])
            return false;
    }
    return true;
}

#endif
