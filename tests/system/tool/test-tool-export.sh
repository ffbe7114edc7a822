#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool export over a private pcscd and the virtual card: the
# authentication certificate and both CA certificates in PEM (default and
# --pem) and DER, on stdout and with -o, each checked with `openssl x509`
# and compared byte for byte with the card's own files; the signature
# certificate only after its password (a wrong one: exit 5, one try,
# nothing written), written with mode 0600; the usage errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --sign-pin PASS2468
sys_start_pcscd
sys_start_emu "$CARD"
OUT="$SYS_WORK/exported"
mkdir -p "$OUT"

# same_as NAME.der PEM: a DER file equals the card's PEM file's DER.
same_as() {
    openssl x509 -in "$2" -outform DER -out "$SYS_WORK/ref.der" 2>/dev/null &&
        [ -s "$1" ] && cmp -s "$1" "$SYS_WORK/ref.der"
}

# pem_same NAME PEM: the PEM file NAME parses and is the card's.
pem_same() {
    openssl x509 -in "$1" -outform DER -out "$1.der" 2>/dev/null && same_as "$1.der" "$2"
}

for w in auth:auth.crt.pem auth-ca:ca-auth.crt.pem sign-ca:ca-sign.crt.pem; do
    which=${w%%:*}
    ref="$CARD/${w#*:}"
    t "pem-$which" export "$which"
    cp "$SYS_WORK/pem-$which.out" "$OUT/$which.pem"
    sys_ok "export $which: exit 0, PEM on stdout, openssl x509 reads it, the card's certificate" \
        eval 'rc_is "pem-$which" 0 && head -n 1 "$OUT/$which.pem" | grep -qx -- "-----BEGIN CERTIFICATE-----" &&
              pem_same "$OUT/$which.pem" "$ref"'
    t "der-$which" export "$which" --der -o "$OUT/$which.der"
    sys_ok "export $which --der -o FILE: exit 0, DER that openssl x509 -inform DER reads, the card's" \
        eval 'rc_is "der-$which" 0 && openssl x509 -inform DER -in "$OUT/$which.der" -noout &&
              same_as "$OUT/$which.der" "$ref"'
done
t pem-flag export auth --pem -o "$OUT/auth2.pem"
sys_ok "export auth --pem -o FILE: the same certificate" \
    eval 'rc_is pem-flag 0 && pem_same "$OUT/auth2.pem" "$CARD/auth.crt.pem"'
t der-stdout export auth --der
sys_ok "export auth --der to a pipe: the DER bytes" \
    eval 'rc_is der-stdout 0 && same_as "$SYS_WORK/der-stdout.out" "$CARD/auth.crt.pem"'
t json-out export auth-ca -o "$OUT/x.pem" --json
sys_ok "export --json -o FILE: a JSON report that parses" \
    eval 'rc_is json-out 0 && json_ok json-out && jq_is json-out "d[\"format\"]" pem'
sys_ok "no PIN was sent for the free certificates" eval '[ "$(verify_count)" = 0 ]'

# ---- the signature certificate ----
t_in sign-bad WRONG999 export sign -o "$OUT/sign-bad.pem" --stdin
sys_ok "export sign with a wrong password: exit 5" rc_is sign-bad 5
sys_ok "  one try spent, nothing written" \
    eval 'tries sign 4 && [ ! -e "$OUT/sign-bad.pem" ]'
t sign-none export sign
sys_ok "export sign with no password given (no terminal): exit 8" rc_is sign-none 8
sys_ok "  nothing on stdout" eval '[ ! -s "$SYS_WORK/sign-none.out" ]'
t_in sign-pem PASS2468 export sign -o "$OUT/sign.pem" --stdin
sys_ok "export sign with the password: exit 0, the card's certificate" \
    eval 'rc_is sign-pem 0 && pem_same "$OUT/sign.pem" "$CARD/sign.crt.pem"'
sys_ok "  the file is private (mode 600)" eval '[ "$(stat -c %a "$OUT/sign.pem")" = 600 ]'
sys_ok "  the password's tries are back to 5" tries sign 5
t_in sign-der PASS2468 export sign --der --stdin
sys_ok "export sign --der on stdout after the password: the DER bytes" \
    eval 'rc_is sign-der 0 && same_as "$SYS_WORK/sign-der.out" "$CARD/sign.crt.pem"'
sys_ok "  the tries went to stderr, not into the certificate" \
    err_has sign-der "Signature password: 5 of 5 tries left"

# ---- usage ----
t usage1 export
t usage2 export nothing
t usage3 export auth --json
t usage4 export auth --remove
sys_ok "usage errors (no name, unknown name, --json without -o, a foreign option): exit 2" \
    eval 'rc_is usage1 2 && rc_is usage2 2 && rc_is usage3 2 && rc_is usage4 2'

sys_stop_emu
t nocard export auth
sys_ok "export without a card: exit 4" rc_is nocard 4

sys_done
