#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# OpenSC's own PKCS#11 module (with its JPKI driver) and mynacard-pkcs11.so
# read the same virtual card in the same run, one after the other through
# the same pcscd, and must agree on the certificates byte for byte: the
# authentication certificate and both CA certificates without login, the
# signature certificate after the signature password with each module.
# OpenSC's certificates are found by OpenSC's labels, ours by the roles
# issue 3 gives them (CKA_ID 01 and 02; the other certificate of a token
# is its CA), so each side is read by its own rules, then compared.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need pkcs11-tool openssl
mc_need_module MYNACARD_MODULE
OPENSC_MODULE=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
[ -e "$OPENSC_MODULE" ] || sys_skip "OpenSC's PKCS#11 module is missing ($OPENSC_MODULE)"
MOD=$MYNACARD_MODULE

OSC_AUTH="JPKI (User Authentication PIN)"
OSC_SIGN="JPKI (Digital Signature PIN)"

mc_new_card
# The classic profile: OpenSC 0.23 does not repeat a command answered
# 6F00, which the strict card gives first after a power-down (and our
# logout powers the card down), and cannot sign on a card that answers an
# empty VERIFY of a verified PIN with 90 00.  Our module on the strict
# profile is tested everywhere else.
sys_start_emu "$CARD" --profile classic

# ---- OpenSC: by its labels ----
osc_read() {
    # osc_read TOKEN LABEL NAME [login options]
    local token=$1 label=$2 name=$3
    shift 3
    p11m "$OPENSC_MODULE" --token-label "$token" "$@" --read-object \
        --type cert --label "$label" -o "$SYS_WORK/osc-$name.der"
}
sys_ok "OpenSC reads the authentication certificate" \
    osc_read "$OSC_AUTH" "User Authentication Certificate" auth
sys_ok "OpenSC reads the authentication CA certificate" \
    osc_read "$OSC_AUTH" "User Authentication Certificate CA" auth-ca
sys_ok "OpenSC reads the signature CA certificate" \
    osc_read "$OSC_AUTH" "Digital Signature Certificate CA" sign-ca
sys_ok "OpenSC reads the signature certificate with the password" \
    osc_read "$OSC_SIGN" "Digital Signature Certificate" sign \
    --login --pin "$MC_SIGN_PIN"

# ---- Ours: by role ----
mc_tokens "$MOD" "our module"

p11m "$MOD" --token-label "$AUTH_TOKEN" -O
out_save auth-O
AUTH_CA_ID=$(ids_of "$SYS_WORK/auth-O" cert | grep -vx 01 | head -n 1)
p11m "$MOD" --token-label "$SIGN_TOKEN" -O
out_save sign-O
SIGN_CA_ID=$(ids_of "$SYS_WORK/sign-O" cert | grep -vx 02 | head -n 1)
sys_ok "our authentication token has a CA certificate (ID '$AUTH_CA_ID')" \
    test -n "$AUTH_CA_ID"
sys_ok "our signature token has a CA certificate (ID '$SIGN_CA_ID')" \
    test -n "$SIGN_CA_ID"

ours_read() {
    # ours_read TOKEN ID NAME [login options]
    local token=$1 id=$2 name=$3
    shift 3
    [ -n "$id" ] || return 1
    p11m "$MOD" --token-label "$token" "$@" --read-object --type cert \
        --id "$id" -o "$SYS_WORK/ours-$name.der"
}
sys_ok "we read the authentication certificate (ID 01)" \
    ours_read "$AUTH_TOKEN" 01 auth
sys_ok "we read the authentication CA certificate" \
    ours_read "$AUTH_TOKEN" "$AUTH_CA_ID" auth-ca
sys_ok "we read the signature CA certificate" \
    ours_read "$SIGN_TOKEN" "$SIGN_CA_ID" sign-ca
sys_ok "we read the signature certificate (ID 02) with the password" \
    ours_read "$SIGN_TOKEN" 02 sign --login --pin "$MC_SIGN_PIN"

# ---- Agreement ----
for c in auth auth-ca sign-ca sign; do
    sys_ok "$c: OpenSC and mynacard read the same DER bytes" \
        same_der "$SYS_WORK/osc-$c.der" "$SYS_WORK/ours-$c.der"
done
# And both read the truth (what mynacard-emu init made).
sys_ok "auth: it is the card's certificate" \
    same_cert "$SYS_WORK/ours-auth.der" "$CARD/auth.crt.pem"
sys_ok "auth-ca: it is the card's authentication CA" \
    same_cert "$SYS_WORK/ours-auth-ca.der" "$CARD/ca-auth.crt.pem"
sys_ok "sign-ca: it is the card's signature CA" \
    same_cert "$SYS_WORK/ours-sign-ca.der" "$CARD/ca-sign.crt.pem"
sys_ok "sign: it is the card's signature certificate" \
    same_cert "$SYS_WORK/ours-sign.der" "$CARD/sign.crt.pem"

# Interleaved: OpenSC again after ours, on the same card state.
sys_ok "OpenSC still reads the authentication certificate after us" \
    osc_read "$OSC_AUTH" "User Authentication Certificate" auth2
sys_ok "  the same bytes" same_der "$SYS_WORK/osc-auth2.der" "$SYS_WORK/ours-auth.der"

sys_done
