// The sandbox's Telegram.WebApp: what the Telegram app gives a Mini App page, played by the sandbox
// page around it (an iframe): the launch data the sandbox signed with its bot's token, the QR
// scanner (the tester picks whose code the camera points at), sendData, close, the theme.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const initData = params.get("init") || "";
  let scanned = null, hint = "";
  const tell = (message) => window.parent.postMessage({kartu: true, ...message}, location.origin);
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || !event.data || !event.data.kartu) return;
    if (event.data.type === "scanned" && scanned) {
      const done = scanned(event.data.text);
      if (done) { scanned = null; tell({type: "scan_closed"}); } else tell({type: "scan", text: hint});  // still looking
    }
    if (event.data.type === "scan_cancelled") scanned = null;
  });
  const user = Object.fromEntries(new URLSearchParams(initData));
  window.Telegram = {WebApp: {
    initData,
    initDataUnsafe: {user: user.user ? JSON.parse(user.user) : undefined, auth_date: Number(user.auth_date || 0)},
    platform: "sandbox",
    themeParams: {},
    ready() {}, expand() {},
    close() { tell({type: "close"}); },
    sendData(data) { tell({type: "send_data", data: String(data)}); },
    showScanQrPopup(options, callback) { scanned = callback; hint = (options && options.text) || ""; tell({type: "scan", text: hint}); },
    closeScanQrPopup() { scanned = null; tell({type: "scan_closed"}); },
  }};
})();
