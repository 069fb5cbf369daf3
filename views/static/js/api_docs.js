// Starts Swagger UI on the API documentation page (no inline script: the CSP allows only this origin).
(function () {
  var el = document.getElementById('swagger-ui');
  if (!el || typeof SwaggerUIBundle === 'undefined') { return; }
  SwaggerUIBundle({
    url: el.getAttribute('data-spec-url'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
}());
