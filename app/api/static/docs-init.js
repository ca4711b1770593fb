// Starts Swagger UI on /docs. The page has no inline script (its Content-Security-Policy
// forbids one): the OpenAPI URL comes from the page's data-openapi-url attribute.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  validatorUrl: null,
  showExtensions: true,
});
