// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The PIN formats the extension's window and background enforce
// (extension/pin-format.js), under node: TAP.
"use strict";
const P = require(process.argv[2]);
let n = 0, failed = 0;
function ok(cond, desc) {
  n++;
  if (!cond) failed++;
  console.log((cond ? "ok " : "not ok ") + n + " - " + desc);
}
const cases = [
  ["01", "1234", "1234"], ["01", "0000", "0000"], ["01", "123", null],
  ["01", "12345", null], ["01", "12a4", null], ["01", "１２３４", null],
  ["01", " 1234", null], ["01", "", null],
  ["04", "5678", "5678"], ["04", "567", null], ["04", "abcd", null],
  ["02", "ABC123", "ABC123"], ["02", "abc123", "ABC123"],
  ["02", "A1B2C3D4E5F6G7H8", "A1B2C3D4E5F6G7H8"],
  ["02", "ABC12", null], ["02", "A1B2C3D4E5F6G7H8I", null],
  ["02", "ABC-123", null], ["02", "ＡＢＣ123", null], ["02", "abc 123", null],
  ["05", "1234", null], ["03", "1234", null],
];
for (const [mode, pin, want] of cases)
  ok(P.normalise(mode, pin) === want,
     "mode " + mode + " " + JSON.stringify(pin) + " -> " + JSON.stringify(want));
ok(P.normalise("01", 1234) === null, "a number is not a PIN");
ok(P.purpose("01", 1) === "ログイン", "mode 01: ログイン");
ok(P.purpose("02", 3) === "3件の文書への署名", "mode 02: N件の文書への署名");
ok(P.purpose("04", 1) === "氏名・住所・生年月日・性別の読み取り", "mode 04: the four facts");
ok(P.kinds["01"].name === "利用者証明用暗証番号" && P.kinds["02"].name === "署名用パスワード" &&
   P.kinds["04"].name === "券面事項入力補助用暗証番号", "the PINs' Japanese names");
console.log("1.." + n);
process.exit(failed ? 1 : 0);
