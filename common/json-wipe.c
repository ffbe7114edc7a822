/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * myna_json_wipe: every string of a Jansson document wiped before it is
 * freed (json-wipe.h says who needs it and why).  Layer: common/; Jansson
 * and OpenSSL only.
 */
#include <stddef.h>

#include <openssl/crypto.h>

#include "json-wipe.h"

void myna_json_wipe(json_t *v)
{
    size_t i;

    if (!v)
        return;
    if (json_is_string(v)) {
        /* Jansson owns the bytes; nothing else refers to them, and they
         * are freed right after. */
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    } else if (json_is_object(v)) {
        /* The iterator calls, not json_object_foreach: cppcheck cannot
         * see through that macro (unknownMacro). */
        for (void *it = json_object_iter(v); it;
             it = json_object_iter_next(v, it))
            myna_json_wipe(json_object_iter_value(it));
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            myna_json_wipe(json_array_get(v, i));
    }
}
