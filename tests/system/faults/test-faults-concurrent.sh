#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Two programs on the two tokens of one card at once, as Firefox (the
# authentication token, mynacard-auth-pkcs11.so) and LibreOffice (the
# signature token, mynacard-sign-pkcs11.so) would be.  (1) Both log in,
# wait for each other, then sign in parallel without logging out: every
# signature of each verifies with its own certificate, neither loses its
# login, the card saw their signatures interleaved, one VERIFY per C_Login
# and no try spent.  (2) What a C_Logout does to the other program: our
# C_Logout resets the card (the card has no other way to forget a
# verified PIN, and no verified PIN must stay for another program), which
# also ends the other program's login.  The other program's next C_Sign is
# then refused with CKR_USER_NOT_LOGGED_IN (never a wrong result), and
# after it logs in again it signs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_need_driver
mc_need_module MYNACARD_AUTH_MODULE
mc_need_module MYNACARD_SIGN_MODULE

mc_new_card
sys_start_emu "$CARD" --latency-apdu-us 20000

# ---- (1) both logged in, signing in parallel ----
NA=12
NS=6
mkdir -p "$SYS_WORK/barrier"
ft_run firefox 300 "$MYNACARD_AUTH_MODULE" concurrent auth "$MC_AUTH_PIN" \
    "$NA" "$SYS_WORK/barrier" firefox &
fpid=$!
ft_run libreoffice 300 "$MYNACARD_SIGN_MODULE" concurrent sign "$MC_SIGN_PIN" \
    "$NS" "$SYS_WORK/barrier" libreoffice &
lpid=$!
wait "$fpid"; frc=$?
wait "$lpid"; lrc=$?
sys_ok "two programs, one per token, both end normally" \
    eval '[ "$frc" = 0 ] && [ "$lrc" = 0 ] && grep -q "^SUMMARY" "$SYS_WORK/firefox.out" && grep -q "^SUMMARY" "$SYS_WORK/libreoffice.out"'
sys_ok "  the authentication program made $NA signatures, all verified, no error" \
    eval '[ "$(ft_summary firefox ok)" = $NA ] && [ "$(ft_summary firefox bad)" = 0 ] && [ "$(ft_summary firefox err)" = 0 ]'
sys_ok "  the signature program made $NS signatures, all verified, no error" \
    eval '[ "$(ft_summary libreoffice ok)" = $NS ] && [ "$(ft_summary libreoffice bad)" = 0 ] && [ "$(ft_summary libreoffice err)" = 0 ]'
# The card's signatures, in order: which key each one used.
awk '/^> 00 A4 02 0C 02 00 17/ { k = "A" } /^> 00 A4 02 0C 02 00 1A/ { k = "S" }
     /^> 80 2A/ { printf "%s", k } END { print "" }' "$SYS_WORK/emu-apdu.log" \
    >"$SYS_WORK/order"
switches=$(fold -w1 "$SYS_WORK/order" | uniq | wc -l)
sys_log "signatures on the card, by key (A auth, S sign): $(cat "$SYS_WORK/order")"
sys_ok "  their signatures interleaved on the card ($switches runs)" [ "$switches" -ge 3 ]
sys_ok "  one VERIFY per C_Login: $((2 + NS)) (both logins, and the signature key's per signature)" \
    [ "$(ft_verifies)" = $((2 + NS)) ]
sys_ok "  no try spent" eval 'tries auth 3 && tries sign 5'
sys_ok "  after both finalized, no PIN is verified on the card" \
    eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'

# ---- (2) one program logs out while the other holds its login ----
rm -f "$SYS_WORK/pause" "$SYS_WORK/go"
ft_run holder 300 "$MYNACARD_AUTH_MODULE" pause-sign auth "$MC_AUTH_PIN" \
    "$SYS_WORK/pause" "$SYS_WORK/go" &
hpid=$!
for _ in $(seq 600); do [ -e "$SYS_WORK/pause" ] && break; sleep 0.1; done
ft_run other 300 "$MYNACARD_SIGN_MODULE" login-sign sign "$MC_SIGN_PIN"
sys_ok "while one program holds a login, the other signs and logs out" \
    eval '[ "$(ft_field other rv)" = CKR_OK ] && [ "$(ft_field other sig)" = ok ]'
touch "$SYS_WORK/go"
wait "$hpid"
sys_ok "  the first program's C_Sign: CKR_USER_NOT_LOGGED_IN, no signature (documented: C_Logout resets the card)" \
    eval '[ "$(ft_field holder rv 1)" = CKR_USER_NOT_LOGGED_IN ] && [ "$(ft_field holder sig 1)" = none ]'
sys_ok "  after it logs in again it signs" \
    eval '[ "$(ft_field holder rv 2)" = CKR_OK ] && [ "$(ft_field holder sig 2)" = ok ]'
sys_ok "  no try spent" eval 'tries auth 3 && tries sign 5'

sys_done
