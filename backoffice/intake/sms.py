"""SMS verification codes through one gateway interface.

The built-in OutboxGateway writes each message to the SmsMessage table (the demo shows it
at /portal/sms-outbox, the tests read it). A production gateway implements send() against
an operator's API and is chosen by the SMS_GATEWAY setting.
Codes: 6 digits, stored as an HMAC, valid 5 minutes, resent after 60 seconds at the
earliest, dead after 5 wrong tries.
"""
import datetime
import hashlib
import hmac
import secrets

from flask import current_app

from models import SmsCode, SmsMessage, now

CODE_MINUTES = 5
RESEND_SECONDS = 60
MAX_ATTEMPTS = 5


class SmsError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Gateway:
    def send(self, mobile, text):
        raise NotImplementedError


class OutboxGateway(Gateway):
    def send(self, mobile, text):
        SmsMessage.create(mobile=mobile, text=text)


GATEWAYS = {'outbox': OutboxGateway}


def gateway():
    return GATEWAYS[current_app.config.get('SMS_GATEWAY', 'outbox')]()


def _digest(mobile, purpose, code):
    key = current_app.config['SECRET_KEY'].encode()
    return hmac.new(key, f'{mobile}:{purpose}:{code}'.encode(), hashlib.sha256).hexdigest()


def send_code(mobile, purpose, clock=None):
    """Send a new code; refuses within 60 seconds of the last one. Returns seconds until resend."""
    clock = clock or now()
    last = (SmsCode.select().where((SmsCode.mobile == mobile) & (SmsCode.purpose == purpose))
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).first())
    if last is not None:
        wait = RESEND_SECONDS - int((clock - last.created_at).total_seconds())
        if wait > 0:
            raise SmsError(f'验证码已发送，请{wait}秒后再获取')
    code = f'{secrets.randbelow(1_000_000):06d}'
    SmsCode.create(mobile=mobile, purpose=purpose, code_hash=_digest(mobile, purpose, code), created_at=clock,
                   expires_at=clock + datetime.timedelta(minutes=CODE_MINUTES))
    gateway().send(mobile, f'【一级建造师注册】您的验证码为{code}，{CODE_MINUTES}分钟内有效。如非本人操作，请忽略。')
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
