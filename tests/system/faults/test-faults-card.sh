#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# A card that misbehaves, and another program in the middle.  (1) A slow
# card, 1.5 s per APDU and 5 s per signature: the scenario completes with a
# verified signature (no time-out in the module).  (2) `--chain-chunk 1`:
# every answer comes in 1-byte 61xx chunks; both tokens sign.  (3)
# `--corrupt sw|truncate|garbage|overlong` from every APDU N of the
# authentication scenario on (and a few on the signature token): every run
# ends by itself with a verified signature or a fault's CKR, never a
# signature that does not verify, at most one VERIFY per C_Login, and no
# try spent.  (4) Another program selects another application (the
# card-info input support AP) between C_Login and C_Sign, and again and
# again while the module signs in a loop.  Leaving the JPKI AP drops its
# verified PINs (the virtual card does so: the security state belongs to
# the application): the card refuses the signature (69 82), the module
# says CKR_USER_NOT_LOGGED_IN, never sends the PIN again on its own (one
# VERIFY per C_Login of the application), and after the application logs
# in again it signs; it selects the JPKI AP again in each transaction.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_begin

signed() {
    [ "$FT_RC" = 0 ] && [ "$(ft_field "$1" rv)" = CKR_OK ] &&
        [ "$(ft_field "$1" sig)" = ok ]
}

# ---- (1) slow ----
ft_restart_emu --latency-apdu-us 1500000 --latency-sign-us 5000000
start=$(date +%s)
ft_run slow 600 "$MOD" login-sign auth "$MC_AUTH_PIN"
secs=$(( $(date +%s) - start ))
sys_ok "a slow card (1.5 s per APDU, 5 s per signature): signed and verified in ${secs} s, $(ft_apdus) APDUs" \
    signed slow
sys_ok "  it really was slow (over 30 s)" [ "$secs" -gt 30 ]

# ---- (2) 1-byte chaining ----
ft_restart_emu --chain-chunk 1
ft_run chain-auth 300 "$MOD" login-sign auth "$MC_AUTH_PIN"
sys_ok "61xx chaining in 1-byte chunks: the authentication token signs ($(ft_apdus) APDUs)" \
    signed chain-auth
chunks=$(grep -cE '^< [0-9A-F]{2} 61 [0-9A-F]{2}$' "$SYS_WORK/emu-apdu.log")
sys_ok "  the card did answer in 1-byte chunks ($chunks answers of one byte and 61xx)" \
    [ "$chunks" -gt 1000 ]
ft_run chain-sign 300 "$MOD" login-sign sign "$MC_SIGN_PIN"
sys_ok "  the signature token signs too" signed chain-sign

# ---- (3) corrupted answers ----
ft_restart_emu
ft_run clean 120 "$MOD" login-sign auth "$MC_AUTH_PIN"
total=$(ft_apdus)
sys_ok "the authentication scenario without faults signs ($total APDUs)" signed clean
for mode in sw truncate garbage overlong; do
    bad_end=""; bad_verify=""; bad_tries=""; outcomes=""
    for n in $(ft_steps 1 "$total"); do
        ft_restart_emu --corrupt "$mode" --corrupt-after "$n"
        ft_run "corrupt-$mode-$n" 120 "$MOD" login-sign auth "$MC_AUTH_PIN"
        outcomes="$outcomes $(ft_field "corrupt-$mode-$n" stage):$(ft_field "corrupt-$mode-$n" rv)"
        ft_ok_or_fault "corrupt-$mode-$n" || bad_end="$bad_end $n"
        [ "$(ft_verifies)" -le 1 ] || bad_verify="$bad_verify $n"
        tries auth 3 >/dev/null || bad_tries="$bad_tries $n"
    done
    sys_log "corrupt $mode outcomes by N:$outcomes"
    sys_ok "--corrupt $mode from each of APDU 1..$total on: every run ends, a verified signature or a fault's CKR${bad_end:+ (not at:$bad_end)}" \
        [ -z "$bad_end" ]
    sys_ok "  never more than one VERIFY${bad_verify:+ (more at:$bad_verify)}" \
        [ -z "$bad_verify" ]
    sys_ok "  no try spent${bad_tries:+ (spent at:$bad_tries)}" [ -z "$bad_tries" ]
done
# The signature token: corrupted from its VERIFYs and signature on.
ft_restart_emu
ft_run clean-sign 120 "$MOD" login-sign sign "$MC_SIGN_PIN"
stotal=$(ft_apdus)
bad_end=""
for mode in sw truncate garbage overlong; do
    for n in $(ft_steps $((stotal - 12)) "$stotal"); do
        ft_restart_emu --corrupt "$mode" --corrupt-after "$n"
        ft_run "scorrupt-$mode-$n" 120 "$MOD" login-sign sign "$MC_SIGN_PIN"
        ft_ok_or_fault "scorrupt-$mode-$n" || bad_end="$bad_end $mode:$n"
        [ "$(ft_verifies)" -le 2 ] || bad_end="$bad_end $mode:$n:verify"
    done
done
sys_ok "signature token, each mode from each of its last 13 APDUs on: a verified signature or a fault's CKR, at most 2 VERIFYs${bad_end:+ (not at:$bad_end)}" \
    [ -z "$bad_end" ]
sys_ok "  no try spent" tries sign 5

# ---- (4) another program selects another application ----
ft_restart_emu
ft_pause_start
ft_other "$FT_SELECT_OTHER"
sed 's/^/#   /' "$SYS_WORK/other.out"
touch "$SYS_WORK/go"
wait "$drv"
sys_ok "another program selects the card-info AP between C_Login and C_Sign: CKR_USER_NOT_LOGGED_IN, no signature" \
    eval '[ "$(ft_field between rv 1)" = CKR_USER_NOT_LOGGED_IN ] && [ "$(ft_field between sig 1)" = none ]'
sys_ok "  the card refused it (69 82): the PIN was gone, not sent again" \
    eval 'awk "/^> 80 2A/ { s = 1; next } s { print; s = 0 }" "$SYS_WORK/emu-apdu.log" | grep -q "^< 69 82"'
sys_ok "  after a new C_Login the signature verifies" \
    eval '[ "$(ft_field between rv 2)" = CKR_OK ] && [ "$(ft_field between sig 2)" = ok ]'
sys_ok "  two VERIFYs in all, both the application's C_Logins" [ "$(ft_verifies)" = 2 ]
sys_ok "  the module selected the JPKI AP again after it" \
    eval 'awk "/^> 00 A4 04 0C 0A D3 92 10 00 31/ { other = 1; next }
               other && /^> 00 A4 04 0C 0A D3 92 F0 00 26/ { ok = 1 }
               END { exit !ok }" "$SYS_WORK/emu-apdu.log"'

ft_restart_emu --latency-apdu-us 50000
ft_loop_start marked
sleep 2
selects=0
for _ in $(seq 20); do
    ft_other "$FT_SELECT_OTHER" && selects=$((selects + 1))
    sleep 0.3
done
ft_loop_stop 10
sys_ok "$selects SELECTs of another AP during a signing loop: it ends normally (status $rc)" \
    [ "$rc" = 0 ]
sys_ok "  every signature verifies ($(ft_summary loop ok) made, $(ft_summary loop bad) bad)" \
    eval '[ "$(ft_summary loop bad)" = 0 ] && [ "$(ft_summary loop ok)" -gt 0 ]'
others=$(awk '/^# [0-9]+: / { print $NF }' "$SYS_WORK/loop.out" | sort -u |
    grep -vx CKR_USER_NOT_LOGGED_IN | tr '\n' ' ')
sys_ok "  the failures ($(ft_summary loop err)) are all CKR_USER_NOT_LOGGED_IN${others:+ (also: $others)}" \
    [ -z "$others" ]
sys_ok "  VERIFYs ($(ft_verifies)) are the application's C_Logins ($(ft_summary loop logins)): none of the module's own" \
    [ "$(ft_verifies)" = "$(ft_summary loop logins)" ]
sys_ok "  no try spent" tries auth 3

sys_done
