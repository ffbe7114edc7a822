#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Run one ```sh block of the README in a terminal, as a person would, for
# tests/system/readme/test-readme.sh.
#
#   run-block.py BLOCKDIR BB WORKDIR OUTDIR
#
# The commands BLOCKDIR/BB-*.cmd (from blocks.py) go verbatim, one after
# the other, into a bash script that runs in a tmux pane (a real
# pseudo-terminal, 200x50), between marker lines that tell their outputs
# and exit statuses apart.  The script first sources OUTDIR/user.env (the
# person's environment, written by the caller) and changes to WORKDIR;
# background jobs the block started (`cmd &`) are stopped by their PID
# (`jobs -p`) when the block ends.  A watcher reads the pane and does what
# the person at the keyboard does:
#   - a PIN or password prompt: types the signature password if the
#     prompt or the command names the signature token (or it is
#     `mynacard-tool ... sign`), else the authentication PIN
#     (README_AUTH_PIN, README_SIGN_PIN in this program's environment,
#     never the pane's); a prompt that comes again with the same words
#     (the PIN was refused) gets Ctrl-C, never the PIN again, and so does
#     a 4th prompt;
#   - ssh's "(yes/no/[fingerprint])?" for a new host: yes;
#   - modutil's "Type 'q <enter>' to abort, or <enter> to continue:"
#     (Firefox is not running): Enter;
#   - a remote shell prompt after `ssh ... user@host`: runs
#     `echo readme-test-remote-user=$(id -un)` there, then `exit`;
#   - gnutls-cli's "Simple Client Mode" and openssl s_client's finished
#     handshake: sends "GET / HTTP/1.0" (s_server -www answers at once and
#     closes; a blank line after it would stay in the terminal for the
#     next command); Ctrl-D or Q if the client is still there 20 s
#     later;
#   - `mynacard-emu run` in the foreground: Ctrl-C once pcscd's reader
#     shows the card (opensc-tool -l), as the person stops it;
#   - any command still running after its time limit (README_TIMEOUT, 300 s
#     by default; the first block's 2400 s, it builds): Ctrl-C, recorded.
# Commands named in README_SKIP ("BB-CC ...") are not run (rc "skip").
# Results: OUTDIR/BB-CC.out (what the terminal showed), BB-CC.rc (the exit
# status), BB-CC.events (what the watcher did, one a line; no PIN in it).
import glob
import os
import re
import shlex
import subprocess
import sys
import time

PROMPT = re.compile(r"(PIN|[Pp]assphrase|[Pp]assword)[^\n]{0,160}:\s*$")
YESNO = re.compile(r"\(yes/no(/\[fingerprint\])?\)\?\s*$")
MODUTIL = re.compile(r"or <enter> to continue:\s*$")
SHELL = re.compile(r"[$#]\s*$")
BEGIN = re.compile(r"^@@RT-BEGIN (\d+)@@$", re.M)
END = re.compile(r"^@@RT-END (\d+) rc=(\d+)@@$", re.M)
DONE = "@@RT-DONE@@"


def tmux(sock, *args, check=True):
    r = subprocess.run(["tmux", "-S", sock] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check and r.returncode != 0:
        raise RuntimeError("tmux %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout


def card_present():
    r = subprocess.run(["opensc-tool", "-l"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return re.search(r"^\d+ +Yes +", r.stdout, re.M) is not None


class Cmd:
    def __init__(self, n, text):
        self.n = n
        self.text = text
        self.words = text.split()
        self.events = []
        self.answered = 0
        self.started = None
        self.flags = set()
        self.prompts = set()

    def ev(self, what):
        self.events.append("%5.1fs %s" % (time.time() - self.started, what))


def main():
    blockdir, bb, workdir, outdir = sys.argv[1:5]
    auth_pin = os.environ.pop("README_AUTH_PIN", "")
    sign_pin = os.environ.pop("README_SIGN_PIN", "")
    limit = float(os.environ.get("README_TIMEOUT", "300"))
    skip = set(os.environ.get("README_SKIP", "").split())
    files = sorted(glob.glob(os.path.join(blockdir, bb + "-*.cmd")))
    cmds = []
    script = ["source %s" % shlex.quote(os.path.join(outdir, "user.env")),
              "cd %s || exit 1" % shlex.quote(workdir),
              # Background jobs leave with the terminal, whatever happens.
              "trap 'kill $(jobs -p) 2>/dev/null; exit 129' HUP TERM"]
    for i, f in enumerate(files, 1):
        with open(f, encoding="utf-8") as fh:
            text = fh.read().rstrip("\n")
        cmds.append(Cmd(i, text))
        if "%s-%02d" % (bb, i) in skip:
            continue
        script.append("printf '\\n@@RT-BEGIN %d@@\\n'" % i)
        script.append(text)
        script.append("printf '\\n@@RT-END %d rc=%%s@@\\n' \"$?\"" % i)
    script.append("for p in $(jobs -p); do kill $p; wait $p; done 2>/dev/null")
    script.append("printf '\\n%s\\n'" % DONE)
    spath = os.path.join(outdir, bb + ".sh")
    with open(spath, "w", encoding="utf-8") as fh:
        fh.write("\n".join(script) + "\n")

    sock = os.path.join(outdir, bb + ".tmux")
    conf = os.path.join(outdir, "tmux.conf")
    with open(conf, "w") as fh:
        fh.write("set -g history-limit 200000\nset -g remain-on-exit on\n")
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env["TERM"] = "xterm-256color"
    subprocess.run(["tmux", "-S", sock, "-f", conf, "new-session", "-d",
                    "-x", "200", "-y", "50",
                    "bash --noprofile --norc %s" % shlex.quote(spath)],
                   env=env, check=True)
    server_pid = int(tmux(sock, "display-message", "-p", "#{pid}").strip())
    with open(os.path.join(outdir, bb + ".tmux.pid"), "w") as fh:
        fh.write("%d\n" % server_pid)
    try:
        watch(sock, cmds, limit, auth_pin, sign_pin)
        text = capture(sock)
    finally:
        subprocess.run(["kill", str(server_pid)], stderr=subprocess.DEVNULL)
    results(text, cmds, bb, outdir, skip)
    return 0


def capture(sock):
    return tmux(sock, "capture-pane", "-p", "-J", "-S", "-", "-t", "0",
                check=False)


def watch(sock, cmds, limit, auth_pin, sign_pin):
    """Read the pane until the block is done, answering it."""

    def send(*keys):
        tmux(sock, "send-keys", "-t", "0", *keys, check=False)

    def send_text(text):
        tmux(sock, "send-keys", "-t", "0", "-l", text, check=False)
        send("Enter")

    while True:
        time.sleep(0.2)
        text = capture(sock)
        dead = tmux(sock, "display-message", "-p", "-t", "0",
                    "#{pane_dead}", check=False).strip() == "1"
        if DONE in text or dead:
            break
        begins = list(BEGIN.finditer(text))
        if not begins:
            continue
        last = begins[-1]
        n = int(last.group(1))
        c = cmds[n - 1]
        if END.search(text, last.end()):
            continue
        if c.started is None:
            c.started = time.time()
        out = text[last.end():].rstrip("\n")
        lines = [l for l in out.split("\n") if l.strip()]
        tail = lines[-1] if lines else ""
        elapsed = time.time() - c.started
        first = c.words[0] if c.words else ""
        second = c.words[1] if len(c.words) > 1 else ""

        if elapsed > limit:
            if "timeout" not in c.flags:
                c.flags.add("timeout")
                c.ev("still running after %ds: Ctrl-C" % limit)
                send("C-c")
            elif elapsed > limit + 20:
                c.ev("still running: giving up on the block")
                break
            continue
        # A new password prompt at the cursor: type the PIN once.
        prompts = sum(1 for l in lines if PROMPT.search(l))
        if PROMPT.search(tail) and prompts > c.answered:
            c.answered += 1
            if tail.strip() in c.prompts or c.answered > 3:
                # The same prompt again: the PIN was refused.  Typing it
                # again would spend another try.
                c.ev("asked again (%s): not answered, Ctrl-C" % tail.strip())
                send("C-c")
                continue
            c.prompts.add(tail.strip())
            sign = ("ignature" in tail or "(Signature)" in c.text or
                    (first == "mynacard-tool" and "sign" in c.words[1:3]))
            c.ev("typed the %s at the prompt: %s" %
                 ("signature password" if sign else "authentication PIN",
                  tail.strip()))
            send_text(sign_pin if sign else auth_pin)
            continue
        if MODUTIL.search(tail) and "enter" not in c.flags:
            c.flags.add("enter")
            c.ev("pressed Enter at modutil's warning: %s" % tail.strip())
            send("Enter")
            continue
        if YESNO.search(tail) and "yes" not in c.flags:
            c.flags.add("yes")
            c.ev("answered yes to: %s" % tail.strip())
            send_text("yes")
            continue
        if first == "ssh" and "@" in c.text and SHELL.search(tail) \
                and "remote" not in c.flags and elapsed > 0.5:
            c.flags.add("remote")
            c.ev("remote shell prompt (%s): ran id -un, then exit" % tail.strip())
            send_text("echo readme-test-remote-user=$(id -un)")
            send_text("exit")
            continue
        tls = ((first == "gnutls-cli" and "- Simple Client Mode" in out) or
               (first == "openssl" and second == "s_client" and
                re.search(r"^\s*Verify return code: \d+", out, re.M) and
                re.search(r"^---$", out.split("Verify return code")[-1], re.M)))
        if tls and "get" not in c.flags:
            c.flags.add("get")
            c.get_at = time.time()
            c.ev("TLS session up: sent GET / HTTP/1.0")
            time.sleep(0.3)
            send_text("GET / HTTP/1.0")
            continue
        if "get" in c.flags and "quit" not in c.flags \
                and time.time() - c.get_at > 20:
            c.flags.add("quit")
            if first == "gnutls-cli":
                c.ev("client still connected 20 s later: Ctrl-D")
                send("C-d")
            else:
                c.ev("client still connected 20 s later: Q")
                send_text("Q")
            continue
        if first == "mynacard-emu" and second == "run" \
                and not c.text.rstrip().endswith("&") \
                and "stopped" not in c.flags and elapsed > 1 and card_present():
            c.flags.add("stopped")
            c.ev("pcscd's reader shows the card: Ctrl-C")
            send("C-c")
            continue



def results(text, cmds, bb, outdir, skip):
    """Each command's output, exit status and keyboard events, in files."""
    for c in cmds:
        b = None
        for m in BEGIN.finditer(text):
            if int(m.group(1)) == c.n:
                b = m
        out, rc = "", "none"
        if "%s-%02d" % (bb, c.n) in skip:
            rc = "skip"
        if b is not None:
            e = None
            for m in END.finditer(text, b.end()):
                if int(m.group(1)) == c.n:
                    e = m
                    break
            if e is not None:
                out, rc = text[b.end():e.start()], e.group(2)
            else:
                out = text[b.end():]
                nb = BEGIN.search(out)
                if nb:
                    out = out[:nb.start()]
        base = os.path.join(outdir, "%s-%02d" % (bb, c.n))
        with open(base + ".out", "w", encoding="utf-8") as fh:
            fh.write(out.strip("\n") + "\n")
        with open(base + ".rc", "w") as fh:
            fh.write(rc + "\n")
        with open(base + ".events", "w", encoding="utf-8") as fh:
            fh.write("".join(e + "\n" for e in c.events))


if __name__ == "__main__":
    sys.exit(main())
