// Flask-Admin's inline handlers, attached from here: our Content-Security-Policy runs no inline
// script (templates/admin/actions.html and admin/model/row_actions.html say what moved).
// One listener in the capture phase, so that it runs before any handler that stops the click.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) {
      return;
    }
    // Links that only open a menu or a filter: following javascript:void(0) would be inline
    // script, which the policy refuses (and reports).
    if (event.target.closest('a[href^="javascript:"]')) {
      event.preventDefault();
    }
    // The row's delete button: submit its form only once the person confirms.
    var confirming = event.target.closest("[data-confirm]");
    if (confirming && !window.faHelpers.safeConfirm(confirming.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    // "With selected" → an action: Flask-Admin's own actions.js asks and submits.
    var action = event.target.closest("[data-model-action]");
    if (action) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
    }
  }, true);
})();

// Select2 (Flask-Admin's AJAX selects) draws each chosen item with an "×" link that has no
// text: screen readers announce a bare "link". Each gets a name ("Remove Marie Curie") when
// it appears; select2 redraws the chips on every change, so an observer keeps up. A single
// select's box is a link too, empty until something is chosen: it is named by the field's
// label and what it shows.
(function () {
  "use strict";

  var ids = 0;

  function idOf(element) {
    if (!element.id) {
      ids += 1;
      element.id = "select2-named-" + ids;
    }
    return element.id;
  }

  function nameRemoveLinks(root) {
    root.querySelectorAll(".select2-search-choice-close:not([aria-label])").forEach(
      function (link) {
        var choice = link.closest(".select2-search-choice, .select2-choice");
        var text = choice ? choice.textContent.replace(/\s+/g, " ").trim() : "";
        link.setAttribute("aria-label", text ? "Remove " + text : "Clear the choice");
        link.setAttribute("title", link.getAttribute("aria-label"));
      });
    root.querySelectorAll("a.select2-choice:not([aria-labelledby])").forEach(function (link) {
      var box = link.closest(".select2-container");
      var field = box && box.id.indexOf("s2id_") === 0 ? box.id.slice(5) : "";
      var label = field ? document.querySelector('label[for="' + field + '"]') : null;
      var chosen = link.querySelector(".select2-chosen");
      var parts = [label && idOf(label), chosen && idOf(chosen)].filter(Boolean);
      if (parts.length) {
        link.setAttribute("aria-labelledby", parts.join(" "));
      }
    });
  }

  function start() {
    nameRemoveLinks(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        if (change.addedNodes.length) {
          nameRemoveLinks(change.target instanceof Element ? change.target : document);
        }
      });
    }).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
