"""Authentication: Flask-Login wiring, hashed passwords and their policy, sessions that end on the
server side, the progressive login delay, the administrator's unlock, and role checks.

A session stores the user's `session_version` from login time, the login time and the last-seen
time. Every request compares them (`load_user`): a different version (after `end_sessions`: logout,
password, role, scope or active-flag change), more than SESSION_IDLE_MINUTES without a request or
more than SESSION_MAX_HOURS since login makes the visitor anonymous again.
"""
import datetime
import functools
import os

from flask import abort, current_app, session
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from models import User, database

from backoffice.db import Prepared

login_manager = LoginManager()
login_manager.login_view = 'auth.login'
login_manager.login_message = '请先登录'
login_manager.login_message_category = 'warning'

# Session keys (Flask-Login keeps its own `_user_id`).
SESSION_VERSION = '_sv'
SESSION_LOGIN_AT = '_login_at'
SESSION_SEEN_AT = '_seen_at'
_SEEN_RESOLUTION = 60          # seconds: last-seen is rewritten at most once a minute

# One message for every refused login: unknown user, wrong password, attempt during the delay.
LOGIN_REFUSED = '用户名或密码错误。连续输错后须稍候片刻再试。'
ACCOUNT_DISABLED = '该账号已停用，请联系系统管理员'


def now():
    """The current time. Tests monkeypatch this function instead of sleeping."""
    return datetime.datetime.now()


def _stamp(moment):
    return int(moment.timestamp())


# --- sessions ----------------------------------------------------------------

# every signed-in request reads its user: the query is composed once (composing it cost ~0.4 ms)
_USER = Prepared(lambda user_id: User.select().where(User.id == user_id))


@login_manager.user_loader
def load_user(user_id):
    try:
        user_id = int(user_id)
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < user_id < 2 ** 63:
        return None
    found = _USER.instances(User, user_id)
    user = found[0] if found else None
    if user is None or not user.active:
        return None
    if session.get(SESSION_VERSION) != user.session_version or not _session_alive():
        _forget_session()
        return None
    return user


def _session_alive():
    """False once the session has been idle or open too long; refreshes last-seen otherwise."""
    login_at, seen_at = session.get(SESSION_LOGIN_AT), session.get(SESSION_SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False
    t = _stamp(now())
    idle = current_app.config['SESSION_IDLE_MINUTES'] * 60
    lifetime = current_app.config['SESSION_MAX_HOURS'] * 3600
    if t - seen_at > idle or t - login_at > lifetime:
        return False
    if t - seen_at >= _SEEN_RESOLUTION or t < seen_at:
        session[SESSION_SEEN_AT] = t
    return True


def _forget_session():
    for key in ('_user_id', '_fresh', '_id', SESSION_VERSION, SESSION_LOGIN_AT, SESSION_SEEN_AT):
        session.pop(key, None)


def start_session(user):
    """Log user in with a fresh session bound to the user's current session version."""
    session.clear()
    login_user(user)
    t = _stamp(now())
    session[SESSION_VERSION] = user.session_version
    session[SESSION_LOGIN_AT] = t
    session[SESSION_SEEN_AT] = t


def end_sessions(user):
    """End every session of user, on every device (the one place that bumps session_version).

    Sets the new version on `user` too, so a caller that saves the object afterwards keeps it."""
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()
    user.session_version = User.select(User.session_version).where(User.id == user.id).scalar()
    return user.session_version


def keep_current_session(user):
    """After end_sessions(user) for the user of this very request: keep this session open."""
    if current_user.is_authenticated and current_user.id == user.id:
        session[SESSION_VERSION] = user.session_version


def logout():
    """Log the current user out here and everywhere else."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()


# --- passwords -----------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'common-passwords.txt')
_LEET = str.maketrans({'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i'})


def hash_password(password):
    return generate_password_hash(password)


@functools.lru_cache(maxsize=1)
def common_passwords():
    """The shipped list, lower case, plus each entry with digits and symbols read as letters."""
    words = set()
    with open(COMMON_PASSWORDS_FILE, encoding='utf-8') as fh:
        for line in fh:
            word = line.strip().lower()
            if word and not word.startswith('#'):
                words.add(word)
    return frozenset(words | {w.translate(_LEET) for w in words})


def is_common_password(password):
    word = (password or '').lower()
    common = common_passwords()
    return word in common or word.translate(_LEET) in common


def password_problem(password):
    """None when acceptable, else a Chinese message."""
    password = password or ''
    if len(password) < MIN_PASSWORD_LENGTH:
        return f'密码至少{MIN_PASSWORD_LENGTH}位'
    if len(password) > MAX_PASSWORD_LENGTH:
        return f'密码不能超过{MAX_PASSWORD_LENGTH}位'
    if password.isdigit() or password.isalpha():
        return '密码须同时包含字母和数字'
    if is_common_password(password):
        return '该密码过于常见，容易被猜中，请换一个'
    return None


@functools.lru_cache(maxsize=1)
def _dummy_hash():
    return generate_password_hash('not-a-real-password-' + os.urandom(8).hex())


def _verify_dummy(password):
    """Spend the same work as a real check, so an unknown or waiting account answers as slowly."""
    check_password_hash(_dummy_hash(), password or '')


# --- login ---------------------------------------------------------------------

def login_delay(failures):
    """Seconds an account waits after `failures` wrong passwords in a row (0: no wait)."""
    free = current_app.config['LOGIN_FREE_FAILURES']
    if failures < max(free, 1):
        return 0
    return min(current_app.config['LOGIN_DELAY_MAX_SECONDS'], 2 ** min(failures - free, 30))


def authenticate(username, password, at=None):
    """Return (user, None) on success or (None, Chinese message).

    Unknown user, wrong password and an attempt before the account's delay has run out all get
    LOGIN_REFUSED after one password-hash verification. An attempt during the delay is refused
    without checking the password and without counting as a failure, so nobody can lock an
    account for long: the wait grows as 2^k seconds after LOGIN_FREE_FAILURES wrong passwords.
    """
    t = at or now()
    name = (username or '').strip()
    user = User.get_or_none(User.username == name) if 0 < len(name) <= 50 else None
    if user is None:
        _verify_dummy(password)
        return None, LOGIN_REFUSED
    if user.locked_until is not None and user.locked_until > t:
        _verify_dummy(password)
        return None, LOGIN_REFUSED
    if not check_password_hash(user.password_hash, password or ''):
        failures = (user.failed_logins or 0) + 1
        wait = login_delay(failures)
        User.update(failed_logins=User.failed_logins + 1,
                    locked_until=t + datetime.timedelta(seconds=wait) if wait else None).where(
            User.id == user.id).execute()
        return None, LOGIN_REFUSED
    if not user.active:
        return None, ACCOUNT_DISABLED
    User.update(failed_logins=0, locked_until=None, last_login_at=t.replace(microsecond=0)).where(
        User.id == user.id).execute()
    return User.get_by_id(user.id), None


def change_password(user, current, new, confirm):
    """A signed-in user changes their own password. Returns {field: Chinese message}, empty on success.

    Every other session of the user ends; the caller's own session is kept."""
    if not check_password_hash(user.password_hash, current or ''):
        return {'current': '当前密码不正确'}
    problem = password_problem(new)
    if problem:
        return {'new': problem}
    if new != confirm:
        return {'confirm': '两次输入的新密码不一致'}
    if new == current:
        return {'new': '新密码不能与当前密码相同'}
    with database.atomic():
        User.update(password_hash=hash_password(new)).where(User.id == user.id).execute()
        user.password_hash = User.get_by_id(user.id).password_hash
        end_sessions(user)
    keep_current_session(user)
    return {}


def unlock(user, actor):
    """An administrator lifts the login delay of user; recorded in the audit log."""
    with database.atomic():
        User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        from backoffice import audit          # the one writer of the (hash-chained) audit log
        audit.record('unlock', object_type='user', object_id=user.id, actor=actor.id, actor_role=actor.role,
                     comment=f'解除登录限制：{user.username}（此前连续失败{user.failed_logins or 0}次）')


# --- roles ---------------------------------------------------------------------

def has_role(*roles):
    return current_user.is_authenticated and current_user.role in roles


def roles_required(*roles):
    """View decorator: login required, then 403 unless the user has one of roles."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return fn(*args, **kwargs)
        return inner
    return wrap
