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
mc_need_install
[ -e "$PROXY" ] || sys_skip "p11-kit-proxy.so is missing ($PROXY)"

mc_start_card

# ---- meson install, into the work directory only ----
ROOT="$SYS_WORK/root"
sys_ok "meson install --destdir" mc_meson_install "$ROOT"
mc_p11kit_mount "$ROOT"
sys_log "p11-kit proxy: $PROXY"

# ---- the NSS database with p11-kit-proxy ----
DB="$SYS_WORK/nssdb"
mc_nss_db "$DB" p11kit "$PROXY" "certutil -N makes an empty NSS database" \
    "modutil -add p11kit -libfile p11-kit-proxy.so"
mc_run modutil -dbdir "sql:$DB" -list p11kit || true
sys_ok "modutil -list shows the authentication token through p11-kit" \
    out_has "Token Name: My Number Card (Authentication)"

# Through the proxy NSS also sees the signature token, whose certificates
# are not public: certutil tries to ask for its password on the terminal
# ("Error opening input terminal for read", stdin closed) and goes on.
mc_nss_list "$DB" "My Number Card (Authentication)"
sys_ok "  shows a user certificate (u,u,u) of the authentication token ('$NICK')" \
    test -n "$NICK"
v1=$(verify_count)
sys_ok "  no PIN reached the card ($v0 -> $v1 VERIFY)" test "$v0" = "$v1"
mc_nss_export "$DB" "  it is the card's authentication certificate, byte for byte"

sys_done
