/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Debug logging for the card layer and the module: one global level and
 * sink, guarded by a mutex.  Layer: the bottom of apdu/; calls only libc
 * and pthreads, and the sink the module installed.  Off by default, so a
 * library that nobody configured writes nothing anywhere.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* One formatted line; longer lines are cut and end in "...". */
#define LOG_LINE_MAX 1024u
/* An APDU line shows at most this many bytes, then how many there were:
 * a 64 KiB READ BINARY answer would otherwise make a 192 KiB line. */
#define LOG_APDU_BYTES_MAX 300u

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static myna_log_sink log_sink;      /* under log_lock */
static void *log_ctx;               /* under log_lock */
/* Read without the lock by myna_log_enabled(), which is called before
 * building every line: an atomic keeps that check cheap and race-free. */
static _Atomic int log_level = MYNA_LOG_OFF;

void myna_log_set(enum myna_log_level level, myna_log_sink sink, void *ctx)
{
    pthread_mutex_lock(&log_lock);
    if (!sink || level <= MYNA_LOG_OFF) {
        log_sink = NULL;
        log_ctx = NULL;
        atomic_store(&log_level, MYNA_LOG_OFF);
    } else {
        if (level > MYNA_LOG_APDU)
            level = MYNA_LOG_APDU;
        log_sink = sink;
        log_ctx = ctx;
        atomic_store(&log_level, (int)level);
    }
    pthread_mutex_unlock(&log_lock);
}

bool myna_log_enabled(enum myna_log_level level)
{
    if (level <= MYNA_LOG_OFF)
        return false;
    return (int)level <= atomic_load(&log_level);
}

/*
 * Hand @line to the sink.  The sink is called with log_lock held, so that
 * once myna_log_set() returns the old sink is never called again (the
 * module may close its file right after).  A sink must therefore not log.
 */
static void log_emit(enum myna_log_level level, const char *line)
{
    pthread_mutex_lock(&log_lock);
    if (log_sink && (int)level <= atomic_load(&log_level))
        log_sink(log_ctx, line);
    pthread_mutex_unlock(&log_lock);
}

void myna_log(enum myna_log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    int n;

    if (!myna_log_enabled(level) || !fmt)
        return;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        memcpy(line + sizeof(line) - 4, "...", 4);
    log_emit(level, line);
}

static const char hexdigits[] = "0123456789ABCDEF";

void myna_log_apdu(bool out, const uint8_t *buf, size_t len, bool redact)
{
    /* "> " + 3 chars a byte + the tail note; sized with room to spare. */
    char line[2 + 3 * LOG_APDU_BYTES_MAX + 64];
    size_t shown, pos = 0, i;
    size_t redact_from;

    if (!myna_log_enabled(MYNA_LOG_APDU))
        return;
    if (!buf)
        len = 0;

    /*
     * A command keeps its 4 header bytes and the Lc byte visible; its data
     * (and anything after) is masked.  A response has no header: when a
     * caller asks to redact one, only its status word stays visible.
     */
    if (out)
        redact_from = 5;
    else
        redact_from = 0;

    line[pos++] = out ? '>' : '<';
    shown = len < LOG_APDU_BYTES_MAX ? len : LOG_APDU_BYTES_MAX;
    for (i = 0; i < shown; i++) {
        bool mask = redact && i >= redact_from;

        if (!out && i + 2 >= len)
            mask = false;   /* SW1 SW2 */
        line[pos++] = ' ';
        if (mask) {
            line[pos++] = '*';
            line[pos++] = '*';
        } else {
            line[pos++] = hexdigits[buf[i] >> 4];
            line[pos++] = hexdigits[buf[i] & 0x0f];
        }
    }
    line[pos] = '\0';
    /* A long response still shows its status word, the part one reads. */
    if (shown < len && !out && len >= 2)
        snprintf(line + pos, sizeof(line) - pos, " ... %02X %02X (%zu bytes)",
                 buf[len - 2], buf[len - 1], len);
    else if (shown < len)
        snprintf(line + pos, sizeof(line) - pos, " ... (%zu bytes)", len);
    log_emit(MYNA_LOG_APDU, line);
}
