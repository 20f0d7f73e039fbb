// Swagger UI over the service's own OpenAPI document; assets come from /static (vendored from npm), never a CDN.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,          // the public validator badge would call another host
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
  });
});
