// Live countdowns to SLA due times: every <time class="countdown" data-due="ISO"> ticks
// here in the browser; the server's text stands when scripts are off. A static file
// because the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  var SOON = 60 * 60; // seconds; the server's "breaching soon" window (desk/queues.py SOON)

  function words(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) return hours + " h " + (minutes < 10 ? "0" : "") + minutes + " min";
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  function tick() {
    var now = Date.now();
    var all = document.querySelectorAll("time.countdown[data-due]");
    for (var i = 0; i < all.length; i++) {
      var el = all[i];
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) continue;
      var left = (due - now) / 1000;
      var state = left < 0 ? "overdue" : left <= SOON ? "soon" : "later";
      var text = left < 0 ? "overdue " + words(left) : "in " + words(left);
      if (el.textContent !== text) el.textContent = text;
      if (!el.classList.contains("due-" + state)) {
        el.classList.remove("due-overdue", "due-soon", "due-later");
        el.classList.add("due-" + state);
      }
    }
  }

  tick();
  window.setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
