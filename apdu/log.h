/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Debug logging for the card layer and the module.  The module installs a
 * sink (a file, stderr); below it nobody knows where lines go.  Nothing
 * secret may ever be passed here: APDUs are logged through
 * myna_log_apdu(), which redacts command data the caller marked secret.
 */
#ifndef MYNA_LOG_H
#define MYNA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum myna_log_level {
    MYNA_LOG_OFF = 0,
    MYNA_LOG_ERROR = 1,
    MYNA_LOG_INFO = 2,
    MYNA_LOG_DEBUG = 3,  /* C_* calls and their results */
    MYNA_LOG_APDU = 4    /* and every APDU (secret data redacted) */
};

typedef void (*myna_log_sink)(void *ctx, const char *line);

/* Install @sink at @level; NULL sink or MYNA_LOG_OFF turns logging off.
 * Thread-safe against concurrent myna_log() calls. */
void myna_log_set(enum myna_log_level level, myna_log_sink sink, void *ctx);

/* True if a line at @level would be written: call before building costly
 * log text. */
bool myna_log_enabled(enum myna_log_level level);

void myna_log(enum myna_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log one command APDU (@out true) or response (@out false) as hex.  When
 * @redact is true, bytes after the 5-byte header (the PIN of a VERIFY or
 * CHANGE REFERENCE DATA, say) are written as "**" each, never their value. */
void myna_log_apdu(bool out, const uint8_t *buf, size_t len, bool redact);

#endif
