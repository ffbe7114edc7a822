/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Output of mynacard-tool: text for people on stdout by default, or one
 * JSON object under --json, and complaints on stderr in both cases.
 * Layer: tool/; calls stdio and Jansson (the project's one JSON code
 * path, shared with mynacard-mpa).  The jo_* calls build one Jansson
 * document as the command runs (a stack of the open objects and arrays)
 * and jo_done() dumps it.  Everything that came from a card is untrusted:
 * invalid UTF-8 is replaced here, and Jansson escapes the rest, never the
 * caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "json-wipe.h"
#include "tool.h"

#define JO_DEPTH_MAX 16

static json_t *jo_root;                 /* the document */
static json_t *jo_stack[JO_DEPTH_MAX];  /* the open levels (borrowed) */
static unsigned jo_depth;               /* may exceed JO_DEPTH_MAX: the
                                         * levels beyond are not kept */
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

/* A Jansson string of @s (@len bytes, untrusted), each byte that is not
 * part of valid UTF-8 replaced by U+FFFD (Jansson takes only valid UTF-8);
 * NUL bytes are kept (Jansson writes them as \u0000).  NULL when out of
 * memory.  The copy is wiped: it may be personal data. */
static json_t *jo_string(const char *s, size_t len)
{
    static const char fffd[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0, k, cap;
    char *buf;
    json_t *v;

    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    cap = 3 * len + 1;
    buf = malloc(cap);
    if (!buf)
        return NULL;
    while (i < len) {
        k = utf8_seq(p + i, len - i);
        if (k == 0) {
            memcpy(buf + o, fffd, 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(buf + o, p + i, k);
        o += k;
        i += k;
    }
    v = json_stringn_nocheck(buf, o);
    OPENSSL_clear_free(buf, cap);
    return v;
}

void json_write_string(FILE *fp, const char *s, size_t len)
{
    json_t *v = jo_string(s, len);

    if (v)
        json_dumpf(v, fp, JSON_ENCODE_ANY | JSON_COMPACT);
    myna_json_wipe(v);
    json_decref(v);
}

/* Put @v (a new reference, taken) under @key in the open object, or at
 * the end of the open array, or as the document. */
static void jo_add(const char *key, json_t *v)
{
    json_t *top;

    if (!v)
        return;
    if (jo_depth == 0) {
        if (!jo_root) {
            jo_root = v;
            return;
        }
        json_decref(v);   /* a second document: never done by a command */
        return;
    }
    if (jo_depth > JO_DEPTH_MAX) {
        json_decref(v);
        return;
    }
    top = jo_stack[jo_depth - 1];
    if (!top)
        json_decref(v);
    else if (json_is_object(top))
        json_object_set_new(top, key ? key : "", v);
    else
        json_array_append_new(top, v);
}

static void jo_open(const char *key, bool object)
{
    json_t *v;

    if (!tool_opt.json)
        return;
    v = object ? json_object() : json_array();
    if (v && jo_depth < JO_DEPTH_MAX && (jo_depth > 0 || !jo_root)) {
        jo_stack[jo_depth] = v;   /* borrowed: the parent holds it */
        jo_add(key, v);
    } else if (jo_depth < JO_DEPTH_MAX) {
        jo_stack[jo_depth] = NULL;   /* what goes in it is dropped */
        json_decref(v);
    } else {
        json_decref(v);
    }
    jo_depth++;
}

static void jo_close(void)
{
    if (!tool_opt.json || jo_depth == 0)
        return;
    jo_depth--;
}

void jo_obj_begin(const char *key) { jo_open(key, true); }
void jo_obj_end(void) { jo_close(); }
void jo_arr_begin(const char *key) { jo_open(key, false); }
void jo_arr_end(void) { jo_close(); }

void jo_str(const char *key, const char *val)
{
    if (!tool_opt.json)
        return;
    jo_add(key, val ? jo_string(val, strlen(val)) : json_null());
}

void jo_int(const char *key, long long val)
{
    if (!tool_opt.json)
        return;
    jo_add(key, json_integer((json_int_t)val));
}

void jo_bool(const char *key, bool val)
{
    if (!tool_opt.json)
        return;
    jo_add(key, json_boolean(val));
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
    /* An early exit may leave levels open: the document is whole all the
     * same, since each level was put in its parent when it opened. */
    jo_depth = 0;
    if (jo_root)
        json_dumpf(jo_root, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
    myna_json_wipe(jo_root);
    json_decref(jo_root);
    jo_root = NULL;
    fputc('\n', stdout);
    fflush(stdout);
}
