"""Scopes an API client may hold, and the one error the API answers with."""

SCOPES = {
    'registry:read': '读取注册人员库（注册人员、注册记录、企业、注册变更数据流）',
    'applications:read': '查询申请办理状态（限客户端所属省份）',
    'certificates:verify': '核验电子证书',
    'enterprise:self': '查询本企业的注册人员',
    'stats:read': '读取统计数据',
    'idnumber:full': '返回完整的公民身份号码（否则只返回遮蔽后的号码）',
}
PERSON_READ = ('registry:read', 'enterprise:self')


class ApiError(Exception):
    """An answer of the API other than success: HTTP status, Chinese message, field errors."""

    def __init__(self, status, message, errors=None, error=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.error = error                  # OAuth2 error code for the token endpoint
        self.headers = headers or {}


def parse(value):
    """A set of scopes from a space (or comma) separated string; unknown names raise ValueError."""
    names = {s for s in (value or '').replace(',', ' ').split() if s}
    unknown = names - set(SCOPES)
    if unknown:
        raise ValueError('未知的权限范围：' + '、'.join(sorted(unknown)))
    return names


def require(client, *any_of):
    """The client must hold at least one of `any_of`; else 403."""
    if not client.scope_set & set(any_of):
        raise ApiError(403, '该客户端没有访问此接口的权限（需要权限范围：' + ' 或 '.join(any_of) + '）',
                       error='insufficient_scope')


def full_id_numbers(client):
    return 'idnumber:full' in client.scope_set
