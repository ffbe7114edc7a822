#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# .ci/check-style holds changed C lines to .clang-format and nothing else:
# in a throw-away clone of this repository, a misformatted line fails it,
# a formatted one passes, an old misformatted line outside the change does
# not count, and the tree as committed passes against its own base.  TAP.
# Skips (77) outside a git checkout or without git-clang-format.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v git-clang-format >/dev/null || { echo "1..0 # SKIP no git-clang-format"; exit 77; }
git -C "$src" rev-parse HEAD >/dev/null 2>&1 || { echo "1..0 # SKIP not a git checkout"; exit 77; }
tmp=$(mktemp -d "${MYNACARD_TEST_TMP:-/tmp}/style.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
check() {   # description, expected exit status, base
    local rc
    n=$((n + 1))
    (cd "$tmp/r" && .ci/check-style "$3") >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq "$2" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1 (exit $rc, expected $2)"
        sed 's/^/# /' "$tmp/out"
        bad=1
    fi
}
echo "1..5"
# The working tree's committed state, with the scripts as they are now.
git clone -q "$src" "$tmp/r"
cp "$src/.ci/check-style" "$src/.clang-format" "$tmp/r/" 2>/dev/null
cp "$src/.ci/check-style" "$tmp/r/.ci/check-style"
cd "$tmp/r"
git -c user.name=t -c user.email=t@t commit -qam "test: scripts" --allow-empty
base=$(git rev-parse HEAD)
check "the tree passes against the latest commit" 0 "$base"
printf '\nint style_good(int x);\n' >> apdu/der.h
git -c user.name=t -c user.email=t@t commit -qam "test: good"
check "a formatted line added passes" 0 "$base"
printf 'int  style_bad( int x ){return x;}\n' >> apdu/der.c
git -c user.name=t -c user.email=t@t commit -qam "test: bad"
check "a misformatted line added fails" 1 "$base"
n=$((n + 1))
if grep -q '^+int style_bad(int x)$' "$tmp/out"; then
    echo "ok $n - the fix is shown"
else
    echo "not ok $n - the fix is shown"
    bad=1
fi
git reset -q --hard HEAD~1
printf 'int  style_bad2( void ) ;\n' >> apdu/der.h
check "an uncommitted misformatted line fails" 1 "$base"
exit $bad
