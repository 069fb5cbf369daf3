"""SMS verification codes through one gateway interface.

Gateways are registered by name in GATEWAYS and chosen by the SMS_GATEWAY setting (environment
variable of the same name); `init_app` checks the choice and its settings when the app starts, so a
wrong value stops the start with a clear message instead of failing a request later.
  - outbox: sends nothing; the message is only the SmsMessage row. The demo shows it to administrators
    at /portal/sms-outbox when SMS_DEMO_OUTBOX is on (never in ProductionConfig); the tests read it.
  - http:   POSTs JSON or a form to an operator's API (SMS_HTTP_URL, SMS_HTTP_ACCOUNT, SMS_HTTP_PASSWORD,
    SMS_HTTP_FORMAT, SMS_HTTP_TIMEOUT); a 2xx answer is success, anything else is recorded as the
    row's error. The row keeps the text with the code blanked.
Every message, whatever the gateway, is a SmsMessage row with the requesting client's address. Sends
are limited per mobile number (RATELIMIT_SMS_NUMBER, default 5 per hour) and per client
(RATELIMIT_SMS_CLIENT, default 20 per hour) by counting those rows: the database is shared by every
worker and node, so the count holds across processes even on the embedded default.
Codes: 6 digits, stored as an HMAC, valid 5 minutes, resent after 60 seconds at the earliest, dead
after 5 wrong tries.
"""
import datetime
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app
from limits import parse_many

from models import SmsCode, SmsMessage, database, now

from backoffice import metrics

CODE_MINUTES = 5
RESEND_SECONDS = 60
MAX_ATTEMPTS = 5
SEND_FAILED = '短信发送失败，请稍后重试'
log = logging.getLogger(__name__)


class SmsError(Exception):
    """A refusal for the user; `field` is the form field it belongs next to, `retry_after` in seconds."""

    def __init__(self, message, field='code', retry_after=None):
        super().__init__(message)
        self.message, self.field, self.retry_after = message, field, retry_after


class GatewayError(Exception):
    """A gateway could not deliver; str() is recorded on the outbox row."""


class ConfigError(RuntimeError):
    """SMS settings that cannot work: raised by init_app when the app starts."""


# --- gateways -------------------------------------------------------------------

GATEWAYS = {}


def register(cls):
    """Class decorator: make a gateway choosable by its `name` in SMS_GATEWAY."""
    GATEWAYS[cls.name] = cls
    return cls


class Gateway:
    name = ''
    keeps_text = False        # True: the outbox row keeps the whole text, code included (demo only)

    def __init__(self, config):
        self.config = config

    @classmethod
    def problems(cls, config):
        """Chinese messages for settings this gateway cannot work with (checked at start)."""
        return []

    def send(self, mobile, text):
        """Deliver or raise GatewayError."""
        raise NotImplementedError


@register
class OutboxGateway(Gateway):
    name = 'outbox'
    keeps_text = True

    def send(self, mobile, text):
        pass                  # the SmsMessage row is the message


@register
class HttpGateway(Gateway):
    """An operator's HTTP API: POST {account, password, mobile, content} as JSON or a form."""
    name = 'http'

    @classmethod
    def problems(cls, config):
        out = []
        url = config.get('SMS_HTTP_URL') or ''
        if urllib.parse.urlsplit(url).scheme not in ('http', 'https') or not urllib.parse.urlsplit(url).netloc:
            out.append('SMS_HTTP_URL 须为短信服务商接口的 http(s) 地址')
        if config.get('SMS_HTTP_FORMAT', 'json') not in ('json', 'form'):
            out.append('SMS_HTTP_FORMAT 须为 json 或 form')
        try:
            if float(config.get('SMS_HTTP_TIMEOUT', 5)) <= 0:
                raise ValueError
        except (TypeError, ValueError):
            out.append('SMS_HTTP_TIMEOUT 须为正数（秒）')
        return out

    def send(self, mobile, text):
        cfg = self.config
        fields = {'account': cfg.get('SMS_HTTP_ACCOUNT', ''), 'password': cfg.get('SMS_HTTP_PASSWORD', ''),
                  'mobile': mobile, 'content': text}
        if cfg.get('SMS_HTTP_FORMAT', 'json') == 'json':
            body, ctype = json.dumps(fields, ensure_ascii=False).encode(), 'application/json; charset=utf-8'
        else:
            body, ctype = urllib.parse.urlencode(fields).encode(), 'application/x-www-form-urlencoded; charset=utf-8'
        req = urllib.request.Request(cfg['SMS_HTTP_URL'], data=body, method='POST',
                                     headers={'Content-Type': ctype, 'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=float(cfg.get('SMS_HTTP_TIMEOUT', 5))) as resp:
                resp.read(4096)
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode('utf-8', 'replace')
            raise GatewayError(f'HTTP {exc.code} {detail}'.strip()) from None
        except (urllib.error.URLError, OSError) as exc:       # refused, DNS, timeout
            reason = getattr(exc, 'reason', exc)
            raise GatewayError(f'{type(reason).__name__}: {reason}') from None


def gateway_class(config):
    """The gateway class SMS_GATEWAY names, or ConfigError with the choices."""
    name = config.get('SMS_GATEWAY') or 'outbox'
    cls = GATEWAYS.get(name)
    if cls is None:
        raise ConfigError(f'SMS_GATEWAY 配置错误：未知的短信网关“{name}”，可选：{"、".join(sorted(GATEWAYS))}')
    problems = cls.problems(config)
    if problems:
        raise ConfigError(f'SMS_GATEWAY={name} 的配置不完整：' + '；'.join(problems))
    return cls


def init_app(app):
    """Check the gateway choice when the app starts (ConfigError stops the start)."""
    cls = gateway_class(app.config)
    if cls is OutboxGateway and not app.config.get('SMS_DEMO_OUTBOX') and not app.config.get('TESTING'):
        log.warning('SMS_GATEWAY=outbox 而演示发件箱已关闭：验证码不会发送给任何人，请配置真实短信网关')


def gateway():
    config = current_app.config
    return gateway_class(config)(config)


def demo_outbox_enabled():
    return bool(current_app.config.get('SMS_DEMO_OUTBOX'))


# --- limits ---------------------------------------------------------------------

def _wait_text(seconds):
    return f'{seconds} 秒' if seconds < 120 else f'{math.ceil(seconds / 60)} 分钟'


def _check_sends(setting, condition, clock, message, field):
    """Count the outbox rows matching `condition` in each window of `setting`; refuse when one is full."""
    if not current_app.config.get('RATELIMIT_ENABLED', True):
        return
    for item in parse_many(current_app.config[setting]):
        window = datetime.timedelta(seconds=item.get_expiry())
        # notifications (purpose 'notify', backoffice.notify) are the registry's own messages: not counted
        recent = SmsMessage.select().where(condition & (SmsMessage.created_at > clock - window)
                                           & (SmsMessage.purpose != 'notify'))
        count = recent.count()
        if count >= item.amount:
            # the window frees a place when the oldest row that keeps it full leaves it
            oldest = (recent.order_by(SmsMessage.created_at, SmsMessage.id).offset(count - item.amount)
                      .limit(1).get().created_at)
            wait = max(1, math.ceil((oldest + window - clock).total_seconds()))
            raise SmsError(message.format(wait=_wait_text(wait)), field, retry_after=wait)


def check_send_limits(mobile, client, clock):
    _check_sends('RATELIMIT_SMS_NUMBER', SmsMessage.mobile == mobile, clock,
                 '该手机号码获取验证码次数过多，请{wait}后再试', 'mobile')
    if client:
        _check_sends('RATELIMIT_SMS_CLIENT', SmsMessage.client == client, clock,
                     '获取验证码过于频繁，请{wait}后再试', 'code')


# --- codes ----------------------------------------------------------------------

def _digest(mobile, purpose, code):
    key = current_app.config['SECRET_KEY'].encode()
    return hmac.new(key, f'{mobile}:{purpose}:{code}'.encode(), hashlib.sha256).hexdigest()


def send_code(mobile, purpose, clock=None, client=None):
    """Send a new code; refuses within 60 seconds of the last one and beyond the per-number and
    per-client limits (SmsError with the field and retry_after). `client` is the requesting
    client's address (None: not counted per client). Returns seconds until a resend is allowed."""
    clock = clock or now()
    last = (SmsCode.select().where((SmsCode.mobile == mobile) & (SmsCode.purpose == purpose))
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).first())
    if last is not None:
        wait = RESEND_SECONDS - int((clock - last.created_at).total_seconds())
        if wait > 0:
            raise SmsError(f'验证码已发送，请{wait}秒后再获取', 'code', retry_after=wait)
    check_send_limits(mobile, client, clock)
    gw = gateway()
    code = f'{secrets.randbelow(1_000_000):06d}'
    text = f'【一级建造师注册】您的验证码为{code}，{CODE_MINUTES}分钟内有效。如非本人操作，请忽略。'
    with database.atomic():
        row = SmsCode.create(mobile=mobile, purpose=purpose, code_hash=_digest(mobile, purpose, code),
                             created_at=clock, expires_at=clock + datetime.timedelta(minutes=CODE_MINUTES))
        message = SmsMessage.create(mobile=mobile, text=text if gw.keeps_text else re.sub(r'\d{6}', '******', text),
                                    created_at=clock, client=(client or '')[:64], purpose=purpose,
                                    gateway=gw.name, status='sending')
    try:
        gw.send(mobile, text)                         # outside the transaction: no lock held on the network
    except GatewayError as exc:
        log.warning('SMS gateway %s failed for message %s: %s', gw.name, message.id, exc)
        SmsMessage.update(status='failed', error=str(exc)[:300]).where(SmsMessage.id == message.id).execute()
        SmsCode.delete().where(SmsCode.id == row.id).execute()       # never delivered: may be asked again
        metrics.sms(purpose, 'failed')
        raise SmsError(SEND_FAILED, 'code') from None
    SmsMessage.update(status='sent').where(SmsMessage.id == message.id).execute()
    metrics.sms(purpose, 'sent')
    return RESEND_SECONDS


def verify_code(mobile, purpose, code, clock=None):
    """Accept the latest unused code for (mobile, purpose) or raise SmsError with the reason."""
    clock = clock or now()
    code = (code or '').strip()
    if not code:
        raise SmsError('请输入短信验证码')
    last = (SmsCode.select().where((SmsCode.mobile == mobile) & (SmsCode.purpose == purpose)
                                   & (SmsCode.used == False))  # noqa: E712
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).first())
    if last is None:
        raise SmsError('请先点击“获取短信验证码”')
    if last.attempts >= MAX_ATTEMPTS:
        raise SmsError('验证码错误次数过多，已失效，请重新获取')
    if last.expires_at < clock:
        raise SmsError('验证码已过期，请重新获取')
    if not hmac.compare_digest(last.code_hash, _digest(mobile, purpose, code)):
        attempts = last.attempts + 1
        SmsCode.update(attempts=attempts).where(SmsCode.id == last.id).execute()
        if attempts >= MAX_ATTEMPTS:
            raise SmsError('验证码错误次数过多，已失效，请重新获取')
        raise SmsError(f'验证码错误，还可尝试{MAX_ATTEMPTS - attempts}次')
    SmsCode.update(used=True).where(SmsCode.id == last.id).execute()
    return True
