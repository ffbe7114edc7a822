#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Native messaging framing for the tests of mynacard-mpa, written apart
# from the program's own (frame.c) so that each checks the other:
#   mpa-msg.py encode   each line of stdin (bytes as they are, without the
#                       newline) becomes one message on stdout: a 4-byte
#                       little-endian length, then the bytes
#   mpa-msg.py decode   the messages on stdin, one per line on stdout; exits
#                       1 when the input ends inside a message
import struct
import sys


def encode():
    out = sys.stdout.buffer
    for line in sys.stdin.buffer.read().split(b"\n"):
        if not line:
            continue
        out.write(struct.pack("<I", len(line)) + line)


def decode():
    data = sys.stdin.buffer.read()
    i = 0
    while i < len(data):
        if len(data) - i < 4:
            print("truncated length", file=sys.stderr)
            return 1
        (n,) = struct.unpack("<I", data[i:i + 4])
        if len(data) - i - 4 < n:
            print("truncated message", file=sys.stderr)
            return 1
        sys.stdout.buffer.write(data[i + 4:i + 4 + n] + b"\n")
        i += 4 + n
    return 0


if __name__ == "__main__":
    sys.exit(encode() if sys.argv[1:] == ["encode"] else decode())
