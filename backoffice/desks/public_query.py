"""The public registry query (全国建筑市场监管公共服务平台 style): exact matches on indexed columns.

A search by name + ID number confirms or denies a guessed ID number, so (issue 9):
  - every search request counts against RATELIMIT_PUBLIC_SEARCH per client (the view's decorator),
    hit or miss, valid or not;
  - a well-formed name + ID search also counts against RATELIMIT_PUBLIC_SEARCH_TARGET, keyed by the
    name and the masked ID number: guesses at one person's number share that count whatever client
    (or how many clients) sends them;
  - results show the ID number only through validators.mask_id_number, whose hidden part is far
    larger than either limit lets a client try; the birth date is never shown.
Offline-computable checks (length, check digit, region, date) answer at once; they reveal nothing a
client could not compute itself.
"""
import datetime

from models import Enterprise, Person, RegisteredSpecialty, Registration, Specialty

from backoffice import limits
from backoffice.db import Prepared
from backoffice.validators import (ValidationError, mask_id_number, normalize_id_number, validate_id_number,
                         validate_registration_number)

MAX_RESULTS = 50


class QueryError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def _registrations(condition):
    """The active registrations matching `condition(…)`: (registration id, 注册编号, name, ID number,
    enterprise name) rows, composed once (db.Prepared)."""
    return (Registration.select(Registration.id, Registration.number, Person.name, Person.id_number,
                                Enterprise.name)
            .join(Person).switch(Registration).join(Enterprise)
            .where((Registration.state == 'active') & condition).order_by(Registration.id).limit(MAX_RESULTS))


_BY_NUMBER = Prepared(lambda number: _registrations(Registration.number == number))
_BY_PERSON = Prepared(lambda number, name: _registrations((Person.id_number == number) & (Person.name == name)),
                      arity=2)
_BY_ENTERPRISE = Prepared(lambda name: _registrations(Enterprise.name == name))


def _specialties(registration_ids):
    return (RegisteredSpecialty.select(RegisteredSpecialty.registration, Specialty.name, RegisteredSpecialty.valid_until)
            .join(Specialty)
            .where(RegisteredSpecialty.registration.in_(registration_ids) & (RegisteredSpecialty.state == 'active'))
            .order_by(RegisteredSpecialty.registration, Specialty.sort))


# one registration (a search by person or by 注册编号): composed once
_SPECIALTIES_OF_ONE = Prepared(lambda reg_id: _specialties([reg_id]))


def search(name='', id_number='', reg_number='', enterprise=''):
    """Registered persons matching one of: name + ID number, 注册编号, or the exact enterprise name."""
    name, id_number = (name or '').strip(), (id_number or '').strip()
    reg_number, enterprise = (reg_number or '').strip(), (enterprise or '').strip()
    if reg_number:
        try:
            number = validate_registration_number(reg_number)
        except ValidationError as exc:
            raise QueryError(exc.message, 'reg_number') from None
        found = _BY_NUMBER.rows(number)
    elif id_number or name:
        if not (id_number and name):
            raise QueryError('按人员查询须同时填写姓名和身份证号', 'name' if not name else 'id_number')
        try:
            number = validate_id_number(normalize_id_number(id_number))
        except ValidationError as exc:
            raise QueryError(exc.message, 'id_number') from None
        limits.check('RATELIMIT_PUBLIC_SEARCH_TARGET', f'{name}|{mask_id_number(number)}')
        found = _BY_PERSON.rows(number, name)
    elif enterprise:
        found = _BY_ENTERPRISE.rows(enterprise)
    else:
        raise QueryError('请填写查询条件：姓名和身份证号、注册编号或企业全称')
    if not found:
        return []
    ids = [row[0] for row in found]
    specs = _SPECIALTIES_OF_ONE.rows(ids[0]) if len(ids) == 1 else _specialties(ids).tuples()
    by_reg = {}
    as_day = RegisteredSpecialty.valid_until.python_value
    today = datetime.date.today()
    for reg_id, spec_name, until in specs:
        until = as_day(until)
        by_reg.setdefault(reg_id, []).append((spec_name, until, until >= today))
    return [{'name': person_name, 'id_number': mask_id_number(person_id_number), 'category': '一级注册建造师',
             'number': number, 'enterprise': enterprise_name, 'specialties': by_reg.get(reg_id, [])}
            for reg_id, number, person_name, person_id_number, enterprise_name in found]
