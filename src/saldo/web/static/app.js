// Saldo's pages: a few keys that work everywhere (no inline script: CSP script-src 'self').
// n: a new journal entry; j: the journal; a: approvals; r: reports; /: the first filter.
(function () {
  "use strict";
  var keys = { n: "journal/new", j: "journal", a: "approvals", r: "reports" };
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (document.getElementById("entry")) { return; }  // the entry grid has its own keys
    var match = /^\/c\/([0-9a-f-]{36})\//.exec(window.location.pathname);
    if (match && keys[event.key]) {
      event.preventDefault();
      window.location.assign("/c/" + match[1] + "/" + keys[event.key]);
    } else if (event.key === "/") {
      var field = document.querySelector("main input:not([type=hidden]), main select");
      if (field) { event.preventDefault(); field.focus(); }
    }
  });
})();
