/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * main() for the fuzz targets when they are built without libFuzzer: every
 * file named on the command line, and every file in every directory named
 * (sorted, dot files skipped, not recursive), is read into a buffer of
 * exactly its size and passed to LLVMFuzzerTestOneInput(), so the seed
 * corpora and the crash regressions replay in the normal test run (under
 * ASan and UBSan when the build has them).  Layer: test code; calls libc
 * and the target only.  Exit status 0 when at least one input ran and none
 * failed to be read; a target that finds a bug aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not corpus files: refuse them. */
#define REPLAY_FILE_MAX (16u * 1024u * 1024u)

static int replay_file(const char *path)
{
    uint8_t *buf = NULL;
    struct stat st;
    size_t size, got;
    FILE *f;

    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (uintmax_t)st.st_size > REPLAY_FILE_MAX) {
        fprintf(stderr, "%s: cannot size it, or too large\n", path);
        goto out_close;
    }
    size = (size_t)st.st_size;
    /* Exactly @size bytes (1 for an empty file, which is not read): an
     * overread past the input is then an ASan heap overflow. */
    buf = malloc(size ? size : 1);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        goto out_close;
    }
    got = size ? fread(buf, 1, size, f) : 0;
    if (got != size) {
        fprintf(stderr, "%s: short read\n", path);
        goto out_free;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;

out_free:
    free(buf);
out_close:
    fclose(f);
    return -1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay the regular files of @dir in name order; *@count grows. */
static int replay_dir(const char *dir, unsigned long *count)
{
    struct dirent *de;
    char **names = NULL, **grown, *path;
    size_t n = 0, cap = 0, i;
    int err = 0;
    DIR *d;

    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            grown = realloc(names, cap * sizeof(*names));
            if (!grown) {
                err = -1;
                goto out_names;
            }
            names = grown;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            err = -1;
            goto out_names;
        }
        n++;
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);

    for (i = 0; i < n && err == 0; i++) {
        struct stat st;
        size_t plen = strlen(dir) + 1 + strlen(names[i]) + 1;

        path = malloc(plen);
        if (!path) {
            err = -1;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            err = replay_file(path);
            if (err == 0)
                (*count)++;
        }
        free(path);
    }

out_names:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return err;
}

int main(int argc, char **argv)
{
    unsigned long count = 0;
    struct stat st;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n"
                "Run each input through the fuzz target once.\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) != 0)
                return 1;
        } else {
            if (replay_file(argv[i]) != 0)
                return 1;
            count++;
        }
    }
    printf("replayed %lu input(s)\n", count);
    /* An empty corpus would make the test pass without testing anything. */
    return count > 0 ? 0 : 1;
}
