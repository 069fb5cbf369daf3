"""Staff search and list paging at national scale (issue 15).

Name search: PostgreSQL gets pg_trgm GIN indexes on person.name and enterprise.name (for fragments of
3 characters or more) plus text_pattern_ops B-tree indexes (prefix search of 1-2 characters, whatever
the database collation); SQLite gets FTS5 trigram tables person_fts and enterprise_fts (external
content, kept in sync by triggers) filled from the existing rows. Every statement is idempotent.
"""
from peewee import *

FTS = ('person', 'enterprise')


def _sqlite_fts(db, table):
    fts = f'{table}_fts'
    db.execute_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(name, content='{table}', "
                   f"content_rowid='id', tokenize='trigram')")
    db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON "{table}" BEGIN '
                   f'INSERT INTO {fts}(rowid, name) VALUES (new.id, new.name); END')
    db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON "{table}" BEGIN '
                   f"INSERT INTO {fts}({fts}, rowid, name) VALUES ('delete', old.id, old.name); END")
    db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF name ON "{table}" BEGIN '
                   f"INSERT INTO {fts}({fts}, rowid, name) VALUES ('delete', old.id, old.name); "
                   f'INSERT INTO {fts}(rowid, name) VALUES (new.id, new.name); END')
    db.execute_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")      # backfill the existing rows


def up(migrator, db):
    # the 受理 / 审查 queues: WHERE state = ? ORDER BY reported_at, id, first and deep pages from the index
    db.execute_sql('CREATE INDEX IF NOT EXISTS application_state_reported_at_id ON application (state, reported_at, id)')
    if isinstance(db, PostgresqlDatabase):
        # SQLite's one-column indexes end with the rowid, so "WHERE state = ? ORDER BY id" (a filtered
        # list, the provincial officer's registrations) reads the index in order; PostgreSQL needs the id
        db.execute_sql('CREATE INDEX IF NOT EXISTS application_state_id ON application (state, id)')
        db.execute_sql('CREATE INDEX IF NOT EXISTS registration_province_id_id ON registration (province_id, id)')
        db.execute_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table in FTS:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS {table}_name_trgm ON "{table}" USING gin (name gin_trgm_ops)')
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS {table}_name_prefix ON "{table}" (name text_pattern_ops)')
    else:
        for table in FTS:
            _sqlite_fts(db, table)


def down(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS application_state_reported_at_id')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP INDEX IF EXISTS application_state_id')
        db.execute_sql('DROP INDEX IF EXISTS registration_province_id_id')
        for table in FTS:
            db.execute_sql(f'DROP INDEX IF EXISTS {table}_name_trgm')
            db.execute_sql(f'DROP INDEX IF EXISTS {table}_name_prefix')
    else:
        for table in FTS:
            for suffix in ('ai', 'ad', 'au'):
                db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_fts_{suffix}')
            db.execute_sql(f'DROP TABLE IF EXISTS {table}_fts')
