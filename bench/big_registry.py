"""Build a large registry for the benchmarks: N persons (default 1,000,000), 3 applications each,
60 % registered with one or two specialties. Raw DB-API bulk loading (executemany on SQLite,
COPY on PostgreSQL), into a database already migrated to the current schema."""
import datetime
import io
import random

from backoffice import db as dbmod
from models import database

STATES = ['draft', 'submitted', 'reported', 'accepted', 'approved', 'refused', 'announced', 'announced',
          'announced', 'withdrawn']
TYPES = ['initial', 'addition', 'renewal', 'cancellation', 'reregister', 'info_change']


def _load(table, columns, rows, chunk=50000):
    """Insert an iterable of tuples into table."""
    conn = database.connection()
    if dbmod.is_postgres():
        cur = conn.cursor()
        batch = []

        def flush():
            buf = io.StringIO()
            for r in batch:
                buf.write('\t'.join('\\N' if v is None else str(v) for v in r) + '\n')
            buf.seek(0)
            cur.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buf)
            batch.clear()
        for r in rows:
            batch.append(r)
            if len(batch) >= chunk:
                flush()
        if batch:
            flush()
        conn.commit()
    else:
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        cur = conn.cursor()
        batch = []
        cur.execute('BEGIN')
        for r in rows:
            batch.append(r)
            if len(batch) >= chunk:
                cur.executemany(sql, batch)
                batch.clear()
        if batch:
            cur.executemany(sql, batch)
        cur.execute('COMMIT')


def _fts_triggers(create):
    """SQLite: the name-search triggers of migration 0019 cost a trigram index write per inserted row;
    a bulk load drops them and rebuilds the FTS tables once at the end (same result)."""
    if dbmod.is_postgres():
        return
    exists = database.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'person_fts'").fetchone()
    if not exists:
        return
    if create:
        import importlib.util
        import os
        path = os.path.join(dbmod.MIGRATIONS_DIR, '0019_staff_search.py')
        spec = importlib.util.spec_from_file_location('m0019', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for table in module.FTS:
            module._sqlite_fts(database, table)       # triggers again, and 'rebuild' from the rows
    else:
        for table in ('person', 'enterprise'):
            for suffix in ('ai', 'ad', 'au'):
                database.execute_sql(f'DROP TRIGGER IF EXISTS {table}_fts_{suffix}')


def build(persons=1_000_000, apps_per_person=3, seed=7, say=print):
    from seed.demo import _region_codes, id_number_for, uscc_for
    from seed.reference import load_reference
    from models import Province
    load_reference()
    rng = random.Random(seed)
    provinces = list(Province.select().order_by(Province.code))
    region_by_code = _region_codes()
    regions = [region_by_code[p.code] for p in provinces if p.code in region_by_code]
    today = datetime.date.today()
    now = datetime.datetime.now().replace(microsecond=0)
    n_ent = max(1000, persons // 100)
    _fts_triggers(False)
    say(f'enterprises: {n_ent}')
    _load('enterprise', ['uscc', 'name', 'legal_rep', 'province_id', 'city', 'address', 'verified', 'created_at',
                         'status', 'status_source'],
          ((uscc_for(j, region_by_code.get(provinces[j % 31].code, '110102')),
            f'{provinces[j % 31].name}第{j + 1}建设工程有限公司', '王强', provinces[j % 31].id, '市区', '建设路',
            True, now, 'normal', '') for j in range(n_ent)))
    ent_ids = [e for (e,) in database.execute_sql('SELECT id FROM enterprise ORDER BY id').fetchall()]
    ent_prov = dict(database.execute_sql('SELECT id, province_id FROM enterprise').fetchall())
    say(f'persons: {persons}')
    _load('person', ['id_number', 'name', 'gender', 'birth_date', 'ethnicity', 'school', 'major', 'education',
                     'mobile', 'reg_core', 'seal_count', 'created_at', 'updated_at'],
          ((*id_number_for(i, regions)[:1], f'人员{i}', '男' if i % 2 else '女', id_number_for(i, regions)[1],
            '汉族', '某大学', '土木工程', '本科', f'138{i:08d}', f'124{i:09d}' if i % 10 < 6 else None, 1 if i % 10 < 6 else 0, now, now) for i in range(persons)))
    say('name search index')
    _fts_triggers(True)
    first_person = database.execute_sql('SELECT MIN(id) FROM person').fetchone()[0]
    say('registrations')
    abbr = {p.id: p.abbr for p in provinces}
    _load('registration', ['person_id', 'enterprise_id', 'province_id', 'number', 'seal_check', 'state',
                           'registered_on', 'created_at', 'end_reason'],
          ((first_person + i, ent_ids[i % n_ent], ent_prov[ent_ids[i % n_ent]],
            f'{abbr[ent_prov[ent_ids[i % n_ent]]]}124{i:09d}',
            0, 'active', today - datetime.timedelta(days=i % 1000), now, '')
           for i in range(persons) if i % 10 < 6))
    first_reg = database.execute_sql('SELECT MIN(id) FROM registration').fetchone()[0]
    n_reg = database.execute_sql('SELECT COUNT(*) FROM registration').fetchone()[0]
    say('registered specialties')
    _load('registered_specialty', ['registration_id', 'specialty_id', 'valid_from', 'valid_until', 'state'],
          ((first_reg + k, 1 + (k % 10), today - datetime.timedelta(days=k % 1000),
            today + datetime.timedelta(days=(k * 7) % 1100 - 100), 'active') for k in range(n_reg)))
    say(f'applications: {persons * apps_per_person}')

    def apps():
        for i in range(persons):
            for j in range(apps_per_person):
                k = i * apps_per_person + j
                state = STATES[rng.randrange(len(STATES))]
                created = now - datetime.timedelta(days=rng.randrange(720), minutes=rng.randrange(1440))
                accepted = created + datetime.timedelta(days=3) if state in (
                    'accepted', 'approved', 'refused', 'announced') else None
                decided = accepted + datetime.timedelta(days=rng.randrange(1, 40)) if accepted and state != 'accepted' \
                    else None
                deadline = (accepted + datetime.timedelta(days=28)).date() if accepted else None
                bt = TYPES[k % 6]
                ent = None if bt == 'info_change' else ent_ids[k % n_ent]
                submitted = created if state != 'draft' else None
                reported = created + datetime.timedelta(days=1) if state not in ('draft', 'submitted', 'withdrawn') \
                    else None
                yield (f'SQB{k:012d}', bt, first_person + i, ent, ent_prov.get(ent), state, 1, False, created,
                       submitted, reported, accepted, decided, deadline, '', '', '', '', '', '', 'applicant')
    _load('application', ['number', 'business_type', 'person_id', 'enterprise_id', 'province_id', 'state', 'version',
                          'commitment_accepted', 'created_at', 'submitted_at', 'reported_at', 'accepted_at',
                          'decided_at', 'deadline', 'new_name', 'new_id_number', 'change_explanation',
                          'correction_note', 'return_reason', 'refusal_text', 'initiated_by'], apps())
    # rows loaded in bulk bypass the summary counters' choke points: recount them (workflow.summaries)
    from backoffice.workflow import summaries
    if 'summary_count' in database.get_tables():
        summaries.rebuild()
    if dbmod.is_postgres():
        # what autovacuum would do in production: statistics and the visibility map (index-only scans)
        conn = database.connection()
        conn.commit()
        old, conn.autocommit = conn.autocommit, True
        conn.cursor().execute('VACUUM ANALYZE')
        conn.autocommit = old
    else:
        database.execute_sql('ANALYZE')
