/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The main() of every Check test program that has nothing more to do than
 * run its suite (check-run.h): the program names the suite and adds its
 * test cases.  In the check-run library, linked only into a program that
 * has no main() of its own.
 */
#include "check-run.h"

int main(void)
{
    Suite *s = suite_create(check_suite_name);

    check_add_suite_tests(s);
    return check_run(s);
}
