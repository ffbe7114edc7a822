#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Java (OpenJDK 17's SunPKCS11) over the module, the README's way: a
# SunPKCS11 configuration file a token (`name`, `library` = the one-token
# module, or the two-token module with `slotListIndex`), `keytool -list
# -keystore NONE -storetype PKCS11`, `jarsigner` and `jarsigner -verify`,
# and java/SignCheck.java (compiled here with javac) which signs with
# Signature.getInstance("SHA256withRSA", provider) and verifies with the
# certificate through the JDK's own RSA.
#
# What SunPKCS11 does, measured here and asserted so that a change shows:
#  - It logs in as soon as the keystore is loaded, on every token with
#    CKF_LOGIN_REQUIRED, so keytool cannot list even the public
#    authentication certificate without a PIN ("load failed", nothing
#    sent to the card, no try spent).
#  - It never does a context-specific login (C_Login CKU_CONTEXT_SPECIFIC):
#    with the signature key's CKA_ALWAYS_AUTHENTICATE (the module's
#    default) the password is asked once, reaches the card once (right, so
#    no try is spent), and then C_SignFinal answers CKR_USER_NOT_LOGGED_IN:
#    no signature.
#  - With `sign_always_authenticate = false` in a configuration file of
#    Java's own (MYNACARD_CONF, the README's advice) jarsigner asks once
#    and signs.  A wrong password costs exactly one try; jarsigner says
#    only "keystore load: load failed", `keytool -list -v` shows the
#    cause, CKR_PIN_INCORRECT.
# JVM starts cost about half a second each: kept to the ones needed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need java javac keytool jarsigner jar openssl python3 timeout
mc_need_module MYNACARD_AUTH_MODULE
mc_need_module MYNACARD_SIGN_MODULE
mc_need_module MYNACARD_MODULE
SRC=$(cd "$(dirname "$0")" && pwd)/java

mc_start_card

J=$SYS_WORK/java
mkdir -p "$J"
# The README's configurations.
printf 'name = MynaCardAuth\nlibrary = %s\n' "$MYNACARD_AUTH_MODULE" >"$J/auth.cfg"
printf 'name = MynaCardSign\nlibrary = %s\n' "$MYNACARD_SIGN_MODULE" >"$J/sign.cfg"
printf 'name = MynaCard\nlibrary = %s\nslotListIndex = 0\n' "$MYNACARD_MODULE" >"$J/two-auth.cfg"
printf 'name = MynaCard\nlibrary = %s\nslotListIndex = 1\n' "$MYNACARD_MODULE" >"$J/two-sign.cfg"
printf 'sign_always_authenticate = false\n' >"$J/java.conf"
# The card's own certificates, as the emulator holds them.
AUTH_FP=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
SIGN_FP=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
AUTH_HEX=$(echo "$AUTH_FP" | tr -d : | tr A-F a-f)
SIGN_HEX=$(echo "$SIGN_FP" | tr -d : | tr A-F a-f)
SIGN_ALIAS="Digital Signature Certificate"

# A Java program's run: NAME, standard input (a PIN or nothing), then
# the command; its output in $J/NAME.out (and $SYS_WORK/out), shown as
# TAP comments, and its exit status.  The PIN goes through a pipe, never
# an argument or a file.
jrun() {
    local name=$1 input=$2 rc
    shift 2
    printf '%s' "$input" | timeout 120 "$@" >"$J/$name.out" 2>&1
    rc=$?
    cp "$J/$name.out" "$SYS_WORK/out"
    sed 's/^/#   /' "$J/$name.out"
    return "$rc"
}
KEYTOOL=(keytool -list -keystore NONE -storetype PKCS11
    -providerClass sun.security.pkcs11.SunPKCS11)
JARSIGNER=(jarsigner -keystore NONE -storetype PKCS11
    -providerClass sun.security.pkcs11.SunPKCS11)
v_delta() {
    echo $(( $(verify_count) - v0 ))
}
# How many signatures (COMPUTE DIGITAL SIGNATURE) the card has made.
card_signatures() {
    grep -c '^> 80 2A 00 80 ' "$SYS_WORK/emu-apdu.log"
}

# ---- keytool ----
v0=$(verify_count)
sys_ok "keytool -list, authentication token, no PIN: SunPKCS11 refuses to load a login-required token" \
    eval 'sys_not jrun kt-nopin "" "${KEYTOOL[@]}" -providerArg "$J/auth.cfg" -protected &&
          out_has "load failed"'
sys_ok "  nothing reached the card (no VERIFY), 3 tries left" \
    eval '[ "$(v_delta)" = 0 ] && tries auth 3'
sys_ok "keytool -list, authentication token, with the PIN: the card's authentication certificate" \
    eval 'jrun kt-auth "$MC_AUTH_PIN" "${KEYTOOL[@]}" -providerArg "$J/auth.cfg" &&
          out_has "User Authentication Certificate, PrivateKeyEntry" &&
          out_has "(SHA-256): $AUTH_FP"'
sys_ok "keytool -list, signature token, after the password: the card's signature certificate" \
    eval 'jrun kt-sign "$MC_SIGN_PIN" "${KEYTOOL[@]}" -providerArg "$J/sign.cfg" &&
          out_has "$SIGN_ALIAS, PrivateKeyEntry" &&
          out_has "(SHA-256): $SIGN_FP"'
sys_ok "  one password prompt each, one VERIFY each, tries 3 and 5" \
    eval '[ "$(grep -o "Enter keystore password" "$J/kt-auth.out" "$J/kt-sign.out" | wc -l)" = 2 ] &&
          [ "$(v_delta)" = 2 ] && tries auth 3 && tries sign 5'
sys_ok "the two-token module, slotListIndex = 0: the authentication certificate" \
    eval 'jrun kt-two0 "$MC_AUTH_PIN" "${KEYTOOL[@]}" -providerArg "$J/two-auth.cfg" &&
          out_has "(SHA-256): $AUTH_FP" && out_lacks "$SIGN_FP"'
sys_ok "the two-token module, slotListIndex = 1: the signature certificate" \
    eval 'jrun kt-two1 "$MC_SIGN_PIN" "${KEYTOOL[@]}" -providerArg "$J/two-sign.cfg" &&
          out_has "(SHA-256): $SIGN_FP" && out_lacks "$AUTH_FP"'

# ---- jarsigner, the module's default (CKA_ALWAYS_AUTHENTICATE) ----
( cd "$J" && echo "mynacard: a file in a JAR" >file.txt && jar cf unsigned.jar file.txt ) ||
    sys_fail "jar cf"
v0=$(verify_count)
sys_ok "jarsigner, the default configuration: no signature (SunPKCS11 does no context-specific login)" \
    eval 'sys_not jrun js-default "$MC_SIGN_PIN" env MYNACARD_CONF=/dev/null MYNACARD_DEBUG=3 \
          "${JARSIGNER[@]}" -providerArg "$J/sign.cfg" -signedjar "$J/default.jar" \
          "$J/unsigned.jar" "$SIGN_ALIAS" &&
          out_has "CKR_USER_NOT_LOGGED_IN" && ! [ -e "$J/default.jar" ]'
sys_ok "  Java never asked for C_Login(CKU_CONTEXT_SPECIFIC); C_SignFinal said CKR_USER_NOT_LOGGED_IN" \
    eval 'out_has "C_Login(session=1, user=1) -> CKR_OK" && out_lacks "user=2)" &&
          out_matches "C_SignFinal\(.*\) -> CKR_USER_NOT_LOGGED_IN"'
sys_ok "  one password prompt, one VERIFY (the right password: no try spent, 5 left)" \
    eval '[ "$(grep -o "Enter Passphrase for keystore" "$J/js-default.out" | wc -l)" = 1 ] &&
          [ "$(v_delta)" = 1 ] && tries sign 5'

# ---- jarsigner with the README's Java configuration ----
export MYNACARD_CONF=$J/java.conf
v0=$(verify_count)
sys_ok "jarsigner, sign_always_authenticate = false, a wrong password: fails, no JAR" \
    eval 'sys_not jrun js-wrong WRONG99 "${JARSIGNER[@]}" -providerArg "$J/sign.cfg" \
          -signedjar "$J/wrong.jar" "$J/unsigned.jar" "$SIGN_ALIAS" && ! [ -e "$J/wrong.jar" ]'
# jarsigner drops the cause: its whole message is this.
sys_ok "  jarsigner says only \"keystore load: load failed\"" \
    out_has "jarsigner error: java.lang.RuntimeException: keystore load: load failed"
sys_ok "  exactly one VERIFY, one try spent (4 of 5 left)" \
    eval '[ "$(v_delta)" = 1 ] && tries sign 4'
v0=$(verify_count)
sys_ok "keytool -list -v, a wrong password: fails, and says why (FailedLoginException, CKR_PIN_INCORRECT)" \
    eval 'sys_not jrun kt-wrong WRONG99 "${KEYTOOL[@]}" -providerArg "$J/sign.cfg" -v &&
          out_has "javax.security.auth.login.FailedLoginException" &&
          out_has "PKCS11Exception: CKR_PIN_INCORRECT"'
sys_ok "  exactly one VERIFY, one try spent (3 of 5 left)" \
    eval '[ "$(v_delta)" = 1 ] && tries sign 3'
v0=$(verify_count)
sys_ok "jarsigner, sign_always_authenticate = false, the right password: signs the JAR" \
    eval 'jrun js-sign "$MC_SIGN_PIN" "${JARSIGNER[@]}" -providerArg "$J/sign.cfg" \
          -sigfile MYNACARD -signedjar "$J/signed.jar" "$J/unsigned.jar" "$SIGN_ALIAS" && out_has "jar signed."'
sys_ok "  one password prompt, one VERIFY, the tries back to 5" \
    eval '[ "$(grep -o "Enter Passphrase for keystore" "$J/js-sign.out" | wc -l)" = 1 ] &&
          [ "$(v_delta)" = 1 ] && tries sign 5'
sys_ok "jarsigner -verify -verbose -certs: jar verified" \
    eval 'jrun js-verify "" jarsigner -verify -verbose -certs "$J/signed.jar" &&
          out_has "jar verified." && out_matches "^sm +[0-9]+ .* file.txt$"'
# The signer: OpenSSL checks the JAR's PKCS#7 signature over its .SF file
# and names the certificate that made it (the block also carries the CA).
sys_ok "  OpenSSL verifies the JAR's PKCS#7 signature; the signer is the card's signature certificate, byte for byte" \
    eval 'python3 -m zipfile -e "$J/signed.jar" "$J/signed" &&
          openssl cms -verify -binary -noverify -inform DER \
              -in "$J/signed/META-INF/MYNACARD.RSA" -content "$J/signed/META-INF/MYNACARD.SF" \
              -signer "$J/signer.pem" -out /dev/null 2>"$J/cms.err" &&
          openssl x509 -in "$J/signer.pem" -outform DER -out "$J/signer.der" &&
          same_cert "$J/signer.der" "$CARD/sign.crt.pem"'

# ---- Signature.getInstance("SHA256withRSA", provider), each key ----
sys_ok "javac SignCheck.java" \
    mc_run javac -d "$J/classes" "$SRC/SignCheck.java"
v0=$(verify_count)
s0=$(card_signatures)
sys_ok "SignCheck: the authentication key signs twice, the JDK verifies both with the card's certificate" \
    eval 'jrun sc "$(printf "%s\n%s\n" "$MC_AUTH_PIN" "$MC_SIGN_PIN")" \
          java -cp "$J/classes" SignCheck "$J/auth.cfg" "$J/sign.cfg";
          grep -qx "KEY User Authentication Certificate sha256=$AUTH_HEX verified=true" "$J/sc.out"'
sys_ok "SignCheck: the signature key signs twice, the JDK verifies both with the card's certificate" \
    grep -qx "KEY $SIGN_ALIAS sha256=$SIGN_HEX verified=true" "$J/sc.out"
sys_ok "  four signatures by the card, one VERIFY a token (the login holds for the program's run), tries 3 and 5" \
    eval '[ "$(( $(card_signatures) - s0 ))" = 4 ] && [ "$(v_delta)" = 2 ] && tries auth 3 && tries sign 5'

sys_done
