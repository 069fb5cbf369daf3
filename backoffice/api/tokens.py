"""Bearer tokens of the OAuth2 client-credentials flow: short-lived, signed, bound to the secret's generation.

A token is {client, generation, expiry} signed with SECRET_KEY (itsdangerous, salt 'api-token'). It is
refused when the signature does not match, the expiry has passed, the client was deactivated or its
secret was rotated since (the generation moved on). Nothing is stored per token.
"""
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from models import ApiClient

from backoffice.api.scopes import ApiError

DEFAULT_SECONDS = 900


def _now():
    """Seconds since the epoch (tests replace it to move time)."""
    return int(time.time())


def lifetime():
    return int(current_app.config.get('API_TOKEN_SECONDS', DEFAULT_SECONDS))


def _serializer():
    return URLSafeSerializer(current_app.config['SECRET_KEY'], salt='api-token')


def issue(client):
    """(token, seconds it lasts)."""
    seconds = lifetime()
    return _serializer().dumps({'c': client.id, 'g': client.generation, 'e': _now() + seconds}), seconds


def _invalid(message):
    return ApiError(401, message, error='invalid_token',
                    headers={'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"'})


def client_for(token):
    """The client a bearer token stands for; raises ApiError(401) otherwise."""
    try:
        data = _serializer().loads(token or '')
    except BadSignature:
        raise _invalid('访问令牌无效') from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ('c', 'g', 'e')):
        raise _invalid('访问令牌无效')
    if data['e'] <= _now():
        raise _invalid('访问令牌已过期，请重新获取')
    client = ApiClient.get_or_none(ApiClient.id == data['c'])
    if client is None or not client.active:
        raise _invalid('客户端已停用')
    if client.generation != data['g']:
        raise _invalid('客户端密钥已更换，请用新密钥重新获取访问令牌')
    return client
