#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-mpa driven over its stdin and stdout, as a browser drives a
# native messaging host, against the virtual card in a private pcscd
# (tests/system/lib.sh).  Messages are framed by mpa-msg.py (Debian's
# python3), apart from the program's own framing.  Checked: no pcscd, no
# reader, no card; mode check and mode tries; modes 01, 02 and 04 byte for
# byte (the signatures recovered with openssl from the returned
# certificate equal the digests sent, the certificates are the card's own
# files, combination_code recomputed here from the manufacture number the
# card was made with and the uuid in the file, the card-info fields
# decoded and equal to what the card was made with); the uuid file made
# 0600 and kept; a wrong PIN costing exactly one try and not retried; a
# malformed PIN not sent; a blocked PIN not sent; malformed and hostile
# messages refused with nothing sent to the card; mode 05; no PIN in any
# output.  The card's tries come from `mynacard-emu status` and mode
# tries, the VERIFY commands from its APDU log.
. "$(dirname "$0")/../lib.sh"

[ -n "${MYNACARD_MPA:-}" ] && [ -x "$MYNACARD_MPA" ] ||
    sys_skip "MYNACARD_MPA is not set or not built"
PY=/usr/bin/python3
[ -x $PY ] || sys_skip "no /usr/bin/python3"
MSG="$(dirname "$0")/mpa-msg.py"
sys_setup
CARD="$SYS_WORK/card"
AUTH=7391
SIGN=PASS2468
TEXT=2580
MFG=AB12345678901
NAME='山田 花子'
ADDR='東京都千代田区霞が関1-2-3'
BIRTH=419850412
SEX=2
export XDG_CONFIG_HOME="$HOME/.config"
UUID_FILE="$XDG_CONFIG_HOME/mynacard/mpa.json"
sys_card_init "$CARD" --auth-pin $AUTH --sign-pin $SIGN --text-pin $TEXT \
    --manufacture-number $MFG --name "$NAME" --address "$ADDR" \
    --birth $BIRTH --sex $SEX

# mpa NAME REQUEST...: run mynacard-mpa with each REQUEST (one line of
# bytes each) as a message; NAME.ans holds the answers one a line,
# NAME.rc the exit status.
mpa() {
    local name=$1
    shift
    printf '%s\n' "$@" | $PY "$MSG" encode >"$SYS_WORK/$name.in"
    mpa_raw "$name"
}

# mpa_raw NAME: the same with NAME.in as it is (hand-made frames).
mpa_raw() {
    local name=$1 rc
    timeout 60 "$MYNACARD_MPA" chrome-extension://test/ <"$SYS_WORK/$name.in" \
        >"$SYS_WORK/$name.bin" 2>"$SYS_WORK/$name.err"
    rc=$?
    echo "$rc" >"$SYS_WORK/$name.rc"
    $PY "$MSG" decode <"$SYS_WORK/$name.bin" >"$SYS_WORK/$name.ans" ||
        echo "#   (the answers are not well framed)"
    echo "#   mynacard-mpa ($name) -> exit $rc"
    sed 's/^/#   | /' "$SYS_WORK/$name.ans" | cut -c1-300
    sed 's/^/#   ! /' "$SYS_WORK/$name.err" | head -n 5
}

# is NAME IDX EXPR VALUE: python's str() of EXPR over answer IDX (0-based),
# the parsed JSON `a`.
is() {
    local got
    got=$($PY -c 'import json, sys
a = json.loads(open(sys.argv[1], "rb").read().split(b"\n")[int(sys.argv[2])])
print(eval(sys.argv[3]))' "$SYS_WORK/$1.ans" "$2" "$3" 2>&1)
    echo "#   [$1 $2] $3 = $got (want $4)"
    [ "$got" = "$4" ]
}

answers() { [ "$(wc -l <"$SYS_WORK/$1.ans")" = "$2" ]; }
rc_is() { [ "$(cat "$SYS_WORK/$1.rc")" = "$2" ]; }

# A SHA-256 DigestInfo of TEXT, base64, as the site sends it.
digest_info() {
    $PY -c 'import base64, hashlib, sys
p = bytes.fromhex("3031300d060960864801650304020105000420")
print(base64.b64encode(p + hashlib.sha256(sys.argv[1].encode()).digest()).decode())' "$1"
}
D1=$(digest_info "login challenge 1")
D2=$(digest_info "document 2")
D3=$(digest_info "document 3")

req01() { printf '{"mode":"01","service_id":"01","digest":"%s","pin":"%s"}' "$D1" "$1"; }
req02() { printf '{"mode":"02","service_id":"01","digest":%s,"pin":"%s"}' "$1" "$2"; }
req04() { printf '{"mode":"04","service_id":"01","pin":"%s"}' "$1"; }

# ---- no pcscd, no reader, no card ----
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || sys_skip "cannot mount a tmpfs on /run/pcscd"
mpa nosvc '{"mode":"check"}' '{"mode":"tries","for":"01"}' "$(req01 $AUTH)"
sys_ok "no pcscd: check says pcscd false, no card; tries and 01 say NO_SERVICE" \
    eval 'rc_is nosvc 0 && answers nosvc 3 &&
          is nosvc 0 "a[\"result\"], a[\"pcscd\"], a[\"card_present\"]" "('"'0'"', False, False)" &&
          is nosvc 1 "a[\"result\"], a[\"errcode\"], a[\"mode\"]" "('"'1'"', '"'NO_SERVICE'"', '"'tries'"')" &&
          is nosvc 2 "a[\"errcode\"]" NO_SERVICE'
mkdir -p "$SYS_WORK/empty.conf.d"
pcscd -f -c "$SYS_WORK/empty.conf.d" >>"$SYS_WORK/pcscd-empty.log" 2>&1 &
EMPTY_PID=$!
sys_track "$EMPTY_PID"
for _ in $(seq 100); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
sleep 0.5
mpa noreader '{"mode":"check"}' '{"mode":"tries","for":"02"}' "$(req01 $AUTH)"
sys_ok "a pcscd without readers: check says 0 readers; tries and 01 say NO_READER" \
    eval 'answers noreader 3 &&
          is noreader 0 "a[\"pcscd\"], a[\"readers\"], a[\"card_present\"]" "(True, 0, False)" &&
          is noreader 1 "a[\"errcode\"]" NO_READER && is noreader 2 "a[\"errcode\"]" NO_READER &&
          is noreader 2 "\"message_ja\" in a and len(a[\"message\"]) > 20" True'
sys_kill "$EMPTY_PID"
sys_untrack "$EMPTY_PID"
umount /run/pcscd

sys_start_pcscd
mpa nocard '{"mode":"check"}' "$(req01 $AUTH)" "$(req04 $TEXT)"
sys_ok "a reader without a card: check counts the reader, no card; 01 and 04 say NO_CARD" \
    eval 'answers nocard 3 &&
          is nocard 0 "a[\"readers\"] > 0, a[\"card_present\"], a[\"jpki_ap\"]" "(True, False, False)" &&
          is nocard 1 "a[\"errcode\"]" NO_CARD && is nocard 2 "a[\"errcode\"]" NO_CARD'

# --warm-reset-keeps-pin: only a power-down clears a verified PIN, so the
# check after modes 01 and 02 shows that the program powered the card down.
sys_start_emu "$CARD" --warm-reset-keeps-pin

# ---- check and tries ----
mpa check '{"mode":"check"}' '{"mode":"tries","for":"01"}' \
    '{"mode":"tries","for":"02"}' '{"mode":"tries","for":"04"}'
sys_ok "check: the reader, the card, the JPKI AP, the three counters, the manufacture number present" \
    eval 'answers check 4 &&
          is check 0 "a[\"result\"], a[\"host\"], a[\"reader\"], a[\"card_present\"], a[\"jpki_ap\"]" \
             "('"'0'"', '"'mynacard.mynaportal'"', '"'$SYS_READER'"', True, True)" &&
          is check 0 "a[\"tries_left\"]" "{'"'01'"': 3, '"'02'"': 5, '"'04'"': 3}" &&
          is check 0 "a[\"manufacture_number\"]" "{'"'present'"': True}"'
sys_ok "  the manufacture number itself is not in the answer" \
    sys_not grep -q "$MFG" "$SYS_WORK/check.ans"
sys_ok "tries 01, 02, 04: 3 of 3, 5 of 5, 3 of 3" \
    eval 'is check 1 "a[\"mode\"], a[\"for\"], a[\"tries_left\"], a[\"tries_max\"]" "('"'tries'"', '"'01'"', 3, 3)" &&
          is check 2 "a[\"for\"], a[\"tries_left\"], a[\"tries_max\"]" "('"'02'"', 5, 5)" &&
          is check 3 "a[\"for\"], a[\"tries_left\"], a[\"tries_max\"]" "('"'04'"', 3, 3)"'
sys_ok "  no VERIFY with a PIN reached the card" [ "$(verify_count)" = 0 ]
sys_ok "  no uuid file yet (no card, check and tries make none)" [ ! -e "$UUID_FILE" ]

# other_sign NAME KEY-EF: another program (raw PC/SC, right away) asks
# the card to sign with a key; the last status word it got.
other_sign() {
    timeout 60 "$PCSC_RAW" "$SYS_READER" 00A4040C0AD392F000260100000001 \
        "00A4020C02$2" \
        "802A008033$(printf '3031300d060960864801650304020105000420%064d' 0)00" \
        >"$SYS_WORK/$1.out" 2>&1
    grep Received "$SYS_WORK/$1.out" | tail -n 1
}

# ---- mode 01 ----
n=$(verify_count)
mpa auth "$(req01 $AUTH)"
sys_ok "mode 01: result 0 with exactly mode, uuid, signature, certificate, combination_code" \
    eval 'rc_is auth 0 && answers auth 1 &&
          is auth 0 "sorted(a)" "['"'certificate', 'combination_code', 'mode', 'result', 'signature', 'uuid'"']" &&
          is auth 0 "a[\"result\"], a[\"mode\"]" "('"'0'"', '"'01'"')"'
sys_ok "  exactly one VERIFY reached the card" [ "$(verify_count)" = $((n + 1)) ]
sys_ok "  the uuid file: made, mode 0600, {\"uuid\": 32 hex digits}" \
    eval '[ "$(stat -c %a "$UUID_FILE")" = 600 ] &&
          $PY -c "import json,sys,re; u=json.load(open(sys.argv[1]))[\"uuid\"]; sys.exit(not re.fullmatch(\"[0-9a-f]{32}\", u))" "$UUID_FILE"'
UUID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$UUID_FILE")
sys_ok "  the answer's uuid is the file's" is auth 0 'a["uuid"]' "$UUID"
# The certificate: base64 without padding, the card's own file.
$PY -c 'import json,sys,base64
a = json.loads(open(sys.argv[1], "rb").read().split(b"\n")[0])
c = a["certificate"]
assert "=" not in c and "\n" not in c
open(sys.argv[2], "wb").write(base64.b64decode(c + "=" * (-len(c) % 4)))
open(sys.argv[3], "wb").write(base64.b64decode(a["signature"], validate=True))' \
    "$SYS_WORK/auth.ans" "$SYS_WORK/auth-cert.der" "$SYS_WORK/auth-sig.bin"
openssl x509 -in "$CARD/auth.crt.pem" -outform DER -out "$SYS_WORK/auth-ref.der"
sys_ok "  the certificate: unpadded base64 of the card's authentication certificate" \
    cmp "$SYS_WORK/auth-cert.der" "$SYS_WORK/auth-ref.der"
# The signature, opened with the returned certificate's public key, is
# the PKCS#1 v1.5 type-1 block around exactly the bytes sent.
openssl x509 -inform DER -in "$SYS_WORK/auth-cert.der" -pubkey -noout >"$SYS_WORK/auth-pub.pem"
printf '%s' "$D1" | base64 -d >"$SYS_WORK/d1.bin"
sys_ok "  the signature verifies with the returned certificate over the digest sent" \
    eval 'openssl pkeyutl -verifyrecover -pubin -inkey "$SYS_WORK/auth-pub.pem" \
              -pkeyopt rsa_padding_mode:pkcs1 -in "$SYS_WORK/auth-sig.bin" \
              -out "$SYS_WORK/auth-rec.bin" && cmp "$SYS_WORK/auth-rec.bin" "$SYS_WORK/d1.bin"'
CODE=$($PY -c 'import hashlib,sys
m = bytes.fromhex("2e71f6620bc654ced494e5ec34fe03c8")
print(hashlib.sha256(m + sys.argv[1].encode() + bytes.fromhex(sys.argv[2])).hexdigest())' "$MFG" "$UUID")
sys_ok "  combination_code = SHA-256(prefix, manufacture number, uuid), recomputed here" \
    is auth 0 'a["combination_code"]' "$CODE"
sys_ok "  the authentication PIN is back to 3 tries" tries auth 3

# ---- the uuid is kept ----
ino=$(stat -c %i:%Y "$UUID_FILE")
mpa auth2 "$(req01 $AUTH)"
# Right away, before pcscd powers an idle card down by itself.
AFTER01=
[ -n "${PCSC_RAW:-}" ] && AFTER01=$(other_sign after01 0017)
sys_ok "a second run: the same uuid and code, the file untouched" \
    eval 'is auth2 0 "a[\"uuid\"], a[\"combination_code\"]" "('"'$UUID'"', '"'$CODE'"')" &&
          [ "$(stat -c %i:%Y "$UUID_FILE")" = "$ino" ]'

if [ -n "${PCSC_RAW:-}" ]; then
    sys_ok "after mode 01 no PIN is left on the card: another program's signature gets 69 82" \
        [ "$AFTER01" = "Received (SW1=0x69, SW2=0x82)" ]
fi

# ---- mode 02 ----
n=$(verify_count)
mpa sign "$(req02 "[\"$D2\",\"$D3\"]" "$(echo $SIGN | tr A-Z a-z)")" "$(req02 "\"$D2\"" $SIGN)"
if [ -n "${PCSC_RAW:-}" ]; then
    sys_ok "after mode 02 no password is left on the card: another program's signature gets 69 82" \
        eval '[ "$(other_sign after02 001A)" = "Received (SW1=0x69, SW2=0x82)" ]'
fi
sys_ok "mode 02, two digests, the password in lowercase: result 0, a signature array of 2" \
    eval 'answers sign 2 &&
          is sign 0 "sorted(a)" "['"'certificate', 'combination_code', 'mode', 'result', 'signature', 'uuid'"']" &&
          is sign 0 "a[\"result\"], a[\"mode\"], len(a[\"signature\"])" "('"'0'"', '"'02'"', 2)" &&
          is sign 0 "a[\"uuid\"], a[\"combination_code\"]" "('"'$UUID'"', '"'$CODE'"')"'
sys_ok "mode 02, one digest as a string: an array of 1" \
    is sign 1 'a["result"], type(a["signature"]).__name__, len(a["signature"])' "('0', 'list', 1)"
sys_ok "  two VERIFYs, one a request" [ "$(verify_count)" = $((n + 2)) ]
$PY -c 'import json,sys,base64
a = json.loads(open(sys.argv[1], "rb").read().split(b"\n")[0])
c = a["certificate"]
assert "=" not in c
open(sys.argv[2], "wb").write(base64.b64decode(c + "=" * (-len(c) % 4)))
for i, s in enumerate(a["signature"]):
    open(sys.argv[3] + str(i), "wb").write(base64.b64decode(s, validate=True))' \
    "$SYS_WORK/sign.ans" "$SYS_WORK/sign-cert.der" "$SYS_WORK/sign-sig"
openssl x509 -in "$CARD/sign.crt.pem" -outform DER -out "$SYS_WORK/sign-ref.der"
openssl x509 -inform DER -in "$SYS_WORK/sign-cert.der" -pubkey -noout >"$SYS_WORK/sign-pub.pem"
printf '%s' "$D2" | base64 -d >"$SYS_WORK/d2.bin"
printf '%s' "$D3" | base64 -d >"$SYS_WORK/d3.bin"
sys_ok "  the certificate is the card's signature certificate" \
    cmp "$SYS_WORK/sign-cert.der" "$SYS_WORK/sign-ref.der"
for i in 0 1; do
    sys_ok "  signature $i verifies over digest $((i + 2)) with it" \
        eval 'openssl pkeyutl -verifyrecover -pubin -inkey "$SYS_WORK/sign-pub.pem" \
                  -pkeyopt rsa_padding_mode:pkcs1 -in "$SYS_WORK/sign-sig$i" \
                  -out "$SYS_WORK/sign-rec$i" && cmp "$SYS_WORK/sign-rec$i" "$SYS_WORK/d$((i + 2)).bin"'
done

# ---- mode 04 ----
mpa info "$(req04 $TEXT)"
sys_ok "mode 04: result 0 with exactly mode, uuid, name, sex, address, birthday, combination_code" \
    eval 'answers info 1 &&
          is info 0 "sorted(a)" "['"'address', 'birthday', 'combination_code', 'mode', 'name', 'result', 'sex', 'uuid'"']" &&
          is info 0 "a[\"result\"], a[\"mode\"], a[\"uuid\"], a[\"combination_code\"]" "('"'0'"', '"'04'"', '"'$UUID'"', '"'$CODE'"')"'
sys_ok "  the fields, hex-decoded, are what the card was made with" \
    eval 'is info 0 "bytes.fromhex(a[\"name\"]).decode()" "$NAME" &&
          is info 0 "bytes.fromhex(a[\"address\"]).decode()" "$ADDR" &&
          is info 0 "bytes.fromhex(a[\"birthday\"]).decode()" "${BIRTH:1}" &&
          is info 0 "bytes.fromhex(a[\"sex\"]).decode()" "$SEX"'

# ---- wrong PINs: one try each, never retried ----
n=$(verify_count)
mpa wrong "$(req01 0000)" '{"mode":"tries","for":"01"}' "$(req04 0000)" \
    '{"mode":"tries","for":"04"}'
sys_ok "a wrong authentication PIN: PIN_INCORRECT, tries_left 2, mode tries agrees" \
    eval 'is wrong 0 "a[\"result\"], a[\"mode\"], a[\"errcode\"], a[\"tries_left\"]" "('"'1'"', '"'01'"', '"'PIN_INCORRECT'"', 2)" &&
          is wrong 1 "a[\"tries_left\"]" 2 && tries auth 2'
sys_ok "a wrong card-info PIN: PIN_INCORRECT, tries_left 2, mode tries agrees" \
    eval 'is wrong 2 "a[\"errcode\"], a[\"tries_left\"]" "('"'PIN_INCORRECT'"', 2)" &&
          is wrong 3 "a[\"tries_left\"]" 2'
sys_ok "  exactly one VERIFY per wrong PIN (not retried)" [ "$(verify_count)" = $((n + 2)) ]
sys_ok "  the messages say what to do, in English and Japanese" \
    is wrong 0 '"try" in a["message"] and "暗証番号" in a["message_ja"]' True

# ---- malformed PINs: not sent ----
n=$(verify_count)
mpa fmt "$(req01 12a4)" "$(req01 12345)" "$(req02 "\"$D2\"" AB-123)" "$(req02 "\"$D2\"" ABC12)" \
    "$(req04 123)" "$(req04 12b4)" \
    '{"mode":"01","service_id":"01","digest":"AAEC","pin":1234}' \
    "{\"mode\":\"01\",\"service_id\":\"01\",\"digest\":\"AAEC\",\"pin\":\"$(printf '1%.0s' $(seq 70))\"}"
sys_ok "malformed PINs (8 kinds): each PIN_FORMAT, no tries_left" \
    eval 'answers fmt 8 && for i in 0 1 2 3 4 5 6 7; do
              is fmt $i "a[\"errcode\"], \"tries_left\" in a" "('"'PIN_FORMAT'"', False)" || return 1; done'
sys_ok "  no VERIFY reached the card, the tries unchanged" \
    eval '[ "$(verify_count)" = "$n" ] && tries auth 2 && tries sign 5'

# ---- hostile and malformed messages ----
n=$(verify_count)
BIG=$(head -c 246 /dev/zero | base64 -w0)
mpa bad 'not json' '[1,2]' '{"mode":"01"' $'{"mode":"ch\xffck"}' '{"mode":7}' \
    '{"mode":"03","service_id":"01"}' "$(printf '{"mode":"01","service_id":"02","digest":"%s","pin":"%s"}' "$D1" $AUTH)" \
    "$(printf '{"mode":"01","service_id":"01","digest":"%s","pin":"%s"}' "$BIG" $AUTH)" \
    "$(printf '{"mode":"01","service_id":"01","digest":"%s","pin":"%s"}' 'AA$A' $AUTH)" \
    "$(printf '{"mode":"01","service_id":"01","digest":5,"pin":"%s"}' $AUTH)" \
    "$(printf '{"mode":"02","service_id":"01","digest":[],"pin":"%s"}' $SIGN)" \
    '{"mode":"tries","for":"03"}' '{"mode":"check","mode":"01"}' \
    '{"mode":"check"}'
sys_ok "13 bad requests in one stream, each answered with its error, then a good one" \
    eval 'rc_is bad 0 && answers bad 14 &&
          is bad 0 "a[\"errcode\"]" BAD_REQUEST && is bad 1 "a[\"errcode\"]" BAD_REQUEST &&
          is bad 2 "a[\"errcode\"]" BAD_REQUEST && is bad 3 "a[\"errcode\"]" BAD_REQUEST &&
          is bad 4 "a[\"errcode\"]" BAD_MODE && is bad 5 "a[\"errcode\"]" BAD_MODE &&
          is bad 6 "a[\"errcode\"]" BAD_SERVICE_ID && is bad 7 "a[\"errcode\"]" BAD_DIGEST &&
          is bad 8 "a[\"errcode\"]" BAD_DIGEST && is bad 9 "a[\"errcode\"]" BAD_DIGEST &&
          is bad 10 "a[\"errcode\"]" BAD_DIGEST && is bad 11 "a[\"errcode\"]" BAD_REQUEST &&
          is bad 12 "a[\"errcode\"]" BAD_REQUEST && is bad 13 "a[\"result\"]" 0'
sys_ok "  nothing was sent with a PIN" [ "$(verify_count)" = "$n" ]
# Frames made by hand.
printf '\377\377\377\377{}' >"$SYS_WORK/huge.in"
mpa_raw huge
sys_ok "a length of 4 GiB - 1: TOO_BIG, exit 1 (that the message is not read: test-mpa-unit)" \
    eval 'rc_is huge 1 && answers huge 1 && is huge 0 "a[\"result\"], a[\"errcode\"]" "('"'1'"', '"'TOO_BIG'"')"'
$PY -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<I", 65537) + b" " * 65537)' >"$SYS_WORK/over.in"
mpa_raw over
sys_ok "a message of 64 KiB + 1: TOO_BIG" is over 0 'a["errcode"]' TOO_BIG
printf '\100\000\000\000{"mode":"check"}' >"$SYS_WORK/short.in"
mpa_raw short
sys_ok "a length longer than what follows: BAD_FRAME, exit 1" \
    eval 'rc_is short 1 && is short 0 "a[\"errcode\"]" BAD_FRAME'
printf '\020\000' >"$SYS_WORK/half.in"
mpa_raw half
sys_ok "half a length prefix: BAD_FRAME" is half 0 'a["errcode"]' BAD_FRAME
printf '\000\000\000\000' >"$SYS_WORK/zero.in"
mpa_raw zero
sys_ok "a length of 0: BAD_REQUEST, exit 1" \
    eval 'rc_is zero 1 && is zero 0 "a[\"errcode\"]" BAD_REQUEST'
: >"$SYS_WORK/eof.in"
mpa_raw eof
sys_ok "no input at all: exit 0, no answer" eval 'rc_is eof 0 && answers eof 0'

# ---- mode 05 ----
mpa end '{"mode":"check"}' '{"mode":"05"}' '{"mode":"check"}'
sys_ok "mode 05: no answer to it, the program ends, what follows is not read" \
    eval 'rc_is end 0 && answers end 1 && is end 0 "a[\"mode\"]" check'

# ---- a blocked PIN is not sent ----
mpa block "$(req01 0000)" '{"mode":"tries","for":"01"}' "$(req01 0000)"
sys_ok "two more wrong PINs: tries_left 1, then PIN_LOCKED with 0" \
    eval 'is block 0 "a[\"errcode\"], a[\"tries_left\"]" "('"'PIN_INCORRECT'"', 1)" &&
          is block 2 "a[\"errcode\"], a[\"tries_left\"]" "('"'PIN_LOCKED'"', 0)" && tries auth 0'
sys_ok "  with one try left the answer says so: last_try, in both messages; mode tries too" \
    eval 'is block 0 "a[\"last_try\"], \"Only one try is left\" in a[\"message\"], \"残りは1回\" in a[\"message_ja\"]" "(True, True, True)" &&
          is block 1 "a[\"tries_left\"], a[\"last_try\"]" "(1, True)" &&
          is block 2 "\"last_try\" in a" False && is wrong 0 "\"last_try\" in a" False'
n=$(verify_count)
mpa blocked "$(req01 $AUTH)" '{"mode":"tries","for":"01"}'
sys_ok "the right PIN once blocked: PIN_LOCKED, tries_left 0, not sent" \
    eval 'is blocked 0 "a[\"errcode\"], a[\"tries_left\"]" "('"'PIN_LOCKED'"', 0)" &&
          is blocked 1 "a[\"tries_left\"]" 0 && [ "$(verify_count)" = "$n" ]'

# ---- no PIN anywhere, the card removed ----
sys_ok "no PIN in any answer or on stderr" \
    eval '! cat "$SYS_WORK"/*.ans "$SYS_WORK"/*.err | grep -qE "$AUTH|$SIGN|$TEXT|pass2468"'
sys_stop_emu
mpa gone "$(req01 $AUTH)" '{"mode":"check"}'
sys_ok "the card removed: NO_CARD, and check says no card" \
    eval 'is gone 0 "a[\"errcode\"]" NO_CARD && is gone 1 "a[\"card_present\"]" False'
sys_done
