"""Every address an anonymous client can call repeatedly has a rate limit, or a declared reason why not.

Generated from the URL map: a new public route fails here until it is limited (``@limit('RATELIMIT_…')``)
or listed in UNLIMITED with its reason."""
from flask_limiter.util import get_qualified_name

from backoffice.limits import limiter
from views.policies import PUBLIC, policy_for

# endpoint → why it needs no limit of its own
UNLIMITED = {
    'static': 'static files: served from memory/disk, in production by the reverse proxy',
    'admin.static': 'static files of the back office',
    'api_docs.asset': "Swagger UI's static files",
    'health.healthz': "the load balancer's liveness probe, answered without any I/O",
    'health.readyz': "the load balancer's readiness probe: a fixed, cheap set of checks",
    'health.metrics': 'answers 404 to any client outside METRICS_ALLOWED_IPS',
    'api_docs.unknown': 'a JSON 404/405 for an unknown API address: no I/O',
    'api_docs.root': 'a redirect to the documentation: no I/O',
}


def _limited(app, endpoint):
    view = app.view_functions[endpoint]
    manager = limiter.limit_manager
    if manager.decorated_limits(get_qualified_name(view)):
        return True
    blueprint = endpoint.rsplit('.', 1)[0] if '.' in endpoint else None
    return bool(blueprint and manager.blueprint_limits(app, blueprint))


def test_every_public_endpoint_is_rate_limited_or_declared(app):
    public = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                     if policy_for(rule.endpoint, app) is PUBLIC})
    assert 'public.verify' in public and 'health.registry_keys' in public       # the map was read
    missing = [ep for ep in public if ep not in UNLIMITED and not _limited(app, ep)]
    assert missing == [], f'public endpoints without a rate limit: {missing}'
    stale = sorted(set(UNLIMITED) - set(public))
    assert stale == [], f'UNLIMITED names endpoints that are gone or not public: {stale}'


def test_published_key_documents_are_limited_and_cached(app, client):
    from backoffice import limits
    limits.reset()
    app.config['RATELIMIT_VERIFY'] = '3 per minute'
    try:
        for name in ('registry-keys', 'registry-specialties'):
            codes = []
            for _ in range(4):
                r = client.get(f'/.well-known/{name}.json', headers={'Accept': 'application/json'})
                codes.append(r.status_code)
                if r.status_code == 200:
                    assert 'max-age' in r.headers.get('Cache-Control', '')
                    assert r.headers.get('Access-Control-Allow-Origin') == '*'
            assert codes[:3] == [200, 200, 200] and codes[3] == 429, (name, codes)
            limits.reset()
    finally:
        app.config['RATELIMIT_VERIFY'] = '120 per minute'
        limits.reset()


def test_the_check_is_skipped_only_where_no_limit_applies(app, client, users):
    """backoffice.limits.no_limit_applies (the request filter that spares the limiter's check on pages
    without a limit) never spares a limited endpoint, and does spare a staff page."""
    from backoffice.limits import no_limit_applies
    from .conftest import login
    for rule in app.url_map.iter_rules():
        if '<' in rule.rule or 'GET' not in rule.methods:
            continue
        with app.test_request_context(rule.rule):
            spared = no_limit_applies()
        assert not (spared and _limited(app, rule.endpoint)), rule.endpoint
    with app.test_request_context('/admin/helpdesk/'):
        assert no_limit_applies()
    with app.test_request_context('/login'):
        assert not no_limit_applies()
    login(client, 'helpdesk')
    assert client.get('/admin/helpdesk/').status_code == 200
