"""Rate limits: one Flask-Limiter for the whole app.

Storage is Redis when REDIS_URL (or RATELIMIT_STORAGE_URI) is set, so every worker and node
counts together; the embedded default counts in memory, per process. Each limit is a setting
(RATELIMIT_* in backoffice.config), so operators tune them without code changes.

    @limit('RATELIMIT_LOGIN')                          # per client address
    @limit('RATELIMIT_SIGNUP_ID', key=lambda: ...)     # per any other key (an ID number, a mobile)
    check('RATELIMIT_SMS_NUMBER', mobile)              # inside a function, for keys known only there

A refusal answers 429 with a Chinese page (or JSON) and Retry-After.
"""
import math
import time

from flask import current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many


def client_key():
    """The client's address (behind a proxy, ProxyFix makes remote_addr the real client)."""
    return request.remote_addr or 'unknown'


limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True,
                  strategy='fixed-window', swallow_errors=False)


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__('rate limited')
        self.retry_after = max(1, int(retry_after))


@limiter.request_filter
def no_limit_applies():
    """Flask-Limiter's check skipped for an endpoint no limit can apply to: not decorated with one, its
    blueprint without one, and the app without default or application limits. The check cost about a
    tenth of a millisecond on every signed-in page, none of which has a limit of its own. Decided once
    per endpoint with Flask-Limiter's own lookups (the view's qualified name, as its check looks it up);
    check() limits inside a view are counted whatever this says."""
    endpoint = request.endpoint
    if not endpoint:
        return False
    app = current_app._get_current_object()
    decided = app.extensions.setdefault('registry_no_limit', {})       # endpoint -> no limit applies
    known = decided.get(endpoint)
    if known is None:
        from flask_limiter.util import get_qualified_name
        manager = limiter.limit_manager
        view = app.view_functions.get(endpoint)
        blueprint = request.blueprint
        known = decided[endpoint] = not (
            view is None or manager.default_limits or manager.application_limits
            or manager.has_hints(endpoint) or manager.decorated_limits(get_qualified_name(view))
            or (blueprint and manager.blueprint_limits(app, blueprint)))
    return known


def limit(setting, key=None, **kw):
    """Decorator: the limit named by `setting` (e.g. '10 per minute;100 per day') on a view."""
    return limiter.limit(lambda: current_app.config[setting], key_func=key, **kw)


def check(setting, key):
    """Count one hit against `setting` for `key`; raise RateLimited when it is over."""
    if not current_app.config.get('RATELIMIT_ENABLED', True):
        return
    strategy = limiter.limiter
    for item in parse_many(current_app.config[setting]):
        if not strategy.hit(item, setting, str(key)):
            reset, _remaining = strategy.get_window_stats(item, setting, str(key))
            raise RateLimited(math.ceil(reset - time.time()))


def reset():
    """Forget every count (tests)."""
    limiter.reset()


def _too_many(retry_after):
    seconds = max(1, int(retry_after))
    wait = f'{seconds} 秒' if seconds < 120 else f'{math.ceil(seconds / 60)} 分钟'
    message = f'操作过于频繁，请 {wait}后再试。'
    if request.accept_mimetypes.best == 'application/json' or request.is_json:
        resp = jsonify(error=message, retry_after=seconds)
    else:
        resp = current_app.make_response(render_template('error.html', code=429, title='请求过于频繁',
                                                         message=message))
    resp.status_code = 429
    resp.headers['Retry-After'] = str(seconds)
    return resp


def init_app(app):
    redis_url = app.config.get('REDIS_URL')
    app.config.setdefault('RATELIMIT_STORAGE_URI', redis_url or 'memory://')
    if not app.config.get('RATELIMIT_STORAGE_URI'):
        app.config['RATELIMIT_STORAGE_URI'] = redis_url or 'memory://'
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _limit_exceeded(exc):
        reset_at = getattr(getattr(exc, 'limit', None), 'reset_at', None)
        retry = None
        try:
            stats = limiter.current_limit
            retry = stats.reset_at - time.time() if stats else None
        except Exception:
            retry = None
        return _too_many(retry or reset_at or 60)

    @app.errorhandler(RateLimited)
    def _rate_limited(exc):
        return _too_many(exc.retry_after)
