#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# "After meson install, with no other step, p11tool lists and signs
# through p11-kit."  The build directory is installed with `meson install
# --destdir` into the test's work directory, never into the system; then,
# inside the test's private mount namespace (lib.sh's), that tree's p11-kit
# module directory and module-file directory are bind-mounted over the
# real ones p11-kit was built with (pkg-config p11-kit-1), so p11-kit sees
# exactly what meson install produced and nothing else.  Then `p11-kit
# list-modules` shows mynacard with its two tokens, `p11tool --list-tokens`
# shows each token once (the browser-only module file stays out), p11tool
# lists the objects after login and signs with both keys (--test-sign),
# and OpenSSL's pkcs11 engine in its default configuration (p11-kit-proxy)
# finds the authentication key by its pkcs11: URI and signs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mc_need meson p11-kit p11tool pkg-config openssl mount timeout nm
mc_need_install
ENGINES_DIR=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
[ -e "$ENGINES_DIR/pkcs11.so" ] || sys_skip "libp11's OpenSSL engine is missing"

mc_start_card

# ---- meson install, into the work directory only ----
ROOT="$SYS_WORK/root"
sys_ok "meson install --destdir (build directory $MYNACARD_BUILD_ROOT)" \
    mc_meson_install "$ROOT"
sys_log "installed: $(cd "$ROOT" 2>/dev/null && find . -type f | sort | tr '\n' ' ')"
for m in mynacard-pkcs11.so mynacard-auth-pkcs11.so mynacard-sign-pkcs11.so; do
    sys_ok "$m went to p11-kit's module directory ($REAL_MODULES)" \
        test -f "$ROOT$REAL_MODULES/$m"
done
sys_ok "a module file went to p11-kit's configuration directory ($REAL_CONFIGS)" \
    eval 'grep -qE "^module: *(.*/)?mynacard-pkcs11\.so *$" "$ROOT$REAL_CONFIGS"/*.module'
# exports SO: the functions and data a shared object defines for others.
exports() {
    nm -D --defined-only "$1" | awk '$2 ~ /^[TWDBVRi]$/ { print $3 }' | sort |
        tr '\n' ' '
}
for m in mynacard-pkcs11.so mynacard-auth-pkcs11.so mynacard-sign-pkcs11.so; do
    got=$(exports "$ROOT$REAL_MODULES/$m" 2>/dev/null)
    sys_ok "$m exports only C_GetFunctionList, C_GetInterface, C_GetInterfaceList ($got)" \
        test "$got" = "C_GetFunctionList C_GetInterface C_GetInterfaceList "
done

# ---- p11-kit sees what meson install produced, nothing else ----
# p11-kit also reads, for non-root users, ~/.config/pkcs11 (not root's).
mc_p11kit_mount "$ROOT"

sys_ok "p11-kit list-modules" mc_run p11-kit list-modules
out_save list-modules
sys_ok "  shows the module mynacard" out_matches '^mynacard: '
sys_ok "  only mynacard (nothing else was installed)" \
    test "$(grep -cE '^[^ ]+: ' "$SYS_WORK/list-modules")" = 1

sys_ok "p11tool --list-tokens" mc_run p11tool --list-tokens
out_save list-tokens
# "URL: ...", then "Label: ..." per token.
awk '/^\tURL: / { url = $2 } /^\tLabel: / { l = $0; sub(/^\tLabel: /, "", l); print l "\t" url }' \
    "$SYS_WORK/list-tokens" >"$SYS_WORK/tokens"
mc_cat_comment "$SYS_WORK/tokens"
AUTH_TOKEN=$(awk -F '\t' 'tolower($1) ~ /auth/ { print $1; exit }' "$SYS_WORK/tokens")
SIGN_TOKEN=$(awk -F '\t' 'tolower($1) ~ /sign/ { print $1; exit }' "$SYS_WORK/tokens")
AUTH_URL=$(awk -F '\t' 'tolower($1) ~ /auth/ { print $2; exit }' "$SYS_WORK/tokens")
SIGN_URL=$(awk -F '\t' 'tolower($1) ~ /sign/ { print $2; exit }' "$SYS_WORK/tokens")
sys_ok "  shows the authentication token ('$AUTH_TOKEN')" test -n "$AUTH_URL"
sys_ok "  shows the signature token ('$SIGN_TOKEN')" test -n "$SIGN_URL"
sys_ok "  exactly these two tokens (the browser-only module file stays out)" \
    test "$(wc -l <"$SYS_WORK/tokens")" = 2
[ -n "$AUTH_URL" ] && [ -n "$SIGN_URL" ] || sys_fail "no tokens through p11-kit"

# has_url TYPE ID: the last p11tool listing has an object of TYPE with ID.
has_url() {
    grep -E "^[[:space:]]*URL: pkcs11:.*;id=$2;.*type=$1(;|\$)" "$SYS_WORK/out" >/dev/null ||
        grep -E "^[[:space:]]*URL: pkcs11:.*type=$1;.*id=$2(;|\$)" "$SYS_WORK/out" >/dev/null
}

# list_all PIN URL: p11tool --login --list-all, output in $SYS_WORK/out.
list_all() {
    env GNUTLS_PIN="$1" timeout 300 p11tool --login --list-all "$2" \
        </dev/null >"$SYS_WORK/out" 2>&1
    local rc=$?
    mc_cat_comment "$SYS_WORK/out"
    return "$rc"
}
sys_ok "GNUTLS_PIN=... p11tool --login --list-all (authentication token)" \
    list_all "$MC_AUTH_PIN" "$AUTH_URL"
sys_ok "  the certificate (id %01)" has_url cert %01
sys_ok "  the public key (id %01)" has_url public %01
sys_ok "  the private key (id %01)" has_url private %01
sys_ok "GNUTLS_PIN=... p11tool --login --list-all (signature token)" \
    list_all "$MC_SIGN_PIN" "$SIGN_URL"
sys_ok "  the signature certificate (id %02), after login" has_url cert %02
sys_ok "  the private key (id %02)" has_url private %02

# ---- Signing through p11-kit ----
test_sign() {
    env GNUTLS_PIN="$1" timeout 300 p11tool --login --test-sign "$2" \
        </dev/null >"$SYS_WORK/out" 2>&1
    local rc=$?
    mc_cat_comment "$SYS_WORK/out"
    [ "$rc" = 0 ] && grep -q "ok" "$SYS_WORK/out" &&
        ! grep -qiE "fail|error" "$SYS_WORK/out"
}
sys_ok "p11tool --test-sign with the authentication key" \
    test_sign "$MC_AUTH_PIN" "$AUTH_URL;id=%01;type=private"
sys_ok "p11tool --test-sign with the signature key" \
    test_sign "$MC_SIGN_PIN" "$SIGN_URL;id=%02;type=private"

# ---- OpenSSL's engine, default configuration: p11-kit-proxy ----
unset OPENSSL_CONF
sys_ok "p11-kit's proxy module exists ($PROXY)" test -e "$PROXY"
sys_ok "p11tool exports the authentication certificate" \
    eval 'timeout 120 p11tool --export "$AUTH_URL;id=%01;type=cert" </dev/null \
        >"$SYS_WORK/auth.pem" 2>"$SYS_WORK/export.err" &&
        pubkey_of "$SYS_WORK/auth.pem" "$SYS_WORK/auth.pub"'
sys_ok "  it is the card's" \
    eval 'openssl x509 -in "$SYS_WORK/auth.pem" -outform DER -out "$SYS_WORK/auth.der" &&
          same_cert "$SYS_WORK/auth.der" "$CARD/auth.crt.pem"'
# The token URL p11tool printed already is a pkcs11: URI of the token.
printf 'mynacard system test: through p11-kit-proxy\n' >"$SYS_WORK/data"
sys_ok "openssl dgst -engine pkcs11 (default configuration) signs by URI" \
    eval 'timeout 120 openssl dgst -sha256 -engine pkcs11 -keyform engine \
        -sign "$AUTH_URL;id=%01;type=private;pin-value=$MC_AUTH_PIN" \
        -out "$SYS_WORK/engine.sig" "$SYS_WORK/data" </dev/null \
        >"$SYS_WORK/out" 2>&1; rc=$?; mc_cat_comment "$SYS_WORK/out"; [ $rc = 0 ]'
sys_ok "  openssl verifies the signature with the certificate" \
    eval 'openssl dgst -sha256 -verify "$SYS_WORK/auth.pub" \
        -signature "$SYS_WORK/engine.sig" "$SYS_WORK/data" | sed "s/^/#   /";
        [ "${PIPESTATUS[0]}" = 0 ]'

sys_done
