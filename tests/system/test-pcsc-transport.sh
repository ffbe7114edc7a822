#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Runs test-pcsc-transport (the program named by the first argument) in a
# private pcscd with the virtual card inserted, set up by lib.sh.  The
# program prints TAP; it removes, inserts and resets the card and restarts
# pcscd itself, by PID, and lib.sh stops whatever is left on exit.
. "$(dirname "$0")/lib.sh"

prog=${1:-}
if [ -z "$prog" ] || [ ! -x "$prog" ]; then
    sys_fail "usage: $0 PATH/test-pcsc-transport"
fi

# The classic card: this tests the transport, whose callers (the JPKI
# layer) deal with the strict card's 6F00 after power comes back; the
# test's raw commands and fault counts would meet it after every insertion.
export MYNACARD_EMU_PROFILE=classic

sys_setup
SYS_CARD="$SYS_WORK/card"
export SYS_CARD MYNACARD_EMU
sys_card_init "$SYS_CARD"
sys_start_pcscd
sys_start_emu "$SYS_CARD"
# shellcheck disable=SC2086  # SYS_WRAP is words (lib.sh)
${SYS_WRAP:-} "$prog"
