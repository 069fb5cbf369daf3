"""The incremental change feed of registrations (GET /api/v1/registrations/changes?cursor=…).

The cursor is the last change number (`seq`) the client has seen; a page holds the changes
numbered above it in order. backoffice.workflow.changes numbers changes in commit order, so a
client that resumes from its cursor gets every change exactly once, also while changes are being
written. Each item carries the registration as it stands when the page is read.
"""
import collections

from models import Enterprise, Person, Province, RegisteredSpecialty, Registration, RegistrationChange, Specialty

from backoffice.api import queries, readlog, scopes
from backoffice.api.scopes import ApiError
from backoffice.workflow.changes import KINDS
from backoffice.workflow.states import LAPSE_REASONS, REGISTRATION_STATES, SPECIALTY_STATES


def page(client, cursor=0, limit=500):
    """One page of the feed, as JSON-ready values (dates as ISO text, times with their UTC offset):
    the feed is read a million rows at a time, so it reads plain tuples and skips the ORM's objects.
    The shape is ChangePageSchema's; tests/test_api_schemathesis.py checks it against the document."""
    scopes.require(client, 'registry:read')
    if cursor < 0:
        raise ApiError(422, '游标无效', errors={'cursor': '游标须为非负整数'})
    query = RegistrationChange.select(RegistrationChange.seq, RegistrationChange.kind, RegistrationChange.created_at,
                                      RegistrationChange.registration).where(RegistrationChange.seq > cursor)
    if client.province_id:
        query = query.join(Registration, on=(RegistrationChange.registration == Registration.id)).where(
            Registration.province == client.province_id)
    changes = list(query.order_by(RegistrationChange.seq).limit(limit).tuples())
    regs, people = _registrations(client, sorted({c[3] for c in changes}))
    items = [{'seq': seq, 'kind': kind, 'kind_label': KINDS.get(kind, kind), 'changed_at': _when(created),
              'registration': regs[reg_id]} for seq, kind, created, reg_id in changes]
    readlog.record(client, 'registration_feed', people)
    return {'items': items, 'next_cursor': changes[-1][0] if changes else cursor,
            'has_more': len(changes) == limit}


def _when(value):
    return value.astimezone().isoformat() if value.tzinfo is None else value.isoformat()


def _day(value):
    return value.isoformat() if value else None


def _registrations(client, ids):
    """({registration id: RegistrationSchema-shaped dict}, [(person id, 注册编号) read]) in two queries per chunk."""
    out, people = {}, []
    specs = collections.defaultdict(list)
    for part in queries.chunks(ids):
        for reg_id, name, valid_from, valid_until, state in (
                RegisteredSpecialty.select(RegisteredSpecialty.registration, Specialty.name, RegisteredSpecialty.valid_from,
                                           RegisteredSpecialty.valid_until, RegisteredSpecialty.state)
                .join(Specialty, on=(Specialty.id == RegisteredSpecialty.specialty))
                .where(RegisteredSpecialty.registration.in_(part))
                .order_by(RegisteredSpecialty.registration, RegisteredSpecialty.specialty).tuples()):
            specs[reg_id].append({'specialty': name, 'valid_from': _day(valid_from), 'valid_until': _day(valid_until),
                                  'state': state, 'state_label': SPECIALTY_STATES.get(state, state)})
        rows = (Registration.select(Registration.id, Registration.number, Registration.seal_check, Registration.state,
                                    Registration.registered_on, Registration.cancelled_on, Registration.lapsed_on,
                                    Registration.end_reason, Province.code, Province.name, Enterprise.uscc,
                                    Enterprise.name, Person.id, Person.name, Person.id_number, Person.gender)
                .join(Person, on=(Registration.person == Person.id))
                .switch(Registration).join(Enterprise, on=(Registration.enterprise == Enterprise.id))
                .switch(Registration).join(Province, on=(Registration.province == Province.id))
                .where(Registration.id.in_(part)).tuples())
        for (reg_id, number, seal, state, registered, cancelled, lapsed, reason, p_code, p_name, uscc, e_name,
             person_id, name, id_number, gender) in rows:
            out[reg_id] = {
                'id': reg_id, 'registration_number': number, 'seal_check': seal,
                'state': state, 'state_label': REGISTRATION_STATES.get(state, state),
                'registered_on': _day(registered), 'cancelled_on': _day(cancelled), 'lapsed_on': _day(lapsed),
                'end_reason': reason or None, 'end_reason_label': LAPSE_REASONS.get(reason) if reason else None,
                'province': {'code': p_code, 'name': p_name}, 'enterprise': {'uscc': uscc, 'name': e_name},
                'person': {'name': name, 'id_number': queries.person_id_number(client, id_number), 'gender': gender},
                'specialties': specs.get(reg_id, []),
            }
            people.append((person_id, number))
    return out, people


def latest():
    """The highest change number so far (0 when there is none)."""
    last = RegistrationChange.select(RegistrationChange.seq).order_by(RegistrationChange.seq.desc()).first()
    return last.seq if last else 0

