# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Shell library of the system tests: a private pcscd with vsmartcard's vpcd
# reader, and the virtual card (mynacard-emu run) in it, for one test.
# Sourced by tests/system/test-*.sh, which then call the sys_* functions.
# The test re-executes itself inside its own mount namespace (unshare -m)
# with a tmpfs on /run/pcscd, because pcscd 1.9.9 always uses
# /run/pcscd/pcscd.comm; its readers come from a private reader.conf.d
# given with `pcscd -c DIR` (pcscd 1.9.9 takes a directory there and reads
# only it), so the test's vpcd port is its own and a system pcscd is never
# touched.  Every process it starts is stopped by its PID on exit.  Skips
# (exit 77) when not root, or when pcscd, the vpcd driver, unshare or
# opensc-tool are missing.
#
# Environment: SYS_PRIVATE_NET=1 adds a network namespace of its own
# (unshare -n, only lo, up), MYNACARD_EMU (the mynacard-emu program, required),
# MYNACARD_TEST_TMP (where work directories go; default /tmp), SYS_KEEP=1
# to keep the work directory after a passing run, and SYS_SKIP_STATUS: the
# exit status of a skip, 77 by default (meson's skip for protocol
# 'exitcode'); a test registered with protocol 'tap' sets it to 0, since
# meson's TAP parser takes the "1..0 # SKIP" plan as the skip and calls
# exit status 77 an error.  SYS_WRAP: words put before the tests' own
# programs that load the module (faults-driver, test-pcsc-transport), as
# CI does with valgrind; split on spaces, so no path in it may have one.
# MYNACARD_REPORTS_DIR: the directory a checker's report files go to
# (the test setups in meson.build), created here.

SYS_SKIP=${SYS_SKIP_STATUS:-77}

# MYNACARD_REPORTS_DIR: where a checker's report files go (the valgrind and
# ASan test setups, meson.build); made here so that a stage runs alone.
if [ -n "${MYNACARD_REPORTS_DIR:-}" ]; then
    mkdir -p "$MYNACARD_REPORTS_DIR"
fi
SYS_VPCD_DRIVER=${SYS_VPCD_DRIVER:-/usr/lib/pcsc/drivers/serial/libifdvpcd.so}

# Skipping prints a TAP plan that says so, and exits $SYS_SKIP.
sys_skip() {
    echo "1..0 # SKIP $*"
    exit "$SYS_SKIP"
}

sys_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

sys_log() {
    echo "# $*"
}

# Enter the namespace first: everything below runs inside it.
if [ -z "${SYS_IN_NAMESPACE:-}" ]; then
    [ "$(id -u)" = 0 ] || sys_skip "system tests need root (a mount namespace for pcscd)"
    command -v pcscd >/dev/null || sys_skip "pcscd is not installed"
    [ -e "$SYS_VPCD_DRIVER" ] || sys_skip "vsmartcard-vpcd is not installed ($SYS_VPCD_DRIVER)"
    command -v unshare >/dev/null || sys_skip "unshare (util-linux) is missing"
    command -v opensc-tool >/dev/null || sys_skip "opensc-tool (opensc) is missing"
    command -v python3 >/dev/null || sys_skip "python3 is missing (port selection)"
    if [ -z "${MYNACARD_EMU:-}" ] || [ ! -x "$MYNACARD_EMU" ]; then
        sys_fail "MYNACARD_EMU must name the mynacard-emu program"
    fi
    unshare -m --propagation private true 2>/dev/null ||
        sys_skip "cannot create a mount namespace here"
    export SYS_IN_NAMESPACE=1
    if [ -n "${SYS_PRIVATE_NET:-}" ]; then
        # A network of its own too (only lo): the test may then give
        # names of its own in a hosts file (sys_hosts) and listen on any
        # port without meeting another checkout's tests.
        command -v ip >/dev/null || sys_skip "ip (iproute2) is missing"
        unshare -m -n true 2>/dev/null ||
            sys_skip "cannot create a network namespace here"
        exec unshare -m -n --propagation private "${BASH:-bash}" "$0" "$@"
    fi
    exec unshare -m --propagation private "${BASH:-bash}" "$0" "$@"
fi
if [ -n "${SYS_PRIVATE_NET:-}" ]; then
    ip link set lo up || sys_fail "ip link set lo up"
fi

set -u

SYS_PIDS=""          # everything started, for the exit trap
SYS_PCSCD_PID=""
SYS_EMU_PID=""
SYS_WORK=""
SYS_PORT=""
SYS_READER=""        # the vpcd reader of SYS_PORT

# 0 if @pid runs (a child that exited but is not yet reaped is a zombie,
# which kill -0 still finds: /proc says which it is).
sys_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# Stop @pid (TERM, then KILL after 5 s) and reap it.
sys_kill() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        sys_alive "$pid" || break
        sleep 0.1
    done
    # Either may fail (the process is gone, or not our child): fine, and
    # safe under `set -e` in the scripts that source this file.
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 0
}

# sys_reap PID TENTHS: give @pid that many tenths of a second to leave by
# itself (a browser asked to quit, a server started for N connections),
# then stop it (sys_kill) and forget it.
sys_reap() {
    local pid=$1 n=$2
    for _ in $(seq "$n"); do
        sys_alive "$pid" || break
        sleep 0.1
    done
    sys_kill "$pid"
    sys_untrack "$pid"
}

# sys_poll TENTHS CMD...: run CMD every tenth of a second until it
# succeeds, at most TENTHS times; 1 if it never did.
sys_poll() {
    local n=$1
    shift
    for _ in $(seq "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

sys_cleanup() {
    local rc=$? pid rev=""
    trap - EXIT
    # Newest first: the card leaves before its reader.
    for pid in $SYS_PIDS; do
        rev="$pid $rev"
    done
    for pid in $rev; do
        sys_kill "$pid"
    done
    if [ "$rc" != 0 ] && [ "$rc" != "$SYS_SKIP" ] && [ -n "$SYS_WORK" ]; then
        # As TAP comments, so that meson's TAP parser lets them through.
        {
            echo "---- pcscd log (last 60 lines) ----"
            tail -n 60 "$SYS_WORK/pcscd.log" 2>/dev/null
            echo "---- mynacard-emu logs (last 30 lines each) ----"
            tail -n 30 "$SYS_WORK"/emu*.log 2>/dev/null
            echo "---- work directory kept: $SYS_WORK ----"
        } | sed 's/^/# /'
    elif [ -n "$SYS_WORK" ] && [ -z "${SYS_KEEP:-}" ]; then
        rm -rf "$SYS_WORK"
    fi
    exit "$rc"
}
trap sys_cleanup EXIT
trap 'exit 130' INT TERM

sys_track() {
    SYS_PIDS="$SYS_PIDS $1"
}

sys_untrack() {
    local p out=""
    for p in $SYS_PIDS; do
        [ "$p" = "$1" ] || out="$out $p"
    done
    SYS_PIDS=$out
}

# A port P with P and P+1 free on loopback: vpcd listens on one port per
# slot, from the configured one up.  Tests of other checkouts may run at
# the same time in the same network namespace, so pick at random.
sys_free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000, 2)
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p)
        break
EOF
}

# sys_hosts NAME...: these names are 127.0.0.1 in this namespace only (a
# hosts file of the test's own, bind-mounted over /etc/hosts).  Needs
# SYS_PRIVATE_NET=1, so that no other program's 127.0.0.1 is meant.
sys_hosts() {
    [ -n "${SYS_PRIVATE_NET:-}" ] || sys_fail "sys_hosts needs SYS_PRIVATE_NET=1"
    { echo "127.0.0.1 localhost $*"; echo "::1 localhost"; } >"$SYS_WORK/hosts"
    mount --bind "$SYS_WORK/hosts" /etc/hosts || sys_skip "cannot bind-mount over /etc/hosts"
}

# Make the work directory and the private pcscd's configuration.
sys_setup() {
    local name base
    name=$(basename "$0" .sh)
    base=${MYNACARD_TEST_TMP:-/tmp}
    mkdir -p "$base"
    SYS_WORK=$(mktemp -d "$base/$name.XXXXXX") || sys_fail "mktemp"
    # OpenSC caches card files under $HOME, keyed by a serial number that
    # is the same dummy for every JPKI card: give each test a fresh home.
    export HOME="$SYS_WORK/home"
    export XDG_CACHE_HOME="$HOME/.cache"
    mkdir -p "$HOME" "$SYS_WORK/reader.conf.d"
    SYS_PORT=$(sys_free_port)
    [ -n "$SYS_PORT" ] || sys_fail "no free port pair"
    cat >"$SYS_WORK/reader.conf.d/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$SYS_PORT
LIBPATH      $SYS_VPCD_DRIVER
CHANNELID    $SYS_PORT
EOF
    # The reader of the first slot (pcscd numbers readers "NN SS").
    SYS_READER="Virtual PCD 00 00"
    export SYS_WORK SYS_PORT SYS_READER
    sys_log "work directory $SYS_WORK, vpcd port $SYS_PORT"
}

# sys_start_xvfb [Xvfb options]: a private X display (1280x1024x24, no
# TCP), tracked; DISPLAY names it.
sys_start_xvfb() {
    Xvfb -displayfd 5 -nolisten tcp -screen 0 1280x1024x24 "$@" \
        5>"$SYS_WORK/xvfb.display" >"$SYS_WORK/xvfb.log" 2>&1 &
    SYS_XVFB_PID=$!
    sys_track "$SYS_XVFB_PID"
    sys_poll 100 test -s "$SYS_WORK/xvfb.display" || sys_fail "Xvfb did not start"
    export DISPLAY=":$(head -n 1 "$SYS_WORK/xvfb.display")"
    sys_log "Xvfb on $DISPLAY"
}

# Start a private pcscd (foreground, APDUs and debug to pcscd.log).
sys_start_pcscd() {
    mkdir -p /run/pcscd
    mount -t tmpfs -o mode=0755 tmpfs /run/pcscd ||
        sys_skip "cannot mount a tmpfs on /run/pcscd"
    pcscd -f -a -d -c "$SYS_WORK/reader.conf.d" >>"$SYS_WORK/pcscd.log" 2>&1 &
    SYS_PCSCD_PID=$!
    SYS_PCSCD=$(command -v pcscd)
    sys_track "$SYS_PCSCD_PID"
    export SYS_PCSCD_PID SYS_PCSCD
    for _ in $(seq 100); do
        [ -S /run/pcscd/pcscd.comm ] && opensc-tool -l 2>/dev/null |
            grep -q "$SYS_READER" && return 0
        kill -0 "$SYS_PCSCD_PID" 2>/dev/null || sys_fail "pcscd died at start"
        sleep 0.1
    done
    sys_fail "pcscd did not show the vpcd reader"
}

# Stop the private pcscd.
sys_stop_pcscd() {
    sys_kill "$SYS_PCSCD_PID"
    sys_untrack "$SYS_PCSCD_PID"
    SYS_PCSCD_PID=""
}

# sys_card_init DIR [mynacard-emu init options]: a new virtual card.
sys_card_init() {
    local dir=$1
    shift
    "$MYNACARD_EMU" init "$dir" "$@" >"$SYS_WORK/init.log" 2>&1 ||
        { cat "$SYS_WORK/init.log"; sys_fail "mynacard-emu init"; }
}

# 0 if the test's reader shows a card, 1 if not.
sys_card_present() {
    opensc-tool -l 2>/dev/null | grep -Eq "^[0-9]+ +Yes +.*$SYS_READER\$"
}

# sys_wait_card present|absent [seconds]
sys_wait_card() {
    local want=$1 secs=${2:-60}
    for _ in $(seq $((secs * 10))); do
        if sys_card_present; then
            [ "$want" = present ] && return 0
        else
            [ "$want" = absent ] && return 0
        fi
        sleep 0.1
    done
    sys_fail "the card is not $want in '$SYS_READER' after ${secs}s"
}

# sys_start_emu DIR [mynacard-emu run options]: insert the card and wait
# until pcscd sees it.
sys_start_emu() {
    local dir=$1
    shift
    rm -f "$SYS_WORK/emu.ready"
    "$MYNACARD_EMU" run "$dir" --port "$SYS_PORT" \
        --ready-file "$SYS_WORK/emu.ready" \
        --log "$SYS_WORK/emu-apdu.log" "$@" >>"$SYS_WORK/emu.log" 2>&1 &
    SYS_EMU_PID=$!
    sys_track "$SYS_EMU_PID"
    export SYS_EMU_PID
    for _ in $(seq 200); do
        [ -e "$SYS_WORK/emu.ready" ] && break
        kill -0 "$SYS_EMU_PID" 2>/dev/null ||
            { cat "$SYS_WORK/emu.log"; sys_fail "mynacard-emu run died"; }
        sleep 0.1
    done
    [ -e "$SYS_WORK/emu.ready" ] || sys_fail "mynacard-emu never reached vpcd"
    sys_wait_card present
}

# Remove the card: stop mynacard-emu and wait until pcscd sees no card.
sys_stop_emu() {
    sys_kill "$SYS_EMU_PID"
    sys_untrack "$SYS_EMU_PID"
    SYS_EMU_PID=""
    sys_wait_card absent
}

# tries ROLE N: the virtual card keeps N tries for ROLE (auth or sign).
# mynacard-emu writes DIR/card.state on every change, so this reads it
# while the card is in the reader too.  Needs $CARD.
tries() {
    local got
    got=$("$MYNACARD_EMU" status "$CARD" | awk -v k="$1-tries" '$1 == k { print $2 }')
    echo "#   $1 tries left on the card: $got (want $2)"
    [ "$got" = "$2" ]
}

# How many VERIFY commands carrying a PIN the card has received so far
# (the APDU log redacts their data: "> 00 20 00 80 [data redacted]").
verify_count() {
    local n
    n=$(grep -c '^> 00 20 00 80 \[data redacted\]' "$SYS_WORK/emu-apdu.log" 2>/dev/null)
    echo "${n:-0}"
}

# TAP helpers: sys_ok DESCRIPTION COMMAND... runs the command.
SYS_TAP_N=0
SYS_TAP_FAILED=0

sys_ok() {
    local desc=$1
    shift
    SYS_TAP_N=$((SYS_TAP_N + 1))
    if "$@"; then
        echo "ok $SYS_TAP_N - $desc"
    else
        echo "not ok $SYS_TAP_N - $desc"
        SYS_TAP_FAILED=$((SYS_TAP_FAILED + 1))
    fi
}

# sys_not COMMAND...: succeeds when the command fails (for sys_ok).
sys_not() {
    ! "$@"
}

# End of the test: the plan line, and the exit status.
sys_done() {
    echo "1..$SYS_TAP_N"
    [ "$SYS_TAP_FAILED" = 0 ] || exit 1
    exit 0
}
