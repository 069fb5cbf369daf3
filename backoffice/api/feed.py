"""The incremental change feed of registrations (GET /api/v1/registrations/changes?cursor=…).

The cursor is the last change number (`seq`) the client has seen; a page holds the changes
numbered above it in order. backoffice.workflow.changes numbers changes in commit order, so a
client that resumes from its cursor gets every change exactly once, also while changes are being
written. Each item carries the registration as it stands when the page is read.
"""
from models import Registration, RegistrationChange

from backoffice.api import queries, readlog, scopes
from backoffice.api.scopes import ApiError
from backoffice.workflow.changes import KINDS


def page(client, cursor=0, limit=500):
    scopes.require(client, 'registry:read')
    if cursor < 0:
        raise ApiError(422, '游标无效', errors={'cursor': '游标须为非负整数'})
    query = RegistrationChange.select().where(RegistrationChange.seq > cursor)
    if client.province_id:
        query = query.join(Registration, on=(RegistrationChange.registration == Registration.id)).where(
            Registration.province == client.province_id)
    changes = list(query.order_by(RegistrationChange.seq).limit(limit))
    reg_ids = sorted({c.registration_id for c in changes})
    regs = {}
    for part in queries.chunks(reg_ids):
        regs.update({r.id: r for r in queries.registration_select().where(Registration.id.in_(part))})
    serialized = {d['id']: d for d in queries.serialize_registrations(client, [regs[i] for i in reg_ids])}
    items = [{'seq': c.seq, 'kind': c.kind, 'kind_label': KINDS.get(c.kind, c.kind), 'changed_at': c.created_at,
              'registration': serialized[c.registration_id]} for c in changes]
    readlog.record(client, 'registration_feed', [(regs[i].person_id, regs[i].number) for i in reg_ids])
    return {'items': items, 'next_cursor': changes[-1].seq if changes else cursor,
            'has_more': len(changes) == limit}


def latest():
    """The highest change number so far (0 when there is none)."""
    last = RegistrationChange.select(RegistrationChange.seq).order_by(RegistrationChange.seq.desc()).first()
    return last.seq if last else 0

