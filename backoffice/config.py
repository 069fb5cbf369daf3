"""Configuration. Everything can be overridden by environment variables of the same name."""
import os
import secrets

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTANCE_DIR = os.environ.get('INSTANCE_DIR', os.path.join(BASE_DIR, 'instance'))


def _secret_key():
    """A persistent random key for the embedded default; production sets SECRET_KEY."""
    path = os.path.join(INSTANCE_DIR, 'secret_key')
    if os.path.exists(path):
        with open(path) as fh:
            return fh.read().strip()
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    key = secrets.token_hex(32)
    with open(path, 'w') as fh:
        fh.write(key)
    return key


class Config:
    DATABASE_URL = os.environ.get(
        'DATABASE_URL', 'sqlite:///' + os.path.join(INSTANCE_DIR, 'registry.db'))
    SECRET_KEY = os.environ.get('SECRET_KEY') or None      # filled in by create_app
    UPLOAD_DIR = os.environ.get('UPLOAD_DIR', os.path.join(INSTANCE_DIR, 'uploads'))
    OUTPUT_DIR = os.environ.get('OUTPUT_DIR', os.path.join(INSTANCE_DIR, 'output'))
    # CJK TrueType font for PDFs (Debian package fonts-wqy-zenhei); STSong-Light when missing.
    CJK_FONT_PATH = os.environ.get('CJK_FONT_PATH', '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc')
    BABEL_DEFAULT_LOCALE = 'zh_Hans_CN'
    BABEL_DEFAULT_TIMEZONE = 'Asia/Shanghai'
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None          # tokens live as long as the session
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = 'Lax'
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    # Working-day deadlines (domain §1, §3)
    DECISION_WORKING_DAYS = 20
    JOINT_REVIEW_WORKING_DAYS = 10
    # Extra non-working days (public holidays), ISO dates, comma separated.
    HOLIDAYS = [d for d in os.environ.get('HOLIDAYS', '').split(',') if d]
    SEED_DEMO = os.environ.get('SEED_DEMO', '1') == '1'
    PUBLIC_BASE_URL = os.environ.get('PUBLIC_BASE_URL', 'http://127.0.0.1:5000')
    # Shared state for every worker and node: job queue, rate limits, caches (unset: embedded default).
    REDIS_URL = os.environ.get('REDIS_URL') or None
    # Rate limits (Flask-Limiter notation, ';' between several): see backoffice.limits.
    RATELIMIT_ENABLED = os.environ.get('RATELIMIT_ENABLED', '1') == '1'
    RATELIMIT_STORAGE_URI = os.environ.get('RATELIMIT_STORAGE_URI') or None   # default: REDIS_URL or memory
    RATELIMIT_LOGIN = os.environ.get('RATELIMIT_LOGIN', '10 per minute;50 per hour')
    RATELIMIT_PUBLIC_SEARCH = os.environ.get('RATELIMIT_PUBLIC_SEARCH', '10 per minute;60 per hour')
    RATELIMIT_SIGNUP = os.environ.get('RATELIMIT_SIGNUP', '5 per minute;20 per hour')
    RATELIMIT_SIGNUP_ID = os.environ.get('RATELIMIT_SIGNUP_ID', '5 per hour;10 per day')
    RATELIMIT_SMS_NUMBER = os.environ.get('RATELIMIT_SMS_NUMBER', '5 per hour')
    RATELIMIT_SMS_CLIENT = os.environ.get('RATELIMIT_SMS_CLIENT', '20 per hour')
    RATELIMIT_PHOTO = os.environ.get('RATELIMIT_PHOTO', '10 per minute;100 per hour')
    RATELIMIT_VERIFY = os.environ.get('RATELIMIT_VERIFY', '120 per minute')


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True
    SEED_DEMO = False
