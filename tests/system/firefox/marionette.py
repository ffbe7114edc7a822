#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# A minimal Marionette client (stdlib only; geckodriver is not packaged in
# Debian) for tests/system/firefox/test-firefox.sh.  It connects to a
# Firefox started with --marionette on 127.0.0.1:PORT, registers in the
# chrome context a window watcher that answers Firefox's own PIN dialog
# (commonDialog's password1Textbox) with the given PINs in turn and cancels
# any further prompt, navigates to URL, and writes the page source, the
# final URL, the document URI (about:neterror?... on an error page) and the prompts seen (JSON) to OUT.  Marionette messages are
# "LENGTH:JSON"; a command is [0, id, name, params], its answer
# [1, id, error, result].
import json, socket, sys, time

WATCHER = r"""
const pins = arguments[0];
const bw = Services.wm.getMostRecentWindow("navigator:browser");
bw.mcPrompts = [];
const obs = { observe(win, topic) {
  if (topic != "domwindowopened") return;
  win.addEventListener("load", () => {
    const doc = win.document;
    const tb = doc.getElementById("password1Textbox");
    const dlg = doc.querySelector("dialog") || doc.documentElement;
    const info = doc.getElementById("infoBody");
    const entry = { url: String(win.location),
                    text: info ? info.textContent : "", action: "" };
    bw.mcPrompts.push(entry);
    if (!tb) return;
    const n = bw.mcPrompts.filter(e => e.action.startsWith("pin")).length;
    if (n < pins.length) {
      tb.value = pins[n];
      entry.action = "pin" + n;
      win.setTimeout(() => dlg.acceptDialog(), 100);
    } else {
      entry.action = "cancel";
      win.setTimeout(() => dlg.cancelDialog(), 100);
    }
  }, { once: true });
} };
bw.mcObserver = obs;
Services.ww.registerNotification(obs);
return true;
"""


class Marionette:
    def __init__(self, port, timeout=120):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), 5)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.msgid = 0
        self.hello = self.read()

    def read(self):
        while b":" not in self.buf:
            self.fill()
        n, _, self.buf = self.buf.partition(b":")
        while len(self.buf) < int(n):
            self.fill()
        msg, self.buf = self.buf[:int(n)], self.buf[int(n):]
        return json.loads(msg)

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("Marionette closed the connection")
        self.buf += data

    def call(self, name, params=None):
        self.msgid += 1
        body = json.dumps([0, self.msgid, name, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            msg = self.read()
            if msg[0] == 1 and msg[1] == self.msgid:
                if msg[2]:
                    raise RuntimeError("%s: %s" % (name, msg[2]))
                return msg[3]


def main():
    port, url, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    pins = sys.argv[4:]
    m = Marionette(port)
    m.call("WebDriver:NewSession", {"capabilities": {}})
    m.call("Marionette:SetContext", {"value": "chrome"})
    m.call("WebDriver:ExecuteScript", {"script": WATCHER, "args": [pins]})
    m.call("Marionette:SetContext", {"value": "content"})
    nav_error = ""
    try:
        m.call("WebDriver:Navigate", {"url": url})
    except RuntimeError as e:      # an error page: recorded, not fatal
        nav_error = str(e)
    time.sleep(1)
    source = m.call("WebDriver:GetPageSource")["value"]
    current = m.call("WebDriver:GetCurrentURL")["value"]
    # An error page keeps the URL asked for; its document URI says what
    # failed (about:neterror?e=...&u=...&d=<description, error code>).
    docuri = m.call("WebDriver:ExecuteScript",
                    {"script": "return document.documentURI;"})["value"]
    errcode = m.call("WebDriver:ExecuteScript", {"script":
        "try { return document.getNetErrorInfo().errorCodeString; }"
        " catch (e) { return ''; }"})["value"]
    m.call("Marionette:SetContext", {"value": "chrome"})
    prompts = m.call("WebDriver:ExecuteScript", {"script":
        "return Services.wm.getMostRecentWindow('navigator:browser').mcPrompts;"
    })["value"]
    with open(out, "w") as f:
        json.dump({"url": current, "document_uri": docuri,
                   "error_code": errcode, "navigate_error": nav_error,
                   "prompts": prompts, "source": source}, f, indent=1)
    try:
        m.call("Marionette:Quit", {"flags": ["eForceQuit"]})
    except (RuntimeError, ConnectionError, OSError):
        pass


if __name__ == "__main__":
    main()
