"""Structured logs: JSON lines with a request id, and no full ID number or mobile in any line —
the app's own records, Werkzeug's request lines and gunicorn's access log alike."""
import datetime
import io
import json
import logging
import threading
import urllib.request

import pytest
from hypothesis import given, settings, strategies as st
from werkzeug.serving import make_server

from backoffice import logs

from .conftest import login, make_person


@pytest.fixture
def captured():
    """Every record of the process as the production handler formats it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines(clear=False):
        out = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
        if clear:
            stream.seek(0)
            stream.truncate()
        return out
    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def _assert_clean(lines, *secrets):
    text = '\n'.join(json.dumps(line, ensure_ascii=False) if not isinstance(line, str) else line for line in lines)
    for secret in secrets:
        assert secret not in text, f'{secret} leaked into the logs'


def test_scrub_ids_and_mobiles():
    assert logs.scrub('身份证 11010519850615123X 电话 13912345678 止') == \
        f'身份证 {logs.ID_MASK} 电话 {logs.MOBILE_MASK} 止'
    assert logs.scrub('/?id_number=110105198506151234&x=1') == f'/?id_number={logs.ID_MASK}&x=1'
    assert logs.scrub('order 12345 at 2026-11-25, 1391234') == 'order 12345 at 2026-11-25, 1391234'


# digits of several kinds (ASCII, full-width, Arabic-Indic: the mobile pattern's \\d takes any), the ID
# number's X, separators, Chinese
_SCRUB_ALPHABET = '0123456789' * 4 + 'Xx /?=&-.' + '１２３٣' + '身份证号手机'


@given(st.text(alphabet=_SCRUB_ALPHABET, max_size=60))
@settings(max_examples=400, deadline=None)
def test_scrub_answers_as_its_patterns_do(text):
    """scrub's shortcut (an ASCII text without eleven digits in a row is returned as it is) never
    changes its answer: it equals the two patterns applied in full, for any text."""
    assert logs.scrub(text) == logs.MOBILE_RE.sub(logs.MOBILE_MASK, logs.ID_NUMBER_RE.sub(logs.ID_MASK, text))


def test_scrub_masks_numbers_in_ascii_and_other_text():
    for text in ('q=13912345678', 'q=11010519850615123X', 'a 110105198506151234 b', '手机13912345678',
                 'x 13１２３４５６７８９ y'):             # a mobile's last nine digits full-width
        assert logs.scrub(text) != text, text
    assert logs.scrub('id=1391234567 n=2026112510315') == 'id=1391234567 n=2026112510315'


def test_every_record_is_scrubbed_and_json(captured, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger('backoffice.anything').info('lookup %s by %s', '110105198506151234', '13812345678')
    try:
        raise ValueError('duplicate id_number 110105198506151234')
    except ValueError:
        logging.getLogger('backoffice.anything').exception('failed for 13812345678')
    lines = captured()
    assert lines[0]['message'] == f'lookup {logs.ID_MASK} by {logs.MOBILE_MASK}'
    assert lines[0]['level'] == 'INFO' and lines[0]['logger'] == 'backoffice.anything'
    assert 'exc' in lines[1] and 'ValueError' in lines[1]['exc']
    _assert_clean(lines, '110105198506151234', '13812345678')
    _assert_clean([r.getMessage() for r in caplog.records], '110105198506151234', '13812345678')


def test_request_id_on_every_line_and_in_the_response(client, captured):
    # a line logged inside a request carries that request's id
    from flask import Flask
    probe = Flask('probe')
    probe.config['LOG_JSON'] = False          # no process-wide stderr handler from this test
    logs.init_app(probe)

    @probe.route('/probe')
    def _probe():
        logging.getLogger('backoffice.probe').warning('inside the request')
        return 'ok'
    r = probe.test_client().get('/probe', headers={'X-Request-ID': 'req-probe-0001'})
    line = [x for x in captured() if x['message'] == 'inside the request'][0]
    assert line['request_id'] == 'req-probe-0001' == r.headers['X-Request-ID']
    r = probe.test_client().get('/probe')
    line = [x for x in captured() if x['message'] == 'inside the request'][-1]
    assert line['request_id'] == r.headers['X-Request-ID'] and len(line['request_id']) == 32


def test_no_personal_data_in_request_logs(app, client, users, captured, caplog):
    """A real server thread (Werkzeug's request log) and the helpdesk search: nothing leaks."""
    caplog.set_level(logging.DEBUG)
    person = make_person(name='王芳')
    number, mobile = person.id_number, person.mobile
    captured(clear=True)
    caplog.clear()
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f'http://127.0.0.1:{server.server_port}'
        for path in (f'/?id_number={number}', f'/search?id_number={number}&name=%E7%8E%8B%E8%8A%B3',
                     f'/?mobile={mobile}'):
            try:
                urllib.request.urlopen(base + path, timeout=10).read()
            except urllib.error.HTTPError:
                pass
    finally:
        server.shutdown()
    login(client, 'helpdesk')
    for q in (number, number.lower(), mobile):
        assert client.get(f'/admin/helpdesk/?q={q}').status_code == 200
    lines = captured()
    werkzeug_lines = [x for x in lines if x['logger'] == 'werkzeug']
    assert any('GET /?id_number=' in x['message'] for x in werkzeug_lines), lines   # the request line is logged ...
    _assert_clean(lines, number, number.lower(), mobile)                               # ... scrubbed
    _assert_clean([r.getMessage() for r in caplog.records], number, number.lower(), mobile)


class _Resp:
    status = '200 OK'
    sent = 1234
    headers = [('Content-Type', 'text/html'), ('X-Request-ID', 'rid-0000-1111')]


def test_gunicorn_access_log_is_json_scrubbed_with_request_id():
    from gunicorn.config import Config
    cfg = Config()
    cfg.set('accesslog', '-')
    logger = logs.GunicornLogger(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    environ = {'REQUEST_METHOD': 'GET', 'RAW_URI': '/admin/helpdesk/?q=110105198506151234&m=13912345678',
               'PATH_INFO': '/admin/helpdesk/', 'QUERY_STRING': 'q=110105198506151234&m=13912345678',
               'SERVER_PROTOCOL': 'HTTP/1.1', 'REMOTE_ADDR': '127.0.0.1', 'HTTP_USER_AGENT': 'test',
               'HTTP_REFERER': 'http://x/?id_number=110105198506151234'}
    logger.access(_Resp(), None, environ, datetime.timedelta(milliseconds=12))
    out = stream.getvalue()
    line = json.loads(out.strip())
    assert line['logger'] == 'gunicorn.access' and line['request_id'] == 'rid-0000-1111'
    assert line['http']['status'] == 200 and line['http']['path'] == '/admin/helpdesk/'
    assert line['message'].startswith('GET /admin/helpdesk/?q=')
    _assert_clean([out], '110105198506151234', '13912345678')
