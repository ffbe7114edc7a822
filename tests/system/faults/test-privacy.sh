#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The PIN and privacy guarantees through pcscd, with real programs.  A
# card is made for a holder with a name, address and birth date of this
# run only.  With the module's debug log at its highest level
# (MYNACARD_DEBUG=4, log_file in the configuration), pkcs11-tool and NSS's
# certutil log in to both tokens, read the signature certificate, sign
# with both keys and change the authentication PIN and back.  Then:
#   - no PIN is in the log, neither as text nor as the hex of its bytes
#     (the log shows the VERIFY commands, redacted);
#   - a PIN of the wrong format never reaches the card: no VERIFY in the
#     card's APDU log, no try spent;
#   - a PIN the card rejected is not sent again by the same program (the
#     second C_Login with it sends no VERIFY), and costs exactly one try;
#   - one C_Login is one VERIFY: no retry;
#   - the holder's name, address and birth date, and the signature
#     certificate (DER, base64, hex), are in no file the run wrote: the
#     test's directory (except the card itself), the HOME, the NSS
#     database, /tmp, nor the log;
#   - once a program closed its last session, and once it finalized, the
#     card holds no verified PIN: another program's COMPUTE DIGITAL
#     SIGNATURE gets 69 82.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_need_driver
mc_need pkcs11-tool certutil modutil openssl python3 timeout
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE

AUTH_PIN=4826
NEW_AUTH_PIN=6391
SIGN_PIN=QX7P2K9W
# The holder, unique to this run, so that nothing else on the machine can
# hold these strings.
TAG=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NAME="試験 花子$TAG"
ADDRESS="東京都千代田区霞が関9-9-$TAG"
BIRTH=419870312

START=$(mktemp /tmp/privacy-start.XXXXXX)
sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin "$AUTH_PIN" --sign-pin "$SIGN_PIN" \
    --name "$NAME" --address "$ADDRESS" --birth "$BIRTH" --sex 2
sys_start_pcscd
sys_start_emu "$CARD"

LOG="$SYS_WORK/mynacard.log"
printf 'debug = 4\nlog_file = %s\n' "$LOG" >"$SYS_WORK/mynacard.conf"
export MYNACARD_CONF="$SYS_WORK/mynacard.conf" MYNACARD_DEBUG=4
AUTH_TOKEN="My Number Card (Authentication)"
SIGN_TOKEN="My Number Card (Signature)"

# ---- a full run through real programs ----
echo "data to sign" >"$SYS_WORK/data"
v0=$(ft_verifies)
sys_ok "pkcs11-tool logs in to the signature token and lists its objects" \
    p11m "$MOD" --token-label "$SIGN_TOKEN" --login --pin "$SIGN_PIN" -O
sys_ok "  the signature certificate shows (so the module read it)" \
    out_has "Certificate Object"
sys_ok "pkcs11-tool signs with the signature key" \
    p11m "$MOD" --token-label "$SIGN_TOKEN" --login --pin "$SIGN_PIN" \
    --sign -m SHA256-RSA-PKCS -i "$SYS_WORK/data" -o "$SYS_WORK/sig1"
sys_ok "pkcs11-tool signs with the authentication key" \
    p11m "$MOD" --token-label "$AUTH_TOKEN" --login --pin "$AUTH_PIN" \
    --sign -m SHA256-RSA-PKCS -i "$SYS_WORK/data" -o "$SYS_WORK/sig2"
sys_ok "pkcs11-tool changes the authentication PIN" \
    p11m "$MOD" --token-label "$AUTH_TOKEN" --login --pin "$AUTH_PIN" \
    --change-pin --new-pin "$NEW_AUTH_PIN"
sys_ok "  and back" \
    p11m "$MOD" --token-label "$AUTH_TOKEN" --login --pin "$NEW_AUTH_PIN" \
    --change-pin --new-pin "$AUTH_PIN"
v1=$(ft_verifies)
# pkcs11-tool --login logs in once per run; the signature key's
# CKA_ALWAYS_AUTHENTICATE asks again for its signature; C_SetPIN verifies
# the old PIN: 1 (-O) + 2 (sign key) + 1 (auth key) + 2 + 2 (C_SetPIN).
sys_ok "  one VERIFY per C_Login or C_SetPIN, no retry ($((v1 - v0)) for 1+2+1+2+2)" \
    [ $((v1 - v0)) = 8 ]

DB="$SYS_WORK/nssdb"
mkdir -p "$DB"
printf '%s\n' "$SIGN_PIN" >"$SYS_WORK/pw"
sys_ok "NSS: a database with the module (certutil -N, modutil -add)" \
    eval 'mc_run certutil -N -d "sql:$DB" --empty-password &&
          mc_run modutil -dbdir "sql:$DB" -add mynacard -libfile "$MOD" -force'
sys_ok "NSS: certutil -L -h '$SIGN_TOKEN', logged in, lists the signature certificate" \
    eval 'mc_run certutil -L -d "sql:$DB" -h "$SIGN_TOKEN" -f "$SYS_WORK/pw" &&
          grep -q "u,u,u" "$SYS_WORK/out"'
nick=$(awk '/u,u,u/ { sub(/ +u,u,u.*/, ""); print; exit }' "$SYS_WORK/out")
mc_run certutil -L -d "sql:$DB" -n "$nick" -f "$SYS_WORK/pw" -a >/dev/null
sys_ok "NSS: certutil -K on both tokens" \
    eval 'mc_run certutil -K -d "sql:$DB" -h all -f "$SYS_WORK/pw"'
rm -f "$SYS_WORK/pw"
unset MYNACARD_CONF MYNACARD_DEBUG

# ---- PINs in the log ----
sys_ok "the debug log was written, with the APDUs of the VERIFYs redacted" \
    eval '[ -s "$LOG" ] && grep -q "00 20 00 80 .*\*\*" "$LOG" && grep -q "C_Login" "$LOG"'
hex() { printf '%s' "$1" | od -An -tx1 | tr -s ' ' | sed 's/^ //;s/ $//'; }
pin_in_log() {
    local p=$1 h
    h=$(hex "$p")
    # As text (a token of its own: not digits inside a longer number or
    # hex dump), and as the hex of its bytes in either case.
    grep -qE "(^|[^0-9A-Za-z])$p([^0-9A-Za-z]|\$)" "$LOG" ||
        grep -qiF "$h" "$LOG"
}
for p in "$AUTH_PIN" "$NEW_AUTH_PIN" "$SIGN_PIN"; do
    sys_ok "the PIN $p is not in the log (text or hex '$(hex "$p")')" \
        sys_not pin_in_log "$p"
done

# ---- PINs of the wrong format never reach the card ----
v0=$(ft_verifies)
bad_sent=""
for spec in "auth:12a4" "auth:123" "auth:12345" "sign:ABC12" "sign:ABC-123" \
            "sign:ABCDEFGHIJKLMNOPQ" "sign:ＡＢＣ１２３"; do
    tok=$AUTH_TOKEN; [ "${spec%%:*}" = sign ] && tok=$SIGN_TOKEN
    p11m "$MOD" --token-label "$tok" --login --pin "${spec#*:}" -O >/dev/null
    [ "$(ft_verifies)" = "$v0" ] || bad_sent="$bad_sent ${spec#*:}"
    v0=$(ft_verifies)
done
sys_ok "7 PINs of the wrong format: no VERIFY reached the card${bad_sent:+ (sent:$bad_sent)}" \
    [ -z "$bad_sent" ]
sys_ok "  no try spent" eval 'tries auth 3 && tries sign 5'

# ---- a rejected PIN is never sent again ----
v0=$(ft_verifies)
ft_run twice 120 "$MOD" login-twice auth 9999
sys_ok "a wrong PIN: CKR_PIN_INCORRECT" [ "$(ft_field twice rv 1)" = CKR_PIN_INCORRECT ]
sys_ok "  the same PIN again in the same program: refused (CKR_PIN_INCORRECT)" \
    [ "$(ft_field twice rv 2)" = CKR_PIN_INCORRECT ]
sys_ok "  without being sent: one VERIFY for both C_Logins" [ $(( $(ft_verifies) - v0 )) = 1 ]
sys_ok "  one try spent, not two" tries auth 2
ft_run right 120 "$MOD" login-sign auth "$AUTH_PIN"
sys_ok "  the right PIN restores the tries" tries auth 3

# ---- no verified PIN left behind ----
for role in auth sign; do
    pin=$AUTH_PIN; [ $role = sign ] && pin=$SIGN_PIN
    rm -f "$SYS_WORK/pause" "$SYS_WORK/go"
    ft_run "close-$role" 120 "$MOD" close-wait "$role" "$pin" \
        "$SYS_WORK/pause" "$SYS_WORK/go" &
    drv=$!
    for _ in $(seq 600); do [ -e "$SYS_WORK/pause" ] && break; sleep 0.1; done
    sys_ok "$role: a program signed and closed its last session" \
        eval '[ "$(ft_field close-$role rv)" = CKR_OK ] && [ "$(ft_field close-$role sig)" = ok ]'
    sys_ok "  while it still runs, another program's signature is refused: 69 82" \
        ft_no_pin_on_card "$role"
    touch "$SYS_WORK/go"
    wait "$drv"
done
ft_run fin 120 "$MOD" login-sign sign "$SIGN_PIN"
sys_ok "after a program logged in, signed and finalized: 69 82 on both keys" \
    eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'

# ---- personal data on disk ----
sys_stop_emu
openssl x509 -in "$CARD/sign.crt.pem" -outform DER -out "$SYS_WORK/.sign.der" 2>/dev/null ||
    sys_fail "no signature certificate in the card"
# Everything the run wrote: the test's directory, the HOME (it is under
# the test's directory), the NSS database, and what appeared in /tmp since
# the start.  Not searched: the card itself (and the copy of its
# certificate made just above), and the harness's own wire logs, which
# record every byte between pcscd and the card by design (pcscd -a, the
# virtual card's APDU log and its init output): they are the card's side,
# not a program's.
{
    find "$SYS_WORK" -type f ! -path "$CARD/*" ! -name .sign.der \
        ! -name pcscd.log ! -name 'emu*.log' ! -name init.log
    find /tmp -xdev -type f -newer "$START" ! -path "$SYS_WORK/*" 2>/dev/null
} >"$SYS_WORK/.files"
sys_log "$(wc -l <"$SYS_WORK/.files") files to search"
python3 - "$SYS_WORK/.sign.der" "$SYS_WORK/.files" "$NAME" "$ADDRESS" "$BIRTH" \
    >"$SYS_WORK/.found" <<'PYEOF'
import base64, sys
der = open(sys.argv[1], "rb").read()
files = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8", errors="replace")]
needles = {
    "name": sys.argv[3].encode(), "address": sys.argv[4].encode(),
    "birth": sys.argv[5].encode(),
    "certificate DER (its last 64 bytes)": der[-64:],
    "certificate base64": base64.b64encode(der)[64:128],
    "certificate hex": " ".join("%02X" % b for b in der[-32:]).encode(),
    "certificate hex, lower case": " ".join("%02x" % b for b in der[-32:]).encode(),
    "certificate hex, packed": der[-32:].hex().encode(),
}
for f in files:
    try:
        data = open(f, "rb").read()
    except OSError:
        continue
    for what, n in needles.items():
        if n in data:
            print("%s: %s" % (f, what))
PYEOF
sed 's/^/#   found: /' "$SYS_WORK/.found"
sys_ok "the holder's name, address, birth date and the signature certificate are in no file the run wrote, the log included" \
    [ ! -s "$SYS_WORK/.found" ]
# The search can find: the card's own copy holds them all.
python3 - "$CARD/sign.crt.pem" "$NAME" <<'PYEOF' >/dev/null
import sys, subprocess
der = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-outform", "DER"],
                     capture_output=True, check=True).stdout
sys.exit(0 if sys.argv[2].encode() in der else 1)
PYEOF
sys_ok "  (the search would find them: the card's certificate holds the name)" [ $? = 0 ]
rm -f "$START" "$SYS_WORK/.sign.der"

sys_done
