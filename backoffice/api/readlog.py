"""The API's read log: which client read which person, when (like the helpdesk's LookupLog)."""
from peewee import SQL, fn

from models import ApiReadLog, Registration, RegistrationChange, now

from backoffice.db import bulk_insert

from backoffice.validators import mask_id_number


def record(client, resource, people=(), query=''):
    """One row per person read. `people`: person ids (or (person id, query) pairs)."""
    stamp = now()
    rows = []
    for item in people:
        pid, q = item if isinstance(item, tuple) else (item, query)
        rows.append({'client': client.id, 'resource': resource, 'query': (q or '')[:60], 'person_id': pid,
                     'created_at': stamp})
    if not rows and query:
        rows.append({'client': client.id, 'resource': resource, 'query': query[:60], 'person_id': None,
                     'created_at': stamp})
    # through the driver: a feed page logs a thousand reads
    return bulk_insert(ApiReadLog, ('client_id', 'resource', 'query', 'person_id', 'created_at'),
                       ((r['client'], r['resource'], r['query'], r['person_id'], r['created_at']) for r in rows))


def record_feed_page(client, seq_from, seq_to, delivered):
    """One row for a page of the change feed: its range (seq_from, seq_to] and the client's province.
    The persons it delivered follow from the range (read_person); writing one row per person cost
    half of the feed's time at a thousand per page (bench/api_feed_bench.py)."""
    if not delivered:
        return 0
    ApiReadLog.insert(client=client.id, resource='registration_feed', query=f'变更 {seq_from + 1}–{seq_to}（{delivered} 条）',
                      person_id=None, created_at=now(), seq_from=seq_from, seq_to=seq_to,
                      province_id=client.province_id).execute()
    return 1


def read_person(person_id):
    """A condition on ApiReadLog: the rows that read person `person_id` — a point read that names
    the person, or a feed page whose range holds a change of one of the person's registrations
    (in the province the page was limited to)."""
    change = (RegistrationChange.select(SQL('1'))
              .join(Registration, on=(Registration.id == RegistrationChange.registration))
              .where((Registration.person == person_id)
                     & (RegistrationChange.seq > ApiReadLog.seq_from) & (RegistrationChange.seq <= ApiReadLog.seq_to)
                     & (ApiReadLog.province_id.is_null() | (Registration.province == ApiReadLog.province_id))))
    return (ApiReadLog.person_id == person_id) | ((ApiReadLog.resource == 'registration_feed')
                                                  & ApiReadLog.seq_to.is_null(False) & fn.EXISTS(change))


def masked(id_number):
    return mask_id_number(id_number)
