#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# p11-kit remoting: `p11-kit server --provider mynacard-pkcs11.so -f -n
# SOCKET "pkcs11:token=My%20Number%20Card%20%28Authentication%29"` exports
# the authentication token on a unix socket; another process loads
# p11-kit-client.so with P11_KIT_SERVER_ADDRESS=unix:path=SOCKET (as a
# container would, or another machine with the socket forwarded over ssh)
# and, through pkcs11-tool, sees that token alone, reads the certificate,
# logs in with the PIN and signs (SHA256-RSA-PKCS); openssl verifies the
# signature with the card's authentication certificate.  A wrong PIN
# through the socket fails and costs one try.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need p11-kit pkcs11-tool openssl timeout pkg-config
mc_need_module MYNACARD_MODULE
MOD=$MYNACARD_MODULE
CLIENT=${P11KIT_CLIENT:-}
if [ -z "$CLIENT" ]; then
    CLIENT=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)/p11-kit-client.so
fi
[ -e "$CLIENT" ] || sys_skip "p11-kit-client.so is missing ($CLIENT)"

mc_start_card

SOCK=$SYS_WORK/p11kit.sock
TOKEN_URI="pkcs11:token=My%20Number%20Card%20%28Authentication%29"
p11-kit server --provider "$MOD" -f -n "$SOCK" "$TOKEN_URI" \
    >"$SYS_WORK/server.out" 2>"$SYS_WORK/server.err" </dev/null &
SERVER_PID=$!
sys_track "$SERVER_PID"
for _ in $(seq 100); do
    [ -S "$SOCK" ] && break
    sys_alive "$SERVER_PID" || break
    sleep 0.1
done
mc_cat_comment "$SYS_WORK/server.out"
mc_cat_comment "$SYS_WORK/server.err"
sys_ok "p11-kit server exports the token on a unix socket" test -S "$SOCK"
sys_ok "  and prints the address for clients" \
    grep -qF "P11_KIT_SERVER_ADDRESS=unix:path=$SOCK" "$SYS_WORK/server.out"

# The client side: a fresh environment with nothing of the module in it.
export P11_KIT_SERVER_ADDRESS="unix:path=$SOCK"

sys_ok "pkcs11-tool --module p11-kit-client.so -L" p11m "$CLIENT" -L
out_save list
tokens_of "$SYS_WORK/list" >"$SYS_WORK/tokens"
mc_cat_comment "$SYS_WORK/tokens"
sys_ok "  shows the authentication token" \
    grep -qP '\tMy Number Card \(Authentication\)\t' "$SYS_WORK/tokens"
sys_ok "  and only it (the signature token is not exported)" \
    test "$(wc -l <"$SYS_WORK/tokens")" = 1
sys_ok "  the token says a login is required" \
    grep -qP '\tMy Number Card \(Authentication\)\t.*login required' "$SYS_WORK/tokens"

sys_ok "read the authentication certificate through the socket" \
    p11m "$CLIENT" --read-object --type cert --id 01 -o "$SYS_WORK/auth.der"
sys_ok "  it is the card's, byte for byte" \
    same_cert "$SYS_WORK/auth.der" "$CARD/auth.crt.pem"
openssl x509 -in "$CARD/auth.crt.pem" -pubkey -noout >"$SYS_WORK/auth.pub"

printf 'mynacard system test: signed through p11-kit-client\n' >"$SYS_WORK/data"
rm -f "$SYS_WORK/bad.sig"
sys_ok "a wrong PIN through the socket fails" \
    sys_not p11m "$CLIENT" --login --pin 9999 --sign -m SHA256-RSA-PKCS --id 01 \
    -i "$SYS_WORK/data" -o "$SYS_WORK/bad.sig"
sys_ok "  with CKR_PIN_INCORRECT" out_has "CKR_PIN_INCORRECT"
sys_ok "  and costs one try" tries auth 2

sys_ok "pkcs11-tool --login --pin ... --sign -m SHA256-RSA-PKCS through the socket" \
    p11m "$CLIENT" --login --pin "$MC_AUTH_PIN" --sign -m SHA256-RSA-PKCS --id 01 \
    -i "$SYS_WORK/data" -o "$SYS_WORK/data.sig"
sys_ok "  a 2048-bit signature" test "$(stat -c %s "$SYS_WORK/data.sig" 2>/dev/null)" = 256
sys_ok "  openssl verifies it with the card's authentication certificate" \
    eval 'openssl dgst -sha256 -verify "$SYS_WORK/auth.pub" -signature "$SYS_WORK/data.sig" \
        "$SYS_WORK/data" 2>&1 | sed "s/^/#   /"; [ "${PIPESTATUS[0]}" = 0 ]'
printf 'other data\n' >"$SYS_WORK/other"
sys_ok "  and not for other data" \
    sys_not eval 'openssl dgst -sha256 -verify "$SYS_WORK/auth.pub" -signature "$SYS_WORK/data.sig" \
        "$SYS_WORK/other" >/dev/null 2>&1'
sys_ok "  the tries are back to 3" tries auth 3

# The server is still the one serving: stop it, and the client sees nothing.
sys_kill "$SERVER_PID"
sys_untrack "$SERVER_PID"
p11m "$CLIENT" -L || true
sys_ok "with the server stopped, the client shows no token" \
    sys_not out_has "My Number Card (Authentication)"

sys_done
