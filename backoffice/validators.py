"""Number validators (python-stdnum) with Chinese messages, and masking helpers."""
import datetime
import functools
import re

from stdnum import exceptions as sx
from stdnum.cn import ric, uscc


class ValidationError(ValueError):
    """A domain validation failure; str() is the Chinese message for the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def _stdnum_message(exc, what):
    if isinstance(exc, sx.InvalidLength):
        return f'{what}长度不正确'
    if isinstance(exc, sx.InvalidFormat):
        return f'{what}格式不正确，含有不允许的字符'
    if isinstance(exc, sx.InvalidChecksum):
        return f'{what}校验位不正确，请核对后重新输入'
    if isinstance(exc, sx.InvalidComponent):
        return f'{what}中的出生日期或地区码无效'
    return f'{what}无效'


def normalize_id_number(value):
    """Compact form with an upper-case X; does not validate."""
    return re.sub(r'[\s-]+', '', value or '').upper()


def validate_id_number(value):
    """Return the normalised 18-digit 公民身份号码 or raise ValidationError."""
    number = normalize_id_number(value)
    if not number:
        raise ValidationError('请填写身份证号码')
    if len(number) != 18:
        raise ValidationError('身份证号码应为18位')
    if not re.match(r'^\d{17}[\dX]$', number):
        raise ValidationError('身份证号码格式不正确，含有不允许的字符')
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(_stdnum_message(sx.InvalidChecksum(), '身份证号码'))
    try:
        birth = ric.get_birth_date(number)
    except sx.ValidationError as exc:
        raise ValidationError(_stdnum_message(exc, '身份证号码')) from None
    if not _region_valid(number[:6]):
        raise ValidationError(_stdnum_message(sx.InvalidComponent(), '身份证号码'))
    if birth > datetime.date.today():
        raise ValidationError('身份证号码中的出生日期晚于今天')
    return number


@functools.lru_cache(maxsize=100_000)
def _region_valid(region):
    """The region code exists in some edition of GB/T 2260 (domain §14). A number issued in the
    1980s keeps the county code of that time even when the county was re-coded later, so the
    birth year is not held against the code (python-stdnum's own check would be)."""
    from stdnum import numdb
    info = {k: v for _part, props in numdb.get('cn/loc').info(region) for k, v in props.items()}
    return bool(info.get('county'))


def id_number_facts(number):
    """(birth_date, gender) derived from a valid ID number (GB 11643: odd sequence = male)."""
    number = normalize_id_number(number)
    return ric.get_birth_date(number), ('男' if int(number[16]) % 2 else '女')


def validate_uscc(value):
    """Return the normalised 统一社会信用代码 or raise ValidationError."""
    code = re.sub(r'[\s-]+', '', value or '').upper()
    if not code:
        raise ValidationError('请填写统一社会信用代码')
    try:
        return uscc.validate(code)
    except sx.ValidationError as exc:
        raise ValidationError(_stdnum_message(exc, '统一社会信用代码')) from None


MOBILE_RE = re.compile(r'^1[3-9]\d{9}$')


def validate_mobile(value):
    value = (value or '').strip()
    if not MOBILE_RE.match(value):
        raise ValidationError('手机号码应为11位，以1开头')
    return value


REG_NUMBER_RE = re.compile(r'^[\u4e00-\u9fff]1\d{11}$')


def validate_registration_number(value):
    """注册编号: one Chinese character + 12 digits, the second being 1 (一级)."""
    value = (value or '').strip()
    value = re.sub(r'\(\d{2}\)$', '', value)
    if not REG_NUMBER_RE.match(value):
        raise ValidationError('注册编号应为1个汉字加12位数字，如 京111050700001')
    return value


# One masking rule for every page, PDF and export that shows an ID number masked (domain §14).
# The first 4 characters (province and city) and the last 2 (the last sequence digit and the check
# digit) stay; the county code, the whole birth date and the first sequence digits are hidden. An
# older rule kept 6 + 4, which left exactly the birth date hidden: ~1,500 plausible dates, which a
# search by name + ID confirmed in seconds. Now county (2 digits) x birth date (~18,000 working-age
# dates) x 2 sequence digits are hidden: ~10^8 combinations, still 10^6-10^7 once the visible check
# digit and the city's few county codes are used; at the public search's rate limit that is years.
ID_MASK_HEAD = 4
ID_MASK_TAIL = 2


def mask_id_number(number):
    """'110105198506150031' -> '1101************31'. Anything too short to mask is all stars."""
    number = number or ''
    if len(number) <= ID_MASK_HEAD + ID_MASK_TAIL + 6:
        return '*' * len(number)
    return number[:ID_MASK_HEAD] + '*' * (len(number) - ID_MASK_HEAD - ID_MASK_TAIL) + number[-ID_MASK_TAIL:]


def mask_mobile(mobile):
    """'13800138000' -> '138****8000' (carrier prefix and last 4, the usual Chinese form). No page
    or search confirms a mobile number, so the 10^4 hidden combinations are not a lookup key."""
    mobile = mobile or ''
    return mobile[:3] + '****' + mobile[-4:] if len(mobile) == 11 else '*' * len(mobile)


def age_on(birth_date, day):
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


DATE_MESSAGE = '日期无效，请按“年-月-日”填写'


def form_date(value, field=None, errors=None):
    """A date typed in a form ('YYYY-MM-DD'); None when empty. When invalid: the Chinese message goes
    into errors[field] (and None is returned), or ValidationError is raised when no errors dict is given."""
    value = (value or '').strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        if errors is None:
            raise ValidationError(DATE_MESSAGE, field) from None
        errors[field] = DATE_MESSAGE
        return None
