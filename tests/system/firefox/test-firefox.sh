#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Real Firefox (Debian's firefox-esr, headless) with mynacard-auth-pkcs11.so
# added to its profile the README's way (modutil), over a private pcscd and
# the virtual card (tests/system/lib.sh).  Firefox is driven over
# Marionette by marionette.py (stdlib Python, no geckodriver); a chrome
# context window watcher types the PIN into Firefox's own PIN dialog.
#  1. TLS 1.2 login: an `openssl s_server -Verify 1 -www -tls1_2` on
#     127.0.0.1 requires a client certificate; with
#     security.default_personal_cert "Select Automatically" Firefox sends
#     the card's authentication certificate, and the page the server
#     returns shows it.
#  2. Wrong PIN: the dialog gets 9999, then the second prompt is cancelled:
#     one try spent on the card (2 left), Firefox shows an error page
#     (SSL_ERROR_HANDSHAKE_FAILURE_ALERT: no client certificate was sent).
#  3. A TLS 1.3-only server, Firefox at its default maximum (TLS 1.3),
#     pss off (the module's default): no RSA-PSS mechanism, so Firefox
#     sends no client certificate and shows an error page
#     (SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT); the server never sees the
#     card's subject.  Firefox still asks for the PIN (and logs in) first;
#     the right PIN brings the card back to 3 tries.
#  4. The same server and Firefox with `pss = true` in the user's
#     mynacard.conf, on a card that does RSA-PSS (P1 04): Firefox logs in
#     over TLS 1.3, the PIN typed into its dialog, and the server shows
#     the card's certificate, byte for byte.
#  5. `pss = true` on a card that refuses P1 04: an error page, no login,
#     no try spent.
# Everything listens on and connects to 127.0.0.1 only; every process is
# stopped by its PID.
export SYS_SKIP_STATUS=${SYS_SKIP_STATUS:-0}    # TAP: the plan says skip
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../module/common.sh"

FIREFOX=${FIREFOX:-firefox-esr}
mc_need "$FIREFOX" certutil modutil openssl ss timeout python3 pkcs11-tool
mc_need_module MYNACARD_AUTH_MODULE
MOD=$MYNACARD_AUTH_MODULE

mc_start_card

SUBJECT_CN=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= *//p' | head -n 1)
SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
sys_log "the card's authentication certificate: $SUBJECT"

# ---- A server CA and a server certificate for 127.0.0.1 (test data) ----
PKI="$SYS_WORK/pki"
mc_server_pki "$PKI"

# ---- The profile: an NSS database with the module and the server CA ----
PROFILE="$SYS_WORK/profile"
MC_RUN_TIMEOUT=120
mc_nss_db "$PROFILE" mynacard "$MOD" "certutil -N: the profile's NSS database" \
    "modutil -add mynacard -libfile mynacard-auth-pkcs11.so (the README's way)"
sys_ok "certutil -A: the test server's CA trusted for TLS servers (C,,)" \
    mc_run certutil -A -d "sql:$PROFILE" -n "mynacard test server CA" -t "C,," -i "$PKI/ca.pem"

MPORT=$(mc_free_port)
# user_js TLSMAX: the profile's preferences; Firefox reads user.js at start.
user_js() {
    {
        mc_firefox_prefs "$MPORT"
        cat <<UJS
user_pref("security.default_personal_cert", "Select Automatically");
user_pref("security.tls.version.max", $1);
user_pref("startup.homepage_welcome_url.additional", "");
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("app.update.auto", false);
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.search.update", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.newtabpage.activity-stream.feeds.topsites", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
user_pref("network.predictor.enabled", false);
user_pref("network.proxy.type", 0);
user_pref("security.remote_settings.crlite_filters.enabled", false);
UJS
    } >"$PROFILE/user.js"
}

FF_PID=""
# firefox_run LOG URL OUT PIN...: start Firefox, drive it, stop it.
firefox_run() {
    local log=$1 url=$2 out=$3 rc
    shift 3
    MOZ_HEADLESS=1 "$FIREFOX" --headless --marionette -remote-allow-system-access \
        --no-remote --profile "$PROFILE" about:blank </dev/null >"$log" 2>&1 &
    FF_PID=$!
    sys_track "$FF_PID"
    timeout 240 python3 "$HERE/marionette.py" "$MPORT" "$url" "$out" "$@" \
        >"$out.client.log" 2>&1
    rc=$?
    sed 's/^/#   client: /' "$out.client.log"
    # Marionette:Quit was asked; give Firefox 20 s, then stop it by PID.
    sys_reap "$FF_PID" 200
    FF_PID=""
    return "$rc"
}

# j FILE EXPR: a field of the client's JSON output (python expression on d).
j() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# page_cert JSON PEM: the first certificate on the page (s_server -www
# prints the client's certificate in PEM).
page_cert() {
    j "$1" 'd["source"]' | awk '/-----BEGIN CERTIFICATE-----/ { p = 1 }
        p { print } /-----END CERTIFICATE-----/ && p { exit }' >"$2"
}

start_server() {
    # start_server LOG TLSFLAG: PORT and MC_SERVER_PID set.
    PORT=$(mc_free_port)
    [ -n "$PORT" ] || sys_fail "no free port"
    mc_s_server "$1" "$PORT" -cert "$PKI/srv.pem" -key "$PKI/srv.key" \
        -Verify 1 -CAfile "$CARD/ca-auth.crt.pem" -www "$2"
}

# ---- 1. TLS 1.2 login with the right PIN ----
user_js 3
start_server "$SYS_WORK/s_server12.log" -tls1_2
v0=$(verify_count)
sys_ok "Firefox navigates to https://127.0.0.1:$PORT/ (TLS 1.2, PIN $MC_AUTH_PIN typed into its dialog)" \
    firefox_run "$SYS_WORK/firefox1.log" "https://127.0.0.1:$PORT/" "$SYS_WORK/run1.json" "$MC_AUTH_PIN"
v1=$(verify_count)
mc_stop_server
j "$SYS_WORK/run1.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
j "$SYS_WORK/run1.json" 'd["url"] + " " + d["navigate_error"]' | sed 's/^/#   url: /'
sys_ok "  Firefox's PIN dialog appeared once and got the PIN" \
    test "$(j "$SYS_WORK/run1.json" '[p["action"] for p in d["prompts"]]')" = "['pin0']"
sys_ok "  the PIN reached the card ($v0 -> $v1 VERIFY)" test "$v1" -gt "$v0"
sys_ok "  the page shows the client certificate s_server got" \
    eval 'j "$SYS_WORK/run1.json" "d[\"source\"]" | grep -q "Client certificate"'
page_cert "$SYS_WORK/run1.json" "$SYS_WORK/page1-cert.pem"
sys_ok "  it is the card's authentication certificate (CN $SUBJECT_CN), byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page1-cert.pem" -outform DER -out "$SYS_WORK/page1-cert.der" &&
          same_cert "$SYS_WORK/page1-cert.der" "$CARD/auth.crt.pem" &&
          openssl x509 -in "$SYS_WORK/page1-cert.pem" -noout -subject | grep -qF "$SUBJECT_CN"'
sys_ok "  the session was TLS 1.2" \
    eval 'j "$SYS_WORK/run1.json" "d[\"source\"]" | grep -q "TLSv1.2"'
sys_ok "  s_server verified the card's subject" grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server12.log"
sys_ok "  the card keeps 3 tries" tries auth 3

# ---- 2. A wrong PIN: one try spent ----
start_server "$SYS_WORK/s_server-wrong.log" -tls1_2
v0=$(verify_count)
sys_ok "Firefox with the wrong PIN 9999 (the second prompt cancelled) finishes" \
    firefox_run "$SYS_WORK/firefox2.log" "https://127.0.0.1:$PORT/" "$SYS_WORK/run2.json" 9999
v1=$(verify_count)
mc_stop_server
j "$SYS_WORK/run2.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
j "$SYS_WORK/run2.json" 'd["url"] + " " + d["navigate_error"]' | sed 's/^/#   url: /'
j "$SYS_WORK/run2.json" 'd["document_uri"] + " " + d["error_code"]' | sed 's/^/#   document: /'
# After the wrong PIN NSS asks again; Firefox may retry the connection and
# ask once more: every prompt after the first is cancelled.
sys_ok "  the dialog got 9999, then asked again and was cancelled" \
    test "$(j "$SYS_WORK/run2.json" 'len(d["prompts"]) >= 2 and d["prompts"][0]["action"] == "pin0" and all(p["action"] == "cancel" for p in d["prompts"][1:])')" = True
sys_ok "  one VERIFY reached the card ($v0 -> $v1)" test "$((v1 - v0))" = 1
sys_ok "  one try spent: 2 left" tries auth 2
# Without a client certificate s_server (TLS 1.2) ends the handshake with
# a handshake_failure alert: Firefox shows that error page.
sys_ok "  Firefox shows an error page (about:neterror, SSL_ERROR_HANDSHAKE_FAILURE_ALERT)" \
    eval 'j "$SYS_WORK/run2.json" "d[\"document_uri\"]" | grep -q "^about:neterror" &&
          test "$(j "$SYS_WORK/run2.json" "d[\"error_code\"]")" = SSL_ERROR_HANDSHAKE_FAILURE_ALERT'
sys_ok "  no page with the card's certificate" \
    eval '! j "$SYS_WORK/run2.json" "d[\"source\"]" | grep -qF "$SUBJECT_CN"'
sys_ok "  s_server never verified the card's subject" \
    sys_not grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server-wrong.log"

# ---- 3. A TLS 1.3-only server, Firefox at its default TLS maximum ----
user_js 4
start_server "$SYS_WORK/s_server13.log" -tls1_3
v0=$(verify_count)
sys_ok "Firefox (TLS max 1.3) navigates to a TLS 1.3-only server" \
    firefox_run "$SYS_WORK/firefox3.log" "https://127.0.0.1:$PORT/" "$SYS_WORK/run3.json" "$MC_AUTH_PIN"
v1=$(verify_count)
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server13.log"
j "$SYS_WORK/run3.json" 'd["url"] + " " + d["navigate_error"]' | sed 's/^/#   url: /'
j "$SYS_WORK/run3.json" 'd["document_uri"]' | sed 's/^/#   document: /'
j "$SYS_WORK/run3.json" 'd["error_code"]' | sed 's/^/#   error code: /'
j "$SYS_WORK/run3.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
sys_ok "  Firefox shows an error page (about:neterror), not the server's page" \
    eval 'j "$SYS_WORK/run3.json" "d[\"document_uri\"]" | grep -q "^about:neterror" &&
          ! j "$SYS_WORK/run3.json" "d[\"source\"]" | grep -q "Client certificate"'
sys_ok "  its error: SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT (the server's certificate_required alert)" \
    test "$(j "$SYS_WORK/run3.json" 'd["error_code"]')" = SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT
sys_ok "  s_server got no client certificate" \
    grep -qiE "peer did not return a certificate|certificate required" "$SYS_WORK/s_server13.log"
sys_ok "  s_server never saw the card's subject" \
    sys_not grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server13.log"
# Firefox still logs in to the token (its PIN dialog appears) before NSS
# finds no signature scheme the key can do; the PIN is right, so the card
# is back at 3 tries.
sys_log "TLS 1.3: $((v1 - v0)) VERIFY reached the card"
sys_ok "  the card is back at 3 tries" tries auth 3

# ---- 4. TLS 1.3 with pss = true, a card that does RSA-PSS ----
mkdir -p "$HOME/.config/mynacard"
echo 'pss = true' >"$HOME/.config/mynacard/mynacard.conf"
start_server "$SYS_WORK/s_server13p.log" -tls1_3
sys_ok "pss = true: Firefox (default TLS settings) navigates to the TLS 1.3-only server, PIN typed into its dialog" \
    firefox_run "$SYS_WORK/firefox4.log" "https://127.0.0.1:$PORT/" "$SYS_WORK/run4.json" "$MC_AUTH_PIN"
mc_stop_server
j "$SYS_WORK/run4.json" 'd["prompts"]' | sed 's/^/#   prompts: /'
j "$SYS_WORK/run4.json" 'd["url"] + " " + d["navigate_error"]' | sed 's/^/#   url: /'
sys_ok "  the page shows the client certificate s_server got" \
    eval 'j "$SYS_WORK/run4.json" "d[\"source\"]" | grep -q "Client certificate"'
page_cert "$SYS_WORK/run4.json" "$SYS_WORK/page4-cert.pem"
sys_ok "  it is the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page4-cert.pem" -outform DER -out "$SYS_WORK/page4-cert.der" &&
          same_cert "$SYS_WORK/page4-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  the session was TLS 1.3" \
    eval 'j "$SYS_WORK/run4.json" "d[\"source\"]" | grep -q "TLSv1.3"'
sys_ok "  s_server verified the card's subject" grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server13p.log"
sys_ok "  the card signed with P1 04 (RSA-PSS)" grep -q '^> 80 2A 04 80' "$SYS_WORK/emu-apdu.log"
sys_ok "  the card keeps 3 tries" tries auth 3

# ---- 5. pss = true on a card that refuses P1 04 ----
sys_stop_emu
sys_start_emu "$CARD" --no-sign-pss
start_server "$SYS_WORK/s_server13r.log" -tls1_3
firefox_run "$SYS_WORK/firefox5.log" "https://127.0.0.1:$PORT/" "$SYS_WORK/run5.json" "$MC_AUTH_PIN" || true
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server13r.log"
j "$SYS_WORK/run5.json" 'd["document_uri"] + " " + d["error_code"]' | sed 's/^/#   document: /'
sys_ok "pss = true, a card that refuses P1 04: Firefox shows an error page, no login" \
    eval 'j "$SYS_WORK/run5.json" "d[\"document_uri\"]" | grep -q "^about:neterror" &&
          ! j "$SYS_WORK/run5.json" "d[\"source\"]" | grep -q "Client certificate"'
sys_ok "  the card was asked (P1 04) and refused (6A 86)" \
    eval 'awk "/^> 80 2A 04 80/ { s = 1; next } s { print; s = 0 }" "$SYS_WORK/emu-apdu.log" | grep -q "^< 6A 86"'
sys_ok "  no try spent" tries auth 3

sys_done
