// polyglot-pipe review report: filters and "next non-English fragment" navigation.
// Inlined by output/html.py. One delegated listener per event type; filters add a CSS
// rule per hidden value instead of touching 20,000 rows; navigation binary-searches
// the rows' positions. Nothing here reads or writes input text.
(function () {
  "use strict";
  var counts = JSON.parse(document.getElementById("pp-counts").textContent);
  // [document number, lang, status, fragments] for each combination in the report
  var total = counts.reduce(function (sum, c) { return sum + c[3]; }, 0);
  var docs = Array.prototype.slice.call(document.querySelectorAll(".pp-doc"));
  var hidden = { lang: new Set(), status: new Set() };
  var sheet = document.styleSheets[0];
  var firstFilterRule = sheet.cssRules.length;
  var shown = document.getElementById("pp-shown");
  var toolbar = document.querySelector(".pp-toolbar");
  var foreign = null;  // the non-English rows, in document order, found on first use

  function attrSelector(name, value) {
    return ".pp-frag[data-" + name + '="' + CSS.escape(value) + '"]';
  }

  function applyFilters() {
    while (sheet.cssRules.length > firstFilterRule) sheet.deleteRule(firstFilterRule);
    var selectors = [];
    hidden.lang.forEach(function (v) { selectors.push(attrSelector("lang", v)); });
    hidden.status.forEach(function (v) { selectors.push(attrSelector("status", v)); });
    if (selectors.length) sheet.insertRule(selectors.join(",") + "{display:none}", firstFilterRule);
    // Count from the data, not the rows; a document none of whose rows is shown folds away.
    var visible = 0, perDoc = {};
    counts.forEach(function (c) {
      var n = hidden.lang.has(c[1]) || hidden.status.has(c[2]) ? 0 : c[3];
      visible += n;
      perDoc[c[0]] = (perDoc[c[0]] || 0) + n;
    });
    docs.forEach(function (section, i) { section.hidden = !perDoc[i + 1]; });
    shown.textContent = visible + " of " + total + " fragments shown";
  }

  function isShown(row) {
    return !hidden.lang.has(row.dataset.lang) && !hidden.status.has(row.dataset.status);
  }

  // Index of the first row whose top is below y: rows are in document order, so their tops ascend.
  function firstBelow(rows, y) {
    var lo = 0, hi = rows.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (rows[mid].getBoundingClientRect().top > y) hi = mid; else lo = mid + 1;
    }
    return lo;
  }

  function go(step) {
    if (!foreign) foreign = Array.prototype.slice.call(document.querySelectorAll(".pp-frag.pp-foreign"));
    var rows = foreign.filter(isShown);
    if (!rows.length) { shown.textContent = "no non-English fragment shown"; return; }
    var old = document.querySelector(".pp-current");
    var top = toolbar.getBoundingClientRect().bottom;  // a row we jumped to sits just below this
    var i = old ? rows.indexOf(old) : -1;
    var rect = old && old.getBoundingClientRect();
    if (i >= 0 && rect.bottom > top && rect.top < window.innerHeight) i += step;  // still looking at it
    else i = step > 0 ? firstBelow(rows, top + 12) : firstBelow(rows, top + 2) - 1;  // scrolled elsewhere
    var target = rows[(i + rows.length) % rows.length];  // wrap around at either end
    if (old) old.classList.remove("pp-current");
    target.classList.add("pp-current");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    if (history.replaceState) history.replaceState(null, "", "#" + target.id);
  }

  function setAll() {
    hidden.lang.clear();
    hidden.status.clear();
    document.querySelectorAll(".pp-filter input").forEach(function (box) { box.checked = true; });
    applyFilters();
  }

  function sizeToolbar() {
    document.documentElement.style.setProperty("--toolbar-h", toolbar.offsetHeight + "px");
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    var fieldset = box.closest && box.closest(".pp-filter");
    if (!fieldset) return;
    var set = hidden[fieldset.dataset.filter];
    if (box.checked) set.delete(box.value); else set.add(box.value);
    applyFilters();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.dataset.action;
    if (action === "next") go(1);
    else if (action === "prev") go(-1);
    else if (action === "all") setAll();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var el = event.target, tag = el.tagName;
    var typing = tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable ||
      (tag === "INPUT" && !/^(checkbox|radio|button)$/.test(el.type));
    if (typing) return;
    if (event.key === "n" || event.key === "j") { go(1); event.preventDefault(); }
    else if (event.key === "p" || event.key === "k") { go(-1); event.preventDefault(); }
  });

  window.addEventListener("resize", sizeToolbar);
  sizeToolbar();
  applyFilters();
})();
