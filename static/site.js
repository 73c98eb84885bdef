// The student site's few behaviours. They live in this file, not in onclick="…" or style="…"
// attributes, because the Content-Security-Policy runs no inline script and applies no inline
// style.
(function () {
  "use strict";

  // Weekly timetable: each cell's place comes as data-grid-column / data-grid-row, the grid's
  // size as data-days / data-slots. Styles set from a script are not inline styles to the
  // policy. The CSS shows the grid only once it is placed (site.css, "Weekly timetable").
  document.querySelectorAll(".week-grid").forEach(function (grid) {
    grid.style.setProperty("--days", grid.getAttribute("data-days"));
    grid.style.setProperty("--slots", grid.getAttribute("data-slots"));
    grid.querySelectorAll("[data-grid-column], [data-grid-row]").forEach(function (cell) {
      if (cell.hasAttribute("data-grid-column")) {
        cell.style.gridColumn = cell.getAttribute("data-grid-column");
      }
      if (cell.hasAttribute("data-grid-row")) {
        cell.style.gridRow = cell.getAttribute("data-grid-row");
      }
    });
    grid.classList.add("is-placed");
  });

  // A button that prints the page (the roster).
  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
