"""The audit log, hash-chained: the one way anything writes an AuditEvent.

Every row stores `prev_hash` (the previous row's hash) and `hash` = sha256 over a canonical
serialisation of its own content plus prev_hash, so altering, inserting or deleting a row
anywhere breaks the chain from that row on. The single AuditChainHead row names the last
row: appends lock it (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions
hold the write lock from BEGIN), so two writers can never both append after the same row,
and `verify` compares it with the last row, so cutting rows off the end is caught too.

    record('update', object_type='person', object_id=7, actor=user, comment='…', changes=[…])
    record_many([{...}, {...}])          # batch transitions, seed data: one lock, one insert
    verify()                             # -> VerifyResult; `flask audit verify` prints it

Row ids are drawn inside the lock (PostgreSQL: the table's sequence; SQLite: after the
largest id ever used), so id order is chain order and the id itself is hashed.
"""
import dataclasses
import datetime
import hashlib
import json
import re

from models import AuditChainHead, AuditEvent, database, now

GENESIS = '0' * 64           # prev_hash of the first row
VERSION = 1                  # of the canonical serialisation
BATCH = 5000

# Columns in canonical order (also the insert order of record_many).
COLUMNS = ('id', 'application_id', 'object_type', 'object_id', 'action', 'actor_id', 'actor_role',
           'from_state', 'to_state', 'comment', 'changes', 'created_at')
_SELECT = ', '.join(f'"{c}"' for c in COLUMNS + ('prev_hash', 'hash'))

# Fields whose values never go into the log: an edit of one is recorded as “（已修改）”.
SECRET_FIELD = re.compile(r'password|secret|token|otp|code_hash|totp', re.I)
SECRET_MARK = '（已修改）'
# Bookkeeping columns not worth a line in a change list.
_SKIP_FIELDS = {'id', 'version', 'updated_at', 'session_version'}


# --- the hash ---------------------------------------------------------------------

def _as_datetime(value):
    """A naive datetime (aware values in UTC) from a datetime, date or ISO text."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    elif not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _when(value):
    """created_at as one fixed text form (microseconds always written), whatever the backend."""
    if value is None:
        return ''
    return _as_datetime(value).isoformat(' ', timespec='microseconds')


def _int(value):
    return None if value is None else int(value)


def canonical(values, prev_hash):
    """The exact text that is hashed: a JSON array of the row's columns in COLUMNS order."""
    body = [VERSION, _int(values['id']), _int(values['application_id']), values['object_type'] or '',
            _int(values['object_id']), values['action'] or '', _int(values['actor_id']),
            values['actor_role'] or '', values['from_state'] or '', values['to_state'] or '',
            values['comment'] or '', values['changes'] or '', _when(values['created_at']), prev_hash]
    return json.dumps(body, ensure_ascii=False, separators=(',', ':'))


def compute_hash(values, prev_hash):
    return hashlib.sha256(canonical(values, prev_hash).encode('utf-8')).hexdigest()


# --- appending ----------------------------------------------------------------------

def _pk(value):
    """A foreign key given as a model instance or an id."""
    if value is None or value == '':
        return None
    return int(getattr(value, 'id', value))


def _changes_text(changes):
    if not changes:
        return ''
    if isinstance(changes, str):
        return changes
    return json.dumps(list(changes), ensure_ascii=False, separators=(',', ':'))


def _normalise(row):
    """A row given with model field names (application, actor …) as column values."""
    actor = row.get('actor')
    role = row.get('actor_role')
    if role is None:
        role = getattr(actor, 'role', '') or ''
    created = _as_datetime(row.get('created_at') or now())
    application = _pk(row.get('application'))
    object_type = row.get('object_type') or 'application'
    object_id = _int(row.get('object_id'))
    if object_id is None and object_type == 'application':
        object_id = application
    return {
        'application_id': application,
        'object_type': object_type,
        'object_id': object_id,
        'action': row['action'],
        'actor_id': _pk(actor),
        'actor_role': role,
        'from_state': row.get('from_state') or '',
        'to_state': row.get('to_state') or '',
        'comment': row.get('comment') or '',
        'changes': _changes_text(row.get('changes')),
        'created_at': created,
    }


def _is_postgres():
    from backoffice.db import is_postgres
    return is_postgres()


def _lock_head():
    """The chain head, locked until the caller's transaction ends (created when missing)."""
    query = AuditChainHead.select().where(AuditChainHead.id == 1)
    if _is_postgres():
        query = query.for_update()
    head = query.first()
    if head is None:
        AuditChainHead.insert(id=1, last_id=0, last_hash='', count=0).on_conflict_ignore().execute()
        head = query.get()
    return head


def _next_ids(count, head):
    if _is_postgres():
        cursor = database.execute_sql(
            "SELECT nextval(pg_get_serial_sequence('audit_event', 'id')) FROM generate_series(1, %s)",
            (count,))
        return sorted(r[0] for r in cursor.fetchall())
    top = database.execute_sql('SELECT COALESCE(MAX(id), 0) FROM audit_event').fetchone()[0]
    start = max(int(top), int(head.last_id or 0)) + 1
    return list(range(start, start + count))


def _append(rows):
    """Chain and insert normalised rows (dicts without id), in order. Returns their ids."""
    from backoffice.db import bulk_insert
    if not rows:
        return []
    postgres = _is_postgres()
    columns = COLUMNS + ('prev_hash', 'hash')
    with database.atomic():
        head = _lock_head()
        prev = head.last_hash or GENESIS
        ids = _next_ids(len(rows), head)
        out = []
        for k in range(0, len(rows), BATCH):
            batch = []
            for values, row_id in zip(rows[k:k + BATCH], ids[k:k + BATCH]):
                values['id'] = row_id
                digest = compute_hash(values, prev)
                created = values['created_at']
                batch.append((row_id, values['application_id'], values['object_type'], values['object_id'],
                              values['action'], values['actor_id'], values['actor_role'], values['from_state'],
                              values['to_state'], values['comment'], values['changes'],
                              created if postgres else created.isoformat(' '), prev, digest))
                prev = digest
            bulk_insert(AuditEvent, columns, batch)
            out += [b[0] for b in batch]
        (AuditChainHead.update(last_id=ids[-1], last_hash=prev, count=AuditChainHead.count + len(rows))
         .where(AuditChainHead.id == 1).execute())
    return out


def record(action, *, object_type='application', object_id=None, application=None, actor=None,
           actor_role=None, from_state='', to_state='', comment='', changes=None, created_at=None):
    """Append one audit event; returns it (an AuditEvent with its id)."""
    values = _normalise(dict(action=action, object_type=object_type, object_id=object_id,
                             application=application, actor=actor, actor_role=actor_role,
                             from_state=from_state, to_state=to_state, comment=comment, changes=changes,
                             created_at=created_at))
    row_id = _append([values])[0]
    return AuditEvent.get_by_id(row_id)


def record_many(rows):
    """Append many events (dicts with AuditEvent field names) in one locked insert. Returns the count."""
    values = [_normalise(r) for r in rows]
    return len(_append(values))


# --- verifying ----------------------------------------------------------------------

@dataclasses.dataclass
class VerifyResult:
    ok: bool
    count: int                       # rows checked
    broken_id: int = None            # the first row that does not hold
    reason: str = ''                 # Chinese
    reason_en: str = ''
    head_hash: str = ''

    def summary(self):
        if self.ok:
            return (f'审计链完整：共 {self.count} 条记录，链头哈希 {self.head_hash or GENESIS}。\n'
                    f'Audit chain intact: {self.count} rows, head hash {self.head_hash or GENESIS}.')
        return (f'审计链已断裂：第一条异常记录 id={self.broken_id}（已核对 {self.count} 条）。{self.reason}\n'
                f'Audit chain BROKEN at row id={self.broken_id} ({self.count} rows checked). {self.reason_en}')


def _rows_after(last_id, batch):
    """The next keyset batch of rows in id order, on the raw cursor (no per-value conversion)."""
    mark = '%s' if _is_postgres() else '?'
    return database.execute_sql(
        f'SELECT {_SELECT} FROM audit_event WHERE id > {mark} ORDER BY id LIMIT {mark}',
        (last_id, batch)).fetchall()


def verify(batch=BATCH, progress=None):
    """Walk the whole chain in id order (keyset batches, flat memory) and name the first broken row."""
    expected_prev, last_id, count = GENESIS, None, 0
    while True:
        rows = _rows_after(-1 if last_id is None else last_id, batch)
        if not rows:
            break
        for r in rows:
            values = dict(zip(COLUMNS, r[:12]))
            prev_hash, stored = r[12], r[13]
            count += 1
            if compute_hash(values, prev_hash) != stored:
                return VerifyResult(False, count, r[0], '该记录的内容或哈希已被改动。',
                                    'The row\'s content or hash was altered.')
            if prev_hash != expected_prev:
                before = f'上一条记录 id={last_id}' if last_id is not None else '链的起点'
                before_en = f'previous row id={last_id}' if last_id is not None else 'the start of the chain'
                return VerifyResult(
                    False, count, r[0],
                    f'该记录登记的前一哈希与{before}不符：其间有记录被删除或插入，或上一条记录被改动后重算了哈希。',
                    f'Its prev_hash does not match {before_en}: rows were deleted or inserted in between, '
                    'or the previous row was altered and re-hashed.')
            expected_prev, last_id = stored, r[0]
        if progress is not None:
            progress(count)
    head = AuditChainHead.get_or_none(AuditChainHead.id == 1)
    head_id, head_hash, head_count = (head.last_id, head.last_hash, head.count) if head else (0, '', 0)
    tail_hash = expected_prev if last_id is not None else ''
    if (head_id or 0) != (last_id or 0) or (head_hash or '') != tail_hash or int(head_count or 0) != count:
        return VerifyResult(
            False, count, head_id or last_id,
            f'链头登记的最后一条记录为 id={head_id}（共 {head_count} 条），而表中最后一条为 id={last_id}'
            f'（共 {count} 条）：链尾的记录被删除，或链头被改动。',
            f'The chain head names row id={head_id} ({head_count} rows) but the table ends at row '
            f'id={last_id} ({count} rows): rows were cut off the end, or the head was altered.')
    return VerifyResult(True, count, head_hash=tail_hash)


def rechain():
    """Compute prev_hash/hash for every row in id order and reset the head (migration backfill).

    Only for rows written before the chain existed; never run it on a chain in use (it would
    bless any tampering)."""
    prev, last_id, count = GENESIS, None, 0
    with database.atomic():
        while True:
            rows = _rows_after(-1 if last_id is None else last_id, BATCH)
            if not rows:
                break
            updates = []
            for r in rows:
                values = dict(zip(COLUMNS, r[:12]))
                digest = compute_hash(values, prev)
                updates.append((prev, digest, r[0]))
                prev, last_id = digest, r[0]
                count += 1
            cursor = database.connection().cursor()
            if _is_postgres():
                from psycopg2.extras import execute_values
                execute_values(cursor, 'UPDATE audit_event AS a SET prev_hash = v.p, hash = v.h '
                                       'FROM (VALUES %s) AS v (p, h, id) WHERE a.id = v.id', updates, page_size=2000)
            else:
                cursor.executemany('UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?', updates)
        AuditChainHead.delete().execute()
        AuditChainHead.insert(id=1, last_id=last_id or 0, last_hash=prev if last_id else '',
                              count=count).execute()
    return count


# --- what an edit changed -------------------------------------------------------------

def _display(field, value, choices=None):
    """A field value as staff see it on the edit form (related rows by their name, choices by label)."""
    import peewee as pw
    if value is None or value == '':
        return ''
    if choices and value in choices:
        return str(choices[value])
    if isinstance(field, pw.ForeignKeyField):
        related = field.rel_model.get_or_none(field.rel_model._meta.primary_key == value)
        return str(related) if related is not None else str(value)
    if isinstance(field, pw.BooleanField):
        return '是' if value else '否'
    if field.choices:
        labels = dict(field.choices)
        return str(labels.get(value, value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat(' ') if isinstance(value, datetime.datetime) else value.isoformat()
    return str(value)


def snapshot(instance):
    """The raw column values of a model instance (take it before a form writes into it)."""
    return dict(instance.__data__)


def field_changes(instance, before, labels=None, created=False, choices=None):
    """[{field, label, old, new}] for every column whose value differs from `before`.

    labels: {field name: label}; choices: {field name: {value: label}} (a form's select options).
    Secret columns (password hashes and the like) appear with SECRET_MARK, never their value.
    """
    labels, choices = labels or {}, choices or {}
    after = instance.__data__
    out = []
    for field in instance._meta.sorted_fields:
        name = field.name
        if name in _SKIP_FIELDS:
            continue
        old, new = before.get(name), after.get(name)
        if created and new in (None, ''):
            continue
        if old == new or (old in (None, '') and new in (None, '')):
            continue
        label = str(labels.get(name) or field.verbose_name or name)
        if SECRET_FIELD.search(name):
            out.append({'field': name, 'label': label, 'old': '', 'new': SECRET_MARK})
            continue
        options = choices.get(name)
        out.append({'field': name, 'label': label, 'old': '' if created else _display(field, old, options),
                    'new': _display(field, new, options)})
    return out


def describe(changes):
    """The stored change list as (label, old, new) tuples for display; [] when there is none."""
    if not changes:
        return []
    try:
        items = json.loads(changes)
    except (TypeError, ValueError):
        return []
    return [(i.get('label') or i.get('field', ''), i.get('old', ''), i.get('new', '')) for i in items
            if isinstance(i, dict)]
