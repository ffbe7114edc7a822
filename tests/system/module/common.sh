# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Helpers shared by the module's system tests (tests/system/module/test-*.sh),
# sourced after tests/system/lib.sh: pkcs11-tool through a chosen module
# with its output kept in $SYS_WORK/out, parsers of pkcs11-tool's listings
# (tokens, serial numbers, objects by kind and CKA_ID, mechanisms),
# certificate and key conversions with openssl, a free loopback port,
# background servers (openssl s_server) stopped by PID through lib.sh's
# exit trap, and the steps many tests share: a new card with the test
# PINs (mc_new_card, mc_start_card), an NSS database with a module in it,
# a meson install seen by p11-kit, a Firefox profile's user.js.  Also
# sourced by the client, browser, fault and Mynaportal tests.  Everything
# here connects to 127.0.0.1 only.

MC_AUTH_PIN=${MC_AUTH_PIN:-1234}
MC_SIGN_PIN=${MC_SIGN_PIN:-ABC123}

# mc_new_card [mynacard-emu init options]: the test's work directory, a
# new card in $CARD with the PINs MC_AUTH_PIN and MC_SIGN_PIN, and the
# private pcscd; the card is not inserted yet.
mc_new_card() {
    sys_setup
    CARD="$SYS_WORK/card"
    sys_card_init "$CARD" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN" "$@"
    sys_start_pcscd
}

# mc_start_card [mynacard-emu init options]: the same, and the card
# inserted in the reader.
mc_start_card() {
    mc_new_card "$@"
    sys_start_emu "$CARD"
}

# mc_need_module VAR: skip unless the module named by $VAR exists.
mc_need_module() {
    local var=$1 path
    path=${!var:-}
    [ -n "$path" ] || sys_skip "$var is not set (module not built)"
    [ -e "$path" ] || sys_skip "$var=$path does not exist"
}

mc_need() {
    local prog
    for prog in "$@"; do
        command -v "$prog" >/dev/null || sys_skip "$prog is missing"
    done
}

# p11m MODULE [pkcs11-tool arguments]: output in $SYS_WORK/out, shown as
# TAP comments; returns pkcs11-tool's status.  Never waits on a terminal.
p11m() {
    local mod=$1 rc
    shift
    timeout 300 pkcs11-tool --module "$mod" "$@" </dev/null \
        >"$SYS_WORK/out" 2>&1
    rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

out_has() {
    grep -qF -- "$1" "$SYS_WORK/out"
}

out_lacks() {
    ! grep -qF -- "$1" "$SYS_WORK/out"
}

out_matches() {
    grep -qE -- "$1" "$SYS_WORK/out"
}

# Keep a copy of the last output under a name.
out_save() {
    cp "$SYS_WORK/out" "$SYS_WORK/$1"
}

# tokens_of FILE: one line per token of a `pkcs11-tool -L` listing,
# "reader description<TAB>label<TAB>serial<TAB>pin min/max<TAB>flags".
tokens_of() {
    awk '
        function flush() {
            if (label != "")
                printf "%s\t%s\t%s\t%s\t%s\n", slot, label, serial, pins, flags
            label = ""; serial = ""; pins = ""; flags = ""
        }
        /^Slot [0-9]+ / { flush(); slot = $0; sub(/^Slot [0-9]+ \([^)]*\): /, "", slot) }
        /^  token label *: / { label = $0; sub(/^  token label *: /, "", label) }
        /^  serial num *: / { serial = $0; sub(/^  serial num *: /, "", serial) }
        /^  pin min\/max *: / { pins = $0; sub(/^  pin min\/max *: /, "", pins) }
        /^  token flags *: / { flags = $0; sub(/^  token flags *: /, "", flags) }
        END { flush() }
    ' "$1"
}

# mc_tokens MODULE WHO: MODULE's tokens (pkcs11-tool -L, kept in list and,
# parsed, in tokens); AUTH_TOKEN and SIGN_TOKEN are the labels that name
# authentication and signature.  Two checks, "WHO shows" each; with
# either missing the test cannot go on.
mc_tokens() {
    p11m "$1" -L
    out_save list
    tokens_of "$SYS_WORK/list" >"$SYS_WORK/tokens"
    AUTH_TOKEN=$(awk -F '\t' 'tolower($2) ~ /auth/ { print $2; exit }' "$SYS_WORK/tokens")
    SIGN_TOKEN=$(awk -F '\t' 'tolower($2) ~ /sign/ { print $2; exit }' "$SYS_WORK/tokens")
    sys_ok "$2 shows the authentication token ('$AUTH_TOKEN')" test -n "$AUTH_TOKEN"
    sys_ok "$2 shows the signature token ('$SIGN_TOKEN')" test -n "$SIGN_TOKEN"
    [ -n "$AUTH_TOKEN" ] && [ -n "$SIGN_TOKEN" ] || sys_fail "no tokens, nothing to go on with"
}

# objects_of FILE: one line per object of a `pkcs11-tool -O` listing,
# "kind<TAB>ID<TAB>label", kind one of cert, pubkey, privkey, profile,
# data, other.
objects_of() {
    awk '
        function flush() {
            if (kind != "")
                printf "%s\t%s\t%s\n", kind, id, label
            kind = ""; id = ""; label = ""
        }
        /^Certificate Object/ { flush(); kind = "cert"; next }
        /^Public Key Object/ { flush(); kind = "pubkey"; next }
        /^Private Key Object/ { flush(); kind = "privkey"; next }
        /^Profile object/ { flush(); kind = "profile"; next }
        /^Data object/ { flush(); kind = "data"; next }
        /^[A-Z][A-Za-z ]*[Oo]bject/ { flush(); kind = "other"; next }
        /^  ID: / { id = $2 }
        /^  label: / { label = $0; sub(/^  label: */, "", label) }
        END { flush() }
    ' "$1"
}

# has_object FILE KIND ID: the -O listing in FILE has that object.
has_object() {
    objects_of "$1" | awk -F '\t' -v k="$2" -v i="$3" '
        $1 == k && $2 == i { found = 1 } END { exit !found }'
}

lacks_object() {
    ! has_object "$@"
}

# count_objects FILE KIND: how many objects of KIND the listing shows.
count_objects() {
    objects_of "$1" | awk -F '\t' -v k="$2" '$1 == k { n++ } END { print n + 0 }'
}

# ids_of FILE KIND: the CKA_IDs of the objects of KIND, one a line.
ids_of() {
    objects_of "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

# mechs_of FILE: the mechanism names of a `pkcs11-tool -M` listing,
# sorted, one a line.
mechs_of() {
    awk '/^  [^ ]/ { n = $1; sub(/,$/, "", n); print n }' "$1" | sort -u
}

# hex_to_bin HEX OUT
hex_to_bin() {
    local hex=$1 out=$2 esc
    esc=$(printf '%s' "$hex" | sed 's/\(..\)/\\x\1/g')
    printf '%b' "$esc" >"$out"
}

# digest_info ALG DATA OUT: the DER DigestInfo of DATA's ALG digest (the
# input of CKM_RSA_PKCS for a PKCS#1 v1.5 signature).
digest_info() {
    local prefix
    case $1 in
    sha1) prefix=3021300906052b0e03021a05000414 ;;
    sha224) prefix=302d300d06096086480165030402040500041c ;;
    sha256) prefix=3031300d060960864801650304020105000420 ;;
    sha384) prefix=3041300d060960864801650304020205000430 ;;
    sha512) prefix=3051300d060960864801650304020305000440 ;;
    *) return 1 ;;
    esac
    hex_to_bin "$prefix" "$3" &&
        openssl dgst "-$1" -binary "$2" >>"$3"
}

# der_to_pem DER PEM, and the public key of a PEM certificate.
der_to_pem() {
    openssl x509 -inform DER -in "$1" -out "$2" 2>"$SYS_WORK/openssl.err"
}

pubkey_of() {
    openssl x509 -in "$1" -pubkey -noout >"$2" 2>"$SYS_WORK/openssl.err"
}

# same_der A B: two DER files are byte-equal (and not empty).
same_der() {
    [ -s "$1" ] && [ -s "$2" ] && cmp -s "$1" "$2"
}

# same_cert DER PEM: the DER certificate is the PEM one, byte for byte.
same_cert() {
    local tmp=$SYS_WORK/same_cert.der
    openssl x509 -in "$2" -outform DER -out "$tmp" 2>/dev/null &&
        same_der "$1" "$tmp"
}

# subject_of CERT.pem: its subject in OpenSSL's RFC 2253 form.
subject_of() {
    openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'
}

# A TCP port free on 127.0.0.1 (random: other checkouts' tests share the
# network namespace).
mc_free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}

# mc_listening PORT: something listens on 127.0.0.1:PORT.
mc_listening() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"
}

# mc_s_server LOG PORT [openssl s_server options]: start an s_server on
# 127.0.0.1:PORT, tracked by lib.sh's exit trap; MC_SERVER_PID is its PID.
# Waits until it listens.
mc_s_server() {
    local log=$1 port=$2
    shift 2
    openssl s_server -accept "127.0.0.1:$port" "$@" </dev/null >"$log" 2>&1 &
    MC_SERVER_PID=$!
    sys_track "$MC_SERVER_PID"
    for _ in $(seq 100); do
        mc_listening "$port" && return 0
        sys_alive "$MC_SERVER_PID" || { cat "$log"; sys_fail "s_server died"; }
        sleep 0.1
    done
    sys_fail "s_server does not listen on 127.0.0.1:$port"
}

# Stop the s_server: started with -naccept N it leaves by itself after N
# connections, its log complete; give it 10 s to, then stop it.
mc_stop_server() {
    sys_reap "$MC_SERVER_PID" 100
    MC_SERVER_PID=""
}

# mc_server_cert DIR: a self-signed server certificate DIR/srv.pem with
# its key DIR/srv.key (test data, made for this run).
mc_server_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$1/srv.key" -out "$1/srv.pem" >"$SYS_WORK/req.log" 2>&1 ||
        { cat "$SYS_WORK/req.log"; sys_fail "openssl req"; }
}

# mc_run CMD...: run it (no input, at most MC_RUN_TIMEOUT seconds, 300
# unless the test sets it); its output in $SYS_WORK/out and shown as TAP
# comments; its exit status.
mc_run() {
    local rc
    timeout "${MC_RUN_TIMEOUT:-300}" "$@" </dev/null >"$SYS_WORK/out" 2>&1
    rc=$?
    sed 's/^/#   /' "$SYS_WORK/out"
    return "$rc"
}

# mc_server_pki DIR [DNSNAME]: a test CA (DIR/ca.pem) and a server
# certificate that it issued (DIR/srv.pem, DIR/srv.key) for 127.0.0.1, or
# for DNSNAME: browsers refuse a self-signed server certificate even when
# it is trusted (consumers.md).
mc_server_pki() {
    local cn=${2:-127.0.0.1} san=IP:127.0.0.1
    [ -z "${2:-}" ] || san=DNS:$2
    mkdir -p "$1"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
            -subj "/CN=mynacard test server CA" \
            -keyout "$1/ca.key" -out "$1/ca.pem" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" \
            -keyout "$1/srv.key" -out "$1/srv.csr" &&
        printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" \
            >"$1/srv.ext" &&
        openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
            -CAcreateserial -days 2 -extfile "$1/srv.ext" -out "$1/srv.pem"
    } >"$SYS_WORK/pki.log" 2>&1 ||
        { cat "$SYS_WORK/pki.log"; sys_fail "server certificate"; }
}

# mc_cat_comment FILE: show a file as TAP comments.
mc_cat_comment() {
    sed 's/^/#   /' "$1"
}

# mc_firefox_prefs PORT: the user.js lines of a Firefox profile for a
# test: Marionette on 127.0.0.1:PORT, a blank start, and no update,
# telemetry, Safe Browsing or other network traffic of its own.
mc_firefox_prefs() {
    cat <<UJS
user_pref("marionette.port", $1);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.page", 0);
user_pref("browser.startup.homepage", "about:blank");
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "about:blank");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("app.update.enabled", false);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.trr.mode", 5);
user_pref("security.OCSP.enabled", 0);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("remote.prefs.recommended", true);
UJS
}

# mc_nss_db DIR NAME MODULE DESC_NEW DESC_ADD: two checks, an empty NSS
# database in DIR (certutil -N) and the PKCS#11 MODULE added to it as NAME
# (modutil -add), with these descriptions.
mc_nss_db() {
    local db=$1 name=$2 lib=$3
    mkdir -p "$db"
    sys_ok "$4" mc_run certutil -N -d "sql:$db" --empty-password
    sys_ok "$5" mc_run modutil -dbdir "sql:$db" -add "$name" -libfile "$lib" -force
}

# mc_nss_list DB TOKEN: a check, certutil -L -h all on the NSS database
# DB with no PIN given and stdin closed; its listing kept in certutil-L,
# NICK the nickname of TOKEN's user certificate (u,u,u) in it, and v0 the
# card's VERIFY count before.
mc_nss_list() {
    v0=$(verify_count)
    sys_ok "certutil -L -h all, no PIN given, stdin closed" \
        mc_run certutil -L -d "sql:$1" -h all
    out_save certutil-L
    # "TOKEN:LABEL   u,u,u": the nickname is all but the last field.
    NICK=$(awk -v t="$2:" 'index($0, t) == 1 && $NF == "u,u,u" {
            n = $0; sub(/[ \t]+[^ \t]+[ \t]*$/, "", n); print n; exit }' \
        "$SYS_WORK/certutil-L")
}

# mc_nss_export DB DESC: two checks, NSS exports the certificate $NICK of
# the database DB (kept in nss-auth.pem), and it is the card's
# authentication certificate (described DESC).
mc_nss_export() {
    sys_ok "NSS exports that certificate (certutil -L -n ... -a)" \
        mc_run certutil -L -d "sql:$1" -n "${NICK:-none}" -a
    cp "$SYS_WORK/out" "$SYS_WORK/nss-auth.pem"
    sys_ok "$2" \
        eval 'openssl x509 -in "$SYS_WORK/nss-auth.pem" -outform DER -out "$SYS_WORK/nss-auth.der" 2>/dev/null &&
              same_cert "$SYS_WORK/nss-auth.der" "$CARD/auth.crt.pem"'
}

# mc_need_install: skip unless MYNACARD_BUILD_ROOT (or meson's
# MESON_BUILD_ROOT) names this build directory and p11-kit's directories
# exist; REAL_CONFIGS, REAL_MODULES and PROXY are p11-kit's module
# configuration and module directories and its proxy (pkg-config).
mc_need_install() {
    [ -n "${MYNACARD_BUILD_ROOT:-}" ] || MYNACARD_BUILD_ROOT=${MESON_BUILD_ROOT:-}
    [ -n "$MYNACARD_BUILD_ROOT" ] && [ -d "$MYNACARD_BUILD_ROOT/meson-private" ] ||
        sys_skip "MYNACARD_BUILD_ROOT must name the meson build directory"
    REAL_CONFIGS=$(pkg-config --variable=p11_module_configs p11-kit-1)
    REAL_MODULES=$(pkg-config --variable=p11_module_path p11-kit-1)
    PROXY=$(pkg-config --variable=proxy_module p11-kit-1)
    [ -d "$REAL_CONFIGS" ] && [ -d "$REAL_MODULES" ] ||
        sys_skip "p11-kit's directories are missing ($REAL_CONFIGS, $REAL_MODULES)"
}

# mc_meson_install ROOT: `meson install --destdir ROOT` of this build
# (MYNACARD_BUILD_ROOT); its log shown as TAP comments when it fails.
mc_meson_install() {
    meson install -C "$MYNACARD_BUILD_ROOT" --no-rebuild --destdir "$1" \
        >"$SYS_WORK/install.log" 2>&1 || { mc_cat_comment "$SYS_WORK/install.log"; false; }
}

# mc_p11kit_mount ROOT: two checks, p11-kit's configuration and module
# directories (REAL_CONFIGS, REAL_MODULES) replaced by the ones that
# `meson install --destdir ROOT` made, so that p11-kit sees those and
# nothing else; /etc/pkcs11/modules (admins') is hidden too if it exists.
mc_p11kit_mount() {
    local root=$1
    [ -d "$root$REAL_CONFIGS" ] && [ -d "$root$REAL_MODULES" ] ||
        sys_fail "meson install did not make p11-kit's directories"
    sys_ok "bind-mount the installed module files over $REAL_CONFIGS" \
        mount --bind "$root$REAL_CONFIGS" "$REAL_CONFIGS"
    sys_ok "bind-mount the installed modules over $REAL_MODULES" \
        mount --bind "$root$REAL_MODULES" "$REAL_MODULES"
    if [ -d /etc/pkcs11/modules ]; then
        mkdir -p "$SYS_WORK/empty"
        mount --bind "$SYS_WORK/empty" /etc/pkcs11/modules
    fi
}
