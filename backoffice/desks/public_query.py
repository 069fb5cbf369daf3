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
from backoffice.validators import (ValidationError, mask_id_number, normalize_id_number, validate_id_number,
                         validate_registration_number)

MAX_RESULTS = 50


class QueryError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def search(name='', id_number='', reg_number='', enterprise=''):
    """Registered persons matching one of: name + ID number, 注册编号, or the exact enterprise name."""
    name, id_number = (name or '').strip(), (id_number or '').strip()
    reg_number, enterprise = (reg_number or '').strip(), (enterprise or '').strip()
    query = (Registration.select(Registration, Person, Enterprise).join(Person)
             .switch(Registration).join(Enterprise).where(Registration.state == 'active'))
    if reg_number:
        try:
            number = validate_registration_number(reg_number)
        except ValidationError as exc:
            raise QueryError(exc.message, 'reg_number') from None
        query = query.where(Registration.number == number)
    elif id_number or name:
        if not (id_number and name):
            raise QueryError('按人员查询须同时填写姓名和身份证号', 'name' if not name else 'id_number')
        try:
            number = validate_id_number(normalize_id_number(id_number))
        except ValidationError as exc:
            raise QueryError(exc.message, 'id_number') from None
        limits.check('RATELIMIT_PUBLIC_SEARCH_TARGET', f'{name}|{mask_id_number(number)}')
        query = query.where((Person.id_number == number) & (Person.name == name))
    elif enterprise:
        query = query.where(Enterprise.name == enterprise)
    else:
        raise QueryError('请填写查询条件：姓名和身份证号、注册编号或企业全称')
    rows = []
    today = datetime.date.today()
    for reg in query.limit(MAX_RESULTS):
        specs = (RegisteredSpecialty.select(RegisteredSpecialty, Specialty).join(Specialty)
                 .where((RegisteredSpecialty.registration == reg) & (RegisteredSpecialty.state == 'active'))
                 .order_by(Specialty.sort))
        rows.append({'name': reg.person.name, 'id_number': mask_id_number(reg.person.id_number),
                     'category': '一级注册建造师', 'number': reg.number, 'enterprise': reg.enterprise.name,
                     'specialties': [(s.specialty.name, s.valid_until, s.valid_until >= today) for s in specs]})
    return rows
