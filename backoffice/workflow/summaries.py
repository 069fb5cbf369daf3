"""Summary counters (issue 15): what the back-office home and the unfiltered dashboard show, kept
up to date in the transaction of every change instead of counted by scans.

Each base row contributes to a few counters (models.SummaryCount, keyed by metric, province and up
to two keys):

    application          app_state (state), app_month (YYYY-MM of created_at, business type),
                         decided ('approved' / 'refused', once decided_at is set), proc_days (processing
                         days), late (decided_late), accepted_due (deadline of an application under review),
                         accepted_dl (under review with a deadline)
    refusal ground       ground (ground id) of a refused, decided application
    registration         reg_active (an active registration, by its province)
    registered specialty spec_active (specialty id), spec_until (valid-until date) of an active specialty,
                         by its registration's province
    certificate          to_print (valid and not printed: 待打印, by its registration's province)

The choke points that change these rows wrap the change in a `Tracker`: it reads the contributions
of the rows it is given (locked FOR UPDATE on PostgreSQL, in the order application → registration →
specialty → certificate), the change runs, `finish()` reads them again and adds the difference with
one upsert `… SET n = n + excluded.n` per key, so concurrent transactions never lose a count.
Choke points: `transitions.perform` / `perform_many` (every state change and its effects: new
registrations, specialties, certificates, cancellations), `lifecycle` (specialty expiry, lapse,
the merger's move of registrations), `intake.applications` (a draft created or saved),
`issuing.certificates.download_version` (加注) and `issuing.printing` (printed). Bulk loaders that
write the tables directly (seed, benchmarks, tests that forge rows) call `rebuild()` afterwards
(`flask summaries rebuild`). `recount()` computes every counter from the base tables; a test checks
that the counters equal it after random series of transitions.
"""
import collections
import datetime

from peewee import EXCLUDED, fn

from models import SummaryCount, database

DECIDED = ('approved', 'announced', 'completed')       # reports.stats.DECIDED
CHUNK = 900


def _is_postgres():
    from backoffice.db import is_postgres
    return is_postgres()


def _sql(text, params=()):
    if _is_postgres():
        text = text.replace('?', '%s')
    return database.execute_sql(text, params)


def _marks(values):
    return ', '.join('?' * len(values))


def _chunks(ids):
    ids = sorted(set(ids))
    for k in range(0, len(ids), CHUNK):
        yield ids[k:k + CHUNK]


def _day(value):
    return str(value)[:10]


# --- contributions of given rows ------------------------------------------------------------

def _app_contributions(app_ids, out, lock):
    lock_sql = ' ORDER BY id FOR UPDATE' if lock and _is_postgres() else ''
    for part in _chunks(app_ids):
        rows = _sql('SELECT province_id, state, business_type, created_at, decided_at, processing_days, '
                    f'decided_late, deadline FROM application WHERE id IN ({_marks(part)}){lock_sql}', part)
        for prov, state, btype, created, decided, days, late, deadline in rows.fetchall():
            prov = prov or 0
            out[('app_state', prov, state, '')] += 1
            out[('app_month', prov, str(created)[:7], btype)] += 1
            if decided is not None:
                if state in DECIDED:
                    out[('decided', prov, 'approved', '')] += 1
                elif state == 'refused':
                    out[('decided', prov, 'refused', '')] += 1
            if days is not None:
                out[('proc_days', prov, str(int(days)), '')] += 1
            if late:
                out[('late', prov, '', '')] += 1
            if state == 'accepted' and deadline is not None:
                out[('accepted_due', prov, _day(deadline), '')] += 1
                out[('accepted_dl', prov, '', '')] += 1
        rows = _sql('SELECT a.province_id, g.ground_id FROM application_refusal_ground g '
                    'JOIN application a ON a.id = g.application_id '
                    f"WHERE a.state = 'refused' AND a.decided_at IS NOT NULL AND a.id IN ({_marks(part)})", part)
        for prov, ground in rows.fetchall():
            out[('ground', prov or 0, str(ground), '')] += 1


def _person_registrations(person_ids, lock):
    lock_sql = ' ORDER BY id FOR UPDATE' if lock and _is_postgres() else ''
    regs = []
    for part in _chunks(person_ids):
        regs += [r for (r,) in _sql(f'SELECT id FROM registration WHERE person_id IN ({_marks(part)}){lock_sql}',
                                    part).fetchall()]
    return regs


def _reg_contributions(reg_ids, out, lock):
    pg_lock = lock and _is_postgres()
    for part in _chunks(reg_ids):
        marks = _marks(part)
        rows = _sql(f'SELECT province_id, state FROM registration WHERE id IN ({marks})'
                    + (' ORDER BY id FOR UPDATE' if pg_lock else ''), part)
        for prov, state in rows.fetchall():
            if state == 'active':
                out[('reg_active', prov or 0, '', '')] += 1
        rows = _sql('SELECT r.province_id, s.specialty_id, s.valid_until, s.state FROM registered_specialty s '
                    f'JOIN registration r ON r.id = s.registration_id WHERE s.registration_id IN ({marks})'
                    + (' ORDER BY s.id FOR UPDATE OF s' if pg_lock else ''), part)
        for prov, specialty, until, state in rows.fetchall():
            if state == 'active':
                out[('spec_active', prov or 0, str(specialty), '')] += 1
                out[('spec_until', prov or 0, _day(until), '')] += 1
        _cert_contributions('c.registration_id', part, out, lock)


def _cert_contributions(column, ids, out, lock):
    pg_lock = lock and _is_postgres()
    for part in _chunks(ids):
        # state and printed are tested here, not in SQL: SQLite would otherwise pick the index on
        # `printed` and walk every unprinted certificate instead of the few of these rows
        rows = _sql('SELECT r.province_id, c.state, c.printed FROM certificate c '
                    f'JOIN registration r ON r.id = c.registration_id WHERE {column} IN ({_marks(part)})'
                    + (' ORDER BY c.id FOR UPDATE OF c' if pg_lock else ''), part)
        for prov, state, printed in rows.fetchall():
            if state == 'valid' and not printed:
                out[('to_print', prov or 0, '', '')] += 1


class Tracker:
    """The counters' change made by a block of work on the given rows: construct before the change
    (reads and, on PostgreSQL, locks the rows), call finish() after it, in the same transaction.
    `persons` stands for every registration of those persons, found again at finish() (a
    registration the change creates counts too)."""

    def __init__(self, apps=(), persons=(), regs=(), certs=()):
        self.apps, self.persons, self.regs, self.certs = list(apps), list(persons), list(regs), list(certs)
        self.before = self._snapshot(lock=True)

    def _snapshot(self, lock):
        out = collections.Counter()
        if self.apps:
            _app_contributions(self.apps, out, lock)
        regs = set(self.regs)
        if self.persons:
            regs |= set(_person_registrations(self.persons, lock))
        if regs:
            _reg_contributions(regs, out, lock)
        if self.certs:
            _cert_contributions('c.id', self.certs, out, lock)
        return out

    def finish(self):
        after = self._snapshot(lock=False)
        delta = {k: after.get(k, 0) - self.before.get(k, 0) for k in set(after) | set(self.before)}
        apply(delta)
        return delta


def added(apps=(), persons=(), regs=(), certs=()):
    """Count rows just created (nothing to subtract)."""
    tracker = Tracker.__new__(Tracker)
    tracker.apps, tracker.persons, tracker.regs, tracker.certs = list(apps), list(persons), list(regs), list(certs)
    tracker.before = collections.Counter()
    return tracker.finish()


def apply(delta):
    """Add {(metric, province, k1, k2): change} to the counters: one upsert per 500 keys, keys in a
    fixed order (PostgreSQL locks the counter rows in that order: no deadlock between two writers)."""
    rows = [{'metric': m, 'province': p, 'k1': a, 'k2': b, 'n': n}
            for (m, p, a, b), n in sorted(delta.items()) if n]
    for k in range(0, len(rows), 500):
        (SummaryCount.insert_many(rows[k:k + 500])
         .on_conflict(conflict_target=[SummaryCount.metric, SummaryCount.province, SummaryCount.k1, SummaryCount.k2],
                      update={SummaryCount.n: SummaryCount.n + EXCLUDED.n})
         .execute())


# --- full recount and rebuild -----------------------------------------------------------------

def recount():
    """Every counter computed from the base tables: {(metric, province, k1, k2): n}, zeros left out."""
    month = ("to_char(created_at, 'YYYY-MM')" if _is_postgres() else "substr(created_at, 1, 7)")
    out = collections.Counter()

    def add(metric, sql, params=(), k1=str, k2=lambda v: ''):
        # each row: province, then zero to two keys, then the count
        for row in _sql(sql, params).fetchall():
            keys = list(row[1:-1]) + [None, None]
            out[(metric, row[0] or 0, k1(keys[0]), k2(keys[1]))] += row[-1]

    add('app_state', 'SELECT province_id, state, COUNT(*) FROM application GROUP BY province_id, state')
    add('app_month', f'SELECT province_id, {month}, business_type, COUNT(*) FROM application '
                     f'GROUP BY province_id, {month}, business_type', k2=str)
    marks = _marks(DECIDED)
    add('decided', f"SELECT province_id, 'approved', COUNT(*) FROM application WHERE decided_at IS NOT NULL "
                   f'AND state IN ({marks}) GROUP BY province_id', DECIDED)
    add('decided', "SELECT province_id, 'refused', COUNT(*) FROM application WHERE decided_at IS NOT NULL "
                   "AND state = 'refused' GROUP BY province_id")
    add('proc_days', 'SELECT province_id, processing_days, COUNT(*) FROM application '
                     'WHERE processing_days IS NOT NULL GROUP BY province_id, processing_days', k1=lambda v: str(int(v)))
    add('late', 'SELECT province_id, COUNT(*) FROM application WHERE decided_late = ? GROUP BY province_id', (True,),
        k1=lambda v: '')
    add('accepted_due', "SELECT province_id, deadline, COUNT(*) FROM application WHERE state = 'accepted' "
                        'AND deadline IS NOT NULL GROUP BY province_id, deadline', k1=_day)
    add('accepted_dl', "SELECT province_id, COUNT(*) FROM application WHERE state = 'accepted' "
                       'AND deadline IS NOT NULL GROUP BY province_id', k1=lambda v: '')
    add('ground', 'SELECT a.province_id, g.ground_id, COUNT(*) FROM application_refusal_ground g '
                  "JOIN application a ON a.id = g.application_id WHERE a.state = 'refused' "
                  'AND a.decided_at IS NOT NULL GROUP BY a.province_id, g.ground_id')
    add('reg_active', "SELECT province_id, COUNT(*) FROM registration WHERE state = 'active' GROUP BY province_id",
        k1=lambda v: '')
    add('spec_active', 'SELECT r.province_id, s.specialty_id, COUNT(*) FROM registered_specialty s '
                       "JOIN registration r ON r.id = s.registration_id WHERE s.state = 'active' "
                       'GROUP BY r.province_id, s.specialty_id')
    add('spec_until', 'SELECT r.province_id, s.valid_until, COUNT(*) FROM registered_specialty s '
                      "JOIN registration r ON r.id = s.registration_id WHERE s.state = 'active' "
                      'GROUP BY r.province_id, s.valid_until', k1=_day)
    add('to_print', 'SELECT r.province_id, COUNT(*) FROM certificate c JOIN registration r ON r.id = c.registration_id '
                    'WHERE c.state = ? AND c.printed = ? GROUP BY r.province_id', ('valid', False), k1=lambda v: '')
    return {k: n for k, n in out.items() if n}


def stored():
    """The counters as stored: {(metric, province, k1, k2): n}, zeros left out."""
    return {(m, p, a, b): n for m, p, a, b, n in SummaryCount.select(
        SummaryCount.metric, SummaryCount.province, SummaryCount.k1, SummaryCount.k2, SummaryCount.n).tuples() if n}


def rebuild():
    """Replace every counter by a full recount, in one transaction (PostgreSQL: the table is locked
    first, so a transition running meanwhile adds its change after the recount, never lost or twice).
    Returns the number of counters."""
    with database.atomic():
        if _is_postgres():
            database.execute_sql('LOCK TABLE summary_count IN EXCLUSIVE MODE')
        SummaryCount.delete().execute()
        counts = recount()
        from backoffice.db import bulk_insert          # the table is empty: plain inserts through the driver
        bulk_insert(SummaryCount, ('metric', 'province', 'k1', 'k2', 'n'),
                    [(m, p, a, b, n) for (m, p, a, b), n in sorted(counts.items())])
    return len(counts)


# --- reading -------------------------------------------------------------------------------

def totals(metric, province=None, k1_from=None, k1_to=None):
    """{(k1, k2): n} summed over provinces (or for one province), optionally k1 in [k1_from, k1_to]."""
    q = _where(SummaryCount.select(SummaryCount.k1, SummaryCount.k2, fn.SUM(SummaryCount.n))
               .group_by(SummaryCount.k1, SummaryCount.k2), metric, province, k1_from, k1_to)
    return {(a, b): int(n) for a, b, n in q.tuples() if n}


def total(metric, province=None, k1_from=None, k1_to=None):
    q = _where(SummaryCount.select(fn.SUM(SummaryCount.n)), metric, province, k1_from, k1_to)
    return int(q.scalar() or 0)


def _where(q, metric, province, k1_from, k1_to):
    q = q.where(SummaryCount.metric == metric)
    if province is not None:
        q = q.where(SummaryCount.province == province)
    if k1_from is not None:
        q = q.where(SummaryCount.k1 >= k1_from)
    if k1_to is not None:
        q = q.where(SummaryCount.k1 <= k1_to)
    return q


def by_province(metric):
    """{province id: n} of a metric."""
    return {p: int(n) for p, n in SummaryCount.select(SummaryCount.province, fn.SUM(SummaryCount.n))
            .where(SummaryCount.metric == metric).group_by(SummaryCount.province).tuples() if n}


def overdue(today, province=None):
    """Applications under review whose deadline is before `today`: all of them with a deadline
    (accepted_dl) less those whose deadline is still ahead (a short range of accepted_due dates)."""
    return total('accepted_dl', province) - total('accepted_due', province, k1_from=day_key(today))


def day_key(day):
    """The k1 of a date counter (accepted_due, spec_until)."""
    return day.isoformat() if isinstance(day, datetime.date) else str(day)[:10]
