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


# --- limits per number and per client, counted on the outbox rows ---------------------------

def test_five_codes_per_number_per_hour(app):
    mobile = '13600136000'
    for k in range(5):
        sms.send_code(mobile, 'signup', clock=T0 + datetime.timedelta(minutes=2 * k), client=f'10.0.0.{k}')
    with pytest.raises(sms.SmsError) as err:
        sms.send_code(mobile, 'signup', clock=T0 + datetime.timedelta(minutes=10), client='10.0.0.9')
    # the oldest of the five leaves the hour at T0 + 60 min: 50 minutes from now
    assert err.value.field == 'mobile' and err.value.retry_after == 50 * 60
    assert err.value.message == '该手机号码获取验证码次数过多，请50 分钟后再试'
    assert SmsMessage.select().where(SmsMessage.mobile == mobile).count() == 5
    sms.send_code(mobile, 'signup', clock=T0 + datetime.timedelta(minutes=60, seconds=1), client='10.0.0.9')
    assert SmsMessage.select().where(SmsMessage.mobile == mobile).count() == 6


def test_twenty_codes_per_client_per_hour_counted_across_workers(app):
    for k in range(19):
        sms.send_code(f'1350000{k:04d}', 'signup', clock=T0, client='10.1.1.1')
    # a message another worker sent for this client is a row like any other: it counts
    SmsMessage.create(mobile='13511112222', text='x', client='10.1.1.1', purpose='signup', created_at=T0)
    with pytest.raises(sms.SmsError) as err:
        sms.send_code('13599998888', 'signup', clock=T0 + datetime.timedelta(seconds=5), client='10.1.1.1')
    assert err.value.field == 'code' and err.value.message.startswith('获取验证码过于频繁，请')
    assert 0 < err.value.retry_after <= 3600
    sms.send_code('13599998888', 'signup', clock=T0 + datetime.timedelta(seconds=5), client='10.1.1.2')


def test_outbox_rows_record_client_purpose_and_status(app):
    sms.send_code('13400134000', 'submit', clock=T0, client='10.2.2.2')
    row = SmsMessage.get()
    assert (row.client, row.purpose, row.gateway, row.status, row.error) == ('10.2.2.2', 'submit', 'outbox', 'sent', '')


# --- the gateway is chosen by configuration ------------------------------------------------

def test_gateway_is_chosen_by_configuration(app, monkeypatch):
    assert set(sms.GATEWAYS) >= {'outbox', 'http'}
    with app.app_context():
        assert isinstance(sms.gateway(), sms.OutboxGateway)
        monkeypatch.setitem(app.config, 'SMS_GATEWAY', 'http')
        monkeypatch.setitem(app.config, 'SMS_HTTP_URL', 'https://sms.example.test/send')
        assert isinstance(sms.gateway(), sms.HttpGateway)


def test_unknown_or_incomplete_gateway_stops_the_start(app):
    from backoffice import create_app
    from backoffice.config import TestConfig
    with pytest.raises(sms.ConfigError) as err:
        create_app(TestConfig, SMS_GATEWAY='carrier-pigeon')
    assert '未知的短信网关“carrier-pigeon”' in str(err.value) and 'http、outbox' in str(err.value)
    with pytest.raises(sms.ConfigError) as err:
        create_app(TestConfig, SMS_GATEWAY='http', SMS_HTTP_URL='')
    assert 'SMS_HTTP_URL' in str(err.value)
    with pytest.raises(sms.ConfigError) as err:
        create_app(TestConfig, SMS_GATEWAY='http', SMS_HTTP_URL='https://sms.example.test/', SMS_HTTP_FORMAT='xml')
    assert 'SMS_HTTP_FORMAT' in str(err.value)


def test_sms_settings_are_read_from_the_environment():
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, SMS_GATEWAY='http', SMS_HTTP_URL='https://sms.example.test/send', SMS_DEMO_OUTBOX='0',
               APP_ENV='')
    out = subprocess.run([sys.executable, '-c', 'from backoffice.config import Config as C; '
                          'print(C.SMS_GATEWAY, C.SMS_HTTP_URL, C.SMS_DEMO_OUTBOX)'],
                         cwd=root, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ['http', 'https://sms.example.test/send', 'False']


# --- the HTTP adapter against a stub operator on loopback ---------------------------------

class _Operator:
    """A stub SMS operator: http.server on 127.0.0.1 in a thread, recording each request."""

    def __init__(self, status=200, delay=0.0):
        import http.server
        import threading
        self.requests, self.status, self.delay = [], status, delay
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                import time
                body = self.rfile.read(int(self.headers['Content-Length']))
                outer.requests.append((self.path, self.headers['Content-Type'], body))
                if outer.delay:
                    time.sleep(outer.delay)
                payload = b'{"code": 0, "msg": "ok"}' if outer.status == 200 else b'{"code": 17, "msg": "bad account"}'
                try:
                    self.send_response(outer.status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_port}/sms/send'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _http(monkeypatch, app, url, fmt='json', timeout=2.0):
    for key, value in (('SMS_GATEWAY', 'http'), ('SMS_HTTP_URL', url), ('SMS_HTTP_ACCOUNT', 'registry'),
                       ('SMS_HTTP_PASSWORD', 's3cret'), ('SMS_HTTP_FORMAT', fmt), ('SMS_HTTP_TIMEOUT', timeout)):
        monkeypatch.setitem(app.config, key, value)


def test_http_gateway_posts_json_with_credentials(app, monkeypatch):
    import json
    with _Operator() as operator:
        _http(monkeypatch, app, operator.url)
        sms.send_code('13300133000', 'signup', clock=T0, client='10.3.3.3')
    (path, ctype, body), = operator.requests
    sent = json.loads(body)
    assert path == '/sms/send' and ctype.startswith('application/json')
    assert (sent['account'], sent['password'], sent['mobile']) == ('registry', 's3cret', '13300133000')
    code = re.search(r'验证码为(\d{6})', sent['content']).group(1)
    row = SmsMessage.get()
    assert (row.gateway, row.status, row.error) == ('http', 'sent', '')
    assert code not in row.text and '验证码为******' in row.text          # the stored copy has no code
    assert sms.verify_code('13300133000', 'signup', code, clock=T0 + datetime.timedelta(minutes=1))


def test_http_gateway_posts_a_form(app, monkeypatch):
    from urllib.parse import parse_qs
    with _Operator() as operator:
        _http(monkeypatch, app, operator.url, fmt='form')
        sms.send_code('13300133001', 'submit', clock=T0)
    (_path, ctype, body), = operator.requests
    fields = parse_qs(body.decode())
    assert ctype.startswith('application/x-www-form-urlencoded')
    assert fields['account'] == ['registry'] and fields['mobile'] == ['13300133001'] and '验证码为' in fields['content'][0]


@pytest.mark.parametrize('case', ['refused', 'http_error', 'timeout'])
def test_http_gateway_errors_are_recorded_on_the_outbox_row(app, monkeypatch, case):
    import socket
    if case == 'refused':
        with socket.socket() as s:                         # a port nobody listens on
            s.bind(('127.0.0.1', 0))
            url = f'http://127.0.0.1:{s.getsockname()[1]}/sms/send'
        _http(monkeypatch, app, url)
        with pytest.raises(sms.SmsError) as err:
            sms.send_code('13300133002', 'signup', clock=T0)
    else:
        with _Operator(status=500 if case == 'http_error' else 200, delay=1.0 if case == 'timeout' else 0) as op:
            _http(monkeypatch, app, op.url, timeout=0.3)
            with pytest.raises(sms.SmsError) as err:
                sms.send_code('13300133002', 'signup', clock=T0)
    assert err.value.message == '短信发送失败，请稍后重试'
    row = SmsMessage.get()
    assert row.status == 'failed' and row.error
    assert {'refused': 'ConnectionRefused', 'http_error': 'HTTP 500', 'timeout': 'timed out'}[case] in row.error
    assert SmsCode.select().count() == 0                   # nothing to verify; may be asked again at once
