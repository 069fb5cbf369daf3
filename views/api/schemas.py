"""marshmallow schemas of the API: every request and response is declared, so the OpenAPI
document at /api/v1/openapi.json describes exactly what the code accepts and returns."""
import marshmallow as ma
from marshmallow import fields, validate

from seed.reference import PROVINCES

MAX_PAGE = 1000
PROVINCE_CODES = [code for code, _name, _abbr in PROVINCES]

_REQ = {'required': '必填', 'null': '不能为空', 'invalid': '格式无效'}
_INT = {**_REQ, 'invalid': '须为整数', 'too_large': '数值过大'}


def _int(**kw):
    return fields.Integer(error_messages=_INT, **kw)


def _str(**kw):
    return fields.String(error_messages={**_REQ, 'invalid': '须为字符串', 'invalid_utf8': '须为 UTF-8 字符串'}, **kw)


class DateTime(fields.DateTime):
    """RFC 3339 date-time as OpenAPI's `date-time` requires: the database keeps the server's local time
    without an offset (models.now), so the offset of the server's time zone is added (e.g. +08:00)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.astimezone()
        return super()._serialize(value, attr, obj, **kwargs)


class Base(ma.Schema):
    class Meta:
        ordered = True


# --- errors and auth ---------------------------------------------------------------------------

class ErrorSchema(Base):
    code = fields.Integer(required=True, metadata={'description': 'HTTP 状态码'})
    status = fields.String(required=True, metadata={'description': '状态名称'})
    message = fields.String(required=True, metadata={'description': '中文错误说明'})
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata={'description': '逐字段的错误说明'})
    error = fields.String(metadata={'description': 'OAuth2 错误代码（invalid_client、invalid_token 等）'})


class TokenRequestSchema(Base):
    class Meta:
        unknown = ma.EXCLUDE

    grant_type = _str(required=True, validate=validate.Equal('client_credentials', error='只支持 client_credentials'),
                      metadata={'description': '固定为 client_credentials'})
    client_id = _str(validate=validate.Length(max=40, error='过长'),
                     metadata={'description': '客户端标识（也可用 HTTP Basic 认证传送）'})
    client_secret = _str(validate=validate.Length(max=100, error='过长'),
                         metadata={'description': '客户端密钥（也可用 HTTP Basic 认证传送）'})


class TokenSchema(Base):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={'description': 'Bearer'})
    expires_in = fields.Integer(required=True, metadata={'description': '有效秒数'})
    scope = fields.String(required=True, metadata={'description': '客户端的权限范围，空格分隔'})


# --- query arguments ---------------------------------------------------------------------------

class PageArgs(Base):
    after = _int(load_default=0, validate=validate.Range(min=0, max=2 ** 63 - 1, error='须为非负整数'),
                 metadata={'description': '上一页最后一条的 id（首页为 0）'})
    limit = _int(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE, error=f'须在 1 至 {MAX_PAGE} 之间'),
                 metadata={'description': '每页条数'})


class RegistrationListArgs(PageArgs):
    state = _str(validate=validate.OneOf(('active', 'lapsed', 'cancelled'), error='状态无效'),
                 metadata={'description': 'active / lapsed / cancelled'})


class FeedArgs(Base):
    cursor = _int(load_default=0, validate=validate.Range(min=0, max=2 ** 63 - 1, error='须为非负整数'),
                  metadata={'description': '上一页返回的 next_cursor（从头读取为 0）'})
    limit = _int(load_default=500, validate=validate.Range(min=1, max=MAX_PAGE, error=f'须在 1 至 {MAX_PAGE} 之间'))


class PersonArgs(Base):
    id_number = _str(validate=validate.Length(min=1, max=18, error='须为18位身份证号'),
                     metadata={'description': '公民身份号码（18位）'})
    reg_number = _str(validate=validate.Length(min=1, max=20, error='注册编号格式无效'),
                      metadata={'description': '注册编号，如 京111050700001'})


class StatsArgs(Base):
    province = _str(validate=validate.OneOf(PROVINCE_CODES, error='省份代码无效'),
                    metadata={'description': '两位省份代码（GB/T 2260，如 11 北京）；省级客户端只能查询本省'})


# --- resources ---------------------------------------------------------------------------------

class ProvinceSchema(Base):
    code = fields.String(required=True)
    name = fields.String(required=True)


class EnterpriseRefSchema(Base):
    uscc = fields.String(required=True, metadata={'description': '统一社会信用代码'})
    name = fields.String(required=True)


class PersonRefSchema(Base):
    name = fields.String(required=True)
    id_number = fields.String(required=True, metadata={'description': '遮蔽的身份证号；具有 idnumber:full 权限时为完整号码'})
    gender = fields.String(required=True)


class SpecialtySchema(Base):
    specialty = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)


class RegistrationSchema(Base):
    id = fields.Integer(required=True)
    registration_number = fields.String(required=True, metadata={'description': '注册编号'})
    seal_check = fields.Integer(required=True, metadata={'description': '印章校验码'})
    state = fields.String(required=True, metadata={'description': 'active / lapsed / cancelled'})
    state_label = fields.String(required=True)
    registered_on = fields.Date(required=True)
    cancelled_on = fields.Date(allow_none=True)
    lapsed_on = fields.Date(allow_none=True)
    end_reason = fields.String(allow_none=True)
    end_reason_label = fields.String(allow_none=True)
    province = fields.Nested(ProvinceSchema, required=True)
    enterprise = fields.Nested(EnterpriseRefSchema, required=True)
    person = fields.Nested(PersonRefSchema, required=True)
    specialties = fields.List(fields.Nested(SpecialtySchema), required=True)


class PersonSchema(Base):
    name = fields.String(required=True)
    id_number = fields.String(required=True)
    gender = fields.String(required=True)
    registrations = fields.List(fields.Nested(RegistrationSchema), required=True)


class RegistrationPageSchema(Base):
    items = fields.List(fields.Nested(RegistrationSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True, metadata={'description': '下一页的 after；无下一页为 null'})


class ChangeSchema(Base):
    seq = fields.Integer(required=True, metadata={'description': '变更序号（单调递增）'})
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    changed_at = DateTime(required=True)
    registration = fields.Nested(RegistrationSchema, required=True, metadata={'description': '读取时的注册记录'})


class ChangePageSchema(Base):
    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.Integer(required=True, metadata={'description': '下次请求的 cursor'})
    has_more = fields.Boolean(required=True)


class EnterpriseSchema(Base):
    id = fields.Integer(required=True)
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    province = fields.Nested(ProvinceSchema, required=True)
    city = fields.String(required=True)
    status = fields.String(required=True)
    verified = fields.Boolean(required=True)


class EnterpriseDetailSchema(EnterpriseSchema):
    registered_staff = fields.Integer(required=True, metadata={'description': '有效注册人数'})


class EnterprisePageSchema(Base):
    items = fields.List(fields.Nested(EnterpriseSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class NoticeSchema(Base):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    published_at = DateTime(required=True)


class NoticeListItemSchema(NoticeSchema):
    item_count = fields.Integer(required=True)


class NoticePageSchema(Base):
    items = fields.List(fields.Nested(NoticeListItemSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class NoticeItemSchema(Base):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    id_number = fields.String(required=True, metadata={'description': '遮蔽的身份证号'})
    enterprise = fields.String(required=True)
    business_type = fields.String(required=True)
    business_type_label = fields.String(required=True)
    specialties = fields.List(fields.String(), required=True)
    registration_number = fields.String(allow_none=True, required=True)


class NoticeItemPageSchema(Base):
    notice = fields.Nested(NoticeSchema, required=True)
    items = fields.List(fields.Nested(NoticeItemSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class ApplicantSchema(Base):
    name = fields.String(required=True)
    id_number = fields.String(required=True)


class ApplicationStatusSchema(Base):
    number = fields.String(required=True)
    business_type = fields.String(required=True)
    business_type_label = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    province = fields.Nested(ProvinceSchema, allow_none=True, required=True)
    applicant = fields.Nested(ApplicantSchema, required=True)
    submitted_at = DateTime(allow_none=True, required=True)
    accepted_at = DateTime(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True, metadata={'description': '审查期限'})
    decided_at = DateTime(allow_none=True, required=True)
    announced_at = DateTime(allow_none=True, required=True)


class CertSpecialtySchema(Base):
    specialty = fields.String(required=True)
    valid_until = fields.Date(required=True)
    state = fields.String(required=True)


class CertificateStatusSchema(Base):
    serial = fields.String(required=True)
    status = fields.String(required=True, metadata={'description': 'valid / expired / lapsed / cancelled / unknown'})
    status_label = fields.String(required=True)
    holder = fields.Nested(ApplicantSchema, allow_none=True, required=True)
    registration_number = fields.String(allow_none=True, required=True)
    use_until = fields.Date(allow_none=True, required=True, metadata={'description': '使用有效期'})
    specialties = fields.List(fields.Nested(CertSpecialtySchema), required=True)


class CountSchema(Base):
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class StatsSchema(Base):
    province = fields.String(allow_none=True, required=True)
    as_of = fields.Date(required=True)
    registered_by_province = fields.List(fields.Nested(CountSchema), required=True)
    registered_by_specialty = fields.List(fields.Nested(CountSchema), required=True)
    expiring = fields.List(fields.Nested(CountSchema), required=True)
    decisions_approved = fields.Integer(required=True)
    decisions_refused = fields.Integer(required=True)
