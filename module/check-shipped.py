#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""Fail when a shipped module carries a test hook.

The hooks of mynacard-test.h (module/test-hooks.c) let the in-process tests
put the virtual card where PC/SC would be; in a product they would be a way
around the reader.  Reads each file's whole symbol table with nm (local
symbols too, so an unexported hook is found) and fails on any name from
test-hooks.c, or when the table lacks C_GetFunctionList (a stripped or
wrong file would otherwise pass unread).

Usage: check-shipped.py [--nm NM] MODULE.so...
"""
import subprocess
import sys

# Every function test-hooks.c defines that variant.c does not.
HOOKS = ('mynacard_test_use_hub', 'mynacard_test_set_variant')


def hooks_in(nm, path):
    out = subprocess.run([nm, path], check=True, text=True,
                         capture_output=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.split()}
    if 'C_GetFunctionList' not in names:
        raise SystemExit(f'{path}: no C_GetFunctionList in its symbols: '
                         'not a module, or stripped; cannot check')
    return sorted(n for n in names if n in HOOKS)


def main(argv):
    nm = 'nm'
    if argv[:1] == ['--nm']:
        nm, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__)
        return 2
    bad = 0
    for path in argv:
        found = hooks_in(nm, path)
        if found:
            print(f'{path}: test hooks in a shipped module: {", ".join(found)}')
            bad = 1
        else:
            print(f'{path}: no test hooks')
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
