// The live screen: keeps <main> up to date from the server's events, without reloading.
// The server sends the whole of <main>'s content on each change; nothing else is fetched.
"use strict";

(function () {
  var main = document.getElementById("screen");
  if (!main) {
    return;
  }
  // A projector does not scroll: on a wide screen, when the page is taller than the
  // window (a very long statement, long lists), its letters shrink until it fits.
  var projector = window.matchMedia("(min-width: 901px) and (orientation: landscape)");

  function fit() {
    main.style.removeProperty("--fit");
    if (!projector.matches) {
      return;
    }
    var root = document.documentElement;
    for (var scale = 0.95; scale >= 0.6 && root.scrollHeight > window.innerHeight; scale -= 0.05) {
      main.style.setProperty("--fit", scale.toFixed(2));
    }
  }

  fit();
  window.addEventListener("resize", fit);
  if (typeof EventSource === "undefined") {
    return;
  }

  function show(event) {
    var state;
    try {
      state = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    main.innerHTML = state.html;
    main.setAttribute("data-version", String(state.version));
    main.setAttribute("data-phase", state.phase);
    fit();
  }

  function gone() {
    main.innerHTML = "";
    main.setAttribute("data-phase", "gone");
  }

  function follow(url, reopen) {
    var source = new EventSource(url);
    source.onmessage = show;
    source.onerror = function () {
      if (reopen) {
        // A Mini App's ticket opens its stream once: after any break, ask for a new one.
        source.close();
        window.setTimeout(reopen, 2000);
      } else if (source.readyState === EventSource.CLOSED) {
        // Refused for good (the link was revoked): the page stops showing the workshop.
        // A network error only reconnects.
        gone();
      }
    };
  }

  var events = main.getAttribute("data-events");
  if (events) {
    follow(events, null);
    return;
  }
  // A Telegram Mini App: the init data Telegram signed comes in the address's fragment.
  // It is sent in a request's body, never in an address (proxies log those), and traded
  // for a ticket that opens the event stream once.
  var app = main.getAttribute("data-app-events");
  var init = new URLSearchParams(window.location.hash.slice(1)).get("tgWebAppData");
  if (!app || !init || typeof fetch === "undefined") {
    return;
  }
  function open() {
    fetch(app.replace(/\/events$/, "/ticket"), { method: "POST", body: init })
      .then(function (reply) {
        return reply.ok ? reply.json() : null;
      })
      .then(function (answer) {
        if (!answer || !answer.ticket) {
          gone();
          return;
        }
        follow(app + "?ticket=" + encodeURIComponent(answer.ticket), open);
      })
      .catch(function () {
        window.setTimeout(open, 2000);
      });
  }
  open();
})();
