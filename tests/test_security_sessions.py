"""Issue 9 §3, sessions and login: server-side session end, idle and absolute lifetime, Secure cookie,
per-client login throttle, progressive per-account delay with an administrator's unlock, identical
answers for unknown and known users, one safe-redirect helper, and the password policy."""
import datetime
import re

import pytest

from backoffice import auth
from backoffice.config import Config, ProductionConfig, config_from_env
from backoffice.redirects import is_safe_path, safe_next
from models import AuditEvent, User

from .conftest import PASSWORD, build_application, csrf_from, login, make_user, post_form

T0 = datetime.datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def clock(monkeypatch):
    """Injected time for backoffice.auth: clock.at = a datetime; clock.advance(**timedelta kwargs)."""
    class Clock:
        at = T0

        def advance(self, **kw):
            self.at += datetime.timedelta(**kw)
    c = Clock()
    monkeypatch.setattr(auth, 'now', lambda: c.at)
    return c


@pytest.fixture
def roomy_login_limit(app, monkeypatch):
    """Tests of the per-account rules log in often; the per-client throttle is tested on its own."""
    monkeypatch.setitem(app.config, 'RATELIMIT_LOGIN', '1000 per minute')


def logged_in(app, username):
    client = app.test_client()
    r = login(client, username)
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def is_login_redirect(r):
    return r.status_code == 302 and '/login' in r.headers['Location']


def logout(client):
    page = client.get('/admin/').get_data(as_text=True)
    return client.post('/logout', data={'csrf_token': csrf_from(page)})


# --- the session ends on the server -----------------------------------------------------

def test_logout_ends_the_session_a_saved_cookie_carries(app, users):
    client = logged_in(app, 'admin')
    assert client.get('/admin/user/').status_code == 200
    saved = client.get_cookie('session').value
    other_device = logged_in(app, 'admin')
    assert logout(client).status_code == 302
    client.set_cookie('session', saved)                   # replay the cookie taken before logout
    assert is_login_redirect(client.get('/admin/user/'))
    assert is_login_redirect(other_device.get('/admin/user/'))   # every session of the user ends
    assert logged_in(app, 'admin').get('/admin/user/').status_code == 200   # a new login works


def _edit_user(admin_client, user, **changes):
    data = {'username': user.username, 'name': user.name, 'role': user.role,
            'province': str(user.province_id or ''), 'mobile': user.mobile or '', 'password': ''}
    if user.active:
        data['active'] = 'y'
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    url = f'/admin/user/edit/?id={user.id}'
    r = post_form(admin_client, url, data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return r


@pytest.mark.parametrize('change', [
    {'password': 'Xinmima#2026tk'},                       # password change
    {'role': 'reviewer'},                                 # role change
    {'active': None},                                     # deactivation (box unticked)
])
def test_admin_change_ends_the_users_sessions(app, users, roomy_login_limit, change):
    victim = logged_in(app, 'acceptor')
    assert victim.get('/admin/').status_code == 200
    admin = logged_in(app, 'admin')
    _edit_user(admin, users['acceptor'], **change)
    r = victim.get('/admin/')
    assert is_login_redirect(r)
    assert admin.get('/admin/user/').status_code == 200     # the administrator's own session goes on


def test_harmless_edit_keeps_sessions(app, users, roomy_login_limit):
    victim = logged_in(app, 'acceptor')
    admin = logged_in(app, 'admin')
    _edit_user(admin, users['acceptor'], name='受理员新名字')
    assert victim.get('/admin/').status_code == 200


def test_admin_changing_own_password_stays_logged_in_elsewhere_out(app, users, roomy_login_limit):
    other = logged_in(app, 'admin')
    admin = logged_in(app, 'admin')
    _edit_user(admin, users['admin'], password='Xinmima#2026tk')
    assert admin.get('/admin/user/').status_code == 200
    assert is_login_redirect(other.get('/admin/user/'))


def test_end_sessions_is_one_function(app, users):
    user = users['reviewer']
    before = User.get_by_id(user.id).session_version
    assert auth.end_sessions(user) == before + 1 == User.get_by_id(user.id).session_version


# --- idle timeout and absolute lifetime (injected time) -----------------------------------

def test_idle_timeout(app, users, clock):
    client = logged_in(app, 'acceptor')
    clock.advance(minutes=29)
    assert client.get('/admin/').status_code == 200       # activity moves last-seen forward
    clock.advance(minutes=29)
    assert client.get('/admin/').status_code == 200
    clock.advance(minutes=31)
    assert is_login_redirect(client.get('/admin/'))
    clock.advance(minutes=1)
    assert is_login_redirect(client.get('/admin/'))       # stays ended


def test_idle_timeout_is_a_setting(app, users, clock, monkeypatch):
    monkeypatch.setitem(app.config, 'SESSION_IDLE_MINUTES', 5)
    client = logged_in(app, 'acceptor')
    clock.advance(minutes=4)
    assert client.get('/admin/').status_code == 200
    clock.advance(minutes=6)
    assert is_login_redirect(client.get('/admin/'))


def test_absolute_lifetime(app, users, clock):
    assert Config.SESSION_MAX_HOURS == 12 and Config.SESSION_IDLE_MINUTES == 30
    client = logged_in(app, 'acceptor')
    for _ in range(35):                                   # active every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert client.get('/admin/').status_code == 200
    clock.advance(minutes=19)
    assert client.get('/admin/').status_code == 200       # 11 h 59 min
    clock.advance(minutes=2)
    assert is_login_redirect(client.get('/admin/'))       # 12 h 01 min, although never idle


def test_session_without_login_stamps_is_refused(app, users):
    client = logged_in(app, 'acceptor')
    with client.session_transaction() as sess:
        del sess[auth.SESSION_LOGIN_AT]
    assert is_login_redirect(client.get('/admin/'))


# --- Secure cookie flag ------------------------------------------------------------------

def test_secure_cookie_flag_in_production(app, users, monkeypatch):
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    monkeypatch.setenv('APP_ENV', 'production')
    assert config_from_env() is ProductionConfig
    monkeypatch.setenv('APP_ENV', '')
    assert config_from_env() is Config
    monkeypatch.setitem(app.config, 'SESSION_COOKIE_SECURE', ProductionConfig.SESSION_COOKIE_SECURE)
    r = login(app.test_client(), 'admin')
    cookie = [h for h in r.headers.getlist('Set-Cookie') if h.startswith('session=')][0]
    assert '; Secure' in cookie and '; HttpOnly' in cookie


def test_no_secure_flag_when_setting_is_off(app, users, monkeypatch):
    monkeypatch.setitem(app.config, 'SESSION_COOKIE_SECURE', False)
    r = login(app.test_client(), 'admin')
    cookie = [h for h in r.headers.getlist('Set-Cookie') if h.startswith('session=')][0]
    assert '; Secure' not in cookie


# --- per-client throttle -----------------------------------------------------------------

def test_login_throttle_per_client_answers_chinese_429(app, users, monkeypatch):
    monkeypatch.setitem(app.config, 'RATELIMIT_LOGIN', '3 per minute')
    client = app.test_client()
    for _ in range(3):
        assert login(client, 'nobody', 'wrong-guess-1').status_code == 200
    r = login(client, 'admin')                            # even the right password: the client is over
    assert r.status_code == 429
    assert 1 <= int(r.headers['Retry-After']) <= 60
    assert '请求过于频繁' in r.get_data(as_text=True)
    assert client.get('/login').status_code == 200        # the page itself is not counted
    other = app.test_client()
    r = other.post('/login', data={'username': 'admin', 'password': PASSWORD},
                   environ_base={'REMOTE_ADDR': '10.9.8.7'})
    assert r.status_code != 429                           # another client has its own count


def test_default_login_limit_applies(app, users):
    assert Config.RATELIMIT_LOGIN == app.config['RATELIMIT_LOGIN']
    client = app.test_client()
    codes = [login(client, 'nobody', 'x-guess').status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


# --- progressive per-account delay ---------------------------------------------------------

def _guess_as_fast_as_allowed(app, clock, username, times):
    attacker = app.test_client()
    for _ in range(times):
        login(attacker, username, 'guess-Wrong-1')
        waiting = User.get(User.username == username).locked_until
        if waiting is not None and waiting > clock.at:
            clock.at = waiting


def test_attackers_five_wrong_passwords_do_not_lock_out_the_user(app, users, clock, roomy_login_limit):
    _guess_as_fast_as_allowed(app, clock, 'reviewer', 5)
    row = User.get(User.username == 'reviewer')
    assert row.failed_logins == 5
    # waits of 1, 2 and 4 s after the 3rd, 4th and 5th wrong password: seconds, not 15 minutes
    assert row.locked_until == T0 + datetime.timedelta(seconds=7)
    clock.advance(seconds=1)
    r = login(app.test_client(), 'reviewer')
    assert r.status_code == 302 and r.headers['Location'].endswith('/admin/')
    row = User.get(User.username == 'reviewer')
    assert row.failed_logins == 0 and row.locked_until is None


def test_attempts_during_the_delay_are_refused_and_not_counted(app, users, clock, roomy_login_limit):
    client = app.test_client()
    for _ in range(5):                                    # all at the same instant
        login(client, 'reviewer', 'guess-Wrong-1')
    row = User.get(User.username == 'reviewer')
    assert row.failed_logins == 3                         # the 4th and 5th came during the wait
    assert row.locked_until == T0 + datetime.timedelta(seconds=1)
    r = login(client, 'reviewer')                         # right password, too early
    assert r.status_code == 200 and auth.LOGIN_REFUSED in r.get_data(as_text=True)
    assert User.get(User.username == 'reviewer').failed_logins == 3
    clock.advance(seconds=2)
    assert login(client, 'reviewer').status_code == 302


def test_delay_grows_and_is_capped(app):
    with app.app_context():
        assert [auth.login_delay(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 16, 32]
        assert auth.login_delay(14) == 900 and auth.login_delay(10 ** 6) == 900


def test_admin_unlock_is_audited(app, users, clock, roomy_login_limit):
    User.update(failed_logins=14, locked_until=T0 + datetime.timedelta(seconds=900)).where(
        User.username == 'reviewer').execute()
    assert login(app.test_client(), 'reviewer').status_code == 200          # still waiting
    helper = logged_in(app, 'acceptor')
    r = post_form(helper, '/admin/user/action/', {'action': 'unlock', 'rowid': str(users['reviewer'].id)},
                  page='/admin/')
    assert r.status_code == 403                           # only administrators
    assert User.get(User.username == 'reviewer').failed_logins == 14
    admin = logged_in(app, 'admin')
    assert '解除登录限制' in admin.get('/admin/user/').get_data(as_text=True)
    r = admin.post('/admin/user/action/', data={'action': 'unlock', 'rowid': str(users['reviewer'].id)})
    assert r.status_code == 400                           # no CSRF token
    r = post_form(admin, '/admin/user/action/', {'action': 'unlock', 'rowid': str(users['reviewer'].id)},
                  page='/admin/user/')
    assert r.status_code == 302
    assert '已解除 1 个账号的登录限制' in admin.get('/admin/user/').get_data(as_text=True)
    row = User.get(User.username == 'reviewer')
    assert row.failed_logins == 0 and row.locked_until is None
    event = AuditEvent.get((AuditEvent.object_type == 'user') & (AuditEvent.action == 'unlock'))
    assert event.object_id == row.id and event.actor_id == users['admin'].id and event.actor_role == 'admin'
    assert 'reviewer' in event.comment
    assert login(app.test_client(), 'reviewer').status_code == 302


# --- unknown and known users get the same answer --------------------------------------------

def _answer(r, username):
    body = r.get_data(as_text=True)
    body = re.sub(r'name="csrf_token"[^>]*value="[^"]+"|value="[^"]+"[^>]*name="csrf_token"', 'CSRF', body)
    body = re.sub(r'<meta name="csrf-token" content="[^"]+">', 'CSRF', body)
    return body.replace(f'value="{username}"', 'value="USER"')


def test_unknown_and_known_user_answers_are_identical(app, users, clock, roomy_login_limit):
    unknown = login(app.test_client(), 'nobody', 'Wrong-guess-7')
    known = login(app.test_client(), 'acceptor', 'Wrong-guess-7')
    assert unknown.status_code == known.status_code == 200
    messages = [re.findall(r'<div class="invalid-feedback">(.*?)</div>', r.get_data(as_text=True))
                for r in (unknown, known)]
    assert messages[0] == messages[1] == [auth.LOGIN_REFUSED]
    assert _answer(unknown, 'nobody').encode() == _answer(known, 'acceptor').encode()
    for _ in range(4):                                    # an account in its delay answers the same
        login(app.test_client(), 'acceptor', 'Wrong-guess-7')
    assert User.get(User.username == 'acceptor').locked_until > clock.at
    waiting = login(app.test_client(), 'acceptor', 'Wrong-guess-7')
    assert _answer(waiting, 'acceptor').encode() == _answer(unknown, 'nobody').encode()


def test_unknown_user_still_verifies_a_password_hash(app, users, monkeypatch, clock):
    calls = []
    real = auth.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)
    monkeypatch.setattr(auth, 'check_password_hash', counting)
    with app.test_request_context('/'):
        assert auth.authenticate('nobody', 'Wrong-guess-7') == (None, auth.LOGIN_REFUSED)
        assert len(calls) == 1 and calls[0].startswith(('scrypt:', 'pbkdf2:'))
        assert auth.authenticate('acceptor', 'Wrong-guess-7') == (None, auth.LOGIN_REFUSED)
        assert len(calls) == 2
        User.update(locked_until=T0 + datetime.timedelta(minutes=5)).where(User.username == 'acceptor').execute()
        assert auth.authenticate('acceptor', PASSWORD) == (None, auth.LOGIN_REFUSED)
        assert len(calls) == 3                            # a waiting account costs the same
        assert auth.authenticate('x' * 500, 'y') == (None, auth.LOGIN_REFUSED)
        assert len(calls) == 4


def test_disabled_account_is_named_only_to_whoever_knows_the_password(app, users, roomy_login_limit):
    User.update(active=False).where(User.username == 'acceptor').execute()
    r = login(app.test_client(), 'acceptor', 'Wrong-guess-7')
    assert auth.LOGIN_REFUSED in r.get_data(as_text=True) and '停用' not in r.get_data(as_text=True)
    r = login(app.test_client(), 'acceptor')
    assert auth.ACCOUNT_DISABLED in r.get_data(as_text=True)


# --- one safe-redirect helper -----------------------------------------------------------------

HOSTILE = [
    '//evil.example/phish', '///evil.example', '////evil.example', '/\t/evil.example/phish', '/%09/evil.example/phish',
    '/\n/evil.example', '/%0a/evil.example', '/\r\nLocation: http://evil.example', '/%0d%0aSet-Cookie:%20x=1',
    '/\\evil.example', '\\\\evil.example', '/%5Cevil.example', '/%5c%5cevil.example', '%2F%2Fevil.example',
    '/%2F/evil.example', '/%2f%2fevil.example', '/%252F%252Fevil.example', '/%25252F/evil.example',
    'https://evil.example/', 'http:evil.example', 'http:/evil.example', 'HTTPS://evil.example', 'javascript:alert(1)',
    ' //evil.example', ' /admin/', 'evil.example', '../evil', '', None, 42, '/\x00admin', '/%00admin',
    '/\x7f/evil.example', '/\u3000/evil.example', '/\x85/evil.example', '/' + 'a' * 3000,
]
SAFE = ['/', '/admin/', '/admin/user/', '/portal/', '/admin/application/?flt0_0=reported&page=2',
        '/admin/application/details/?id=5&url=%2Fadmin%2Fapplication%2F', '/announcements/3']


@pytest.mark.parametrize('value', HOSTILE)
def test_redirect_helper_refuses_hostile_values(value):
    assert not is_safe_path(value)
    assert safe_next(value, '/home') == '/home'


@pytest.mark.parametrize('value', SAFE)
def test_redirect_helper_keeps_site_paths(value):
    assert is_safe_path(value) and safe_next(value, '/home') == value


@pytest.mark.parametrize('query', ['/%09/evil.example/phish', '//evil.example/', '/%5Cevil.example',
                                   'https://evil.example/', '/%0d%0a/evil.example'])
def test_login_next_is_same_origin_only(app, users, query, roomy_login_limit):
    client = app.test_client()
    token = csrf_from(client.get('/login').get_data(as_text=True))
    r = client.post('/login', query_string={'next': query},
                    data={'username': 'admin', 'password': PASSWORD, 'csrf_token': token})
    assert r.status_code == 302
    assert r.headers['Location'] == '/admin/'
    assert 'evil' not in r.headers['Location']


def test_login_next_to_a_site_page_is_followed(app, users):
    client = app.test_client()
    token = csrf_from(client.get('/login').get_data(as_text=True))
    r = client.post('/login?next=/admin/user/', data={'username': 'admin', 'password': PASSWORD,
                                                     'csrf_token': token})
    assert r.headers['Location'] == '/admin/user/'


@pytest.mark.parametrize('nxt', ['/\t/evil.example/phish', '//evil.example/', '/\\evil.example',
                                 'https://evil.example/', '/%2F%2Fevil.example'])
def test_transition_next_is_same_origin_only(app, users, nxt):
    row = build_application('initial', 'reported')
    client = logged_in(app, 'acceptor')
    url = f'/admin/application/details/?id={row.id}'
    r = post_form(client, '/admin/application/transition/', {'id': row.id, 'transition': 'accept', 'next': nxt},
                  page=url)
    assert r.status_code == 302
    assert r.headers['Location'] == url
    ok = post_form(client, '/admin/application/transition/',
                   {'id': row.id, 'transition': 'accept', 'next': '/admin/application/'}, page=url)
    assert ok.headers['Location'] == '/admin/application/'


# --- password policy --------------------------------------------------------------------------

@pytest.mark.parametrize('password, message', [
    ('password1', '密码至少10位'),
    ('Passw0rd!', '密码至少10位'),
    ('1234567890', '密码须同时包含字母和数字'),
    ('abcdefghijk', '密码须同时包含字母和数字'),
    ('password123', '该密码过于常见'),
    ('Password123', '该密码过于常见'),
    ('PASSWORD2026', '该密码过于常见'),
    ('P@ssw0rd2026', '该密码过于常见'),
    ('qwerty123456', '该密码过于常见'),
    ('1qaz2wsx3edc', '该密码过于常见'),
    ('abcd12345678', '该密码过于常见'),
    ('woaini1314', '该密码过于常见'),
    ('x' * 129 + '1', '密码不能超过128位'),
])
def test_password_policy_refuses(password, message):
    problem = auth.password_problem(password)
    assert problem is not None and message in problem


def test_password_policy_accepts_demo_and_reasonable_passwords():
    from seed.demo import DEMO_ACCOUNTS
    for _username, password, *_ in DEMO_ACCOUNTS:
        assert auth.password_problem(password) is None, password
    for password in ('Xinmima#2026tk', 'Lina2026pw', 'gaotie-7-hao-xian'):
        assert auth.password_problem(password) is None, password


def test_common_password_list_is_shipped_and_sizeable():
    words = auth.common_passwords()
    assert len(words) > 5000
    for word in ('password1', 'passw0rd!', '12345678', 'qwerty', 'abcd1234', '1234567890'):
        assert word in words


def test_admin_form_applies_the_policy(app, users):
    admin = logged_in(app, 'admin')
    data = {'username': 'newone', 'name': '新用户', 'role': 'acceptor', 'password': 'password1'}
    r = post_form(admin, '/admin/user/new/', data)
    assert '密码至少10位' in r.get_data(as_text=True)
    r = post_form(admin, '/admin/user/new/', dict(data, password='Password123'))
    assert '该密码过于常见' in r.get_data(as_text=True)
    assert not User.select().where(User.username == 'newone').exists()
    assert post_form(admin, '/admin/user/new/', dict(data, password='Xinmima#2026tk')).status_code == 302
    assert User.get(User.username == 'newone').password_hash.startswith(('scrypt:', 'pbkdf2:'))


def test_make_user_fixture_still_logs_in(app, password_hash):
    make_user('someone', password_hash, role='helpdesk')
    assert login(app.test_client(), 'someone').status_code == 302


def test_flask_admin_return_address_uses_the_same_helper(app, users):
    admin = logged_in(app, 'admin')
    user = users['helpdesk']
    # '/%5Cevil.example' (sent double-encoded) passes Flask-Admin's own check but not ours
    for hostile in ('/%5Cevil.example', '/%2F%2Fevil.example', '//evil.example/'):
        url = f'/admin/user/edit/?id={user.id}&url=' + hostile.replace('%', '%25').replace('/', '%2F')
        data = {'username': user.username, 'name': user.name, 'role': user.role, 'active': 'y', 'password': ''}
        r = post_form(admin, url, data)
        assert r.status_code == 302 and r.headers['Location'] == '/admin/user/', hostile


# --- a user changes their own password ---------------------------------------------------------

def _change(client, **data):
    return post_form(client, '/account/password', data)


def test_own_password_change_ends_other_sessions(app, users, roomy_login_limit):
    other = logged_in(app, 'reviewer')
    client = logged_in(app, 'reviewer')
    assert '修改密码' in client.get('/admin/').get_data(as_text=True)
    r = _change(client, current='wrong-one-1', new='Xinmima#2026tk', confirm='Xinmima#2026tk')
    assert '当前密码不正确' in r.get_data(as_text=True)
    r = _change(client, current=PASSWORD, new='password123', confirm='password123')
    assert '该密码过于常见' in r.get_data(as_text=True)
    r = _change(client, current=PASSWORD, new='Xinmima#2026tk', confirm='Xinmima#2026tX')
    assert '两次输入的新密码不一致' in r.get_data(as_text=True)
    assert other.get('/admin/').status_code == 200        # nothing changed yet
    r = _change(client, current=PASSWORD, new='Xinmima#2026tk', confirm='Xinmima#2026tk')
    assert r.status_code == 302
    assert client.get('/admin/').status_code == 200       # this session goes on
    assert is_login_redirect(other.get('/admin/'))        # the other one has ended
    assert login(app.test_client(), 'reviewer', 'Xinmima#2026tk').status_code == 302
    assert login(app.test_client(), 'reviewer').status_code == 200      # the old password no longer works


def test_password_page_needs_login(app):
    assert is_login_redirect(app.test_client().get('/account/password'))
