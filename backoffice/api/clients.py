"""API clients: created by an administrator, a secret shown once and stored hashed, rotated, deactivated."""
import hashlib
import hmac
import secrets

from models import ApiClient, database, now

from backoffice.api import scopes as scopes_mod

KINDS = {
    'province': '省级业务系统（政务服务大厅）',
    'national': '全国建筑市场监管公共服务平台',
    'enterprise': '企业人事系统',
    'verifier': '证书核验方',
}


class ClientError(Exception):
    def __init__(self, errors):
        super().__init__('；'.join(errors.values()))
        self.errors = errors        # {field: Chinese message}


def hash_secret(secret):
    # the secret is 32 random bytes: a fast hash is enough (nothing to brute-force), compared in constant time
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def new_secret():
    return secrets.token_urlsafe(32)


def new_client_id():
    return 'cl_' + secrets.token_hex(12)


def check(kind, scopes, province_id, enterprise_id):
    """Field errors of a client's settings ({} when it is consistent)."""
    errors = {}
    if kind not in KINDS:
        errors['kind'] = '客户端类型无效'
    try:
        names = scopes_mod.parse(scopes) if isinstance(scopes, str) else set(scopes or ())
        if names - set(scopes_mod.SCOPES):
            raise ValueError('未知的权限范围')
    except ValueError as exc:
        errors['scopes'] = str(exc)
        names = set()
    if not names and 'scopes' not in errors:
        errors['scopes'] = '请至少选择一项权限范围'
    if kind == 'province' and not province_id:
        errors['province'] = '省级业务系统须指定省份'
    if 'applications:read' in names and not province_id and kind != 'national':
        errors['province'] = '查询申请办理状态的客户端须指定省份（全国平台除外）'
    if 'enterprise:self' in names and not enterprise_id:
        errors['enterprise'] = '具有“本企业注册人员”权限的客户端须关联企业'
    if kind == 'enterprise' and not enterprise_id:
        errors['enterprise'] = '企业人事系统须关联企业'
    return errors


def create(name, kind, scopes, province=None, enterprise=None):
    """A new active client; returns (client, secret). The secret is not stored and is shown once."""
    names = scopes if isinstance(scopes, (set, frozenset, list, tuple)) else scopes_mod.parse(scopes)
    errors = check(kind, names, getattr(province, 'id', province), getattr(enterprise, 'id', enterprise))
    if not (name or '').strip():
        errors['name'] = '请填写客户端名称'
    if errors:
        raise ClientError(errors)
    secret = new_secret()
    client = ApiClient.create(client_id=new_client_id(), name=name.strip(), kind=kind,
                              scopes=' '.join(sorted(names)), province=province, enterprise=enterprise,
                              secret_hash=hash_secret(secret), generation=1, active=True)
    return client, secret


def rotate(client):
    """A new secret; the old secret and every token issued under it stop working at once."""
    secret = new_secret()
    with database.atomic():
        ApiClient.update(secret_hash=hash_secret(secret), generation=ApiClient.generation + 1,
                         rotated_at=now()).where(ApiClient.id == client.id).execute()
    return secret


def deactivate(client):
    ApiClient.update(active=False).where(ApiClient.id == client.id).execute()


def authenticate(client_id, secret):
    """The active client whose id and secret match, or None (one answer for every mismatch)."""
    client = ApiClient.get_or_none(ApiClient.client_id == (client_id or '')[:40])
    given = hash_secret(secret or '')
    if client is None or not client.secret_hash:
        hmac.compare_digest(given, given)
        return None
    if not hmac.compare_digest(client.secret_hash, given) or not client.active:
        return None
    return client
