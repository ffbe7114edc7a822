#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool status over a private pcscd and the virtual card: without
# pcscd (exit 3), with a reader but no card and with no reader at all
# (exit 4), on a fresh card (the tries, spending none; the three free
# certificates with subject, issuer, serial and validity as openssl reads
# them from the card's own files; the signature certificate only after
# its password, the holder's facts only with --personal), on an expired
# card and on one expiring within 90 days (the warnings), and on a 住基カード.
# Every --json output is parsed with python3.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin 4826 --sign-pin PASS2468 \
    --name '山田 花子' --address '東京都千代田区千代田1-1' --birth 419900101 --sex 2
CARD_EXP="$SYS_WORK/card-expired"
sys_card_init "$CARD_EXP" --not-before-days -400 --valid-days 30
CARD_SOON="$SYS_WORK/card-soon"
sys_card_init "$CARD_SOON" --not-before-days -10 --valid-days 40
CARD_JUKI="$SYS_WORK/card-juki"
sys_card_init "$CARD_JUKI" --token-label JPKIAPICCTOKEN

# ---- no pcscd: a tmpfs of our own on /run/pcscd hides any system one ----
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || sys_skip "cannot mount a tmpfs on /run/pcscd"
t nopcscd status
sys_ok "no pcscd: exit 3" rc_is nopcscd 3
sys_ok "  says pcscd is not running" has nopcscd "pcscd: not running"
t nopcscd-json status --json
sys_ok "  --json parses" json_ok nopcscd-json
sys_ok "  --json: pcscd false, exit 3" \
    eval 'jq_is nopcscd-json "d[\"pcscd\"]" False && jq_is nopcscd-json "d[\"exit\"]" 3'

# ---- a reader, no card ----
sys_start_pcscd
t nocard status
sys_ok "a reader without a card: exit 4" rc_is nocard 4
sys_ok "  lists the reader with no card" has nocard "$SYS_READER: no card"
t nocard-json status --json
sys_ok "  --json parses, the reader has no card" \
    eval 'json_ok nocard-json && jq_is nocard-json "[r[\"card\"] for r in d[\"readers\"] if r[\"name\"] == \"$SYS_READER\"]" "[False]"'

# ---- a fresh card ----
sys_start_emu "$CARD"
t fresh status
sys_ok "fresh card: exit 0" rc_is fresh 0
sys_ok "  a My Number Card in the reader" has fresh "Card: My Number Card (JPKIAPICCTOKEN2) in $SYS_READER"
sys_ok "  authentication PIN: 3 of 3 tries" has fresh "Authentication PIN: 3 of 3 tries left"
sys_ok "  signature password: 5 of 5 tries" has fresh "Signature password: 5 of 5 tries left"
sys_ok "  no PIN was sent to read them" eval '[ "$(verify_count)" = 0 ]'
subj=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
iss=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -issuer | sed 's/^issuer=//')
serial=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -serial | sed 's/^serial=//')
until=$(date -u -d "$(openssl x509 -in "$CARD/auth.crt.pem" -noout -enddate | sed 's/^notAfter=//')" '+%Y-%m-%d %H:%M:%S UTC')
sys_ok "  the authentication certificate's subject ($subj)" has fresh "Subject:  $subj"
sys_ok "  its issuer" has fresh "Issuer:   $iss"
sys_ok "  its serial number ($serial)" \
    eval '[ "$(sed -n "/^Authentication certificate/,/^$/s/^  Serial: *//p" "$SYS_WORK/fresh.out" | tr -d :)" = "$serial" ]'
sys_ok "  its validity, to $until" has fresh " to $until"
sys_ok "  the CA certificates are shown too" \
    eval 'has fresh "Authentication CA certificate" && has fresh "Signature CA certificate"'
sys_ok "  no expiry warning on a fresh card" lacks fresh "WARNING"
sys_ok "  the signature certificate is not read without its password" \
    eval 'lacks fresh "Signature certificate (" && lacks fresh "Chiyoda"'

t fresh-json status --json
sys_ok "  --json parses" json_ok fresh-json
sys_ok "  --json: kind mynumber, tries 3 and 5" \
    eval 'jq_is fresh-json "d[\"card\"][\"kind\"]" mynumber &&
          jq_is fresh-json "(d[\"pins\"][\"auth\"][\"tries\"], d[\"pins\"][\"sign\"][\"tries\"])" "(3, 5)"'
sys_ok "  --json: auth certificate serial and expiry 'valid'" \
    eval 'jq_is fresh-json "d[\"certificates\"][\"auth\"][\"serial\"].replace(\":\", \"\")" "$serial" &&
          jq_is fresh-json "d[\"certificates\"][\"auth\"][\"expiry\"]" valid'
sys_ok "  --json: no signature certificate" \
    jq_is fresh-json '"sign" in d["certificates"] or "personal" in d' False

t reader status --reader "PCD 00 00" --json
sys_ok "--reader PART picks the reader with that in its name" \
    eval 'rc_is reader 0 && json_ok reader && jq_is reader "d[\"reader\"]" "$SYS_READER"'
t reader-none status --reader "No Such Reader"
sys_ok "--reader matching no reader with a card: exit 4" rc_is reader-none 4

# ---- the signature certificate, with its password ----
t_in sign PASS2468 status --sign --stdin
sys_ok "status --sign with the password: exit 0" rc_is sign 0
ssubj=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -subject | sed 's/^subject=//')
sys_ok "  shows the signature certificate ($ssubj)" has sign "Subject:  $ssubj"
sys_ok "  but not the holder's facts without --personal" \
    eval 'lacks sign "山田" && lacks sign "1990-01-01" && lacks sign "Personal fields"'
sys_ok "  one VERIFY sent, tries back to 5" eval '[ "$(verify_count)" = 1 ] && tries sign 5'

t_in personal PASS2468 status --sign --personal --stdin
sys_ok "status --sign --personal: exit 0" rc_is personal 0
sys_ok "  the holder's name, address, birth date and sex" \
    eval 'has personal "山田 花子" && has personal "東京都千代田区千代田1-1" &&
          has personal "1990-01-01" && has personal "female"'
t_in personal-json PASS2468 status --sign --personal --stdin --json
sys_ok "  --json parses and carries them" \
    eval 'json_ok personal-json && jq_is personal-json "d[\"personal\"][\"name\"]" "山田 花子" &&
          jq_is personal-json "d[\"personal\"][\"birth\"]" 1990-01-01'

t personal-only status --personal
sys_ok "--personal without --sign: usage error (exit 2)" rc_is personal-only 2

n=$(verify_count)
t_in sign-bad WRONG999 status --sign --stdin
sys_ok "status --sign with a wrong password: exit 5" rc_is sign-bad 5
sys_ok "  one try spent (4 left), one VERIFY" \
    eval 'tries sign 4 && [ "$(verify_count)" = $((n + 1)) ]'
sys_ok "  no signature certificate shown" lacks sign-bad "$ssubj"
n=$(verify_count)
t_in sign-fmt abc status --sign --stdin
sys_ok "status --sign with a malformed password: exit 7, nothing sent" \
    eval 'rc_is sign-fmt 7 && [ "$(verify_count)" = "$n" ] && tries sign 4'
t_in sign-again PASS2468 status --sign --stdin
sys_ok "  the right password restores 5 tries" eval 'rc_is sign-again 0 && tries sign 5'

# ---- an expired card ----
sys_stop_emu
sys_start_emu "$CARD_EXP"
t expired status
sys_ok "expired card: status still exits 0" rc_is expired 0
sys_ok "  warns that the authentication certificate EXPIRED" \
    eval 'sed -n "/^Authentication certificate/,/^$/p" "$SYS_WORK/expired.out" | grep -q "WARNING: this certificate EXPIRED on"'
sys_ok "  and says to renew it" has expired "renew it at your municipal office"
t expired-json status --json
sys_ok "  --json parses: expiry 'expired', days_left < 0" \
    eval 'json_ok expired-json && jq_is expired-json "d[\"certificates\"][\"auth\"][\"expiry\"]" expired &&
          jq_is expired-json "d[\"certificates\"][\"auth\"][\"days_left\"] < 0" True &&
          jq_is expired-json "d[\"expiry\"]" expired'

# ---- a card expiring within 90 days (30 days from now) ----
sys_stop_emu
sys_start_emu "$CARD_SOON"
t soon status
sys_ok "card expiring in 30 days: exit 0" rc_is soon 0
sys_ok "  warns that it expires in 29 or 30 days" \
    eval 'grep -Eq "WARNING: this certificate expires in (29|30) days" "$SYS_WORK/soon.out"'
sys_ok "  and not that it expired" lacks soon "EXPIRED"
t soon-json status --json
sys_ok "  --json parses: expiry 'expiring', 29 <= days_left <= 30" \
    eval 'json_ok soon-json && jq_is soon-json "d[\"certificates\"][\"auth\"][\"expiry\"]" expiring &&
          jq_is soon-json "29 <= d[\"certificates\"][\"auth\"][\"days_left\"] <= 30" True'

# ---- a 住基カード ----
sys_stop_emu
sys_start_emu "$CARD_JUKI"
t juki status --json
sys_ok "a 住基カード is told apart (kind juki)" \
    eval 'rc_is juki 0 && json_ok juki && jq_is juki "d[\"card\"][\"kind\"]" juki'

# ---- pcscd gone ----
sys_stop_emu
sys_stop_pcscd
t gone status
sys_ok "pcscd stopped: exit 3" rc_is gone 3

# ---- pcscd with no reader at all ----
mkdir -p "$SYS_WORK/empty.d"
pcscd -f -a -c "$SYS_WORK/empty.d" >>"$SYS_WORK/pcscd-empty.log" 2>&1 &
EMPTY_PID=$!
sys_track "$EMPTY_PID"
for _ in $(seq 100); do
    [ -S /run/pcscd/pcscd.comm ] && break
    sleep 0.1
done
sleep 0.5
t noreader status
sys_ok "no reader: exit 4" rc_is noreader 4
sys_ok "  lists none" has noreader "none"
t noreader-json status --json
sys_ok "  --json parses: readers []" eval 'json_ok noreader-json && jq_is noreader-json "d[\"readers\"]" "[]"'

sys_done
