#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Every command of the README's ```sh blocks, run verbatim (issue 4), on a
# throwaway copy of this machine: the test re-executes itself in a private
# network namespace (only loopback, so ports 22, 443 and vpcd's 35963 are
# its own and nothing leaves the machine), then lib.sh puts it in a
# private mount namespace, where overlayfs mounts over /usr, /etc, /var,
# /tmp and /home and a tmpfs over /run take every write: `meson
# install` of the build under test puts the modules at the README's paths
# (/usr/lib/x86_64-linux-gnu/pkcs11/...) and the real system is never
# touched.  In that copy the test sets up what the README takes as given:
# a card in the reader (the virtual card on vpcd's default port), a
# server.example in /etc/hosts with a user `you`, an sshd on
# 127.0.0.1:22 holding the card's key in ~you/.ssh/authorized_keys, a TLS
# 1.2 server on 127.0.0.1:443 that requires a client certificate from the
# card's CA (openssl s_server -www, its certificate from a CA the system
# trusts), an ssh-agent, a Firefox-like profile named PROFILE, a Chromium
# NSS database, a `file` to sign and a signed.pdf (pdfsig with the
# signature module).  No `sudo`: a fresh Debian has none, and the README's
# two commands must work without it, as root.
#
# Each block runs in a terminal (tmux) through readme/run-block.py, which
# types the PINs at their prompts and closes interactive sessions as a
# person does; each command gets one TAP line: its exit status and that
# its output shows what the README says it does.  `meson test` is this
# test run itself: skipped, said so.  The quick start (`bash
# tests/demo.sh`) runs from a copy of the source tree (it builds into the
# copy's build/), before anything else, as on a fresh machine.  If
# README.ja.md exists it must have the same ```sh blocks, in order.
#
# Environment: as lib.sh, plus MYNACARD_BUILD_ROOT (the meson build
# directory to install); README_NO_DEMO=1 skips the quick start (reported
# as SKIP), for a quicker run while working on this test;
# README_DEBUG_PAUSE=1 waits before the end, with every server up, until
# WORK/debug.wait is removed (enter with `nsenter -t $(cat
# WORK/debug.pid) -m -n`).

# A private network namespace first, then lib.sh's mount namespace in it.
if [ -z "${README_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    if unshare -n true 2>/dev/null; then
        export README_IN_NETNS=1
        exec unshare -n "${BASH:-bash}" "$0" "$@"
    fi
    echo "1..0 # SKIP cannot create a network namespace (unshare -n)"
    exit "${SYS_SKIP_STATUS:-77}"
fi
if [ -n "${README_IN_NETNS:-}" ] && [ -z "${README_LO_UP:-}" ]; then
    ip link set lo up || { echo "1..0 # SKIP cannot bring up loopback (ip link)"; exit "${SYS_SKIP_STATUS:-77}"; }
    export README_LO_UP=1
fi

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/module/common.sh"

RT_DIR=$(cd "$(dirname "$0")/readme" && pwd)
RT_TOP=$(cd "$(dirname "$0")/../.." && pwd)
README=$RT_TOP/README.md
README_JA=$RT_TOP/README.ja.md

mc_need tmux meson openssl ssh ssh-keygen ssh-agent ssh-add pkcs11-tool p11tool \
    gnutls-cli certutil modutil pdfsig useradd usermod update-ca-certificates \
    p11-kit ip mount timeout tar
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || sys_skip "sshd (openssh-server) is missing"
[ -n "${MYNACARD_BUILD_ROOT:-}" ] && [ -d "$MYNACARD_BUILD_ROOT/meson-private" ] ||
    sys_skip "MYNACARD_BUILD_ROOT must name the meson build directory"
[ -f "$README" ] || sys_fail "no README.md at $README"

sys_setup
W=$SYS_WORK
case $W in
/run/*) sys_skip "MYNACARD_TEST_TMP ($W) is under /run, which this test replaces" ;;
esac
# vpcd's default port, as the README's `mynacard-emu run /tmp/card` uses:
# free here, in the test's own network namespace.
SYS_PORT=35963
sed -i "s/^\(DEVICENAME.*:\)[0-9]*$/\1$SYS_PORT/; s/^CHANNELID.*/CHANNELID    $SYS_PORT/" \
    "$W/reader.conf.d/vpcd"

# ---- the throwaway copy of the system ----
# Overlays take every write to /usr, /etc, /var, /tmp and /home, their
# upper layers on a tmpfs of this namespace's own (on /mnt: a separate
# file system, so no layer overlaps another even when this checkout, its
# build directory and $W live under one of these directories, as a CI
# clone in /tmp or /home does; they stay visible through the overlay).
OV=/mnt
mkdir -p "$OV" 2>/dev/null
mount -t tmpfs -o mode=0700 tmpfs "$OV" || sys_skip "cannot mount a tmpfs on $OV"
for d in usr etc var tmp home; do
    mkdir -p "$OV/$d.up" "$OV/$d.work"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$OV/$d.up,workdir=$OV/$d.work" "/$d" ||
        sys_skip "the kernel refuses an overlayfs mount over /$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run || sys_skip "cannot mount a tmpfs on /run"
# What the README's commands make must be new here, whatever the host has.
rm -rf /tmp/card /tmp/card2 /tmp/dev-card /tmp/dev-card-apdu.log
sys_log "overlays over /usr /etc /var /tmp /home, tmpfs over /run; network: loopback only"

# The README's commands, and the person's files, in blocks' order.
BLK=$W/blocks
O=$W/out
mkdir -p "$O" "$W/bin" "$W/xdg-run"
chmod 700 "$W/xdg-run"
NBLOCKS=$(python3 "$RT_DIR/blocks.py" extract "$README" "$BLK") ||
    sys_fail "blocks.py could not read $README"
sys_log "README.md: $NBLOCKS \`\`\`sh blocks, $(ls "$BLK"/*.cmd | wc -l) commands"

RT_PATH=$W/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# rt_env EXTRA...: the person's environment for the next block.
rt_env() {
    {
        printf 'export %s\n' "HOME=$(printf %q "$HOME")" "PATH=$RT_PATH" \
            USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 \
            "XDG_RUNTIME_DIR=$W/xdg-run"
        for v in "$@"; do printf 'export %s\n' "$v"; done
    } >"$O/user.env"
}
RT_ENV=()

# rt_run BB WORKDIR [timeout]: run block BB in a terminal.
rt_run() {
    rt_env "${RT_ENV[@]}"
    env PATH="$RT_PATH" HOME="$HOME" LANG=C.UTF-8 \
        README_AUTH_PIN="$MC_AUTH_PIN" README_SIGN_PIN="$MC_SIGN_PIN" \
        README_TIMEOUT="${3:-300}" README_SKIP="${RT_SKIP:-}" \
        python3 "$RT_DIR/run-block.py" "$BLK" "$1" "$2" "$O" ||
        sys_log "run-block.py failed on block $1"
    # Its terminal (the tmux server) is gone; make sure, by its PID.
    if [ -s "$O/$1.tmux.pid" ] && sys_alive "$(cat "$O/$1.tmux.pid")"; then
        sys_kill "$(cat "$O/$1.tmux.pid")"
    fi
}

# ---- TAP: one line per command ----
rt_cmd() { cat "$BLK/$1.cmd"; }
rt_rc() { cat "$O/$1.rc" 2>/dev/null || echo none; }
rt_has() { grep -qE -- "$2" "$O/$1.out"; }
rt_why() { echo "#   -> $*"; }
# The command on one line for its TAP line; its '#' escaped (TAP), so
# that a README comment is never read as a SKIP or TODO directive.
rt_desc() {
    rt_cmd "$1" | sed 's/\\$//' | tr -s ' \n' ' ' | sed 's/ *$//; s/#/\\#/g'
}

# rt_check ID CHECK...: TAP line for the command ID; CHECK runs only when
# the command exited 0 (and must then succeed).
rt_check() {
    local id=$1 desc
    shift
    desc="README: $(rt_desc "$id")"
    echo "# ---- $id: terminal output ----"
    mc_cat_comment "$O/$id.out" 2>/dev/null | head -n 80
    [ -s "$O/$id.events" ] && sed 's/^/#   [keyboard] /' "$O/$id.events"
    echo "#   exit status: $(rt_rc "$id")"
    RT_CHK=("$@")
    sys_ok "$desc" rt_do_check "$id"
}
rt_do_check() {
    [ "$(rt_rc "$1")" = 0 ] || { rt_why "exit status $(rt_rc "$1")"; return 1; }
    "${RT_CHK[@]}"
}

# rt_skip ID REASON
rt_skip() {
    SYS_TAP_N=$((SYS_TAP_N + 1))
    echo "ok $SYS_TAP_N - README: $(rt_desc "$1") # SKIP $2"
}

# ---- README.ja.md: the same blocks ----
if [ -f "$README_JA" ]; then
    sys_ok "README.ja.md has the same \`\`\`sh blocks as README.md, in the same order" \
        eval 'python3 "$RT_DIR/blocks.py" compare "$README" "$README_JA" | sed "s/^/#   /";
              [ "${PIPESTATUS[0]}" = 0 ]'
else
    SYS_TAP_N=$((SYS_TAP_N + 1))
    echo "ok $SYS_TAP_N - README.ja.md has the same \`\`\`sh blocks # SKIP no README.ja.md yet"
fi

# ---- block 1, the quick start: from a copy of the source tree ----
# On a fresh machine: no pcscd running yet, so the demo shows the virtual
# card.  Its build is the copy's build/, never the one meson test uses.
mkdir -p "$W/src"
tar -C "$RT_TOP" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$W/src" -xf - ||
    sys_fail "copying the source tree"
RT_SKIP=""
for f in "$BLK"/01-*.cmd; do
    id=$(basename "$f" .cmd)
    case $(cat "$f") in
    "meson test"*) RT_SKIP="$RT_SKIP $id" ;;
    esac
done
if [ -n "${README_NO_DEMO:-}" ]; then
    RT_SKIP="$RT_SKIP $(cd "$BLK" && ls 01-*.cmd | sed 's/\.cmd$//' | tr '\n' ' ')"
fi
sys_log "block 01 (the demo: installs, builds, installs, shows the card) in $W/src"
rt_run 01 "$W/src" 2400

rt_demo_ok() {
    local id=$1
    rt_has "$id" "^== Done" || { rt_why "no '== Done'"; return 1; }
    rt_has "$id" "showing the virtual card" || { rt_why "the virtual card was not shown"; return 1; }
    rt_has "$id" "token label *: My Number Card \(Authentication\)" ||
        { rt_why "no authentication token listed"; return 1; }
    rt_has "$id" "^Verified OK" || { rt_why "the signature was not verified"; return 1; }
}
for f in "$BLK"/01-*.cmd; do
    id=$(basename "$f" .cmd)
    case $(cat "$f") in
    "meson test"*) rt_skip "$id" "this is the test run itself (meson test)" ;;
    *) [ "$(rt_rc "$id")" = skip ] && { rt_skip "$id" "README_NO_DEMO is set"; continue; } ;;&
    "bash tests/demo.sh"*) rt_check "$id" rt_demo_ok "$id" ;;
    *) rt_check "$id" true ;;
    esac
done

# ---- meson install of the build under test, over whatever the demo put ----
sys_ok "meson install -C \$MYNACARD_BUILD_ROOT (into the overlay)" \
    eval 'meson install -C "$MYNACARD_BUILD_ROOT" --no-rebuild >"$W/install.log" 2>&1 ||
          { mc_cat_comment "$W/install.log"; false; }'
MODDIR=/usr/lib/x86_64-linux-gnu/pkcs11
sys_ok "  the modules are at the README's paths ($MODDIR)" \
    eval 'for m in mynacard-pkcs11 mynacard-auth-pkcs11 mynacard-sign-pkcs11; do
              [ -e "$OV/usr.up${MODDIR#/usr}/$m.so" ] ||
                  { rt_why "meson install did not write $MODDIR/$m.so"; false; } || return 1
          done'
PATH=$RT_PATH
sys_ok "  mynacard-tool and mynacard-emu are on PATH" \
    eval 'command -v mynacard-tool >/dev/null && command -v mynacard-emu >/dev/null'

# ---- the card in the reader, on vpcd's default port ----
CARD=$W/card
sys_card_init "$CARD" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN"
sys_start_pcscd
sys_start_emu "$CARD"
SUBJECT=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
sys_log "the card's authentication certificate: $SUBJECT"

# ---- the person's home (root's home, for ssh, is $HOME here) ----
usermod -d "$HOME" root >/dev/null 2>&1 ||
    sed -i "s|^root:\([^:]*\):0:0:\([^:]*\):[^:]*:|root:\1:0:0:\2:$HOME:|" /etc/passwd
[ "$(getent passwd root | cut -d: -f6)" = "$HOME" ] || sys_fail "root's home is not $HOME"
cd "$HOME" || sys_fail "cd $HOME"
echo "Hello from the README test" >"$HOME/file"

# A Firefox-like profile named PROFILE.
rt_profile() {
    rm -rf "$HOME/.mozilla/firefox/PROFILE"
    mkdir -p "$HOME/.mozilla/firefox/PROFILE"
    printf '[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default\nIsRelative=1\nPath=PROFILE\nDefault=1\n' \
        >"$HOME/.mozilla/firefox/profiles.ini"
    certutil -N -d "sql:$HOME/.mozilla/firefox/PROFILE" --empty-password ||
        sys_fail "certutil -N (PROFILE)"
}
rt_profile
# Chromium's NSS database, which the p11-kit-proxy line adds to.
mkdir -p "$HOME/.pki/nssdb"
certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password || sys_fail "certutil -N (~/.pki/nssdb)"

# signed.pdf: a one-page PDF signed with the signature module (pdfsig, the
# password given with -nss-pwd), as LibreOffice would have made it.
python3 - "$W/unsigned.pdf" <<'EOF'
import sys
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
text = b"BT /F1 24 Tf 72 760 Td (Signed with a My Number Card) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
out = b"%PDF-1.4\n"
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offs)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
EOF
SIGNDB=$W/signdb
mkdir -p "$SIGNDB"
certutil -N -d "sql:$SIGNDB" --empty-password >/dev/null 2>&1 &&
    modutil -dbdir "sql:$SIGNDB" -add mynacard-sign -libfile "$MODDIR/mynacard-sign-pkcs11.so" \
        -force >/dev/null 2>&1 || sys_fail "the NSS database for signing"
printf '%s\n' "$MC_SIGN_PIN" >"$W/signpw"
SIGN_NICK=$(certutil -L -d "sql:$SIGNDB" -h "My Number Card (Signature)" -f "$W/signpw" 2>/dev/null |
    awk '/^My Number Card \(Signature\):/ && $NF == "u,u,u" { sub(/[ \t]+[^ \t]+[ \t]*$/, ""); print; exit }')
rm -f "$W/signpw"
sys_log "signature certificate's nickname: ${SIGN_NICK:-none}"
# pdfsig's password callback gives nothing for the login before each
# signature (CKA_ALWAYS_AUTHENTICATE), so this one signature is made with
# sign_always_authenticate = false, the README's own switch for it.
echo "sign_always_authenticate = false" >"$W/sign-once.conf"
MYNACARD_CONF=$W/sign-once.conf timeout 120 pdfsig -nssdir "sql:$SIGNDB" \
    -nss-pwd "$MC_SIGN_PIN" -nick "$SIGN_NICK" -add-signature "$W/unsigned.pdf" "$HOME/signed.pdf" </dev/null >"$W/pdfsig-add.log" 2>&1 ||
    { mc_cat_comment "$W/pdfsig-add.log"; sys_log "could not make signed.pdf"; }

# ---- server.example: sshd on 127.0.0.1:22, s_server on 127.0.0.1:443 ----
echo "127.0.0.1 server.example" >>/etc/hosts
useradd -m -d /home/you -s /bin/bash -p '*' you || sys_fail "useradd you"
S=$W/server
mkdir -p "$S" /run/sshd
openssl x509 -in "$CARD/auth.crt.pem" -pubkey -noout >"$S/cert.pub.pem"
ssh-keygen -i -m PKCS8 -f "$S/cert.pub.pem" >"$S/card.pub" 2>/dev/null || sys_fail "the card's ssh key"
FP=$(ssh-keygen -lf "$S/card.pub" | awk '{ print $2 }')
install -d -o you -g you -m 700 /home/you/.ssh
install -o you -g you -m 600 "$S/card.pub" /home/you/.ssh/authorized_keys
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" >/dev/null
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 22
HostKey $S/host_key
PidFile none
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
LogLevel VERBOSE
EOF
"$SSHD" -D -f "$S/sshd_config" -e >"$S/sshd.log" 2>&1 </dev/null &
SSHD_PID=$!
sys_track "$SSHD_PID"

# The server's certificate, for server.example, from a CA the system trusts.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=README test CA" \
    -keyout "$S/ca.key" -out "$S/ca.pem" >"$S/req.log" 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=server.example" \
        -keyout "$S/srv.key" -out "$S/srv.csr" >>"$S/req.log" 2>&1 &&
    printf 'subjectAltName=DNS:server.example\n' >"$S/srv.ext" &&
    openssl x509 -req -in "$S/srv.csr" -CA "$S/ca.pem" -CAkey "$S/ca.key" \
        -CAcreateserial -days 2 -extfile "$S/srv.ext" -out "$S/srv.pem" >>"$S/req.log" 2>&1 ||
    { mc_cat_comment "$S/req.log"; sys_fail "the server certificate"; }
cp "$S/ca.pem" /usr/local/share/ca-certificates/readme-test-ca.crt
update-ca-certificates >"$S/update-ca.log" 2>&1 || { mc_cat_comment "$S/update-ca.log"; sys_fail "update-ca-certificates"; }
openssl s_server -accept 127.0.0.1:443 -cert "$S/srv.pem" -key "$S/srv.key" \
    -Verify 1 -CAfile "$CARD/ca-auth.crt.pem" -www -tls1_2 </dev/null >"$S/s_server.log" 2>&1 &
TLS_PID=$!
sys_track "$TLS_PID"
for _ in $(seq 100); do
    mc_listening 22 && mc_listening 443 && break
    sleep 0.1
done
sys_ok "server.example: sshd on 127.0.0.1:22 and a TLS 1.2 server on 127.0.0.1:443" \
    eval 'mc_listening 22 && mc_listening 443'

# The person's ssh-agent.
eval "$(ssh-agent -s -a "$W/agent.sock")" >/dev/null
[ -n "${SSH_AGENT_PID:-}" ] && sys_track "$SSH_AGENT_PID"
RT_ENV=("SSH_AUTH_SOCK=$W/agent.sock")

# ---- the checks of the sections' commands ----
rt_tokens_both() {
    rt_has "$1" "token label *: My Number Card \(Authentication\)" &&
        rt_has "$1" "token label *: My Number Card \(Signature\)" ||
        { rt_why "not both tokens"; return 1; }
}
# rt_nss_module DB LIB TOKEN: modutil -list of DB shows LIB with TOKEN.
rt_nss_module() {
    modutil -dbdir "sql:$1" -list </dev/null >"$W/modlist" 2>&1
    mc_cat_comment "$W/modlist" | grep -E "^#   +[0-9]+\.|library name:|token:"
    grep -qF "$2" "$W/modlist" && sed 's/^[[:space:]]*//' "$W/modlist" | grep -qxF "token: $3" ||
        { rt_why "$1 does not show $2 with the token '$3'"; return 1; }
}
# rt_page ID: the page the TLS server sent shows the card's certificate.
rt_page() {
    sed -n '/Client certificate/,$p' "$O/$1.out" |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$W/$1.page.pem"
    openssl x509 -in "$W/$1.page.pem" -outform DER -out "$W/$1.page.der" 2>/dev/null &&
        same_cert "$W/$1.page.der" "$CARD/auth.crt.pem" ||
        { rt_why "the server's page does not show the card's certificate"; return 1; }
}
rt_accepted() {
    grep "Accepted publickey for you from 127.0.0.1" "$S/sshd.log" | grep -cF "$FP"
}

# rt_check_cmd ID: the TAP line of one command, by what the command is.
rt_check_cmd() {
    local id=$1 cmd
    cmd=$(rt_cmd "$id")
    case $cmd in
    MOD=*) rt_check "$id" true ;;
    "pkcs11-tool --module "*p11-kit-client.so*)
        rt_check "$id" eval 'rt_has "$id" "token label *: My Number Card \(Authentication\)" ||
            { rt_why "no authentication token through p11-kit-client.so"; false; }' ;;
    "pkcs11-tool --module "*--list-token-slots*) rt_check "$id" rt_tokens_both "$id" ;;
    "p11tool --list-tokens"*)
        rt_check "$id" eval 'rt_has "$id" "Label: My Number Card \(Authentication\)" &&
            rt_has "$id" "Label: My Number Card \(Signature\)" || { rt_why "not both tokens"; false; }' ;;
    "mynacard-tool setup firefox"*)
        rt_check "$id" rt_nss_module "$HOME/.mozilla/firefox/PROFILE" \
            "$MODDIR/mynacard-auth-pkcs11.so" "My Number Card (Authentication)" ;;
    "modutil -dbdir sql:\$HOME/.mozilla/firefox/PROFILE"*)
        rt_check "$id" rt_nss_module "$HOME/.mozilla/firefox/PROFILE" \
            "$MODDIR/mynacard-auth-pkcs11.so" "My Number Card (Authentication)" ;;
    "mynacard-tool setup libreoffice"*)
        rt_check "$id" eval 'rt_nss_module "$HOME/.config/mynacard/libreoffice-nssdb" \
            "$MODDIR/mynacard-sign-pkcs11.so" "My Number Card (Signature)" &&
            { grep -qF "$HOME/.config/mynacard/libreoffice-nssdb" \
                "$HOME/.config/libreoffice/4/user/registrymodifications.xcu" ||
              { rt_why "LibreOffice'"'"'s CertDir does not name that database"; false; }; }' ;;
    "pdfsig signed.pdf"*)
        rt_check "$id" eval 'rt_has "$id" "Signature Validation: Signature is Valid" ||
            { rt_why "no \"Signature is Valid\""; false; }
            cn=$(openssl x509 -in "$CARD/sign.crt.pem" -noout -subject -nameopt multiline |
                sed -n "s/^ *commonName *= *//p")
            rt_has "$id" "Signer Certificate Common Name: $cn\$" ||
                { rt_why "the signer is not the card'"'"'s signature certificate"; false; }' ;;
    "ssh-keygen -D "*)
        rt_check "$id" eval '[ "$(head -n 1 "$O/$id.out" | cut -d" " -f1,2)" = "$(cut -d" " -f1,2 "$S/card.pub")" ] ||
            { rt_why "the first key is not the card'"'"'s authentication key"; false; }' ;;
    "ssh -I "*)
        rt_check "$id" eval 'rt_has "$id" "^readme-test-remote-user=you" ||
            { rt_why "no shell as you on server.example"; false; }
            [ "$(rt_accepted)" -ge 1 ] || { rt_why "sshd did not accept the card key $FP for you"; false; }' ;;
    "ssh-add -s "*)
        rt_check "$id" eval 'rt_has "$id" "^Card added" || { rt_why "no \"Card added\""; false; }
            SSH_AUTH_SOCK=$W/agent.sock ssh-add -l >"$W/agent.list" 2>&1; mc_cat_comment "$W/agent.list"
            grep -qF "$FP" "$W/agent.list" || { rt_why "the agent does not hold $FP"; false; }' ;;
    "p11tool --list-all-certs "*)
        rt_check "$id" eval 'rt_has "$id" "Type: X.509 Certificate" &&
            rt_has "$id" "token=My%20Number%20Card%20%28Authentication%29" ||
            { rt_why "no certificate of the authentication token"; false; }' ;;
    "gnutls-cli "* | "openssl s_client "*)
        rt_check "$id" eval 'rt_page "$id" && rt_has "$id" "TLSv1.2|TLS1.2" ||
            { rt_why "not TLS 1.2 with the card'"'"'s certificate"; false; }' ;;
    "mynacard-tool export auth --pem > auth.pem"*)
        rt_check "$id" eval 'openssl x509 -in "$HOME/auth.pem" -outform DER -out "$W/auth.der" 2>/dev/null &&
            same_cert "$W/auth.der" "$CARD/auth.crt.pem" || { rt_why "auth.pem is not the card'"'"'s certificate"; false; }' ;;
    "openssl dgst -sha256 "*"-sign "*)
        rt_check "$id" eval 'openssl x509 -in "$CARD/sign.crt.pem" -pubkey -noout >"$W/sign.pub" &&
            openssl dgst -sha256 -verify "$W/sign.pub" -signature "$HOME/file.sig" "$HOME/file" | sed "s/^/#   /";
            [ "${PIPESTATUS[0]}" = 0 ] || { rt_why "file.sig does not verify with the signature certificate"; false; }' ;;
    "modutil -dbdir sql:\$HOME/.pki/nssdb -add p11-kit-proxy"*)
        rt_check "$id" rt_nss_module "$HOME/.pki/nssdb" p11-kit-proxy.so "My Number Card (Authentication)" ;;
    "p11-kit server "*)
        rt_check "$id" eval 'rt_has "$id" "^P11_KIT_SERVER_ADDRESS=unix:path=[^;]+; export P11_KIT_SERVER_ADDRESS;" ||
            { rt_why "no P11_KIT_SERVER_ADDRESS printed"; false; }' ;;
    "mynacard-tool status"*)
        rt_check "$id" eval 'rt_has "$id" "^Authentication PIN: 3 of 3 tries left" &&
            rt_has "$id" "^Signature password: 5 of 5 tries left" &&
            grep "Subject:" "$O/$id.out" | grep -qF "$SUBJECT" ||
            { rt_why "not the card'"'"'s tries and authentication certificate"; false; }' ;;
    "mynacard-tool verify-pin auth"*)
        rt_check "$id" eval 'rt_has "$id" "PIN is correct" && tries auth 3 ||
            { rt_why "the PIN was not verified, or a try is gone"; false; }' ;;
    "mynacard-tool doctor"*)
        rt_check "$id" eval 'rt_has "$id" "^Everything looks right" ||
            { rt_why "doctor found a problem"; false; }' ;;
    "mynacard-emu init "*)
        rt_check "$id" eval 'd=$(eval "set -- ${cmd%%#*}"; echo "$3"); [ -s "$d/ca-auth.crt.pem" ] && [ -s "$d/card.state" ] ||
            { rt_why "no card in $d"; false; }' ;;
    "mynacard-emu run "*"--log "*"&"*)
        # It runs in the background until the block ends; its APDU log
        # must show the commands of the block's programs.
        rt_check "$id" eval 'log=$(echo "$cmd" | sed -n "s/.*--log \([^ &]*\).*/\1/p");
            grep -q "^> 00 A4" "$log" || { rt_why "no SELECT in $log"; false; }' ;;
    "mynacard-emu run "*"&"*)
        rt_check "$id" true ;;
    "mynacard-emu run "*)
        # Stopped by Ctrl-C once the card was in the reader: 130 is that.
        sys_ok "README: $(rt_desc "$id")" eval '
            echo "# ---- $id: terminal output ----"; mc_cat_comment "$O/$id.out"
            sed "s/^/#   [keyboard] /" "$O/$id.events"; echo "#   exit status: $(rt_rc "$id")"
            grep -q "reader shows the card" "$O/$id.events" || { rt_why "the card never reached the reader"; false; }
            case $(rt_rc "$id") in 0|130) ;; *) rt_why "exit status $(rt_rc "$id") after Ctrl-C"; false ;; esac' ;;
    "mynacard-emu status "*)
        rt_check "$id" eval 'rt_has "$id" "^auth-tries 3" && rt_has "$id" "^sign-tries 5" ||
            { rt_why "no tries shown"; false; }' ;;
    *)
        echo "#   (no output check written for this command: its exit status only)"
        rt_check "$id" true ;;
    esac
}

# rt_block BB: run block BB in $HOME, then its TAP lines.
rt_block() {
    local f
    sys_log "block $1"
    rt_run "$1" "$HOME" 300
    for f in "$BLK/$1"-*.cmd; do
        rt_check_cmd "$(basename "$f" .cmd)"
    done
}

for b in $(seq -f %02g 2 "$NBLOCKS"); do
    first=$(rt_cmd "$b-01")
    case $first in
    "modutil -dbdir sql:\$HOME/.mozilla/firefox/PROFILE"*)
        # "or by hand": the alternative to `setup firefox`, on the profile
        # as it was before.
        sys_log "a fresh PROFILE for the by-hand alternative"
        rt_profile ;;
    "mynacard-emu init"*)
        # The README's own virtual card takes vpcd's port: ours leaves.
        if [ -n "$SYS_EMU_PID" ]; then
            sys_log "our card leaves the reader for the README's virtual card"
            sys_stop_emu
        fi ;;
    esac
    rt_block "$b"
    # What a block printed for the next ones (p11-kit server's address),
    # and the servers it left running, stopped by their PID.
    for f in "$O/$b"-*.out; do
        addr=$(sed -n 's/^P11_KIT_SERVER_ADDRESS=\([^;]*\);.*/\1/p' "$f" | tail -n 1)
        pid=$(sed -n 's/^P11_KIT_SERVER_PID=\([0-9]*\);.*/\1/p' "$f" | tail -n 1)
        [ -n "$addr" ] && RT_ENV+=("P11_KIT_SERVER_ADDRESS=$addr")
        [ -n "$pid" ] && sys_track "$pid"
    done
done

grep -E "Accepted|Failed|publickey for" "$S/sshd.log" | mc_cat_comment /dev/stdin
grep -E "depth=|verify" "$S/s_server.log" | mc_cat_comment /dev/stdin
if [ -n "${README_DEBUG_PAUSE:-}" ]; then
    echo $$ >"$W/debug.pid"; touch "$W/debug.wait"
    while [ -e "$W/debug.wait" ]; do sleep 1; done
fi
sys_done
