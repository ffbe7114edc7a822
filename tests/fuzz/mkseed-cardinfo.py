#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Writes the seeds of fuzz-cardinfo (corpus/cardinfo/), by hand: EF 0002
# files and manufacture-number records, good and broken, for the parsers
# (first byte 00), and scripts of the scripted card (fuzz-card.h) for the
# session (first byte 01).  Usage: mkseed-cardinfo.py tests/fuzz/corpus
import os
import sys


def ber_len(n, form=None):
    if form is None:
        form = 0x80 if n < 0x80 else 0x81 if n <= 0xFF else 0x82
    if form == 0x80:
        return bytes([n])
    k = form & 0x7F
    return bytes([form]) + n.to_bytes(k, "big")


def tlv(tag, value, form=None):
    return tag.to_bytes(2 if tag > 0xFF else 1, "big") + ber_len(len(value), form) + value


NAME = "テスト\u3000太郎".encode()
ADDRESS = "東京都千代田区一番町25番地".encode()


def cardinfo(name=NAME, address=ADDRESS, birth=b"19850401", sex=b"1",
             form=None, outer=0xFF20):
    inner = (tlv(0xDF21, b"\0\0\0\0") + tlv(0xDF22, name) +
             tlv(0xDF23, address) + tlv(0xDF24, birth) + tlv(0xDF25, sex))
    return tlv(outer, inner, form)


def mfg(value=b"<AB12345678901>", tag=0x80, form=None):
    return tlv(tag, value, form)


def frame(answer):
    n = len(answer)
    if n <= 0x7F:
        return bytes([n]) + answer
    return bytes([0x80 | (n >> 8), n & 0xFF]) + answer


OK = b"\x90\x00"


def session(record=mfg() + OK, tries=b"\x63\xC3", verify=OK,
            data=cardinfo(), mfg_ap=OK, ci_ap=OK, read_sw=OK):
    s = frame(OK)                    # SELECT JPKI AP
    s += frame(mfg_ap)               # SELECT manufacture-number AP
    if mfg_ap == OK:
        s += frame(record)           # READ RECORD
    s += frame(ci_ap)                # SELECT card-info AP (tries)
    if ci_ap == OK:
        s += frame(OK) + frame(tries)     # SELECT EF 0011, VERIFY empty
        s += frame(OK) + frame(verify)    # SELECT EF 0011, VERIFY
        s += frame(OK)                    # SELECT EF 0002
        if read_sw != OK:
            s += frame(read_sw)
        else:
            for off in range(0, max(len(data), 1), 256):
                s += frame(data[off:off + 256] + OK)
    else:
        s += frame(ci_ap) + frame(ci_ap)  # verify and read select again
    s += frame(OK)                   # SELECT JPKI AP again
    return b"\x01" + s


def main():
    out = os.path.join(sys.argv[1], "cardinfo")
    os.makedirs(out, exist_ok=True)
    good = cardinfo()
    seeds = {
        "ci-good": good,
        "ci-long-82": cardinfo(name="あ".encode() * 100),
        "ci-outer-84": cardinfo(form=0x84),
        "ci-filler": good + b"\xff" * 40,
        "ci-other-tag": cardinfo(outer=0xFF21),
        "ci-truncated": good[:-3],
        "ci-field-512": cardinfo(address=b"a" * 512),
        "ci-field-513": cardinfo(address=b"a" * 513),
        "ci-bad-utf8": cardinfo(name=b"\xe3\x80"),
        "ci-indefinite": good[:2] + b"\x80" + good[3:],
        "mfg-good": mfg(),
        "mfg-81": mfg(form=0x81),
        "mfg-two-byte-tag": mfg(tag=0x9F01),
        "mfg-14": mfg(b"<AB12345678901"),
        "mfg-control": mfg(b"<AB1234567890\x07>"),
        "mfg-trailing": mfg() + b"\x00",
    }
    for name, body in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"\x00" + body)
    sessions = {
        "session-good": session(),
        "session-long-file": session(data=cardinfo(name="あ".encode() * 120)),
        "session-wrong-pin": session(verify=b"\x63\xC2", read_sw=b"\x69\x82"),
        "session-blocked": session(tries=b"\x63\xC0", verify=b"\x69\x84",
                                   read_sw=b"\x69\x82"),
        "session-no-apps": session(mfg_ap=b"\x6A\x82", ci_ap=b"\x6A\x82"),
        "session-bad-record": session(record=mfg(b"<AB1234") + OK),
    }
    for name, body in sessions.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)


main()
