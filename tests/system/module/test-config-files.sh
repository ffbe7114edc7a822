#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Where the module's settings come from, seen through pkcs11-tool
# --list-mechanisms on the authentication token (the pss key decides
# whether RSA-PSS is listed): the system's file
# (SYSCONFDIR/mynacard/mynacard.conf, SYSCONFDIR as this build has it),
# then the user's ($XDG_CONFIG_HOME/mynacard/mynacard.conf, else
# ~/.config/mynacard/mynacard.conf), whose keys win; MYNACARD_CONF names
# one file instead of both.  SYSCONFDIR is replaced by a directory of the
# test's own with a bind mount, inside the test's private mount namespace
# (lib.sh): the machine's own files are never touched.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need pkcs11-tool timeout
mc_need_module MYNACARD_AUTH_MODULE
MOD=$MYNACARD_AUTH_MODULE
SYSCONF=$(sed -n 's/^#define MYNACARD_SYSCONFDIR "\(.*\)"$/\1/p' \
    "${MYNACARD_BUILD_ROOT:?}/config.h")
[ -n "$SYSCONF" ] || sys_fail "no MYNACARD_SYSCONFDIR in the build's config.h"
[ -d "$SYSCONF" ] || sys_skip "$SYSCONF does not exist here (nothing to mount over)"

mc_start_card

mkdir -p "$SYS_WORK/sysconf/mynacard"
mount --bind "$SYS_WORK/sysconf" "$SYSCONF" ||
    sys_skip "cannot bind-mount over $SYSCONF"
SYSFILE=$SYSCONF/mynacard/mynacard.conf
USERFILE=$HOME/.config/mynacard/mynacard.conf
mkdir -p "$(dirname "$USERFILE")"
unset MYNACARD_CONF XDG_CONFIG_HOME

# pss_listed / pss_absent: the authentication token's mechanisms (the
# listing itself must work) with or without CKM_RSA_PKCS_PSS.
pss_listed() {
    p11m "$MOD" --list-mechanisms && out_has "SHA256-RSA-PKCS," &&
        out_has "RSA-PKCS-PSS"
}
pss_absent() {
    p11m "$MOD" --list-mechanisms && out_has "SHA256-RSA-PKCS," &&
        out_lacks "RSA-PKCS-PSS"
}

# with_env NAME VALUE COMMAND...: COMMAND in a subshell with NAME=VALUE.
with_env() {
    local k=$1 v=$2
    shift 2
    ( export "$k=$v"; "$@" )
}

sys_ok "no file: no RSA-PSS (the default)" pss_absent
echo 'pss = true' >"$SYSFILE"
sys_ok "the system's file says pss = true: listed" pss_listed
sys_ok "  with SHA256-RSA-PKCS-PSS too" out_has "SHA256-RSA-PKCS-PSS"
echo 'pss = false' >"$USERFILE"
sys_ok "the user's file says pss = false: the user wins, not listed" \
    pss_absent
printf '# mine\nreaders = Virtual\n' >"$USERFILE"
sys_ok "the user's file does not set pss: the system's counts, listed" pss_listed
echo 'pss = false' >"$SYSFILE"
echo 'pss = true' >"$USERFILE"
sys_ok "system false, user true: listed" pss_listed
mkdir -p "$SYS_WORK/xdg/mynacard"
echo 'pss = false' >"$SYS_WORK/xdg/mynacard/mynacard.conf"
sys_ok "XDG_CONFIG_HOME names the user's directory: its file counts, not listed" \
    with_env XDG_CONFIG_HOME "$SYS_WORK/xdg" pss_absent
: >"$SYS_WORK/one.conf"
sys_ok "MYNACARD_CONF names one file instead of both: not listed" \
    with_env MYNACARD_CONF "$SYS_WORK/one.conf" pss_absent

sys_done
