#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool doctor over a private pcscd and the virtual card, in a
# home of the test's own: it must name each problem with its fix and exit
# 1 (pcscd not running, no card, the module not registered with p11-kit
# or in a Firefox profile, the wrong module in Firefox, a spent PIN try,
# an expired certificate), state that TLS 1.3 needs RSA-PSS, off until
# `mynacard-tool check-pss --enable` (a note, not a failure), note the
# Firefox profiles capped at TLS 1.2, and say all is well (exit 0) once everything is set up
# with `mynacard-tool setup`.  Every --json output is parsed with python3.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
command -v modutil >/dev/null || sys_skip "modutil (libnss3-tools) is missing"
MOD=${MYNACARD_MODULE_DIR:?}
[ -e "$MOD/mynacard-auth-pkcs11.so" ] || sys_skip "the modules are not built in $MOD"

sys_setup
export MYNACARD_P11KIT_CONFIGS="$SYS_WORK/p11kit-installed"
export MYNACARD_P11KIT_USER_DIR="$SYS_WORK/p11kit-user"
mkdir -p "$MYNACARD_P11KIT_CONFIGS"
CARD="$SYS_WORK/card"
sys_card_init "$CARD"
CARD_EXP="$SYS_WORK/card-expired"
sys_card_init "$CARD_EXP" --not-before-days -400 --valid-days 30
FF="$HOME/.mozilla/firefox"
P1="$FF/xyz.default-esr"
mkdir -p "$P1"
printf '[Profile0]\nName=default\nIsRelative=1\nPath=xyz.default-esr\nDefault=1\n\n[General]\nVersion=2\n' \
    >"$FF/profiles.ini"
certutil -N -d "sql:$P1" --empty-password >/dev/null 2>&1 || sys_fail "certutil -N"

# line NAME TAG TEXT: a line "TAG ...TEXT..." of the output.
line() {
    grep -F -- "$2" "$SYS_WORK/$1.out" | grep -qF -- "$3"
}
# fix_after NAME TEXT FIX: the line with TEXT is followed by "fix: ...FIX...".
fix_after() {
    grep -A1 -F -- "$2" "$SYS_WORK/$1.out" | grep -E '^ +fix: ' | grep -qF -- "$3"
}
# status_of NAME CHECK: the statuses of CHECK in the JSON, sorted.
jstatus() {
    jq_is "$1" "sorted(set(c[\"status\"] for c in d[\"checks\"] if c[\"check\"] == \"$2\"))" "$3"
}

# ---- pcscd not running ----
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || sys_skip "cannot mount a tmpfs on /run/pcscd"
t nopcscd doctor
sys_ok "pcscd not running: exit 1" rc_is nopcscd 1
sys_ok "  [FAIL] pcscd, with its fix" \
    eval 'line nopcscd "[FAIL]" "pcscd is not running" && fix_after nopcscd "pcscd is not running" "systemctl enable --now pcscd.socket"'
t nopcscd-json doctor --json
sys_ok "  --json parses: pcscd fail, problems >= 1" \
    eval 'json_ok nopcscd-json && jstatus nopcscd-json pcscd "['"'"'fail'"'"']" &&
          jq_is nopcscd-json "d[\"problems\"] >= 1" True'

# ---- no card ----
sys_start_pcscd
t nocard doctor
sys_ok "no card: exit 1, [ ok ] pcscd, [FAIL] no card with its fix" \
    eval 'rc_is nocard 1 && line nocard "[ ok ]" "pcscd is running" &&
          line nocard "[FAIL]" "no card in" && fix_after nocard "no card in" "insert your My Number Card"'

# ---- a card, nothing registered ----
sys_start_emu "$CARD"
t unreg doctor
sys_ok "nothing registered: exit 1" rc_is unreg 1
sys_ok "  the card, its tries and certificate are fine" \
    eval 'line unreg "[ ok ]" "a JPKI card is in $SYS_READER" &&
          line unreg "[ ok ]" "authentication PIN has all its 3 tries" &&
          line unreg "[ ok ]" "authentication certificate is valid until"'
sys_ok "  p11-kit: not registered, fix: setup p11-kit" \
    eval 'line unreg "[warn]" "p11-kit (GnuTLS, OpenSSL, OpenSSH): the module is not registered" &&
          fix_after unreg "p11-kit (GnuTLS" "mynacard-tool setup p11-kit"'
sys_ok "  the Firefox profile: not registered, fix: setup firefox" \
    eval 'line unreg "[warn]" "Firefox profile: the module is not registered" &&
          fix_after unreg "Firefox profile: the module" "mynacard-tool setup firefox"'
sys_ok "  TLS 1.3's RSA-PSS, off, is stated with its fix (check-pss)" \
    eval 'line unreg "[note]" "TLS 1.3 needs RSA-PSS, which is off" &&
          fix_after unreg "TLS 1.3 needs RSA-PSS" "mynacard-tool check-pss"'
t unreg-json doctor --json
sys_ok "  --json parses: firefox and p11-kit warn, tls note" \
    eval 'json_ok unreg-json && jstatus unreg-json firefox "['"'"'warn'"'"']" &&
          jstatus unreg-json p11-kit "['"'"'warn'"'"']" && jstatus unreg-json tls "['"'"'note'"'"']"'

# ---- the wrong module in Firefox ----
modutil -dbdir "sql:$P1" -add "both" -libfile "$MOD/mynacard-pkcs11.so" -force >/dev/null 2>&1
t wrong doctor
sys_ok "the two-token module in Firefox: named, fix: setup firefox" \
    eval 'rc_is wrong 1 && line wrong "[warn]" "mynacard-pkcs11.so is registered instead of mynacard-auth-pkcs11.so" &&
          fix_after wrong "registered instead of" "mynacard-tool setup firefox"'

# ---- everything set up ----
for target in p11-kit firefox chromium libreoffice; do
    t "setup-$target" setup "$target"
done
sys_ok "setup p11-kit, firefox, chromium, libreoffice: all exit 0" \
    eval 'rc_is setup-p11-kit 0 && rc_is setup-firefox 0 && rc_is setup-chromium 0 && rc_is setup-libreoffice 0'
t good doctor
sys_ok "all set up: exit 0, no [warn] or [FAIL]" \
    eval 'rc_is good 0 && ! grep -Eq "^\[(warn|FAIL)\]" "$SYS_WORK/good.out"'
sys_ok "  says everything looks right" has good "Everything looks right."
sys_ok "  each registration is ok" \
    eval 'line good "[ ok ]" "p11-kit (GnuTLS, OpenSSL, OpenSSH): registered" &&
          line good "[ ok ]" "Firefox profile: registered ($P1)" &&
          line good "[ ok ]" "shared NSS database (Chromium): registered" &&
          line good "[ ok ]" "LibreOffice: registered"'
sys_ok "  the TLS 1.3 note remains, without counting as a problem" line good "[note]" "TLS 1.3 needs RSA-PSS, which is off"
echo 'user_pref("security.tls.version.max", 3);' >"$P1/user.js"
t good-tls doctor --json
sys_ok "  with Firefox capped at TLS 1.2: noted, problems 0, exit 0 (--json parses)" \
    eval 'rc_is good-tls 0 && json_ok good-tls && jstatus good-tls firefox-tls "['"'"'note'"'"']" &&
          jq_is good-tls "d[\"problems\"]" 0'

# ---- a spent try, an expired certificate ----
t_in spend 0000 verify-pin auth --stdin
t spent doctor
sys_ok "a spent PIN try: exit 1, named with its fix" \
    eval 'rc_is spent 1 && line spent "[warn]" "authentication PIN has 2 of 3 tries left" &&
          fix_after spent "2 of 3 tries left" "verify-pin auth"'
sys_stop_emu
sys_start_emu "$CARD_EXP"
t expired doctor
sys_ok "an expired card: exit 1, [FAIL] with the renewal fix" \
    eval 'rc_is expired 1 && line expired "[FAIL]" "the authentication certificate expired on" &&
          fix_after expired "certificate expired on" "municipal office"'
t usage doctor extra
sys_ok "doctor with an argument: exit 2" rc_is usage 2

sys_done
