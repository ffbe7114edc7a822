// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The content script (the extension's isolated world), only on the sites
// of manifest.json's content_scripts.  It adds the two hidden inputs the
// site looks for, passes each `launchApp` request of the page to the
// background (background.js) and each answer back to this same document as
// a bubbling `recvMsg`.  The event names and values are in protocol.js.
// It talks to nothing but the background.
(function () {
  "use strict";
  const api = globalThis.browser || globalThis.chrome;
  const P = MYNA_PROTOCOL;
  // Requests this document sent and not yet answered, by a random tag:
  // an answer for another document (the tab navigated meanwhile) finds no
  // tag here and is dropped.
  const waiting = new Set();

  function hiddenInput(id, value) {
    if (document.getElementById(id))
      return;
    const input = document.createElement("input");
    input.type = "hidden";
    input.id = id;
    input.value = value;
    document.body.appendChild(input);
  }

  function addInputs() {
    if (!document.body)
      return false;
    hiddenInput(P.extensionInputId, P.extensionInputValue);
    hiddenInput(P.appInputId, P.appInputValue);
    return true;
  }

  // As early as is safe: as soon as the parser has made the body, before
  // the page's own scripts in it run (a mutation observer's callback runs
  // at the microtask checkpoint the parser makes before each script).  A
  // document_end script would be late in Firefox, which may run it only
  // after `load`, when the site has already looked (mynaportal.md).
  if (!addInputs()) {
    const watch = new MutationObserver(() => {
      if (addInputs())
        watch.disconnect();
    });
    watch.observe(document, { childList: true, subtree: true });
    document.addEventListener("DOMContentLoaded", () => {
      watch.disconnect();
      addInputs();
    }, { once: true });
  }

  function answerPage(json) {
    document.dispatchEvent(new CustomEvent(P.answerEvent, {
      bubbles: true,
      detail: json,
    }));
  }

  document.addEventListener(P.requestEvent, function (ev) {
    const detail = ev.detail;
    if (typeof detail !== "string" || detail.length > P.maxRequestChars)
      return;     // not a request of this protocol; the background refuses it too
    const tag = crypto.randomUUID();
    waiting.add(tag);
    api.runtime.sendMessage({ type: "launchApp", tag: tag, detail: detail })
      .catch(function () {
        // The background is gone: the page gets the usual "unreachable".
        if (!waiting.delete(tag))
          return;
        let req = {};
        try { req = JSON.parse(detail); } catch (e) { /* not JSON */ }
        if (req === null || typeof req !== "object" || Array.isArray(req))
          req = {};
        req.result = "1";
        req.errcode = P.unreachableErrcode;
        answerPage(JSON.stringify(req));
      });
  });

  api.runtime.onMessage.addListener(function (msg, sender) {
    if (sender.id !== api.runtime.id || !msg || msg.type !== "answer")
      return;
    if (!waiting.delete(msg.tag) || typeof msg.json !== "string")
      return;
    answerPage(msg.json);
  });
})();
