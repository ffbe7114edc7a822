/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * Persistence of the virtual card: DIR/card.state (the PINs, their try
 * counters and the internal SoftHSM PINs, as text key=value lines) and the
 * small file helpers the rest of the emulator uses.  Every write goes
 * through a temporary file, fsync and rename, so a PIN counter written
 * before the card answers survives a kill at any moment.  Calls only libc
 * and OpenSSL's cleanse.
 */
#include "emu-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

char *emu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

bool emu_pin_format_ok(int role, const uint8_t *pin, size_t len)
{
    size_t i;

    if (role == 0 || role == 2) {
        if (len != 4)
            return false;
        for (i = 0; i < len; i++)
            if (pin[i] < '0' || pin[i] > '9')
                return false;
        return true;
    }
    if (len < 6 || len > EMU_PIN_MAX)
        return false;
    for (i = 0; i < len; i++) {
        bool digit = pin[i] >= '0' && pin[i] <= '9';
        bool upper = pin[i] >= 'A' && pin[i] <= 'Z';

        if (!digit && !upper)
            return false;
    }
    return true;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Make the rename durable: without the directory's fsync a power loss
 * may bring back the old file. */
static void fsync_parent(const char *path)
{
    char *dir = strdup(path);
    char *slash;
    int fd;

    if (!dir)
        return;
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int emu_write_file(const char *path, const void *data, size_t len,
                   mode_t mode)
{
    size_t tn = strlen(path) + 32;
    char *tmp = malloc(tn);
    int fd, saved;

    if (!tmp)
        return -1;
    /* The pid keeps two processes that share a card directory by mistake
     * from writing into each other's temporary file. */
    snprintf(tmp, tn, "%s.tmp%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        goto err_free;
    if (write_all(fd, data, len) < 0)
        goto err_close;
    if (fsync(fd) < 0)
        goto err_close;
    if (close(fd) < 0)
        goto err_unlink;
    if (rename(tmp, path) < 0)
        goto err_unlink;
    fsync_parent(path);
    free(tmp);
    return 0;

err_close:
    saved = errno;
    close(fd);
    errno = saved;
err_unlink:
    saved = errno;
    unlink(tmp);
    errno = saved;
err_free:
    free(tmp);
    return -1;
}

int emu_read_file(const char *path, uint8_t **data, size_t *len)
{
    const size_t max = 1u << 20;
    uint8_t *buf = NULL;
    size_t have = 0;
    int fd, saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    buf = malloc(max);
    if (!buf)
        goto err_close;
    for (;;) {
        ssize_t n = read(fd, buf + have, max - have);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto err_free;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (have == max) {
            errno = EFBIG;
            goto err_free;
        }
    }
    close(fd);
    *data = buf;
    *len = have;
    return 0;

err_free:
    saved = errno;
    OPENSSL_clear_free(buf, max);
    errno = saved;
err_close:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int emu_write_conf(const char *dir)
{
    char *tokens = emu_path(dir, "tokens");
    char *conf = emu_path(dir, EMU_CONF_FILE);
    char *text = NULL;
    uint8_t *old = NULL;
    size_t oldlen = 0;
    int n, rc = -1;

    if (!tokens || !conf)
        goto out;
    if (mkdir(tokens, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "mynacard-emu: mkdir %s: %s\n", tokens,
                strerror(errno));
        goto out;
    }
    n = asprintf(&text,
                 "# SoftHSM2 configuration of a mynacard virtual card.\n"
                 "directories.tokendir = %s\n"
                 "objectstore.backend = file\n"
                 "log.level = ERROR\n"
                 "slots.removable = false\n",
                 tokens);
    if (n < 0) {
        text = NULL;
        goto out;
    }
    if (emu_read_file(conf, &old, &oldlen) == 0 && oldlen == (size_t)n &&
        memcmp(old, text, oldlen) == 0) {
        rc = 0;
        goto out;
    }
    if (emu_write_file(conf, text, (size_t)n, 0600) < 0) {
        fprintf(stderr, "mynacard-emu: cannot write %s: %s\n", conf,
                strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(old);
    free(text);
    free(conf);
    free(tokens);
    return rc;
}

void emu_state_wipe(struct emu_state *st)
{
    OPENSSL_cleanse(st, sizeof(*st));
}

int emu_state_save(const char *dir, const struct emu_state *st)
{
    char buf[512];
    char *path;
    int n, rc = -1;

    n = snprintf(buf, sizeof(buf),
                 "# mynacard virtual card state (test card, fake data)\n"
                 "version=1\n"
                 "auth_pin=%s\n"
                 "sign_pin=%s\n"
                 "auth_tries=%d\n"
                 "sign_tries=%d\n"
                 "softhsm_user_pin=%s\n"
                 "softhsm_so_pin=%s\n"
                 "text_pin=%s\n"
                 "text_tries=%d\n",
                 st->auth_pin, st->sign_pin, st->auth_tries, st->sign_tries,
                 st->hsm_user_pin, st->hsm_so_pin, st->text_pin,
                 st->text_tries);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        fprintf(stderr, "mynacard-emu: card state too long\n");
        goto out_wipe;
    }
    path = emu_path(dir, EMU_STATE_FILE);
    if (!path)
        goto out_wipe;
    rc = emu_write_file(path, buf, (size_t)n, 0600);
    if (rc < 0)
        fprintf(stderr, "mynacard-emu: cannot write %s: %s\n", path,
                strerror(errno));
    free(path);
out_wipe:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static int copy_value(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);

    if (n >= cap)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

static int parse_tries(const char *v, int max, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < 0 || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

/* One key=value line; unknown keys are ignored so that later versions can
 * add some. */
static int parse_line(char *line, struct emu_state *st, unsigned *seen)
{
    char *eq = strchr(line, '=');
    const char *k, *v;

    if (line[0] == '#' || line[0] == '\0')
        return 0;
    if (!eq)
        return -1;
    *eq = '\0';
    k = line;
    v = eq + 1;
    if (strcmp(k, "version") == 0)
        return strcmp(v, "1") == 0 ? 0 : -1;
    if (strcmp(k, "auth_pin") == 0) {
        *seen |= 1u;
        return copy_value(st->auth_pin, sizeof(st->auth_pin), v);
    }
    if (strcmp(k, "sign_pin") == 0) {
        *seen |= 2u;
        return copy_value(st->sign_pin, sizeof(st->sign_pin), v);
    }
    if (strcmp(k, "auth_tries") == 0) {
        *seen |= 4u;
        return parse_tries(v, EMU_AUTH_TRIES_MAX, &st->auth_tries);
    }
    if (strcmp(k, "sign_tries") == 0) {
        *seen |= 8u;
        return parse_tries(v, EMU_SIGN_TRIES_MAX, &st->sign_tries);
    }
    if (strcmp(k, "softhsm_user_pin") == 0) {
        *seen |= 16u;
        return copy_value(st->hsm_user_pin, sizeof(st->hsm_user_pin), v);
    }
    if (strcmp(k, "softhsm_so_pin") == 0)
        return copy_value(st->hsm_so_pin, sizeof(st->hsm_so_pin), v);
    if (strcmp(k, "text_pin") == 0)
        return copy_value(st->text_pin, sizeof(st->text_pin), v);
    if (strcmp(k, "text_tries") == 0)
        return parse_tries(v, EMU_TEXT_TRIES_MAX, &st->text_tries);
    return 0;
}

int emu_state_load(const char *dir, struct emu_state *st)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char *path, *line, *save = NULL;
    unsigned seen = 0;
    int rc = -1;

    memset(st, 0, sizeof(*st));
    /* Optional keys: a card made before the card-info AP existed. */
    snprintf(st->text_pin, sizeof(st->text_pin), "%s", EMU_TEXT_PIN_DEFAULT);
    st->text_tries = EMU_TEXT_TRIES_MAX;
    path = emu_path(dir, EMU_STATE_FILE);
    if (!path)
        return -1;
    if (emu_read_file(path, &data, &len) < 0) {
        fprintf(stderr, "mynacard-emu: cannot read %s: %s\n", path,
                strerror(errno));
        goto out_path;
    }
    /* emu_read_file leaves room: it fails on files of its whole buffer. */
    data[len] = '\0';
    if (memchr(data, '\0', len)) {
        fprintf(stderr, "mynacard-emu: %s: not a text file\n", path);
        goto out_data;
    }
    for (line = strtok_r((char *)data, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (parse_line(line, st, &seen) < 0) {
            fprintf(stderr, "mynacard-emu: %s: bad line\n", path);
            goto out_data;
        }
    }
    if (seen != 31u) {
        fprintf(stderr, "mynacard-emu: %s: incomplete\n", path);
        goto out_data;
    }
    rc = 0;
out_data:
    OPENSSL_cleanse(data, len);
    free(data);
out_path:
    free(path);
    if (rc < 0)
        emu_state_wipe(st);
    return rc;
}
