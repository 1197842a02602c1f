// Status page: keeps "Updated N seconds ago" true while the tab stays open.
// Every minute it re-reads status.json; when the page's data changed since it was drawn,
// it says so (the page reads fine without this file: the server writes the first text).
(function () {
  "use strict";
  var el = document.querySelector("time[data-updated]");
  if (!el) return;
  var banner = el.closest("[data-api]");
  if (!banner) return;
  var checked = Date.parse(el.getAttribute("datetime")) || Date.now();
  var drawn = banner.getAttribute("data-page-updated");

  function ago(seconds) {
    if (seconds < 10) return "a few seconds ago";
    if (seconds < 60) return seconds + " seconds ago";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes === 1 ? "1 minute ago" : minutes + " minutes ago";
    var hours = Math.floor(minutes / 60);
    return hours === 1 ? "1 hour ago" : hours + " hours ago";
  }

  function tick() {
    el.textContent = ago(Math.max(0, Math.round((Date.now() - checked) / 1000)));
  }

  function notice() {
    if (document.getElementById("sp-changed")) return;
    var p = document.createElement("p");
    p.id = "sp-changed";
    p.className = "sp-notice";
    p.setAttribute("role", "status");
    var a = document.createElement("a");
    a.href = window.location.pathname;
    a.textContent = "The status has changed: reload the page";
    a.className = "button";
    p.appendChild(a);
    banner.appendChild(p);
  }

  function poll() {
    if (!window.fetch) return;
    fetch(banner.getAttribute("data-api"), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var updated = data && data.page && data.page.updated_at;
        if (drawn && updated && updated !== drawn) notice();
        checked = Date.now();
        tick();
      })
      .catch(function () { /* keep counting from the last good check */ });
  }

  tick();
  setInterval(tick, 10000);
  setInterval(poll, 60000);
})();
