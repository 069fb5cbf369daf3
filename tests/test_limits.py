"""The shared rate limiter: a refusal is a Chinese 429 page with Retry-After, counted per key."""
import pytest
from flask import Flask

from backoffice import limits


def test_check_counts_per_key_and_refuses_with_retry_after(app):
    app.config['RATELIMIT_TEST'] = '3 per minute'
    with app.test_request_context('/'):
        for _ in range(3):
            limits.check('RATELIMIT_TEST', 'a')
        with pytest.raises(limits.RateLimited) as exc:
            limits.check('RATELIMIT_TEST', 'a')
        assert 1 <= exc.value.retry_after <= 60
        limits.check('RATELIMIT_TEST', 'b')          # another key has its own count


def test_rate_limited_renders_chinese_429_with_retry_after(app):
    with app.test_request_context('/'):
        resp = app.handle_user_exception(limits.RateLimited(42))
        resp = app.make_response(resp)
    assert resp.status_code == 429
    assert resp.headers['Retry-After'] == '42'
    body = resp.get_data(as_text=True)
    assert '请求过于频繁' in body and '42 秒' in body


def test_decorated_view_answers_429_after_its_limit(app):
    probe = Flask('probe')
    probe.config.update(RATELIMIT_PROBE='2 per minute', RATELIMIT_STORAGE_URI='memory://')
    limits.init_app(probe)

    @probe.route('/p')
    @limits.limit('RATELIMIT_PROBE')
    def p():
        return 'ok'
    c = probe.test_client()
    json = {'Accept': 'application/json'}
    assert [c.get('/p', headers=json).status_code for _ in range(3)] == [200, 200, 429]
    resp = c.get('/p', headers=json)
    assert resp.status_code == 429 and int(resp.headers['Retry-After']) > 0
    assert '操作过于频繁' in resp.get_json()['error']
