// The keyboard-first journal entry grid (issue 17, item 4). Everything happens in the
// browser until the draft is saved: account search, totals and the running difference
// cost no server round trip per keystroke. Amounts are kept as integer tetri (BigInt),
// never as floating point.
(function () {
  "use strict";
  var form = document.getElementById("entry");
  if (!form) { return; }
  var data = JSON.parse(document.getElementById("entry-data").textContent);
  var msg = data.messages;
  var accounts = data.accounts.map(function (a) {
    return { code: a[0], name: a[1], nameKa: a[2], en: a[1].toLowerCase(), ka: a[2].toLowerCase(),
             search: (a[0] + " " + a[1] + " " + a[2]).toLowerCase() };
  });
  var byCode = {};
  accounts.forEach(function (a) { byCode[a.code] = a; });
  var body = document.getElementById("lines");
  var status = document.getElementById("entry-status");
  var dateField = document.getElementById("e-date");
  var FIELDS = ["account", "description", "debit", "credit"];
  var totals = { debit: 0n, credit: 0n };
  var lineSeq = 0;
  // Each line's amounts in tetri, kept beside the DOM (no attribute writes per keystroke).
  var amounts = new WeakMap();

  // ------------------------------------------------------------------ amounts

  function cents(text) {
    // "1 180,50", "1180.5", "1,180.50" -> 118050n; "" -> 0n; anything else -> null
    var s = String(text || "").replace(/[\s\u00a0]/g, "");
    if (s === "") { return 0n; }
    var lastComma = s.lastIndexOf(","), lastDot = s.lastIndexOf(".");
    if (lastComma > lastDot) { s = s.replace(/\./g, "").replace(",", "."); }
    else { s = s.replace(/,/g, ""); }
    var m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s);
    if (!m) { return null; }
    return BigInt(m[1]) * 100n + BigInt(((m[2] || "") + "00").slice(0, 2));
  }

  function show(c) {
    var negative = c < 0n;
    if (negative) { c = -c; }
    var whole = (c / 100n).toString(), frac = (c % 100n).toString().padStart(2, "0");
    var group = data.lang === "ka" ? "\u00a0" : ",", point = data.lang === "ka" ? "," : ".";
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return (negative ? "-" : "") + whole + point + frac;
  }

  function plain(c) {
    return (c / 100n).toString() + "." + (c % 100n).toString().padStart(2, "0");
  }

  // ------------------------------------------------------------------ dates

  function iso(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0");
  }

  function parseDate(text) {
    // +1 tomorrow, -3 three days ago, 15 the 15th of this month, 15.03 or 15.03.2026,
    // 2026-03-15 as it is. Relative to today (the server's date).
    var s = String(text || "").trim();
    var t = data.today.split("-").map(Number);
    var today = new Date(t[0], t[1] - 1, t[2]);
    var m;
    if (s === "") { return iso(today); }
    if ((m = /^([+-])(\d{1,4})$/.exec(s))) {
      var d = new Date(today);
      d.setDate(d.getDate() + (m[1] === "+" ? 1 : -1) * Number(m[2]));
      return iso(d);
    }
    if ((m = /^(\d{1,2})$/.exec(s))) { return valid(t[0], t[1], Number(m[1])); }
    if ((m = /^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?$/.exec(s))) {
      return valid(m[3] ? Number(m[3]) : t[0], Number(m[2]), Number(m[1]));
    }
    if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s))) {
      return valid(Number(m[1]), Number(m[2]), Number(m[3]));
    }
    return null;
  }

  function valid(y, mo, d) {
    var date = new Date(y, mo - 1, d);
    return (date.getFullYear() === y && date.getMonth() === mo - 1 && date.getDate() === d)
      ? iso(date) : null;
  }

  function settleDate() {
    var parsed = parseDate(dateField.value);
    if (parsed === null) {
      fieldError(dateField, msg.invalid_date);
      return false;
    }
    dateField.value = parsed;
    clearError(dateField);
    return true;
  }

  // ------------------------------------------------------------------ lines

  var listbox = document.createElement("ul");
  listbox.id = "account-options";
  listbox.setAttribute("role", "listbox");
  listbox.className = "options";
  listbox.hidden = true;
  document.body.appendChild(listbox);
  var choices = [], active = -1, listFor = null;

  function addLine(values, focus) {
    lineSeq += 1;
    var row = document.createElement("tr");
    amounts.set(row, { debit: 0n, credit: 0n });
    var n = lineSeq;
    row.innerHTML =
      '<td class="no"></td>' +
      '<td><input data-field="account" class="account" autocomplete="off" role="combobox"' +
      ' aria-autocomplete="list" aria-expanded="false" aria-controls="account-options">' +
      '<span class="account-name"></span></td>' +
      '<td><input data-field="description" maxlength="500"></td>' +
      '<td><input data-field="debit" class="num" inputmode="decimal"></td>' +
      '<td><input data-field="credit" class="num" inputmode="decimal"></td>' +
      '<td><button type="button" class="remove" tabindex="-1">×</button></td>';
    var labels = { account: msg.account, description: msg.description, debit: msg.debit,
                   credit: msg.credit };
    FIELDS.forEach(function (f) {
      var input = row.querySelector('[data-field="' + f + '"]');
      input.id = "l" + n + "-" + f;
      input.setAttribute("aria-label", labels[f] + " " + n);
    });
    row.querySelector(".account-name").id = "l" + n + "-name";
    row.querySelector(".remove").setAttribute("aria-label", msg.remove_line + " " + n);
    body.appendChild(row);
    if (values) {
      row.querySelector('[data-field="account"]').value = values.account_code || "";
      row.querySelector('[data-field="description"]').value = values.description || "";
      row.querySelector('[data-field="debit"]').value = values.debit || "";
      row.querySelector('[data-field="credit"]').value = values.credit || "";
      nameOf(row);
      recount(row, "debit");
      recount(row, "credit");
    }
    renumber();
    if (focus) { row.querySelector('[data-field="account"]').focus(); }
    return row;
  }

  function renumber() {
    var rows = body.rows;
    for (var i = 0; i < rows.length; i++) { rows[i].cells[0].textContent = String(i + 1); }
  }

  function removeLine(row) {
    if (body.rows.length <= 1) { return; }
    var next = row.nextElementSibling || row.previousElementSibling;
    totals.debit -= amounts.get(row).debit;
    totals.credit -= amounts.get(row).credit;
    row.remove();
    renumber();
    paint();
    next.querySelector('[data-field="account"]').focus();
  }

  function recount(row, side) {
    // O(1) per keystroke: the line's old amount out of the total, the new one in.
    var input = row.querySelector('[data-field="' + side + '"]');
    var value = cents(input.value);
    var kept = amounts.get(row);
    var now = value === null ? 0n : value;
    if (now !== kept[side]) {
      totals[side] += now - kept[side];
      kept[side] = now;
    }
    var invalid = value === null ? "true" : "false";
    if (input.getAttribute("aria-invalid") !== invalid) { input.setAttribute("aria-invalid", invalid); }
  }

  var totalDebit = document.getElementById("total-debit");
  var totalCredit = document.getElementById("total-credit");
  var difference = document.getElementById("difference");

  function paint() {
    totalDebit.textContent = show(totals.debit);
    totalCredit.textContent = show(totals.credit);
    var diff = totals.debit - totals.credit;
    difference.textContent = show(diff);
    var state = diff === 0n ? "balanced" : "unbalanced";
    if (difference.className !== state) { difference.className = state; }
  }

  function fillDifference(row, field) {
    var own = amounts.get(row).debit - amounts.get(row).credit;
    var others = totals.debit - totals.credit - own;
    var debit = row.querySelector('[data-field="debit"]');
    var credit = row.querySelector('[data-field="credit"]');
    if (others > 0n) { credit.value = plain(others); debit.value = ""; }
    else if (others < 0n) { debit.value = plain(-others); credit.value = ""; }
    recount(row, "debit");
    recount(row, "credit");
    paint();
    (others > 0n ? credit : others < 0n ? debit : (field || debit)).focus();
  }

  // ------------------------------------------------------------------ accounts

  function label(a) { return a.code + " " + (data.lang === "ka" ? a.nameKa : a.name); }

  function nameOf(row) {
    var input = row.querySelector('[data-field="account"]');
    var a = byCode[input.value.trim()];
    row.querySelector(".account-name").textContent = a ? (data.lang === "ka" ? a.nameKa : a.name) : "";
  }

  function search(text) {
    // The code's start first, then a name (either language) starting with the text, then
    // a word of a name, then the text anywhere: "rent" finds 7420 Rent before 1720
    // Prepaid rent and 1000 Current assets.
    var q = text.trim().toLowerCase();
    if (!q) { return []; }
    var codes = [], names = [], words = [], contains = [];
    for (var i = 0; i < accounts.length && codes.length < 8; i++) {
      var a = accounts[i];
      if (a.code.indexOf(q) === 0) { codes.push(a); }
      else if (a.search.indexOf(q) >= 0) {
        if (a.en.indexOf(q) === 0 || a.ka.indexOf(q) === 0) { names.push(a); }
        else if (a.search.indexOf(" " + q) >= 0 || a.search.indexOf("(" + q) >= 0) {
          words.push(a);
        } else { contains.push(a); }
      }
    }
    return codes.concat(names, words, contains).slice(0, 8);
  }

  function openList(input) {
    choices = search(input.value);
    listFor = input;
    active = choices.length ? 0 : -1;
    listbox.innerHTML = "";
    choices.forEach(function (a, i) {
      var li = document.createElement("li");
      li.id = "account-option-" + i;
      li.setAttribute("role", "option");
      li.textContent = label(a);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      listbox.appendChild(li);
    });
    var visible = choices.length > 0;
    listbox.hidden = !visible;
    input.setAttribute("aria-expanded", visible ? "true" : "false");
    if (visible) {
      var r = input.getBoundingClientRect();
      listbox.style.left = (r.left + window.scrollX) + "px";
      listbox.style.top = (r.bottom + window.scrollY) + "px";
    }
    highlight();
  }

  function highlight() {
    var items = listbox.children;
    for (var i = 0; i < items.length; i++) {
      items[i].setAttribute("aria-selected", i === active ? "true" : "false");
    }
    if (listFor) {
      if (active >= 0) { listFor.setAttribute("aria-activedescendant", "account-option-" + active); }
      else { listFor.removeAttribute("aria-activedescendant"); }
    }
  }

  function closeList() {
    listbox.hidden = true;
    if (listFor) {
      listFor.setAttribute("aria-expanded", "false");
      listFor.removeAttribute("aria-activedescendant");
    }
    choices = [];
    active = -1;
  }

  function choose(i) {
    if (!listFor || i < 0 || i >= choices.length) { return false; }
    listFor.value = choices[i].code;
    var row = listFor.closest("tr");
    nameOf(row);
    clearError(listFor);
    closeList();
    return true;
  }

  // ------------------------------------------------------------------ errors

  function fieldError(input, text) {
    input.setAttribute("aria-invalid", "true");
    var holder = document.getElementById(input.id + "-error");
    if (!holder) {
      holder = document.createElement("span");
      holder.className = "field-error";
      holder.id = input.id + "-error";
      input.parentNode.appendChild(holder);
    }
    holder.textContent = text;
    input.setAttribute("aria-describedby", holder.id);
  }

  function clearError(input) {
    input.removeAttribute("aria-invalid");
    var holder = document.getElementById(input.id + "-error");
    if (holder) { holder.textContent = ""; }
  }

  function clearErrors() {
    var marked = form.querySelectorAll('[aria-invalid="true"]');
    for (var i = 0; i < marked.length; i++) { clearError(marked[i]); }
  }

  // ------------------------------------------------------------------ navigation

  function next(input) {
    var field = input.dataset.field;
    var row = input.closest("tr");
    if (!row) {  // the header: date, description, reference, then the first line
      var order = ["e-date", "e-description", "e-reference"];
      var at = order.indexOf(input.id);
      if (input === dateField) { settleDate(); }
      if (at >= 0 && at < order.length - 1) { document.getElementById(order[at + 1]).focus(); }
      else { body.rows[0].querySelector('[data-field="account"]').focus(); }
      return;
    }
    var last = row === body.lastElementChild;
    var atEnd = field === "credit" || (field === "debit" && cents(input.value) > 0n);
    if (atEnd) {
      if (last) { addLine(null, true); }
      else { row.nextElementSibling.querySelector('[data-field="account"]').focus(); }
      return;
    }
    var target = row.querySelector('[data-field="' + FIELDS[FIELDS.indexOf(field) + 1] + '"]');
    target.focus();
  }

  function vertical(input, step) {
    var row = input.closest("tr");
    var other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (other) { other.querySelector('[data-field="' + input.dataset.field + '"]').focus(); }
  }

  form.addEventListener("input", function (event) {
    var input = event.target;
    var field = input.dataset.field;
    if (field === "debit" || field === "credit") {
      var row = input.closest("tr");
      if (input.value.indexOf("=") >= 0) {
        input.value = input.value.replace(/=/g, "");
        fillDifference(row, input);
        return;
      }
      recount(row, field);
      paint();
    } else if (field === "account") {
      openList(input);
      nameOf(input.closest("tr"));
    }
  });

  form.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input === dateField) { settleDate(); }
    if (input.dataset && input.dataset.field === "account") {
      var exact = byCode[input.value.trim()];
      if (!exact && listFor === input && choices.length === 1) { choose(0); }
      if (listFor === input) { closeList(); }
    }
  });

  form.addEventListener("click", function (event) {
    if (event.target.classList.contains("remove")) { removeLine(event.target.closest("tr")); }
  });

  document.getElementById("add-line").addEventListener("click", function () {
    addLine(null, true);
  });

  var help = document.getElementById("help");

  function openHelp() {
    if (help.open) { return; }
    help.showModal();
    document.getElementById("help-close").focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var field = target.dataset ? target.dataset.field : undefined;
    var inText = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
      return;
    }
    if (event.key === "F1" || (event.key === "?" && (!inText || field === "debit" ||
        field === "credit" || field === "account"))) {
      event.preventDefault();
      openHelp();
      return;
    }
    if (!form.contains(target)) { return; }
    var row = target.closest("tr");
    if (event.altKey && event.key.toLowerCase() === "n") {
      event.preventDefault();
      addLine(null, true);
      return;
    }
    if (event.altKey && event.key === "Backspace" && row) {
      event.preventDefault();
      removeLine(row);
      return;
    }
    if (event.altKey && event.key.toLowerCase() === "b" && row) {
      event.preventDefault();
      fillDifference(row, field === "credit" || field === "debit" ? target : null);
      return;
    }
    if (field === "account" && !listbox.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + choices.length) % choices.length;
        highlight();
        return;
      }
      if (event.key === "Escape") { event.preventDefault(); closeList(); return; }
      if (event.key === "Enter" || event.key === "Tab") {
        if (!byCode[target.value.trim()] || choices.length === 1) { choose(active); }
        else { closeList(); }
      }
    }
    if (row && (event.key === "ArrowDown" || event.key === "ArrowUp") && field !== "account") {
      event.preventDefault();
      vertical(target, event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (event.key === "Enter" && target.tagName === "INPUT") {
      event.preventDefault();
      next(target);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
  });

  // ------------------------------------------------------------------ saving

  var saving = false;

  function collect() {
    var entries = [];
    for (var i = 0; i < body.rows.length; i++) {
      var row = body.rows[i];
      var get = function (f) { return row.querySelector('[data-field="' + f + '"]').value; };
      var account = get("account").trim();
      var debit = cents(get("debit")), credit = cents(get("credit"));
      if (!account && !debit && !credit && !get("description").trim()) { continue; }
      entries.push({ account_code: account, description: get("description"),
                     debit: debit ? plain(debit) : (debit === null ? get("debit") : ""),
                     credit: credit ? plain(credit) : (credit === null ? get("credit") : ""),
                     _row: i });
    }
    return entries;
  }

  function save() {
    if (saving) { return; }
    clearErrors();
    if (!settleDate()) { dateField.focus(); return; }
    var entries = collect();
    var rows = entries.map(function (e) { var r = e._row; delete e._row; return r; });
    var payload = { date: dateField.value,
                    description: document.getElementById("e-description").value,
                    reference: document.getElementById("e-reference").value,
                    entries: entries };
    if (data.draft) { payload.id = data.draft.id; }
    saving = true;
    status.textContent = "…";
    fetch(data.save_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (answer) { return [response, answer]; });
    }).then(function (pair) {
      saving = false;
      var response = pair[0], answer = pair[1];
      if (response.ok) {
        status.textContent = answer.message;
        window.location.assign(answer.url);
        return;
      }
      problem(answer, rows);
    }).catch(function () {
      saving = false;
      status.textContent = msg.validation_failed;
    });
  }

  function problem(answer, rows) {
    // The API's problem, as a sentence next to the field it concerns. What was typed
    // stays where it was.
    status.textContent = answer.message;
    var target = null;
    if (answer.line !== null && answer.line !== undefined && rows[answer.line] !== undefined) {
      var row = body.rows[rows[answer.line]];
      var f = FIELDS.indexOf(answer.field) >= 0 ? answer.field : "account";
      target = row.querySelector('[data-field="' + f + '"]');
    } else if (answer.account) {
      for (var i = 0; i < body.rows.length; i++) {
        var input = body.rows[i].querySelector('[data-field="account"]');
        if (input.value.trim() === answer.account) { target = input; break; }
      }
    } else if (answer.field === "date" || answer.code === "period_closed" ||
               answer.code === "fiscal_year_unavailable") {
      target = dateField;
    } else if (answer.field === "description") {
      target = document.getElementById("e-description");
    } else if (answer.code === "unbalanced_transaction") {
      target = body.lastElementChild.querySelector('[data-field="debit"]');
    }
    if (target) {
      fieldError(target, answer.message);
      target.focus();
    }
  }

  // ------------------------------------------------------------------ start

  if (data.draft) {
    dateField.value = data.draft.date;
    document.getElementById("e-description").value = data.draft.description;
    document.getElementById("e-reference").value = data.draft.reference;
    data.draft.entries.forEach(function (e) { addLine(e, false); });
  } else {
    dateField.value = data.today;
    addLine(null, false);
    addLine(null, false);
  }
  paint();
  dateField.focus();
  dateField.select();
  window.saldoEntry = { cents: cents, parseDate: parseDate, addLine: addLine };
})();
