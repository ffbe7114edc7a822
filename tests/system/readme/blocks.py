#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The ```sh blocks of a README, for tests/system/readme/test-readme.sh.
#
#   blocks.py extract README.md OUTDIR
#       writes OUTDIR/BB-CC.cmd, one file per command (block BB, command
#       CC, both from 1), holding the command exactly as the README has it
#       (continuation lines joined by their backslash-newline, which bash
#       reads as one line).  Prints the number of blocks.
#   blocks.py compare README.md README.ja.md
#       exit 0 if both have the same ```sh blocks in the same order; the
#       commands are compared as shell words (shlex, comments dropped), so
#       a translated trailing comment is not a difference, but anything
#       the shell runs is.  Prints the differences.
#
# Only fences opened with exactly ```sh count: ``` blocks (the layout
# listing) are not commands.
import os
import re
import shlex
import sys

FENCE_OPEN = re.compile(r"^```sh\s*$")
FENCE_CLOSE = re.compile(r"^```\s*$")


def blocks_of(path):
    """[[command, ...], ...]: the file's ```sh blocks."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        if not FENCE_OPEN.match(lines[i]):
            i += 1
            continue
        i += 1
        body = []
        while i < len(lines) and not FENCE_CLOSE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"{path}: a ```sh block is not closed")
        i += 1
        cmds = []
        cur = None
        for line in body:
            if cur is None:
                if not line.strip():
                    continue
                cur = line
            else:
                cur += "\n" + line
            # A trailing backslash continues the command on the next line.
            if not cur.endswith("\\"):
                cmds.append(cur)
                cur = None
        if cur is not None:
            cmds.append(cur)
        out.append(cmds)
    return out


def words(cmd):
    try:
        return shlex.split(cmd, comments=True)
    except ValueError as e:
        return ["<unparsable: %s>" % e, cmd]


def extract(readme, outdir):
    os.makedirs(outdir, exist_ok=True)
    blocks = blocks_of(readme)
    for b, cmds in enumerate(blocks, 1):
        for c, cmd in enumerate(cmds, 1):
            with open(os.path.join(outdir, "%02d-%02d.cmd" % (b, c)), "w",
                      encoding="utf-8") as f:
                f.write(cmd + "\n")
    print(len(blocks))


def compare(a, b):
    ba, bb = blocks_of(a), blocks_of(b)
    bad = 0
    if len(ba) != len(bb):
        print("%s has %d ```sh blocks, %s has %d" % (a, len(ba), b, len(bb)))
        bad += 1
    for n, (x, y) in enumerate(zip(ba, bb), 1):
        wx = [words(c) for c in x]
        wy = [words(c) for c in y]
        if wx != wy:
            bad += 1
            print("block %d differs:" % n)
            for c in x:
                print("  %s: %s" % (os.path.basename(a), c.replace("\n", " ")))
            for c in y:
                print("  %s: %s" % (os.path.basename(b), c.replace("\n", " ")))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "extract":
        extract(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    print("usage: blocks.py extract README OUTDIR | compare README OTHER",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
