// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The test site's page script: checks the extension's hidden inputs and
// the user agent, sends one `launchApp` request (a login with the server's
// random digest, or the card-info read) and handles the `recvMsg` answer:
// a login answer goes to the server (POST /login) and its verdict is shown
// in #verdict; a card-info answer fills the form.  Everything it saw goes
// to the server too (POST /report), which keeps it for the test.
"use strict";

const $ = (x) => document.getElementById(x);
const seen = { early: window.seenEarly };

function post(path, body) {
  return fetch(path, { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" } }).then((r) => r.json());
}

// Each answer field of mode 04 is the UTF-8 bytes, hex-encoded.
function fromHex(h) {
  if (typeof h !== "string" || !/^([0-9a-fA-F]{2})*$/.test(h))
    return null;
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++)
    b[i] = parseInt(h.substr(2 * i, 2), 16);
  return new TextDecoder("utf-8", { fatal: true }).decode(b);
}

function ask(request) {
  return new Promise((resolve) => {
    document.addEventListener("recvMsg", (ev) => resolve(ev.detail), { once: true });
    document.dispatchEvent(new CustomEvent("launchApp", { detail: JSON.stringify(request) }));
  });
}

async function run() {
  seen.ext = ($("extension-is-installed") || {}).value || "";
  seen.app = ($("app-is-installed") || {}).value || "";
  seen.ua = navigator.userAgent;
  seen.platform = navigator.platform;
  if (navigator.userAgentData) {
    seen.uad_platform = navigator.userAgentData.platform;
    const hev = await navigator.userAgentData.getHighEntropyValues(["platformVersion"]);
    seen.hev_platform = hev.platform;
    seen.hev_platformVersion = hev.platformVersion;
  }
  $("ext").textContent = seen.ext;
  $("app").textContent = seen.app;
  $("ua").textContent = seen.ua;
  $("platform").textContent = seen.platform;
  const what = new URLSearchParams(location.search).get("do") || "";
  seen.what = what;
  try {
    if (what === "login") {
      const ch = await fetch("/challenge").then((r) => r.json());
      const json = await ask({ mode: "01", service_id: "01", digest: ch.digest });
      const answer = JSON.parse(json);
      seen.answer_result = answer.result;
      $("answer").textContent = "result " + answer.result + " " + (answer.errcode || "");
      const v = await post("/login", answer);
      seen.verdict = v.verdict;
      $("verdict").textContent = v.verdict === "ok" ? "LOGIN OK" : "LOGIN NG: " + v.why.join("; ");
    } else if (what === "sign") {
      const ch = await fetch("/challenge?n=2").then((r) => r.json());
      const answer = JSON.parse(await ask({ mode: "02", service_id: "01", digest: ch.digests }));
      seen.answer_result = answer.result;
      $("answer").textContent = "result " + answer.result + " " + (answer.errcode || "");
      const v = await post("/sign", { answer: answer, digests: ch.digests });
      seen.verdict = v.verdict;
      $("verdict").textContent = v.verdict === "ok" ? "SIGN OK" : "SIGN NG: " + v.why.join("; ");
    } else if (what === "probe") {
      // A request without a PIN, passed straight through (our "check").
      const answer = JSON.parse(await ask({ mode: "check", service_id: "01", probe: "p1" }));
      seen.answer_result = answer.result;
      $("verdict").textContent = "PROBE " + answer.result + " " + (answer.errcode || "") +
        " " + answer.mode + " " + answer.probe;
    } else if (what === "cardinfo") {
      const json = await ask({ mode: "04", service_id: "01" });
      const answer = JSON.parse(json);
      seen.answer_result = answer.result;
      $("answer").textContent = "result " + answer.result + " " + (answer.errcode || "");
      if (answer.result === "0") {
        for (const f of ["name", "address", "birthday", "sex"])
          $(f).value = fromHex(answer[f]);
        $("verdict").textContent = "CARDINFO OK";
      } else {
        $("verdict").textContent = "CARDINFO NG: " + (answer.errcode || "");
      }
    }
  } catch (e) {
    $("verdict").textContent = "PAGE ERROR: " + e;
  }
  await post("/report", seen);
}

window.addEventListener("load", () => { run(); });
