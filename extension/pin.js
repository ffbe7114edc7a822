// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The PIN window (pin.html, opened by background.js with windows.create).
// It says which site asks and for what, shows the tries left the native
// program reported, refuses a PIN of the wrong format before anything is
// sent (pin-format.js), says so when a PIN the card rejected is typed
// again (the background does not send it), and hands the PIN to the
// background once; the
// field is emptied as soon as it is sent.  It keeps nothing.
"use strict";

(function () {
  const api = globalThis.browser || globalThis.chrome;
  const id = location.hash.slice(1);
  const $ = (x) => document.getElementById(x);
  let mode = "";

  function send(msg) {
    msg.id = id;
    return api.runtime.sendMessage(msg);
  }

  // The window can do no more: say why and what to do.
  function stop(text, canRetry) {
    $("form").hidden = true;
    $("stop").hidden = false;
    $("stop-text").textContent = text;
    $("retry").hidden = !canRetry;
  }

  function showTries(n) {
    $("tries").textContent = "残り回数: " + n + "回";
    const w = $("warning");
    w.hidden = n !== 1;
    if (n === 1)
      w.textContent = "注意: あと1回間違えると、この暗証番号はロックされ、" +
        "市区町村の窓口での手続きが必要になります。";
  }

  function locked() {
    stop("この暗証番号はロックされています。カードは使えません。" +
      "マイナンバーカードと本人確認書類を持って、お住まいの市区町村の窓口で" +
      "暗証番号の初期化（再設定）を受けてください。", false);
  }

  function unreachable() {
    stop("マイナポータルAP（mynacard-mpa）に接続できません。" +
      "「mynacard-tool setup mynaportal」でインストールされているか確かめてください。", false);
  }

  function showError(text) {
    const e = $("error");
    e.hidden = !text;
    e.textContent = text;
  }

  async function hello() {
    $("stop").hidden = true;
    $("who").textContent = "確認しています…";
    const r = await send({ type: "hello" });
    if (!r || r.gone) {
      stop("この要求はもう終わっています。", false);
      return;
    }
    mode = r.mode;
    $("who").textContent = r.origin + " が、あなたのマイナンバーカードを使って" +
      r.purpose + "をしようとしています。";
    if (r.unreachable) {
      unreachable();
      return;
    }
    if (typeof r.tries_left !== "number") {
      stop(r.error || "カードを読み取れません。", true);
      return;
    }
    if (r.tries_left <= 0) {
      locked();
      return;
    }
    $("consent").textContent = "暗証番号を入力すると、" + r.origin + " に対する「" +
      r.purpose + "」に同意したことになります。";
    $("label").textContent = r.name;
    $("rule").textContent = r.name + "は" + r.rule + "です。";
    const pin = $("pin");
    pin.inputMode = r.inputmode;
    pin.maxLength = r.maxlength;
    showTries(r.tries_left);
    $("form").hidden = false;
    pin.focus();
  }

  $("form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const field = $("pin");
    const pin = MYNA_PIN.normalise(mode, field.value);
    if (pin === null) {
      field.value = "";
      showError("形式が違います。" + $("rule").textContent + "（送信していません）");
      return;
    }
    field.value = "";
    $("ok").disabled = true;
    showError("");
    let r;
    try {
      r = await send({ type: "pin", pin: pin });
    } finally {
      $("ok").disabled = false;
    }
    if (!r || r.gone) {
      stop("この要求はもう終わっています。", false);
    } else if (r.done) {
      window.close();
    } else if (r.retry) {
      showTries(r.tries_left);
      showError("暗証番号が違います。もう一度入力してください。");
      field.focus();
    } else if (r.locked) {
      locked();
    } else if (r.unreachable) {
      unreachable();
    } else if (r.repeated) {
      showError("この暗証番号は、さきほどカードに違うと判定されたものです。" +
        "回数を減らさないよう、送信していません。");
      field.focus();
    } else if (r.format) {
      showError("形式が違います。" + $("rule").textContent);
    } else {
      showError(r.error || "カードを読み取れません。");
    }
  });

  $("cancel").addEventListener("click", () => {
    send({ type: "cancel" }).finally(() => window.close());
  });
  $("close").addEventListener("click", () => {
    send({ type: "cancel" }).finally(() => window.close());
  });
  $("retry").addEventListener("click", hello);
  // Chromium ends an idle service worker after 30 s, and with it the
  // request this window answers: a message now and then keeps it, while
  // the user reads and types.
  setInterval(() => { send({ type: "ping" }).catch(() => {}); }, 20000);
  hello();
})();
