#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""Drive a running Chromium over its DevTools protocol, and answer its PIN
dialog the way a person would (xdotool on its X display).

    devtools.py PORT URL OUT PIN...

Navigates the first page target to URL (Page.navigate answers only once
the PIN dialog is answered, so it is not waited for), and meanwhile
watches the display for "Unlock Security Device" windows: the first gets
PIN[0] typed and Return, the next PIN[1], and so on; one more is closed
with Escape.  Then it reads document.body.innerText until it shows a
page (or 60 s pass) and writes OUT, JSON: {"prompts": [...], "text":
..., "url": ...}.  Exit status 0 when a page with text came.
"""
import json
import subprocess
import sys
import threading
import time
import urllib.request

import websocket  # python3-websocket

TITLE = "Unlock Security Device"


def targets(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/json" % port,
                                timeout=5) as r:
        return json.load(r)


def page_ws(port):
    for _ in range(300):
        try:
            for t in targets(port):
                if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                    return t["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("devtools: no page target on port %d" % port)


class Session:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=120,
                                              suppress_origin=True)
        self.next_id = 0
        self.lock = threading.Lock()

    def send(self, method, params=None):
        with self.lock:
            self.next_id += 1
            self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                     "params": params or {}}))
            return self.next_id

    def call(self, method, params=None, timeout=30):
        want = self.send(method, params)
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == want:
                return msg
        raise TimeoutError(method)


def windows():
    r = subprocess.run(["xdotool", "search", "--name", TITLE],
                       capture_output=True, text=True)
    return [w for w in r.stdout.split() if w]


def answer_dialogs(pins, prompts, stop):
    """Answer each new PIN dialog: PINs in order, then Escape."""
    seen = set()
    while not stop.is_set():
        for w in windows():
            if w in seen:
                continue
            seen.add(w)
            time.sleep(0.5)   # the dialog takes its input once drawn
            n = len(prompts)
            subprocess.run(["xdotool", "windowfocus", "--sync", w],
                           capture_output=True, timeout=20)
            if n < len(pins):
                subprocess.run(["xdotool", "type", "--delay", "50", pins[n]],
                               timeout=20)
                subprocess.run(["xdotool", "key", "Return"], timeout=20)
                prompts.append({"window": w, "action": "pin%d" % n})
            else:
                subprocess.run(["xdotool", "key", "Escape"], timeout=20)
                prompts.append({"window": w, "action": "cancel"})
        time.sleep(0.2)


def main():
    port, url, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    pins = sys.argv[4:]
    s = Session(page_ws(port))
    s.call("Page.enable")
    prompts, stop = [], threading.Event()
    watcher = threading.Thread(target=answer_dialogs,
                               args=(pins, prompts, stop), daemon=True)
    watcher.start()
    s.send("Page.navigate", {"url": url})
    text, where = "", ""
    end = time.time() + 90
    while time.time() < end:
        time.sleep(1)
        try:
            r = s.call("Runtime.evaluate", {
                "expression": "[location.href, document.body ? "
                              "document.body.innerText : '']",
                "returnByValue": True}, timeout=10)
        except (TimeoutError, websocket.WebSocketException):
            continue
        val = r.get("result", {}).get("result", {}).get("value")
        if not val:
            continue
        where, text = val
        if where.startswith(url.split("#")[0]) and text.strip():
            break
        if where.startswith("chrome-error:") and text.strip():
            break
    stop.set()
    watcher.join(timeout=5)
    with open(out, "w") as f:
        json.dump({"prompts": prompts, "text": text, "url": where}, f)
    try:
        s.send("Browser.close")
    except websocket.WebSocketException:
        pass
    return 0 if text.strip() and not where.startswith("chrome-error:") else 1


if __name__ == "__main__":
    sys.exit(main())
