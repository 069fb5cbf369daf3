"""Database binding: one URL picks SQLite (embedded default) or PostgreSQL (production)."""
import itertools
import logging
import os
import re
import time
import weakref

import peewee as pw
from playhouse.migrations import Runner
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

from models import database

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'migrations')

SQLITE_PRAGMAS = {
    'journal_mode': 'wal',
    'foreign_keys': 1,
    'synchronous': 'normal',
    'busy_timeout': 10000,
    'cache_size': -64 * 1024,
}


def make_database(url):
    """Build (not connect) a peewee Database from a URL."""
    if url.startswith('sqlite:///'):
        path = url[len('sqlite:///'):]
        if path != ':memory:':
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # IMMEDIATE: a writer takes the lock at BEGIN, so concurrent writers queue
        # instead of failing with "database is locked" half-way through.
        if path == ':memory:':        # every connection would be its own empty database: no pool
            return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type='IMMEDIATE', check_same_thread=False)
        # Pooled: opening a connection and setting its pragmas cost about 1 ms, more than a
        # whole verification query (bench/load_bench.py); a request now borrows an open one.
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type='IMMEDIATE', check_same_thread=False,
                                    max_connections=int(os.environ.get('DB_POOL_SIZE', '32')), stale_timeout=300)
    if url.startswith(('postgresql://', 'postgres://')):
        from urllib.parse import unquote, urlparse
        u = urlparse(url)
        return PingOnIdlePostgresqlDatabase(
            unquote(u.path.lstrip('/')), user=unquote(u.username or '') or None,
            password=unquote(u.password or '') or None, host=u.hostname, port=u.port or 5432,
            max_connections=int(os.environ.get('DB_POOL_SIZE', '32')), stale_timeout=300,
            autorollback=True)
    raise ValueError(f'不支持的数据库地址：{url}')


class PingOnIdlePostgresqlDatabase(PooledPostgresqlDatabase):
    """peewee's pool, pinging a connection on check-out only when it has rested in the pool.

    peewee checks every connection it hands out with a `SELECT 1` round trip: one more statement and
    round trip on every request (the verification page runs two of its own). A connection that went
    back to the pool less than DB_POOL_PING_AFTER seconds ago (default 5) is handed out as it is;
    one that rested longer (the server may have restarted, a firewall may have dropped it) is
    pinged first, and replaced when the ping fails. A connection the driver already knows is
    broken, or that was left inside a transaction, is handled as peewee does."""

    def __init__(self, *args, ping_after=None, **kwargs):
        self._ping_after = float(os.environ.get('DB_POOL_PING_AFTER', '5') if ping_after is None else ping_after)
        self._returned = {}          # connection key -> time.monotonic() of its last check-in
        super().__init__(*args, **kwargs)

    def _is_closed(self, conn):
        if conn.closed:
            return True
        adapter = self._adapter
        returned = self._returned.get(self.conn_key(conn))
        if (returned is not None and time.monotonic() - returned < self._ping_after
                and adapter.txn_status(conn) == adapter.txn_idle):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        with self._pool_lock:
            super()._close(conn, close_conn)
            key = self.conn_key(conn)
            if close_conn or key not in {self.conn_key(c) for _ts, _n, c in self._connections}:
                self._returned.pop(key, None)
            else:
                self._returned[key] = time.monotonic()


def bind(url):
    """Point the shared proxy at the database named by url. Returns the database.
    A pool of the database bound before is emptied: its connections would stay open otherwise."""
    old = database.obj
    if isinstance(old, PooledDatabase):
        old.close_all()
    db = make_database(url)
    database.initialize(db)
    return db


def is_postgres():
    return isinstance(database.obj, pw.PostgresqlDatabase)


def migrate():
    """Apply pending migrations. Returns the names applied.

    On SQLite the planner's statistics are refreshed afterwards (ANALYZE): without them a
    new index may not be chosen. PostgreSQL's autovacuum analyzes by itself.
    """
    with database.connection_context():
        applied = Runner(database.obj, MIGRATIONS_DIR).up()
        if applied and not is_postgres():
            database.execute_sql('ANALYZE')
        return applied


def bulk_insert(model, columns, rows):
    """Insert many rows (tuples in `columns` order) through the driver: executemany on SQLite,
    execute_values on PostgreSQL. Building one large INSERT in peewee cost more than the write.
    Call inside database.atomic(); columns are column names, values plain Python values."""
    rows = list(rows)
    if not rows:
        return 0
    table = model._meta.table_name
    names = ', '.join(f'"{c}"' for c in columns)
    cursor = database.connection().cursor()
    if is_postgres():
        from psycopg2.extras import execute_values
        execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=2000)
    else:
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)
    return len(rows)


_PG_PREPARED = weakref.WeakKeyDictionary()      # psycopg2 connection -> names of its server-side statements
_statement_names = itertools.count(1)


class Prepared:
    """A hot query whose SQL text is composed once per database and then reused.

    peewee composes a query's SQL on every execution; for a four-table join that costs more than
    running it (about 0.3 ms, bench/load_bench.py's verification page). `build(*args)` returns the
    peewee query; it is called once with marker values (unconverted parameters), and later calls
    only substitute the arguments (an argument may appear more than once). Rows come back as the
    driver gives them (tuples; on SQLite dates are text, so convert them with the field's
    python_value, or use `instances`). Arguments must be plain values (text, numbers, dates) that
    the query passes to the driver unchanged.

    On PostgreSQL the statement is also prepared on the server (PREPARE, once per pooled connection)
    and run with EXECUTE: planning a join of ten tables cost 3.7 ms there, ten times its execution
    (the helpdesk's facts query). A statement PostgreSQL cannot prepare runs as plain SQL instead."""

    def __init__(self, build, arity=1):
        self.build, self.arity, self._compiled = build, arity, {}
        self._pg_name, self._pg_ok = f'registry_q{next(_statement_names)}', True

    def _plan(self):
        db = database.obj
        hit = self._compiled.get(id(db))
        if hit is None or hit[0] is not db:
            marks = tuple(f'\x00prepared-arg-{i}\x00' for i in range(self.arity))
            sql, params = self.build(*(pw.Value(m, converter=False) for m in marks)).sql()
            plan = [(marks.index(p), None) if isinstance(p, str) and p in marks else (None, p) for p in params]
            if {i for i, _ in plan if i is not None} != set(range(self.arity)):
                raise ValueError('every argument of a prepared query must appear as a parameter')
            hit = self._compiled[id(db)] = (db, sql, plan)
        return hit[1], hit[2]

    def rows(self, *args):
        sql, plan = self._plan()
        values = [args[i] if i is not None else const for i, const in plan]
        if self._pg_ok and is_postgres() and self._prepare_on_server(sql):
            marks = f' ({", ".join(["%s"] * len(values))})' if values else ''
            # the statement's text rides along as a comment: logs and query counts still show what ran
            shown = sql.replace('*/', '* /').replace('%', '%%')
            return database.execute_sql(f'/* {shown} */ EXECUTE {self._pg_name}{marks}', values).fetchall()
        return database.execute_sql(sql, values).fetchall()

    def _prepare_on_server(self, sql):
        """PREPARE this statement on the current connection unless it is there already. Through the
        driver, not execute_sql: the statement is set-up, not a query of the request."""
        conn = database.connection()
        names = _PG_PREPARED.setdefault(conn, set())
        if self._pg_name in names:
            return True
        numbers = itertools.count(1)
        text = re.sub(r'%([%s])', lambda m: '%' if m.group(1) == '%' else f'${next(numbers)}', sql)
        cursor = conn.cursor()
        inside = database.in_transaction()
        try:
            if inside:
                cursor.execute('SAVEPOINT registry_prepare')
            cursor.execute(f'PREPARE {self._pg_name} AS {text}')
            if inside:
                cursor.execute('RELEASE SAVEPOINT registry_prepare')
        except Exception:
            if inside:
                cursor.execute('ROLLBACK TO SAVEPOINT registry_prepare')
            logging.getLogger(__name__).warning('statement %s not prepared on the server', self._pg_name,
                                                exc_info=True)
            self._pg_ok = False
            return False
        names.add(self._pg_name)
        return True

    def instances(self, model, *args):
        """The rows as `model` instances; the query must select every column of `model` in order."""
        split = _splitter(model)
        return [split(row) for row in self.rows(*args)]


def joined(row, *models):
    """Split a raw row that selected every column of each model in turn (model._meta.sorted_fields) into
    one clean instance per model; a model whose columns are all NULL (an outer join's miss) gives None."""
    out, at = [], 0
    for model in models:
        split = _splitter(model)
        part = row[at:at + split.width]
        at += split.width
        out.append(None if part.count(None) == split.width else split(part))
    return out


# Field types whose python_value gives back, unchanged, a value of the type this driver already returns
# for them (exact types: a subclass may convert). Any other field is converted by its python_value.
_NATIVE_ON_SQLITE = frozenset({pw.AutoField, pw.BigAutoField, pw.IntegerField, pw.BigIntegerField,
                               pw.SmallIntegerField, pw.CharField, pw.FixedCharField, pw.TextField,
                               pw.FloatField, pw.DoubleField})
# psycopg2 returns dates, timestamps and booleans as Python's own
_NATIVE_ON_POSTGRES = _NATIVE_ON_SQLITE | {pw.DateField, pw.DateTimeField, pw.BooleanField}
_SPLITTERS = {}


def _native(field, native):
    if type(field) is pw.ForeignKeyField:
        field = field.rel_field
    return type(field) in native


def _splitter(model):
    """A function building a `model` instance from a row of its columns in _meta.sorted_fields order,
    converting only the values this database's driver does not already return as the field's Python
    type (on PostgreSQL a typical row converts nothing). Its `width` is the number of columns. Built
    once per model and kind of database."""
    db = database.obj
    key = (model, type(db))
    split = _SPLITTERS.get(key)
    if split is not None:
        return split
    fields = model._meta.sorted_fields
    names = tuple(f.name for f in fields)
    native = _NATIVE_ON_POSTGRES if isinstance(db, pw.PostgresqlDatabase) else _NATIVE_ON_SQLITE
    convert = tuple((i, f.python_value) for i, f in enumerate(fields) if not _native(f, native))
    plain = all(f.accessor_class in _PLAIN_ACCESSORS for f in fields)
    new, make = model.__new__, row_maker(model)

    def split(part):
        if convert:
            part = list(part)
            for i, python_value in convert:
                part[i] = python_value(part[i])
        if not plain:
            return make(**dict(zip(names, part)))
        obj = new(model)
        obj.__data__ = dict(zip(names, part))
        obj._dirty = set()
        obj.__rel__ = {}
        return obj
    split.width = len(fields)
    _SPLITTERS[key] = split
    return split


def loaded(model, **values):
    """A model instance holding these column values as a query would return it (no defaults, nothing dirty)."""
    return row_maker(model)(**values)


_MAKERS = {}
_PLAIN_ACCESSORS = (pw.FieldAccessor, pw.ForeignKeyAccessor)


def row_maker(model):
    """A constructor of `model` instances from column values keyed by field name, as peewee builds a
    row it read (no defaults, nothing dirty, no related rows), without setting each value through its
    field's descriptor: for a list page's rows that was a third of reading them (issue 15).

    Taking the values dict as the instance's data is what the descriptors do for plain values (a
    foreign key's id, a date, a string). A key that is not a plain field of the model (an alias, an
    `_id` name, a field with its own accessor) or a value that is itself a model instance goes through
    peewee's constructor. Usable as `query.objects(row_maker(Model))` for a select of Model's own
    columns."""
    maker = _MAKERS.get(model)
    if maker is not None:
        return maker
    plain = frozenset(name for name, field in model._meta.fields.items() if field.accessor_class in _PLAIN_ACCESSORS)
    new, base = model.__new__, pw.Model

    def make(**values):
        if values.keys() <= plain and not any(isinstance(v, base) for v in values.values()):
            obj = new(model)
            obj.__data__ = values
            obj._dirty = set()
            obj.__rel__ = {}
            return obj
        obj = model(__no_default__=True, **values)
        obj._dirty.clear()
        return obj
    _MAKERS[model] = make
    return make


def model_rows(query):
    """The rows of a select of its model's own columns (every column, or some), as model instances built
    by row_maker; any other select is run as peewee runs it."""
    model = getattr(query, 'model', None)
    returning = getattr(query, '_returning', None)
    if (model is not None and returning and getattr(query, '_row_type', None) is None
            and all(isinstance(c, pw.Field) and c.model is model for c in returning)):
        return list(query.objects(row_maker(model)))
    return list(query)
