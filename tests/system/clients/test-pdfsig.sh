#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Signing a PDF from the command line: poppler's pdfsig (22.12, through
# NSS) with mynacard-sign-pkcs11.so in an NSS database of the test's own,
# the README's way.  `pdfsig -add-signature -nssdir sql:DB -nick
# "TOKEN:LABEL" -nss-pwd PASSWORD -kpw PASSWORD in.pdf out.pdf` signs with
# the signature key (the token's login takes -nss-pwd; the key asks for
# its password again before every signature); `pdfsig out.pdf` then says "Signature is Valid."
# and names the card's signature certificate, which is the signer in the
# PDF's PKCS#7 signature, byte for byte.  A wrong password signs nothing
# and costs exactly one try.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need pdfsig certutil modutil openssl python3 timeout
mc_need_module MYNACARD_SIGN_MODULE
MOD=$MYNACARD_SIGN_MODULE

mc_start_card

# A one-page PDF, written by hand (offsets computed).
python3 - "$SYS_WORK/in.pdf" <<'EOF'
import sys
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
text = b"BT /F1 24 Tf 72 760 Td (mynacard: a PDF to sign) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
out = bytearray(b"%PDF-1.4\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
    len(objs) + 1, xref)
open(sys.argv[1], "wb").write(out)
EOF
sys_ok "a one-page PDF to sign (pdfsig reads it: no signature yet)" \
    eval 'mc_run pdfsig "$SYS_WORK/in.pdf"; grep -q "does not contain any signatures" "$SYS_WORK/out"'

# ---- the NSS database, the README's way ----
DB="$SYS_WORK/nssdb"
mkdir -p "$DB"
sys_ok "certutil -N: an NSS database" \
    mc_run certutil -N -d "sql:$DB" --empty-password
sys_ok "modutil -add: mynacard-sign-pkcs11.so in it" \
    eval 'echo | mc_run modutil -dbdir "sql:$DB" -add "My Number Card" -libfile "$MOD" -force'
printf '%s\n' "$MC_SIGN_PIN" >"$SYS_WORK/pwfile"
mc_run certutil -L -d "sql:$DB" -h all -f "$SYS_WORK/pwfile"
NICK=$(awk '/^My Number Card \(Signature\):.*u,u,u[ \t]*$/ {
    sub(/[ \t]+u,u,u[ \t]*$/, ""); print; exit }' "$SYS_WORK/out")
rm -f "$SYS_WORK/pwfile"
sys_ok "after the password, certutil lists the signature certificate ('$NICK')" \
    test -n "$NICK"
sys_ok "  the tries are back to 5" tries sign 5

# ---- a wrong password ----
sys_ok "pdfsig -add-signature with a wrong password fails" \
    sys_not mc_run pdfsig -add-signature -nssdir "sql:$DB" -nick "$NICK" \
    -nss-pwd WRONG999 -kpw WRONG999 "$SYS_WORK/in.pdf" "$SYS_WORK/bad.pdf"
sys_ok "  and writes no signed PDF" \
    eval '! [ -s "$SYS_WORK/bad.pdf" ] || { mc_run pdfsig "$SYS_WORK/bad.pdf"; ! grep -q "Signature is Valid" "$SYS_WORK/out"; }'
sys_ok "  one try spent (4 of 5 left)" tries sign 4

# ---- the right password ----
sys_ok "pdfsig -add-signature -nssdir sql:DB -nick '$NICK' -kpw PASSWORD signs" \
    mc_run pdfsig -add-signature -nssdir "sql:$DB" -nick "$NICK" \
    -nss-pwd "$MC_SIGN_PIN" -kpw "$MC_SIGN_PIN" -reason "mynacard test" "$SYS_WORK/in.pdf" "$SYS_WORK/out.pdf"
sys_ok "  the tries are back to 5" tries sign 5
mc_run pdfsig -nssdir "sql:$DB" "$SYS_WORK/out.pdf"
cp "$SYS_WORK/out" "$SYS_WORK/verify.txt"
sys_ok "pdfsig out.pdf: Signature is Valid." grep -q "Signature Validation: Signature is Valid." "$SYS_WORK/verify.txt"
SIGNER=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -subject -nameopt multiline |
    awk -F' = ' '/commonName/ { print $2; exit }')
sys_ok "  the signer is the card's signature certificate (CN $SIGNER)" \
    grep -qF "Signer Certificate Common Name: $SIGNER" "$SYS_WORK/verify.txt"
# The PKCS#7 signature itself, dumped, carries the card's certificate.
( cd "$SYS_WORK" && mc_run pdfsig -dump out.pdf )
sys_ok "  the signature's PKCS#7 holds the card's signature certificate, byte for byte" \
    eval 'openssl pkcs7 -inform DER -in "$SYS_WORK/out.pdf.sig0" -print_certs -out "$SYS_WORK/p7.pem" 2>/dev/null &&
          openssl x509 -in "$SYS_WORK/p7.pem" -outform DER -out "$SYS_WORK/p7.der" &&
          same_cert "$SYS_WORK/p7.der" "$CARD/sign.crt.pem"'

sys_done
