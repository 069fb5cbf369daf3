"""Configuration. Everything can be overridden by environment variables of the same name."""
import os
import secrets

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTANCE_DIR = os.environ.get('INSTANCE_DIR', os.path.join(BASE_DIR, 'instance'))


def _secret_key():
    """A persistent random key for the embedded default; production sets SECRET_KEY."""
    path = os.path.join(INSTANCE_DIR, 'secret_key')
    if os.path.exists(path):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)       # a key file from an older version: make it owner-only
        with open(path) as fh:
            return fh.read().strip()
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    key = secrets.token_hex(32)
    # created owner-only (0600) from the start: never a moment where others may read it
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:             # another process wrote it first: use theirs
        with open(path) as fh:
            return fh.read().strip()
    with os.fdopen(fd, 'w') as fh:
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
    SESSION_COOKIE_SECURE = os.environ.get('SESSION_COOKIE_SECURE', '0') == '1'   # on in ProductionConfig
    # A session ends after this long without a request, and this long after login in any case.
    SESSION_IDLE_MINUTES = int(os.environ.get('SESSION_IDLE_MINUTES', '30'))
    SESSION_MAX_HOURS = int(os.environ.get('SESSION_MAX_HOURS', '12'))
    # Progressive login delay per account: after LOGIN_FREE_FAILURES wrong passwords in a row the
    # next attempt must wait 2^(failures - LOGIN_FREE_FAILURES) seconds, at most LOGIN_DELAY_MAX_SECONDS.
    LOGIN_FREE_FAILURES = int(os.environ.get('LOGIN_FREE_FAILURES', '3'))
    LOGIN_DELAY_MAX_SECONDS = int(os.environ.get('LOGIN_DELAY_MAX_SECONDS', '900'))
    # Working-day deadlines (domain §1, §3)
    ACCEPTANCE_WORKING_DAYS = int(os.environ.get('ACCEPTANCE_WORKING_DAYS', '5'))   # 受理 or 补正 after 上报
    DECISION_WORKING_DAYS = 20
    # 延续注册: configurable (the 2007 rules gave 10 + 5 working days)
    RENEWAL_DECISION_WORKING_DAYS = int(os.environ.get('RENEWAL_DECISION_WORKING_DAYS', '20'))
    RENEWAL_JOINT_REVIEW_WORKING_DAYS = int(os.environ.get('RENEWAL_JOINT_REVIEW_WORKING_DAYS', '10'))
    # 强制注销: the holder may ask the registry once the enterprise has not confirmed a 注销 for this long
    # 延续注册 opens this many days before expiry (an assumption: domain §12)
    RENEWAL_EARLIEST_DAYS = int(os.environ.get('RENEWAL_EARLIEST_DAYS', '90'))
    CANCEL_CONFIRM_WORKING_DAYS = int(os.environ.get('CANCEL_CONFIRM_WORKING_DAYS', '10'))
    JOINT_REVIEW_WORKING_DAYS = 10
    # Extra non-working days (public holidays), ISO dates, comma separated.
    HOLIDAYS = [d for d in os.environ.get('HOLIDAYS', '').split(',') if d]
    SEED_DEMO = os.environ.get('SEED_DEMO', '1') == '1'
    PUBLIC_BASE_URL = os.environ.get('PUBLIC_BASE_URL', 'http://127.0.0.1:5000')
    # Shared state for every worker and node: job queue, rate limits, caches (unset: embedded default).
    REDIS_URL = os.environ.get('REDIS_URL') or None
    # S3-compatible object storage for uploads and generated files (unset: local disk, UPLOAD_DIR and
    # OUTPUT_DIR). See backoffice.storage.
    S3_BUCKET = os.environ.get('S3_BUCKET') or None
    S3_ENDPOINT_URL = os.environ.get('S3_ENDPOINT_URL') or None
    S3_REGION = os.environ.get('S3_REGION') or None
    S3_ACCESS_KEY_ID = os.environ.get('S3_ACCESS_KEY_ID') or None
    S3_SECRET_ACCESS_KEY = os.environ.get('S3_SECRET_ACCESS_KEY') or None
    S3_PREFIX = os.environ.get('S3_PREFIX', '')
    # Reverse proxies in front of gunicorn whose X-Forwarded-For/-Proto/-Host are trusted (ProxyFix); 0: none.
    PROXY_COUNT = int(os.environ.get('PROXY_COUNT', '0'))
    # Clients that may read /metrics (addresses or networks, comma-separated); any other gets 404.
    METRICS_ALLOWED_IPS = os.environ.get('METRICS_ALLOWED_IPS', '127.0.0.1,::1')
    # Ed25519 keys of the certificates' offline-verifiable QR payload (backoffice.issuing.signing):
    # by default in the shared database (encrypted with SIGNING_KEY_SECRET, default SECRET_KEY);
    # with SIGNING_KEY_DIR set, <dir>/<kid>.pem files instead. SIGNING_KEY_ID signs, every kid is published.
    SIGNING_KEY_DIR = os.environ.get('SIGNING_KEY_DIR') or None
    SIGNING_KEY_SECRET = os.environ.get('SIGNING_KEY_SECRET') or None
    SIGNING_KEY_ID = os.environ.get('SIGNING_KEY_ID', 'k1')
    # Migrations at app start (run.py applies them once before the workers start; workers get 0).
    AUTO_MIGRATE = os.environ.get('AUTO_MIGRATE', '1') == '1'
    # Background job liveness (backoffice.background.jobs.reap).
    JOB_HEARTBEAT_SECONDS = int(os.environ.get('JOB_HEARTBEAT_SECONDS', '15'))
    JOB_STALE_SECONDS = int(os.environ.get('JOB_STALE_SECONDS', '120'))
    JOB_QUEUE_TIMEOUT_MINUTES = int(os.environ.get('JOB_QUEUE_TIMEOUT_MINUTES', '10'))
    JOB_CONSUMER_ALIVE_SECONDS = int(os.environ.get('JOB_CONSUMER_ALIVE_SECONDS', '180'))
    # Rate limits (Flask-Limiter notation, ';' between several): see backoffice.limits.
    RATELIMIT_ENABLED = os.environ.get('RATELIMIT_ENABLED', '1') == '1'
    RATELIMIT_STORAGE_URI = os.environ.get('RATELIMIT_STORAGE_URI') or None   # default: REDIS_URL or memory
    RATELIMIT_LOGIN = os.environ.get('RATELIMIT_LOGIN', '10 per minute;50 per hour')
    RATELIMIT_PUBLIC_SEARCH = os.environ.get('RATELIMIT_PUBLIC_SEARCH', '10 per minute;60 per hour')
    # name + ID searches for one person (name + masked ID), whatever client sends them
    RATELIMIT_PUBLIC_SEARCH_TARGET = os.environ.get('RATELIMIT_PUBLIC_SEARCH_TARGET', '20 per hour;50 per day')
    RATELIMIT_SIGNUP = os.environ.get('RATELIMIT_SIGNUP', '5 per minute;20 per hour')
    RATELIMIT_SIGNUP_ID = os.environ.get('RATELIMIT_SIGNUP_ID', '5 per hour;10 per day')
    # enterprise self-service sign-up (views/enterprise_account.py), per client, every POST
    RATELIMIT_ENTERPRISE_SIGNUP = os.environ.get('RATELIMIT_ENTERPRISE_SIGNUP', '5 per minute;20 per hour')
    RATELIMIT_SMS_NUMBER = os.environ.get('RATELIMIT_SMS_NUMBER', '5 per hour')
    RATELIMIT_SMS_CLIENT = os.environ.get('RATELIMIT_SMS_CLIENT', '20 per hour')
    # SMS (backoffice.intake.sms): the gateway by name ('outbox' writes to the database only; 'http' posts
    # to an operator's API). RATELIMIT_SMS_* are counted on the sms_message table: shared by all workers.
    SMS_GATEWAY = os.environ.get('SMS_GATEWAY', 'outbox')
    # notification SMS (backoffice.notify.outbox): retries with backoff base × 2^(attempt-1), then 'failed';
    # a row claimed longer ago than NOTIFY_CLAIM_STALE_SECONDS belongs to a dead worker and is claimed again
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get('NOTIFY_MAX_ATTEMPTS', '6'))
    NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get('NOTIFY_RETRY_BASE_SECONDS', '60'))
    NOTIFY_CLAIM_STALE_SECONDS = int(os.environ.get('NOTIFY_CLAIM_STALE_SECONDS', '300'))
    # /portal/sms-outbox (administrators only) shows the outbox: demo only, off in ProductionConfig.
    SMS_DEMO_OUTBOX = os.environ.get('SMS_DEMO_OUTBOX', '1') == '1'
    SMS_HTTP_URL = os.environ.get('SMS_HTTP_URL', '')
    SMS_HTTP_ACCOUNT = os.environ.get('SMS_HTTP_ACCOUNT', '')
    SMS_HTTP_PASSWORD = os.environ.get('SMS_HTTP_PASSWORD', '')
    SMS_HTTP_FORMAT = os.environ.get('SMS_HTTP_FORMAT', 'json')          # json or form
    SMS_HTTP_TIMEOUT = float(os.environ.get('SMS_HTTP_TIMEOUT', '5'))
    RATELIMIT_PHOTO = os.environ.get('RATELIMIT_PHOTO', '10 per minute;100 per hour')
    # Photo tool (backoffice.intake.photo): photos processed at once per process, and how long a request
    # waits for a free slot before it is answered "系统繁忙".
    PHOTO_MAX_CONCURRENT = int(os.environ.get('PHOTO_MAX_CONCURRENT', '2'))
    PHOTO_BUSY_WAIT = float(os.environ.get('PHOTO_BUSY_WAIT', '5'))
    # Security headers (backoffice.headers): HSTS only when the site is served over TLS.
    HSTS_ENABLED = os.environ.get('HSTS_ENABLED', '0') == '1'
    HSTS_MAX_AGE = int(os.environ.get('HSTS_MAX_AGE', '31536000'))
    # Uploaded import files and job outputs are deleted after this many days (backoffice.background.retention).
    RETENTION_DAYS = int(os.environ.get('RETENTION_DAYS', '7'))
    RATELIMIT_VERIFY = os.environ.get('RATELIMIT_VERIFY', '120 per minute')
    # the other anonymous pages (home, announcements, the API's documentation) and announcement PDFs
    RATELIMIT_PUBLIC_PAGES = os.environ.get('RATELIMIT_PUBLIC_PAGES', '300 per minute')
    RATELIMIT_PUBLIC_PDF = os.environ.get('RATELIMIT_PUBLIC_PDF', '30 per minute;300 per hour')
    # open API (issue 14): calls per client, token requests per address, bearer token lifetime
    RATELIMIT_API = os.environ.get('RATELIMIT_API', '600 per minute;20000 per hour')
    RATELIMIT_API_TOKEN = os.environ.get('RATELIMIT_API_TOKEN', '30 per minute')
    API_TOKEN_SECONDS = int(os.environ.get('API_TOKEN_SECONDS', '900'))


class ProductionConfig(Config):
    """APP_ENV=production: what a deployment behind TLS must have (other settings from the environment)."""
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SMS_DEMO_OUTBOX = False             # never in production, whatever the environment says
    HSTS_ENABLED = os.environ.get('HSTS_ENABLED', '1') == '1'      # behind TLS (HSTS_ENABLED=0 to turn off)


def config_from_env():
    """The configuration class named by APP_ENV ('production' or anything else for Config)."""
    return ProductionConfig if os.environ.get('APP_ENV', '').lower() == 'production' else Config


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True
    SEED_DEMO = False
