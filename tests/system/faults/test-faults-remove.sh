#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The card removed at every step of login and signing.  A clean run of the
# scenario (faults-driver login-sign: C_Initialize, the token, a session,
# C_Login, C_Sign with the context-specific login of the signature key,
# C_Logout, C_Finalize) counts the APDUs it takes on each token; then, for
# every N from 1 to that count, the virtual card is started with
# `--remove-after N` (it leaves the reader after answering N commands; the
# command that finds it gone is never answered) and the scenario runs
# again.  Each run must end by itself (no crash, no hang), give either a
# signature that verifies or a fault's CKR with no signature, send at most
# one VERIFY per C_Login (no retry: one on the authentication token, two
# on the signature token, whose key asks for the PIN again), leave the
# PIN's tries where they were (the PIN is right: a removal spends none),
# and say that the card went away: CKR_DEVICE_REMOVED or one of its
# consequences (no token, the session closed), never CKR_DEVICE_ERROR.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_begin

# What a removal may be reported as (PKCS#11 2.40, 5.1): the device went
# away, the token is gone, or the session went with it.
REMOVED_RVS=" CKR_DEVICE_REMOVED CKR_TOKEN_NOT_PRESENT CKR_SESSION_HANDLE_INVALID CKR_SESSION_CLOSED "

# A card run of one scenario: start the card with @opts, run, stop it.
# Sets APDUS (commands the card saw) and VERIFIES (VERIFYs with a PIN).
run_one() {
    local name=$1 role=$2 pin=$3
    shift 3
    # A fresh pcscd for each run: after a few dozen removals in a row,
    # pcscd 1.9.9 with vpcd stopped reporting the card's insertions at all
    # (seen in CI: no "Card inserted" in its log, the card never shown
    # again), which says nothing of the module under test.
    sys_stop_pcscd
    umount /run/pcscd 2>/dev/null || true
    sys_start_pcscd
    : >"$SYS_WORK/emu-apdu.log"
    sys_start_emu "$CARD" "$@"
    ft_run "$name" 120 "$MOD" login-sign "$role" "$pin"
    APDUS=$(ft_apdus)
    VERIFIES=$(ft_verifies)
    # --remove-after makes mynacard-emu leave by itself (status 3).
    sys_kill "$SYS_EMU_PID"
    sys_untrack "$SYS_EMU_PID"
    sys_wait_card absent
}

for role in auth sign; do
    if [ $role = auth ]; then
        pin=$MC_AUTH_PIN; max=3; logins=1
    else
        pin=$MC_SIGN_PIN; max=5; logins=2
    fi
    run_one "$role-clean" "$role" "$pin"
    total=$APDUS
    sys_ok "$role: the scenario without faults signs ($total APDUs, $VERIFIES VERIFY)" \
        eval '[ "$(ft_field $role-clean rv)" = CKR_OK ] && [ "$(ft_field $role-clean sig)" = ok ]'
    bad_end=""; bad_verify=""; bad_tries=""; bad_rv=""; outcomes=""
    # Every step, also on the other profiles: the signature stage is one
    # or two APDUs among the last, which sampling misses.
    for n in $(seq 1 "$total"); do
        run_one "$role-remove-$n" "$role" "$pin" --remove-after "$n"
        outcomes="$outcomes $(ft_field "$role-remove-$n" stage):$(ft_field "$role-remove-$n" rv)"
        ft_ok_or_fault "$role-remove-$n" || bad_end="$bad_end $n"
        # "done" ran to the end; "key" is the driver's own verdict (the
        # login held, then the token showed no key: the card had gone).
        stage=$(ft_field "$role-remove-$n" stage)
        rv=$(ft_field "$role-remove-$n" rv)
        case $stage in
        done | key) ;;
        *) [[ $REMOVED_RVS == *" $rv "* ]] || bad_rv="$bad_rv $n:$rv" ;;
        esac
        [ "$VERIFIES" -le "$logins" ] || bad_verify="$bad_verify $n"
        tries "$role" "$max" >/dev/null || bad_tries="$bad_tries $n"
    done
    sys_log "$role outcomes by N:$outcomes"
    sys_ok "$role: removed after each of 1..$total APDUs: every run ends, a verified signature or a fault's CKR${bad_end:+ (not at:$bad_end)}" \
        [ -z "$bad_end" ]
    sys_ok "$role:   never more than one VERIFY per C_Login ($logins)${bad_verify:+ (more at:$bad_verify)}" \
        [ -z "$bad_verify" ]
    sys_ok "$role:   no try spent: still $max${bad_tries:+ (spent at:$bad_tries)}" \
        [ -z "$bad_tries" ]
    sys_ok "$role:   each failure says the card was removed${bad_rv:+ (not at:$bad_rv)}" \
        [ -z "$bad_rv" ]
    sys_ok "$role:   the removals hit the login and the signature, not only the start" \
        eval 'echo "$outcomes" | grep -q "login:" && echo "$outcomes" | grep -qE "(sign|ctxlogin):"'
done

sys_done
