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
    // One refresh at a time; an event during one asks for another after it, so the
    // last change is never missed. Ticked rows stay ticked across refreshes.
    var busy = false, again = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      again = false;
      fetch(queue.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var ticked = {};
          queue.querySelectorAll("input[name=approval]:checked").forEach(function (box) { ticked[box.value] = true; });
          queue.innerHTML = html;
          queue.querySelectorAll("input[name=approval]").forEach(function (box) { if (ticked[box.value]) box.checked = true; });
          var total = queue.querySelector("[data-total]"), count = document.getElementById("pending-count");
          if (total && count) count.textContent = total.getAttribute("data-total");
          tick();
        })
        .catch(function () {})
        .then(function () { busy = false; if (again) refresh(); });
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
