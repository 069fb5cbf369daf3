"""The database plumbing the hot paths rely on (issue 10): db.Prepared (a query's SQL composed once per
database), db.loaded / Prepared.instances, the pooled SQLite connections, and public pages that set
no session cookie."""
import datetime
import os
import tempfile

import peewee as pw
import pytest

from backoffice import db as dbmod
from models import Person, Registration, database

from .conftest import make_enterprise, make_person, make_registration


def test_prepared_substitutes_each_argument_where_it_stands(app):
    a = make_person(name='甲一')
    b = make_person(name='乙二', birth=datetime.date(1970, 1, 2))
    # the arguments appear in the SQL in another order than the builder's parameters
    q = dbmod.Prepared(lambda born_after, name: Person.select(Person.id).where(
        (Person.name == name) & (Person.birth_date > born_after)).order_by(Person.id), arity=2)
    assert q.rows('1980-01-01', '甲一') == [(a.id,)]
    assert q.rows('1960-01-01', '乙二') == [(b.id,)]
    assert q.rows('1980-01-01', '乙二') == []
    # the same text is reused: composing happens once per database
    sql_before = q._plan()[0]
    q.rows('1960-01-01', '甲一')
    assert q._plan()[0] is sql_before


def test_prepared_instances_are_clean_models_with_python_values(app):
    person = make_person(name='丙三')
    q = dbmod.Prepared(lambda pid: Person.select().where(Person.id == pid))
    [got] = q.instances(Person, person.id)
    assert isinstance(got, Person) and got.id == person.id and got.name == '丙三'
    assert got.birth_date == person.birth_date and isinstance(got.birth_date, datetime.date)
    assert not got.dirty_fields


def test_row_maker_builds_the_instances_peewee_builds(app):
    """Rows built by db.row_maker (a list page's rows, prefetched related rows) hold what peewee's own
    rows hold: the same values, nothing dirty, no related row cached, a foreign key read on access,
    and a save writes them back."""
    enterprise = make_enterprise()
    person = make_person(name='丁四')
    reg = make_registration(person, enterprise, ('建筑工程',))
    query = Registration.select().where(Registration.person == person)
    [theirs] = list(query)
    [ours] = dbmod.model_rows(query)
    assert type(ours) is Registration and ours.__data__ == theirs.__data__
    assert not ours.dirty_fields and ours.__rel__ == {}
    assert ours.person.name == '丁四' and ours.enterprise.id == enterprise.id     # lazily read, as peewee's
    [raw] = list(Person.raw('SELECT * FROM person WHERE id = %s' if dbmod.is_postgres()
                            else 'SELECT * FROM person WHERE id = ?', person.id).objects(dbmod.row_maker(Person)))
    assert raw.__data__ == Person.get_by_id(person.id).__data__ and not raw.dirty_fields
    ours.seal_check = 7
    assert ours.dirty_fields == [Registration.seal_check]
    ours.save()
    assert Registration.get_by_id(reg.id).seal_check == 7
    # a key that is not a plain field (an `_id` alias) or a model instance as a value: peewee's constructor
    built = dbmod.row_maker(Registration)(person_id=person.id, number='X1')
    assert built.person_id == person.id and built.__data__ == {'person': person.id, 'number': 'X1'}
    linked = dbmod.row_maker(Registration)(person=person, number='X2')
    assert linked.__rel__ == {'person': person} and linked.__data__['person'] == person.id
    # a select of other columns than the model's own is run as peewee runs it
    named = dbmod.model_rows(Registration.select(Registration.id, Person.name.alias('holder')).join(Person)
                             .where(Registration.id == reg.id))
    assert [(r.id, r.person.holder) for r in named] == [(reg.id, '丁四')]


def test_joined_builds_what_peewee_reads_for_every_model(app, users):
    """db.joined (and Prepared.instances) convert only the values the driver does not already return as
    the field's Python type: for every model with rows, the instances equal peewee's own, value for
    value and type for type (dates and booleans on SQLite, every kind of field on PostgreSQL)."""
    from models import ALL_MODELS
    from .conftest import registered_with_certificate
    registered_with_certificate(users, with_images=False)
    checked = 0
    for model in ALL_MODELS:
        theirs = list(model.select().order_by(model._meta.primary_key).limit(5)) if model._meta.primary_key else []
        if not theirs:
            continue
        sql, params = model.select().order_by(model._meta.primary_key).limit(5).sql()
        rows = database.execute_sql(sql, params).fetchall()
        ours = [dbmod.joined(row, model)[0] for row in rows]
        for a, b in zip(ours, theirs):
            assert type(a) is model and a.__data__ == b.__data__, model
            assert {k: type(v) for k, v in a.__data__.items()} == {k: type(v) for k, v in b.__data__.items()}, model
            assert not a.dirty_fields and a.__rel__ == {}
        checked += 1
    assert checked >= 10
    # an outer join's miss (every column NULL) is None; the next model's columns are still read
    person = make_person(name='戊五')
    row = (None,) * len(Registration._meta.sorted_fields) + database.execute_sql(
        *Person.select().where(Person.id == person.id).sql()).fetchone()
    missing, found = dbmod.joined(row, Registration, Person)
    assert missing is None and found.__data__ == Person.get_by_id(person.id).__data__


def test_prepared_refuses_a_builder_that_drops_an_argument(app):
    q = dbmod.Prepared(lambda pid, unused: Person.select().where(Person.id == pid), arity=2)
    with pytest.raises(ValueError):
        q.rows(1, 2)


def test_prepared_recomposes_for_another_database(app):
    """A query composed for one database is not reused for another (a rebind, or SQLite and PostgreSQL)."""
    reg = make_registration(make_person(name='丁四'), make_enterprise())
    q = dbmod.Prepared(lambda number: Registration.select(Registration.id).where(Registration.number == number))
    assert q.rows(reg.number) == [(reg.id,)]
    first = q._compiled[id(database.obj)]
    other = pw.SqliteDatabase(':memory:')
    saved = database.obj
    database.initialize(other)
    try:
        with database.connection_context():
            database.execute_sql('CREATE TABLE registration (id INTEGER PRIMARY KEY, number TEXT)')
            database.execute_sql("INSERT INTO registration (id, number) VALUES (7, 'X1')")
            assert q.rows('X1') == [(7,)]
            assert q._compiled[id(other)][0] is other and q._compiled[id(saved)] is first
    finally:
        database.initialize(saved)


def test_sqlite_files_are_pooled_and_a_rebind_closes_the_old_pool():
    folder = tempfile.mkdtemp(prefix='pool-test-')
    db = dbmod.make_database('sqlite:///' + os.path.join(folder, 'a.db'))
    assert isinstance(db, dbmod.PooledSqliteDatabase)
    assert not isinstance(dbmod.make_database('sqlite:///:memory:'), dbmod.PooledDatabase)
    db.connect()
    first = db.connection()
    assert db.execute_sql('PRAGMA foreign_keys').fetchone()[0] == 1       # pragmas set on the pooled connection
    db.close()                                                            # back to the pool, not closed
    db.connect()
    assert db.connection() is first                                      # the next request borrows it again
    db.close()
    saved = database.obj
    database.initialize(db)
    try:
        dbmod.bind('sqlite:///' + os.path.join(folder, 'b.db'))
        assert db._connections == [] and not db._in_use                  # the old pool holds nothing open
    finally:
        database.obj.close_all()
        database.initialize(saved)


@pytest.mark.parametrize('path', ['/', '/announcements', '/search', '/verify/not-a-token'])
def test_public_pages_set_no_session_cookie(client, path):
    """An anonymous page carries no CSRF token, so it writes no session (a cookie signed on every
    verification request cost a tenth of its time and told nothing)."""
    r = client.get(path)
    assert r.status_code in (200, 400)
    assert 'Set-Cookie' not in r.headers, r.headers.get('Set-Cookie')
    assert 'csrf-token' not in r.get_data(as_text=True)


def test_the_login_page_still_gets_its_token(client):
    r = client.get('/login')
    assert 'Set-Cookie' in r.headers and 'name="csrf_token"' in r.get_data(as_text=True)


def test_on_postgresql_a_statement_is_prepared_once_per_connection(app):
    if not dbmod.is_postgres():
        pytest.skip('server-side statements are PostgreSQL-only')
    person = make_person(name='戊五')
    q = dbmod.Prepared(lambda pid: Person.select(Person.id, Person.name).where(Person.id == pid))
    assert q.rows(person.id) == [(person.id, '戊五')]
    assert q.rows(person.id) == [(person.id, '戊五')]
    prepared = database.execute_sql('SELECT name, statement FROM pg_prepared_statements').fetchall()
    mine = [text for name, text in prepared if name == q._pg_name]
    assert len(mine) == 1 and '$1' in mine[0] and '"person"' in mine[0]


def test_on_postgresql_a_statement_the_server_cannot_prepare_runs_as_plain_sql(app):
    if not dbmod.is_postgres():
        pytest.skip('server-side statements are PostgreSQL-only')
    person = make_person(name='己六')
    # "$1 IS NULL": PostgreSQL cannot tell the parameter's type, so PREPARE fails
    q = dbmod.Prepared(lambda flag: Person.select(Person.id).where((Person.id == person.id) & flag.is_null(False)))
    with database.atomic():                     # inside a transaction the failed PREPARE is rolled back alone
        assert q.rows('x') == [(person.id,)]
        assert Person.select().where(Person.id == person.id).count() == 1
    assert q._pg_ok is False and q.rows('y') == [(person.id,)]


def _pg_pool(ping_after):
    """A pool of its own on the test database (not the app's), with a cursor that records what it runs."""
    import psycopg2.extensions
    from .conftest import database_url
    ran = []

    class Recording(psycopg2.extensions.cursor):
        def execute(self, sql, args=None):
            ran.append(str(sql))
            return super().execute(sql, args)

    pool = dbmod.make_database(database_url())
    pool._ping_after = ping_after
    pool.connect_params['cursor_factory'] = Recording
    return pool, ran


def _backend_pid(pool):
    with pool.connection_context():
        return pool.execute_sql('SELECT pg_backend_pid()').fetchone()[0]


def test_on_postgresql_a_pooled_connection_back_recently_is_not_pinged(app):
    if not dbmod.is_postgres():
        pytest.skip('the PostgreSQL pool')
    pool, ran = _pg_pool(ping_after=60)
    try:
        first = _backend_pid(pool)
        assert _backend_pid(pool) == first and _backend_pid(pool) == first      # the same connection, reused
        assert 'SELECT 1' not in ran                                             # and never pinged
        pool._ping_after = 0                                                     # it has now rested "long"
        assert _backend_pid(pool) == first
        assert ran.count('SELECT 1') == 1                                        # pinged once, on check-out
    finally:
        pool.close_all()


def test_on_postgresql_a_rested_connection_the_server_dropped_is_replaced(app):
    if not dbmod.is_postgres():
        pytest.skip('the PostgreSQL pool')
    pool, ran = _pg_pool(ping_after=0)
    try:
        first = _backend_pid(pool)
        database.execute_sql('SELECT pg_terminate_backend(%s)', (first,))       # e.g. the server restarted
        second = _backend_pid(pool)                 # the ping failed: a new connection, and the query ran
        assert second != first and 'SELECT 1' in ran
    finally:
        pool.close_all()


def test_the_public_frame_drawn_once_follows_the_visitor_and_the_script_root(app, password_hash):
    """The style sheets, scripts and an anonymous visitor's menu are drawn once per app (views/layout.py):
    a signed-in applicant still gets their own menu (their name, 我的业务, 退出登录) and an anonymous
    visitor never does; an app served under a prefix gets its addresses with the prefix."""
    from .conftest import login, make_user
    holder = make_user('frame_holder', password_hash, role='applicant', person=make_person(name='己六'),
                       mobile='13822223333')
    anonymous = app.test_client()
    for _ in range(2):                                    # drawn, then reused
        page = anonymous.get('/search').get_data(as_text=True)
        assert 'href="/login"' in page and '退出登录' not in page and 'href="/static/css/app.css"' in page
    applicant = app.test_client()
    assert login(applicant, holder.username).status_code == 302
    page = applicant.get('/search').get_data(as_text=True)
    assert '退出登录' in page and '我的业务' in page and holder.name in page
    assert 'name="csrf-token"' in page
    page = anonymous.get('/search').get_data(as_text=True)
    assert '退出登录' not in page and '我的业务' not in page and 'name="csrf-token"' not in page
    prefixed = app.test_client().get('/search', base_url='http://localhost/registry/').get_data(as_text=True)
    assert 'href="/registry/static/css/app.css"' in prefixed and 'href="/registry/login"' in prefixed
    page = anonymous.get('/search').get_data(as_text=True)
    assert 'href="/static/css/app.css"' in page and '/registry/' not in page


def test_the_public_frame_keeps_a_bounded_number_of_script_roots(app):
    """A client sending a new script root on every request (X-Forwarded-Prefix behind ProxyFix) does not
    grow the frame cache: at most views.layout.MAX_ENTRIES entries, the rest drawn each time, correctly."""
    from views import layout
    client = app.test_client()
    for i in range(layout.MAX_ENTRIES + 20):
        page = client.get('/search', base_url=f'http://localhost/p{i}/').get_data(as_text=True)
        assert f'href="/p{i}/static/css/app.css"' in page and f'href="/p{i}/login"' in page
    assert len(app.extensions['registry_page_fragments']) <= layout.MAX_ENTRIES
