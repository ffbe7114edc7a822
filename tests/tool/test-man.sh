#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The man pages given as arguments render without a single warning, with
# groff (-man -Tutf8 -ww) and with man -l --warnings, each when installed.
# TAP; skips when neither program is there.
set -u
n=0
failed=0
have_groff=$(command -v groff || true)
have_man=$(command -v man || true)
if [ -z "$have_groff" ] && [ -z "$have_man" ]; then
    echo "1..0 # SKIP neither groff nor man is installed"
    exit 0
fi
export LC_ALL=C.UTF-8
check() {
    local desc=$1 out
    shift
    n=$((n + 1))
    out=$("$@" 2>&1 >/dev/null)
    if [ -z "$out" ]; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        printf '%s\n' "$out" | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
}
for page in "$@"; do
    name=$(basename "$page")
    n=$((n + 1))
    if [ -s "$page" ] && head -n 5 "$page" | grep -q '^\.TH '; then
        echo "ok $n - $name is a man page (.TH)"
    else
        echo "not ok $n - $name is a man page (.TH)"
        failed=$((failed + 1))
    fi
    if [ -n "$have_groff" ]; then
        check "$name: groff -man -Tutf8 -ww, no warning" groff -man -Tutf8 -ww -z "$page"
    fi
    if [ -n "$have_man" ]; then
        check "$name: man -l --warnings, no warning" man --warnings -E UTF-8 -l "$page"
    fi
done
echo "1..$n"
[ "$failed" = 0 ]
