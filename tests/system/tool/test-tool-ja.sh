#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool in Japanese over a private pcscd and the virtual card:
# each situation run twice, under LC_ALL=ja_JP.UTF-8 and C.UTF-8, over
# the catalogs built in po/ (MYNACARD_LOCALEDIR).  The Japanese run says
# the same thing in Japanese with the card's official terms, and no
# English sentence is left in it; the English run is today's English; and
# --json prints the same bytes under both.  Situations: no pcscd, a reader
# without a card, status on a fresh card (with --sign --personal), a
# wrong PIN (one try spent, said in Japanese), the PIN prompts typed into
# a terminal (tmux), a PIN of the wrong format
# (nothing sent), doctor, setup nss, setup mynaportal's refusals,
# check-pss, --help, an expired card and a blocked PIN.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tool-lib.sh"

tool_need
locale -a | grep -qix 'ja_JP.utf8' ||
    sys_fail "the ja_JP.UTF-8 locale is missing (.ci/deps generates it)"
[ -n "${MYNACARD_LOCALEDIR:-}" ] && [ -f "$MYNACARD_LOCALEDIR/ja/LC_MESSAGES/mynacard-tool.mo" ] ||
    sys_fail "no built Japanese catalog in MYNACARD_LOCALEDIR (${MYNACARD_LOCALEDIR:-unset})"
unset LANGUAGE LANG LC_MESSAGES
sys_setup
CARD="$SYS_WORK/card"
AUTH=4826
SIGN=PASS2468
sys_card_init "$CARD" --auth-pin $AUTH --sign-pin $SIGN \
    --name '山田 花子' --address '東京都千代田区千代田1-1' --birth 419900101 --sex 2

# ja NAME ARGS... / en NAME ARGS...: t (tool-lib.sh) under each locale;
# ja_in / en_in with stdin.
ja() { LC_ALL=ja_JP.UTF-8 t "$@"; }
en() { LC_ALL=C.UTF-8 t "$@"; }
ja_in() { LC_ALL=ja_JP.UTF-8 t_in "$@"; }
en_in() { LC_ALL=C.UTF-8 t_in "$@"; }

# no_english NAME: neither NAME.out nor NAME.err has one of the tool's
# English words (program names, paths and commands aside).
no_english() {
    local w hit=0
    for w in "tries" "Card:" "Subject" "Issuer" "Readers" "certificate" \
             "PIN" "password" "not running" "registered" "fix:" "WARNING" \
             "cannot" "nothing was" "Usage" "usage:" "(^|[^-])reader"; do
        if grep -qE -- "$w" "$SYS_WORK/$1.out" "$SYS_WORK/$1.err"; then
            echo "#   English left in $1: $w"
            hit=1
        fi
    done
    return $hit
}

# same_json NAME_JA NAME_EN: both parse and are byte for byte the same.
same_json() {
    json_ok "$1" && json_ok "$2" && cmp "$SYS_WORK/$1.out" "$SYS_WORK/$2.out"
}

# ---- --help ----
ja help-ja --help
en help-en --help
sys_ok "--help: Japanese under ja_JP.UTF-8" \
    eval 'has help-ja "使い方: mynacard-tool コマンド [オプション]" && no_english help-ja'
sys_ok "--help: English under C.UTF-8" has help-en "Usage: mynacard-tool COMMAND [OPTIONS]"

# ---- no pcscd: a tmpfs of our own on /run/pcscd hides any system one ----
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || sys_skip "cannot mount a tmpfs on /run/pcscd"
ja nopcscd-ja status
en nopcscd-en status
sys_ok "no pcscd, ja: exit 3, 「pcscd: 動いていません」" \
    eval 'rc_is nopcscd-ja 3 && has nopcscd-ja "pcscd: 動いていません" &&
          err_has nopcscd-ja "pcscd が動いていないか、接続できません" && no_english nopcscd-ja'
sys_ok "no pcscd, en: unchanged" \
    eval 'rc_is nopcscd-en 3 && has nopcscd-en "pcscd: not running" &&
          err_has nopcscd-en "pcscd is not running or not reachable"'
ja nopcscd-json-ja status --json
en nopcscd-json-en status --json
sys_ok "no pcscd: --json the same bytes under both" same_json nopcscd-json-ja nopcscd-json-en
umount /run/pcscd

# ---- a reader, no card ----
sys_start_pcscd
ja nocard-ja status
en nocard-en status
sys_ok "no card, ja: exit 4, the reader has カードなし, insert your マイナンバーカード" \
    eval 'rc_is nocard-ja 4 && has nocard-ja "$SYS_READER: カードなし" &&
          err_has nocard-ja "カードリーダーにカードがありません: マイナンバーカードを挿入してください" &&
          no_english nocard-ja'
sys_ok "no card, en: unchanged" \
    eval 'rc_is nocard-en 4 && has nocard-en "$SYS_READER: no card" &&
          err_has nocard-en "no card in the reader: insert your My Number Card"'
ja nocard-json-ja status --json
en nocard-json-en status --json
sys_ok "no card: --json the same bytes under both" same_json nocard-json-ja nocard-json-en
ja_in nocard-pin-ja "$AUTH" verify-pin auth --stdin
sys_ok "verify-pin without a card, ja: exit 4, said in Japanese" \
    eval 'rc_is nocard-pin-ja 4 && err_has nocard-pin-ja "マイナンバーカードを挿入してください" && no_english nocard-pin-ja'

# ---- a fresh card: status ----
sys_start_emu "$CARD"
subj=$(openssl x509 -in "$CARD/auth.crt.pem" -noout -subject | sed 's/^subject=//')
ja fresh-ja status
en fresh-en status
sys_ok "status, ja: exit 0, カード: マイナンバーカード in the reader" \
    eval 'rc_is fresh-ja 0 && has fresh-ja "カード: マイナンバーカード (JPKIAPICCTOKEN2)、カードリーダー: $SYS_READER"'
sys_ok "  利用者証明用暗証番号: 残り 3 回, 署名用パスワード: 残り 5 回" \
    eval 'has fresh-ja "利用者証明用暗証番号: 残り 3 回 (全 3 回)" &&
          has fresh-ja "署名用パスワード: 残り 5 回 (全 5 回)"'
sys_ok "  利用者証明用電子証明書 with its subject; the CA certificates" \
    eval 'has fresh-ja "利用者証明用電子証明書" && has fresh-ja "  主体者:   $subj" &&
          has fresh-ja "利用者証明用 CA の電子証明書" && has fresh-ja "署名用 CA の電子証明書"'
sys_ok "  the 署名用電子証明書 needs the 署名用パスワード" \
    has fresh-ja "署名用電子証明書: 表示していません"
sys_ok "  no English sentence left" no_english fresh-ja
sys_ok "status, en: unchanged" \
    eval 'rc_is fresh-en 0 && has fresh-en "Card: My Number Card (JPKIAPICCTOKEN2) in $SYS_READER" &&
          has fresh-en "Authentication PIN: 3 of 3 tries left" &&
          has fresh-en "Authentication certificate (利用者証明用電子証明書)"'
ja fresh-json-ja status --json
en fresh-json-en status --json
sys_ok "status: --json the same bytes under both" same_json fresh-json-ja fresh-json-en

ja_in sign-ja "$SIGN" status --sign --personal --stdin
en_in sign-en "$SIGN" status --sign --personal --stdin
sys_ok "status --sign --personal, ja: 署名用電子証明書 and the holder's facts" \
    eval 'rc_is sign-ja 0 && has sign-ja "署名用電子証明書" &&
          has sign-ja "基本 4 情報 (署名用電子証明書より):" && has sign-ja "  性別:           女性" &&
          has sign-ja "山田 花子" && no_english sign-ja'
sys_ok "status --sign --personal, en: unchanged" \
    eval 'rc_is sign-en 0 && has sign-en "Personal fields (from the signature certificate):" &&
          has sign-en "  Sex:        female"'
ja_in sign-json-ja "$SIGN" status --sign --personal --stdin --json
en_in sign-json-en "$SIGN" status --sign --personal --stdin --json
sys_ok "status --sign --personal: --json the same bytes under both" \
    eval 'same_json sign-json-ja sign-json-en && jq_is sign-json-ja "d[\"personal\"][\"sex\"]" female'

# ---- a wrong PIN ----
n=$(verify_count)
ja_in bad-ja 0000 verify-pin auth --stdin
sys_ok "a wrong PIN, ja: exit 5, one VERIFY, one try spent" \
    eval 'rc_is bad-ja 5 && [ "$(verify_count)" = $((n + 1)) ] && tries auth 2'
sys_ok "  「利用者証明用暗証番号が違います」, 現在の残り 2 回" \
    eval 'err_has bad-ja "利用者証明用暗証番号が違います" &&
          has bad-ja "利用者証明用暗証番号: 残り 3 回 (全 3 回)" &&
          has bad-ja "利用者証明用暗証番号: 現在の残り 2 回 (全 3 回)" && no_english bad-ja'
ja_in good-ja "$AUTH" verify-pin auth --stdin
sys_ok "the right PIN, ja: exit 0, 「利用者証明用暗証番号は正しいです。」, 3 tries again" \
    eval 'rc_is good-ja 0 && has good-ja "利用者証明用暗証番号は正しいです。" && tries auth 3 && no_english good-ja'
en_in bad-en 0000 verify-pin auth --stdin
sys_ok "a wrong PIN, en: unchanged" \
    eval 'rc_is bad-en 5 && err_has bad-en "wrong authentication PIN" &&
          has bad-en "Authentication PIN: 2 of 3 tries left now"'
en_in good-en "$AUTH" verify-pin auth --stdin
ja_in bad-json-ja 0000 verify-pin auth --stdin --json
ja_in good-json-ja "$AUTH" verify-pin auth --stdin
en_in bad-json-en 0000 verify-pin auth --stdin --json
en_in good-json-en "$AUTH" verify-pin auth --stdin
sys_ok "a wrong PIN: --json the same bytes under both (3 tries before, 2 after)" \
    eval 'same_json bad-json-ja bad-json-en && jq_is bad-json-ja "(d[\"tries_before\"], d[\"tries_after\"], d[\"result\"])" "(3, 2, '"'"'incorrect'"'"')"'
sys_ok "  and 3 tries again after the right one" tries auth 3

# ---- the prompts on a terminal: verify-pin and change-pin, typed ----
if command -v tmux >/dev/null; then
    n=$(verify_count)
    tm_run "LC_ALL=ja_JP.UTF-8 '$MYNACARD_TOOL' verify-pin auth"
    sys_ok "verify-pin on a terminal, ja: the prompt is 「利用者証明用暗証番号:」" \
        tm_wait_line '^利用者証明用暗証番号:$'
    tm_type "$AUTH"
    rc=$(tm_exit)
    tm_save tty-ja
    sys_ok "  the right PIN typed: exit 0, one VERIFY, said in Japanese, the PIN not shown" \
        eval '[ "$rc" = 0 ] && [ "$(verify_count)" = $((n + 1)) ] &&
              grep -qx "利用者証明用暗証番号は正しいです。" "$SYS_WORK/tty-ja.screen" &&
              ! grep -qF "$AUTH" "$SYS_WORK/tty-ja.screen"'
    tm_stop
    tm_run "LC_ALL=ja_JP.UTF-8 '$MYNACARD_TOOL' change-pin sign"
    sys_ok "change-pin on a terminal, ja: 「現在の署名用パスワード:」" \
        tm_wait_line '^現在の署名用パスワード:$'
    tm_type "$SIGN"
    sys_ok "  then 「新しい署名用パスワード:」" tm_wait_line '^新しい署名用パスワード:$'
    tm_type NEWPASS1
    sys_ok "  then 「新しい署名用パスワード (確認のためもう一度):」" \
        tm_wait_line '^新しい署名用パスワード \(確認のためもう一度\):$'
    tm_type NEWPASS2
    rc=$(tm_exit)
    tm_save tty-chg-ja
    sys_ok "  two different new passwords: exit 8, nothing sent, said in Japanese" \
        eval '[ "$rc" = 8 ] && [ "$(verify_count)" = $((n + 1)) ] &&
              grep -qF "2 回入力した新しい署名用パスワードが一致しません" "$SYS_WORK/tty-chg-ja.screen"'
    tm_stop
else
    sys_ok "the prompts on a terminal # SKIP tmux is missing" true
fi

# ---- a PIN of the wrong format: nothing sent ----
n=$(verify_count)
ja_in fmt-ja 12 verify-pin auth --stdin
sys_ok "a PIN of the wrong format, ja: exit 7, nothing sent, said in Japanese" \
    eval 'rc_is fmt-ja 7 && [ "$(verify_count)" = "$n" ] && tries auth 3 &&
          err_has fmt-ja "受け付けられません: 利用者証明用暗証番号は数字 4 桁です" && no_english fmt-ja'
ja_in fmt-sign-ja "pass" verify-pin sign --stdin
sys_ok "  the 署名用パスワード's rule too" \
    eval 'rc_is fmt-sign-ja 7 && err_has fmt-sign-ja "署名用パスワードは英大文字 A-Z と数字 0-9 の 6〜16 文字です"'

# ---- doctor ----
ja doctor-ja doctor
en doctor-en doctor
sys_ok "doctor, ja: pcscd, the reader, the card, both PINs, the certificate in Japanese" \
    eval 'has doctor-ja "[ ok ] pcscd は動いています" &&
          has doctor-ja "[ ok ] カードリーダー: $SYS_READER" &&
          has doctor-ja "[ ok ] 利用者証明用暗証番号の残り回数は 3 回すべて残っています" &&
          has doctor-ja "[ ok ] 署名用パスワードの残り回数は 5 回すべて残っています" &&
          has doctor-ja "[ ok ] 利用者証明用電子証明書は " && has doctor-ja "対処: "'
sys_ok "  no English sentence left" no_english doctor-ja
sys_ok "doctor, en: unchanged" \
    eval 'has doctor-en "[ ok ] pcscd is running" && has doctor-en "[ ok ] the authentication PIN has all its 3 tries"'
sys_ok "doctor: the same exit status under both" \
    eval '[ "$(cat "$SYS_WORK/doctor-ja.rc")" = "$(cat "$SYS_WORK/doctor-en.rc")" ]'
ja doctor-json-ja doctor --json
en doctor-json-en doctor --json
sys_ok "doctor: --json the same bytes under both (its messages stay English)" \
    eval 'same_json doctor-json-ja doctor-json-en &&
          jq_is doctor-json-ja "[c[\"message\"] for c in d[\"checks\"] if c[\"check\"] == \"pcscd\"]" "['"'"'pcscd is running'"'"']"'

# ---- setup nss ----
if command -v modutil >/dev/null && command -v certutil >/dev/null; then
    ja setup-ja setup nss
    sys_ok "setup nss, ja: exit 0, 登録しました" \
        eval 'rc_is setup-ja 0 && has setup-ja "$HOME/.pki/nssdb: 登録しました (Chromium などの NSS を使うプログラムが使います)" && no_english setup-ja'
    en setup-again-en setup nss
    sys_ok "setup nss again, en: unchanged (already registered)" \
        has setup-again-en "$HOME/.pki/nssdb: already registered (used by Chromium and other NSS programs)"
    ja setup-rm-ja setup nss --remove
    sys_ok "setup nss --remove, ja: 削除しました" has setup-rm-ja "$HOME/.pki/nssdb: 削除しました"
    ja setup-json-ja setup nss --json
    en setup-rm2 setup nss --remove
    en setup-json-en setup nss --json
    sys_ok "setup nss: --json the same bytes under both" same_json setup-json-ja setup-json-en
    ja setup-bad-ja setup frobnicate
    sys_ok "setup with an unknown target, ja: exit 2, said in Japanese" \
        eval 'rc_is setup-bad-ja 2 && err_has setup-bad-ja "不明な対象「frobnicate」です"'
else
    sys_ok "setup nss # SKIP modutil/certutil (libnss3-tools) missing" true
fi

# ---- setup mynaportal: refusals before anything is written ----
ja mp-unsigned-ja setup mynaportal --system --allow-unsigned
en mp-unsigned-en setup mynaportal --system --allow-unsigned
sys_ok "setup mynaportal --system --allow-unsigned, ja: exit 2, said in Japanese" \
    eval 'rc_is mp-unsigned-ja 2 && err_has mp-unsigned-ja "--allow-unsigned は自分の Firefox プロファイルを変更します" && no_english mp-unsigned-ja'
sys_ok "  en: unchanged" \
    eval 'rc_is mp-unsigned-en 2 && err_has mp-unsigned-en "--allow-unsigned changes your own Firefox profiles"'
MYNACARD_MPA=relative/mynacard-mpa ja mp-rel-ja setup mynaportal
sys_ok "setup mynaportal with a relative host program, ja: exit 1, 絶対パスではありません" \
    eval 'rc_is mp-rel-ja 1 && err_has mp-rel-ja "ホストプログラム relative/mynacard-mpa は絶対パスではありません"'

# ---- check-pss: the introduction and the verdict in Japanese ----
ja_in pss-ja "$AUTH" check-pss --stdin
sys_ok "check-pss, ja: the introduction in Japanese, no try spent" \
    eval 'has pss-ja "カードが TLS 1.3 のサイト向けの署名 (RSA-PSS 署名) を作れるか確認します。" && tries auth 3 && no_english pss-ja'
ja_in pss-json-ja "$AUTH" check-pss --stdin --json
en_in pss-json-en "$AUTH" check-pss --stdin --json
sys_ok "check-pss: --json the same bytes under both" same_json pss-json-ja pss-json-en

# ---- an expired card, then its authentication PIN blocked ----
CARD_EXP="$SYS_WORK/card-expired"
sys_card_init "$CARD_EXP" --auth-pin $AUTH --not-before-days -400 --valid-days 30
sys_stop_emu
sys_start_emu "$CARD_EXP"
CARD=$CARD_EXP    # tries (tool-lib.sh) reads this card now
ja exp-ja status
en exp-en status
sys_ok "an expired card, ja: 警告, renew it at 市区町村の窓口" \
    eval 'has exp-ja "  警告: この電子証明書は " && has exp-ja "に有効期限が切れました。もう使えません" &&
          has exp-ja "市区町村の窓口で更新してください。" && no_english exp-ja'
sys_ok "  en: unchanged" has exp-en "  WARNING: this certificate EXPIRED on "
ja exp-json-ja status --json
en exp-json-en status --json
sys_ok "  --json the same bytes under both (expiry expired)" \
    eval 'same_json exp-json-ja exp-json-en && jq_is exp-json-ja "d[\"expiry\"]" expired'
ja exp-doc-ja doctor
sys_ok "  doctor, ja: [FAIL] and the fix at 市区町村の窓口" \
    eval 'has exp-doc-ja "[FAIL] 利用者証明用電子証明書は " && has exp-doc-ja "に有効期限が切れました" &&
          has exp-doc-ja "対処: 市区町村の窓口で電子証明書を更新してください" && no_english exp-doc-ja'
ja_in blk1 0000 verify-pin auth --stdin
ja_in blk2 0000 verify-pin auth --stdin
ja_in blk3 0000 verify-pin auth --stdin --yes
sys_ok "three wrong PINs, ja: blocked, said in Japanese with 市区町村の窓口" \
    eval 'rc_is blk3 6 && tries auth 0 &&
          err_has blk3 "利用者証明用暗証番号が違い、ロックされました: ロックを解除できるのは市区町村の窓口だけです"'
n=$(verify_count)
ja_in blk-again "$AUTH" verify-pin auth --stdin
sys_ok "  a blocked PIN is not asked for (nothing sent), said in Japanese" \
    eval 'rc_is blk-again 6 && [ "$(verify_count)" = "$n" ] &&
          err_has blk-again "利用者証明用暗証番号はロックされています: ロックを解除できるのは市区町村の窓口だけです" &&
          no_english blk-again'
ja blk-status status
sys_ok "  status, ja: ロックされています" \
    has blk-status "利用者証明用暗証番号: 残り 0 回 (全 3 回) -- ロックされています: ロックを解除できるのは市区町村の窓口だけです"

sys_done
