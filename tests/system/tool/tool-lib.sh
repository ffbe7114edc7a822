# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Helpers of mynacard-tool's system tests (tests/system/tool/test-*.sh),
# sourced after tests/system/lib.sh: running the tool with its output,
# errors and exit status kept under a name in $SYS_WORK, reading its JSON
# with python3 (the card's tries and VERIFY commands: lib.sh), two
# Firefox profiles, and a terminal for the PIN prompts: a tmux server of the
# test's own (its socket in $SYS_WORK), driven with send-keys and read
# with capture-pane, so that what a person would see can be checked.
#
# Environment: MYNACARD_TOOL (the program), MYNACARD_MODULE_DIR (the
# built modules; the tool reads it too).

# tool_need: skip unless the tool was built.
tool_need() {
    [ -n "${MYNACARD_TOOL:-}" ] && [ -x "$MYNACARD_TOOL" ] ||
        sys_skip "MYNACARD_TOOL is not set or not built"
}

# t NAME [ARGS...]: run the tool, stdin from /dev/null unless T_IN names
# a file; $SYS_WORK/NAME.out, NAME.err, NAME.rc; both shown as comments.
t() {
    local name=$1 rc
    shift
    # setsid: no controlling terminal, so a PIN prompt can never wait
    # for a person even when the test runs from one.
    setsid -w timeout 120 "$MYNACARD_TOOL" "$@" <"${T_IN:-/dev/null}" \
        >"$SYS_WORK/$name.out" 2>"$SYS_WORK/$name.err"
    rc=$?
    echo "$rc" >"$SYS_WORK/$name.rc"
    echo "#   \$ mynacard-tool $* -> exit $rc"
    if [ -s "$SYS_WORK/$name.out" ] && ! grep -Iq . "$SYS_WORK/$name.out"; then
        echo "#   | (binary, $(stat -c %s "$SYS_WORK/$name.out") bytes)"
    else
        sed 's/^/#   | /' "$SYS_WORK/$name.out" | head -n 60
    fi
    sed 's/^/#   ! /' "$SYS_WORK/$name.err" | head -n 20
    return 0
}

# t_in NAME TEXT [ARGS...]: the same with TEXT (lines) on stdin.
t_in() {
    local name=$1 text=$2
    shift 2
    printf '%s\n' "$text" >"$SYS_WORK/$name.in"
    T_IN="$SYS_WORK/$name.in" t "$name" "$@"
}

rc_is() {
    [ "$(cat "$SYS_WORK/$1.rc")" = "$2" ]
}

has() {
    grep -qF -- "$2" "$SYS_WORK/$1.out"
}

lacks() {
    ! grep -qF -- "$2" "$SYS_WORK/$1.out"
}

err_has() {
    grep -qF -- "$2" "$SYS_WORK/$1.err"
}

# json_ok NAME: NAME.out is one JSON document.
json_ok() {
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$SYS_WORK/$1.out"
}

# jq_is NAME EXPR VALUE: python's str() of EXPR over the document `d`.
jq_is() {
    local got
    got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$SYS_WORK/$1.out" "$2" 2>&1)
    echo "#   $2 = $got (want $3)"
    [ "$got" = "$3" ]
}

# tool_ff_profiles [install]: two Firefox profiles under $HOME, as the
# browser writes profiles.ini: $P1 (relative, the default) and $P2 (an
# absolute path); with "install", an [Install...] section first, as
# Firefox 67 and later write.  FF is the profiles' directory.
tool_ff_profiles() {
    FF="$HOME/.mozilla/firefox"
    P1="$FF/abcd1234.default-esr"
    P2="$SYS_WORK/elsewhere/profile2"
    mkdir -p "$P1" "$P2"
    {
        if [ "${1:-}" = install ]; then
            printf '[Install3B6073811A6ABF12]\nDefault=abcd1234.default-esr\nLocked=1\n\n'
        fi
        cat <<EOF
[Profile1]
Name=other
IsRelative=0
Path=$P2

[Profile0]
Name=default-esr
IsRelative=1
Path=abcd1234.default-esr
Default=1

[General]
StartWithLastProfile=1
Version=2
EOF
    } >"$FF/profiles.ini"
}

# ---- a terminal (tmux) ----
TM_SOCK=""

# tm_run CMD: run the shell command CMD in a new 200x50 terminal; when
# it ends, "EXIT=<status>" is printed and the pane stays open.
tm_run() {
    command -v tmux >/dev/null || sys_skip "tmux is missing"
    TM_SOCK="$SYS_WORK/tmux.sock"
    tmux -S "$TM_SOCK" kill-server 2>/dev/null || true
    tmux -S "$TM_SOCK" -f /dev/null new-session -d -s t -x 200 -y 50 \
        "$1; echo EXIT=\$?; sleep 3600"
    # The server is stopped by PID with everything else at exit.
    sys_track "$(tmux -S "$TM_SOCK" display-message -p '#{pid}')"
}

tm_screen() {
    tmux -S "$TM_SOCK" capture-pane -p -t t -S -100
}

# tm_wait_line REGEX [SECONDS]: a whole line of the screen matches.
tm_wait_line() {
    local re=$1 secs=${2:-30}
    for _ in $(seq $((secs * 10))); do
        tm_screen | grep -Eq -- "$re" && return 0
        sleep 0.1
    done
    echo "# the terminal never showed /$re/:"
    tm_screen | sed 's/^/#   > /'
    return 1
}

# tm_type TEXT: type TEXT and Return.
tm_type() {
    tmux -S "$TM_SOCK" send-keys -t t -l -- "$1"
    tmux -S "$TM_SOCK" send-keys -t t Enter
}

# tm_exit: wait for the command to end; prints its exit status.
tm_exit() {
    tm_wait_line '^EXIT=[0-9]+$' 60 >/dev/null || { echo none; return; }
    tm_screen | sed -n 's/^EXIT=\([0-9]*\)$/\1/p' | tail -n 1
}

# tm_save NAME: the screen into $SYS_WORK/NAME.screen, shown as comments.
tm_save() {
    tm_screen >"$SYS_WORK/$1.screen"
    sed -e '/^$/d' -e 's/^/#   > /' "$SYS_WORK/$1.screen"
}

tm_stop() {
    [ -n "$TM_SOCK" ] && tmux -S "$TM_SOCK" kill-server 2>/dev/null
    TM_SOCK=""
    return 0
}
