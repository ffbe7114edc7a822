#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# OpenSSH with the card's authentication key, over the virtual card: a
# private sshd on 127.0.0.1 (random port, its own host key and sshd_config
# in the work directory) accepts the key `ssh-keygen -D mynacard-pkcs11.so`
# prints; `ssh -I MODULE` logs in with it (the PIN given through
# SSH_ASKPASS), and so does ssh through an ssh-agent loaded with
# `ssh-add -s MODULE`.  sshd's log must show the card key's fingerprint.
# A wrong PIN must not log in.  Every process is stopped by its PID.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need ssh ssh-keygen ssh-agent ssh-add openssl ss timeout setsid
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || sys_skip "sshd (openssh-server) is missing"
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE

mc_start_card

S=$SYS_WORK/ssh
mkdir -p "$S" /run/sshd
chmod 700 "$S"

# The card's public key, read without PIN.
sys_ok "ssh-keygen -D MODULE prints the authentication key" \
    eval 'timeout 120 ssh-keygen -D "$MOD" </dev/null >"$S/card.pub" 2>"$S/keygen.err";
          rc=$?; mc_cat_comment "$S/card.pub"; mc_cat_comment "$S/keygen.err";
          [ $rc = 0 ] && grep -q "^ssh-rsa " "$S/card.pub"'
# It is the key of the card's authentication certificate.
openssl x509 -in "$CARD/auth.crt.pem" -pubkey -noout >"$S/cert.pub.pem"
ssh-keygen -i -m PKCS8 -f "$S/cert.pub.pem" >"$S/cert.pub" 2>/dev/null
sys_ok "  it is the key of the authentication certificate" \
    eval 'grep -qF "$(cut -d" " -f2 "$S/cert.pub")" "$S/card.pub"'
FP=$(ssh-keygen -lf "$S/cert.pub" | awk '{ print $2 }')
sys_log "authentication key fingerprint $FP"

# ---- the private sshd ----
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" >/dev/null
# Only the authentication key (ssh-keygen -D also prints the CA
# certificates' keys, which have no private key on the card).
grep -F "$(cut -d' ' -f2 "$S/cert.pub")" "$S/card.pub" >"$S/authorized_keys"
sys_ok "authorized_keys holds the authentication key alone" \
    test "$(wc -l <"$S/authorized_keys")" = 1
PORT=$(mc_free_port)
[ -n "$PORT" ] || sys_fail "no free port"
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $S/host_key
PidFile none
AuthorizedKeysFile $S/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
LogLevel VERBOSE
EOF
"$SSHD" -D -f "$S/sshd_config" -e >"$S/sshd.log" 2>&1 </dev/null &
SSHD_PID=$!
sys_track "$SSHD_PID"
for _ in $(seq 100); do
    mc_listening "$PORT" && break
    sys_alive "$SSHD_PID" || { mc_cat_comment "$S/sshd.log"; sys_fail "sshd died"; }
    sleep 0.1
done
sys_ok "sshd listens on 127.0.0.1:$PORT" mc_listening "$PORT"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$S/host_key.pub")" \
    >"$S/known_hosts"

# The PIN comes from an askpass program reading $S/pin.
cat >"$S/askpass" <<EOF
#!/bin/sh
echo "askpass: \$*" >>"$S/askpass.log"
cat "$S/pin"
EOF
chmod 755 "$S/askpass"
export SSH_ASKPASS="$S/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:none
SSH_OPTS=(-p "$PORT" -F none -o BatchMode=no -o StrictHostKeyChecking=yes
    -o UserKnownHostsFile="$S/known_hosts" -o PasswordAuthentication=no
    -o KbdInteractiveAuthentication=no -o PreferredAuthentications=publickey
    -o IdentityFile=none -o ConnectTimeout=30 -o LogLevel=VERBOSE)

# accepted_count: how many publickey logins sshd accepted with the card key.
accepted_count() {
    grep -cF "Accepted publickey for root from 127.0.0.1" "$S/sshd.log" |
        head -n 1
}
accepted_with_fp() {
    grep "Accepted publickey for root from 127.0.0.1" "$S/sshd.log" |
        grep -cF "$FP"
}

# ssh_login OUT ARGS...: ssh root@127.0.0.1 'echo ...', no terminal.
ssh_login() {
    local out=$1 rc
    shift
    timeout 120 setsid -w ssh "${SSH_OPTS[@]}" "$@" root@127.0.0.1 \
        'echo logged-in-as-$(id -un)' </dev/null >"$out" 2>"$out.err"
    rc=$?
    mc_cat_comment "$out"
    mc_cat_comment "$out.err"
    [ "$rc" = 0 ] && grep -qx "logged-in-as-root" "$out"
}

# ---- a wrong PIN first: no login ----
printf '9999\n' >"$S/pin"
sys_ok "ssh -I MODULE with a wrong PIN does not log in" \
    sys_not ssh_login "$S/bad.out" -I "$MOD"
sys_ok "  sshd accepted nothing" test "$(accepted_count)" = 0
sys_ok "  one try spent" tries auth 2

# ---- ssh -I ----
printf '%s\n' "$MC_AUTH_PIN" >"$S/pin"
rm -f "$S/askpass.log"
sys_ok "ssh -I MODULE logs in as root (PIN through SSH_ASKPASS)" \
    ssh_login "$S/direct.out" -I "$MOD"
sys_ok "  ssh asked for the PIN through askpass" test -s "$S/askpass.log"
[ -s "$S/askpass.log" ] && mc_cat_comment "$S/askpass.log"
sys_ok "  sshd accepted the key with fingerprint $FP" \
    test "$(accepted_with_fp)" = 1
sys_ok "  the tries are back to 3" tries auth 3

# ---- ssh-agent with ssh-add -s ----
# -P: ssh-agent loads PKCS#11 modules only from /usr/lib*/ by default;
# allow the module under test, wherever the build put it.
eval "$(ssh-agent -s -a "$S/agent.sock" -P "$MOD")" >/dev/null
AGENT_PID=${SSH_AGENT_PID:-}
[ -n "$AGENT_PID" ] && sys_track "$AGENT_PID"
sys_ok "ssh-agent runs" eval '[ -n "$AGENT_PID" ] && sys_alive "$AGENT_PID"'
rm -f "$S/askpass.log"
sys_ok "ssh-add -s MODULE (PIN through SSH_ASKPASS)" \
    eval 'timeout 120 setsid -w ssh-add -s "$MOD" </dev/null >"$S/add.out" 2>&1;
          rc=$?; mc_cat_comment "$S/add.out"; [ $rc = 0 ]'
sys_ok "  ssh-add -l lists the card key $FP" \
    eval 'ssh-add -l >"$S/list.out" 2>&1; mc_cat_comment "$S/list.out";
          grep -qF "$FP" "$S/list.out"'
rm -f "$S/askpass.log"
sys_ok "ssh through the agent (no -I) logs in as root" \
    ssh_login "$S/agent.out" -o IdentityAgent="$S/agent.sock"
sys_ok "  sshd accepted the key $FP again" test "$(accepted_with_fp)" = 2
sys_ok "  without asking for the PIN again (the agent signed)" \
    test ! -e "$S/askpass.log"
sys_ok "ssh-add -e MODULE removes the key" \
    eval 'ssh-add -e "$MOD" >"$S/rm.out" 2>&1; rc=$?; mc_cat_comment "$S/rm.out"; [ $rc = 0 ]'
sys_ok "  then the agent alone no longer logs in" \
    sys_not ssh_login "$S/agent2.out" -o IdentityAgent="$S/agent.sock"
sys_ok "  and sshd accepted nothing more" test "$(accepted_count)" = 2

sys_kill "$AGENT_PID"; sys_untrack "$AGENT_PID"
sys_kill "$SSHD_PID"; sys_untrack "$SSHD_PID"
grep -E "Accepted|Failed|publickey" "$S/sshd.log" | mc_cat_comment /dev/stdin
sys_done
