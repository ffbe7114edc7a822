#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""The extension's fixed contract, checked on its files (TAP):

    check-extension.py EXTENSION_DIR XPI

the Chromium ID its manifest key gives, the gecko id, the one list of
sites (every content script on the same list, starting with
https://*.go.jp/*), the only permission (nativeMessaging), the user-agent
script in the page's world at document_start, both background forms, the
files the manifest names, and the .xpi: manifest.json at its root and
the same bytes as the directory's files.
"""
import base64
import hashlib
import json
import os
import sys
import zipfile

EXT_ID = "iblcbagoigccfdmjdapagpgincgbbcki"
GECKO_ID = "mynaportal@mynacard.org"
n = 0
failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, desc))
    failed += 0 if cond else 1


def chromium_id(key):
    h = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in h)


def main():
    d, xpi = sys.argv[1], sys.argv[2]
    with open(os.path.join(d, "manifest.json"), "rb") as f:
        raw = f.read()
    m = json.loads(raw)
    ok(m.get("manifest_version") == 3, "manifest version 3")
    ok(chromium_id(m.get("key", "")) == EXT_ID, "the key gives Chromium ID " + EXT_ID)
    ok(m.get("browser_specific_settings", {}).get("gecko", {}).get("id") == GECKO_ID,
       "gecko id " + GECKO_ID)
    ok(m.get("permissions") == ["nativeMessaging"] and "host_permissions" not in m
       and "optional_permissions" not in m,
       "the only permission is nativeMessaging (the sites come from the content scripts)")
    bg = m.get("background", {})
    ok(bg.get("service_worker") == "background.js" and "background.js" in bg.get("scripts", []),
       "background: service_worker (Chromium) and scripts (Firefox)")
    cs = m.get("content_scripts", [])
    lists = [c.get("matches") for c in cs]
    ok(len(cs) == 2 and all(x == lists[0] for x in lists),
       "every content script runs on the same list of sites")
    ok(lists and lists[0] and lists[0][0] == "https://*.go.jp/*"
       and all(p.startswith("https://") for p in lists[0]),
       "the list starts with https://*.go.jp/* and has https sites only")
    ua = [c for c in cs if "ua.js" in c.get("js", [])]
    ok(len(ua) == 1 and ua[0].get("world") == "MAIN" and ua[0].get("run_at") == "document_start"
       and ua[0].get("js") == ["ua.js"],
       "ua.js alone in the page's world at document_start")
    named = set(bg.get("scripts", [])) | {bg.get("service_worker")}
    for c in cs:
        named |= set(c.get("js", []))
    named |= {"pin.html", "pin.js", "pin.css"}
    ok(all(os.path.isfile(os.path.join(d, f)) for f in named),
       "every file the manifest and pin.html need is there")
    with zipfile.ZipFile(xpi) as z:
        names = z.namelist()
        ok("manifest.json" in names and z.read("manifest.json") == raw,
           "the .xpi has manifest.json at its root, the same bytes")
        ok(all(f in names and z.read(f) == open(os.path.join(d, f), "rb").read()
               for f in named),
           "the .xpi has every file, the same bytes")
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
