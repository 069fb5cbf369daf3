"""Identity checks for applicants through one provider interface.

The real system hands identity to the national government-service platform, whose app does
face recognition ("实人认证"). This system's built-in provider (BuiltinSmsProvider) checks:
  1. the ID number is valid (GB 11643, python-stdnum);
  2. name, ID number and 资格证书管理号 belong together in the qualification database (资格库):
     the 管理号 names one qualification record whose holder has that ID number (or whose linked
     person record has it, FAQ 8) and that name (as in the 资格库 or the person record). Name and ID
     number are not secret (they appear, partly, on public pages and announcements); the 管理号 is
     printed on the holder's paper certificate and published nowhere (domain §14);
  3. the person controls the mobile number, by a 6-digit SMS code.
It does NOT prove that the person at the keyboard is the holder of that ID card (whoever holds the
paper certificate passes), and it does not check that the mobile number is registered to the holder.
A production provider would add the platform's face recognition (liveness + match against the ID
photo) or a bank-card / carrier three-element check before the account is opened.

It is not an oracle: an unknown ID number, a name that does not match and a wrong 管理号 give one
and the same message, after the same queries. Attempts are limited per client (RATELIMIT_SIGNUP, on
the view) and per ID number (RATELIMIT_SIGNUP_ID, here), every attempt counted.
"""
import re

from models import Person, Qualification

from backoffice import limits
from backoffice.intake import sms
from backoffice.validators import ValidationError, validate_id_number, validate_mobile

NO_MATCH = ('身份核验未通过：姓名、身份证号和资格证书管理号不能同时与资格库对应。请对照纸质资格证书逐项核对后重新填写；'
            '如确认无误，请联系考试管理机构核实资格库信息。')


class IdentityError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


class IdentityProvider:
    name = ''
    description = ''
    checks = ()               # what the provider verifies (shown on the sign-up page)
    does_not_check = ()       # and what it does not

    def start(self, name, id_number, cert_number, mobile, client=None):
        raise NotImplementedError

    def confirm(self, name, id_number, cert_number, mobile, code):
        raise NotImplementedError


class BuiltinSmsProvider(IdentityProvider):
    name = 'builtin-sms'
    description = ('本系统内置的身份核验：姓名、身份证号和资格证书管理号须与资格库中的同一条资格证书记录一致，'
                   '并通过发送到手机的短信验证码确认手机号。生产环境应接入国家政务服务平台的人脸识别（实人认证）。')
    checks = (
        '身份证号码符合国家标准（长度、出生日期、地区码、校验位）；',
        '姓名、身份证号与资格证书管理号属于资格库中的同一条资格证书记录（管理号印在纸质资格证书上，任何公开页面都不显示）；',
        '您能收到发往所填手机号码的短信验证码。',
    )
    does_not_check = (
        '不核验操作人就是身份证持有人本人（持有纸质资格证书的人即可通过）；',
        '不核验手机号码是否登记在本人名下。',
    )

    def _fields(self, name, id_number, cert_number, mobile):
        """Checks a client can make offline (format only): field-level messages, no database."""
        return (_text(name, 'name', '姓名', 50), _checked(validate_id_number, id_number, 'id_number'),
                _text(cert_number, 'cert_number', '资格证书管理号', 30, missing='请填写资格证书管理号（见纸质资格证书）'),
                _checked(validate_mobile, mobile, 'mobile'))

    def _match(self, name, number, cert_number):
        """One answer for every mismatch, after the same two indexed queries."""
        limits.check('RATELIMIT_SIGNUP_ID', number)
        qual = Qualification.get_or_none(Qualification.cert_number == cert_number)
        person = Person.get_or_none(Person.id_number == number)
        names = set()
        holder = False
        if qual is not None:
            names.add(qual.holder_name)
            holder = qual.holder_id_number == number
            if person is not None and qual.person_id == person.id:
                holder = True
        if person is not None:
            names.add(person.name)
        if not (holder and name in names):
            raise IdentityError(NO_MATCH, 'form')

    def start(self, name, id_number, cert_number, mobile, client=None):
        name, number, cert_number, mobile = self._fields(name, id_number, cert_number, mobile)
        self._match(name, number, cert_number)
        try:
            sms.send_code(mobile, 'signup', client=client)
        except sms.SmsError as exc:
            raise IdentityError(exc.message, exc.field or 'code') from None
        return name, number, mobile

    def confirm(self, name, id_number, cert_number, mobile, code):
        name, number, cert_number, mobile = self._fields(name, id_number, cert_number, mobile)
        self._match(name, number, cert_number)
        try:
            sms.verify_code(mobile, 'signup', code)
        except sms.SmsError as exc:
            raise IdentityError(exc.message, 'code') from None
        return name, number, mobile

    # --- 实名认证 of an enterprise (issue 12): the legal representative and the contact mobile ---
    enterprise_checks = (
        '统一社会信用代码符合国家标准（python-stdnum 校验位）；',
        '法定代表人的身份证号码符合国家标准；本系统已登记该企业的，法定代表人姓名须与登记信息一致；',
        '您能收到发往联系手机的短信验证码；',
        '上传的营业执照须为真实的 JPG、PNG 图片或 PDF 文件，由注册机构人工审核后开通账号。',
    )

    def _enterprise_fields(self, uscc_code, legal_rep, legal_rep_id_number, mobile, known_check=True):
        from models import Enterprise
        from backoffice.validators import validate_uscc
        code = _checked(validate_uscc, uscc_code, 'uscc')
        legal_rep = _text(legal_rep, 'legal_rep', '法定代表人姓名', 50)
        number = _checked(validate_id_number, legal_rep_id_number, 'legal_rep_id_number', prefix='法定代表人')
        mobile = _checked(validate_mobile, mobile, 'mobile')
        known = Enterprise.get_or_none(Enterprise.uscc == code)
        if known_check and known is not None and known.legal_rep and known.legal_rep != legal_rep:
            raise IdentityError('法定代表人与本系统登记的该企业信息不一致，请核对营业执照上的法定代表人', 'legal_rep')
        return code, legal_rep, number, mobile

    def enterprise_start(self, uscc_code, legal_rep, legal_rep_id_number, mobile, client=None, known_check=True):
        """Check the fields, then send an SMS code to the contact mobile (IdentityError at a field).
        known_check=False: a change of the enterprise's own data (its legal representative may change)."""
        fields = self._enterprise_fields(uscc_code, legal_rep, legal_rep_id_number, mobile, known_check)
        try:
            sms.send_code(fields[3], 'enterprise_signup', client=client)
        except sms.SmsError as exc:
            raise IdentityError(exc.message, 'mobile' if exc.field == 'mobile' else 'code') from None
        return fields

    def enterprise_confirm(self, uscc_code, legal_rep, legal_rep_id_number, mobile, code, known_check=True):
        fields = self._enterprise_fields(uscc_code, legal_rep, legal_rep_id_number, mobile, known_check)
        try:
            sms.verify_code(fields[3], 'enterprise_signup', code)
        except sms.SmsError as exc:
            raise IdentityError(exc.message, 'code') from None
        return fields


def _checked(validate, value, field, prefix=''):
    """A validators.* function's result, or its Chinese message as an IdentityError at `field`."""
    try:
        return validate(value)
    except ValidationError as exc:
        raise IdentityError(prefix + exc.message, field) from None


def _text(value, field, label, max_length, missing=None):
    """A required text without whitespace, at most max_length characters."""
    value = re.sub(r'\s+', '', value or '')
    if not value:
        raise IdentityError(missing or f'请填写{label}', field)
    if len(value) > max_length:
        raise IdentityError(f'{label}过长', field)
    return value


def provider():
    return BuiltinSmsProvider()
