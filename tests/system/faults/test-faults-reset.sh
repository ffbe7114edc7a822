#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The card reset under the module.  (1) `mynacard-emu run --reset-after N`
# for every N across the login-and-sign scenario of each token (the card
# drops the Nth+1 command unanswered and comes back reset, which PC/SC sees
# as a removal and an insertion): each run ends by itself with a verified
# signature or a fault's CKR, sends at most one VERIFY per C_Login, spends
# no try, and leaves no PIN verified (another program's COMPUTE DIGITAL
# SIGNATURE then gets 69 82).  (2) Another program (opensc-tool --reset)
# resets the card between C_Login and C_Sign: the signature is refused
# with CKR_USER_NOT_LOGGED_IN, never made, and after a new C_Login it works.
# (3) The same program resets the card again and again while the module
# signs in a loop on a slow card: no wrong signature, no crash or hang, no
# VERIFY the application did not ask for, and signatures again once the
# resets stop.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_begin

# ---- (1) reset after every N ----
for role in auth sign; do
    if [ $role = auth ]; then
        pin=$MC_AUTH_PIN; max=3; logins=1
    else
        pin=$MC_SIGN_PIN; max=5; logins=2
    fi
    ft_restart_emu
    ft_run "$role-clean" 120 "$MOD" login-sign "$role" "$pin"
    total=$(ft_apdus)
    sys_ok "$role: the scenario without faults signs ($total APDUs)" \
        eval '[ "$(ft_field $role-clean rv)" = CKR_OK ] && [ "$(ft_field $role-clean sig)" = ok ]'
    bad_end=""; bad_verify=""; bad_tries=""; bad_left=""; outcomes=""
    for n in $(ft_steps 1 "$total"); do
        ft_restart_emu --reset-after "$n"
        ft_run "$role-reset-$n" 120 "$MOD" login-sign "$role" "$pin"
        outcomes="$outcomes $(ft_field "$role-reset-$n" stage):$(ft_field "$role-reset-$n" rv)"
        ft_ok_or_fault "$role-reset-$n" || bad_end="$bad_end $n"
        [ "$(ft_verifies)" -le "$logins" ] || bad_verify="$bad_verify $n"
        tries "$role" "$max" >/dev/null || bad_tries="$bad_tries $n"
        # The card is back (reset) or never left: nothing verified on it.
        sys_wait_card present
        ft_no_pin_on_card "$role" >/dev/null || bad_left="$bad_left $n"
    done
    sys_log "$role outcomes by N:$outcomes"
    sys_ok "$role: reset after each of 1..$total APDUs: every run ends, a verified signature or a fault's CKR${bad_end:+ (not at:$bad_end)}" \
        [ -z "$bad_end" ]
    sys_ok "$role:   never more than one VERIFY per C_Login ($logins)${bad_verify:+ (more at:$bad_verify)}" \
        [ -z "$bad_verify" ]
    sys_ok "$role:   no try spent: still $max${bad_tries:+ (spent at:$bad_tries)}" \
        [ -z "$bad_tries" ]
    sys_ok "$role:   afterwards no PIN is verified on the card (69 82 to another program)${bad_left:+ (verified at:$bad_left)}" \
        [ -z "$bad_left" ]
done

# ---- (2) another program resets between C_Login and C_Sign ----
ft_restart_emu
ft_pause_start
sys_ok "another program resets the card between C_Login and C_Sign (opensc-tool --reset)" \
    ft_other_reset
v_before=$(ft_verifies)
touch "$SYS_WORK/go"
wait "$drv"
sys_ok "  C_Sign after the reset: CKR_USER_NOT_LOGGED_IN, no signature" \
    eval '[ "$(ft_field between rv 1)" = CKR_USER_NOT_LOGGED_IN ] && [ "$(ft_field between sig 1)" = none ]'
sys_ok "  after a new C_Login the signature verifies" \
    eval '[ "$(ft_field between rv 2)" = CKR_OK ] && [ "$(ft_field between sig 2)" = ok ]'
sys_ok "  exactly one VERIFY for that new C_Login (none of the module's own)" \
    eval '[ $(( $(ft_verifies) - v_before )) = 1 ]'
sys_ok "  no try spent" tries auth 3

# ---- (3) resets during a signing loop on a slow card ----
ft_restart_emu --latency-apdu-us 100000
ft_loop_start
sleep 3
resets=0
for _ in $(seq 12); do
    ft_other_reset && resets=$((resets + 1))
    sleep 0.7
done
touch "$SYS_WORK/mark"
# Give it 8 s of quiet to sign again, then stop it.
sleep 8
ft_loop_stop 25
sys_ok "$resets resets by another program during a signing loop: the loop ends normally (status $rc)" \
    [ "$rc" = 0 ]
FT_RC=0
sys_ok "  no signature that does not verify" \
    [ "$(ft_summary loop bad)" = 0 ]
sys_ok "  signatures again after the resets ($(ft_summary loop ok_after_mark))" \
    [ "$(ft_summary loop ok_after_mark)" -gt 0 ]
sys_ok "  VERIFYs ($(ft_verifies)) never outnumber the application's C_Logins ($(ft_summary loop logins))" \
    [ "$(ft_verifies)" -le "$(ft_summary loop logins)" ]
sys_ok "  no try spent" tries auth 3

sys_done
