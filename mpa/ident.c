/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Who this installation is to the site: the uuid (16 random bytes made
 * once per user, kept in the user's configuration directory as
 * {"uuid": "<32 hex digits>"}, mode 0600) and the combination_code that
 * ties it to the card (mynaportal.md: SHA-256 over a fixed 16-byte prefix,
 * the card's manufacture number, the uuid).  Layer: mpa/; files and
 * OpenSSL, no card.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mpa.h"

/* The prefix of the combination code (mynaportal.md; one source). */
static const uint8_t combination_magic[16] = {
    0x2e, 0x71, 0xf6, 0x62, 0x0b, 0xc6, 0x54, 0xce,
    0xd4, 0x94, 0xe5, 0xec, 0x34, 0xfe, 0x03, 0xc8,
};

#define UUID_FILE_MAX 4096

void mpa_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}

void mpa_combination_code(const char *mfg, const uint8_t uuid[MPA_UUID_LEN],
                          char out[65])
{
    uint8_t md[32];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    out[0] = 0;
    if (!c)
        return;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(c, combination_magic, sizeof(combination_magic)) == 1 &&
        EVP_DigestUpdate(c, mfg, strlen(mfg)) == 1 &&
        EVP_DigestUpdate(c, uuid, MPA_UUID_LEN) == 1 &&
        EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == sizeof(md))
        mpa_hex(md, sizeof(md), out);
    EVP_MD_CTX_free(c);
}

int mpa_uuid_path(char *buf, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/mynacard/mpa.json", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, cap, "%s/.config/mynacard/mpa.json", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int uuid_parse(const char *buf, size_t len, uint8_t uuid[MPA_UUID_LEN])
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = root ? json_object_get(root, "uuid") : NULL;
    const char *s;
    int ret = -1;

    if (!json_is_string(v) || json_string_length(v) != 2 * MPA_UUID_LEN)
        goto out;
    s = json_string_value(v);
    for (size_t i = 0; i < MPA_UUID_LEN; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            goto out;
        uuid[i] = (uint8_t)(hi << 4 | lo);
    }
    ret = 0;
out:
    json_decref(root);
    return ret;
}

/* 0 loaded, 1 no such file, -1 error. */
static int uuid_read(const char *path, uint8_t uuid[MPA_UUID_LEN])
{
    char buf[UUID_FILE_MAX];
    ssize_t n;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    while (len < sizeof(buf)) {
        n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len == 0 || len >= sizeof(buf))
        return -1;
    return uuid_parse(buf, len, uuid);
}

/* mkdir -p of @path's directory, each new one 0700. */
static int make_parent(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);

    if (n >= sizeof(dir))
        return -1;
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int uuid_create(const char *path, uint8_t uuid[MPA_UUID_LEN])
{
    char tmp[4096 + 32], hex[2 * MPA_UUID_LEN + 1];
    json_t *doc;
    char *text = NULL;
    int fd = -1, ret = -1;
    size_t len;

    if (RAND_bytes(uuid, MPA_UUID_LEN) != 1)
        return -1;
    mpa_hex(uuid, MPA_UUID_LEN, hex);
    doc = json_pack("{ss}", "uuid", hex);
    if (doc)
        text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    if (!text || make_parent(path) < 0)
        goto out;
    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
        (int)sizeof(tmp))
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
        fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    /* link() fails when another instance made the file meanwhile: then
     * its uuid is the one, read back below. */
    if (link(tmp, path) < 0) {
        int e = errno;

        unlink(tmp);
        if (e == EEXIST)
            ret = uuid_read(path, uuid) == 0 ? 0 : -1;
        goto out;
    }
    unlink(tmp);
    ret = 0;
out:
    free(text);
    return ret;
}

int mpa_uuid_load(const char *path, uint8_t uuid[MPA_UUID_LEN])
{
    int r = uuid_read(path, uuid);

    if (r == 1)
        return uuid_create(path, uuid);
    return r;
}
