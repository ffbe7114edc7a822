#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""Drive a running Chromium through the test site (portal_flow.py) over
its DevTools protocol (the session code is tests/system/chromium/
devtools.py's): the page is the first page target; the extension's PIN
window is the page target at chrome-extension://ID/pin.html.

    drive-chromium.py PORT URL OUT --ext-id ID --pin PIN [--wrong PIN]
                      [--bad-format PIN] [--between CMD]
                      [--then URL OUT ...]...
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "chromium"))
import devtools  # noqa: E402  (Session, targets, page_ws)
import portal_flow  # noqa: E402


class Chromium:
    def __init__(self, port, ext_id):
        self.port = port
        self.prefix = "chrome-extension://%s/pin.html" % ext_id
        self.page = devtools.Session(devtools.page_ws(port))
        self.pin = None

    def evaluate(self, session, expr):
        r = session.call("Runtime.evaluate", {"expression": expr,
                                              "returnByValue": True}, timeout=20)
        return r.get("result", {}).get("result", {}).get("value")

    def open(self, url):
        self.page.call("Page.enable")
        self.page.send("Page.navigate", {"url": url})

    def pin_target(self):
        for t in devtools.targets(self.port):
            if t.get("type") == "page" and t.get("url", "").startswith(self.prefix):
                return t
        return None

    def dialog(self):
        t = self.pin_target()
        if t is None:
            return False
        self.pin = devtools.Session(t["webSocketDebuggerUrl"])
        return True

    def dialog_eval(self, expr):
        return self.evaluate(self.pin, expr)

    def dialog_gone(self):
        return self.pin_target() is None

    def page_eval(self, expr):
        return self.evaluate(self.page, expr)

    def close(self):
        try:
            self.page.send("Browser.close")
        except Exception:
            pass


def main():
    sys.argv, ext = portal_flow.pop_option(sys.argv, "--ext-id")
    port, flows = portal_flow.arguments()
    b = Chromium(port, ext)
    rc = portal_flow.run_all(b, flows)
    b.close()
    time.sleep(0.5)
    return rc


if __name__ == "__main__":
    sys.exit(main())
