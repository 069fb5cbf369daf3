"""Database binding: one URL picks SQLite (embedded default) or PostgreSQL (production)."""
import os

import peewee as pw
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase

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
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type='IMMEDIATE',
                                 check_same_thread=False)
    if url.startswith(('postgresql://', 'postgres://')):
        from urllib.parse import unquote, urlparse
        u = urlparse(url)
        return PooledPostgresqlDatabase(
            unquote(u.path.lstrip('/')), user=unquote(u.username or '') or None,
            password=unquote(u.password or '') or None, host=u.hostname, port=u.port or 5432,
            max_connections=int(os.environ.get('DB_POOL_SIZE', '32')), stale_timeout=300,
            autorollback=True)
    raise ValueError(f'不支持的数据库地址：{url}')


def bind(url):
    """Point the shared proxy at the database named by url. Returns the database."""
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
