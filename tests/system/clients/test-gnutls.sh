#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# GnuTLS's gnutls-cli logs in with the card over TLS 1.2: the module given
# with --provider, the client certificate and key given as pkcs11: URIs
# (--x509certfile ...;type=cert, --x509keyfile ...;type=private), the PIN
# in GNUTLS_PIN, and --priority NORMAL:-VERS-TLS1.3 (TLS 1.3 allows only
# RSA-PSS, which the card cannot do).  The server, a local `openssl
# s_server -Verify 1 -tls1_2 -www` trusting the card's authentication CA,
# must verify the card's authentication certificate and show it on its
# page.  Also: a wrong PIN sends no usable certificate and costs one try.
# TLS 1.3 (issue "TLS 1.3 with the card"): with `pss = true` in the user's
# mynacard.conf and a card that does RSA-PSS, gnutls-cli with its default
# priorities logs in to a TLS 1.3-only s_server with the card's
# certificate, byte for byte, and TLS 1.2 logins still work; with pss off,
# or on a card that refuses P1 04, the TLS 1.3 site gets no certificate,
# nothing wrong is signed and no try is spent.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need gnutls-cli openssl ss timeout
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE

mc_start_card

TOKEN="My%20Number%20Card%20%28Authentication%29"
CERT_URI="pkcs11:token=$TOKEN;id=%01;type=cert"
KEY_URI="pkcs11:token=$TOKEN;id=%01;type=private"
SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
sys_log "card's authentication certificate: $SUBJECT"

mc_server_cert "$SYS_WORK"
printf 'GET / HTTP/1.0\r\n\r\n' >"$SYS_WORK/request"

# login NAME PIN [extra gnutls-cli options]: one connection to a fresh
# s_server ($SRV_VERS, TLS 1.2 only by default; gnutls-cli with
# priorities $PRIO); the page in $SYS_WORK/NAME.page, the server's log in
# $SYS_WORK/NAME.server.
SRV_VERS=-tls1_2
PRIO=NORMAL:-VERS-TLS1.3
login() {
    local name=$1 pin=$2 rc port
    shift 2
    port=$(mc_free_port)
    [ -n "$port" ] || sys_fail "no free port"
    mc_s_server "$SYS_WORK/$name.server" "$port" -cert "$SYS_WORK/srv.pem" \
        -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$CARD/ca-auth.crt.pem" \
        -www "$SRV_VERS" -naccept 1
    env GNUTLS_PIN="$pin" timeout 120 gnutls-cli --provider "$MOD" \
        --x509certfile "$CERT_URI" --x509keyfile "$KEY_URI" \
        --x509cafile "$SYS_WORK/srv.pem" --priority "$PRIO" \
        -p "$port" 127.0.0.1 "$@" \
        <"$SYS_WORK/request" >"$SYS_WORK/$name.page" 2>"$SYS_WORK/$name.err"
    rc=$?
    mc_stop_server
    sed -n '1,/^- Simple Client Mode/p' "$SYS_WORK/$name.page" | grep -E '^- |^\*' |
        mc_cat_comment /dev/stdin
    mc_cat_comment "$SYS_WORK/$name.err"
    mc_cat_comment "$SYS_WORK/$name.server"
    return "$rc"
}

# ---- a wrong PIN first ----
login bad 9999 || true
sys_ok "with a wrong PIN the server gets no verified certificate" \
    sys_not grep -qF "depth=0 $SUBJECT" "$SYS_WORK/bad.server"
sys_ok "  and the page shows none" \
    sys_not grep -q "Client certificate" "$SYS_WORK/bad.page"
sys_ok "  one try spent" tries auth 2

# ---- the right PIN ----
sys_ok "gnutls-cli --provider MODULE (PIN in GNUTLS_PIN) connects over TLS 1.2" \
    login good "$MC_AUTH_PIN"
sys_ok "  gnutls-cli used TLS 1.2" \
    eval 'grep -qF "(TLS1.2-" "$SYS_WORK/good.page" &&
          grep -q "Protocol *: TLSv1.2" "$SYS_WORK/good.page"'
sys_ok "  s_server verified the client certificate '$SUBJECT'" \
    grep -qF "depth=0 $SUBJECT" "$SYS_WORK/good.server"
sys_ok "  without a verify error" \
    sys_not grep -qE "verify error|peer did not return a certificate" "$SYS_WORK/good.server"
sys_ok "  the page shows a client certificate" \
    grep -q "Client certificate" "$SYS_WORK/good.page"
sed -n '/^Client certificate/,$p' "$SYS_WORK/good.page" |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$SYS_WORK/page-cert.pem"
sys_ok "  it is the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page-cert.pem" -outform DER -out "$SYS_WORK/page-cert.der" 2>/dev/null &&
          same_cert "$SYS_WORK/page-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  its subject is the card's ('$SUBJECT')" \
    eval '[ "$(openssl x509 -in "$SYS_WORK/page-cert.pem" -noout -subject 2>/dev/null | sed "s/^subject=//")" = "$SUBJECT" ]'
sys_ok "  the tries are back to 3" tries auth 3

# ---- TLS 1.3 ----
CONF="$HOME/.config/mynacard/mynacard.conf"
mkdir -p "$(dirname "$CONF")"
# got_card NAME: the page shows the card's certificate, byte for byte.
got_card() {
    sed -n '/^Client certificate/,$p' "$SYS_WORK/$1.page" |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
        >"$SYS_WORK/$1-cert.pem"
    openssl x509 -in "$SYS_WORK/$1-cert.pem" -outform DER \
        -out "$SYS_WORK/$1-cert.der" 2>/dev/null &&
        same_cert "$SYS_WORK/$1-cert.der" "$CARD/auth.crt.pem" &&
        grep -qF "depth=0 $SUBJECT" "$SYS_WORK/$1.server"
}
# pss_signatures: RSA-PSS signatures the card was asked for (P1 04).
pss_signatures() {
    grep -c '^> 80 2A 04 80' "$SYS_WORK/emu-apdu.log" 2>/dev/null || true
}
SRV_VERS=-tls1_3
PRIO=NORMAL

echo 'pss = false' >"$CONF"
login off13 "$MC_AUTH_PIN" || true
sys_ok "pss = false: a TLS 1.3-only site gets no certificate from the card" \
    sys_not got_card off13
sys_ok "  the card was asked for no RSA-PSS signature, no try spent" \
    eval '[ "$(pss_signatures)" = 0 ] && tries auth 3'

echo 'pss = true' >"$CONF"
sys_ok "pss = true: gnutls-cli (default priorities) logs in to a TLS 1.3-only site" \
    login on13 "$MC_AUTH_PIN"
sys_ok "  over TLS 1.3" grep -qF "(TLS1.3-" "$SYS_WORK/on13.page"
sys_ok "  the server verified the card's certificate, byte for byte" got_card on13
sys_ok "  the card signed with P1 04 (RSA-PSS)" \
    eval '[ "$(pss_signatures)" -ge 1 ]'
SRV_VERS=-tls1_2
sys_ok "pss = true: TLS 1.2 logins still work" login on12 "$MC_AUTH_PIN"
sys_ok "  the card's certificate, byte for byte" got_card on12
sys_ok "  no try spent" tries auth 3

# A card that refuses P1 04.
sys_stop_emu
sys_start_emu "$CARD" --no-sign-pss
SRV_VERS=-tls1_3
before=$(pss_signatures)
login refused13 "$MC_AUTH_PIN" || true
sys_ok "pss = true, a card that refuses P1 04: the TLS 1.3 site gets no certificate" \
    sys_not got_card refused13
sys_ok "  the card was asked and refused; no try spent" \
    eval '[ "$(pss_signatures)" -gt "$before" ] && tries auth 3'
# A card whose answer does not verify: never sent to the server.
sys_stop_emu
sys_start_emu "$CARD" --sign-pss-bad
login bad13 "$MC_AUTH_PIN" || true
sys_ok "pss = true, a card whose RSA-PSS answer does not verify: no login" \
    sys_not got_card bad13
sys_ok "  no try spent" tries auth 3

sys_done
