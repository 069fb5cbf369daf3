"""The incremental change feed of registrations (GET /api/v1/registrations/changes?cursor=…).

The cursor is the last change number (`seq`) the client has seen; a page holds the changes
numbered above it in order. backoffice.workflow.changes numbers changes in commit order, so a
client that resumes from its cursor gets every change exactly once, also while changes are being
written. Each item carries the registration as it stands when the page is read.
"""
import collections
import datetime

from models import Enterprise, Person, Province, RegisteredSpecialty, Registration, RegistrationChange, Specialty

from backoffice.api import readlog, scopes
from backoffice.api.scopes import ApiError
from backoffice.db import Prepared
from backoffice.validators import mask_id_number
from backoffice.workflow.changes import KINDS
from backoffice.workflow.states import LAPSE_REASONS, REGISTRATION_STATES, SPECIALTY_STATES


def _changes_query(province):
    def build(cursor, limit, *province_id):
        query = RegistrationChange.select(RegistrationChange.seq, RegistrationChange.kind, RegistrationChange.created_at,
                                          RegistrationChange.registration).where(RegistrationChange.seq > cursor)
        if province:
            query = query.join(Registration, on=(RegistrationChange.registration == Registration.id)).where(
                Registration.province == province_id[0])
        return query.order_by(RegistrationChange.seq).limit(limit)
    return build


def _in_range(lo, hi):
    """The registrations changed in (lo, hi]: a subquery, not a list of a thousand ids to compose."""
    return (RegistrationChange.select(RegistrationChange.registration)
            .where((RegistrationChange.seq > lo) & (RegistrationChange.seq <= hi)))


def _registrations_query(province):
    def build(lo, hi, *province_id):
        query = (Registration.select(Registration.id, Registration.number, Registration.seal_check, Registration.state,
                                     Registration.registered_on, Registration.cancelled_on, Registration.lapsed_on,
                                     Registration.end_reason, Province.code, Province.name, Enterprise.uscc,
                                     Enterprise.name, Person.name, Person.id_number, Person.gender)
                 .join(Person, on=(Registration.person == Person.id))
                 .switch(Registration).join(Enterprise, on=(Registration.enterprise == Enterprise.id))
                 .switch(Registration).join(Province, on=(Registration.province == Province.id))
                 .where(Registration.id.in_(_in_range(lo, hi))))
        return query.where(Registration.province == province_id[0]) if province else query
    return build


def _specialties_query(lo, hi):
    return (RegisteredSpecialty.select(RegisteredSpecialty.registration, Specialty.name, RegisteredSpecialty.valid_from,
                                       RegisteredSpecialty.valid_until, RegisteredSpecialty.state)
            .join(Specialty, on=(Specialty.id == RegisteredSpecialty.specialty))
            .where(RegisteredSpecialty.registration.in_(_in_range(lo, hi)))
            .order_by(RegisteredSpecialty.registration, RegisteredSpecialty.specialty))


# The feed is read a million changes at a time (issue 14: the whole feed in 60 s): its three queries
# are composed once (db.Prepared) and their rows read raw, without the ORM's per-value conversion.
_CHANGES = {False: Prepared(_changes_query(False), arity=2), True: Prepared(_changes_query(True), arity=3)}
_REGISTRATIONS = {False: Prepared(_registrations_query(False), arity=2),
                  True: Prepared(_registrations_query(True), arity=3)}
_SPECIALTIES = Prepared(_specialties_query, arity=2)


def page(client, cursor=0, limit=500):
    """One page of the feed, as JSON-ready values (dates as ISO text, times with their UTC offset).
    The shape is ChangePageSchema's; tests/test_api_schemathesis.py checks it against the document."""
    scopes.require(client, 'registry:read')
    if cursor < 0:
        raise ApiError(422, '游标无效', errors={'cursor': '游标须为非负整数'})
    province = client.province_id
    scope = (province,) if province else ()
    changes = _CHANGES[bool(province)].rows(cursor, limit, *scope)
    if not changes:
        return {'items': [], 'next_cursor': cursor, 'has_more': False}
    last = changes[-1][0]
    regs = _registrations(client, cursor, last, scope)
    items = [{'seq': seq, 'kind': kind, 'kind_label': KINDS.get(kind, kind), 'changed_at': _when(created),
              'registration': regs[reg_id]} for seq, kind, created, reg_id in changes]
    readlog.record_feed_page(client, cursor, last, len(changes))
    return {'items': items, 'next_cursor': last, 'has_more': len(changes) == limit}


_OFFSETS = {}


def _when(value):
    """ISO time with its UTC offset. Stored times are local and naive; the offset is looked up once
    per hour (datetime.astimezone asks the OS each time, a tenth of a feed page's time)."""
    if isinstance(value, str):                   # SQLite keeps times as text
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        return value.isoformat()
    hour = value.replace(minute=0, second=0, microsecond=0)
    tz = _OFFSETS.get(hour)
    if tz is None:
        if len(_OFFSETS) > 10000:
            _OFFSETS.clear()
        tz = _OFFSETS[hour] = hour.astimezone().tzinfo
    return value.replace(tzinfo=tz).isoformat()


def _day(value):
    """ISO date text: SQLite already keeps dates as such text, PostgreSQL returns dates."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def _registrations(client, lo, hi, scope):
    """{registration id: RegistrationSchema-shaped dict} of the registrations changed in (lo, hi]."""
    out = {}
    specs = collections.defaultdict(list)
    for reg_id, name, valid_from, valid_until, state in _SPECIALTIES.rows(lo, hi):
        specs[reg_id].append({'specialty': name, 'valid_from': _day(valid_from), 'valid_until': _day(valid_until),
                              'state': state, 'state_label': SPECIALTY_STATES.get(state, state)})
    full = scopes.full_id_numbers(client)
    for (reg_id, number, seal, state, registered, cancelled, lapsed, reason, p_code, p_name, uscc, e_name,
         name, id_number, gender) in _REGISTRATIONS[bool(scope)].rows(lo, hi, *scope):
        out[reg_id] = {
            'id': reg_id, 'registration_number': number, 'seal_check': seal,
            'state': state, 'state_label': REGISTRATION_STATES.get(state, state),
            'registered_on': _day(registered), 'cancelled_on': _day(cancelled), 'lapsed_on': _day(lapsed),
            'end_reason': reason or None, 'end_reason_label': LAPSE_REASONS.get(reason) if reason else None,
            'province': {'code': p_code, 'name': p_name}, 'enterprise': {'uscc': uscc, 'name': e_name},
            'person': {'name': name, 'id_number': id_number if full else mask_id_number(id_number), 'gender': gender},
            'specialties': specs.get(reg_id, []),
        }
    return out


def latest():
    """The highest change number so far (0 when there is none)."""
    last = RegistrationChange.select(RegistrationChange.seq).order_by(RegistrationChange.seq.desc()).first()
    return last.seq if last else 0

