// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The background (Chromium's service worker, Firefox's event page).  It
// takes each request a page sent through the content script (bridge.js),
// asks the user for the PIN in a window of its own (pin.html) when the
// mode needs one, passes the request to our native program only
// (mynacard-mpa, host MYNA_PROTOCOL.nativeHost) and sends the answer to
// the tab, frame and document that asked, nowhere else.  The PIN lives
// only in the one request to the native program: never stored, never
// logged, never sent when its format is wrong, and never sent again by us
// after the card refused it (the user types it again).
"use strict";

if (typeof importScripts === "function")
  importScripts("protocol.js", "pin-format.js");   // Chromium's worker

const api = globalThis.browser || globalThis.chrome;
const P = MYNA_PROTOCOL;

// ---- the sites: manifest.json's content_scripts matches, the one list ----

function patternRegExp(pattern) {
  const m = /^(https|\*):\/\/(\*|\*\.[^/*]+|[^/*]+)(\/.*)$/.exec(pattern);
  if (!m)
    return null;
  const esc = (s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const scheme = m[1] === "*" ? "https?" : esc(m[1]);
  let host;
  if (m[2] === "*")
    host = "[^/:]+";
  else if (m[2].startsWith("*."))
    host = "(?:[^/:]+\\.)?" + esc(m[2].slice(2));
  else
    host = esc(m[2]);
  const path = esc(m[3]).replace(/\*/g, ".*");
  return new RegExp("^" + scheme + "://" + host + "(?::[0-9]+)?" + path + "$");
}

const SITES = api.runtime.getManifest().content_scripts
  .flatMap((c) => c.matches).map(patternRegExp).filter((r) => r !== null);

function siteAllowed(url) {
  return typeof url === "string" && SITES.some((re) => re.test(url));
}

// ---- the native program ----

// One request, one answer: resolves to the answer object, or null when
// the program could not be reached or ended without answering.
function native(request) {
  return new Promise((resolve) => {
    let port;
    try {
      port = api.runtime.connectNative(P.nativeHost);
    } catch (e) {
      resolve(null);
      return;
    }
    let done = false;
    port.onMessage.addListener((m) => {
      if (done)
        return;
      done = true;
      resolve(m !== null && typeof m === "object" ? m : null);
      port.disconnect();
    });
    port.onDisconnect.addListener(() => {
      if (!done) {
        done = true;
        resolve(null);
      }
    });
    port.postMessage(request);
  });
}

function withoutPin(request) {
  const r = Object.assign({}, request);
  delete r.pin;
  return r;
}

// The protocol's answer when the native program is not there.
function unreachable(request) {
  return Object.assign(withoutPin(request),
    { result: "1", errcode: P.unreachableErrcode });
}

function errorAnswer(request, errcode, message, messageJa) {
  return Object.assign(withoutPin(request), {
    result: "1", errcode: errcode, message: message, message_ja: messageJa,
  });
}

// ---- answers go to the document that asked ----

function answerTab(to, answer) {
  api.tabs.sendMessage(to.tabId,
    { type: "answer", tag: to.tag, json: JSON.stringify(answer) },
    { frameId: to.frameId }).catch(() => { /* the tab is gone */ });
}

// ---- PINs the card rejected: never sent again ----

// The card counts every wrong PIN, and a blocked one means a trip to the
// municipal office: a PIN the card rejected during a request is refused
// here if typed again, and not sent (module/login.c keeps the same rule).
// What is kept is an HMAC under a key made for that one request, in
// memory, and it goes with the request.
async function pinMac(d, pin) {
  if (d.macKey === null)
    d.macKey = await crypto.subtle.generateKey(
      { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", d.macKey,
    new TextEncoder().encode(pin));
  return Array.from(new Uint8Array(mac),
    (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- the PIN window: at most one open ----

let dialog = null;

function finish(d, answer) {
  if (dialog !== d || d.finished)
    return;
  d.finished = true;
  dialog = null;
  answerTab(d.to, answer);
  if (d.windowId !== null)
    api.windows.remove(d.windowId).catch(() => { /* closed already */ });
}

async function openDialog(to, origin, request) {
  if (dialog !== null) {
    answerTab(to, errorAnswer(request, "BUSY",
      "another PIN request is open", "別の暗証番号の入力画面が開いています。"));
    return;
  }
  const count = Array.isArray(request.digest) ? request.digest.length : 1;
  const d = {
    id: crypto.randomUUID(), to: to, origin: origin, request: request,
    mode: request.mode, count: count, windowId: null, busy: false,
    finished: false, lastError: null, macKey: null, rejected: new Set(),
  };
  // Record the dialog before awaiting windows.create: the window may ask
  // for its request (and even send a PIN) before create() returns.
  dialog = d;
  try {
    const w = await api.windows.create({
      url: api.runtime.getURL("pin.html") + "#" + d.id,
      type: "popup", width: 480, height: 480, focused: true,
    });
    d.windowId = w.id;
    if (d.finished)
      api.windows.remove(w.id).catch(() => {});
  } catch (e) {
    finish(d, errorAnswer(request, "CANCELLED", "the PIN window could not open",
      "暗証番号の入力画面を開けませんでした。"));
  }
}

api.windows.onRemoved.addListener((windowId) => {
  const d = dialog;
  if (d === null || d.windowId !== windowId)
    return;
  finish(d, d.lastError || errorAnswer(d.request, "CANCELLED",
    "the user cancelled the PIN entry", "暗証番号の入力が取り消されました。"));
});

// What the window shows, and the tries left (asked of the native program
// before any PIN is typed).
async function dialogHello(d) {
  const kind = MYNA_PIN.kinds[d.mode];
  const info = {
    origin: d.origin, mode: d.mode, name: kind.name, rule: kind.rule,
    inputmode: kind.inputmode, maxlength: kind.maxlength,
    purpose: MYNA_PIN.purpose(d.mode, d.count),
  };
  const t = await native({ mode: "tries", for: d.mode });
  if (t === null) {
    finish(d, unreachable(d.request));
    return Object.assign(info, { unreachable: true });
  }
  if (t.result !== "0")
    return Object.assign(info, { error: t.message_ja || t.message || "" });
  info.tries_left = t.tries_left;
  return info;
}

async function dialogPin(d, typed) {
  const pin = MYNA_PIN.normalise(d.mode, typed);
  if (pin === null)
    return { format: true };
  if (d.busy)
    return { busy: true };
  d.busy = true;
  let ans, mac;
  try {
    mac = await pinMac(d, pin);
    if (d.rejected.has(mac))
      return { repeated: true };
    ans = await native(Object.assign({}, d.request, { pin: pin }));
  } finally {
    d.busy = false;
  }
  if (ans === null) {
    finish(d, unreachable(d.request));
    return { unreachable: true };
  }
  if (ans.result === "1") {
    switch (ans.errcode) {
    case "PIN_INCORRECT":
      d.lastError = ans;
      d.rejected.add(mac);
      if (ans.tries_left === 0)
        return { locked: true };
      return { retry: true, tries_left: ans.tries_left };
    case "PIN_LOCKED":
      d.lastError = ans;
      return { locked: true };
    case "PIN_FORMAT":
      return { format: true };
    case "NO_CARD":
    case "NO_READER":
      return { error: ans.message_ja || ans.message || "" };
    default:
      break;
    }
  }
  finish(d, ans);
  return { done: true };
}

// ---- messages: from our content script and from our PIN window only ----

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender.id !== api.runtime.id || msg === null || typeof msg !== "object")
    return false;

  if (msg.type === "launchApp") {
    // From the content script of a listed site's top document.
    if (!sender.tab || !siteAllowed(sender.url) ||
        typeof msg.detail !== "string" || typeof msg.tag !== "string")
      return false;
    sendResponse({ accepted: true });
    const to = { tabId: sender.tab.id, frameId: sender.frameId || 0, tag: msg.tag };
    let request = null;
    if (msg.detail.length <= P.maxRequestChars) {
      try {
        request = JSON.parse(msg.detail);
      } catch (e) {
        request = null;
      }
    }
    if (request === null || typeof request !== "object" || Array.isArray(request) ||
        typeof request.mode !== "string") {
      answerTab(to, { result: "1", errcode: "BAD_REQUEST",
        message: "the request is not a JSON object with a mode",
        message_ja: "要求の形式が正しくありません。" });
      return false;
    }
    // A PIN comes from our window only, never from the page.
    delete request.pin;
    if (P.pinModes.includes(request.mode)) {
      openDialog(to, new URL(sender.url).origin, request);
    } else {
      native(request).then((ans) => {
        if (ans !== null)
          answerTab(to, ans);
        else if (request.mode !== "05")    // 05: the program ends, no answer
          answerTab(to, unreachable(request));
      });
    }
    return false;
  }

  // From the PIN window (an extension page, not a tab's content script).
  if (typeof sender.url !== "string" ||
      !sender.url.startsWith(api.runtime.getURL("pin.html")))
    return false;
  const d = dialog;
  if (d === null || msg.id !== d.id) {
    sendResponse({ gone: true });
    return false;
  }
  let work;
  if (msg.type === "ping") {
    sendResponse({ alive: true });
    return false;
  }
  if (msg.type === "hello")
    work = dialogHello(d);
  else if (msg.type === "pin")
    work = dialogPin(d, msg.pin);
  else if (msg.type === "cancel") {
    finish(d, d.lastError || errorAnswer(d.request, "CANCELLED",
      "the user cancelled the PIN entry", "暗証番号の入力が取り消されました。"));
    work = Promise.resolve({ done: true });
  } else
    return false;
  work.then(sendResponse, () => sendResponse({ error: "" }));
  return true;
});
