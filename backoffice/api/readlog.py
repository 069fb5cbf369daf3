"""The API's read log: which client read which person, when (like the helpdesk's LookupLog)."""
from models import ApiReadLog, now

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


def masked(id_number):
    return mask_id_number(id_number)
