/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The test hooks of mynacard-test.h: what a shipped module fixes at build
 * time (variant.c), the in-process tests choose before each C_Initialize.
 * Layer: module/, linked only into test programs (module_static_dep in
 * module/meson.build), never into a shipped module; the test
 * shipped-without-test-hooks checks that.
 */
#include "module.h"

/* Read at the next C_Initialize.  Zero: both tokens, PC/SC. */
static struct tp_hub *test_hub;
static enum mynacard_variant test_variant = MYNACARD_VARIANT_BOTH;

void mynacard_test_use_hub(struct tp_hub *hub)
{
    test_hub = hub;
}

void mynacard_test_set_variant(enum mynacard_variant v)
{
    test_variant = v;
}

enum mynacard_variant mc_build_variant(void)
{
    return test_variant;
}

struct tp_hub *mc_build_hub(void)
{
    return test_hub;
}
