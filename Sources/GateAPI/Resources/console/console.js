// GateAPI console: progressive enhancement only. Every decision works without this
// script; it adds the countdowns and the queue's live updates (Server-Sent Events).
"use strict";
(function () {
  function left(ms) {
    if (ms <= 0) return "expired";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    return m + "m " + (s % 60) + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      el.textContent = left(Date.parse(el.getAttribute("data-expires")) - now);
    });
  }
  function live() {
    var queue = document.getElementById("queue");
    if (!queue || !window.EventSource) return;
    var pending = false;
    function refresh() {
      if (pending) return;
      pending = true;
      fetch(queue.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          queue.innerHTML = html;
          var total = queue.querySelector("[data-total]"), count = document.getElementById("pending-count");
          if (total && count) count.textContent = total.getAttribute("data-total");
          tick();
        })
        .catch(function () {})
        .then(function () { pending = false; });
    }
    var source = new EventSource(queue.getAttribute("data-stream"));
    source.addEventListener("queue", refresh);
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    live();
  });
})();
