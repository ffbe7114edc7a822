# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# Shared by the Mynaportal browser tests (test-portal-*.sh), sourced with
# HERE set to their directory; it sources tests/system/lib.sh (with
# SYS_PRIVATE_NET=1, and TAP's skip) and module/common.sh first: the
# virtual card with a chosen manufacture number, the test site
# (server.py) over HTTPS as portal.test.go.jp:443 in the test's own network
# namespace and hosts file, its test CA, the native messaging host
# manifests as `mynacard-tool setup mynaportal` writes them, and the
# checks both browsers share.

export SYS_SKIP_STATUS=${SYS_SKIP_STATUS:-0}    # TAP: the plan says skip
export SYS_PRIVATE_NET=1
. "$HERE/../lib.sh"
. "$HERE/../module/common.sh"

PORTAL_HOST=portal.test.go.jp
PORTAL_URL=https://$PORTAL_HOST
EXT_ID=iblcbagoigccfdmjdapagpgincgbbcki
# The card's manufacture number (13 characters), given to the emulator
# and used by the server to recompute combination_code.
MANUFACTURE=${MANUFACTURE:-AB12345678901}
MC_TEXT_PIN=${MC_TEXT_PIN:-5678}
# The holder the virtual card is made for (test data), and what the
# card-info application gives for it: family and given name apart by
# U+3000, the birth date as YYYYMMDD (init takes an era digit first).
HOLDER_NAME="試験　花子"
HOLDER_ADDRESS="東京都千代田区霞が関一丁目1番1号"
HOLDER_BIRTH=19850401
HOLDER_SEX=2
PY=${MYNACARD_PYTHON3:-/usr/bin/python3}

portal_need() {
    [ -x "${MYNACARD_TOOL:-}" ] || sys_skip "MYNACARD_TOOL is not set"
    [ -x "${MYNACARD_MPA:-}" ] || sys_skip "MYNACARD_MPA is not set (mynacard-mpa not built)"
    [ -d "${MYNACARD_EXTENSION_DIR:-}" ] || sys_skip "MYNACARD_EXTENSION_DIR is not set"
    [ -f "${MYNACARD_EXTENSION_XPI:-}" ] || sys_skip "MYNACARD_EXTENSION_XPI is not set"
    mc_need certutil openssl timeout mount ip
}

# portal_setup: card, pcscd, emulator, hosts, PKI, server; CARD, PKI set.
portal_setup() {
    sys_setup
    # The driver's --after for a login: the VERIFY commands the card has
    # had (lib.sh's verify_count, as one shell command).
    VERIFY_COUNT="grep -c '^> 00 20 00 80 \\[data redacted\\]' '$SYS_WORK/emu-apdu.log'"
    sys_hosts "$PORTAL_HOST"
    export XDG_CONFIG_HOME="$HOME/.config"
    CARD="$SYS_WORK/card"
    sys_card_init "$CARD" --auth-pin "$MC_AUTH_PIN" --sign-pin "$MC_SIGN_PIN" \
        --manufacture-number "$MANUFACTURE" --text-pin "$MC_TEXT_PIN" \
        --name "$HOLDER_NAME" --address "$HOLDER_ADDRESS" \
        --birth "3$HOLDER_BIRTH" --sex "$HOLDER_SEX"
    sys_start_pcscd
    sys_start_emu "$CARD"
    PKI="$SYS_WORK/pki"
    mc_server_pki "$PKI" "$PORTAL_HOST"
    "$PY" "$HERE/server.py" --port 443 --cert "$PKI/srv.pem" --key "$PKI/srv.key" \
        --card-cert "$CARD/auth.crt.pem" --card-sign-cert "$CARD/sign.crt.pem" \
        --manufacture-number "$MANUFACTURE" \
        --mpa-config "$XDG_CONFIG_HOME/mynacard/mpa.json" \
        --out "$SYS_WORK/site.jsonl" --ready "$SYS_WORK/site.ready" \
        >"$SYS_WORK/site.log" 2>&1 &
    SITE_PID=$!
    sys_track "$SITE_PID"
    for _ in $(seq 100); do
        [ -e "$SYS_WORK/site.ready" ] && break
        sys_alive "$SITE_PID" || { cat "$SYS_WORK/site.log"; sys_fail "server.py died"; }
        sleep 0.1
    done
    [ -e "$SYS_WORK/site.ready" ] || sys_fail "server.py did not start"
}

# j FILE EXPR [ARGS]: a field of a JSON file (a python expression on d;
# ARGS are sys.argv[3:]).
j() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# The site's last record of KIND (login, report), as JSON.
site_last() {
    "$PY" -c 'import json,sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] == sys.argv[2]:
        last = r["data"]
print(json.dumps(last, ensure_ascii=False))' "$SYS_WORK/site.jsonl" "$1"
}

# portal_login_checks RUN.json NAME WRONG: what a login through the page
# shows, the same for both browsers, after WRONG wrong PINs.  V0 is
# verify_count before the run; the driver ran $VERIFY_COUNT (--after) once
# the page had its verdict.
portal_login_checks() {
    local r=$1 b=$2 wrong=$3 v1
    v1=$(j "$r" 'd.get("after", "").strip()')     # the driver's VERIFY_COUNT
    j "$r" 'json.dumps(d, ensure_ascii=False)' | sed 's/^/#   run: /'
    sed 's/^/#   site: /' "$SYS_WORK/site.jsonl"
    sys_ok "$b: the login ran to the page's verdict ($(j "$r" 'd["seconds"]') s)" \
        test "$(j "$r" '"error" in d')" = False
    sys_ok "  the page found the hidden inputs (extension-is-installed 24, app-is-installed 29)" \
        test "$(j "$r" 'd["page"]["ext"], d["page"]["app"]')" = "('24', '29')"
    sys_ok "  ... already while the parser was in the body, before load" \
        test "$(j "$r" 'd["page"]["early"]["ext"], d["page"]["early"]["app"]')" = "('24', '29')"
    sys_ok "  navigator.userAgent says Windows NT 10.0; Win64; x64, platform Win32" \
        eval 'j "$r" "d[\"page\"][\"ua\"]" | grep -qF "(Windows NT 10.0; Win64; x64" &&
              test "$(j "$r" "d[\"page\"][\"platform\"]")" = Win32'
    sys_ok "  the PIN window names the site and the purpose (ログイン)" \
        eval 'j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "$PORTAL_URL" &&
              j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "ログイン"'
    sys_ok "  it asks for the 利用者証明用暗証番号 and shows 3 tries" \
        eval 'j "$r" "d[\"dialog\"][\"label\"]" | grep -qF 利用者証明用暗証番号 &&
              j "$r" "d[\"dialog\"][\"tries\"]" | grep -qF "残り回数: 3回"'
    sys_ok "  a badly formatted PIN (12a) is refused in the window" \
        eval 'j "$r" "d[\"bad_format\"][\"error\"]" | grep -qF "形式が違います"'
    sys_ok "  a wrong PIN: the window asks again, 2 tries left" \
        eval 'j "$r" "d[\"wrong\"][\"tries\"]" | grep -qF "残り回数: 2回" &&
              j "$r" "d[\"wrong\"][\"error\"]" | grep -qF "暗証番号が違います"'
    sys_ok "  ... and the card says 2 tries left then (mynacard-emu status)" \
        eval 'j "$r" "d[\"between\"]" | awk "\$1 == \"auth-tries\" { print \$2 }" | grep -qx 2'
    sys_ok "  $((wrong + 1)) PINs reached the card, the bad-format one never ($V0 -> $v1 VERIFY)" \
        test "$((v1 - V0))" = "$((wrong + 1))"
    sys_ok "  the server verified the login (signature, certificate, uuid, combination_code)" \
        test "$(j "$r" 'd["page"]["verdict"]')" = "LOGIN OK"
    sys_ok "  ... in its own record too" \
        test "$(site_last login)" = '{"verdict": "ok", "why": []}'
    sys_ok "  the card is back at 3 tries" tries auth 3
}

# portal_cardinfo_checks RUN.json NAME: the card-info read (mode 04).
portal_cardinfo_checks() {
    local r=$1 b=$2
    j "$r" 'json.dumps({k: v for k, v in d.items() if k != "page"}, ensure_ascii=False)' |
        sed 's/^/#   run: /'
    sys_ok "$b: the card-info read ran to the page's verdict ($(j "$r" 'd["seconds"]') s)" \
        test "$(j "$r" '"error" in d')" = False
    sys_ok "  the PIN window names the site and what is read (氏名・住所・生年月日・性別の読み取り)" \
        eval 'j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "$PORTAL_URL" &&
              j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "氏名・住所・生年月日・性別の読み取り"'
    sys_ok "  it asks for the 券面事項入力補助用暗証番号, 3 tries" \
        eval 'j "$r" "d[\"dialog\"][\"label\"]" | grep -qF 券面事項入力補助用暗証番号 &&
              j "$r" "d[\"dialog\"][\"tries\"]" | grep -qF "残り回数: 3回"'
    sys_ok "  the page says CARDINFO OK" test "$(j "$r" 'd["page"]["verdict"]')" = "CARDINFO OK"
    sys_ok "  its form has the card's name" test "$(j "$r" 'd["page"]["name"]')" = "$HOLDER_NAME"
    sys_ok "  ... address" test "$(j "$r" 'd["page"]["address"]')" = "$HOLDER_ADDRESS"
    sys_ok "  ... birth date" test "$(j "$r" 'd["page"]["birthday"]')" = "$HOLDER_BIRTH"
    sys_ok "  ... sex" test "$(j "$r" 'd["page"]["sex"]')" = "$HOLDER_SEX"
}

# portal_sign_checks RUN.json NAME: a signature over two documents (mode
# 02), the password typed in lower case after a badly formatted one.
portal_sign_checks() {
    local r=$1 b=$2
    j "$r" 'json.dumps(d, ensure_ascii=False)' | sed 's/^/#   run: /'
    sys_ok "$b: the signature ran to the page's verdict ($(j "$r" 'd["seconds"]') s)" \
        test "$(j "$r" '"error" in d')" = False
    sys_ok "  the PIN window names the site and the purpose (2件の文書への署名)" \
        eval 'j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "$PORTAL_URL" &&
              j "$r" "d[\"dialog\"][\"who\"]" | grep -qF "2件の文書への署名"'
    sys_ok "  it asks for the 署名用パスワード, 5 tries" \
        eval 'j "$r" "d[\"dialog\"][\"label\"]" | grep -qF 署名用パスワード &&
              j "$r" "d[\"dialog\"][\"tries\"]" | grep -qF "残り回数: 5回"'
    sys_ok "  a 5-character password is refused in the window" \
        eval 'j "$r" "d[\"bad_format\"][\"error\"]" | grep -qF "形式が違います"'
    sys_ok "  the password typed in lower case signs (folded to upper case): the server verified both signatures" \
        test "$(j "$r" 'd["page"]["verdict"]')" = "SIGN OK"
    sys_ok "  ... in its own record too" \
        test "$(site_last sign)" = '{"verdict": "ok", "why": []}'
    sys_ok "  the card keeps 5 tries of the signature password" tries sign 5
}
