#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# No verified PIN stays on the card for another program, on every card
# profile (MYNACARD_EMU_PROFILE; strict by default: a warm reset keeps the
# PINs there, only a power-down clears them).  A program that stays (a
# browser, say) holds its own connection all along, so that pcscd never
# powers the idle card down: that would clear the PINs and hide a leak.
#   (1) The hole the module must not have, shown on the virtual card: a
#       program verifies the PIN and leaves with a warm reset (what our
#       logout did before, and OpenSC's logout does); on a card that keeps
#       PINs across a warm reset another program can then sign.
#   (2) For each key, the module (faults-driver) logs in and signs, then
#       (a) C_Logout, C_CloseSession, C_Finalize; (b) C_Finalize with no
#       C_Logout; (c) closes its last session and waits before
#       C_Finalize.  Each time another program, talking raw PC/SC
#       (pcsc-raw), asks the card to sign with either key: 69 82.
#   (3) A program killed (SIGKILL) while logged in: what pcscd does about
#       it (measured: nothing, when the program was outside a transaction)
#       and what the user can rely on: the PIN stays verified while any
#       other program holds the card, and is gone once none does (pcscd
#       powers an unused card down within about a second).  When the dead
#       program was inside a transaction, pcscd resets the card; a module
#       that sees that reset and finds a PIN still verified powers the
#       card down (checked in process, test-module-login).
#   (4) The card verifies the PIN but the line garbles its 9000 into
#       63 C2 ("wrong PIN"): the module can only say CKR_PIN_INCORRECT,
#       and must still leave no PIN verified once the program ends (it
#       powers the card down: the card may hold the PIN).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_need_driver
[ -x "${PCSC_RAW:-}" ] || sys_skip "PCSC_RAW is not built"
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE
PROFILE=${MYNACARD_EMU_PROFILE:-strict}
sys_log "card profile: $PROFILE"

mc_new_card
sys_start_emu "$CARD"

# The program that stays: one connection, held open.
keeper_start() {
    "$PCSC_RAW" "$SYS_READER" --hold 900 "$FT_SELECT_JPKI" \
        >"$SYS_WORK/keeper.out" 2>&1 &
    KEEPER=$!
    sys_track "$KEEPER"
    sleep 0.5
}
keeper_stop() {
    sys_kill "$KEEPER"
    sys_untrack "$KEEPER"
}
keeper_start

# ft_can_sign ROLE: another program's signature with ROLE's key goes
# through (90 00): a PIN is verified on the card.
ft_can_sign() {
    local key=$FT_SELECT_AUTH_KEY
    [ "$1" = sign ] && key=$FT_SELECT_SIGN_KEY
    ft_other "$FT_SELECT_JPKI" "$key" "$FT_SIGN_APDU" || true
    sed 's/^/#   /' "$SYS_WORK/other.out" | tail -n 2
    grep -q 'SW1=0x90, SW2=0x00' "$SYS_WORK/other.out"
}

# ---- (1) the hole, as the virtual card plays it ----
ft_other "$FT_SELECT_JPKI" 00A4020C020018 \
    "0020008004$(printf '%s' "$MC_AUTH_PIN" | od -An -tx1 | tr -d ' \n')" \
    >/dev/null
grep -q 'SW1=0x90, SW2=0x00' "$SYS_WORK/other.out" ||
    sys_fail "a raw VERIFY of the authentication PIN failed"
ft_other_reset
if [ "$PROFILE" = classic ]; then
    sys_ok "classic card: a warm reset clears a verified PIN" \
        ft_no_pin_on_card auth
else
    sys_ok "$PROFILE card: a warm reset keeps a verified PIN (the hole)" \
        ft_can_sign auth
    # Clear it: power the card down, as the module does.
    timeout 60 "$PCSC_RAW" "$SYS_READER" --unpower >/dev/null 2>&1
    keeper_stop
    keeper_start
    sys_ok "  a power-down clears it" ft_no_pin_on_card auth
fi

# ---- (2) the module leaves nothing, with and without C_Logout ----
for role in auth sign; do
    pin=$MC_AUTH_PIN
    [ "$role" = sign ] && pin=$MC_SIGN_PIN

    ft_run logout-$role 120 "$MOD" login-sign "$role" "$pin"
    sys_ok "$role: log in, sign, C_Logout, C_CloseSession, C_Finalize" \
        eval '[ "$(ft_field logout-'$role' rv)" = CKR_OK ]'
    sys_ok "  then another program cannot sign with either key" \
        eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'

    : >"$SYS_WORK/go"
    ft_run finalize-$role 120 "$MOD" pause-sign "$role" "$pin" \
        "$SYS_WORK/paused" "$SYS_WORK/go"
    rm -f "$SYS_WORK/go" "$SYS_WORK/paused"
    sys_ok "$role: log in, sign, C_Finalize without C_Logout" \
        eval '[ "$(ft_field finalize-'$role' rv)" = CKR_OK ]'
    sys_ok "  then another program cannot sign with either key" \
        eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'

    ( ft_run close-$role 120 "$MOD" close-wait "$role" "$pin" \
        "$SYS_WORK/closed" "$SYS_WORK/go" ) &
    runner=$!
    for _ in $(seq 300); do
        [ -e "$SYS_WORK/closed" ] && break
        sleep 0.1
    done
    sys_ok "$role: the last session closed, the program still running" \
        test -e "$SYS_WORK/closed"
    sys_ok "  another program cannot sign with either key" \
        eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'
    : >"$SYS_WORK/go"
    wait "$runner"
    rm -f "$SYS_WORK/go" "$SYS_WORK/closed"
done

# ---- (3) a program killed while logged in ----
for role in auth sign; do
    pin=$MC_AUTH_PIN
    [ "$role" = sign ] && pin=$MC_SIGN_PIN
    rm -f "$SYS_WORK/paused" "$SYS_WORK/go"
    "$FAULTS_DRIVER" "$MOD" pause-sign "$role" "$pin" "$SYS_WORK/paused" \
        "$SYS_WORK/go" >"$SYS_WORK/killed-$role.out" 2>&1 &
    victim=$!
    sys_track "$victim"
    for _ in $(seq 300); do
        [ -e "$SYS_WORK/paused" ] && break
        sleep 0.1
    done
    kill -KILL "$victim"
    wait "$victim" 2>/dev/null
    sys_untrack "$victim"
    sys_ok "$role: a program killed while logged in (outside a transaction), another program still holding the card: the PIN stays verified (pcscd does nothing)" \
        ft_can_sign "$role"
    keeper_stop
    sleep 2
    sys_ok "  once no program holds the card, pcscd powers it down: the PIN is gone" \
        ft_no_pin_on_card "$role"
    keeper_start
done

# ---- (4) a correct PIN whose answer the line garbled into 63 C2 ----
for role in auth sign; do
    pin=$MC_AUTH_PIN
    [ "$role" = sign ] && pin=$MC_SIGN_PIN
    keeper_stop
    # The first VERIFY with a PIN, whatever its number among the APDUs
    # (that depends on the timing of pcscd, the keeper and the profile).
    ft_restart_emu --corrupt sw --corrupt-sw 63C2 --corrupt-ins 20 \
        --corrupt-count 1
    keeper_start
    ft_run garbled-$role 120 "$MOD" login-sign "$role" "$pin"
    sys_ok "$role: the card verified the PIN, the line turned its 90 00 into 63 C2: CKR_PIN_INCORRECT" \
        eval '[ "$(ft_field garbled-'$role' rv)" = CKR_PIN_INCORRECT ] &&
              [ "$(ft_last_verify_answer)" = "63 C2" ]'
    sys_ok "  once the program ended, another program cannot sign with either key" \
        eval 'ft_no_pin_on_card auth && ft_no_pin_on_card sign'
done

keeper_stop
sys_done
