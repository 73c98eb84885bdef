// Starts Swagger UI on /api/docs (a file of its own: the CSP allows no inline script).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,  // no call to an outside validator
    persistAuthorization: false
  });
});
