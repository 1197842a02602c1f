// Keyboard shortcuts for the agent desk; the list is in the help overlay (press "?").
// Loaded from static because the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  var pendingG = false;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-list] tbody tr[data-href]"));
  }

  function selectedIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("is-selected")) return i;
    }
    return -1;
  }

  function select(list, index) {
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("is-selected"); });
    var row = list[index];
    row.classList.add("is-selected");
    var link = row.querySelector("a");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    var details = field.closest("details");
    if (details) details.open = true;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function go(url) { if (url) window.location.assign(url); }

  // The last list seen, so j and k on a ticket page move to the next and previous ticket.
  var LIST_KEY = "caredesk.list";

  function remember() {
    var list = rows();
    if (!list.length) return;
    try {
      var hrefs = list.map(function (row) { return row.getAttribute("data-href"); });
      window.sessionStorage.setItem(LIST_KEY, JSON.stringify(hrefs));
    } catch (e) { /* storage off: j and k stay within lists */ }
  }

  function step(by) {
    var hrefs;
    try { hrefs = JSON.parse(window.sessionStorage.getItem(LIST_KEY) || "[]"); } catch (e) { return false; }
    var here = hrefs.indexOf(window.location.pathname);
    if (here < 0 || !hrefs[here + by]) return false;
    go(hrefs[here + by]);
    return true;
  }

  remember();
  document.addEventListener("htmx:afterSwap", remember);

  function openHelp() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { event.preventDefault(); go("/desk/"); }
      return;
    }
    var list = rows();
    var handled = true;
    switch (key) {
      case "?": openHelp(); break;
      case "/": handled = focusField("#id_q") || focusField("[data-shortcut='/']"); break;
      case "j":
        if (list.length) select(list, selectedIndex(list) + 1); else handled = step(1);
        break;
      case "k":
        if (list.length) select(list, selectedIndex(list) - 1); else handled = step(-1);
        break;
      case "o":
      case "Enter": {
        var i = selectedIndex(list);
        if (i < 0) { handled = false; break; }
        go(list[i].getAttribute("data-href"));
        break;
      }
      case "c": go("/desk/new/"); break;
      case "r": handled = focusField("#reply textarea"); break;
      case "n": handled = focusField("#note textarea"); break;
      case "e": handled = focusField("#escalate input, #escalate textarea"); break;
      case "a": {
        var form = document.getElementById("assign-me");
        if (form) form.requestSubmit(); else handled = false;
        break;
      }
      case "g": pendingG = true; break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Checking tickets for a bulk change: the header box checks the whole page.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-check-all]");
    if (!all) return;
    var boxes = document.querySelectorAll("[data-list] tbody input[name='tickets']");
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });

  // The list refreshes itself when tickets change, but never under a half-made selection.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (!source || !source.hasAttribute || !source.hasAttribute("data-poll")) return;
    if (source.querySelector("input[name='tickets']:checked")) event.preventDefault();
  });

  // A click anywhere on a ticket row opens it, as a click on its number does.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("[data-list] tbody tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label, .check")) return;
    if (window.getSelection && String(window.getSelection())) return;
    go(row.getAttribute("data-href"));
  });
})();
