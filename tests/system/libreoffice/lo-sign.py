# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Drive a running LibreOffice (soffice --accept=socket,...;urp;) over UNO to
# sign a PDF with a certificate of the card, as a person does it in
# "File > Export as PDF > Digital Signatures", and answer LibreOffice's own
# "Enter Password" window by typing into it with xdotool, like a person at
# the keyboard.  Runs under Debian's /usr/bin/python3 (python3-uno).
#
# Usage: lo-sign.py PORT SUBJECT_PART OUT.pdf FIELD_PASSWORD [PASSWORD...]
#   SUBJECT_PART    picks the certificate: a substring of its subject
#   FIELD_PASSWORD  what the person typed into the "Certificate password"
#                   field of the export dialog's Digital Signatures tab
#                   (FilterData SignaturePassword, as the dialog passes
#                   it): LibreOffice hands it to NSS for the signature
#                   key's own login (CKA_ALWAYS_AUTHENTICATE); "-" for empty
#   PASSWORD...     what to type into each "Enter Password" window (the
#                   token login), in order; when they run out, further
#                   windows are cancelled (Escape)
# Prints one JSON object: the certificates LibreOffice offered, the
# password windows it opened (their titles and what was done), and whether
# the export wrote the PDF.
import json
import os
import subprocess
import sys
import threading
import time

import uno
from com.sun.star.beans import PropertyValue

PORT, WANT, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]
FIELD_PASSWORD = "" if sys.argv[4] == "-" else sys.argv[4]
PASSWORDS = list(sys.argv[5:])
WINDOW_TITLE = "Enter Password"

result = {"certificates": [], "windows": [], "pdf_written": False, "error": ""}
stop = threading.Event()


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True,
                          timeout=30)


def keep_screen(path):
    """Copy the screen (Xvfb -fbdir keeps it as an XWD file), to show
    what the person saw."""
    fb = os.environ.get("LO_SCREEN")
    if fb and os.path.exists(fb):
        with open(fb, "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())


def visible_windows():
    """Names of the visible top-level windows, for the record."""
    found = xdotool("search", "--onlyvisible", "--name", ".")
    names = []
    for wid in found.stdout.split():
        name = xdotool("getwindowname", wid).stdout.strip()
        if name:
            names.append(name)
    return sorted(set(names))


def answer_windows():
    """Type the next password into each new "Enter Password" window."""
    answered = set()
    last_seen = None
    while not stop.is_set():
        seen = visible_windows()
        if seen != last_seen:
            print("windows: %s" % seen, file=sys.stderr, flush=True)
            last_seen = seen
        found = xdotool("search", "--onlyvisible", "--name", WINDOW_TITLE)
        for wid in found.stdout.split():
            if wid in answered:
                continue
            # Let the window map its widgets before typing.
            time.sleep(1.0)
            answered.add(wid)
            title = xdotool("getwindowname", wid).stdout.strip()
            xdotool("windowfocus", "--sync", wid)
            if PASSWORDS:
                pw = PASSWORDS.pop(0)
                xdotool("type", "--delay", "50", pw)
                time.sleep(0.3)
                xdotool("key", "Return")
                action = "typed %d characters, Return" % len(pw)
            else:
                xdotool("key", "Escape")
                action = "cancelled"
            result["windows"].append({"title": title, "action": action})
        for wid in xdotool("search", "--onlyvisible", "--name", "^Warning$").stdout.split():
            if wid in answered:
                continue
            time.sleep(1.0)
            answered.add(wid)
            keep_screen("%s.warning-%d.xwd" % (OUT, len(result["windows"])))
            xdotool("windowfocus", "--sync", wid)
            xdotool("key", "Return")
            result["windows"].append({"title": "Warning", "action": "dismissed"})
        time.sleep(0.3)


def connect():
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    url = ("uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext"
           % PORT)
    deadline = time.time() + 120
    while True:
        try:
            return resolver.resolve(url)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def main():
    ctx = connect()
    smgr = ctx.ServiceManager
    watcher = threading.Thread(target=answer_windows, daemon=True)
    watcher.start()
    # The NSS database comes from MOZILLA_CERTIFICATE_FOLDER; listing the
    # personal certificates logs in to every token that needs it, which
    # opens LibreOffice's password window.
    sei = smgr.createInstanceWithContext(
        "com.sun.star.xml.crypto.SEInitializer", ctx)
    sec = sei.createSecurityContext("")
    env = sec.getSecurityEnvironment()
    chosen = None
    for cert in env.getPersonalCertificates():
        result["certificates"].append(cert.SubjectName)
        if WANT in cert.SubjectName and chosen is None:
            chosen = cert
    if chosen is None:
        result["error"] = "no personal certificate with %r" % WANT
        return
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0,
                                       (prop("Hidden", True),))
    doc.Text.setString("mynacard: a PDF signed in LibreOffice with the "
                       "signature certificate of the virtual My Number Card.")
    filter_data = uno.Any("[]com.sun.star.beans.PropertyValue", tuple([
        prop("SignPDF", True),
        prop("SignatureCertificate", chosen),
        prop("SignaturePassword", FIELD_PASSWORD),
        prop("SignatureReason", "mynacard system test"),
    ]))
    try:
        uno.invoke(doc, "storeToURL", (
            uno.systemPathToFileUrl(os.path.abspath(OUT)),
            (prop("FilterName", "writer_pdf_Export"),
             prop("FilterData", filter_data))))
        result["pdf_written"] = os.path.exists(OUT)
    except Exception as e:
        result["error"] = "export: %s" % e
    finally:
        doc.close(True)


def give_up():
    """A hung UNO call still ends with a report: the windows then open."""
    result["error"] = result["error"] or "timed out; windows open: %s" % (
        visible_windows(),)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    os._exit(3)


threading.Timer(float(os.environ.get("LO_SIGN_TIMEOUT", "180")), give_up).start()
try:
    main()
except Exception as e:
    result["error"] = result["error"] or repr(e)
finally:
    time.sleep(1.5)
    stop.set()
    print(json.dumps(result, ensure_ascii=False), flush=True)
    os._exit(0)
