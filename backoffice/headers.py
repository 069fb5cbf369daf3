"""Security headers on every response, set in one place (one after_request hook).

- Content-Security-Policy: scripts only from this origin, no inline script and no inline event
  handler (the templates' scripts live in views/static/js; Flask-Admin's own pages load theirs from
  its static folder, and its one inline handler, the batch-action menu, is overridden in
  views/templates/admin/actions.html). Inline *styles* stay allowed: the templates use style
  attributes, and a style cannot run code. frame-ancestors 'none' (and X-Frame-Options DENY for
  older browsers): no page of the registry can be framed.
- X-Content-Type-Options: nosniff; Referrer-Policy: strict-origin-when-cross-origin.
- Strict-Transport-Security only when TLS is configured (HSTS_ENABLED, or PREFERRED_URL_SCHEME=https).
- Cache-Control: no-store on everything but static files, the public announcement PDFs and the
  published verification documents (/.well-known/…): pages
  and files carry personal data, and a shared or back-button cache must not keep them.

A view that sets its own Content-Security-Policy (the sandbox on uploaded materials, views/files.py)
keeps it; every other header is the hook's.
"""

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
REFERRER_POLICY = 'strict-origin-when-cross-origin'
# responses that may be cached: static files (no personal data) and the published announcements
CACHEABLE_ENDPOINTS = frozenset({'static', 'admin.static', 'public.announcement_pdf',
                                 'health.registry_keys', 'health.registry_specialties'})


def hsts_enabled(config):
    return bool(config.get('HSTS_ENABLED')) or config.get('PREFERRED_URL_SCHEME') == 'https'


def _cacheable(request):
    endpoint = request.endpoint or ''
    return endpoint in CACHEABLE_ENDPOINTS or endpoint.endswith('.static')


def apply(response, request, config):
    """Set the security headers on one response."""
    h = response.headers
    h.setdefault('Content-Security-Policy', CSP)
    h['X-Frame-Options'] = 'DENY'
    h['X-Content-Type-Options'] = 'nosniff'
    h['Referrer-Policy'] = REFERRER_POLICY
    h['Cross-Origin-Opener-Policy'] = 'same-origin'
    if hsts_enabled(config):
        h['Strict-Transport-Security'] = f"max-age={int(config.get('HSTS_MAX_AGE', 31536000))}; includeSubDomains"
    if not _cacheable(request) or response.status_code >= 400:
        h['Cache-Control'] = 'no-store'
        h.pop('Expires', None)
        h['Pragma'] = 'no-cache'
    return response


def init_app(app):
    from flask import request

    @app.after_request
    def _security_headers(response):
        return apply(response, request, app.config)
