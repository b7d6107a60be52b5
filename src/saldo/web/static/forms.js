// Keyboard-first document forms (issue 17, items 4-5): the purchase bill, the credit
// note, the payroll run and the split of a bank line. The forms work without this script
// (plain submits); it adds the keys an accountant expects and the live remainder.
//   Enter        next field; from a line's last field the next line; on the last line a
//                new line (a copy of the row, emptied), without a round trip
//   Ctrl+S       save (the form's primary button)
//   F1, or ? outside a text field: the list of these keys
// and a counterparty found by any part of its name or its tax id.
// A bank line's split shows what the typed amounts allocate and what remains as they are
// typed, in integer tetri (BigInt), never in floating point.
(function () {
  "use strict";

  function fields(scope) {
    return Array.prototype.filter.call(
      scope.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select"),
      function (el) { return !el.disabled; });
  }

  function renumber(row, index) {
    row.querySelectorAll("[name^='lines-']").forEach(function (el) {
      el.name = el.name.replace(/^lines-\d+-/, "lines-" + index + "-");
    });
    row.querySelectorAll("[id^='l']").forEach(function (el) {
      el.id = el.id.replace(/^l\d+-/, "l" + index + "-");
    });
    row.querySelectorAll("label[for]").forEach(function (el) {
      el.htmlFor = el.htmlFor.replace(/^l\d+-/, "l" + index + "-");
      el.textContent = el.textContent.replace(/\d+\s*$/, String(index + 1));
    });
    var no = row.querySelector("[data-no]");
    if (no) { no.textContent = String(index + 1); }
  }

  function newLine(form, body) {
    var last = body.rows[body.rows.length - 1];
    var row = last.cloneNode(true);
    row.querySelectorAll(".field-error, [data-clear]").forEach(function (el) {
      if (el.hasAttribute("data-clear")) { el.textContent = ""; } else { el.remove(); }
    });
    row.querySelectorAll("input").forEach(function (el) {
      el.value = "";
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    row.querySelectorAll("select").forEach(function (el, i) {
      // The VAT code of the line above: the next line is most often alike.
      el.value = last.querySelectorAll("select")[i].value;
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    renumber(row, body.rows.length);
    body.appendChild(row);
    var count = form.querySelector("[data-line-count]");
    if (count) { count.value = String(body.rows.length); }
    return row;
  }

  function primary(form) {
    return form.querySelector("button.primary");
  }

  document.querySelectorAll("form[data-lines-form]").forEach(function (form) {
    var body = form.querySelector("tbody[data-lines]");
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        var save = primary(form);
        if (save) { form.requestSubmit(save); }
        return;
      }
      if (event.key !== "Enter" || event.altKey || event.ctrlKey || event.shiftKey ||
          !/^(INPUT|SELECT)$/.test(target.tagName)) { return; }
      event.preventDefault();
      var row = body && target.closest("tr");
      if (row && row.parentNode === body) {
        var inRow = fields(row), at = inRow.indexOf(target);
        if (at < inRow.length - 1) { inRow[at + 1].focus(); return; }
        var next = row.nextElementSibling || newLine(form, body);
        fields(next)[0].focus();
        return;
      }
      var all = fields(form), i = all.indexOf(target);
      if (i >= 0 && i < all.length - 1) { all[i + 1].focus(); }
    });
  });

  // A counterparty found by name or tax id: the search field (shown only with this
  // script) picks the option of the select the form sends.
  document.querySelectorAll("input[data-pick]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-pick"));
    var options = document.getElementById(input.getAttribute("list")).options;
    input.closest("[data-pick-box]").hidden = false;
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      if (!text) { return; }
      var exact = null, found = [];
      Array.prototype.forEach.call(options, function (o) {
        var value = o.value.toLowerCase();
        if (value === text) { exact = o; }
        if (value.indexOf(text) >= 0) { found.push(o); }
      });
      var chosen = exact || (found.length === 1 ? found[0] : null);
      if (chosen) { select.value = chosen.getAttribute("data-id"); }
    });
  });

  var help = document.getElementById("form-help");
  if (help) {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && /^(INPUT|TEXTAREA)$/.test(target.tagName) &&
        target.type !== "checkbox";
      if (event.key === "F1" || (event.key === "?" && !typing)) {
        event.preventDefault();
        if (!help.open) { help.showModal(); }
      }
    });
  }

  // ------------------------------------------------------------------ split of a bank line

  function cents(text) {
    var s = String(text || "").replace(/[\s\u00a0]/g, "");
    if (s === "") { return 0n; }
    var lastComma = s.lastIndexOf(","), lastDot = s.lastIndexOf(".");
    if (lastComma > lastDot) { s = s.replace(/\./g, "").replace(",", "."); }
    else { s = s.replace(/,/g, ""); }
    var m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s);
    if (!m) { return null; }
    return BigInt(m[1]) * 100n + BigInt(((m[2] || "") + "00").slice(0, 2));
  }

  function show(c, lang) {
    var negative = c < 0n;
    if (negative) { c = -c; }
    var whole = (c / 100n).toString(), frac = (c % 100n).toString().padStart(2, "0");
    var group = lang === "ka" ? "\u00a0" : ",", point = lang === "ka" ? "," : ".";
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return (negative ? "-" : "") + whole + point + frac;
  }

  var split = document.querySelector("form[data-split]");
  if (split) {
    var size = cents(split.getAttribute("data-split"));
    var lang = split.getAttribute("data-lang");
    var allocated = document.getElementById("split-allocated");
    var remainder = document.getElementById("split-remainder");
    var update = function () {
      var total = 0n;
      split.querySelectorAll("input[data-amount]").forEach(function (el) {
        var c = cents(el.value);
        if (c !== null) { total += c; }
      });
      var left = size - total;
      allocated.textContent = show(total, lang);
      remainder.textContent = show(left, lang);
      remainder.className = left === 0n ? "balanced" : "unbalanced";
    };
    split.addEventListener("input", update);
    split.addEventListener("change", update);
    split.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        split.requestSubmit(primary(split));
      }
    });
  }
})();
