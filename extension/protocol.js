// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The site's side of the protocol, in one place: every name and value here
// comes from one reverse-engineered source (jpki/myna's "MPA for Linux",
// see doc/ and mynaportal.md), so that it can be changed here alone when
// the real site turns out to differ.  Loaded by the content script
// (bridge.js) and by the background (background.js); it calls nothing.
// The Windows user agent lives in ua.js, which runs in the page's own
// world and cannot share this file's globals.
"use strict";

var MYNA_PROTOCOL = Object.freeze({
  // The hidden inputs the site reads to decide that the extension and the
  // native program are installed.
  extensionInputId: "extension-is-installed",
  extensionInputValue: "24",
  appInputId: "app-is-installed",
  appInputValue: "29",
  // The page asks with this CustomEvent on document (detail: JSON string)
  // and gets the answer with the other (bubbling, detail: JSON string).
  requestEvent: "launchApp",
  answerEvent: "recvMsg",
  // The answer when the native program cannot be reached: the request
  // itself, with these fields set.
  unreachableErrcode: "EW044-C300",
  // Our native messaging host.
  nativeHost: "mynacard.mynaportal",
  // The modes that need a PIN, and the only service_id the protocol has.
  pinModes: ["01", "02", "04"],
  serviceId: "01",
  // A request larger than this (characters of JSON) is refused: the
  // biggest real one is a signature over a list of digests.
  maxRequestChars: 1 << 20,
});
