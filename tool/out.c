/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Output of mynacard-tool: text for people on stdout by default, or one
 * JSON object under --json, and complaints on stderr in both cases.
 * Layer: tool/; calls stdio only.  The JSON writer keeps a small stack of
 * "first member yet?" flags so that commands emit members in order
 * without caring about commas.  Everything that came from a card is
 * untrusted: it is escaped here, never by the caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define JO_DEPTH_MAX 16

static bool jo_first[JO_DEPTH_MAX];
static char jo_closer[JO_DEPTH_MAX];  /* what ends each open level */
static unsigned jo_depth;
static bool jo_started;
static bool say_stderr;     /* export: stdout carries the certificate */

void say_to_stderr(bool on)
{
    say_stderr = on;
}

void say(const char *fmt, ...)
{
    va_list ap;

    if (tool_opt.json)
        return;
    va_start(ap, fmt);
    vfprintf(say_stderr ? stderr : stdout, fmt, ap);
    va_end(ap);
}

void complain(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("mynacard-tool: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void text_sanitize(const char *s, char *out, size_t cap)
{
    size_t i, n;

    if (cap == 0)
        return;
    n = s ? strlen(s) : 0;
    if (n > cap - 1)
        n = cap - 1;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        /* C0 controls and DEL could move the cursor or retitle the
         * terminal; bytes >= 0x80 are left for UTF-8 text. */
        out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[n] = '\0';
}

void say_text(const char *s)
{
    char buf[1024];

    if (tool_opt.json)
        return;
    text_sanitize(s, buf, sizeof(buf));
    fputs(buf, say_stderr ? stderr : stdout);
}

/* The length of the valid UTF-8 sequence at @p (@n bytes left), or 0.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned cp;
    size_t len, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        cp = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        cp = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

void json_write_string(FILE *fp, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;

    fputc('"', fp);
    while (i < len) {
        unsigned char ch = p[i];

        switch (ch) {
        case '"':
            fputs("\\\"", fp);
            i++;
            continue;
        case '\\':
            fputs("\\\\", fp);
            i++;
            continue;
        case '\n':
            fputs("\\n", fp);
            i++;
            continue;
        case '\r':
            fputs("\\r", fp);
            i++;
            continue;
        case '\t':
            fputs("\\t", fp);
            i++;
            continue;
        default:
            break;
        }
        if (ch < 0x20 || ch == 0x7f) {
            fprintf(fp, "\\u%04x", ch);
            i++;
            continue;
        }
        k = utf8_seq(p + i, len - i);
        if (k == 0) {
            fputs("\\ufffd", fp);  /* one replacement per bad byte */
            i++;
            continue;
        }
        fwrite(p + i, 1, k, fp);
        i += k;
    }
    fputc('"', fp);
}

/* Comma, then the key if inside an object. */
static void jo_member(const char *key)
{
    if (!jo_started) {
        jo_started = true;
        jo_depth = 0;
    }
    if (jo_depth > 0) {
        if (!jo_first[jo_depth - 1])
            fputc(',', stdout);
        jo_first[jo_depth - 1] = false;
    }
    if (key) {
        json_write_string(stdout, key, strlen(key));
        fputc(':', stdout);
    }
}

static void jo_open(const char *key, char ch)
{
    if (!tool_opt.json)
        return;
    jo_member(key);
    fputc(ch, stdout);
    if (jo_depth < JO_DEPTH_MAX) {
        jo_first[jo_depth] = true;
        jo_closer[jo_depth] = ch == '{' ? '}' : ']';
    }
    jo_depth++;
}

static void jo_close(void)
{
    if (!tool_opt.json || jo_depth == 0)
        return;
    jo_depth--;
    fputc(jo_depth < JO_DEPTH_MAX ? jo_closer[jo_depth] : '}', stdout);
}

void jo_obj_begin(const char *key) { jo_open(key, '{'); }
void jo_obj_end(void) { jo_close(); }
void jo_arr_begin(const char *key) { jo_open(key, '['); }
void jo_arr_end(void) { jo_close(); }

void jo_str(const char *key, const char *val)
{
    if (!tool_opt.json)
        return;
    jo_member(key);
    if (val)
        json_write_string(stdout, val, strlen(val));
    else
        fputs("null", stdout);
}

void jo_int(const char *key, long long val)
{
    if (!tool_opt.json)
        return;
    jo_member(key);
    printf("%lld", val);
}

void jo_bool(const char *key, bool val)
{
    if (!tool_opt.json)
        return;
    jo_member(key);
    fputs(val ? "true" : "false", stdout);
}

void jo_unwind(void)
{
    while (tool_opt.json && jo_depth > 1)
        jo_close();
}

void jo_done(void)
{
    if (!tool_opt.json)
        return;
    /* An early exit may leave levels open: close them, so that even a
     * failing command prints a document a parser accepts. */
    while (jo_depth > 0)
        jo_close();
    fputc('\n', stdout);
    fflush(stdout);
}
