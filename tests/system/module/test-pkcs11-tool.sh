#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# OpenSC's pkcs11-tool drives mynacard-pkcs11.so over real pcscd, vpcd and
# the virtual card: two tokens with recognisable labels, a real serial
# number (stable, different between two cards) and the PIN lengths; the
# objects each shows before and after login (the signature certificate
# only after the password); exactly the six RSA PKCS#1 v1.5 mechanisms;
# a signature with every mechanism on both tokens (single- and multi-part
# input), each verified by openssl against the certificate read through
# the module; pkcs11-tool's --test, --test-threads and --test-fork; a
# wrong PIN costs exactly one try and shows in the token flags, a PIN of
# the wrong format costs none; the authentication-only and signature-only
# modules show one token each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need pkcs11-tool openssl ss timeout
mc_need_module MYNACARD_MODULE
mc_need_module MYNACARD_AUTH_MODULE
mc_need_module MYNACARD_SIGN_MODULE
MOD=$MYNACARD_MODULE

mc_start_card

p11() {
    p11m "$MOD" "$@"
}

# ---- Slots and tokens ----
p11 -L
out_save list1
tokens_of "$SYS_WORK/list1" >"$SYS_WORK/tokens1"
mc_cat_comment "$SYS_WORK/tokens1"
AUTH_LINE=$(awk -F '\t' 'tolower($2) ~ /auth/' "$SYS_WORK/tokens1" | head -n 1)
SIGN_LINE=$(awk -F '\t' 'tolower($2) ~ /sign/' "$SYS_WORK/tokens1" | head -n 1)
AUTH_TOKEN=$(printf '%s' "$AUTH_LINE" | cut -f 2)
SIGN_TOKEN=$(printf '%s' "$SIGN_LINE" | cut -f 2)
AUTH_SERIAL=$(printf '%s' "$AUTH_LINE" | cut -f 3)
SIGN_SERIAL=$(printf '%s' "$SIGN_LINE" | cut -f 3)

sys_ok "-L shows exactly two tokens" test "$(wc -l <"$SYS_WORK/tokens1")" = 2
sys_ok "one token's label names authentication ('$AUTH_TOKEN')" test -n "$AUTH_TOKEN"
sys_ok "the other's names the signature ('$SIGN_TOKEN')" \
    test -n "$SIGN_TOKEN" -a "$SIGN_TOKEN" != "$AUTH_TOKEN"
[ -n "$AUTH_TOKEN" ] && [ -n "$SIGN_TOKEN" ] ||
    sys_fail "cannot go on without both tokens"

real_serial() {
    [ -n "$1" ] && ! printf '%s' "$1" | grep -qE '^0+$'
}
sys_ok "the authentication token has a real serial number ('$AUTH_SERIAL')" \
    real_serial "$AUTH_SERIAL"
sys_ok "the signature token has a real serial number ('$SIGN_SERIAL')" \
    real_serial "$SIGN_SERIAL"
sys_ok "the authentication PIN is 4..4 characters" \
    test "$(printf '%s' "$AUTH_LINE" | cut -f 4)" = 4/4
sys_ok "the signature password is 6..16 characters" \
    test "$(printf '%s' "$SIGN_LINE" | cut -f 4)" = 6/16
for line in "$AUTH_LINE" "$SIGN_LINE"; do
    flags=$(printf '%s' "$line" | cut -f 5)
    sys_ok "'$(printf '%s' "$line" | cut -f 2)': login required, PIN initialized, readonly ($flags)" \
        eval 'case "$flags" in *"login required"*) ;; *) false ;; esac &&
              case "$flags" in *"PIN initialized"*) ;; *) false ;; esac &&
              case "$flags" in *readonly*) ;; *) false ;; esac'
done
sys_ok "the token model is not OpenSC's 'PKCS#15 emulated'" \
    sys_not out_matches 'token model *: PKCS#15 emulated'

# ---- Objects ----
p11 --token-label "$AUTH_TOKEN" -O
out_save auth-O
sys_ok "auth token, no login: the authentication certificate (ID 01)" \
    has_object "$SYS_WORK/auth-O" cert 01
sys_ok "auth token, no login: its public key (ID 01)" \
    has_object "$SYS_WORK/auth-O" pubkey 01
sys_ok "auth token, no login: exactly two certificates (its own and its CA)" \
    test "$(count_objects "$SYS_WORK/auth-O" cert)" = 2
sys_ok "auth token, no login: the public-certificates profile object" \
    out_has "CKP_PUBLIC_CERTIFICATES_TOKEN"
AUTH_CA_ID=$(ids_of "$SYS_WORK/auth-O" cert | grep -vx 01 | head -n 1)

p11 --token-label "$SIGN_TOKEN" -O
out_save sign-O
sys_ok "sign token, no login: exactly one certificate (its CA)" \
    test "$(count_objects "$SYS_WORK/sign-O" cert)" = 1
sys_ok "sign token, no login: NO signature certificate (ID 02)" \
    lacks_object "$SYS_WORK/sign-O" cert 02
sys_ok "sign token, no login: no signature public key either" \
    lacks_object "$SYS_WORK/sign-O" pubkey 02
SIGN_CA_ID=$(ids_of "$SYS_WORK/sign-O" cert | head -n 1)

p11 --token-label "$SIGN_TOKEN" --login --pin "$MC_SIGN_PIN" -O
out_save sign-O-login
sys_ok "sign token, logged in: the signature certificate (ID 02)" \
    has_object "$SYS_WORK/sign-O-login" cert 02
sys_ok "sign token, logged in: its public key (ID 02)" \
    has_object "$SYS_WORK/sign-O-login" pubkey 02
sys_ok "sign token, logged in: its private key (ID 02)" \
    has_object "$SYS_WORK/sign-O-login" privkey 02
p11 --token-label "$AUTH_TOKEN" --login --pin "$MC_AUTH_PIN" -O
out_save auth-O-login
sys_ok "auth token, logged in: the private key (ID 01)" \
    has_object "$SYS_WORK/auth-O-login" privkey 01

# ---- Certificates, read through the module ----
read_cert() {
    # read_cert TOKEN ID NAME [login options]
    local token=$1 id=$2 name=$3
    shift 3
    p11 --token-label "$token" "$@" --read-object --type cert --id "$id" \
        -o "$SYS_WORK/$name.der" &&
        der_to_pem "$SYS_WORK/$name.der" "$SYS_WORK/$name.pem" &&
        pubkey_of "$SYS_WORK/$name.pem" "$SYS_WORK/$name.pub"
}
sys_ok "read the authentication certificate (no login)" \
    read_cert "$AUTH_TOKEN" 01 auth
sys_ok "read the signature certificate (after login)" \
    read_cert "$SIGN_TOKEN" 02 sign --login --pin "$MC_SIGN_PIN"
sys_ok "the signature certificate cannot be read without login" \
    sys_not p11 --token-label "$SIGN_TOKEN" --read-object --type cert \
    --id 02 -o "$SYS_WORK/sign-nologin.der"
sys_ok "read the authentication CA certificate (ID ${AUTH_CA_ID:-none})" \
    read_cert "$AUTH_TOKEN" "${AUTH_CA_ID:-ff}" auth-ca
sys_ok "read the signature CA certificate (ID ${SIGN_CA_ID:-none})" \
    read_cert "$SIGN_TOKEN" "${SIGN_CA_ID:-ff}" sign-ca
sys_ok "the authentication certificate is the card's" \
    same_cert "$SYS_WORK/auth.der" "$CARD/auth.crt.pem"
sys_ok "the signature certificate is the card's" \
    same_cert "$SYS_WORK/sign.der" "$CARD/sign.crt.pem"
sys_ok "the authentication CA is the card's" \
    same_cert "$SYS_WORK/auth-ca.der" "$CARD/ca-auth.crt.pem"
sys_ok "the signature CA is the card's" \
    same_cert "$SYS_WORK/sign-ca.der" "$CARD/ca-sign.crt.pem"

# ---- Mechanisms ----
WANT_MECHS="RSA-PKCS
SHA1-RSA-PKCS
SHA224-RSA-PKCS
SHA256-RSA-PKCS
SHA384-RSA-PKCS
SHA512-RSA-PKCS"
for t in auth sign; do
    if [ $t = auth ]; then tok=$AUTH_TOKEN; else tok=$SIGN_TOKEN; fi
    p11 --token-label "$tok" -M
    out_save "$t-M"
    mechs_of "$SYS_WORK/$t-M" >"$SYS_WORK/$t-mechs"
    sys_ok "$t token: -M lists exactly RSA-PKCS and SHA{1,224,256,384,512}-RSA-PKCS" \
        test "$(cat "$SYS_WORK/$t-mechs")" = "$(printf '%s\n' "$WANT_MECHS" | sort)"
    sys_ok "$t token: no RSA-PKCS-PSS (nor SHA*-RSA-PKCS-PSS)" \
        sys_not grep -q 'PSS' "$SYS_WORK/$t-mechs"
    sys_ok "$t token: no RSA-X-509" sys_not grep -qx 'RSA-X-509' "$SYS_WORK/$t-mechs"
done

# ---- Signatures with every mechanism, on both tokens ----
printf 'mynacard system test: sign me\n' >"$SYS_WORK/small"
# Larger than pkcs11-tool's 1 KiB buffer: C_SignUpdate in pieces.
head -c 70000 /dev/urandom >"$SYS_WORK/large"

# verify_dgst ALG PUB SIG DATA
verify_dgst() {
    openssl dgst "-$1" -verify "$2" -signature "$3" "$4" 2>&1 | sed 's/^/#   /'
    [ "${PIPESTATUS[0]}" = 0 ]
}

# verify_raw PUB SIG DIGESTINFO: a PKCS#1 v1.5 signature of exactly these
# bytes (the padding is checked by -verifyrecover, the bytes by cmp).
verify_raw() {
    openssl pkeyutl -verifyrecover -pubin -inkey "$1" -in "$2" \
        -out "$2.recovered" 2>&1 | sed 's/^/#   /'
    [ "${PIPESTATUS[0]}" = 0 ] && cmp "$2.recovered" "$3"
}

for t in auth sign; do
    if [ $t = auth ]; then
        tok=$AUTH_TOKEN id=01 pin=$MC_AUTH_PIN
    else
        tok=$SIGN_TOKEN id=02 pin=$MC_SIGN_PIN
    fi
    pub=$SYS_WORK/$t.pub
    for alg in sha1 sha256 sha512; do
        digest_info "$alg" "$SYS_WORK/small" "$SYS_WORK/di-$alg" ||
            sys_fail "digest_info $alg"
        sys_ok "$t: RSA-PKCS over a $alg DigestInfo" \
            p11 --token-label "$tok" --login --pin "$pin" --sign -m RSA-PKCS \
            --id $id -i "$SYS_WORK/di-$alg" -o "$SYS_WORK/$t-raw-$alg.sig"
        sys_ok "$t: openssl pkeyutl verifies the RSA-PKCS signature ($alg)" \
            verify_raw "$pub" "$SYS_WORK/$t-raw-$alg.sig" "$SYS_WORK/di-$alg"
    done
    sys_ok "$t: openssl dgst also verifies RSA-PKCS(sha256 DigestInfo) over the data" \
        verify_dgst sha256 "$pub" "$SYS_WORK/$t-raw-sha256.sig" "$SYS_WORK/small"
    for alg in sha1 sha224 sha256 sha384 sha512; do
        mech="$(printf '%s' "$alg" | tr a-z A-Z)-RSA-PKCS"
        for size in small large; do
            sig=$SYS_WORK/$t-$alg-$size.sig
            sys_ok "$t: $mech over the $size file" \
                p11 --token-label "$tok" --login --pin "$pin" --sign -m "$mech" \
                --id $id -i "$SYS_WORK/$size" -o "$sig"
            sys_ok "$t: openssl verifies the $mech signature ($size)" \
                verify_dgst "$alg" "$pub" "$sig" "$SYS_WORK/$size"
        done
    done
done
sys_ok "an authentication signature does not verify with the signature key" \
    sys_not verify_dgst sha256 "$SYS_WORK/sign.pub" \
    "$SYS_WORK/auth-sha256-small.sig" "$SYS_WORK/small"
sys_ok "a signature does not verify over other data" \
    sys_not verify_dgst sha256 "$SYS_WORK/auth.pub" \
    "$SYS_WORK/auth-sha256-small.sig" "$SYS_WORK/large"

# ---- pkcs11-tool's own tests ----
sys_ok "pkcs11-tool --test on the authentication token" \
    p11 --token-label "$AUTH_TOKEN" --login --pin "$MC_AUTH_PIN" --test
sys_ok "  it reports no errors" out_has "No errors"
sys_ok "pkcs11-tool --test on the signature token" \
    p11 --token-label "$SIGN_TOKEN" --login --pin "$MC_SIGN_PIN" --test
sys_ok "  it reports no errors" out_has "No errors"

# OpenSC 0.23's --test-threads knows IN (C_Initialize(NULL)), IL (with
# CKF_OS_LOCKING_OK), Pn (pause n s), GI (C_GetInfo), SL (C_GetSlotList)
# and Tn (C_GetTokenInfo of slot index n); each --test-threads is a
# thread.
sys_ok "pkcs11-tool --test-threads (three threads, both tokens)" \
    p11 --test-threads ILGISLT0T1 --test-threads P1GISLT1T0SL \
    --test-threads P1SLT0T1GI -L
sys_ok "  all three threads returned CKR_OK" \
    test "$(grep -c 'Test thread [0-2] returning rv = 0$' "$SYS_WORK/out")" = 3
sys_ok "  no thread met an unknown test or an unavailable slot" \
    sys_not out_matches 'Unknown test|slot not available'
# Thread 0's C_Initialize races pkcs11-tool's own: whichever comes second
# must get CKR_CRYPTOKI_ALREADY_INITIALIZED (PKCS#11 2.40, 5.4), and both
# orders are seen on a loaded machine.  Every other call must be CKR_OK.
sys_ok "  every call the threads made returned CKR_OK (a second C_Initialize: ALREADY_INITIALIZED)" \
    eval '! grep -E "returned +CKR_" "$SYS_WORK/out" |
          grep -vE "C_Initialize +returned +CKR_CRYPTOKI_ALREADY_INITIALIZED *\$" |
          grep -vqE "returned +CKR_OK *\$"'
sys_ok "pkcs11-tool --test-fork (C_Initialize again in a child)" \
    p11 --test-fork -L
sys_ok "  the child called C_Initialize" \
    out_has "Calling C_Initialize in forked child process"
sys_ok "  and it succeeded (no 'Child process exited with status')" \
    out_lacks "Child process exited with status"

# ---- PINs ----
sys_ok "a new card: 3 authentication tries" tries auth 3
v0=$(verify_count)
sys_ok "a wrong PIN is refused" \
    sys_not p11 --token-label "$AUTH_TOKEN" --login --pin 9999 -O
sys_ok "  with CKR_PIN_INCORRECT" out_has CKR_PIN_INCORRECT
v1=$(verify_count)
sys_ok "  the module sent exactly one VERIFY ($v0 -> $v1)" test "$v1" = $((v0 + 1))
sys_ok "  it cost exactly one try" tries auth 2
p11 -L
out_save list-wrong
sys_ok "  -L still lists the authentication token" \
    eval 'tokens_of "$SYS_WORK/list-wrong" | cut -f 2 | grep -qxF "$AUTH_TOKEN"'
tokens_of "$SYS_WORK/list-wrong" | awk -F '\t' -v l="$AUTH_TOKEN" '$2 == l { print $5 }' \
    >"$SYS_WORK/flags-wrong"
sys_ok "  its flags say 'user PIN count low' ($(cat "$SYS_WORK/flags-wrong"))" \
    grep -q 'user PIN count low' "$SYS_WORK/flags-wrong"
tokens_of "$SYS_WORK/list-wrong" | awk -F '\t' -v l="$SIGN_TOKEN" '$2 == l { print $5 }' \
    >"$SYS_WORK/flags-sign"
sys_ok "  the signature token's flags do not (flags: $(cat "$SYS_WORK/flags-sign"))" \
    sys_not grep -q 'count low' "$SYS_WORK/flags-sign"
sys_ok "  reading the flags spent no try" tries auth 2

v0=$(verify_count)
sys_ok "a 5-digit authentication PIN is refused" \
    sys_not p11 --token-label "$AUTH_TOKEN" --login --pin 12345 -O
sys_ok "  with CKR_PIN_LEN_RANGE or CKR_PIN_INVALID" \
    out_matches 'CKR_PIN_LEN_RANGE|CKR_PIN_INVALID'
sys_ok "a non-digit authentication PIN is refused" \
    sys_not p11 --token-label "$AUTH_TOKEN" --login --pin 12a4 -O
sys_ok "  with CKR_PIN_LEN_RANGE or CKR_PIN_INVALID" \
    out_matches 'CKR_PIN_LEN_RANGE|CKR_PIN_INVALID'
sys_ok "a 5-character signature password is refused" \
    sys_not p11 --token-label "$SIGN_TOKEN" --login --pin ABC12 -O
sys_ok "  with CKR_PIN_LEN_RANGE or CKR_PIN_INVALID" \
    out_matches 'CKR_PIN_LEN_RANGE|CKR_PIN_INVALID'
v1=$(verify_count)
sys_ok "  none of them reached the card ($v0 -> $v1 VERIFY)" test "$v1" = "$v0"
sys_ok "  the tries are untouched (auth)" tries auth 2
sys_ok "  the tries are untouched (sign)" tries sign 5

LOWER_PIN=$(printf '%s' "$MC_SIGN_PIN" | tr A-Z a-z)
sys_ok "the signature password in lowercase ($LOWER_PIN) is accepted" \
    p11 --token-label "$SIGN_TOKEN" --login --pin "$LOWER_PIN" -O
sys_ok "  and cost no try" tries sign 5
sys_ok "the correct PIN logs in" \
    p11 --token-label "$AUTH_TOKEN" --login --pin "$MC_AUTH_PIN" -O
sys_ok "  and restores the tries" tries auth 3
p11 -L
sys_ok "  the count-low flag is gone" sys_not out_has 'user PIN count low'

# ---- The one-token modules ----
# one_token ROLE MODULE TOKEN WHAT: MODULE shows one token, TOKEN (WHAT's).
one_token() {
    local list=$SYS_WORK/list-$1-only
    p11m "$2" -L
    out_save "list-$1-only"
    sys_ok "$(basename "$2") shows one token" \
        test "$(tokens_of "$list" | wc -l)" = 1
    sys_ok "  the $4 token" test "$(tokens_of "$list" | cut -f 2)" = "$3"
}
one_token auth "$MYNACARD_AUTH_MODULE" "$AUTH_TOKEN" authentication
p11m "$MYNACARD_AUTH_MODULE" -O
out_save auth-only-O
sys_ok "  with the authentication certificate" \
    has_object "$SYS_WORK/auth-only-O" cert 01
one_token sign "$MYNACARD_SIGN_MODULE" "$SIGN_TOKEN" signature
sys_ok "  which signs after login" \
    p11m "$MYNACARD_SIGN_MODULE" --login --pin "$MC_SIGN_PIN" --sign \
    -m SHA256-RSA-PKCS --id 02 -i "$SYS_WORK/small" -o "$SYS_WORK/sign-only.sig"
sys_ok "  verified by openssl" \
    verify_dgst sha256 "$SYS_WORK/sign.pub" "$SYS_WORK/sign-only.sig" "$SYS_WORK/small"

# ---- A second card: serial numbers stable and different ----
CARD2="$SYS_WORK/card2"
sys_card_init "$CARD2"
"$MYNACARD_EMU" run "$CARD2" --port $((SYS_PORT + 1)) \
    --ready-file "$SYS_WORK/emu2.ready" --log "$SYS_WORK/emu2-apdu.log" \
    >>"$SYS_WORK/emu2.log" 2>&1 &
EMU2_PID=$!
sys_track "$EMU2_PID"
for _ in $(seq 200); do
    [ "$(tokens_of <(timeout 60 pkcs11-tool --module "$MOD" -L 2>/dev/null) | wc -l)" = 4 ] &&
        break
    sys_alive "$EMU2_PID" || break
    sleep 0.2
done
p11 -L
out_save list2
tokens_of "$SYS_WORK/list2" >"$SYS_WORK/tokens2"
mc_cat_comment "$SYS_WORK/tokens2"
sys_ok "with a second card in the second slot, -L shows four tokens" \
    test "$(wc -l <"$SYS_WORK/tokens2")" = 4
S1=$(awk -F '\t' '$1 ~ /Virtual PCD 00 00/ { print $3 }' "$SYS_WORK/tokens2" | sort -u)
S2=$(awk -F '\t' '$1 ~ /Virtual PCD 00 01/ { print $3 }' "$SYS_WORK/tokens2" | sort -u)
sys_ok "the first card's serial numbers did not change" \
    test "$S1" = "$(printf '%s\n%s\n' "$AUTH_SERIAL" "$SIGN_SERIAL" | sort -u)"
sys_ok "the second card has real serial numbers ($(echo $S2))" \
    test -n "$S2" -a -z "$(printf '%s\n' "$S2" | grep -E '^0+$')"
sys_ok "the two cards' serial numbers differ" \
    test -z "$(comm -12 <(printf '%s\n' "$S1") <(printf '%s\n' "$S2"))"

sys_done
