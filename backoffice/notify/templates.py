"""Message templates: Chinese text with {placeholders}, editable by administrators.

DEFAULTS declares every template key with its label, default text, whether the message needs
the recipient to act (needs-action messages go by SMS whatever the recipient's preference), and
the placeholders it may use. A stored NotificationTemplate row overrides the default text; a text
naming a placeholder the key does not offer is refused by `validate` with a Chinese message.
"""
import dataclasses
import string

from models import NotificationTemplate, now

SIGN = '【一级建造师注册】'


@dataclasses.dataclass(frozen=True)
class TemplateDefault:
    label: str
    text: str
    needs_action: bool
    placeholders: tuple


_APP = ('name', 'number', 'business', 'enterprise', 'comment', 'date')
DEFAULTS = {
    'returned': TemplateDefault('聘用企业退回', '{name}您好：您的{business}申请（{number}）被聘用企业{enterprise}退回，'
                                '原因：{comment}。请修改后重新提交。', True, _APP),
    'reported': TemplateDefault('企业已上报', '{name}您好：您的{business}申请（{number}）已由聘用企业{enterprise}上报，'
                                '等待注册机构受理。', False, _APP),
    'correction': TemplateDefault('要求补正', '{name}您好：您的{business}申请（{number}）需要补正材料：{comment}。'
                                  '请登录系统补正后提交。', True, _APP),
    'accepted': TemplateDefault('已受理', '{name}您好：您的{business}申请（{number}）已于{date}受理。', False, _APP),
    'approved': TemplateDefault('准予注册', '{name}您好：您的{business}申请（{number}）已准予，待公告后生效。',
                                False, _APP),
    'refused': TemplateDefault('不予注册', '{name}您好：您的{business}申请（{number}）未予准许，理由：{comment}。'
                               '请登录系统查看告知书。', False, _APP),
    'announced': TemplateDefault('公告生效', '{name}您好：您的{business}申请（{number}）已公告，于{date}生效。',
                                 False, _APP),
    'cancelled': TemplateDefault('注销生效', '{name}您好：您在{enterprise}的注册已于{date}注销（{number}）。',
                                 False, _APP),
    'enterprise_cancelled': TemplateDefault('注销生效（企业）', '贵单位{enterprise}：{name}的注册已于{date}注销（{number}）。',
                                            False, _APP),
    'enterprise_inbox': TemplateDefault('待企业上报', '贵单位{enterprise}：{name}提交了{business}申请（{number}），'
                                        '请登录企业版确认并上报或退回。', True, _APP),
    'lapsed': TemplateDefault('注册失效', '{name}您好：您的注册（{reg_number}）已于{date}失效，原因：{reason}。',
                              False, ('name', 'reg_number', 'date', 'reason', 'enterprise')),
    'changed': TemplateDefault('变更注册', '{name}您好：{comment}，您的注册已办理变更注册（{number}），公告后可下载载明新名称的证书。',
                               False, _APP),
    'banned': TemplateDefault('限制申请', '{name}您好：因{reason}，自{date}起至{until}不得申请注册。', False,
                              ('name', 'reason', 'date', 'until', 'number')),
    'expiry': TemplateDefault('专业到期提醒', '{name}您好：您注册的{specialty}专业将于{valid_until}到期（还有{days}天），'
                              '请及时申请延续注册。', False, ('name', 'specialty', 'valid_until', 'days', 'reg_number')),
    'age': TemplateDefault('年满65周岁提醒', '{name}您好：您将于{birthday}年满65周岁，届时注册将失效。',
                           False, ('name', 'birthday', 'reg_number')),
    'enterprise_digest': TemplateDefault('企业到期提醒汇总', '贵单位{enterprise}有{count}名注册人员需关注：{staff}。',
                                         False, ('enterprise', 'count', 'staff')),
}

PLACEHOLDER_LABELS = {
    'name': '姓名', 'number': '申请编号', 'business': '业务类型', 'enterprise': '企业名称', 'comment': '原因或意见',
    'date': '日期', 'reg_number': '注册编号', 'reason': '失效原因', 'specialty': '专业', 'valid_until': '有效期至',
    'days': '剩余天数', 'until': '截止日期', 'birthday': '65周岁生日', 'count': '人数', 'staff': '人员清单',
}


class TemplateError(Exception):
    def __init__(self, message, field='text'):
        super().__init__(message)
        self.message, self.field = message, field


def placeholders_in(text):
    """The placeholder names in text, or TemplateError for unbalanced braces or a format spec."""
    try:
        parsed = list(string.Formatter().parse(text or ''))
    except ValueError:
        raise TemplateError('模板格式错误：花括号“{}”不成对。占位符写作 {姓名对应的英文名}，如 {name}') from None
    names = []
    for _literal, field, spec, conv in parsed:
        if field is None:
            continue
        if field == '' or not field.isidentifier() or spec or conv:
            raise TemplateError(f'模板中的占位符“{{{field}}}”格式不正确，占位符只能是下方列出的名称')
        names.append(field)
    return names


def validate(key, text):
    """Refuse an unknown key, an empty text or a placeholder the key does not offer (TemplateError)."""
    spec = DEFAULTS.get(key)
    if spec is None:
        raise TemplateError('未知的模板类型', 'key')
    if not (text or '').strip():
        raise TemplateError('请填写模板内容')
    unknown = [n for n in placeholders_in(text) if n not in spec.placeholders]
    if unknown:
        allowed = '、'.join(f'{{{p}}}（{PLACEHOLDER_LABELS.get(p, p)}）' for p in spec.placeholders)
        raise TemplateError(f'模板含有无法识别的占位符：{"、".join("{" + u + "}" for u in unknown)}。'
                            f'此模板可用的占位符：{allowed}')
    return text.strip()


def help_text(key):
    spec = DEFAULTS.get(key)
    if spec is None:
        return ''
    return '可用的占位符：' + '、'.join(f'{{{p}}}（{PLACEHOLDER_LABELS.get(p, p)}）' for p in spec.placeholders)


def ensure_defaults():
    """Insert the default row of every key that has none (administrators then edit them)."""
    have = {t.key for t in NotificationTemplate.select(NotificationTemplate.key)}
    rows = [{'key': k, 'label': d.label, 'text': d.text, 'needs_action': d.needs_action, 'updated_at': now()}
            for k, d in DEFAULTS.items() if k not in have]
    if rows:
        NotificationTemplate.insert_many(rows).execute()


def load():
    """{key: (text, needs_action)}: the stored text where there is one, else the default."""
    out = {k: (d.text, d.needs_action) for k, d in DEFAULTS.items()}
    for row in NotificationTemplate.select():
        if row.key in out:
            out[row.key] = (row.text, out[row.key][1])
    return out


def render(text, values):
    """Fill the placeholders; a value missing from `values` renders empty, never an error."""
    class _Blank(dict):
        def __missing__(self, key):
            return ''
    try:
        return string.Formatter().vformat(text, (), _Blank({k: '' if v is None else v for k, v in values.items()}))
    except (ValueError, KeyError, IndexError, AttributeError):
        return text
