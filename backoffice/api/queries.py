"""What the API reads: registered persons, registrations, enterprises, announcements, application
status, certificate status, statistics. Each applies the client's province / enterprise scope;
ID numbers are masked unless the client holds idnumber:full. Lists are keyset-paginated on the id."""
import collections
import datetime

from peewee import fn

from models import (Application, Certificate, Enterprise, Notice, NoticeItem, Person, Province, RegisteredSpecialty,
                    Registration, Specialty)

from backoffice.api import readlog, scopes
from backoffice.api.scopes import ApiError
from backoffice.validators import ValidationError, mask_id_number, validate_id_number
from backoffice.workflow.states import BUSINESS_TYPES, LAPSE_REASONS, REGISTRATION_STATES, SPECIALTY_STATES
from backoffice.workflow.states import STATES as APPLICATION_STATES

_CHUNK = 900


def chunks(values):
    values = list(values)
    for k in range(0, len(values), _CHUNK):
        yield values[k:k + _CHUNK]


def person_id_number(client, number):
    """The ID number as this client may see it: whole only with idnumber:full."""
    return number if scopes.full_id_numbers(client) else mask_id_number(number)


_id = person_id_number


def registration_scope(client, query):
    """Limit a Registration query to what the client may see (province, own enterprise)."""
    names = client.scope_set
    if 'registry:read' in names:
        if client.province_id:
            query = query.where(Registration.province == client.province_id)
        return query
    if 'enterprise:self' in names and client.enterprise_id:
        return query.where(Registration.enterprise == client.enterprise_id)
    raise ApiError(403, '该客户端没有读取注册人员的权限', error='insufficient_scope')


def serialize_registrations(client, regs):
    """Dicts for Registration rows (person, enterprise and province loaded with them)."""
    ids = [r.id for r in regs]
    specs = collections.defaultdict(list)
    names = {s.id: s.name for s in Specialty.select(Specialty.id, Specialty.name)}
    for part in chunks(ids):
        for rs in (RegisteredSpecialty.select().where(RegisteredSpecialty.registration.in_(part))
                   .order_by(RegisteredSpecialty.registration, RegisteredSpecialty.specialty)):
            specs[rs.registration_id].append({
                'specialty': names.get(rs.specialty_id, ''), 'valid_from': rs.valid_from,
                'valid_until': rs.valid_until, 'state': rs.state, 'state_label': SPECIALTY_STATES.get(rs.state, rs.state)})
    out = []
    for r in regs:
        out.append({
            'id': r.id, 'registration_number': r.number, 'seal_check': r.seal_check,
            'state': r.state, 'state_label': REGISTRATION_STATES.get(r.state, r.state),
            'registered_on': r.registered_on, 'cancelled_on': r.cancelled_on, 'lapsed_on': r.lapsed_on,
            'end_reason': r.end_reason or None, 'end_reason_label': LAPSE_REASONS.get(r.end_reason) if r.end_reason else None,
            'province': {'code': r.province.code, 'name': r.province.name},
            'enterprise': {'uscc': r.enterprise.uscc, 'name': r.enterprise.name},
            'person': {'name': r.person.name, 'id_number': _id(client, r.person.id_number), 'gender': r.person.gender},
            'specialties': specs.get(r.id, []),
        })
    return out


def registration_select():
    return (Registration.select(Registration, Person, Enterprise, Province)
            .join(Person, on=(Registration.person == Person.id))
            .switch(Registration).join(Enterprise, on=(Registration.enterprise == Enterprise.id))
            .switch(Registration).join(Province, on=(Registration.province == Province.id)))


def find_person(client, id_number=None, reg_number=None):
    """The person with their registrations in the client's scope; logged. 404 when none is visible."""
    if bool(id_number) == bool(reg_number):
        raise ApiError(400, '请提供身份证号（id_number）或注册编号（reg_number）中的一项',
                       errors={'id_number': '二者须且只能提供一项'})
    if id_number:
        try:
            number = validate_id_number(id_number)
        except ValidationError as exc:
            raise ApiError(422, exc.message, errors={'id_number': exc.message}) from None
        person = Person.get_or_none(Person.id_number == number)
        logged = mask_id_number(number)
    else:
        number = reg_number.strip()[:13]
        reg = Registration.get_or_none(Registration.number == number)
        person = Person.get_or_none(Person.id == reg.person_id) if reg else None
        logged = number
    regs = []
    if person is not None:
        regs = list(registration_scope(client, registration_select().where(Registration.person == person.id))
                    .order_by(Registration.id.desc()))
    readlog.record(client, 'person', [(person.id, logged)] if regs else [], query=logged)
    if not regs:
        raise ApiError(404, '未找到该注册人员')
    return {'name': person.name, 'id_number': _id(client, person.id_number), 'gender': person.gender,
            'registrations': serialize_registrations(client, regs)}


def list_registrations(client, after=0, limit=100, state=None):
    query = registration_scope(client, registration_select().where(Registration.id > after))
    if state:
        query = query.where(Registration.state == state)
    regs = list(query.order_by(Registration.id).limit(limit))
    items = serialize_registrations(client, regs)
    readlog.record(client, 'registration_list', [(r.person_id, r.number) for r in regs])
    return {'items': items, 'next_after': regs[-1].id if len(regs) == limit else None}


def _enterprise_dict(e):
    return {'uscc': e.uscc, 'name': e.name, 'province': {'code': e.province.code, 'name': e.province.name},
            'city': e.city, 'status': e.status, 'verified': bool(e.verified)}


def _enterprise_scope(client, query):
    names = client.scope_set
    if 'registry:read' in names:
        return query.where(Enterprise.province == client.province_id) if client.province_id else query
    if 'enterprise:self' in names and client.enterprise_id:
        return query.where(Enterprise.id == client.enterprise_id)
    raise ApiError(403, '该客户端没有读取企业信息的权限', error='insufficient_scope')


def list_enterprises(client, after=0, limit=100):
    query = _enterprise_scope(client, Enterprise.select(Enterprise, Province).join(Province)
                              .where(Enterprise.id > after))
    rows = list(query.order_by(Enterprise.id).limit(limit))
    return {'items': [dict(_enterprise_dict(e), id=e.id) for e in rows],
            'next_after': rows[-1].id if len(rows) == limit else None}


def get_enterprise(client, uscc):
    e = _enterprise_scope(client, Enterprise.select(Enterprise, Province).join(Province)
                          .where(Enterprise.uscc == (uscc or '').strip().upper())).first()
    if e is None:
        raise ApiError(404, '未找到该企业')
    staff = Registration.select().where((Registration.enterprise == e.id) & (Registration.state == 'active')).count()
    return dict(_enterprise_dict(e), id=e.id, registered_staff=staff)


def list_announcements(after=0, limit=100):
    rows = list(Notice.select().where((Notice.state == 'published') & (Notice.id > after))
                .order_by(Notice.id).limit(limit))
    counts = dict(NoticeItem.select(NoticeItem.notice, fn.COUNT(NoticeItem.id)).where(
        NoticeItem.notice.in_([n.id for n in rows])).group_by(NoticeItem.notice).tuples()) if rows else {}
    return {'items': [{'id': n.id, 'number': n.number, 'title': n.title, 'published_at': n.published_at,
                       'item_count': counts.get(n.id, 0)} for n in rows],
            'next_after': rows[-1].id if len(rows) == limit else None}


def announcement_items(notice_id, after=0, limit=100):
    """A published announcement's items, as the public page shows them (ID numbers masked)."""
    from backoffice.workflow.rules import chosen_specialties
    notice = Notice.get_or_none((Notice.id == notice_id) & (Notice.state == 'published'))
    if notice is None:
        raise ApiError(404, '公告不存在或尚未发布')
    query = (NoticeItem.select(NoticeItem, Application, Person, Enterprise)
             .join(Application).join(Person).switch(Application)
             .join(Enterprise, on=(Application.enterprise == Enterprise.id))
             .where((NoticeItem.notice == notice) & (NoticeItem.id > after)).order_by(NoticeItem.id).limit(limit))
    rows = list(query)
    reg_numbers = dict(Registration.select(Registration.id, Registration.number).where(Registration.id.in_(
        [i.application.registration_id for i in rows if i.application.registration_id])).tuples()) if rows else {}
    items = []
    for item in rows:
        app = item.application
        items.append({'id': item.id, 'name': app.person.name, 'id_number': mask_id_number(app.person.id_number),
                      'enterprise': app.enterprise.name, 'business_type': app.business_type,
                      'business_type_label': BUSINESS_TYPES.get(app.business_type, app.business_type),
                      'specialties': [s.name for s in chosen_specialties(app)],
                      'registration_number': reg_numbers.get(app.registration_id)})
    return {'notice': {'id': notice.id, 'number': notice.number, 'title': notice.title,
                       'published_at': notice.published_at},
            'items': items, 'next_after': rows[-1].id if len(rows) == limit else None}


def application_status(client, number):
    scopes.require(client, 'applications:read')
    app = (Application.select(Application, Person).join(Person)
           .where(Application.number == (number or '').strip().upper()).first())
    if app is None or app.state == 'draft' or (client.province_id and app.province_id != client.province_id):
        readlog.record(client, 'application', query=(number or '')[:60])
        raise ApiError(404, '未找到该申请（或不属于本客户端所在省份）')
    readlog.record(client, 'application', [(app.person_id, app.number)])
    province = Province.get_or_none(Province.id == app.province_id) if app.province_id else None
    return {'number': app.number, 'business_type': app.business_type,
            'business_type_label': BUSINESS_TYPES.get(app.business_type, app.business_type),
            'state': app.state, 'state_label': APPLICATION_STATES.get(app.state, app.state),
            'province': {'code': province.code, 'name': province.name} if province else None,
            'applicant': {'name': app.person.name, 'id_number': _id(client, app.person.id_number)},
            'submitted_at': app.submitted_at, 'accepted_at': app.accepted_at, 'deadline': app.deadline,
            'decided_at': app.decided_at, 'announced_at': app.announced_at}


def verify_certificate(client, token, today=None):
    """The certificate's live status (注销, 失效 are known only here, not to an offline check)."""
    from backoffice.issuing import certificates
    scopes.require(client, 'certificates:verify')
    serial = certificates.serial_from_token(token or '')
    if serial is None:
        raise ApiError(422, '证书核验码无效（签名不符，可能被篡改）', errors={'token': '核验码无效'})
    cert = Certificate.get_or_none(Certificate.serial == serial)
    status = certificates.status(cert, today)
    if cert is None:
        return {'serial': serial, 'status': status, 'status_label': certificates.STATUS_LABELS[status],
                'holder': None, 'registration_number': None, 'use_until': None, 'specialties': []}
    readlog.record(client, 'certificate', [(cert.person_id, serial)])
    reg = Registration.get_by_id(cert.registration_id)
    person = Person.get_by_id(cert.person_id)
    specs = [{'specialty': rs.specialty.name, 'valid_until': rs.valid_until, 'state': rs.state}
             for rs in RegisteredSpecialty.select(RegisteredSpecialty, Specialty).join(Specialty)
             .where(RegisteredSpecialty.registration == reg.id).order_by(Specialty.sort)]
    return {'serial': serial, 'status': status, 'status_label': certificates.STATUS_LABELS[status],
            'holder': {'name': person.name, 'id_number': mask_id_number(person.id_number)},
            'registration_number': reg.full_number, 'use_until': cert.use_until, 'specialties': specs}


def statistics(client, province_code=None, today=None):
    from reports import stats
    from reports.filters import Filters
    scopes.require(client, 'stats:read')
    province_id = client.province_id
    if province_code:
        p = Province.get_or_none(Province.code == province_code)
        if p is None:
            raise ApiError(422, '省份代码无效', errors={'province': '省份代码无效'})
        if client.province_id and p.id != client.province_id:
            raise ApiError(403, '只能查询本客户端所在省份的统计数据', error='insufficient_scope')
        province_id = p.id
    f = Filters(province_id=province_id)
    approved, refused, _grounds = stats.decisions(f)
    pair = lambda rows: [{'label': str(label), 'count': int(n)} for label, n in rows]  # noqa: E731
    code = Province.get_by_id(province_id).code if province_id else None
    return {'province': code, 'as_of': today or datetime.date.today(),
            'registered_by_province': pair(stats.registered_by_province(f)),
            'registered_by_specialty': pair(stats.registered_by_specialty(f)),
            'expiring': pair(stats.expiring(f, today)), 'decisions_approved': approved,
            'decisions_refused': refused}
