"""The registry's change log of registrations, read by the API's incremental feed.

Every change of a registration (created at an announcement, a specialty added or renewed, the
holder's name or ID number corrected, a specialty expired, lapsed, cancelled) appends one
RegistrationChange row in the same transaction as the change itself, numbered by `seq`.

The numbers come from one Sequence row bumped with `numbering.reserve` in the writer's
transaction: on PostgreSQL that row stays locked until the writer commits (SQLite has one writer
at a time anyway), so a transaction can draw its numbers only after every earlier holder has
committed or rolled back (a rollback gives its numbers back). Commit order is therefore sequence
order: once a reader sees seq n, every change numbered below n is visible as well, and a feed
reader that resumes after the last seq it saw misses nothing and repeats nothing.

Writers call `record` last in their transaction (after certificates are issued or voided, before
the audit events), so the counter row is held for the shortest time and always taken in the same
order relative to the other counters and the audit chain head.
"""
from peewee import SQL, fn

from models import RegistrationChange, now

from backoffice.db import bulk_insert
from backoffice.workflow import numbering

FEED_KEY = 'feed:registration'
KINDS = {
    'registered': '注册生效',
    'specialty_added': '增项注册生效',
    'renewed': '延续注册生效',
    'holder_changed': '个人信息变更',
    'specialty_expired': '专业有效期届满',
    'lapsed': '注册失效',
    'cancelled': '注销',
    'enterprise_changed': '变更注册（聘用企业名称变更）',
}


def record(registration_ids, kind):
    """Append one change of `kind` for each registration id (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f'unknown registration change kind: {kind}')
    ids = [int(i) for i in registration_ids]
    if not ids:
        return 0
    first = numbering.reserve(FEED_KEY, len(ids))
    stamp = now()
    # through the driver: a lapse batch appends thousands of rows, and peewee's INSERT builder cost more
    return bulk_insert(RegistrationChange, ('seq', 'registration_id', 'kind', 'created_at'),
                       ((first + k, rid, kind, stamp) for k, rid in enumerate(ids)))


def backfill(batch=5000):
    """Record a 'registered' change for every registration that has none yet (registrations loaded
    in bulk by seed/demo or an import before the feed existed). Returns how many were recorded."""
    from models import Registration, database
    done, last = 0, 0
    while True:
        with database.atomic():
            # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN over a subquery larger than work_mem as a
            # plain subplan (every row against every change: a 1M backfill stalled half-way)
            recorded = RegistrationChange.select(SQL('1')).where(RegistrationChange.registration == Registration.id)
            ids = [r for (r,) in Registration.select(Registration.id).where(
                (Registration.id > last) & ~fn.EXISTS(recorded)).order_by(Registration.id).limit(batch).tuples()]
            if not ids:
                return done
            done += record(ids, 'registered')
            last = ids[-1]
