"""Number validators (domain §7) against known valid and invalid numbers."""
import datetime

import pytest
from stdnum.cn import ric

from backoffice.validators import (ValidationError, id_number_facts, mask_id_number, mask_mobile,
                                   validate_id_number, validate_mobile, validate_registration_number,
                                   validate_uscc)


@pytest.mark.parametrize('value,expected', [
    ('11010519491231002X', '11010519491231002X'),
    ('11010519491231002x', '11010519491231002X'),
    (' 110105 19491231 002X ', '11010519491231002X'),
])
def test_valid_id_numbers(value, expected):
    assert validate_id_number(value) == expected


@pytest.mark.parametrize('value,message', [
    ('', '请填写身份证号码'),
    ('11010519491231002', '身份证号码应为18位'),
    ('110105194912310021', '身份证号码校验位不正确，请核对后重新输入'),
    ('11010519491231002A', '身份证号码格式不正确，含有不允许的字符'),
    ('99010119900101123' + ric.calc_check_digit('99010119900101123' + '0'), '身份证号码中的出生日期或地区码无效'),
])
def test_invalid_id_numbers(value, message):
    with pytest.raises(ValidationError) as err:
        validate_id_number(value)
    assert err.value.message == message


def test_invalid_birth_date_in_id_number():
    from stdnum.cn import ric
    body = '11010519491331002'                      # month 13
    number = body + ric.calc_check_digit(body + '0')
    with pytest.raises(ValidationError) as err:
        validate_id_number(number)
    assert err.value.message == '身份证号码中的出生日期或地区码无效'


def test_birth_date_and_gender_come_from_the_number():
    assert id_number_facts('11010519491231002X') == (datetime.date(1949, 12, 31), '女')
    from stdnum.cn import ric
    body = '11010519800101001'                       # odd sequence: male
    assert id_number_facts(body + ric.calc_check_digit(body + '0')) == (datetime.date(1980, 1, 1), '男')


def test_valid_uscc():
    assert validate_uscc('91110000600037341L') == '91110000600037341L'
    assert validate_uscc('91110000600037341l') == '91110000600037341L'


@pytest.mark.parametrize('value,message', [
    ('', '请填写统一社会信用代码'),
    ('91110000600037341', '统一社会信用代码长度不正确'),
    ('91110000600037341A', '统一社会信用代码校验位不正确，请核对后重新输入'),
    ('9111000060003734IL', '统一社会信用代码格式不正确，含有不允许的字符'),
])
def test_invalid_uscc(value, message):
    with pytest.raises(ValidationError) as err:
        validate_uscc(value)
    assert err.value.message == message


def test_registration_number_format():
    assert validate_registration_number('京111050700001') == '京111050700001'
    assert validate_registration_number('京111050700001(02)') == '京111050700001'
    for bad in ('京211050700001', 'J111050700001', '京11105070000', ''):
        with pytest.raises(ValidationError):
            validate_registration_number(bad)


def test_mobile_and_masks():
    assert validate_mobile('13800138000') == '13800138000'
    with pytest.raises(ValidationError):
        validate_mobile('1380013800')
    assert mask_id_number('11010519491231002X') == '110105********002X'
    assert mask_mobile('13800138000') == '138****8000'
