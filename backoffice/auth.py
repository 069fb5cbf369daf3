"""Authentication: Flask-Login wiring, hashed passwords, lockout, and role checks."""
import datetime
import functools

from flask import abort, current_app
from flask_login import LoginManager, current_user
from werkzeug.security import check_password_hash, generate_password_hash

from models import User

login_manager = LoginManager()
login_manager.login_view = 'auth.login'
login_manager.login_message = '请先登录'
login_manager.login_message_category = 'warning'


@login_manager.user_loader
def load_user(user_id):
    try:
        user = User.get_or_none(User.id == int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def hash_password(password):
    return generate_password_hash(password)


MIN_PASSWORD_LENGTH = 8


def password_problem(password):
    """None when acceptable, else a Chinese message."""
    if len(password or '') < MIN_PASSWORD_LENGTH:
        return f'密码至少{MIN_PASSWORD_LENGTH}位'
    if password.isdigit() or password.isalpha():
        return '密码须同时包含字母和数字'
    return None


def authenticate(username, password, now=None):
    """Return (user, None) on success or (None, Chinese message). Counts failures and locks."""
    now = now or datetime.datetime.now()
    max_failures = current_app.config['LOGIN_MAX_FAILURES']
    lock_minutes = current_app.config['LOGIN_LOCK_MINUTES']
    user = User.get_or_none(User.username == (username or '').strip())
    if user is None:
        # Same message as a wrong password: do not reveal which accounts exist.
        return None, '用户名或密码错误'
    if not user.active:
        return None, '该账号已停用，请联系系统管理员'
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return None, f'连续登录失败次数过多，账号已锁定，请{minutes}分钟后再试'
    if not check_password_hash(user.password_hash, password or ''):
        failures = user.failed_logins + 1
        values = {User.failed_logins: failures}
        if failures >= max_failures:
            values = {User.failed_logins: 0,
                      User.locked_until: now + datetime.timedelta(minutes=lock_minutes)}
        User.update(values).where(User.id == user.id).execute()
        if failures >= max_failures:
            return None, f'连续{max_failures}次登录失败，账号已锁定{lock_minutes}分钟'
        return None, f'用户名或密码错误（还可尝试{max_failures - failures}次）'
    User.update(failed_logins=0, locked_until=None, last_login_at=now.replace(microsecond=0)).where(
        User.id == user.id).execute()
    return User.get_by_id(user.id), None


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
