#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# pcscd stopped and started again under a running program.  faults-driver
# signs in a loop with the module (opening a session and logging in again
# whenever it loses one, as an application asks for the PIN again); pcscd
# is stopped for 3 s and started again, twice.  The program must live
# through it (no crash, no hang), see only a fault's CKRs meanwhile, never
# get a signature that does not verify, sign again once pcscd is back, and
# the card must have seen no VERIFY the program did not ask for and spent
# no try.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"
. "$(dirname "$0")/common.sh"

ft_begin
sys_start_emu "$CARD"

ft_loop_start
sleep 3
signed_before=$(grep -c '^> 80 2A' "$SYS_WORK/emu-apdu.log")
sys_ok "the program signs in a loop ($signed_before signatures in 3 s)" \
    [ "$signed_before" -gt 0 ]

for round in 1 2; do
    sys_stop_pcscd
    sleep 3
    sys_ok "round $round: the program is still running with pcscd stopped" \
        sys_alive "$drv"
    umount /run/pcscd 2>/dev/null || true
    sys_start_pcscd
    sys_wait_card present 30
    sleep 5
done
touch "$SYS_WORK/mark"
sleep 5
ft_loop_stop 30

sys_ok "the program ends normally after two pcscd restarts (status $rc)" [ "$rc" = 0 ]
FT_RC=0
sys_ok "  it did see the outages ($(ft_summary loop err) failed calls)" \
    [ "$(ft_summary loop err)" -gt 0 ]
bad_rvs=$(awk '/^# [0-9]+: / { print $NF }' "$SYS_WORK/loop.out" | sort -u |
    while read -r rv; do
        case " $(echo $FT_FAULT_RVS) " in *" $rv "*) ;; *) echo "$rv" ;; esac
    done)
sys_ok "  and only a fault's CKRs meanwhile${bad_rvs:+ (not: $bad_rvs)}" [ -z "$bad_rvs" ]
sys_ok "  no signature that does not verify" [ "$(ft_summary loop bad)" = 0 ]
sys_ok "  it signs again once pcscd is back ($(ft_summary loop ok_after_mark) after)" \
    [ "$(ft_summary loop ok_after_mark)" -gt 0 ]
sys_ok "  VERIFYs ($(ft_verifies)) never outnumber its C_Logins ($(ft_summary loop logins))" \
    [ "$(ft_verifies)" -le "$(ft_summary loop logins)" ]
sys_ok "  no try spent" tries auth 3

sys_done
