"""The open API under /api/v1 (flask-smorest): bearer-token authentication, one JSON error
format with Chinese messages, the OpenAPI 3 document at /api/v1/openapi.json and a locally
served documentation page at /api/v1/docs (Swagger UI from the swagger-ui-bundle package).

The API does not use the session: every call is authenticated by its bearer token (OAuth2
client credentials, POST /api/v1/token); views/policies.py declares the endpoints PUBLIC at the
session layer, CSRF does not apply (no cookie authenticates a call), and the rules live in
backoffice/api/.
"""
import logging

from flask import request
from flask_limiter.errors import RateLimitExceeded
from flask_smorest import Api as _Api
from werkzeug.exceptions import HTTPException

from backoffice.api.scopes import ApiError
from backoffice.limits import RateLimited

from .schemas import ErrorSchema

log = logging.getLogger(__name__)
PREFIX = '/api/v1'

DESCRIPTION = """一级建造师注册管理信息系统开放接口。

**认证**：OAuth2 客户端凭证模式。管理员在后台“API 客户端”中创建客户端并取得 client_id 与 client_secret
（密钥只显示一次，可轮换；轮换后旧密钥及其签发的令牌立即失效）。调用
`POST /api/v1/token`（表单字段 grant_type=client_credentials、client_id、client_secret，或以 HTTP Basic 认证传送
client_id 与 client_secret）换取短期访问令牌，之后每次请求带 `Authorization: Bearer <access_token>`。

**权限范围**：registry:read（注册人员库）、applications:read（本省申请办理状态）、certificates:verify（证书核验）、
enterprise:self（本企业注册人员）、stats:read（统计数据）、idnumber:full（返回完整身份证号，否则遮蔽）。
列表按客户端所属省份限定，按 id 键集分页（after / next_after）。

**增量数据流**：`GET /api/v1/registrations/changes?cursor=N` 返回序号大于 N 的注册变更，按序号排列；保存返回的
next_cursor 作为下一次的 cursor，可随时中断后续读，变更不丢不重。

**审计**：每次读取个人信息都记录客户端、人员与时间。**限流**：每个客户端独立计数，超限返回 429 与 Retry-After。

**错误格式**：`{"code": 422, "status": "Unprocessable Entity", "message": "中文说明", "errors": {"字段": "说明"}}`。
"""

_MESSAGES = {
    'Unknown field.': '不支持的参数', 'Missing data for required field.': '必填', 'Not a valid integer.': '须为整数',
    'Not a valid string.': '须为字符串', 'Field may not be null.': '不能为空', 'Invalid input type.': '输入类型无效',
    'Not a valid boolean.': '须为布尔值', 'Invalid value.': '取值无效',
}


class Api(_Api):
    """flask-smorest, with our error schema and without its app-wide JSON error handler
    (the HTML pages keep their own; the API's handlers are on its blueprints)."""
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


def _flat(messages):
    """webargs' {location: {field: [messages]}} → {field: '中文'}."""
    out = {}

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, path if k in ('query', 'form', 'json', 'headers', 'view_args', 'path') and not path
                     else path + [str(k)])
        elif isinstance(value, (list, tuple)):
            texts = [m for m in value if isinstance(m, str)]
            nested = [m for m in value if not isinstance(m, str)]
            if texts:
                out['.'.join(path) or '_'] = '；'.join(_MESSAGES.get(t, t) for t in texts)
            for m in nested:
                walk(m, path)
        else:
            out['.'.join(path) or '_'] = _MESSAGES.get(str(value), str(value))

    walk(messages or {}, [])
    return out


_STATUS_MESSAGES = {
    400: '请求无效', 401: '未认证', 403: '无权访问', 404: '请求的资源不存在', 405: '该地址不接受此请求方式',
    413: '请求过大', 415: '请求内容类型不受支持', 422: '请求参数有误', 429: '请求过于频繁', 500: '系统处理请求时出错，已记录，请稍后再试',
}


def error_response(status, message, errors=None, error=None, headers=None):
    from flask import jsonify
    from werkzeug.http import HTTP_STATUS_CODES
    body = {'code': status, 'status': HTTP_STATUS_CODES.get(status, 'Error'), 'message': message}
    if errors:
        body['errors'] = errors
    if error:
        body['error'] = error
    resp = jsonify(body)
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _handle_api_error(exc):
    return error_response(exc.status, exc.message, exc.errors, exc.error, exc.headers)


def _handle_http(exc):
    code = exc.code or 500
    data = getattr(exc, 'data', None) or {}
    errors = _flat(data.get('messages') or data.get('errors'))
    message = data.get('message') or _STATUS_MESSAGES.get(code, '请求无效')
    if code == 400 and not data and request.content_length:
        message = '请求体无法解析'
    return error_response(code, message, errors)


def _handle_limited(exc):
    seconds = max(1, int(getattr(exc, 'retry_after', 60) or 60))
    return error_response(429, f'请求过于频繁，请 {seconds} 秒后再试', error='rate_limited',
                          headers={'Retry-After': str(seconds)})


def _handle_server_error(exc):
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    log.exception('API server error')
    return error_response(500, _STATUS_MESSAGES[500])


def install_error_handlers(bp):
    bp.register_error_handler(ApiError, _handle_api_error)
    bp.register_error_handler(RateLimited, _handle_limited)
    bp.register_error_handler(RateLimitExceeded, _handle_limited)
    bp.register_error_handler(HTTPException, _handle_http)
    for code in _STATUS_MESSAGES:          # the app's per-code HTML pages would win over a class handler
        if code not in (429, 500):
            bp.register_error_handler(code, _handle_http)
    bp.register_error_handler(500, _handle_server_error)
    bp.register_error_handler(Exception, _handle_server_error)


def register(app):
    app.config.setdefault('API_TITLE', '一级建造师注册管理信息系统开放接口')
    app.config.setdefault('API_VERSION', 'v1')
    app.config.setdefault('OPENAPI_VERSION', '3.0.3')
    app.config.setdefault('OPENAPI_URL_PREFIX', PREFIX)
    app.config.setdefault('OPENAPI_JSON_PATH', 'openapi.json')
    api = Api(app, spec_kwargs={'info': {'description': DESCRIPTION}})
    api.spec.components.security_scheme('oauth2', {
        'type': 'oauth2', 'description': 'OAuth2 客户端凭证模式：POST /api/v1/token 换取 Bearer 令牌',
        'flows': {'clientCredentials': {'tokenUrl': PREFIX + '/token', 'scopes': _scope_docs()}}})
    api.spec.components.security_scheme('bearerAuth', {'type': 'http', 'scheme': 'bearer',
                                                       'description': 'POST /api/v1/token 取得的访问令牌'})
    from . import docs, resources
    csrf = app.extensions.get('csrf')
    for bp in (resources.bp,):
        install_error_handlers(bp)
        if csrf is not None:
            csrf.exempt(bp)          # bearer tokens, not cookies, authenticate API calls
        api.register_blueprint(bp)
    install_error_handlers(docs.bp)
    if csrf is not None:
        csrf.exempt(docs.bp)
    app.register_blueprint(docs.bp)
    # the OpenAPI document (flask-smorest's own blueprint): anonymous, so limited like the public pages
    from backoffice.limits import limit
    limit('RATELIMIT_PUBLIC_PAGES')(app.blueprints['api-docs'])
    app.before_request(_routing_error_as_json)
    app.extensions['registry_api'] = api
    return api


def _routing_error_as_json(prefix=PREFIX + '/'):
    """An address under /api/v1 that matched no route before any blueprint could take it (e.g. an id
    beyond 2^63-1 refused by the bounded int converter): the API's JSON 404 / 405, not the HTML page."""
    exc = request.routing_exception
    if exc is not None and request.path.startswith(prefix) and isinstance(exc, HTTPException) and exc.code:
        if exc.code in (404, 405):
            return _handle_http(exc)
    return None


def _scope_docs():
    from backoffice.api.scopes import SCOPES
    return dict(SCOPES)
