#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# NSS (the library of Firefox, Thunderbird, LibreOffice, Chromium) with
# mynacard-auth-pkcs11.so in a fresh database: `certutil -L -h all` shows
# the authentication certificate as a user certificate (u,u,u) without any
# PIN reaching the card (the token says its certificates are public with a
# CKO_PROFILE object), and NSS's tstclnt logs in over TLS 1.2 to a local
# `openssl s_server -Verify 1` with that certificate: the server verifies
# it against the CA read through the module and shows the card's subject,
# and the page it serves carries the very certificate.  Then TLS 1.3:
# with pss off (the default) the module lists no RSA-PSS, so NSS sends no
# client certificate and the server refuses the connection (asserted, so
# a module that listed CKM_RSA_PKCS_PSS unasked would be noticed); with
# `pss = true` in the user's mynacard.conf and a card that does P1 04,
# tstclnt logs in over TLS 1.3 with the card's certificate.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need certutil modutil tstclnt pkcs11-tool openssl ss timeout
mc_need_module MYNACARD_AUTH_MODULE
MOD=$MYNACARD_AUTH_MODULE

mc_start_card

# The token and the CA certificate, through the module (pkcs11-tool).
p11m "$MOD" -L
out_save list
AUTH_TOKEN=$(tokens_of "$SYS_WORK/list" | cut -f 2 | head -n 1)
sys_ok "the authentication-only module shows a token ('$AUTH_TOKEN')" test -n "$AUTH_TOKEN"
[ -n "$AUTH_TOKEN" ] || sys_fail "no token"
p11m "$MOD" -O
out_save objects
AUTH_CA_ID=$(ids_of "$SYS_WORK/objects" cert | grep -vx 01 | head -n 1)
sys_ok "read the authentication CA certificate through the module" \
    p11m "$MOD" --read-object --type cert --id "${AUTH_CA_ID:-ff}" \
    -o "$SYS_WORK/auth-ca.der"
der_to_pem "$SYS_WORK/auth-ca.der" "$SYS_WORK/auth-ca.pem" ||
    cp "$CARD/ca-auth.crt.pem" "$SYS_WORK/auth-ca.pem"

# ---- The NSS database ----
DB="$SYS_WORK/nssdb"
mc_nss_db "$DB" mynacard "$MOD" "certutil -N makes an empty NSS database" \
    "modutil adds mynacard-auth-pkcs11.so"
# modutil -list exits non-zero for vpcd's second, empty reader ("Unable
# to get information about token"): only its listing is checked.
mc_run modutil -dbdir "sql:$DB" -list mynacard
sys_ok "modutil -list shows the module with token '$AUTH_TOKEN'" \
    eval 'out_has "Library file: $MOD" && out_has "Token Name: $AUTH_TOKEN"'


mc_nss_list "$DB" "$AUTH_TOKEN"
sys_ok "  it never asked for a password" sys_not out_matches 'Enter Password|[Pp]assword or [Pp]in'
sys_ok "  a certificate of '$AUTH_TOKEN' is a user certificate, u,u,u ('$NICK')" \
    test -n "$NICK"
sys_ok "  it is the only user certificate" \
    test "$(awk '$NF == "u,u,u"' "$SYS_WORK/certutil-L" | wc -l)" = 1
v1=$(verify_count)
sys_ok "  no PIN reached the card ($v0 -> $v1 VERIFY)" test "$v0" = "$v1"
mc_nss_export "$DB" "  it is the card's authentication certificate"
[ -n "$NICK" ] || sys_fail "no user certificate, no TLS login to try"

# ---- TLS 1.2 client authentication with tstclnt ----
mc_server_cert "$SYS_WORK"
printf '%s\n' "$MC_AUTH_PIN" >"$SYS_WORK/pinfile"
printf 'GET / HTTP/1.0\r\n\r\n' >"$SYS_WORK/request"
SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
sys_log "the card's authentication subject: $SUBJECT"

# tls VERSION QUIT: run tstclnt against the s_server on $PORT; with QUIT
# "-Q" it ends after the handshake, else it sends a GET and prints the page.
tls() {
    local ver=$1 quit=$2 rc
    timeout 120 tstclnt -4 -h 127.0.0.1 -p "$PORT" -d "sql:$DB" -n "$NICK" \
        -W "$SYS_WORK/pinfile" -V "$ver:$ver" -o $quit \
        <"$SYS_WORK/request" >"$SYS_WORK/out" 2>&1
    rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

# The subject of the client certificate as s_server's verify callback
# printed it (depth 0).
server_saw() {
    grep -F "depth=0 $SUBJECT" "$1" >/dev/null
}

PORT=$(mc_free_port)
[ -n "$PORT" ] || sys_fail "no free port"
mc_s_server "$SYS_WORK/s_server12.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_2 -naccept 2
v0=$(verify_count)
sys_ok "tstclnt -V tls1.2:tls1.2 -Q: handshake with the card's certificate" \
    tls tls1.2 -Q
v1=$(verify_count)
sys_ok "  the PIN was verified on the card ($v0 -> $v1 VERIFY)" test "$v1" -gt "$v0"
sys_ok "tstclnt -V tls1.2:tls1.2 fetches s_server's page" tls tls1.2 ""
cp "$SYS_WORK/out" "$SYS_WORK/page12"
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server12.log"
sys_ok "s_server verified a client certificate with subject '$SUBJECT'" \
    server_saw "$SYS_WORK/s_server12.log"
sys_ok "  and accepted it (verify return:1, no verify error)" \
    eval 'grep -q "verify return:1" "$SYS_WORK/s_server12.log" &&
          ! grep -qE "verify error|peer did not return a certificate" "$SYS_WORK/s_server12.log"'
sys_ok "the page says which client certificate the server got" \
    grep -q "Client certificate" "$SYS_WORK/page12"
sed -n '/^Client certificate/,$p' "$SYS_WORK/page12" |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$SYS_WORK/page12-cert.pem"
sys_ok "  it is the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page12-cert.pem" -outform DER -out "$SYS_WORK/page12-cert.der" &&
          same_cert "$SYS_WORK/page12-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  the session was TLS 1.2" grep -q "TLSv1.2" "$SYS_WORK/page12"

# ---- TLS 1.3: no client certificate (the card cannot do RSA-PSS) ----
PORT=$(mc_free_port)
mc_s_server "$SYS_WORK/s_server13.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_3 -naccept 1
tls tls1.3 ""
cp "$SYS_WORK/out" "$SYS_WORK/page13"
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server13.log"
sys_ok "TLS 1.3: the server got no page request through (no client login)" \
    sys_not grep -q "Client certificate" "$SYS_WORK/page13"
sys_ok "TLS 1.3: NSS sent no client certificate (s_server: peer did not return a certificate)" \
    grep -qiE "peer did not return a certificate|certificate required" \
    "$SYS_WORK/s_server13.log"
sys_ok "TLS 1.3: s_server never saw the card's subject" \
    sys_not server_saw "$SYS_WORK/s_server13.log"

# ---- TLS 1.3 with pss = true ----
mkdir -p "$HOME/.config/mynacard"
echo 'pss = true' >"$HOME/.config/mynacard/mynacard.conf"
PORT=$(mc_free_port)
mc_s_server "$SYS_WORK/s_server13p.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_3 -naccept 1
sys_ok "pss = true: tstclnt -V tls1.3:tls1.3 fetches the page with the card's certificate" \
    tls tls1.3 ""
cp "$SYS_WORK/out" "$SYS_WORK/page13p"
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server13p.log"
sys_ok "  s_server verified the card's certificate ('$SUBJECT')" \
    eval 'server_saw "$SYS_WORK/s_server13p.log" &&
          ! grep -qE "verify error|peer did not return a certificate" "$SYS_WORK/s_server13p.log"'
sed -n '/^Client certificate/,$p' "$SYS_WORK/page13p" |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$SYS_WORK/page13p-cert.pem"
sys_ok "  the page carries the card's certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page13p-cert.pem" -outform DER -out "$SYS_WORK/page13p-cert.der" &&
          same_cert "$SYS_WORK/page13p-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  the session was TLS 1.3" grep -q "TLSv1.3" "$SYS_WORK/page13p"
sys_ok "  signed by the card with P1 04 (RSA-PSS)" \
    grep -q '^> 80 2A 04 80' "$SYS_WORK/emu-apdu.log"

# TLS 1.2 still works with pss = true (NSS may now choose RSA-PSS there too).
PORT=$(mc_free_port)
mc_s_server "$SYS_WORK/s_server12p.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_2 -naccept 1
sys_ok "pss = true: tstclnt -V tls1.2:tls1.2 still logs in" tls tls1.2 ""
cp "$SYS_WORK/out" "$SYS_WORK/page12p"
mc_stop_server
sys_ok "  s_server verified the card's certificate, over TLS 1.2" \
    eval 'server_saw "$SYS_WORK/s_server12p.log" && grep -q "TLSv1.2" "$SYS_WORK/page12p"'

sys_done
