#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# mynacard-tool's translations, without a card: every language in
# po/LINGUAS compiles with msgfmt --check and has every message
# translated (none fuzzy, none empty); its messages are exactly those
# xgettext finds in po/POTFILES today (none missing, none left over);
# POTFILES names every tool/*.c that marks a message; no text for people
# in tool/*.c escapes gettext (check-untranslated.py); the Japanese uses
# the card's official terms; and the program speaks Japanese under
# LC_ALL=ja_JP.UTF-8 (--help, an unknown command) and the same English as
# without a catalog under C.UTF-8.  TAP.
# Usage: test-i18n.sh SOURCE_ROOT MYNACARD_TOOL; MYNACARD_LOCALEDIR names
# the built catalogs (build/po).
set -u
src=$1
tool=$2
here=$(dirname "$0")
n=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset LANGUAGE LANG LC_MESSAGES

ok() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@" >"$work/last" 2>&1; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        sed 's/^/#   /' "$work/last" | head -n 40
        failed=$((failed + 1))
    fi
}

# The template as the build makes it (po/meson.build's keywords).
xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=D_ \
    --keyword=DN_:1,2 --keyword=ngettext:1,2 --flag=D_:1:pass-c-format \
    --flag=DN_:1:pass-c-format --flag=DN_:2:pass-c-format \
    --directory="$src" --files-from="$src/po/POTFILES" \
    -o "$work/tool.pot" 2>"$work/xgettext.err"
ok "xgettext reads po/POTFILES" test -s "$work/tool.pot"

all_translated() {
    local po=$1 stats
    msgfmt --check --statistics -o /dev/null "$po" 2>"$work/stats" || {
        cat "$work/stats"; return 1; }
    stats=$(cat "$work/stats")
    echo "$stats"
    case $stats in
    *fuzzy*|*untranslated*) return 1 ;;
    esac
    [ -z "$(msgattrib --only-fuzzy --no-obsolete "$po")" ] &&
        [ -z "$(msgattrib --untranslated --no-obsolete "$po")" ] &&
        [ -z "$(msgattrib --only-obsolete "$po")" ]
}

for lang in $(grep -v '^#' "$src/po/LINGUAS"); do
    po=$src/po/$lang.po
    ok "$lang.po: msgfmt --check passes, every message translated, none fuzzy or obsolete" \
        all_translated "$po"
    ok "$lang.po: has every message xgettext finds in tool/ today" \
        msgcmp "$po" "$work/tool.pot"
    ok "$lang.po: has no message that tool/ no longer has" \
        msgcmp --use-untranslated "$work/tool.pot" "$po"
done

potfiles_complete() {
    local f missing=0
    for f in "$src"/tool/*.c; do
        if grep -Eq '\b(_|N_|D_|DN_|ngettext)\(' "$f" &&
            ! grep -qx "tool/$(basename "$f")" "$src/po/POTFILES"; then
            echo "tool/$(basename "$f") marks messages but is not in po/POTFILES"
            missing=1
        fi
    done
    return $missing
}
ok "po/POTFILES names every tool/*.c that marks a message" potfiles_complete
ok "no text for people in tool/*.c escapes gettext" \
    python3 "$here/check-untranslated.py" "$src/tool"

# The card's official terms: an English term in a message is always
# rendered by the same Japanese one.
glossary() {
    python3 - "$src/po/ja.po" <<'PY'
import re, subprocess, sys
terms = [
    ('authentication PIN', '利用者証明用暗証番号'),
    ('signature password', '署名用パスワード'),
    ('authentication certificate', '利用者証明用電子証明書'),
    ('signature certificate', '署名用電子証明書'),
    ('My Number Card', 'マイナンバーカード'),
    ('municipal office', '市区町村の窓口'),
    ('reader', 'カードリーダー'),
]
out = subprocess.run(['msgexec', '-i', sys.argv[1], 'sh', '-c',
                      'printf "%s\\037" "$MSGEXEC_MSGID"; cat; printf "\\036"'],
                     capture_output=True, text=True, check=True).stdout
bad = 0
for rec in out.split('\x1e'):
    if '\x1f' not in rec:
        continue
    msgid, msgstr = rec.split('\x1f', 1)
    if not msgid:
        continue
    for en, ja in terms:
        # "--reader NAME" is an option, not the word.
        if re.search(r'(?<!-)\b' + re.escape(en), msgid, re.I) and ja not in msgstr:
            print(f'"{msgid[:70]}": "{en}" is not rendered as {ja}')
            bad += 1
print(f'{bad} message(s) without the official term')
sys.exit(1 if bad else 0)
PY
}
ok "ja.po: the card's official terms (利用者証明用暗証番号, 署名用パスワード, ...)" glossary

ja_locale() {
    locale -a | grep -qix 'ja_JP.utf8' ||
        { echo "the ja_JP.UTF-8 locale is missing: .ci/deps generates it"; return 1; }
}
ok "the ja_JP.UTF-8 locale exists (.ci/deps)" ja_locale

LC_ALL=ja_JP.UTF-8 "$tool" --help >"$work/help-ja" 2>&1
LC_ALL=C.UTF-8 "$tool" --help >"$work/help-c" 2>&1
LC_ALL=ja_JP.UTF-8 MYNACARD_LOCALEDIR="$work/none" "$tool" --help >"$work/help-none" 2>&1
ok "--help in Japanese under ja_JP.UTF-8" \
    grep -qx '使い方: mynacard-tool コマンド \[オプション\]' "$work/help-ja"
ok "  and lists the exit statuses in Japanese" grep -q '^終了ステータス: 0 成功' "$work/help-ja"
ok "--help in English under C.UTF-8" \
    grep -qx 'Usage: mynacard-tool COMMAND \[OPTIONS\]' "$work/help-c"
ok "  the same text as with no catalog at all (the source English)" \
    cmp "$work/help-c" "$work/help-none"

LC_ALL=ja_JP.UTF-8 "$tool" frobnicate >"$work/unk-ja.out" 2>"$work/unk-ja.err"
echo $? >"$work/unk-ja.rc"
LC_ALL=C.UTF-8 "$tool" frobnicate >"$work/unk-c.out" 2>"$work/unk-c.err"
echo $? >"$work/unk-c.rc"
ok "an unknown command under ja_JP.UTF-8: exit 2, said in Japanese" \
    eval '[ "$(cat "$work/unk-ja.rc")" = 2 ] && grep -qF "mynacard-tool: 不明なコマンド「frobnicate」です" "$work/unk-ja.err"'
ok "  under C.UTF-8: exit 2, said in English" \
    eval '[ "$(cat "$work/unk-c.rc")" = 2 ] && grep -qF "mynacard-tool: unknown command \"frobnicate\"" "$work/unk-c.err"'

LC_ALL=ja_JP.UTF-8 "$tool" --frobnicate >/dev/null 2>"$work/opt-ja.err"
LC_ALL=C.UTF-8 "$tool" --frobnicate >/dev/null 2>"$work/opt-c.err"
ok "an unknown option, ja: said in Japanese (not getopt's English)" \
    eval 'grep -qxF "mynacard-tool: 不明なオプション --frobnicate です" "$work/opt-ja.err" && grep -q "^使い方:" "$work/opt-ja.err"'
ok "  C: in English" grep -qxF "mynacard-tool: unknown option --frobnicate" "$work/opt-c.err"
LC_ALL=ja_JP.UTF-8 "$tool" export auth -o >/dev/null 2>"$work/optval-ja.err"
ok "an option without its value, ja: said in Japanese" \
    grep -qxF "mynacard-tool: オプション -o には値が必要です" "$work/optval-ja.err"

LC_ALL=ja_JP.UTF-8 "$tool" status --personal >/dev/null 2>"$work/pers-ja.err"
ok "a usage error of a command in Japanese (status --personal without --sign)" \
    grep -qF -- "--personal には --sign が必要です" "$work/pers-ja.err"

echo "1..$n"
[ "$failed" -eq 0 ]
