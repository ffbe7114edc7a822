#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Mynaportal's protocol in a real Chromium (Debian's chromium, headless,
# driven over DevTools by drive-chromium.py), with our extension loaded
# unpacked the README's way (--load-extension stands in for chrome://
# extensions' "Load unpacked") and the native messaging host manifest
# `mynacard-tool setup mynaportal` writes into ~/.config/chromium (the
# profile directory Chromium is run with).  The test site (server.py) is
# https://portal.test.go.jp in the test's own network namespace, hosts
# file and test CA; the card is the virtual one over a private pcscd.
#  0. Before the set-up, a request without a PIN comes back with
#     errcode EW044-C300 (the native program cannot be reached).
#  1. A login: the page sees the hidden inputs and a Windows user agent,
#     the PIN window names the site and the purpose; a badly formatted PIN
#     is refused there, a wrong one costs one try and the window asks
#     again, a second one leaves one try and the window warns, the right
#     one logs in: the server verifies the signature over
#     its own random digest, the certificate, uuid and combination_code.
#  2. The card-info read (mode 04): its PIN typed into the window, the
#     page's form gets the card's name, address, birth date and sex.
#  3. A signature over two documents (mode 02): a 5-character password is
#     refused in the window, the right one typed in lower case signs; the
#     server verifies both signatures with the card's signature
#     certificate.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/portal-lib.sh"

CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
[ -x "$CHROMIUM" ] || sys_skip "Chromium is not installed ($CHROMIUM)"
"$PY" -c 'import websocket' 2>/dev/null || sys_skip "python3-websocket is missing for $PY"
portal_need

portal_setup

CR_PID=""
# chromium_run NAME URL DRIVER-ARGS...: Chromium with the extension, the
# driver through the site; its JSON in $SYS_WORK/NAME.json.
chromium_run() {
    local name=$1 url=$2 dport rc t0=$SECONDS
    shift 2
    dport=$(mc_free_port)
    "$CHROMIUM" --headless --no-sandbox --user-data-dir="$HOME/.config/chromium" \
        --no-first-run --no-default-browser-check --disable-gpu \
        --password-store=basic --disable-background-networking \
        --disable-features=DisableLoadExtensionCommandLineSwitch,Translate,MediaRouter \
        --load-extension="$MYNACARD_EXTENSION_DIR" --remote-debugging-port="$dport" \
        about:blank </dev/null >"$SYS_WORK/$name.chromium.log" 2>&1 &
    CR_PID=$!
    sys_track "$CR_PID"
    timeout 180 "$PY" "$HERE/drive-chromium.py" "$dport" "$url" "$SYS_WORK/$name.json" \
        --ext-id "$EXT_ID" "$@" >"$SYS_WORK/$name.client.log" 2>&1
    rc=$?
    sed 's/^/#   client: /' "$SYS_WORK/$name.client.log"
    sys_reap "$CR_PID" 50
    CR_PID=""
    sys_log "$name: $((SECONDS - t0)) s with Chromium's start and end"
    return "$rc"
}

# ---- the test site's CA ----
mkdir -p "$HOME/.pki/nssdb"
sys_ok "certutil: the test site's CA trusted in ~/.pki/nssdb (C,,)" \
    eval 'mc_run certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password &&
          mc_run certutil -A -d "sql:$HOME/.pki/nssdb" -n "mynacard test site CA" -t "C,," -i "$PKI/ca.pem"'

# ---- 0. before the set-up: the native program cannot be reached ----
chromium_run probe "$PORTAL_URL/?do=probe"
j "$SYS_WORK/probe.json" 'json.dumps(d, ensure_ascii=False)' | sed 's/^/#   run: /'
sys_ok "no host manifest yet: a request without a PIN (check) comes back as itself with result 1, errcode EW044-C300" \
    test "$(j "$SYS_WORK/probe.json" 'd["page"]["verdict"]')" = "PROBE 1 EW044-C300 check p1"
sys_ok "  and no PIN window opened for it" test "$(j "$SYS_WORK/probe.json" 'd["dialog_seen"]')" = False

# ---- the README's set-up: the host manifest ----
sys_ok "mynacard-tool setup mynaportal: exit 0" mc_run "$MYNACARD_TOOL" setup mynaportal
HOSTJSON="$HOME/.config/chromium/NativeMessagingHosts/mynacard.mynaportal.json"
sys_ok "  it wrote $HOSTJSON for chrome-extension://$EXT_ID/ and mynacard-mpa" \
    test "$(j "$HOSTJSON" 'd["allowed_origins"] == ["chrome-extension://%s/" % sys.argv[3]] and d["path"] == sys.argv[4] and d["type"] == "stdio"' "$EXT_ID" "$MYNACARD_MPA")" = True

# ---- 1. login: a bad-format PIN, two wrong ones, the right one; then 2.
# the card-info read (mode 04) and 3. a signature, in the same browser ----
V0=$(verify_count)
chromium_run login "$PORTAL_URL/?do=login" --bad-format 12a --wrong 9999 --wrong 9998 --repeat \
    --pin "$MC_AUTH_PIN" --between "'$MYNACARD_EMU' status '$CARD'" --after "$VERIFY_COUNT" \
    --then "$PORTAL_URL/?do=cardinfo" "$SYS_WORK/cardinfo.json" --pin "$MC_TEXT_PIN" \
    --then "$PORTAL_URL/?do=sign" "$SYS_WORK/sign.json" --bad-format abc12 \
        --pin "$(echo "$MC_SIGN_PIN" | tr A-Z a-z)"
portal_login_checks "$SYS_WORK/login.json" Chromium 2
sys_ok "  a second wrong PIN: 1 try left, and the window warns plainly" \
    eval 'j "$SYS_WORK/login.json" "d[\"wrong1\"][\"tries\"]" | grep -qF "残り回数: 1回" &&
          j "$SYS_WORK/login.json" "d[\"wrong1\"][\"warning\"]" | grep -qF "あと1回間違えると"'
sys_ok "  the first wrong PIN typed again: refused in the window, not sent, still 1 try" \
    eval 'j "$SYS_WORK/login.json" "d[\"repeat\"][\"error\"]" | grep -qF "さきほどカードに違うと判定" &&
          j "$SYS_WORK/login.json" "d[\"repeat\"][\"tries\"]" | grep -qF "残り回数: 1回"'
portal_cardinfo_checks "$SYS_WORK/cardinfo.json" Chromium
portal_sign_checks "$SYS_WORK/sign.json" Chromium

sys_done
