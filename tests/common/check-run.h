/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The one runner of every Check test program (tests/unit, tests/module,
 * tests/mpa, tests/tool): it runs a suite the way CK_ENV says (meson sets
 * CK_TAP_LOG_FILE_NAME=- for the TAP lines it counts) and gives the exit
 * status the test harness reads.  With it, the helpers more than one of
 * those programs wrote for itself: hex literals, a log sink that keeps
 * the lines.
 */
#ifndef MYNA_CHECK_RUN_H
#define MYNA_CHECK_RUN_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs every test of @s, frees it, and returns EXIT_SUCCESS when none
 * failed, EXIT_FAILURE otherwise. */
int check_run(Suite *s);

/* A program without a main() of its own gets check-main.c's, which runs
 * the suite named check_suite_name with the test cases that
 * check_add_suite_tests() adds. */
extern const char check_suite_name[];
void check_add_suite_tests(Suite *s);

/* A new test case of @s, which runs its test cases in the order they
 * were made. */
TCase *check_tcase(Suite *s, const char *name);

/* The number of elements of the array @a: a loop test's end. */
#define CHECK_N(a) (sizeof(a) / sizeof((a)[0]))

/* Adds the tests named after @tc to it, in that order: a program's list
 * of tests is one table, not a tcase_add_test() statement each. */
#define check_add_tests(tc, ...)                                               \
    check_add_test_table((tc), (const TTest *const[]){ __VA_ARGS__ },          \
                         sizeof((const TTest *const[]){ __VA_ARGS__ }) /       \
                             sizeof(const TTest *))
void check_add_test_table(TCase *tc, const TTest *const *tests, size_t n);

/* Parses "00 A4 04 0C" (spaces optional) into @out; aborts the test on a
 * malformed literal or one longer than @cap, a bug in the test itself. */
size_t check_unhex(const char *s, uint8_t *out, size_t cap);

/* Every log line, '\n'-separated and NUL-terminated, in @buf (@cap bytes,
 * the caller's); a line that does not fit is dropped whole. */
struct check_log {
    char *buf;
    size_t cap;
    size_t len;
};

/* The sink for myna_log_set(): @ctx is a struct check_log. */
void check_log_sink(void *ctx, const char *line);

/* Whether @log holds the @n bytes at @p (1 to 64) as the APDU log
 * writes bytes: "41 42 31". */
bool check_log_has_bytes(const struct check_log *log, const void *p, size_t n);

#endif
