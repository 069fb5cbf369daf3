"""Login, lockout, hashed passwords, CSRF."""
from models import User

from .conftest import PASSWORD, csrf_from, login


def test_password_is_hashed(users):
    row = User.get(User.username == 'admin')
    assert PASSWORD not in row.password_hash and row.password_hash.startswith(('scrypt:', 'pbkdf2:'))


def test_login_success_goes_to_back_office(client, users):
    r = login(client, 'acceptor')
    assert r.status_code == 302 and r.headers['Location'].endswith('/admin/')
    assert client.get('/admin/').status_code == 200


def test_wrong_password_message_and_progressive_delay(client, users, monkeypatch):
    import datetime
    from backoffice import auth
    from backoffice.auth import LOGIN_REFUSED
    monkeypatch.setattr(auth, 'now', lambda: datetime.datetime(2026, 3, 2, 9, 0))   # every try at one instant
    for _ in range(5):
        r = login(client, 'reviewer', 'wrong')
        assert LOGIN_REFUSED in r.get_data(as_text=True)
        assert '还可尝试' not in r.get_data(as_text=True)        # no count that tells the account exists
    row = User.get(User.username == 'reviewer')
    # 3 counted, then a wait of seconds (not a lock); tries during the wait are refused, not counted
    assert row.failed_logins == 3 and row.locked_until == datetime.datetime(2026, 3, 2, 9, 0, 1)
    r = login(client, 'reviewer')                   # right password, but within the wait
    assert LOGIN_REFUSED in r.get_data(as_text=True)
    assert client.get('/admin/').status_code == 302


def test_unknown_user_same_message(client, users):
    r = login(client, 'nobody', 'x')
    assert '用户名或密码错误' in r.get_data(as_text=True)
    assert '用户名或密码错误' in login(client, 'admin', 'x').get_data(as_text=True)


def test_login_without_csrf_is_refused(client, users):
    r = client.post('/login', data={'username': 'admin', 'password': PASSWORD})
    assert r.status_code == 400
    assert '表单已过期或缺少安全校验码（CSRF）' in r.get_data(as_text=True)
    assert client.get('/admin/').status_code == 302           # not logged in


def test_admin_post_without_csrf_is_400(client, users):
    login(client, 'admin')
    r = client.post('/admin/person/new/', data={'id_number': '11010519491231002X', 'name': '张三'})
    assert r.status_code == 400
    assert '缺少安全校验码（CSRF）' in r.get_data(as_text=True)


def test_logout_is_post_with_csrf(client, users):
    login(client, 'admin')
    page = client.get('/admin/').get_data(as_text=True)
    r = client.post('/logout', data={'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    assert client.get('/admin/').status_code == 302


def test_open_redirect_is_ignored(client, users):
    token = csrf_from(client.get('/login').get_data(as_text=True))
    r = client.post('/login?next=//evil.example/', data={'username': 'admin', 'password': PASSWORD,
                                                         'csrf_token': token})
    assert r.headers['Location'] == '/admin/'     # more hostile values: tests/test_security_sessions.py
