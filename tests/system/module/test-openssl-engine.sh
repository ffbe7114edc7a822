#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# OpenSSL 3 through libp11's pkcs11 engine (Debian's
# libengine-pkcs11-openssl), pointed at mynacard-pkcs11.so by an
# openssl.cnf engine section (MODULE_PATH): `openssl dgst -engine pkcs11
# -keyform engine -sign pkcs11:...` signs with the authentication key and
# with the signature key (SHA-256 and SHA-512; the latter with the
# module's sign_always_authenticate = false, since libp11 asks for an
# always-authenticate key's PIN on the terminal), and openssl verifies each
# signature with the certificate read through the module; then `openssl
# s_client` logs in over TLS 1.2 (sigalgs restricted to RSA PKCS#1 v1.5,
# as the card needs) to a local `openssl s_server -Verify 1` with the
# engine's key and the card's authentication certificate, and the server
# accepts it and shows the card's subject and certificate.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need pkcs11-tool openssl ss timeout
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE
ENGINES_DIR=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
ENGINE_SO=${ENGINE_SO:-$ENGINES_DIR/pkcs11.so}
[ -e "$ENGINE_SO" ] || sys_skip "libp11's OpenSSL engine is missing ($ENGINE_SO)"

mc_start_card

# The tokens and certificates, through the module.
mc_tokens "$MOD" "the module"
p11m "$MOD" --token-label "$AUTH_TOKEN" -O
out_save auth-O
AUTH_CA_ID=$(ids_of "$SYS_WORK/auth-O" cert | grep -vx 01 | head -n 1)

read_cert() {
    local token=$1 id=$2 name=$3
    shift 3
    p11m "$MOD" --token-label "$token" "$@" --read-object --type cert \
        --id "$id" -o "$SYS_WORK/$name.der" &&
        der_to_pem "$SYS_WORK/$name.der" "$SYS_WORK/$name.pem" &&
        pubkey_of "$SYS_WORK/$name.pem" "$SYS_WORK/$name.pub"
}
sys_ok "read the authentication certificate through the module" \
    read_cert "$AUTH_TOKEN" 01 auth
sys_ok "read the signature certificate through the module" \
    read_cert "$SIGN_TOKEN" 02 sign --login --pin "$MC_SIGN_PIN"
sys_ok "read the authentication CA through the module" \
    read_cert "$AUTH_TOKEN" "${AUTH_CA_ID:-ff}" auth-ca

# ---- openssl.cnf with the engine on our module ----
export OPENSSL_CONF="$SYS_WORK/openssl.cnf"
cat >"$OPENSSL_CONF" <<EOF
openssl_conf = openssl_init

[openssl_init]
engines = engine_section

[engine_section]
pkcs11 = pkcs11_section

[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $MOD
init = 0
EOF

# uri_enc STRING: percent-encode all but RFC 3986's unreserved characters.
uri_enc() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}
AUTH_URI="pkcs11:token=$(uri_enc "$AUTH_TOKEN");id=%01;type=private;pin-value=$MC_AUTH_PIN"
SIGN_URI="pkcs11:token=$(uri_enc "$SIGN_TOKEN");id=%02;type=private;pin-value=$MC_SIGN_PIN"
sys_log "authentication key: ${AUTH_URI%%;pin-value=*};pin-value=..."

printf 'mynacard system test: sign me through OpenSSL\n' >"$SYS_WORK/data"

# engine_sign ALG URI SIG
engine_sign() {
    timeout 120 openssl dgst "-$1" -engine pkcs11 -keyform engine -sign "$2" \
        -out "$3" "$SYS_WORK/data" </dev/null >"$SYS_WORK/out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

verify_dgst() {
    openssl dgst "-$1" -verify "$2" -signature "$3" "$4" 2>&1 | sed 's/^/#   /'
    [ "${PIPESTATUS[0]}" = 0 ]
}

for alg in sha256 sha512; do
    sys_ok "openssl dgst -$alg -engine pkcs11 signs with the authentication key" \
        engine_sign "$alg" "$AUTH_URI" "$SYS_WORK/auth-$alg.sig"
    sys_ok "  openssl verifies it with the authentication certificate" \
        verify_dgst "$alg" "$SYS_WORK/auth.pub" "$SYS_WORK/auth-$alg.sig" "$SYS_WORK/data"
done

# The signature key asks for its password before every signature by
# default (CKA_ALWAYS_AUTHENTICATE), and libp11 0.4.12 then asks for it
# through OpenSSL's UI on the terminal, ignoring pin-value: no terminal
# here.  The module's configuration file turns it off; with it, the engine
# signs with the signature key non-interactively.
p11m "$MOD" --token-label "$SIGN_TOKEN" --login --pin "$MC_SIGN_PIN" -O --type privkey
sys_ok "by default the signature key says 'always authenticate'" \
    out_has "always authenticate"
printf '# test configuration\nsign_always_authenticate = false\n' \
    >"$SYS_WORK/mynacard.conf"
export MYNACARD_CONF="$SYS_WORK/mynacard.conf"
p11m "$MOD" --token-label "$SIGN_TOKEN" --login --pin "$MC_SIGN_PIN" -O --type privkey
sys_ok "with sign_always_authenticate = false (MYNACARD_CONF) it does not" \
    eval 'out_has "Private Key Object" && out_lacks "always authenticate"'
for alg in sha256 sha512; do
    sys_ok "openssl dgst -$alg -engine pkcs11 signs with the signature key" \
        engine_sign "$alg" "$SIGN_URI" "$SYS_WORK/sign-$alg.sig"
    sys_ok "  openssl verifies it with the signature certificate" \
        verify_dgst "$alg" "$SYS_WORK/sign.pub" "$SYS_WORK/sign-$alg.sig" "$SYS_WORK/data"
done
unset MYNACARD_CONF
sys_ok "a wrong PIN in the URI gives no signature" \
    sys_not engine_sign sha256 "${AUTH_URI%%;pin-value=*};pin-value=9999" \
    "$SYS_WORK/bad.sig"
sys_ok "  and cost one try only" tries auth 2
sys_ok "the right PIN restores the tries" \
    engine_sign sha256 "$AUTH_URI" "$SYS_WORK/auth-again.sig"
sys_ok "  (3 again)" tries auth 3

# ---- RSA-PSS (pss = true): what TLS 1.3 needs ----
pss_sign() {
    timeout 120 openssl dgst -sha256 -engine pkcs11 -keyform engine \
        -sign "$AUTH_URI" -sigopt rsa_padding_mode:pss \
        -sigopt rsa_pss_saltlen:32 -out "$1" "$SYS_WORK/data" \
        </dev/null >"$SYS_WORK/out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}
pss_verify() {
    openssl dgst -sha256 -verify "$SYS_WORK/auth.pub" \
        -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
        -signature "$1" "$SYS_WORK/data" 2>&1 | sed 's/^/#   /'
    [ "${PIPESTATUS[0]}" = 0 ]
}
sys_ok "pss off (the default): the engine makes no PSS signature" \
    sys_not pss_sign "$SYS_WORK/pss-off.sig"
printf 'pss = true\n' >"$SYS_WORK/mynacard-pss.conf"
export MYNACARD_CONF="$SYS_WORK/mynacard-pss.conf"
sys_ok "pss = true: openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 signs" \
    pss_sign "$SYS_WORK/pss.sig"
sys_ok "  openssl dgst -verify (PSS, salt 32) accepts it with the authentication certificate" \
    pss_verify "$SYS_WORK/pss.sig"
sys_ok "  the card signed with P1 04" grep -q '^> 80 2A 04 80' "$SYS_WORK/emu-apdu.log"
sys_ok "  no try spent" tries auth 3
unset MYNACARD_CONF

# ---- s_client with the engine's key, TLS 1.2 ----
mc_server_cert "$SYS_WORK"
SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
PORT=$(mc_free_port)
[ -n "$PORT" ] || sys_fail "no free port"
mc_s_server "$SYS_WORK/s_server.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_2 -naccept 1
printf 'GET / HTTP/1.0\r\n\r\n' >"$SYS_WORK/request"
s_client() {
    timeout 120 openssl s_client -connect "127.0.0.1:$PORT" \
        -engine pkcs11 -keyform engine -key "$AUTH_URI" \
        -cert "$SYS_WORK/auth.pem" -tls1_2 \
        -sigalgs "RSA+SHA256:RSA+SHA384:RSA+SHA512" -ign_eof \
        <"$SYS_WORK/request" >"$SYS_WORK/out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}
sys_ok "openssl s_client -engine pkcs11 -tls1_2 connects with the card's key" s_client
cp "$SYS_WORK/out" "$SYS_WORK/page"
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server.log"
sys_ok "  s_server verified the client certificate '$SUBJECT'" \
    grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server.log"
sys_ok "  and accepted it (no verify error, a certificate was sent)" \
    eval '! grep -qE "verify error|peer did not return a certificate|alert" "$SYS_WORK/s_server.log"'
sys_ok "  the page shows a client certificate" grep -q "Client certificate" "$SYS_WORK/page"
sed -n '/^Client certificate/,$p' "$SYS_WORK/page" |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$SYS_WORK/page-cert.pem"
sys_ok "  it is the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page-cert.pem" -outform DER -out "$SYS_WORK/page-cert.der" &&
          same_cert "$SYS_WORK/page-cert.der" "$CARD/auth.crt.pem"'
sys_ok "  over TLS 1.2" grep -q "Protocol *: TLSv1.2" "$SYS_WORK/page"

# ---- s_client over TLS 1.3, with pss = true ----
PORT=$(mc_free_port)
mc_s_server "$SYS_WORK/s_server13.log" "$PORT" -cert "$SYS_WORK/srv.pem" \
    -key "$SYS_WORK/srv.key" -Verify 1 -CAfile "$SYS_WORK/auth-ca.pem" \
    -www -tls1_3 -naccept 1
s_client13() {
    timeout 120 openssl s_client -connect "127.0.0.1:$PORT" \
        -engine pkcs11 -keyform engine -key "$AUTH_URI" \
        -cert "$SYS_WORK/auth.pem" -tls1_3 -ign_eof \
        <"$SYS_WORK/request" >"$SYS_WORK/out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}
export MYNACARD_CONF="$SYS_WORK/mynacard-pss.conf"
s_client13
cp "$SYS_WORK/out" "$SYS_WORK/page13"
unset MYNACARD_CONF
mc_stop_server
mc_cat_comment "$SYS_WORK/s_server13.log"
sed -n '/^Client certificate/,$p' "$SYS_WORK/page13" |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    >"$SYS_WORK/page13-cert.pem"
sys_ok "pss = true: openssl s_client -engine pkcs11 -tls1_3 logs in with the card's key" \
    eval 'grep -q "Protocol *: TLSv1.3" "$SYS_WORK/page13" &&
          grep -qF "depth=0 $SUBJECT" "$SYS_WORK/s_server13.log"'
sys_ok "  the page shows the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/page13-cert.pem" -outform DER -out "$SYS_WORK/page13-cert.der" &&
          same_cert "$SYS_WORK/page13-cert.der" "$CARD/auth.crt.pem"'

sys_done
