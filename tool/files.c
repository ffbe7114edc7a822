/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * mynacard-tool's file helpers: the holder's home and configuration
 * directory, mkdir -p, reading a small file whole and writing one
 * atomically.  Layer: tool/; plain POSIX, used by setup's files
 * (nssdb.c, firefox.c, libreoffice.c, p11kit.c), mynaportal.c and
 * doctor.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

#define FILE_MAX (16u << 20)

/* ---- Paths ---- */

const char *tool_home(void)
{
    const char *h = getenv("HOME");
    struct passwd *pw;

    if (h && *h)
        return h;
    pw = getpwuid(getuid());
    return pw && pw->pw_dir ? pw->pw_dir : "/";
}

void tool_config_home(char *buf, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME");

    if (x && *x == '/')
        sfmt(buf, cap, "%s", x);
    else
        sfmt(buf, cap, "%s/.config", tool_home());
}

bool tool_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

bool tool_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int tool_mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Read a whole (small) file; NULL when missing or too big. */
char *tool_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "re");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!fp)
        return NULL;
    for (;;) {
        size_t r;

        if (cap - n < 4096) {
            char *g;

            if (cap >= FILE_MAX)
                goto fail;
            cap = cap ? cap * 2 : 8192;
            g = realloc(buf, cap + 1);
            if (!g)
                goto fail;
            buf = g;
        }
        r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

/* Write @data to @path through a temporary file and rename(), with
 * exactly @mode: the umask does not narrow it, since a file for all users
 * (setup mynaportal --system) must stay readable by them. */
int tool_write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    FILE *fp;
    int fd;

    if ((size_t)sfmt(tmp, sizeof(tmp), "%s.mynacard-tmp", path) >= sizeof(tmp))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    fp = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}
