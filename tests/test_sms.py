"""SMS codes: 6 digits, stored hashed, 5-minute expiry, 60-second resend, locked after 5 wrong tries."""
import datetime
import re

import pytest

from backoffice.intake import sms
from models import SmsCode, SmsMessage

T0 = datetime.datetime(2026, 11, 24, 10, 0, 0)


def _last_code(mobile):
    text = SmsMessage.select().where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).get().text
    return re.search(r'验证码为(\d{6})', text).group(1)


def test_code_is_six_digits_and_stored_hashed(app):
    sms.send_code('13800138000', 'submit', clock=T0)
    code = _last_code('13800138000')
    row = SmsCode.get()
    assert len(code) == 6 and code not in row.code_hash and len(row.code_hash) == 64
    assert sms.verify_code('13800138000', 'submit', code, clock=T0 + datetime.timedelta(minutes=4))
    with pytest.raises(sms.SmsError) as err:                      # used once only
        sms.verify_code('13800138000', 'submit', code, clock=T0 + datetime.timedelta(minutes=4))
    assert err.value.message == '请先点击“获取短信验证码”'


def test_expiry_and_resend_interval(app):
    sms.send_code('13900139000', 'submit', clock=T0)
    with pytest.raises(sms.SmsError) as err:
        sms.send_code('13900139000', 'submit', clock=T0 + datetime.timedelta(seconds=30))
    assert err.value.message == '验证码已发送，请30秒后再获取'
    code = _last_code('13900139000')
    with pytest.raises(sms.SmsError) as err:
        sms.verify_code('13900139000', 'submit', code, clock=T0 + datetime.timedelta(minutes=5, seconds=1))
    assert err.value.message == '验证码已过期，请重新获取'
    sms.send_code('13900139000', 'submit', clock=T0 + datetime.timedelta(seconds=61))
    assert sms.verify_code('13900139000', 'submit', _last_code('13900139000'),
                           clock=T0 + datetime.timedelta(seconds=70))


def test_locked_after_five_wrong_tries(app):
    sms.send_code('13700137000', 'submit', clock=T0)
    code = _last_code('13700137000')
    wrong = '000000' if code != '000000' else '111111'
    for left in (4, 3, 2, 1):
        with pytest.raises(sms.SmsError) as err:
            sms.verify_code('13700137000', 'submit', wrong, clock=T0)
        assert err.value.message == f'验证码错误，还可尝试{left}次'
    with pytest.raises(sms.SmsError) as err:
        sms.verify_code('13700137000', 'submit', wrong, clock=T0)
    assert err.value.message == '验证码错误次数过多，已失效，请重新获取'
    with pytest.raises(sms.SmsError):                               # even the right code is dead now
        sms.verify_code('13700137000', 'submit', code, clock=T0)
