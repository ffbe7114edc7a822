/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The mynacard authors
 *
 * The errors of mynacard-mpa as the browser sees them: a stable short
 * code (`errcode`, for the extension to act on) and a message in English
 * and Japanese that says what happened and what to do (for the person).
 * Layer: mpa/; pure tables, and the one mapping from the card layer's
 * enum myna_err.
 */
#include <string.h>

#include "mpa.h"
#include "myna-err.h"

struct mpa_err_text {
    const char *code;
    const char *en;
    const char *ja;
};

static const struct mpa_err_text texts[] = {
    [MPA_OK] = {"OK", "Done.", "完了しました。"},
    [MPA_E_BAD_REQUEST] = {"BAD_REQUEST",
        "The request from the browser is malformed; nothing was sent to the "
        "card. Reload the page and try again.",
        "ブラウザからの要求が不正です。カードには何も送っていません。"
        "ページを再読み込みしてやり直してください。"},
    [MPA_E_BAD_MODE] = {"BAD_MODE",
        "The request asks for an operation this program does not know; "
        "nothing was sent to the card.",
        "この要求の処理（mode）には対応していません。カードには何も送っていません。"},
    [MPA_E_BAD_SERVICE] = {"BAD_SERVICE_ID",
        "The request names a service other than JPKI (service_id \"01\"); "
        "nothing was sent to the card.",
        "JPKI 以外のサービス（service_id が \"01\" 以外）は扱えません。"
        "カードには何も送っていません。"},
    [MPA_E_BAD_DIGEST] = {"BAD_DIGEST",
        "The data to sign is missing, not base64, empty, too long or too "
        "many; nothing was sent to the card.",
        "署名するデータが無いか、不正（base64 でない、空、長すぎる、多すぎる）です。"
        "カードには何も送っていません。"},
    [MPA_E_TOO_BIG] = {"TOO_BIG",
        "The message from the browser is larger than 64 KiB and was "
        "refused; nothing was sent to the card.",
        "ブラウザからのメッセージが 64 KiB を超えるため拒否しました。"
        "カードには何も送っていません。"},
    [MPA_E_BAD_FRAME] = {"BAD_FRAME",
        "The message from the browser was cut short; nothing was sent to "
        "the card.",
        "ブラウザからのメッセージが途中で切れています。カードには何も送っていません。"},
    [MPA_E_PIN_MISSING] = {"PIN_MISSING",
        "No PIN was given; nothing was sent to the card.",
        "暗証番号が入力されていません。カードには何も送っていません。"},
    [MPA_E_PIN_FORMAT] = {"PIN_FORMAT",
        "The PIN has the wrong format (the login and card-info PINs are 4 "
        "digits; the signature password 6 to 16 letters and digits). It was "
        "not sent to the card, no try was spent. Type it again.",
        "暗証番号の形式が違います（利用者証明用と券面事項入力補助用は数字4桁、"
        "署名用は英数字6〜16文字）。カードには送っていないので、試行回数は減っていません。"
        "もう一度入力してください。"},
    [MPA_E_PIN_INCORRECT] = {"PIN_INCORRECT",
        "The card rejected the PIN: one try was spent (see tries_left). "
        "Check it before you try again; when no try is left the PIN is "
        "blocked and only your municipality can unblock it.",
        "暗証番号が違います。試行回数が1回減りました（残り回数は tries_left）。"
        "確かめてから入力し直してください。0 回になるとロックされ、"
        "市区町村の窓口でしか解除できません。"},
    [MPA_E_PIN_LOCKED] = {"PIN_LOCKED",
        "This PIN is blocked; it was not sent. Your municipality's office "
        "can unblock it (take the card and an identity document).",
        "この暗証番号はロックされています（送信していません）。"
        "お住まいの市区町村の窓口で解除してください。"},
    [MPA_E_NO_SERVICE] = {"NO_SERVICE",
        "The smart-card service (pcscd) is not running: start it "
        "(sudo systemctl start pcscd.socket) and try again.",
        "スマートカードのサービス（pcscd）が動いていません。"
        "起動して（sudo systemctl start pcscd.socket）やり直してください。"},
    [MPA_E_NO_READER] = {"NO_READER",
        "No card reader was found: connect one and try again.",
        "カードリーダーが見つかりません。接続してやり直してください。"},
    [MPA_E_NO_CARD] = {"NO_CARD",
        "No card is in the reader: insert your My Number Card and try "
        "again.",
        "カードがリーダーにありません。マイナンバーカードを置いてやり直してください。"},
    [MPA_E_NOT_JPKI] = {"NOT_JPKI",
        "The card in the reader has no JPKI application: it is not a My "
        "Number Card (or it is not inserted properly).",
        "リーダーのカードに公的個人認証（JPKI）の機能がありません。"
        "マイナンバーカードか、正しく置かれているか確かめてください。"},
    [MPA_E_NO_APP] = {"NO_APP",
        "The card lacks the application this needs (manufacture number or "
        "card-info input support).",
        "カードに必要な機能（製造番号または券面事項入力補助）がありません。"},
    [MPA_E_CARD] = {"CARD_ERROR",
        "The card or the reader failed. Put the card on the reader again "
        "and retry.",
        "カードまたはリーダーでエラーが起きました。カードを置き直してやり直してください。"},
    [MPA_E_SIG_INVALID] = {"SIGNATURE_INVALID",
        "The card's signature did not verify with its certificate; it was "
        "not handed out. Try again; if it repeats, the card may be faulty.",
        "カードの署名が証明書で検証できなかったため、渡していません。"
        "やり直しても続く場合はカードの故障が考えられます。"},
    [MPA_E_CONFIG] = {"CONFIG",
        "The installation identifier (~/.config/mynacard/mpa.json) cannot "
        "be read or written. Check that file and its directory.",
        "インストール識別子（~/.config/mynacard/mpa.json）を読み書きできません。"
        "ファイルとフォルダを確かめてください。"},
    [MPA_E_INTERNAL] = {"INTERNAL",
        "An internal error occurred (out of memory?). Try again.",
        "内部エラーが起きました（メモリ不足など）。やり直してください。"},
};

static const struct mpa_err_text *text_of(enum mpa_err e)
{
    if ((size_t)e >= sizeof(texts) / sizeof(texts[0]) || !texts[e].code)
        return &texts[MPA_E_INTERNAL];
    return &texts[e];
}

const char *mpa_errcode(enum mpa_err e)
{
    return text_of(e)->code;
}

const char *mpa_message_en(enum mpa_err e)
{
    return text_of(e)->en;
}

const char *mpa_message_ja(enum mpa_err e)
{
    return text_of(e)->ja;
}

enum mpa_err mpa_err_from_card(int err)
{
    switch (err) {
    case 0:
        return MPA_OK;
    case MYNA_E_NO_SERVICE:
        return MPA_E_NO_SERVICE;
    case MYNA_E_NO_READER:
        return MPA_E_NO_READER;
    case MYNA_E_NO_CARD:
        return MPA_E_NO_CARD;
    case MYNA_E_NOT_JPKI:
        return MPA_E_NOT_JPKI;
    case MYNA_E_NOT_FOUND:
        return MPA_E_NO_APP;
    case MYNA_E_PIN_INCORRECT:
        return MPA_E_PIN_INCORRECT;
    case MYNA_E_PIN_LOCKED:
        return MPA_E_PIN_LOCKED;
    case MYNA_E_PIN_FORMAT:
    case MYNA_E_PIN_LEN:
        return MPA_E_PIN_FORMAT;
    case MYNA_E_NOMEM:
    case MYNA_E_GENERAL:
    case MYNA_E_ARGS:
    case MYNA_E_BUFFER_SMALL:
        return MPA_E_INTERNAL;
    default:
        return MPA_E_CARD;
    }
}
