#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Mynaportal's protocol in a real Firefox ESR (headless, driven over
# Marionette by drive-firefox.py), with our extension installed the
# README's way: `mynacard-tool setup mynaportal --allow-unsigned` writes
# the native messaging host manifest into ~/.mozilla and puts the .xpi and
# the preferences an unsigned extension needs into the profile that
# ~/.mozilla/firefox/profiles.ini lists.  The test site (server.py) is
# https://portal.test.go.jp in the test's own network namespace, hosts
# file and test CA; the card is the virtual one over a private pcscd.
#  1. A login: the page sees the hidden inputs and a Windows user agent,
#     the PIN window names the site and the purpose; a badly formatted PIN
#     is refused there, a wrong one costs one try and the window asks
#     again, the right one logs in: the server verifies the signature over
#     its own random digest, the certificate, uuid and combination_code.
#  2. The card-info read (mode 04): its PIN typed into the window, the
#     page's form gets the card's name, address, birth date and sex.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/portal-lib.sh"

FIREFOX=${FIREFOX:-firefox-esr}
mc_need "$FIREFOX"
portal_need

portal_setup

# ---- a Firefox profile where the user's would be ----
PROFILE="$HOME/.mozilla/firefox/test.default"
mkdir -p "$PROFILE"
cat >"$HOME/.mozilla/firefox/profiles.ini" <<INI
[Profile0]
Name=default
IsRelative=1
Path=test.default
Default=1

[General]
StartWithLastProfile=1
Version=2
INI
MPORT=$(mc_free_port)
mc_firefox_prefs "$MPORT" >"$PROFILE/user.js"

# ---- the README's set-up ----
sys_ok "mynacard-tool setup mynaportal --allow-unsigned: exit 0" \
    mc_run "$MYNACARD_TOOL" setup mynaportal --allow-unsigned
HOSTJSON="$HOME/.mozilla/native-messaging-hosts/mynacard.mynaportal.json"
sys_ok "  it wrote $HOSTJSON for mynaportal@mynacard.org and mynacard-mpa" \
    test "$(j "$HOSTJSON" 'd["allowed_extensions"] == ["mynaportal@mynacard.org"] and d["path"] == sys.argv[3] and d["type"] == "stdio"' "$MYNACARD_MPA")" = True
sys_ok "  and put the .xpi into the profile" \
    cmp -s "$PROFILE/extensions/mynaportal@mynacard.org.xpi" "$MYNACARD_EXTENSION_XPI"
sys_ok "certutil: the test site's CA trusted in the profile (C,,)" \
    eval 'mc_run certutil -N -d "sql:$PROFILE" --empty-password &&
          mc_run certutil -A -d "sql:$PROFILE" -n "mynacard test site CA" -t "C,," -i "$PKI/ca.pem"'

FF_PID=""
# firefox_run NAME URL DRIVER-ARGS...: Firefox with the profile, the
# driver through the site; its JSON in $SYS_WORK/NAME.json.
firefox_run() {
    local name=$1 url=$2 rc t0=$SECONDS
    shift 2
    MOZ_HEADLESS=1 "$FIREFOX" --headless --marionette -remote-allow-system-access \
        --no-remote --profile "$PROFILE" about:blank </dev/null \
        >"$SYS_WORK/$name.firefox.log" 2>&1 &
    FF_PID=$!
    sys_track "$FF_PID"
    timeout 180 "$PY" "$HERE/drive-firefox.py" "$MPORT" "$url" "$SYS_WORK/$name.json" \
        "$@" >"$SYS_WORK/$name.client.log" 2>&1
    rc=$?
    sed 's/^/#   client: /' "$SYS_WORK/$name.client.log"
    sys_reap "$FF_PID" 100
    FF_PID=""
    sys_log "$name: $((SECONDS - t0)) s with Firefox's start and end"
    return "$rc"
}

# ---- 1. login: a bad-format PIN, a wrong one, the right one; then 2.
# the card-info read (mode 04), in the same browser ----
V0=$(verify_count)
firefox_run login "$PORTAL_URL/?do=login" --bad-format 12a --wrong 9999 \
    --pin "$MC_AUTH_PIN" --between "'$MYNACARD_EMU' status '$CARD'" --after "$VERIFY_COUNT" \
    --then "$PORTAL_URL/?do=cardinfo" "$SYS_WORK/cardinfo.json" --pin "$MC_TEXT_PIN"
portal_login_checks "$SYS_WORK/login.json" Firefox 1
portal_cardinfo_checks "$SYS_WORK/cardinfo.json" Firefox

sys_done
