#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Logging in to the computer with the card: Debian's pam_p11 (libpam-p11)
# with mynacard-auth-pkcs11.so, driven by pamtester.  A PAM service
# `auth required pam_p11.so MODULE`; a local user whose
# ~/.eid/authorized_certificates holds the card's authentication
# certificate (PEM), as pam_p11 reads it.  `pamtester SERVICE USER
# authenticate` with the PIN on its standard input succeeds with the right
# PIN, fails with a wrong one (one try spent, no more), and fails with
# another card in the reader (its certificate is not the user's), no try
# spent.  The user, the service and the home exist only in the test's
# private mount namespace (lib.sh): /etc/passwd, /etc/group and /etc/pam.d
# are bind-mounted copies; the machine's own are never touched.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

PAM_P11=/lib/x86_64-linux-gnu/security/pam_p11.so
mc_need pamtester openssl timeout mount
[ -e "$PAM_P11" ] || sys_skip "pam_p11 (libpam-p11) is missing ($PAM_P11)"
mc_need_module MYNACARD_AUTH_MODULE
MOD=$MYNACARD_AUTH_MODULE

sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN"
OTHER="$SYS_WORK/other-card"
sys_card_init "$OTHER" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN"
sys_start_pcscd
sys_start_emu "$CARD"

# ---- a user and a PAM service, in this namespace only ----
USERNAME=mynacard-pam-test
UHOME="$SYS_WORK/user-home"
mkdir -p "$UHOME/.eid" "$SYS_WORK/pam.d"
cp /etc/passwd "$SYS_WORK/passwd"
cp /etc/group "$SYS_WORK/group"
echo "$USERNAME:x:4242:4242:mynacard PAM test:$UHOME:/bin/sh" >>"$SYS_WORK/passwd"
echo "$USERNAME:x:4242:" >>"$SYS_WORK/group"
echo "auth required $PAM_P11 $MOD" >"$SYS_WORK/pam.d/mynacard-test"
mount --bind "$SYS_WORK/passwd" /etc/passwd &&
    mount --bind "$SYS_WORK/group" /etc/group &&
    mount --bind "$SYS_WORK/pam.d" /etc/pam.d ||
    sys_skip "cannot bind-mount over /etc/passwd, /etc/group, /etc/pam.d"
cp "$CARD/auth.crt.pem" "$UHOME/.eid/authorized_certificates"
chown -R 4242:4242 "$UHOME"
chmod 700 "$UHOME" "$UHOME/.eid"
sys_log "user $USERNAME, home $UHOME; /etc/pam.d/mynacard-test: $(cat /etc/pam.d/mynacard-test)"

# pam PIN: pamtester with the PIN on standard input.
pam() {
    local rc
    printf '%s\n' "$1" | timeout 120 pamtester -v mynacard-test "$USERNAME" \
        authenticate >"$SYS_WORK/out" 2>&1
    rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

sys_ok "pamtester mynacard-test $USERNAME authenticate, the right PIN: success" \
    pam "$MC_AUTH_PIN"
sys_ok "  pamtester says so" grep -q "successfully authenticated" "$SYS_WORK/out"
sys_ok "  the PIN reached the card once; 3 tries left" \
    eval '[ "$(verify_count)" = 1 ] && tries auth 3'

v0=$(verify_count)
sys_ok "a wrong PIN: authentication fails" sys_not pam 9999
sys_ok "  one try spent, one VERIFY (2 left)" \
    eval '[ "$(( $(verify_count) - v0 ))" = 1 ] && tries auth 2'
sys_ok "the right PIN again: success, 3 tries left" \
    eval 'pam "$MC_AUTH_PIN" && tries auth 3'

# ---- another card in the reader ----
sys_stop_emu
sys_start_emu "$OTHER"
CARD_SAVED=$CARD
CARD=$OTHER
sys_ok "another card (not the user's certificate): authentication fails" \
    sys_not pam "$MC_AUTH_PIN"
sys_ok "  that card keeps its 3 tries" tries auth 3
CARD=$CARD_SAVED

sys_done
