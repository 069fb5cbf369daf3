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
    assert mask_id_number('11010519491231002X') == '1101************2X'
    assert mask_id_number('110105491231002') == '1101*********02'       # a 15-digit number of old
    assert mask_id_number('') == '' and mask_id_number(None) == '' and mask_id_number('12345') == '*****'
    assert mask_mobile('13800138000') == '138****8000'


def test_mask_hides_the_whole_birth_date_and_more():
    """The hidden part covers the county code, the birth date and the first sequence digits: no
    birth date (the old 6 + 4 rule hid exactly those 8 digits) can be read or narrowed from it."""
    number = '11010519491231002X'
    masked = mask_id_number(number)
    assert len(masked) == 18
    hidden = [i for i, c in enumerate(masked) if c == '*']
    assert set(range(4, 6)) | set(range(6, 14)) | set(range(14, 16)) <= set(hidden)   # county, birth, sequence
    assert '19491231' not in masked and '1231' not in masked and '1949' not in masked


def test_region_code_of_any_gb2260_edition_is_valid_whatever_the_birth_year():
    """Domain §14: 440524 (潮阳县, 1983–1993) on a number with an 1880 birth date is a valid number."""
    from backoffice.validators import ValidationError, validate_id_number
    assert validate_id_number('440524188001010014') == '440524188001010014'
    body = '99999919800101001'                       # a code that never existed
    from stdnum.cn import ric
    import pytest
    with pytest.raises(ValidationError):
        validate_id_number(body + ric.calc_check_digit(body + '0'))


def test_the_age_rule_then_refuses_in_the_words_of_article_15(users, password_hash):
    import pytest
    from backoffice.workflow.states import WorkflowError
    from backoffice.workflow.transitions import perform
    from models import Application, Person
    from tests.conftest import actor_for, build_application
    app = build_application('initial')
    Person.update(id_number='440524188001010014', birth_date=datetime.date(1880, 1, 1)).where(
        Person.id == app.person_id).execute()
    app = Application.get_by_id(app.id)
    with pytest.raises(WorkflowError) as err:
        perform(app, 'submit', actor_for('applicant', app, users, password_hash))
    assert any('第十五条第（十）项' in m and '年龄超过65周岁' in m for m in err.value.messages)
