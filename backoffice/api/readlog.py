"""The API's read log: which client read which person, when (like the helpdesk's LookupLog)."""
from models import ApiReadLog, now

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
    for k in range(0, len(rows), 500):
        ApiReadLog.insert_many(rows[k:k + 500]).execute()
    return len(rows)


def masked(id_number):
    return mask_id_number(id_number)
