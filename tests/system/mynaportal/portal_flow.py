# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""The user's side of one request through the test site, the same for
both browsers (drive-chromium.py, drive-firefox.py give the mechanics):
open the page, find the extension's PIN window, read what it says, type a
badly formatted PIN, a wrong one and the right one as asked, and read the
page's outcome.  The result is one JSON object (see run()).
"""
import argparse
import json
import subprocess
import sys
import time

# The PIN window's state, as one expression (pin.html's ids).
DIALOG_STATE = """(function () {
  const t = (id) => { const e = document.getElementById(id);
                      return e && !e.hidden ? e.textContent : ""; };
  const f = document.getElementById("form");
  return { ready: !!f && !f.hidden, who: t("who"), consent: t("consent"),
           label: t("label"), rule: t("rule"), tries: t("tries"),
           warning: t("warning"), error: t("error"), stop: t("stop-text"),
           url: location.href };
})()"""

PAGE_STATE = """(function () {
  const v = (id) => { const e = document.getElementById(id);
                      return e ? (e.value !== undefined && e.tagName === "INPUT"
                                  ? e.value : e.textContent) : null; };
  return { verdict: v("verdict"), answer: v("answer"),
           ext: v("extension-is-installed"), app: v("app-is-installed"),
           ua: navigator.userAgent, platform: navigator.platform,
           early: window.seenEarly || null,
           name: v("name"), address: v("address"), birthday: v("birthday"),
           sex: v("sex"), url: location.href };
})()"""


def type_pin(pin):
    # The field gets the PIN as typed, then the form is submitted as the
    # OK button would (pin.js's submit handler checks and sends it).
    return ("(function () { const p = document.getElementById('pin');"
            " p.value = %s; document.getElementById('form').requestSubmit();"
            " return true; })()" % json.dumps(pin))


def wait(what, fn, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise TimeoutError(what)


def arguments():
    """PORT URL OUT [options] [--then URL OUT [options]]...: one flow per
    group, in turn, in the same browser (a browser's start is most of a
    flow's time)."""
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("--pin", default="", help="none: no PIN window expected")
    p.add_argument("--bad-format", default="")
    p.add_argument("--wrong", action="append", default=[],
                   help="a wrong PIN, typed before the right one (repeatable)")
    p.add_argument("--repeat", action="store_true",
                   help="type the first wrong PIN again after the wrong ones")
    p.add_argument("--between", default="",
                   help="a shell command run after the first wrong PIN")
    p.add_argument("--after", default="",
                   help="a shell command run once the page has its verdict")
    argv = sys.argv[2:]
    groups = [[]]
    for a in argv:
        if a == "--then":
            groups.append([])
        else:
            groups[-1].append(a)
    return int(sys.argv[1]), [p.parse_args(g) for g in groups]


def run_all(browser, flows):
    rc = 0
    for args in flows:
        rc |= run(browser, args)
    return rc


def run(browser, args):
    """browser: open(url), dialog() (True once the PIN window is found),
    dialog_eval(expr), dialog_gone(), page_eval(expr)."""
    out = {"steps": []}
    t0 = time.time()
    try:
        browser.open(args.url)
        if not args.pin:       # a request that needs no PIN: no window
            out["page"] = wait("the page's verdict",
                               lambda: verdict(browser.page_eval(PAGE_STATE), args.url), 60)
            out["dialog_seen"] = browser.dialog()
            raise StopIteration
        wait("the PIN window", browser.dialog, 60)
        out["dialog"] = wait("the PIN window ready",
                             lambda: ready(browser.dialog_eval(DIALOG_STATE)), 60)
        if not out["dialog"]["ready"]:
            raise RuntimeError("the PIN window asks for no PIN: " + out["dialog"]["stop"])
        if args.bad_format:
            before = browser.dialog_eval(DIALOG_STATE)["tries"]
            browser.dialog_eval(type_pin(args.bad_format))
            st = wait("the format error", lambda: has(browser.dialog_eval(DIALOG_STATE), "error"), 20)
            out["bad_format"] = st
            out["bad_format"]["tries_before"] = before
        last = out["dialog"]
        for i, wrong in enumerate(args.wrong):
            browser.dialog_eval(type_pin(wrong))
            last = wait("the wrong-PIN answer", lambda: changed_tries(
                browser.dialog_eval(DIALOG_STATE), last["tries"]), 60)
            out["wrong" if i == 0 else "wrong%d" % i] = last
            if args.between and i == 0:
                out["between"] = shell(args.between)
        if args.repeat and args.wrong:
            browser.dialog_eval(type_pin(args.wrong[0]))
            out["repeat"] = wait("the repeated-PIN refusal", lambda: has_text(
                browser.dialog_eval(DIALOG_STATE), "error", "さきほどカードに違うと判定"), 20)
        browser.dialog_eval(type_pin(args.pin))
        wait("the PIN window to close", browser.dialog_gone, 60)
        out["page"] = wait("the page's verdict",
                           lambda: verdict(browser.page_eval(PAGE_STATE), args.url), 90)
        if args.after:
            out["after"] = shell(args.after)
    except StopIteration:
        pass
    except Exception as e:     # recorded; the test's checks then fail
        out["error"] = "%s: %s" % (type(e).__name__, e)
        try:
            out["page_at_error"] = browser.page_eval(PAGE_STATE)
        except Exception:
            pass
    out["seconds"] = round(time.time() - t0, 1)
    with open(args.out, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    return 0 if "error" not in out else 1


def shell(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          timeout=60).stdout


def ready(st):
    return st if st and (st.get("ready") or st.get("stop")) else None


def has(st, key):
    return st if st and st.get(key) else None


def has_text(st, key, text):
    return st if st and text in st.get(key, "") else None


def changed_tries(st, before):
    return st if st and (st.get("stop") or (st.get("error") and st.get("tries") != before)) else None


def verdict(st, url):
    # The page of this flow (the last flow's may still be there).
    return st if st and st.get("url") == url and st.get("verdict") else None


def pop_option(argv, name):
    """Take `name VALUE` out of argv (a browser driver's own option)."""
    if name not in argv:
        raise SystemExit("%s is required" % name)
    i = argv.index(name)
    return argv[:i] + argv[i + 2:], argv[i + 1]
