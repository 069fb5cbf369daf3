"""Structured logs: one JSON object per line, a request id on every line of a request, and no
personal data.

- `scrub(text)` replaces full 公民身份号码 (18 characters) and mobile numbers (1[3-9] + 9 digits).
  It runs on every log record when it is created (a record factory, so every handler and
  pytest's caplog see the scrubbed text) and again on each formatted line (tracebacks, extras).
- `init_app(app)` gives each request an id: the proxy's X-Request-ID when it looks like one,
  otherwise a new one; it is returned in the X-Request-ID response header and put on every line
  logged during the request.
- `GunicornLogger` (gunicorn `logger_class`) writes gunicorn's error and access logs in the same
  JSON form; the access line carries the request id and a scrubbed request line (a query such
  as ?id_number=… or the helpdesk's ?q=… is never written in clear).
"""
import datetime
import json
import logging
import os
import re
import sys
import uuid

ID_NUMBER_RE = re.compile(r'(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])')    # broad on purpose: any 18-char run
MOBILE_RE = re.compile(r'(?<![0-9])1[3-9]\d{9}(?![0-9])')
REQUEST_ID_RE = re.compile(r'^[A-Za-z0-9._:-]{8,64}$')
ID_MASK, MOBILE_MASK = '[身份证号已隐去]', '[手机号已隐去]'
_STANDARD = set(vars(logging.LogRecord('x', 0, '', 0, '', (), None))) | {'message', 'asctime', 'taskName'}


# 1 for an ASCII digit, 0 for any other byte: an ASCII text holds eleven digits in a row, the least
# either number needs, when its translation holds eleven ones in a row
_DIGIT_BYTES = bytes(1 if 48 <= i <= 57 else 0 for i in range(256))
_ELEVEN_DIGITS = b'\x01' * 11


def scrub(text):
    """The text with every full ID number and mobile number replaced."""
    if not text:
        return text
    # most lines (an access line, a path) are ASCII without eleven digits in a row: neither pattern can
    # match them, and the patterns' scan cost about 25 µs on an access line (issue 10)
    if text.isascii() and _ELEVEN_DIGITS not in text.encode('ascii').translate(_DIGIT_BYTES):
        return text
    return MOBILE_RE.sub(MOBILE_MASK, ID_NUMBER_RE.sub(ID_MASK, text))


def _current_request_id():
    try:
        from flask import g, has_request_context
        if has_request_context():
            return g.get('request_id')
    except Exception:          # logging never fails because of the request id
        pass
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, pid, extras."""

    def format(self, record):
        out = {
            'time': datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec='milliseconds'),
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
            'request_id': getattr(record, 'request_id', None) or _current_request_id(),
            'pid': record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out and not key.startswith('_'):
                out[key] = value
        if record.exc_info:
            out['exc'] = self.formatException(record.exc_info)
        elif record.exc_text:
            out['exc'] = record.exc_text
        if record.stack_info:
            out['stack'] = record.stack_info
        return scrub(json.dumps(out, ensure_ascii=False, default=str))


_factory_installed = False


def install_record_factory():
    """Scrub every record's message at creation, for every logger and handler of the process."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            return record
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return record
    logging.setLogRecordFactory(factory)
    _factory_installed = True


def configure(level=None, stream=None):
    """JSON lines on stderr for the root logger (once per process), with scrubbing."""
    install_record_factory()
    root = logging.getLogger()
    if not any(getattr(h, '_registry_json', False) for h in root.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._registry_json = True
        root.addHandler(handler)
    root.setLevel(level or os.environ.get('LOG_LEVEL', 'INFO').upper())


def new_request_id(incoming=None):
    """The proxy's X-Request-ID when it is a plausible id, otherwise a fresh one."""
    if incoming and REQUEST_ID_RE.match(incoming) and scrub(incoming) == incoming:
        return incoming
    return uuid.uuid4().hex


def init_app(app):
    """Request ids on every request and response; JSON logs unless running under tests."""
    from flask import g, request
    install_record_factory()
    if not app.testing and app.config.get('LOG_JSON', True):
        configure()

    @app.before_request
    def _request_id():
        g.request_id = new_request_id(request.headers.get('X-Request-ID'))

    @app.after_request
    def _request_id_header(response):
        rid = g.get('request_id')
        if rid:
            response.headers['X-Request-ID'] = rid
        return response


try:
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:          # gunicorn is only needed by the server process
    _GunicornBase = object


class GunicornLogger(_GunicornBase):
    """gunicorn's logs as JSON lines, the access line scrubbed and with the request id."""

    def setup(self, cfg):
        super().setup(cfg)
        install_record_factory()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            headers = dict((k.lower(), v) for k, v in (resp.headers or []))
            line = f"{environ['REQUEST_METHOD']} {environ.get('RAW_URI', environ.get('PATH_INFO', ''))}"
            self.access_log.info(scrub(f'{line} {status}'), extra={
                'request_id': headers.get('x-request-id'),
                'http': {
                    'method': environ['REQUEST_METHOD'],
                    'path': scrub(environ.get('PATH_INFO', '')),
                    'query': scrub(environ.get('QUERY_STRING', '')),
                    'status': int(status) if str(status).isdigit() else status,
                    'bytes': getattr(resp, 'sent', None),
                    'duration_ms': round(request_time.total_seconds() * 1000, 1),
                    'remote_addr': environ.get('REMOTE_ADDR'),
                    'user_agent': scrub(environ.get('HTTP_USER_AGENT', '')),
                    'referer': scrub(environ.get('HTTP_REFERER', '')),
                }})
        except Exception:
            self.error('access log line not written')
