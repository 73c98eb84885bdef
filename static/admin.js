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
