#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool setup firefox|nss|libreoffice|p11-kit [--remove] against a
# home of the test's own: two Firefox profiles listed in profiles.ini (one
# relative, one absolute, each an NSS database made by certutil -N), the
# shared NSS database ~/.pki/nssdb, LibreOffice's settings file, and
# p11-kit directories given through the tool's environment overrides.
# What was registered is read back with `modutil -list` (the library
# path: the authentication module for browsers, the signature one for
# LibreOffice), the settings file with python's XML parser.  Firefox's
# profile lock is simulated the way Firefox holds it (a `lock` symlink to
# "ADDRESS:+PID" of a live process, and an fcntl lock on .parentlock), and
# a running LibreOffice by its .lock and a process named soffice.bin; in
# both cases setup must refuse (exit 9) and change nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
command -v modutil >/dev/null || sys_skip "modutil (libnss3-tools) is missing"
command -v certutil >/dev/null || sys_skip "certutil (libnss3-tools) is missing"
MOD=${MYNACARD_MODULE_DIR:?}
[ -e "$MOD/mynacard-auth-pkcs11.so" ] || sys_skip "the modules are not built in $MOD"

sys_setup
# The modules load in modutil: give them a pcscd of the test's own.
sys_start_pcscd
export MYNACARD_P11KIT_CONFIGS="$SYS_WORK/p11kit-installed"
export MYNACARD_P11KIT_USER_DIR="$SYS_WORK/p11kit-user"
mkdir -p "$MYNACARD_P11KIT_CONFIGS"

tool_ff_profiles install
for p in "$P1" "$P2"; do
    certutil -N -d "sql:$p" --empty-password >/dev/null 2>&1 || sys_fail "certutil -N"
done
# The second profile has the two-token module already, the README's old way.
modutil -dbdir "sql:$P2" -add "mynacard old" -libfile "$MOD/mynacard-pkcs11.so" \
    -force >/dev/null 2>&1 || sys_fail "modutil -add"

# modlist NAME DIR: `modutil -list` of DIR into $SYS_WORK/NAME.list.
modlist() {
    modutil -list -dbdir "sql:$2" </dev/null >"$SYS_WORK/$1.list" 2>&1
    grep -E '^ *[0-9]+\. |library name' "$SYS_WORK/$1.list" | sed 's/^/#   /'
}
# libs_in NAME: the library names of the listing, one a line.
libs_in() {
    sed -n 's/^.*library name: //p' "$SYS_WORK/$1.list"
}
only_lib() {
    [ "$(libs_in "$1")" = "$2" ]
}
no_mynacard() {
    ! libs_in "$1" | grep -q mynacard
}

# ---- Firefox ----
t ff setup firefox
sys_ok "setup firefox: exit 0" rc_is ff 0
modlist ff1 "$P1"
modlist ff2 "$P2"
sys_ok "  profile 1 (relative path) has the authentication module, once" \
    eval 'only_lib ff1 "$MOD/mynacard-auth-pkcs11.so" && [ "$(grep -c "My Number Card" "$SYS_WORK/ff1.list")" = 1 ]'
sys_ok "  profile 2 (absolute path) too, the two-token module replaced" \
    only_lib ff2 "$MOD/mynacard-auth-pkcs11.so"
t ff-again setup firefox --json
sys_ok "  again: exit 0, already registered, --json parses" \
    eval 'rc_is ff-again 0 && json_ok ff-again && jq_is ff-again "[p[\"ok\"] for p in d[\"profiles\"]]" "[True, True]"'
modlist ff1b "$P1"
sys_ok "  still once" eval 'only_lib ff1b "$MOD/mynacard-auth-pkcs11.so"'

# A live process holds profile 1 the way Firefox does.
sleep 600 &
LIVE=$!
sys_track "$LIVE"
ln -s "127.0.1.1:+$LIVE" "$P1/lock"
t ff-locked setup firefox --remove
sys_ok "Firefox running (lock -> live pid): setup --remove refused, exit 9" rc_is ff-locked 9
sys_ok "  politely, asking to close it" err_has ff-locked "please close it"
modlist ff-locked1 "$P1"
modlist ff-locked2 "$P2"
sys_ok "  nothing changed in either profile" \
    eval 'only_lib ff-locked1 "$MOD/mynacard-auth-pkcs11.so" && only_lib ff-locked2 "$MOD/mynacard-auth-pkcs11.so"'
sys_kill "$LIVE"
sys_untrack "$LIVE"
t ff-stale setup firefox
sys_ok "  a lock left by a dead process does not stop it" rc_is ff-stale 0
rm -f "$P1/lock"

# The fcntl lock on .parentlock, as Firefox also takes.
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "w")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(600)' "$P2/.parentlock" "$SYS_WORK/locked" &
LOCKER=$!
sys_track "$LOCKER"
for _ in $(seq 50); do [ -e "$SYS_WORK/locked" ] && break; sleep 0.1; done
t ff-parentlock setup firefox --remove
sys_ok "Firefox running (.parentlock locked): refused, exit 9" rc_is ff-parentlock 9
sys_kill "$LOCKER"
sys_untrack "$LOCKER"

# A real Firefox on profile 1, if installed: it takes the lock itself.
FIREFOX=${FIREFOX:-firefox-esr}
if command -v "$FIREFOX" >/dev/null; then
    # Firefox itself is not under test: it does not start with a
    # sanitizer runtime preloaded (CI's ASan run of this suite), so none.
    env -u LD_PRELOAD "$FIREFOX" --headless --no-remote --profile "$P1" about:blank \
        >"$SYS_WORK/firefox.log" 2>&1 &
    FFPID=$!
    sys_track "$FFPID"
    for _ in $(seq 300); do [ -L "$P1/lock" ] && break; sleep 0.1; done
    sys_log "Firefox's lock: $(readlink "$P1/lock")"
    t ff-real setup firefox --remove
    sys_ok "a real $FIREFOX running on profile 1: refused, exit 9" rc_is ff-real 9
    sys_kill "$FFPID"
    sys_untrack "$FFPID"
    for _ in $(seq 100); do [ -L "$P1/lock" ] || break; sleep 0.1; done
else
    sys_log "no $FIREFOX: the real-Firefox lock is not tried"
fi

t ff-rm setup firefox --remove
sys_ok "setup firefox --remove: exit 0" rc_is ff-rm 0
modlist ff-rm1 "$P1"
modlist ff-rm2 "$P2"
sys_ok "  no mynacard module left in either profile" \
    eval 'no_mynacard ff-rm1 && no_mynacard ff-rm2'

# ---- the shared NSS database (Chromium) ----
t nss setup nss
sys_ok "setup nss: exit 0, ~/.pki/nssdb created" \
    eval 'rc_is nss 0 && [ -e "$HOME/.pki/nssdb/cert9.db" ]'
modlist nss "$HOME/.pki/nssdb"
sys_ok "  with the authentication module" only_lib nss "$MOD/mynacard-auth-pkcs11.so"
t nss-rm setup nss --remove
modlist nss-rm "$HOME/.pki/nssdb"
sys_ok "setup nss --remove: exit 0, gone" eval 'rc_is nss-rm 0 && no_mynacard nss-rm'
rm -rf "$HOME/.pki"
t chromium setup chromium
sys_ok "setup chromium: exit 0, ~/.pki/nssdb created (where Chromium on Linux looks)" \
    eval 'rc_is chromium 0 && [ -e "$HOME/.pki/nssdb/cert9.db" ]'
modlist chromium "$HOME/.pki/nssdb"
sys_ok "  with the authentication module" only_lib chromium "$MOD/mynacard-auth-pkcs11.so"
t chromium-again setup chromium
modlist chromium-again "$HOME/.pki/nssdb"
sys_ok "  again: exit 0, still once" \
    eval 'rc_is chromium-again 0 && only_lib chromium-again "$MOD/mynacard-auth-pkcs11.so"'
t chromium-rm setup chromium --remove
modlist chromium-rm "$HOME/.pki/nssdb"
sys_ok "setup chromium --remove: exit 0, gone" \
    eval 'rc_is chromium-rm 0 && no_mynacard chromium-rm'

# ---- LibreOffice ----
LO="$HOME/.config/libreoffice/4"
XCU="$LO/user/registrymodifications.xcu"
LODB="$HOME/.config/mynacard/libreoffice-nssdb"
mkdir -p "$LO/user"
cat >"$XCU" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="CertDir" oor:op="fuse"><value>/old/cert &amp; dir</value></prop></item>
</oor:items>
EOF
# certdir: the CertDir value LibreOffice would read ("-" when unset).
certdir() {
    python3 - "$XCU" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://openoffice.org/2001/registry}"
root = ET.parse(sys.argv[1]).getroot()
vals = [p.findtext("value") for i in root.iter("item")
        if i.get(ns + "path") == "/org.openoffice.Office.Common/Security/Scripting"
        for p in i.iter("prop") if p.get(ns + "name") == "CertDir"]
print(vals[-1] if vals else "-")
EOF
}
first_run_kept() {
    grep -q 'oor:name="FirstRun"' "$XCU"
}

t lo setup libreoffice
sys_ok "setup libreoffice: exit 0" rc_is lo 0
sys_ok "  CertDir names the dedicated database (the file still parses)" \
    eval '[ "$(certdir)" = "$LODB" ]'
sys_ok "  the other settings are kept" first_run_kept
modlist lo "$LODB"
sys_ok "  that database has the signature module" only_lib lo "$MOD/mynacard-sign-pkcs11.so"

# A running LibreOffice: its lock and a soffice.bin process of ours.
touch "$LO/.lock"
cp "$(command -v sleep)" "$SYS_WORK/soffice.bin"
"$SYS_WORK/soffice.bin" 600 &
SOFFICE=$!
sys_track "$SOFFICE"
sum=$(md5sum <"$XCU")
t lo-running setup libreoffice --remove
sys_ok "LibreOffice running: refused, exit 9, settings untouched" \
    eval 'rc_is lo-running 9 && [ "$(md5sum <"$XCU")" = "$sum" ]'
sys_kill "$SOFFICE"
sys_untrack "$SOFFICE"

t lo-rm setup libreoffice --remove
sys_ok "setup libreoffice --remove (stale .lock): exit 0" rc_is lo-rm 0
sys_ok "  CertDir is what it was before (/old/cert & dir)" eval '[ "$(certdir)" = "/old/cert & dir" ]'
modlist lo-rm "$LODB"
sys_ok "  the module is gone from the database" no_mynacard lo-rm
sys_ok "  the other settings are kept" first_run_kept

rm -f "$XCU"
t lo-new setup libreoffice
sys_ok "setup libreoffice with no settings file yet: creates one that parses" \
    eval 'rc_is lo-new 0 && [ "$(certdir)" = "$LODB" ]'
t lo-new-rm setup libreoffice --remove
sys_ok "  --remove then leaves no CertDir" eval 'rc_is lo-new-rm 0 && [ "$(certdir)" = - ]'

# ---- p11-kit ----
UF="$MYNACARD_P11KIT_USER_DIR/mynacard.module"
t p11 setup p11-kit
sys_ok "setup p11-kit: exit 0, a module file naming the two-token module" \
    eval 'rc_is p11 0 && grep -qx "module: $MOD/mynacard-pkcs11.so" "$UF"'
t p11-rm setup p11-kit --remove
sys_ok "setup p11-kit --remove: the file is gone" eval 'rc_is p11-rm 0 && [ ! -e "$UF" ]'
echo "module: /somewhere/else.so" >"$UF"
t p11-foreign setup p11-kit --remove
sys_ok "  a module file it did not write is left alone" \
    eval 'rc_is p11-foreign 0 && grep -q somewhere "$UF"'
rm -f "$UF"
cp /dev/null "$MYNACARD_P11KIT_CONFIGS/mynacard.module"
t p11-inst setup p11-kit --json
sys_ok "  installed system-wide already: nothing to do, exit 0, no user file" \
    eval 'rc_is p11-inst 0 && [ ! -e "$UF" ] && json_ok p11-inst &&
          jq_is p11-inst "d[\"installed\"]" "$MYNACARD_P11KIT_CONFIGS/mynacard.module"'

# ---- usage and a missing module ----
t bad-target setup thunderbird
t no-target setup
sys_ok "unknown or missing target: exit 2" eval 'rc_is bad-target 2 && rc_is no-target 2'
MYNACARD_MODULE_DIR="$SYS_WORK/nothing-here" t no-module setup nss
sys_ok "the module missing: exit 1, saying so" \
    eval 'rc_is no-module 1 && err_has no-module "is missing"'

sys_done
