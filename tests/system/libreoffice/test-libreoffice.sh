#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Real LibreOffice (Debian's, 7.4) signs a PDF with the signature
# certificate of the virtual card, through mynacard-sign-pkcs11.so in the
# NSS database that MOZILLA_CERTIFICATE_FOLDER names (the README's way),
# over a private pcscd (tests/system/lib.sh).  LibreOffice runs in a real
# window on a private Xvfb display (headless, it cannot ask for a
# password), driven over UNO by lo-sign.py, which types the signature
# password into LibreOffice's own "Enter Password" window with xdotool.
# Then poppler's pdfsig checks the PDF: the signature is valid, made by the
# card's signature certificate, byte for byte, under the signature CA.
# A second run types a wrong password: exactly one try is spent, no PDF
# is signed.  Everything listens on and connects to 127.0.0.1 only; every
# process is stopped by its PID.
export SYS_SKIP_STATUS=${SYS_SKIP_STATUS:-0}    # TAP: the plan says skip
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../module/common.sh"

SOFFICE=${SOFFICE:-soffice}
LO_PYTHON=${LO_PYTHON:-/usr/bin/python3}     # Debian's, with python3-uno
mc_need "$SOFFICE" Xvfb xdotool pdfsig certutil modutil openssl timeout
"$LO_PYTHON" -c 'import uno' 2>/dev/null || sys_skip "python3-uno is missing"
mc_need_module MYNACARD_SIGN_MODULE
MOD=$MYNACARD_SIGN_MODULE

# The holder's facts are test data; they live only in the card's files and
# in the signed PDF (a PDF signature carries the signer's certificate).
mc_start_card --name "テスト 花子" --address "東京都千代田区永田町1-7-1" --city "Chiyoda-ku"
SIGN_SUBJECT=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -subject -nameopt RFC2253 |
    sed 's/^subject=//')
SIGN_CN=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= *//p' | head -n 1)
sys_log "the card's signature certificate: $SIGN_SUBJECT"

MC_RUN_TIMEOUT=120

# ---- LibreOffice's NSS database, with the signature module ----
NSSDB="$SYS_WORK/nssdb"
mc_nss_db "$NSSDB" mynacard-sign "$MOD" "certutil -N: an NSS database for LibreOffice" \
    "modutil -add mynacard-sign -libfile mynacard-sign-pkcs11.so (the README's way)"

# ---- A private X display and LibreOffice listening for UNO ----
sys_start_xvfb -fbdir "$SYS_WORK"
export LO_SCREEN="$SYS_WORK/Xvfb_screen0"    # the screen, as an XWD file

LO_PID=""
# lo_start: LibreOffice with its own user profile, on $DISPLAY, taking its
# NSS database from MOZILLA_CERTIFICATE_FOLDER; UNO on 127.0.0.1:$UNO_PORT.
lo_start() {
    UNO_PORT=$(mc_free_port)
    [ -n "$UNO_PORT" ] || sys_fail "no free port"
    MOZILLA_CERTIFICATE_FOLDER="sql:$NSSDB" SAL_USE_VCLPLUGIN=gen \
        "$SOFFICE" -env:UserInstallation="file://$SYS_WORK/lo-user" \
        --accept="socket,host=127.0.0.1,port=$UNO_PORT;urp;" \
        --norestore --nologo --nodefault --nolockcheck \
        >>"$SYS_WORK/soffice.log" 2>&1 </dev/null &
    LO_PID=$!
    sys_track "$LO_PID"
}

lo_stop() {
    [ -n "$LO_PID" ] || return 0
    sys_kill "$LO_PID"
    sys_untrack "$LO_PID"
    # soffice execs soffice.bin; anything left of this profile goes too.
    pkill -f "lo-user" 2>/dev/null
    LO_PID=""
}

# lo_sign OUT.json OUT.pdf PASSWORD...: one signing session.
lo_sign() {
    local json=$1 pdf=$2 rc
    shift 2
    lo_start
    timeout 300 "$LO_PYTHON" "$HERE/lo-sign.py" "$UNO_PORT" "CN=$SIGN_CN" "$pdf" "$@" \
        >"$json" 2>"$json.err"
    rc=$?
    sed 's/^/#   lo-sign: /' "$json.err"
    lo_stop
    return "$rc"
}

# How many COMPUTE DIGITAL SIGNATURE commands the card has received.
sign_count() {
    grep -c '^> 80 2A 00 80' "$SYS_WORK/emu-apdu.log" 2>/dev/null
}

# not_signed PDF: no file, or one without a signature.
not_signed() {
    [ ! -s "$1" ] || ! pdfsig "$1" 2>/dev/null | grep -q '^Signature #1:'
}

j() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- 1. Sign with the right password ----
# The signature key asks for its password before every signature
# (CKA_ALWAYS_AUTHENTICATE, the default): the person types it into the
# "Enter Password" window (the token login) and into the export dialog's
# "Certificate password" field (the key's own login).
v0=$(verify_count)
sys_ok "LibreOffice exports a signed PDF (password $MC_SIGN_PIN typed into its window)" \
    lo_sign "$SYS_WORK/run1.json" "$SYS_WORK/signed.pdf" "$MC_SIGN_PIN" "$MC_SIGN_PIN"
v1=$(verify_count)
sed 's/^/#   /' "$SYS_WORK/run1.json"
sys_ok "  LibreOffice offered the card's signature certificate" \
    eval 'j "$SYS_WORK/run1.json" "d[\"certificates\"]" | grep -qF "$SIGN_CN"'
sys_ok "  LibreOffice's own password window asked once, and got the password" \
    test "$(j "$SYS_WORK/run1.json" '[w["title"].split(" -")[0] + ": " + w["action"] for w in d["windows"]]')" \
        = "['Enter Password: typed 6 characters, Return']"
sys_ok "  the export wrote the PDF" \
    test "$(j "$SYS_WORK/run1.json" 'd["pdf_written"]')" = True
sys_ok "  two VERIFY reached the card, the login and the key's own ($v0 -> $v1)" \
    test "$v1" -eq $((v0 + 2))
sys_ok "  one signature made by the card" test "$(sign_count)" -eq 1
sys_ok "  the card keeps 5 tries" tries sign 5

# ---- pdfsig: valid, and made by the card's signature certificate ----
VERIFYDB="$SYS_WORK/verifydb"
mkdir -p "$VERIFYDB"
mc_run certutil -N -d "sql:$VERIFYDB" --empty-password
mc_run certutil -A -d "sql:$VERIFYDB" -n "JPKI test signature CA" -t "CT,C,C" \
    -i "$CARD/ca-sign.crt.pem"
sys_ok "pdfsig reads the signed PDF" \
    mc_run pdfsig -nssdir "sql:$VERIFYDB" -no-ocsp "$SYS_WORK/signed.pdf"
cp "$SYS_WORK/out" "$SYS_WORK/pdfsig.out"
sys_ok "  one signature" grep -q '^Signature #1:' "$SYS_WORK/pdfsig.out"
sys_ok "  pdfsig: \"Signature is Valid\"" \
    grep -q 'Signature Validation: Signature is Valid' "$SYS_WORK/pdfsig.out"
sys_ok "  the signer is the card's signature certificate (CN $SIGN_CN)" \
    grep -qF "Signer Certificate Common Name: $SIGN_CN" "$SYS_WORK/pdfsig.out"
# (pdfsig 22.12's own certificate-path check answers "Unknown issue" for
# this test CA although certutil -V -u S accepts the chain; the signature
# and the signer are what this test asserts.)
grep 'Certificate Validation' "$SYS_WORK/pdfsig.out" | sed 's/^/#   /'
# The signer's certificate inside the PDF is the card's, byte for byte:
# extract the PKCS#7 blob and compare its certificate with the card's file.
sys_ok "  the certificate in the signature is the card's, byte for byte" \
    "$LO_PYTHON" - "$SYS_WORK/signed.pdf" "$CARD/sign.crt.pem" <<'PY'
import re, subprocess, sys
pdf = open(sys.argv[1], "rb").read()
m = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf)
if not m:
    sys.exit(1)
# The blob is BER (indefinite lengths), zero-padded: openssl stops at its end.
blob = bytes.fromhex(m.group(1).decode())
certs = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs"],
                       input=blob, capture_output=True).stdout
card = subprocess.run(["openssl", "x509", "-outform", "DER", "-in", sys.argv[2]],
                      capture_output=True).stdout
pems = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", certs, re.S)
ders = [subprocess.run(["openssl", "x509", "-outform", "DER"], input=p,
                       capture_output=True).stdout for p in pems]
sys.exit(0 if card in ders else 1)
PY

# ---- 2. The export dialog's password field left empty ----
# The key's own login gets an empty password: the module refuses its format
# without sending it, so nothing is signed and no try is spent.
v0=$(verify_count)
s0=$(sign_count)
sys_ok "LibreOffice with an empty \"Certificate password\" field finishes" \
    lo_sign "$SYS_WORK/run2.json" "$SYS_WORK/empty.pdf" - "$MC_SIGN_PIN"
v1=$(verify_count)
sed 's/^/#   /' "$SYS_WORK/run2.json"
sys_ok "  the export failed: LibreOffice reported an error" \
    eval 'j "$SYS_WORK/run2.json" "d[\"error\"]" | grep -q "export"'
sys_ok "  only the login's VERIFY reached the card ($v0 -> $v1)" test "$v1" -eq $((v0 + 1))
sys_ok "  no signature made" test "$(sign_count)" -eq "$s0"
sys_ok "  no try spent: 5 left" tries sign 5
sys_ok "  no signed PDF" not_signed "$SYS_WORK/empty.pdf"

# ---- 3. A wrong password in the window: one try spent ----
v0=$(verify_count)
s0=$(sign_count)
sys_ok "LibreOffice with the wrong password WRONG9 (the next window cancelled) finishes" \
    lo_sign "$SYS_WORK/run3.json" "$SYS_WORK/wrong.pdf" "$MC_SIGN_PIN" WRONG9
v1=$(verify_count)
sed 's/^/#   /' "$SYS_WORK/run3.json"
# LibreOffice's "Warning" says "The password is incorrect. The file cannot
# be opened." (seen in a screenshot; kept as wrong.pdf.warning-1.xwd).
sys_ok "  LibreOffice warned after the wrong password, asked again, and that window was cancelled" \
    test "$(j "$SYS_WORK/run3.json" '[w["title"].split(" -")[0] + ": " + w["action"] for w in d["windows"]]')" \
        = "['Enter Password: typed 6 characters, Return', 'Warning: dismissed', 'Enter Password: cancelled']"
sys_ok "  the wrong password reached the card once ($v0 -> $v1 VERIFY)" \
    test "$v1" -eq $((v0 + 1))
sys_ok "  exactly one try spent: 4 left" tries sign 4
sys_ok "  no signature made" test "$(sign_count)" -eq "$s0"
sys_ok "  no signed PDF" not_signed "$SYS_WORK/wrong.pdf"

# ---- 4. sign_always_authenticate = false: the window only ----
printf 'sign_always_authenticate = false\n' >"$SYS_WORK/mynacard.conf"
export MYNACARD_CONF="$SYS_WORK/mynacard.conf"
v0=$(verify_count)
s0=$(sign_count)
sys_ok "with sign_always_authenticate = false, LibreOffice signs with the window's password alone" \
    lo_sign "$SYS_WORK/run4.json" "$SYS_WORK/signed2.pdf" - "$MC_SIGN_PIN"
v1=$(verify_count)
unset MYNACARD_CONF
sed 's/^/#   /' "$SYS_WORK/run4.json"
sys_ok "  one VERIFY, one signature ($v0 -> $v1)" \
    eval 'test "$v1" -eq $((v0 + 1)) && test "$(sign_count)" -eq $((s0 + 1))'
sys_ok "  pdfsig: \"Signature is Valid\", by the card's certificate" \
    eval 'pdfsig -nssdir "sql:$VERIFYDB" -no-ocsp "$SYS_WORK/signed2.pdf" >"$SYS_WORK/pdfsig2.out" 2>&1 &&
          grep -q "Signature Validation: Signature is Valid" "$SYS_WORK/pdfsig2.out" &&
          grep -qF "Signer Certificate Common Name: $SIGN_CN" "$SYS_WORK/pdfsig2.out"'
sys_ok "  the right password reset the counter: 5 tries" tries sign 5

sys_kill "$SYS_XVFB_PID"
sys_untrack "$SYS_XVFB_PID"
sys_done
