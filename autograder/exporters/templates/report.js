/* The students table: sort by a column, find by name, status or flag. Without this script the table reads the same. */
(function () {
  "use strict";
  function openTarget() {  /* a link into a folded part of the page (a mistake, a check): unfold it */
    var target = location.hash && document.getElementById(location.hash.slice(1));
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  var table = document.getElementById("students-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var search = document.getElementById("students-search");
  var count = document.getElementById("students-count");
  document.getElementById("students-tools").hidden = false;

  function filter() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-search");
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown === rows.length ? rows.length + " students"
                                              : shown + " of " + rows.length + " students";
  }
  search.addEventListener("input", filter);
  filter();

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, column) {
    var kind = th.getAttribute("data-sort");
    if (!kind) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    while (th.firstChild && th.firstChild.nodeType === 3) { button.appendChild(th.firstChild); }
    th.insertBefore(button, th.firstChild);
    button.addEventListener("click", function () {
      var first = kind === "num" ? "descending" : "ascending";  /* numbers: highest first */
      var again = th.getAttribute("aria-sort") === first;
      var down = again ? first === "ascending" : first === "descending";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var keyed = rows.map(function (row, i) {
        var value = row.cells[column].getAttribute("data-v");
        return {row: row, i: i, v: kind === "num" ? parseFloat(value) : value};
      });
      keyed.sort(function (a, b) {
        var order = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
        return (down ? -order : order) || a.i - b.i;
      });
      keyed.forEach(function (k) { body.appendChild(k.row); });
    });
  });

  function reveal() {  /* a link from the mistakes to a student the search hides: clear the search */
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.hidden) { search.value = ""; filter(); target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
})();
