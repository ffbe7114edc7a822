#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Real Chromium (Debian's chromium) with the card, over a private pcscd and
# the virtual card (tests/system/lib.sh).  `mynacard-tool setup chromium`
# puts the authentication-only module into ~/.pki/nssdb, where Chromium
# on Linux finds security devices; the test server's CA is trusted there.
# Chromium runs headful on a private Xvfb (headless Chromium never asks
# for a PIN), as root with --no-sandbox; a managed policy
# (AutoSelectCertificateForUrls, by the card's issuer) chooses the
# certificate; devtools.py navigates over the DevTools protocol and types
# the PIN into Chromium's own "Unlock Security Device" dialog with
# xdotool.  1. A TLS 1.2 login: the page s_server returns shows the card's
# authentication certificate, byte for byte, and s_server verified it.
# 2. A wrong PIN, then the dialog cancelled: no login, exactly one try
# spent.  The policy lives in /etc/chromium only inside the test's private
# mount namespace (a bind-mounted copy): the machine's Chromium never sees
# it.
export SYS_SKIP_STATUS=${SYS_SKIP_STATUS:-0}    # TAP: the plan says skip
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../module/common.sh"

CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
[ -x "$CHROMIUM" ] || sys_skip "Chromium is not installed ($CHROMIUM)"
[ -d /etc/chromium ] || sys_skip "/etc/chromium is missing"
mc_need Xvfb xdotool certutil openssl ss timeout python3 mount
# Debian's python3, whose python3-websocket the DevTools driver needs (a
# python3 earlier on PATH, pyenv's say, may lack it).
PY=${MYNACARD_PYTHON3:-/usr/bin/python3}
"$PY" -c 'import websocket' 2>/dev/null || sys_skip "python3-websocket is missing for $PY"
[ -x "${MYNACARD_TOOL:-}" ] || sys_skip "MYNACARD_TOOL is not set"
mc_need_module MYNACARD_AUTH_MODULE

mc_start_card

SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
ISSUER_CN=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -issuer -nameopt multiline |
    sed -n 's/^ *commonName *= *//p' | head -n 1)
sys_log "the card's authentication certificate: $SUBJECT (issuer CN $ISSUER_CN)"

# ---- A server CA and a server certificate for 127.0.0.1 (test data) ----
PKI="$SYS_WORK/pki"
mc_server_pki "$PKI"

# ---- ~/.pki/nssdb: the tool's setup, and the server's CA ----
export MYNACARD_MODULE_DIR=${MYNACARD_MODULE_DIR:-$(dirname "$MYNACARD_AUTH_MODULE")}
sys_ok "mynacard-tool setup chromium: exit 0" mc_run "$MYNACARD_TOOL" setup chromium
sys_ok "  ~/.pki/nssdb holds mynacard-auth-pkcs11.so" \
    eval 'mc_run modutil -dbdir "sql:$HOME/.pki/nssdb" -list && grep -qF "mynacard-auth-pkcs11.so" "$SYS_WORK/out"'
sys_ok "certutil -A: the test server's CA trusted for TLS servers (C,,)" \
    mc_run certutil -A -d "sql:$HOME/.pki/nssdb" -n "mynacard test server CA" -t "C,," -i "$PKI/ca.pem"

# ---- the managed policy, in this namespace only ----
cp -a /etc/chromium "$SYS_WORK/etc-chromium"
mkdir -p "$SYS_WORK/etc-chromium/policies/managed"
mount --bind "$SYS_WORK/etc-chromium" /etc/chromium ||
    sys_skip "cannot bind-mount over /etc/chromium"
policy() {
    python3 - "$1" "$ISSUER_CN" >/etc/chromium/policies/managed/mynacard-test.json <<'EOF'
import json, sys
rule = {"pattern": "https://127.0.0.1:%s" % sys.argv[1],
        "filter": {"ISSUER": {"CN": sys.argv[2]}}}
print(json.dumps({"AutoSelectCertificateForUrls": [json.dumps(rule)]}))
EOF
}

# ---- a private X display ----
sys_start_xvfb

CR_PID=""
# chromium_run NAME URL PIN...: a fresh Chromium profile, DevTools on a
# free port, devtools.py navigating and answering the PIN dialogs; the
# result in $SYS_WORK/NAME.json.
chromium_run() {
    local name=$1 url=$2 dport rc
    shift 2
    dport=$(mc_free_port)
    "$CHROMIUM" --no-sandbox --user-data-dir="$SYS_WORK/$name.profile" \
        --no-first-run --no-default-browser-check --disable-gpu \
        --password-store=basic --disable-background-networking \
        --disable-features=Translate,MediaRouter --remote-debugging-port="$dport" \
        about:blank </dev/null >"$SYS_WORK/$name.chromium.log" 2>&1 &
    CR_PID=$!
    sys_track "$CR_PID"
    timeout 180 "$PY" "$HERE/devtools.py" "$dport" "$url" "$SYS_WORK/$name.json" "$@" \
        >"$SYS_WORK/$name.client.log" 2>&1
    rc=$?
    sed 's/^/#   client: /' "$SYS_WORK/$name.client.log"
    sys_reap "$CR_PID" 100
    CR_PID=""
    return "$rc"
}

# j FILE EXPR: a field of devtools.py's JSON (a python expression on d).
j() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

start_server() {
    # start_server LOG: PORT and MC_SERVER_PID set; TLS 1.2, a client
    # certificate from the card's CA required.
    PORT=$(mc_free_port)
    [ -n "$PORT" ] || sys_fail "no free port"
    mc_s_server "$1" "$PORT" -cert "$PKI/srv.pem" -key "$PKI/srv.key" \
        -Verify 1 -CAfile "$CARD/ca-auth.crt.pem" -www -tls1_2
    policy "$PORT"
}

# ---- 1. TLS 1.2 login with the right PIN ----
start_server "$SYS_WORK/s_server1.log"
v0=$(verify_count)
sys_ok "Chromium navigates to https://127.0.0.1:$PORT/ (TLS 1.2, the PIN typed into its dialog)" \
    chromium_run run1 "https://127.0.0.1:$PORT/" "$MC_AUTH_PIN"
v1=$(verify_count)
mc_stop_server
j "$SYS_WORK/run1.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
j "$SYS_WORK/run1.json" 'd["url"]' | sed 's/^/#   url: /'
sys_ok "  Chromium's PIN dialog appeared once and got the PIN" \
    test "$(j "$SYS_WORK/run1.json" '[p["action"] for p in d["prompts"]]')" = "['pin0']"
sys_ok "  the PIN reached the card ($v0 -> $v1 VERIFY)" test "$v1" -gt "$v0"
j "$SYS_WORK/run1.json" 'd["text"]' | awk '/-----BEGIN CERTIFICATE-----/ { p = 1 }
    p { print } /-----END CERTIFICATE-----/ && p { exit }' >"$SYS_WORK/page1-cert.pem"
sys_ok "  the page shows the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page1-cert.pem" -outform DER -out "$SYS_WORK/page1-cert.der" &&
          same_cert "$SYS_WORK/page1-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  s_server verified the card's subject" grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server1.log"
sys_ok "  the session was TLS 1.2" eval 'j "$SYS_WORK/run1.json" "d[\"text\"]" | grep -q "TLSv1.2"'
sys_ok "  the card keeps 3 tries" tries auth 3

# ---- 2. A wrong PIN, then the dialog cancelled ----
start_server "$SYS_WORK/s_server2.log"
v0=$(verify_count)
chromium_run run2 "https://127.0.0.1:$PORT/" 9999 || true
v1=$(verify_count)
mc_stop_server
j "$SYS_WORK/run2.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
j "$SYS_WORK/run2.json" 'd["url"]' | sed 's/^/#   url: /'
sys_ok "a wrong PIN (9999), then the next dialog cancelled: no page with the card's certificate" \
    eval '! j "$SYS_WORK/run2.json" "d[\"text\"]" | grep -q "BEGIN CERTIFICATE"'
sys_ok "  the dialog got 9999 first" \
    test "$(j "$SYS_WORK/run2.json" 'd["prompts"][0]["action"] if d["prompts"] else ""')" = pin0
sys_ok "  one VERIFY reached the card ($v0 -> $v1), one try spent: 2 left" \
    eval '[ "$((v1 - v0))" = 1 ] && tries auth 2'
sys_ok "  s_server never verified the card's subject" \
    sys_not grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server2.log"

sys_done
