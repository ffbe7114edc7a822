/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Wiping a Jansson document before it is freed, for the two programs on
 * the card layer whose JSON may carry the holder's name and address:
 * mynacard-tool (status --personal under --json) and mynacard-mpa (the
 * card-info answers).  Layer: common/, a helper that tool/ and mpa/ both
 * link and that knows neither of them nor the card.
 */
#ifndef MYNA_JSON_WIPE_H
#define MYNA_JSON_WIPE_H

#include <jansson.h>

/* Wipe every string in @v (NULL allowed), through its objects and
 * arrays, with OPENSSL_cleanse; the caller frees it right after. */
void myna_json_wipe(json_t *v);

#endif
