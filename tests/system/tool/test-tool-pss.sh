#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool check-pss over a private pcscd and the virtual card, on
# the three kinds of card: one whose P1 04 makes RSA-PSS signatures that
# verify (--sign-pss), one that refuses P1 04 (--no-sign-pss, 6A86) and
# one that answers it with a signature that does not verify
# (--sign-pss-bad).  Each time: the PIN is asked for after a word on what
# a wrong one costs; a right PIN spends no try; the verdict (text and
# --json); no PIN left verified on the card (powered down after).
# --enable writes `pss = true` into the user's mynacard.conf only after a
# check that passed, keeping the file's other lines; --disable takes it
# out; doctor reports the setting.  A wrong PIN costs exactly one try and
# no signature is asked for.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin 4826 --sign-pin PASS2468
CONF="$HOME/.config/mynacard/mynacard.conf"
sys_start_pcscd

# pss_apdus: the signatures asked with P1 04 in the card's log.
pss_apdus() {
    grep -c '^> 80 2A 04 80' "$SYS_WORK/emu-apdu.log" 2>/dev/null || true
}
# no_pin_left: the card was powered down after the check.
powered_down() {
    tail -n 5 "$SYS_WORK/emu-apdu.log" | grep -q '^# power off'
}

# ---- a card that does PSS ----
sys_start_emu "$CARD" --sign-pss
mkdir -p "$(dirname "$CONF")"
printf '# mine\nreaders = Virtual\npss = false\ndebug = 0\n' >"$CONF"
t_in works 4826 check-pss --stdin
sys_ok "a card that does PSS: exit 0" rc_is works 0
sys_ok "  says first that a wrong PIN costs a try" \
    has works "a wrong one costs one of the 3"
sys_ok "  says it can log in to TLS 1.3 sites" \
    has works "it can log in to TLS 1.3 sites"
sys_ok "  the card was asked once with P1 04" eval '[ "$(pss_apdus)" = 1 ]'
sys_ok "  no try spent" tries auth 3
sys_ok "  the card powered down after it" powered_down
sys_ok "  without --enable, the configuration is untouched" \
    grep -qx 'pss = false' "$CONF"
t_in works-json 4826 check-pss --stdin --json
sys_ok "  --json: pss works, exit 0" \
    eval 'json_ok works-json && jq_is works-json "d[\"pss\"]" works && jq_is works-json "d[\"exit\"]" 0'

t_in enable 4826 check-pss --stdin --enable
sys_ok "--enable after a check that passed: exit 0" rc_is enable 0
sys_ok "  the file says pss = true, once" \
    eval '[ "$(grep -c "^pss" "$CONF")" = 1 ] && grep -qx "pss = true" "$CONF"'
sys_ok "  and keeps its other lines" \
    eval 'grep -qx "# mine" "$CONF" && grep -qx "readers = Virtual" "$CONF" && grep -qx "debug = 0" "$CONF"'
t doctor-on doctor
sys_ok "  doctor reports it on, with the file" \
    has doctor-on "TLS 1.3: RSA-PSS is on (pss = true in $CONF)"
t disable check-pss --disable
sys_ok "--disable: exit 0, no card needed, pss gone, the rest kept" \
    eval 'rc_is disable 0 && ! grep -q "^pss" "$CONF" && grep -qx "readers = Virtual" "$CONF"'
t doctor-off doctor
sys_ok "  doctor says it is off, and how to check" \
    eval 'has doctor-off "TLS 1.3 needs RSA-PSS, which is off" && has doctor-off "mynacard-tool check-pss"'

# A wrong PIN: one try, no signature asked for.
: >"$SYS_WORK/emu-apdu.log"
t_in wrong 1111 check-pss --stdin --enable
sys_ok "a wrong PIN: exit 5, one try spent, no signature asked" \
    eval 'rc_is wrong 5 && tries auth 2 && [ "$(pss_apdus)" = 0 ]'
sys_ok "  nothing enabled" eval '! grep -q "^pss" "$CONF"'
t_in right 4826 check-pss --stdin
sys_ok "  the right PIN then: the counter is full again" tries auth 3

# ---- a card that refuses P1 04 ----
sys_stop_emu
sys_start_emu "$CARD" --no-sign-pss
t_in refused 4826 check-pss --stdin --enable --json
sys_ok "a card that refuses P1 04: exit 1, pss refused" \
    eval 'rc_is refused 1 && json_ok refused && jq_is refused "d[\"pss\"]" refused'
sys_ok "  says why, and not enabled" \
    eval 'err_has refused "refuses RSA-PSS signatures" && err_has refused "not enabled" && ! grep -q "^pss" "$CONF"'
sys_ok "  no try spent" tries auth 3
t_in refused-text 4826 check-pss --stdin
sys_ok "  the choices are given" has refused-text "Your choices:"

# ---- a card that answers P1 04 wrongly ----
sys_stop_emu
sys_start_emu "$CARD" --sign-pss-bad
t_in bad 4826 check-pss --stdin --enable --json
sys_ok "a card whose PSS answer does not verify: exit 1, pss wrong" \
    eval 'rc_is bad 1 && json_ok bad && jq_is bad "d[\"pss\"]" wrong'
sys_ok "  says so, and not enabled" \
    eval 'err_has bad "not an RSA-PSS signature" && ! grep -q "^pss" "$CONF"'
sys_ok "  no try spent" tries auth 3

sys_done
