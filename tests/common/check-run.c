/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The one runner of every Check test program, and the helpers they share
 * (check-run.h).
 */
#include "check-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

TCase *check_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);

    suite_add_tcase(s, tc);
    return tc;
}

void check_add_test_table(TCase *tc, const TTest *const *tests, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
}

size_t check_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;

    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        ck_assert_msg(sscanf(s, "%2x", &v) == 1, "bad hex literal %s", s);
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

void check_log_sink(void *ctx, const char *line)
{
    struct check_log *log = ctx;
    size_t n = strlen(line);

    if (log->len + n + 2 > log->cap)
        return;
    memcpy(log->buf + log->len, line, n);
    log->len += n;
    log->buf[log->len++] = '\n';
    log->buf[log->len] = '\0';
}

bool check_log_has_bytes(const struct check_log *log, const void *p, size_t n)
{
    const uint8_t *b = p;
    char hex[64 * 3 + 1];
    size_t i;

    /* One byte at least: the search string ends where the last byte's
     * separator was. */
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, 64);
    for (i = 0; i < n; i++)
        snprintf(hex + 3 * i, 4, "%02X ", b[i]);
    hex[3 * n - 1] = '\0';
    return strstr(log->buf, hex) != NULL;
}
