// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// Runs in the page's own world at document_start, only on the sites of
// manifest.json's content_scripts: makes navigator say Windows, because
// the site refuses to start the card login on Linux (mynaportal.md; the
// values are jpki/myna's).  The HTTP User-Agent header is left alone: the
// site looks at navigator.  Calls nothing of the extension.
(function () {
  "use strict";
  const WIN = "Windows NT 10.0; Win64; x64";
  const nav = Navigator.prototype;

  // Keep the browser's own version words, replace the platform part:
  // "(X11; Linux x86_64)" or "(X11; Linux x86_64; rv:153.0)".
  function windowsUA(ua) {
    return ua.replace(/\(([^)]*)\)/, function (all, inner) {
      const rv = inner.match(/;\s*(rv:[^;]*)$/);
      return "(" + WIN + (rv ? "; " + rv[1] : "") + ")";
    });
  }

  function getterOf(obj, name) {
    const d = Object.getOwnPropertyDescriptor(obj, name);
    return d && d.get;
  }

  function override(obj, name, value) {
    Object.defineProperty(obj, name, {
      configurable: true,
      enumerable: true,
      get: function () { return value; },
    });
  }

  const ua = getterOf(nav, "userAgent").call(navigator);
  const appVersion = getterOf(nav, "appVersion").call(navigator);
  override(nav, "userAgent", windowsUA(ua));
  override(nav, "appVersion", windowsUA(appVersion));
  override(nav, "platform", "Win32");
  if (typeof nav.oscpu !== "undefined")
    override(nav, "oscpu", WIN);

  // Chromium's User-Agent Client Hints.
  const uadGetter = getterOf(nav, "userAgentData");
  if (uadGetter && typeof NavigatorUAData !== "undefined") {
    const uad = NavigatorUAData.prototype;
    const realHigh = uad.getHighEntropyValues;
    override(uad, "platform", "Windows");
    uad.getHighEntropyValues = function (hints) {
      return realHigh.call(this, hints).then(function (v) {
        const out = Object.assign({}, v, { platform: "Windows" });
        if ("platformVersion" in v || (hints || []).includes("platformVersion"))
          out.platformVersion = "10.0.0";
        return out;
      });
    };
    const realToJSON = uad.toJSON;
    if (realToJSON)
      uad.toJSON = function () {
        return Object.assign(realToJSON.call(this), { platform: "Windows" });
      };
  }
})();
