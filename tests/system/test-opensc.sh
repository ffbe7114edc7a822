#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Acceptance test of the virtual card: Debian's OpenSC (0.23, with its own
# JPKI driver) must take mynacard-emu in pcscd for a real My Number Card.
# It lists both JPKI slots, shows the authentication certificate freely and
# the signature certificate only after the signature password, signs with
# both keys, reads both certificates out, and OpenSSL verifies both
# signatures with those certificates (and finds them equal to the ones the
# card was made with).  Runs through lib.sh in a private pcscd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/module/common.sh"

command -v pkcs11-tool >/dev/null || sys_skip "pkcs11-tool (opensc) is missing"
command -v openssl >/dev/null || sys_skip "openssl is missing"
OPENSC_MODULE=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
[ -e "$OPENSC_MODULE" ] || sys_skip "OpenSC's PKCS#11 module is missing ($OPENSC_MODULE)"

AUTH_TOKEN="JPKI (User Authentication PIN)"
SIGN_TOKEN="JPKI (Digital Signature PIN)"
AUTH_PIN=1234
SIGN_PIN=ABC123

sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin "$AUTH_PIN" --sign-pin "$SIGN_PIN"
sys_start_pcscd
# The classic profile: OpenSC 0.23's JPKI driver cannot sign on a card that
# answers an empty VERIFY of a verified PIN with 90 00 and keeps PINs
# across a warm reset (the strict profile: after one pkcs11-tool run left
# the signature password verified, the next ones fail to sign).  This test
# checks the virtual card against an independent client on the model both
# agree on.
sys_start_emu "$CARD" --profile classic

# p11 [pkcs11-tool arguments]: OpenSC's module, output in $SYS_WORK/out.
p11() {
    pkcs11-tool --module "$OPENSC_MODULE" "$@" >"$SYS_WORK/out" 2>&1
    local rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

# The certificate OpenSC read, the same as the one the card was made with.
same_cert() {
    local der=$1 pem=$2 a b
    a=$(openssl x509 -inform DER -in "$der" -outform DER | sha256sum) || return 1
    b=$(openssl x509 -in "$pem" -outform DER | sha256sum) || return 1
    [ "$a" = "$b" ]
}

# verify SIGNATURE CERT.der: an RSA PKCS#1 v1.5 SHA-256 signature of data.
verify_sig() {
    local sig=$1 cert=$2
    openssl x509 -inform DER -in "$cert" -pubkey -noout >"$cert.pub" &&
        openssl dgst -sha256 -verify "$cert.pub" -signature "$sig" \
            "$SYS_WORK/data" | sed 's/^/#   /' &&
        [ "${PIPESTATUS[0]}" = 0 ]
}

printf 'mynacard system test: sign me\n' >"$SYS_WORK/data"

p11 -L
sys_ok "OpenSC lists the slot '$AUTH_TOKEN'" out_has "token label        : $AUTH_TOKEN"
sys_ok "OpenSC lists the slot '$SIGN_TOKEN'" out_has "token label        : $SIGN_TOKEN"

p11 --token-label "$AUTH_TOKEN" -O
sys_ok "the authentication certificate is listed without login" \
    out_has "label:      User Authentication Certificate"
p11 --token-label "$SIGN_TOKEN" -O
sys_ok "the signature certificate is not listed without the password" \
    out_lacks "label:      Digital Signature Certificate"
p11 --token-label "$SIGN_TOKEN" --login --pin "$SIGN_PIN" -O
sys_ok "the signature certificate is listed after login with $SIGN_PIN" \
    out_has "label:      Digital Signature Certificate"
sys_ok "the signature key is listed after login" \
    out_has "label:      Digital Signature Key"

sys_ok "sign with the authentication key (PIN $AUTH_PIN)" \
    p11 --token-label "$AUTH_TOKEN" --login --pin "$AUTH_PIN" --sign \
    -m SHA256-RSA-PKCS --id 01 -i "$SYS_WORK/data" -o "$SYS_WORK/auth.sig"
sys_ok "sign with the signature key (password $SIGN_PIN)" \
    p11 --token-label "$SIGN_TOKEN" --login --pin "$SIGN_PIN" --sign \
    -m SHA256-RSA-PKCS --id 02 -i "$SYS_WORK/data" -o "$SYS_WORK/sign.sig"

sys_ok "read the authentication certificate" \
    p11 --token-label "$AUTH_TOKEN" --read-object --type cert --id 01 \
    -o "$SYS_WORK/auth.der"
sys_ok "read the signature certificate (with the password)" \
    p11 --token-label "$SIGN_TOKEN" --login --pin "$SIGN_PIN" --read-object \
    --type cert --id 02 -o "$SYS_WORK/sign.der"
sys_ok "the authentication certificate is the card's" \
    same_cert "$SYS_WORK/auth.der" "$CARD/auth.crt.pem"
sys_ok "the signature certificate is the card's" \
    same_cert "$SYS_WORK/sign.der" "$CARD/sign.crt.pem"

sys_ok "openssl verifies the authentication signature" \
    verify_sig "$SYS_WORK/auth.sig" "$SYS_WORK/auth.der"
sys_ok "openssl verifies the signature-key signature" \
    verify_sig "$SYS_WORK/sign.sig" "$SYS_WORK/sign.der"
sys_ok "the two signatures differ (two keys)" \
    test "$(sha256sum <"$SYS_WORK/auth.sig")" != "$(sha256sum <"$SYS_WORK/sign.sig")"

# A wrong password must not produce a signature.
sys_ok "no signature with a wrong signature password" \
    sys_not p11 --token-label "$SIGN_TOKEN" --login --pin ABC124 --sign \
    -m SHA256-RSA-PKCS --id 02 -i "$SYS_WORK/data" -o "$SYS_WORK/bad.sig"

sys_done
