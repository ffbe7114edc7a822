#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Writes the seeds of fuzz-mpa (corpus/mpa/): each a request of one mode,
# well-formed or not, and a card script (fuzz-card.h frames) in the order
# in which mynacard-mpa talks to a card: the manufacture number first
# (SELECT, READ RECORD), then the application's counter, VERIFY, and the
# rest.  Hand-made: the answers are plausible, not recorded, so the
# signatures in them do not verify (the fuzzer goes on from here), except
# in the "*-ok-valid" seeds: a throw-away RSA key made here with the
# openssl program, its self-signed certificate read in 256-byte chunks and
# real signatures over the seeds' digests, so that a success answer (and
# the target's signature check) is reached.
#   /usr/bin/python3 tests/fuzz/mkseed-mpa.py tests/fuzz/corpus/mpa
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

OK = b"\x90\x00"


def frame(answer):
    n = len(answer)
    if n <= 0x7F:
        return bytes([n]) + answer
    return bytes([0x80 | (n >> 8), n & 0xFF]) + answer


def script(*answers):
    return b"".join(frame(a) for a in answers)


def seed(opts, request, card=b""):
    req = request if isinstance(request, bytes) else json.dumps(request).encode()
    return bytes([opts]) + struct.pack("<H", len(req)) + req + card


DIGEST = base64.b64encode(bytes.fromhex("3031300d060960864801650304020105000420")
                          + hashlib.sha256(b"seed").digest()).decode()
MFG = b"\x04\x0f" + b"1AB12345678901Z" + OK   # READ RECORD: one TLV
JUNK_SIG = bytes(range(256)) + OK


def tlv(tag, value):
    return struct.pack(">H", tag) + bytes([len(value)]) + value


INNER = (tlv(0xDF21, bytes(4)) + tlv(0xDF22, b"abc") + tlv(0xDF23, b"xyz")
         + tlv(0xDF24, b"19850412") + tlv(0xDF25, b"2"))
CARDINFO = tlv(0xFF20, INNER)


def make_key():
    """A key, its certificate (DER) and a signing function."""
    d = tempfile.mkdtemp()
    key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.der")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-subj", "/CN=fuzz-mpa seed", "-days", "1",
                    "-outform", "DER", "-out", crt], check=True,
                   capture_output=True)
    der = open(crt, "rb").read()

    def sign(data):
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key,
                               "-pkeyopt", "rsa_padding_mode:pkcs1"],
                              input=data, check=True,
                              capture_output=True).stdout
    return der, sign


def cert_reads(der):
    """READ BINARY answers: the file in 256-byte chunks."""
    return [der[i:i + 256] + OK for i in range(0, len(der), 256)]


def auth_like(verify_sw, tries_sw=b"\x63\xc3"):
    return script(OK, MFG, OK, OK, tries_sw, verify_sw, OK, JUNK_SIG, OK,
                  b"\x30\x82\x01\x00" + bytes(60) + OK)


seeds = {
    "check-no-card": seed(1, {"mode": "check"}),
    "check": seed(0, {"mode": "check"},
                  script(OK, OK, b"\x63\xc3", OK, b"\x63\xc5", OK, b"\x63\xc3", OK, MFG)),
    "tries-01": seed(0, {"mode": "tries", "for": "01"}, script(OK, OK, b"\x63\xc3")),
    "tries-02": seed(0, {"mode": "tries", "for": "02"}, script(OK, OK, b"\x63\xc5")),
    "tries-04": seed(0, {"mode": "tries", "for": "04"}, script(OK, OK, b"\x63\xc3")),
    "auth-ok": seed(0, {"mode": "01", "service_id": "01", "digest": DIGEST,
                        "pin": "1234"}, auth_like(OK)),
    "auth-wrong": seed(0, {"mode": "01", "service_id": "01", "digest": DIGEST,
                           "pin": "1234"}, auth_like(b"\x63\xc2")),
    "auth-blocked": seed(0, {"mode": "01", "service_id": "01", "digest": DIGEST,
                             "pin": "1234"}, auth_like(OK, b"\x63\xc0")),
    "auth-format": seed(0, {"mode": "01", "service_id": "01", "digest": DIGEST,
                            "pin": "12a4"}, auth_like(OK)),
    "sign-array": seed(0, {"mode": "02", "service_id": "01",
                           "digest": [DIGEST, "AAEC"], "pin": "abc123"},
                       script(OK, MFG, OK, OK, b"\x63\xc5", OK, OK, JUNK_SIG,
                              JUNK_SIG, OK)),
    "cardinfo": seed(0, {"mode": "04", "service_id": "01", "pin": "1234"},
                     script(OK, MFG, OK, OK, b"\x63\xc3", OK, OK,
                            CARDINFO + OK)),
    "end": seed(0, {"mode": "05"}),
    "bad-json": seed(0, b'{"mode":"01"'),
    "bad-utf8": seed(0, b'{"mode":"ch\xffck"}'),
    "bad-types": seed(0, b'{"mode":"01","service_id":1,"digest":5,"pin":1234}'),
    "bad-base64": seed(0, {"mode": "01", "service_id": "01", "digest": "AA$A",
                           "pin": "1234"}),
    "big-digest": seed(0, {"mode": "01", "service_id": "01",
                           "digest": base64.b64encode(bytes(246)).decode(),
                           "pin": "1234"}),
    "bad-service": seed(0, {"mode": "04", "service_id": "02", "pin": "1234"}),
    "unknown-mode": seed(0, {"mode": "03"}),
}

DER, SIGN = make_key()
D = base64.b64decode(DIGEST)
seeds["auth-ok-valid"] = seed(
    0, {"mode": "01", "service_id": "01", "digest": DIGEST, "pin": "1234"},
    script(OK, MFG, OK, OK, b"\x63\xc3", OK, OK, SIGN(D) + OK, OK,
           *cert_reads(DER)))
seeds["sign-ok-valid"] = seed(
    0, {"mode": "02", "service_id": "01", "digest": [DIGEST, "AAEC"],
        "pin": "abc123"},
    script(OK, MFG, OK, OK, b"\x63\xc5", OK, OK, SIGN(D) + OK,
           SIGN(b"\x00\x01\x02") + OK, OK, *cert_reads(DER)))
seeds["cardinfo-ok"] = seed(
    0, {"mode": "04", "service_id": "01", "pin": "1234"},
    script(OK, MFG, OK, OK, b"\x63\xc3", OK, OK, OK, CARDINFO + OK))

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)
