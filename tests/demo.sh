#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# The README's first command: install what mynacard needs from Debian,
# build it into build/, install it (meson install: the modules into
# p11-kit's module directory, the p11-kit module file, the configuration),
# and show the card working through the installed module.  With a real My
# Number Card in a reader of the system's pcscd, that card (nothing that
# needs a PIN); otherwise the virtual card, in a private pcscd of its own
# (tests/system/lib.sh), signed with and verified.  Runs as root; a normal
# user's run starts again through sudo (a fresh Debian has no sudo, and
# root needs none).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
        { echo "demo.sh: run it as root (sudo is not installed)" >&2; exit 1; }
    exec sudo bash "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

p11_module_path() {
    pkg-config --variable=p11_module_path p11-kit-1
}

if [ "${1:-}" != --virtual ]; then
    say "Installing the Debian packages mynacard needs"
    bash .ci/deps

    say "Building into build/"
    [ -f build/build.ninja ] || meson setup build --prefix=/usr
    ninja -C build

    say "Installing (meson install)"
    meson install -C build --quiet
    module="$(p11_module_path)/mynacard-pkcs11.so"
    echo "module: $module"
    p11-kit list-modules 2>/dev/null | grep -A3 '^mynacard' || true

    # A real card is looked for through the system's pcscd, if it runs.
    if [ -S /run/pcscd/pcscd.comm ] &&
        timeout 20 pkcs11-tool --module "$module" -L 2>/dev/null |
        grep -q 'token label *: My Number Card'; then
        say "A My Number Card is in a reader"
        pkcs11-tool --module "$module" -L
        say "Its public objects (no PIN needed)"
        pkcs11-tool --module "$module" --slot-index 0 -O
        echo
        echo "To sign, log in with your PIN, e.g.:"
        echo "  pkcs11-tool --module $module --slot-index 0 --login --sign -m SHA256-RSA-PKCS -i FILE -o FILE.sig"
        exit 0
    fi
    say "No My Number Card found: showing the virtual card instead"
    exec bash "$0" --virtual
fi

# ---- The virtual card, in a private pcscd (a mount namespace of its own) ----
MYNACARD_EMU=${MYNACARD_EMU:-$top/build/tests/emu/mynacard-emu}
export MYNACARD_EMU
# lib.sh re-executes this script inside its own mount namespace.
# shellcheck source=tests/system/lib.sh
source "$top/tests/system/lib.sh"
module="$(p11_module_path)/mynacard-pkcs11.so"

sys_setup
sys_start_pcscd
say "A new virtual My Number Card (mynacard-emu init): PIN 1234, signature password ABC123"
sys_card_init "$SYS_WORK/card"
sys_start_emu "$SYS_WORK/card"
echo "inserted into pcscd's reader '$SYS_READER'"

say "The card's two tokens (pkcs11-tool -L)"
pkcs11-tool --module "$module" -L | grep -v '(empty)' | grep -B1 -A9 'My Number Card'

say "The authentication token's objects, no PIN needed (pkcs11-tool -O)"
pkcs11-tool --module "$module" --slot-index 0 -O

say "Signing with the authentication key (PIN 1234), verified with openssl"
echo "Hello from mynacard" >"$SYS_WORK/hello.txt"
pkcs11-tool --module "$module" --slot-index 0 --read-object --type cert \
    --id 01 -o "$SYS_WORK/auth.der" >/dev/null
openssl x509 -inform DER -in "$SYS_WORK/auth.der" -out "$SYS_WORK/auth.pem"
pkcs11-tool --module "$module" --slot-index 0 --login --pin 1234 --sign \
    -m SHA256-RSA-PKCS -i "$SYS_WORK/hello.txt" -o "$SYS_WORK/hello.sig"
openssl dgst -sha256 -verify <(openssl x509 -in "$SYS_WORK/auth.pem" -pubkey -noout) \
    -signature "$SYS_WORK/hello.sig" "$SYS_WORK/hello.txt"

say "The same tokens through p11-kit, as GnuTLS programs see them (p11tool)"
p11tool --list-tokens 2>/dev/null | grep -B1 -A6 'My Number Card' || true

say "Done"
echo "Make a virtual card of your own:  mynacard-emu init DIR   (mynacard-emu --help)"
