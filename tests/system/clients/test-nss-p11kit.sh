#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# NSS through p11-kit-proxy.so, after `meson install` and no other step:
# the build directory is installed with `meson install --destdir` into the
# work directory (never into the system), and inside the test's private
# mount namespace that tree's p11-kit module and module-file directories
# are bind-mounted over the real ones (as tests/system/module/
# test-p11kit-install.sh does).  An NSS database gets one module,
# `modutil -add p11kit -libfile p11-kit-proxy.so`; then `certutil -L -h
# all` shows the card's authentication certificate as a user certificate
# (u,u,u) without any PIN reaching the card, and it is the card's, byte
# for byte.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../module/common.sh"

mc_need meson pkg-config certutil modutil openssl mount timeout
[ -n "${MYNACARD_BUILD_ROOT:-}" ] && [ -d "$MYNACARD_BUILD_ROOT/meson-private" ] ||
    sys_skip "MYNACARD_BUILD_ROOT must name the meson build directory"
REAL_CONFIGS=$(pkg-config --variable=p11_module_configs p11-kit-1)
REAL_MODULES=$(pkg-config --variable=p11_module_path p11-kit-1)
PROXY=$(pkg-config --variable=proxy_module p11-kit-1)
[ -d "$REAL_CONFIGS" ] && [ -d "$REAL_MODULES" ] ||
    sys_skip "p11-kit's directories are missing ($REAL_CONFIGS, $REAL_MODULES)"
[ -e "$PROXY" ] || sys_skip "p11-kit-proxy.so is missing ($PROXY)"

sys_setup
CARD="$SYS_WORK/card"
sys_card_init "$CARD" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN"
sys_start_pcscd
sys_start_emu "$CARD"

run() {
    # run CMD...: output in $SYS_WORK/out, as TAP comments.
    local rc
    timeout 300 "$@" </dev/null >"$SYS_WORK/out" 2>&1
    rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

# ---- meson install, into the work directory only ----
ROOT="$SYS_WORK/root"
sys_ok "meson install --destdir" \
    eval 'meson install -C "$MYNACARD_BUILD_ROOT" --no-rebuild --destdir "$ROOT" \
        >"$SYS_WORK/install.log" 2>&1 || { mc_cat_comment "$SYS_WORK/install.log"; false; }'
[ -d "$ROOT$REAL_CONFIGS" ] && [ -d "$ROOT$REAL_MODULES" ] ||
    sys_fail "meson install did not make p11-kit's directories"
sys_ok "bind-mount the installed module files over $REAL_CONFIGS" \
    mount --bind "$ROOT$REAL_CONFIGS" "$REAL_CONFIGS"
sys_ok "bind-mount the installed modules over $REAL_MODULES" \
    mount --bind "$ROOT$REAL_MODULES" "$REAL_MODULES"
if [ -d /etc/pkcs11/modules ]; then
    mkdir -p "$SYS_WORK/empty"
    mount --bind "$SYS_WORK/empty" /etc/pkcs11/modules
fi
sys_log "p11-kit proxy: $PROXY"

# ---- the NSS database with p11-kit-proxy ----
DB="$SYS_WORK/nssdb"
mkdir -p "$DB"
sys_ok "certutil -N makes an empty NSS database" \
    run certutil -N -d "sql:$DB" --empty-password
sys_ok "modutil -add p11kit -libfile p11-kit-proxy.so" \
    run modutil -dbdir "sql:$DB" -add p11kit -libfile "$PROXY" -force
run modutil -dbdir "sql:$DB" -list p11kit || true
sys_ok "modutil -list shows the authentication token through p11-kit" \
    out_has "Token Name: My Number Card (Authentication)"

# Through the proxy NSS also sees the signature token, whose certificates
# are not public: certutil tries to ask for its password on the terminal
# ("Error opening input terminal for read", stdin closed) and goes on.
v0=$(verify_count)
sys_ok "certutil -L -h all, no PIN given, stdin closed" \
    run certutil -L -d "sql:$DB" -h all
out_save certutil-L
NICK=$(awk -v t="My Number Card (Authentication):" 'index($0, t) == 1 && $NF == "u,u,u" {
        n = $0; sub(/[ \t]+[^ \t]+[ \t]*$/, "", n); print n; exit }' \
    "$SYS_WORK/certutil-L")
sys_ok "  shows a user certificate (u,u,u) of the authentication token ('$NICK')" \
    test -n "$NICK"
v1=$(verify_count)
sys_ok "  no PIN reached the card ($v0 -> $v1 VERIFY)" test "$v0" = "$v1"
sys_ok "NSS exports that certificate (certutil -L -n ... -a)" \
    run certutil -L -d "sql:$DB" -n "${NICK:-none}" -a
cp "$SYS_WORK/out" "$SYS_WORK/nss-auth.pem"
sys_ok "  it is the card's authentication certificate, byte for byte" \
    eval 'openssl x509 -in "$SYS_WORK/nss-auth.pem" -outform DER -out "$SYS_WORK/nss-auth.der" 2>/dev/null &&
          same_cert "$SYS_WORK/nss-auth.der" "$CARD/auth.crt.pem"'

sys_done
