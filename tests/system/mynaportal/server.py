#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""The test site's server: the site's side of mynaportal.md over HTTPS.

    server.py --port P --cert SRV.pem --key SRV.key --card-cert AUTH.pem
              --card-sign-cert SIGN.pem --manufacture-number N
              --mpa-config MPA.json --out OUT.jsonl --ready FILE

GET / and /page.js: the page (site/).  GET /challenge (?n=2 for two): a
fresh random digest to sign (a SHA-256 DigestInfo, base64), kept until
used once.
POST /login: the native program's login answer as the page got it; the
server checks it the way a site would (the signature over a digest it
issued, by the returned certificate; that certificate is the card's; the
uuid is the one the native program keeps; combination_code recomputed)
and answers {"verdict": "ok"|"ng", "why": [...]}.  POST /sign: a
signature answer (mode 02) with the digests the page asked for: each
signature over its digest, by the card's signature certificate, and the
same uuid and combination_code.  POST /report: what the
page saw.  Each verdict and report is one JSON line in OUT.  Everything
the server learns comes from a browser: parsed with bounds.
"""
import argparse
import base64
import binascii
import hashlib
import json
import os
import ssl
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SITE = os.path.join(HERE, "site")
# mynaportal.md: combination_code = SHA-256(this, manufacture number, uuid).
COMBINATION_PREFIX = bytes.fromhex("2e71f6620bc654ced494e5ec34fe03c8")
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MAX_BODY = 1 << 16
PAGES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/page.js": ("page.js", "text/javascript; charset=utf-8")}


def b64_unpadded(s):
    """Base64 with or without padding, strictly; None when it is not."""
    if not isinstance(s, str) or len(s) > MAX_BODY:
        return None
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def recovered(sig, cert_der):
    """What a PKCS#1 v1.5 signature holds, by the certificate's key."""
    with tempfile.TemporaryDirectory() as tmp:
        cert = os.path.join(tmp, "cert.der")
        pem = os.path.join(tmp, "cert.pem")
        sigf = os.path.join(tmp, "sig")
        with open(cert, "wb") as f:
            f.write(cert_der)
        with open(sigf, "wb") as f:
            f.write(sig)
        if subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cert,
                           "-out", pem], capture_output=True).returncode:
            return None
        r = subprocess.run(["openssl", "pkeyutl", "-verifyrecover", "-certin",
                            "-inkey", pem, "-in", sigf,
                            "-pkeyopt", "rsa_padding_mode:pkcs1"],
                           capture_output=True)
        return r.stdout if r.returncode == 0 else None


def der_of(pem):
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                          capture_output=True, check=True).stdout


class Site:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.digests = set()
        self.card_cert = der_of(args.card_cert)
        self.card_sign_cert = der_of(args.card_sign_cert)

    def record(self, kind, obj):
        with self.lock, open(self.args.out, "a") as f:
            f.write(json.dumps({"kind": kind, "data": obj}) + "\n")

    def challenge(self, n):
        digests = [SHA256_DIGEST_INFO + hashlib.sha256(os.urandom(32)).digest()
                   for _ in range(n)]
        with self.lock:
            self.digests.update(digests)
        b64 = [base64.b64encode(d).decode() for d in digests]
        return {"digest": b64[0], "digests": b64}

    def issued(self, digest):
        """Whether this server issued @digest and it is unused; uses it."""
        with self.lock:
            if digest is not None and digest in self.digests:
                self.digests.discard(digest)
                return True
        return False

    def ident(self, a, why):
        """The uuid and combination_code of an answer, recomputed."""
        with open(self.args.mpa_config) as f:
            uuid = json.load(f).get("uuid", "")
        if a.get("uuid") != uuid:
            why.append("uuid %r is not the native program's %r" % (a.get("uuid"), uuid))
        try:
            want = hashlib.sha256(COMBINATION_PREFIX
                                  + self.args.manufacture_number.encode("ascii")
                                  + bytes.fromhex(uuid)).hexdigest()
        except ValueError:
            want = None
        cc = a.get("combination_code")
        if not isinstance(cc, str) or want is None or cc.lower() != want:
            why.append("combination_code %r, want %r" % (cc, want))

    def sign(self, body):
        """A signature answer (mode 02) over the digests the page sent."""
        why = []
        a = body.get("answer") if isinstance(body, dict) else None
        asked = body.get("digests") if isinstance(body, dict) else None
        if not isinstance(a, dict) or not isinstance(asked, list) or not 1 <= len(asked) <= 4:
            return ["not an answer with its digests"]
        if a.get("result") != "0":
            return ["result %r, errcode %r" % (a.get("result"), a.get("errcode"))]
        if a.get("mode") != "02":
            why.append("mode %r" % a.get("mode"))
        cert = b64_unpadded(a.get("certificate"))
        sigs = a.get("signature")
        if cert is None or not isinstance(sigs, list) or len(sigs) != len(asked):
            return why + ["no certificate, or not one signature per digest"]
        if cert != self.card_sign_cert:
            why.append("the certificate is not the card's signature certificate")
        for i, (d64, s64) in enumerate(zip(asked, sigs)):
            digest, sig = b64_unpadded(d64), b64_unpadded(s64)
            if sig is None or not self.issued(digest) or recovered(sig, cert) != digest:
                why.append("signature %d does not verify over a digest this server issued" % i)
        self.ident(a, why)
        return why

    def login(self, a):
        why = []
        if not isinstance(a, dict):
            return ["the answer is not an object"]
        if a.get("result") != "0":
            why.append("result %r, errcode %r" % (a.get("result"), a.get("errcode")))
            return why
        if a.get("mode") != "01":
            why.append("mode %r" % a.get("mode"))
        cert = b64_unpadded(a.get("certificate"))
        sig = b64_unpadded(a.get("signature"))
        if cert is None or sig is None:
            return why + ["certificate or signature is not base64"]
        if isinstance(a.get("certificate"), str) and a["certificate"].endswith("="):
            why.append("the certificate's base64 has padding")
        if cert != self.card_cert:
            why.append("the certificate is not the card's authentication certificate")
        # Each digest logs in once.
        if not self.issued(recovered(sig, cert)):
            why.append("the signature does not verify over a digest this server issued")
        self.ident(a, why)
        return why


def handler(site):
    class H(BaseHTTPRequestHandler):
        def send(self, code, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0].split("#")[0]
            if path in PAGES:
                name, ctype = PAGES[path]
                with open(os.path.join(SITE, name), "rb") as f:
                    self.send(200, f.read(), ctype)
            elif path == "/challenge":
                n = 2 if self.path.endswith("?n=2") else 1
                self.send(200, site.challenge(n))
            else:
                self.send(404, {"error": "not found"})

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n <= 0 or n > MAX_BODY:
                self.send(413, {"error": "size"})
                return
            try:
                body = json.loads(self.rfile.read(n))
            except ValueError:
                self.send(400, {"error": "json"})
                return
            if self.path == "/login":
                why = site.login(body)
                verdict = {"verdict": "ng" if why else "ok", "why": why}
                site.record("login", verdict)
                self.send(200, verdict)
            elif self.path == "/sign":
                why = site.sign(body)
                verdict = {"verdict": "ng" if why else "ok", "why": why}
                site.record("sign", verdict)
                self.send(200, verdict)
            elif self.path == "/report":
                site.record("report", body)
                self.send(200, {"ok": True})
            else:
                self.send(404, {"error": "not found"})

        def log_message(self, fmt, *args):
            print("server: " + fmt % args, flush=True)
    return H


def main():
    p = argparse.ArgumentParser()
    for opt in ("--cert", "--key", "--card-cert", "--card-sign-cert",
                "--manufacture-number",
                "--mpa-config", "--out"):
        p.add_argument(opt, required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--ready", required=True)
    args = p.parse_args()
    site = Site(args)
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), handler(site))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    open(args.ready, "w").close()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
