#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# PIN counters of the virtual card over real pcscd: a wrong PIN costs
# exactly one try and a correct one restores them all, and a PIN blocked by
# three wrong tries stays blocked after mynacard-emu is stopped and started
# again (the card keeps its counters in DIR/card.state, as a real card keeps
# them in its memory).  The PINs are tried through OpenSC's PKCS#11 module;
# the tries left are read with `mynacard-emu status` while the card is out,
# and the card's answers from its APDU log.
. "$(dirname "$0")/lib.sh"

command -v pkcs11-tool >/dev/null || sys_skip "pkcs11-tool (opensc) is missing"
OPENSC_MODULE=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
[ -e "$OPENSC_MODULE" ] || sys_skip "OpenSC's PKCS#11 module is missing ($OPENSC_MODULE)"

AUTH_TOKEN="JPKI (User Authentication PIN)"

sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD"
sys_start_pcscd

# login PIN: log in to the authentication token with PIN; output in out.
login() {
    pkcs11-tool --module "$OPENSC_MODULE" --token-label "$AUTH_TOKEN" \
        --login --pin "$1" -O >"$SYS_WORK/out" 2>&1
    local rc=$?
    grep -E 'CKR_|error' "$SYS_WORK/out" | sed 's/^/#   /'
    return "$rc"
}

out_has() {
    grep -qF -- "$1" "$SYS_WORK/out"
}

# last_verify_sw SW: the card's answer to the last VERIFY that carried a
# PIN was SW, as the virtual card's APDU log says ("> 00 20 00 80 ..." with
# the PIN redacted, then "< SW1 SW2").  OpenSC 0.23 reports a blocked PIN
# as CKR_GENERAL_ERROR (it takes 69 84 for "data not usable"), so the card's
# own answer is what shows the PIN was refused because it is blocked.
last_verify_sw() {
    local got
    got=$(awk '/^> 00 20 00 80 ./ { want = 1; next }
               want && /^< / { sw = substr($0, 3); want = 0 }
               END { print sw }' "$SYS_WORK/emu-apdu.log")
    echo "#   the card answered the last VERIFY with: $got"
    [ "$got" = "$1" ]
}

out_has_any() {
    out_has "$1" || out_has "$2"
}

sys_ok "a new card has 3 authentication tries" tries auth 3
sys_ok "a new card has 5 signature tries" tries sign 5

sys_start_emu "$CARD"
sys_ok "a wrong PIN is refused" sys_not login 9999
sys_ok "OpenSC says CKR_PIN_INCORRECT" out_has CKR_PIN_INCORRECT
sys_stop_emu
sys_ok "the wrong PIN cost exactly one try" tries auth 2
sys_ok "the signature password was not touched" tries sign 5

sys_start_emu "$CARD"
sys_ok "the correct PIN is accepted" login 1234
sys_stop_emu
sys_ok "the correct PIN restored all tries" tries auth 3

sys_start_emu "$CARD"
sys_ok "wrong PIN, first try" sys_not login 0001
sys_ok "wrong PIN, second try" sys_not login 0002
sys_ok "wrong PIN, third try" sys_not login 0003
sys_ok "the third wrong try says the PIN is locked or incorrect" \
    out_has_any CKR_PIN_LOCKED CKR_PIN_INCORRECT
sys_ok "then even the correct PIN is refused" sys_not login 1234
sys_ok "the card refused it with 69 84" last_verify_sw "69 84"
sys_stop_emu
sys_ok "the card says 0 tries left" tries auth 0

# Out and in again: a new mynacard-emu process over the same directory.
sys_start_emu "$CARD"
sys_ok "after a restart the correct PIN is still refused" sys_not login 1234
sys_ok "the card refused it with 69 84 again" last_verify_sw "69 84"
sys_stop_emu
sys_ok "still 0 tries left" tries auth 0
sys_ok "the signature password still has 5 tries" tries sign 5

sys_done
