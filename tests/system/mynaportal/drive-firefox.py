#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""Drive a running Firefox (started with --marionette) through the test
site (portal_flow.py) over Marionette (the client is tests/system/
firefox/marionette.py's): the page is the first window; the extension's
PIN window is the new window at moz-extension://UUID/pin.html.

    drive-firefox.py PORT URL OUT --pin PIN [--wrong PIN]
                     [--bad-format PIN] [--between CMD]
                     [--then URL OUT ...]...
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "firefox"))
import marionette  # noqa: E402  (Marionette)
import portal_flow  # noqa: E402


class Firefox:
    def __init__(self, port):
        self.m = marionette.Marionette(port)
        self.m.call("WebDriver:NewSession", {"capabilities": {}})
        self.m.call("Marionette:SetContext", {"value": "content"})
        r = self.m.call("WebDriver:GetWindowHandle")
        self.main = r["value"] if isinstance(r, dict) else r
        self.current = self.main
        self.pin = None

    def switch(self, handle):
        if self.current != handle:
            self.m.call("WebDriver:SwitchToWindow", {"handle": handle, "focus": True})
            self.current = handle

    def evaluate(self, handle, expr):
        self.switch(handle)
        return self.m.call("WebDriver:ExecuteScript",
                           {"script": "return (%s);" % expr})["value"]

    def handles(self):
        r = self.m.call("WebDriver:GetWindowHandles")
        return r["value"] if isinstance(r, dict) else r

    def open(self, url):
        self.pin = None
        self.switch(self.main)
        self.m.call("WebDriver:Navigate", {"url": url})

    def dialog(self):
        for h in self.handles():
            if h == self.main:
                continue
            self.switch(h)
            url = self.m.call("WebDriver:GetCurrentURL")["value"]
            if url.startswith("moz-extension://") and "/pin.html" in url:
                self.pin = h
                return True
        return False

    def dialog_eval(self, expr):
        return self.evaluate(self.pin, expr)

    def dialog_gone(self):
        gone = self.pin not in self.handles()
        if gone and self.current == self.pin:
            self.current = None
        return gone

    def page_eval(self, expr):
        return self.evaluate(self.main, expr)

    def close(self):
        try:
            self.m.call("Marionette:Quit", {"flags": ["eForceQuit"]})
        except (RuntimeError, ConnectionError, OSError):
            pass


def main():
    port, flows = portal_flow.arguments()
    b = Firefox(port)
    rc = portal_flow.run_all(b, flows)
    b.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
