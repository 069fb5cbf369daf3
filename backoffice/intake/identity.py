"""Identity checks for applicants through one provider interface.

The real system hands identity to the national government-service platform, whose app does
face recognition ("实人认证"). This system's built-in provider (BuiltinSmsProvider) checks:
  1. the name and ID number match the qualification database (资格库) or an existing person
     record (FAQ 8), and the ID number is valid (GB 11643, python-stdnum);
  2. the person controls the mobile number, by a 6-digit SMS code.
It does NOT prove that the person at the keyboard is the holder of that ID card: a production
provider would add the platform's face recognition (liveness + match against the ID photo)
or a bank-card / carrier three-element check before the account is opened.
"""
from models import Person, Qualification

from backoffice.intake import sms
from backoffice.validators import ValidationError, validate_id_number, validate_mobile


class IdentityError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


class IdentityProvider:
    name = ''
    description = ''

    def start(self, name, id_number, mobile):
        raise NotImplementedError

    def confirm(self, name, id_number, mobile, code):
        raise NotImplementedError


class BuiltinSmsProvider(IdentityProvider):
    name = 'builtin-sms'
    description = ('本系统内置的身份核验：核对姓名、身份证号与资格库（或已有人员记录）一致，'
                   '并通过发送到本人手机的短信验证码确认手机号。生产环境应接入国家政务服务平台的人脸识别（实人认证）。')

    def _match(self, name, id_number, mobile):
        name = (name or '').strip()
        if not name:
            raise IdentityError('请填写姓名', 'name')
        try:
            number = validate_id_number(id_number)
        except ValidationError as exc:
            raise IdentityError(exc.message, 'id_number') from None
        try:
            mobile = validate_mobile(mobile)
        except ValidationError as exc:
            raise IdentityError(exc.message, 'mobile') from None
        person = Person.get_or_none(Person.id_number == number)
        quals = list(Qualification.select().where(Qualification.holder_id_number == number))
        if person is None and not quals:
            raise IdentityError('资格库中没有该身份证号的资格记录，请核对身份证号；如资格库信息有误，'
                                '请联系考试管理机构', 'id_number')
        names = {q.holder_name for q in quals} | ({person.name} if person else set())
        if name not in names:
            raise IdentityError('姓名与资格库中登记的姓名不一致。如您的姓名或身份证号已变更，'
                                '请在注册账号后办理“信息修改或材料补充”', 'name')
        return name, number, mobile

    def start(self, name, id_number, mobile):
        name, number, mobile = self._match(name, id_number, mobile)
        try:
            sms.send_code(mobile, 'signup')
        except sms.SmsError as exc:
            raise IdentityError(exc.message, 'code') from None
        return name, number, mobile

    def confirm(self, name, id_number, mobile, code):
        name, number, mobile = self._match(name, id_number, mobile)
        try:
            sms.verify_code(mobile, 'signup', code)
        except sms.SmsError as exc:
            raise IdentityError(exc.message, 'code') from None
        return name, number, mobile


def provider():
    return BuiltinSmsProvider()
