# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Helpers of the fault system tests (tests/system/faults/test-*.sh),
# sourced after tests/system/lib.sh and tests/system/module/common.sh:
# running faults-driver (FAULTS_DRIVER) against a module with a time
# limit, reading its RESULT and SUMMARY lines, the CKRs a fault may give,
# the card's VERIFY commands per run from the virtual card's APDU log, and
# "another program" on the reader through pcsc-raw (a reset, a SELECT
# of another application, a COMPUTE DIGITAL SIGNATURE that must be refused).

# What a call may answer when the card went away, was reset, or said
# something the module cannot trust (PKCS#11 2.40, 5.1 and 5.6): anything
# but a wrong success.
FT_FAULT_RVS="CKR_DEVICE_REMOVED CKR_DEVICE_ERROR CKR_TOKEN_NOT_PRESENT
CKR_SESSION_HANDLE_INVALID CKR_SESSION_CLOSED CKR_USER_NOT_LOGGED_IN
CKR_TOKEN_NOT_RECOGNIZED CKR_FUNCTION_FAILED CKR_KEY_HANDLE_INVALID"
# (faults-driver says CKR_KEY_HANDLE_INVALID at stage "key" when C_Login
# succeeded but the token shows no private key: the card went away or was
# reset after the VERIFY, before the signature certificate was read.)

ft_need_driver() {
    [ -n "${FAULTS_DRIVER:-}" ] && [ -x "$FAULTS_DRIVER" ] ||
        sys_skip "FAULTS_DRIVER is not built"
}

# ft_begin: what most fault tests start with: skip unless the driver and
# the module (MYNACARD_MODULE, in $MOD) were built, then mc_new_card
# (module/common.sh): the card in $CARD, not inserted yet.
ft_begin() {
    ft_need_driver
    mc_need_module MYNACARD_MODULE
    MOD=$MYNACARD_MODULE
    mc_new_card
}

# ft_restart_emu [mynacard-emu run options]: take the card out if it is in,
# empty its APDU log, and insert it with these options.
ft_restart_emu() {
    if [ -n "${SYS_EMU_PID:-}" ]; then
        sys_kill "$SYS_EMU_PID"
        sys_untrack "$SYS_EMU_PID"
        SYS_EMU_PID=""
        sys_wait_card absent
    fi
    : >"$SYS_WORK/emu-apdu.log"
    sys_start_emu "$CARD" "$@"
}

# ft_pause_start: faults-driver logs in to the authentication token of
# $MOD and pauses before C_Sign until $SYS_WORK/go appears; in the
# background ($drv, output "between", see ft_run); this returns once it
# pauses (at most 60 s).
ft_pause_start() {
    rm -f "$SYS_WORK/pause" "$SYS_WORK/go"
    ft_run between 120 "$MOD" pause-sign auth "$MC_AUTH_PIN" \
        "$SYS_WORK/pause" "$SYS_WORK/go" &
    drv=$!
    sys_poll 600 test -e "$SYS_WORK/pause" || true
}

# ft_loop_start [marked]: faults-driver signs in a loop on the
# authentication token of $MOD, in the background ($drv), its output in
# $SYS_WORK/loop.out, until $SYS_WORK/stop appears; it counts apart the
# signatures made once $SYS_WORK/mark is there (already, with "marked").
ft_loop_start() {
    rm -f "$SYS_WORK/stop" "$SYS_WORK/mark"
    [ "${1:-}" != marked ] || touch "$SYS_WORK/mark"
    ${SYS_WRAP:-} "$FAULTS_DRIVER" "$MOD" sign-loop auth "$MC_AUTH_PIN" \
        "$SYS_WORK/stop" "$SYS_WORK/mark" >"$SYS_WORK/loop.out" 2>&1 &
    drv=$!
    sys_track "$drv"
}

# ft_loop_stop LINES: stop that loop (at most 120 s to end by itself);
# $rc is its exit status, and the last LINES of its output are shown.
ft_loop_stop() {
    touch "$SYS_WORK/stop"
    timeout 120 tail --pid="$drv" -f /dev/null
    wait "$drv"
    rc=$?
    sys_untrack "$drv"
    sed 's/^/#   /' "$SYS_WORK/loop.out" | tail -n "$1"
}

# ft_run NAME SECONDS MODULE ARGS...: run the driver, output in
# $SYS_WORK/NAME.out (shown as TAP comments); FT_RC is its exit status
# (124: it hung and timeout stopped it).
ft_run() {
    local name=$1 secs=$2
    shift 2
    # shellcheck disable=SC2086  # SYS_WRAP is words (lib.sh)
    timeout -k 5 "$secs" ${SYS_WRAP:-} "$FAULTS_DRIVER" "$@" \
        >"$SYS_WORK/$name.out" 2>&1
    FT_RC=$?
    sed 's/^/#   /' "$SYS_WORK/$name.out"
    return 0
}

# ft_field NAME KEY [N]: KEY's value on the Nth (default last) RESULT line.
ft_field() {
    local n=${3:-0}
    awk -v k="$2" -v n="$n" '
        /^RESULT / { i++; for (f = 2; f <= NF; f++) { split($f, kv, "=");
                     if (kv[1] == k) v[i] = kv[2] } }
        END { print (n == 0 ? v[i] : v[n]) }' "$SYS_WORK/$1.out"
}

# ft_summary NAME KEY: KEY's value on the SUMMARY line.
ft_summary() {
    awk -v k="$2" '/^SUMMARY / { for (f = 2; f <= NF; f++) {
        split($f, kv, "="); if (kv[1] == k) print kv[2] } }' "$SYS_WORK/$1.out"
}

# ft_ok_or_fault NAME [N]: the run ended normally (no crash, no hang),
# and its RESULT is either a verified signature or a fault's CKR with no
# signature at all.
ft_ok_or_fault() {
    local rv sig stage
    [ "$FT_RC" = 0 ] || { echo "#   exit status $FT_RC"; return 1; }
    rv=$(ft_field "$1" rv "${2:-0}")
    sig=$(ft_field "$1" sig "${2:-0}")
    stage=$(ft_field "$1" stage "${2:-0}")
    if [ "$rv" = CKR_OK ]; then
        [ "$stage" = done ] && [ "$sig" = ok ] && return 0
        echo "#   CKR_OK at stage $stage with sig=$sig"
        return 1
    fi
    [ "$sig" = none ] || { echo "#   $rv with sig=$sig"; return 1; }
    case " $(echo $FT_FAULT_RVS) " in
    *" $rv "*) return 0 ;;
    esac
    # A garbled answer to a VERIFY may read as a verdict (random bytes
    # once made 63Cx of a correct PIN's 9000): the module can only believe
    # it.  Accepted when the card's last answer to a VERIFY with a PIN
    # does say so; that no PIN stays verified after it is checked in
    # test-faults-no-pin-left.sh.
    case "$rv:$(ft_last_verify_answer)" in
    CKR_PIN_INCORRECT:"63 C"[1-9A-F] | CKR_PIN_LOCKED:"63 C0" | \
        CKR_PIN_LOCKED:"69 8"[34])
        echo "#   $rv: the corrupted answer to the VERIFY reads so"
        return 0 ;;
    esac
    echo "#   $rv at stage $stage is not a fault's CKR"
    return 1
}

# ft_last_verify_answer: the answer to the last VERIFY with a PIN in the
# APDU log, as logged ("63 C2").
ft_last_verify_answer() {
    awk '/^> 00 20 00 80 \[data redacted\]/ { v = 1; next }
         v && /^< / { a = substr($0, 3); v = 0 }
         END { print a }' "$SYS_WORK/emu-apdu.log" 2>/dev/null
}

# ft_verifies: VERIFY commands carrying a PIN in the APDU log so far.
ft_verifies() {
    grep -c '^> 00 20 00 80 \[data redacted\]' "$SYS_WORK/emu-apdu.log" \
        2>/dev/null || true
}

# ft_apdus: commands in the APDU log so far.
ft_apdus() {
    grep -c '^> ' "$SYS_WORK/emu-apdu.log" 2>/dev/null || true
}

# ft_reader: opensc-tool's number of the test's reader.
ft_reader() {
    timeout 30 opensc-tool -l 2>/dev/null | awk -v r="$SYS_READER" '
        index($0, r) { print $1; exit }'
}

# ft_steps FIRST LAST: the N of a loop that puts a fault at every step of
# a scenario: all of them, or, with FT_STRIDE set, every FT_STRIDE-th from
# FIRST + FT_OFFSET and always the last three (the signature, which ends
# every scenario, is only a few steps long).  The default run (the strict
# card) covers every N; the reruns on the other card profiles and under
# the sanitizers sample, each profile at another offset.
ft_steps() {
    local stride=${FT_STRIDE:-1} off=${FT_OFFSET:-0} tail
    tail=$(($2 - 2))
    [ "$tail" -ge "$1" ] || tail=$1
    { seq $(($1 + off)) "$stride" "$2"; seq "$tail" "$2"; } | sort -n | uniq
}

# ft_other APDU...: another program sends these APDUs in one connection
# (pcsc-raw: raw PC/SC, no card driver); its output in $SYS_WORK/other.out.
ft_other() {
    timeout 60 "$PCSC_RAW" "$SYS_READER" "$@" >"$SYS_WORK/other.out" 2>&1
}

# ft_other_reset: another program resets the card (a warm reset).
ft_other_reset() {
    timeout 60 "$PCSC_RAW" "$SYS_READER" --reset >"$SYS_WORK/other.out" 2>&1
}

FT_SELECT_JPKI=00A4040C0AD392F000260100000001
FT_SELECT_OTHER=00A4040C0AD3921000310001010408   # card-info input support AP
FT_SELECT_AUTH_KEY=00A4020C020017
FT_SELECT_SIGN_KEY=00A4020C02001A
# COMPUTE DIGITAL SIGNATURE over a SHA-256 DigestInfo of 32 zero bytes.
FT_SIGN_APDU=802A008033$(printf '3031300d060960864801650304020105000420%064d' 0)00

# ft_no_pin_on_card ROLE: another program asks the card to sign with ROLE's
# key; the card refuses (69 82): no PIN of ROLE is verified on it.  When
# the card does not answer at all (a --reset-after fault firing on this
# program's own commands, or the card still away after one), it asks
# again once the card is back: a reset leaves no PIN either way, and only
# an answer to the signature command decides.
ft_no_pin_on_card() {
    local key=$FT_SELECT_AUTH_KEY
    [ "$1" = sign ] && key=$FT_SELECT_SIGN_KEY
    for _ in 1 2 3; do
        ft_other "$FT_SELECT_JPKI" "$key" "$FT_SIGN_APDU" || true
        sed 's/^/#   /' "$SYS_WORK/other.out" | tail -n 3
        [ "$(grep -c '^Received' "$SYS_WORK/other.out")" = 3 ] && break
        sleep 2
        sys_wait_card present
    done
    grep -q 'SW1=0x69, SW2=0x82' "$SYS_WORK/other.out"
}
