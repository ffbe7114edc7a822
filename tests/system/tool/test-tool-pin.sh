#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool verify-pin and change-pin over a private pcscd and the
# virtual card, typed into a real terminal (a tmux pane) as a person
# would, and given on stdin as a script would.  Checks that the PIN never
# shows on the screen and echo comes back afterwards; the tries before and
# after; a wrong format refused with no VERIFY sent and no try spent; a
# wrong PIN costing exactly one try; the confirmation with one try left,
# declining it sending nothing; --stdin refusing the last try without
# --yes; a blocked PIN not asked for; change-pin (typed twice on a
# terminal, mismatches refused, a wrong old PIN costing one try), and the
# exit statuses.  The card's tries are read with `mynacard-emu status`,
# the VERIFY commands it received from its APDU log.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
sys_setup
CARD="$SYS_WORK/card"
AUTH=7391
SIGN=PASS2468
sys_card_init "$CARD" --auth-pin $AUTH --sign-pin $SIGN
sys_start_pcscd
sys_start_emu "$CARD"
TOOL=$MYNACARD_TOOL

# tm_verify NAME ROLE: start `verify-pin ROLE` in the terminal and wait
# for its prompt.
tm_verify() {
    tm_run "'$TOOL' verify-pin $2"
    case $2 in
    auth) tm_wait_line '^Authentication PIN:$' ;;
    sign) tm_wait_line '^Signature password:$' ;;
    esac
}

# ---- the right PIN, typed ----
n=$(verify_count)
tm_verify ok auth
tm_type "$AUTH"
rc=$(tm_exit)
tm_save ok
sys_ok "verify-pin auth, typed at the terminal: exit 0" [ "$rc" = 0 ]
sys_ok "  the tries were shown before the prompt (3 of 3)" \
    grep -qx "Authentication PIN: 3 of 3 tries left" "$SYS_WORK/ok.screen"
sys_ok "  the PIN never appeared on the screen (echo off)" \
    sys_not grep -q "$AUTH" "$SYS_WORK/ok.screen"
sys_ok "  says it is correct, 3 of 3 tries now" \
    eval 'grep -qx "The authentication PIN is correct." "$SYS_WORK/ok.screen" &&
          grep -qx "Authentication PIN: 3 of 3 tries left now" "$SYS_WORK/ok.screen"'
sys_ok "  exactly one VERIFY reached the card" eval '[ "$(verify_count)" = $((n + 1)) ]'
tm_type "echo-is-back"
sys_ok "  the terminal echoes again afterwards" tm_wait_line 'echo-is-back' 10
tm_stop

# ---- a wrong format, typed ----
n=$(verify_count)
tm_verify fmt auth
tm_type "12a"
rc=$(tm_exit)
tm_save fmt
sys_ok "a PIN of the wrong format (12a): exit 7" [ "$rc" = 7 ]
sys_ok "  refused, saying no try was spent" grep -q "not sent to the card and no try was spent" "$SYS_WORK/fmt.screen"
sys_ok "  no VERIFY reached the card, still 3 tries" \
    eval '[ "$(verify_count)" = "$n" ] && tries auth 3'
tm_stop
t_in fmt-long 12345 verify-pin auth --stdin
sys_ok "  five digits on stdin: exit 7, nothing sent" \
    eval 'rc_is fmt-long 7 && [ "$(verify_count)" = "$n" ]'
t_in fmt-sign 'ABC-123' verify-pin sign --stdin
sys_ok "  a signature password with '-': exit 7, nothing sent" \
    eval 'rc_is fmt-sign 7 && [ "$(verify_count)" = "$n" ] && tries sign 5'

# ---- a wrong PIN costs exactly one try ----
tm_verify bad auth
tm_type 0000
rc=$(tm_exit)
tm_save bad
sys_ok "a wrong PIN, typed: exit 5" [ "$rc" = 5 ]
sys_ok "  one VERIFY, one try spent (2 left)" \
    eval '[ "$(verify_count)" = $((n + 1)) ] && tries auth 2'
sys_ok "  the screen says 2 of 3 tries now" grep -qx "Authentication PIN: 2 of 3 tries left now" "$SYS_WORK/bad.screen"
tm_stop
t_in bad2 0000 verify-pin auth --stdin --json
sys_ok "a wrong PIN on stdin, --json: exit 5, one more try spent (1 left)" \
    eval 'rc_is bad2 5 && tries auth 1 && [ "$(verify_count)" = $((n + 2)) ]'
sys_ok "  --json parses: tries 2 before, 1 after, result incorrect" \
    eval 'json_ok bad2 && jq_is bad2 "(d[\"tries_before\"], d[\"tries_after\"], d[\"result\"])" "(2, 1, '"'"'incorrect'"'"')"'

# ---- one try left: the confirmation ----
n=$(verify_count)
tm_verify last auth
tm_type "$AUTH"
sys_ok "one try left: a confirmation is asked" tm_wait_line '\[y/N\]'
tm_type n
rc=$(tm_exit)
tm_save last
sys_ok "  declined: exit 8" [ "$rc" = 8 ]
sys_ok "  the warning was shown before the prompt" grep -q "only one try is left" "$SYS_WORK/last.screen"
sys_ok "  nothing was sent, still 1 try" eval '[ "$(verify_count)" = "$n" ] && tries auth 1'
tm_stop
t_in last-stdin "$AUTH" verify-pin auth --stdin
sys_ok "  --stdin without --yes: exit 8, nothing sent" \
    eval 'rc_is last-stdin 8 && [ "$(verify_count)" = "$n" ] && tries auth 1'
tm_verify last-yes auth
tm_type "$AUTH"
tm_wait_line '\[y/N\]' >/dev/null
tm_type y
rc=$(tm_exit)
tm_save last-yes
sys_ok "  confirmed with the right PIN: exit 0, 3 tries again" \
    eval '[ "$rc" = 0 ] && tries auth 3 && [ "$(verify_count)" = $((n + 1)) ]'
tm_stop

# ---- change-pin ----
n=$(verify_count)
t_in chg-auth "$AUTH
5820" change-pin auth --stdin
sys_ok "change-pin auth (stdin: old, new): exit 0" rc_is chg-auth 0
sys_ok "  says so" has chg-auth "The authentication PIN is changed."
t_in chg-auth-new 5820 verify-pin auth --stdin
sys_ok "  the new PIN is the one now" rc_is chg-auth-new 0
t_in chg-auth-back "5820
$AUTH" change-pin auth --stdin
sys_ok "  and back: exit 0" rc_is chg-auth-back 0

t_in chg-badold "0000
5820" change-pin auth --stdin
sys_ok "change-pin with a wrong old PIN: exit 5, one try spent" \
    eval 'rc_is chg-badold 5 && tries auth 2'
t_in chg-badold-check "$AUTH" verify-pin auth --stdin
sys_ok "  the PIN is unchanged" eval 'rc_is chg-badold-check 0 && tries auth 3'

n=$(verify_count)
t_in chg-fmt "$AUTH
12" change-pin auth --stdin
sys_ok "change-pin to a new PIN of the wrong format: exit 7, nothing sent" \
    eval 'rc_is chg-fmt 7 && [ "$(verify_count)" = "$n" ]'

tm_run "'$TOOL' change-pin sign"
tm_wait_line '^Current signature password:$' >/dev/null
tm_type "$SIGN"
tm_wait_line '^New signature password:$' >/dev/null
tm_type NEWPASS7
tm_wait_line '^New signature password again:$' >/dev/null
tm_type NEWPASS8
rc=$(tm_exit)
tm_save chg-mismatch
sys_ok "change-pin sign at the terminal, the new one typed differently: exit 8" [ "$rc" = 8 ]
sys_ok "  nothing sent" eval '[ "$(verify_count)" = "$n" ]'
sys_ok "  no password shown" \
    eval '! grep -Eq "$SIGN|NEWPASS" "$SYS_WORK/chg-mismatch.screen"'
tm_stop

tm_run "'$TOOL' change-pin sign"
tm_wait_line '^Current signature password:$' >/dev/null
tm_type "$SIGN"
tm_wait_line '^New signature password:$' >/dev/null
tm_type newpass7
tm_wait_line '^New signature password again:$' >/dev/null
tm_type newpass7
rc=$(tm_exit)
tm_save chg-sign
sys_ok "change-pin sign at the terminal, typed twice: exit 0" [ "$rc" = 0 ]
sys_ok "  no password shown" \
    eval '! grep -Eiq "$SIGN|NEWPASS" "$SYS_WORK/chg-sign.screen"'
tm_stop
t_in chg-sign-new NEWPASS7 verify-pin sign --stdin
sys_ok "  the new password (typed in lowercase, stored uppercase) works" rc_is chg-sign-new 0

# ---- blocked ----
for i in 1 2 3 4; do
    t_in block-$i WRONG000 verify-pin sign --stdin
done
t_in block-5 WRONG000 verify-pin sign --stdin --yes
sys_ok "the fifth wrong password (with --yes) blocks it: exit 6" \
    eval 'rc_is block-5 6 && tries sign 0'
n=$(verify_count)
t_in blocked NEWPASS7 verify-pin sign --stdin
sys_ok "verify-pin on a blocked password: exit 6, nothing sent" \
    eval 'rc_is blocked 6 && [ "$(verify_count)" = "$n" ]'
sys_ok "  it says only the municipal office can unblock it" err_has blocked "municipal office"

# ---- usage, no card ----
t usage verify-pin nothing
sys_ok "verify-pin with an unknown PIN name: exit 2" rc_is usage 2
t usage2 change-pin
sys_ok "change-pin without a PIN name: exit 2" rc_is usage2 2
sys_stop_emu
t_in nocard "$AUTH" verify-pin auth --stdin
sys_ok "verify-pin without a card: exit 4" rc_is nocard 4

sys_done
