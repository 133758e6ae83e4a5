/* serbench leaderboard page: sortable, filterable table and per-entry details. No dependencies. */
(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;

  function value(cell, numeric) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null || raw === "") { return null; }
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortBy(col) {
    var th = heads[col];
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    for (var i = 0; i < heads.length; i++) { heads[i].setAttribute("aria-sort", "none"); }
    th.setAttribute("aria-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[col], numeric), y = value(b.cells[col], numeric);
      if (x === null || y === null) { return (x === null) - (y === null); } /* missing last */
      var c = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () { sortBy(col); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); }
    });
  });

  /* filters: model family and feature set hide rows, their details and chart points */
  var selects = document.querySelectorAll("select[data-filter]");
  function applyFilters() {
    var want = {};
    Array.prototype.forEach.call(selects, function (s) { want[s.getAttribute("data-filter")] = s.value; });
    function keep(el) {
      return (!want.model || el.getAttribute("data-model") === want.model) &&
             (!want.feature || el.getAttribute("data-feature") === want.feature);
    }
    var shown = 0, hiddenKeys = {};
    Array.prototype.forEach.call(body.rows, function (r) {
      var ok = keep(r);
      r.hidden = !ok;
      if (ok) { shown++; } else { hiddenKeys[r.id.slice(4)] = true; }
    });
    Array.prototype.forEach.call(document.querySelectorAll("details[data-model]"), function (d) {
      d.hidden = !keep(d);
    });
    Array.prototype.forEach.call(document.querySelectorAll("svg g[data-group]"), function (g) {
      g.classList.toggle("hidden", hiddenKeys[g.getAttribute("data-group")] === true);
    });
    var count = document.getElementById("filter-count");
    if (count) { count.textContent = shown + " of " + body.rows.length + " rows shown"; }
  }
  Array.prototype.forEach.call(selects, function (s) { s.addEventListener("change", applyFilters); });

  function openFromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
})();
