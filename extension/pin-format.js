// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The format of each JPKI PIN, by the request's mode, and the words the
// PIN window shows for it.  Used by the PIN window (pin.js), which refuses
// a wrongly formatted PIN before it is sent, and again by the background
// (background.js), which never passes such a PIN to the native program.
// Pure functions; it calls nothing.
"use strict";

var MYNA_PIN = (function () {
  const kinds = {
    // Mode 01: login with the authentication key.
    "01": {
      name: "利用者証明用暗証番号",
      rule: "数字4桁",
      pattern: /^[0-9]{4}$/,
      fold: false,
      inputmode: "numeric",
      maxlength: 4,
    },
    // Mode 02: a signature with the signature key.  The card keeps the
    // password in upper case; the user may type lower case.
    "02": {
      name: "署名用パスワード",
      rule: "英字（大文字）と数字で6〜16文字",
      pattern: /^[A-Z0-9]{6,16}$/,
      fold: true,
      inputmode: "text",
      maxlength: 16,
    },
    // Mode 04: the card-info input support application's own PIN.
    "04": {
      name: "券面事項入力補助用暗証番号",
      rule: "数字4桁",
      pattern: /^[0-9]{4}$/,
      fold: false,
      inputmode: "numeric",
      maxlength: 4,
    },
  };

  // The PIN as it goes to the card: lowercase folded where the card
  // wants upper case.  Returns null when it does not fit the mode's
  // format (it must then never be sent).
  function normalise(mode, pin) {
    const k = kinds[mode];
    if (!k || typeof pin !== "string")
      return null;
    const p = k.fold ? pin.toUpperCase() : pin;
    return k.pattern.test(p) ? p : null;
  }

  // What the user consents to by typing the PIN, in plain words.
  function purpose(mode, count) {
    switch (mode) {
    case "01": return "ログイン";
    case "02": return count + "件の文書への署名";
    case "04": return "氏名・住所・生年月日・性別の読み取り";
    default: return "";
    }
  }

  return Object.freeze({ kinds, normalise, purpose });
})();

// The unit test (tests/extension) loads this file under node.
if (typeof module !== "undefined")
  module.exports = MYNA_PIN;
