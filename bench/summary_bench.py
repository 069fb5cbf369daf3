"""Home, dashboard and helpdesk on a large registry (issue 15): p50 / p95 server time through the
Flask test client, and the queries each request runs; the summary counters' full recount.

    cd bench && ../.venv/bin/python summary_bench.py --database sqlite:////work/bench-data/reg1m-e2.sqlite
    cd bench && ../.venv/bin/python summary_bench.py --database postgresql://postgres@127.0.0.1:5432/bench_e2

The database is one bench/big_registry.py built (registry_bench.py, staff_pages_bench.py); pending
migrations are applied first (0020 backfills the counters: its time is printed). Run the same script
from a checkout of the code before the change to get the figures from before. The machine's load
average is printed beside the figures: other processes share the cores.
"""
import argparse
import os
import re
import statistics
import tempfile
import time

from _setup import peak_rss_mb  # noqa: F401  (puts the project on sys.path)


def pct(values, p):
    values = sorted(values)
    return values[max(0, int(round(len(values) * p / 100.0)) - 1)]


def load():
    return '/'.join(f'{x:.1f}' for x in os.getloadavg())


class QueryCounter:
    def __init__(self, db):
        self.db, self.n = db, 0
        original = db.execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            self.n += 1
            return original(sql, params, *args, **kwargs)
        db.execute_sql = execute_sql


def login(app, username):
    client = app.test_client()
    page = client.get('/login').get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post('/login', data={'username': username, 'password': 'Bench12345', 'csrf_token': token})
    assert r.status_code in (302, 303), (username, r.status_code)
    return client


def timed(client, counter, url, n, check=None, **kw):
    client.get(url, **kw)                                  # warm
    times, queries = [], []
    for _ in range(n):
        before = counter.n
        t = time.perf_counter()
        r = client.get(url, **kw)
        times.append((time.perf_counter() - t) * 1000)
        queries.append(counter.n - before)
        assert r.status_code == 200, (url, r.status_code)
        if check:
            check(r.get_data(as_text=True))
    return times, queries


def report(label, times, queries):
    print(f'{label:<44} n={len(times):<4} p50 {statistics.median(times):8.1f} ms   p95 {pct(times, 95):8.1f} ms   '
          f'queries {min(queries)}–{max(queries)}   load {load()}', flush=True)


def data_figures(n):
    """The figures alone, no page: from the counters, and by the queries they replace."""
    import datetime

    import peewee as pw

    from backoffice.desks.dashboard import home_counts
    from models import Application, User
    from reports import filters, stats
    f = filters.Filters()
    today = datetime.date.today()

    def by_queries():
        approved, refused, grounds = stats.decisions(f)
        return (stats.applications_by_month(f), approved, refused, grounds, stats.processing_time(f, today),
                stats.registered_by_province(f), stats.registered_by_specialty(f), stats.expiring(f, today))

    def old_home():
        rows = dict(Application.select(Application.state, pw.fn.COUNT(Application.id))
                    .group_by(Application.state).tuples())
        overdue = Application.select().where((Application.state == 'accepted')
                                             & (Application.deadline < today)).count()
        return rows, overdue
    admin = User.get(User.username == 'bench_admin')
    for label, fn, k in (('home counts from the counters', lambda: home_counts(admin), 30),
                         ('home counts by queries (before)', old_home, 3),
                         ('dashboard data from the counters', lambda: stats.summary_dashboard(f, today), n),
                         ('dashboard data by queries (before)', by_queries, 3)):
        times = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        print(f'{label:<44} n={k:<4} p50 {statistics.median(times):8.1f} ms   p95 {pct(times, 95):8.1f} ms   '
              f'(no page)   load {load()}', flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--database', required=True)
    parser.add_argument('--home', type=int, default=30)
    parser.add_argument('--dashboard', type=int, default=10)
    parser.add_argument('--lookups', type=int, default=300)
    args = parser.parse_args()
    from backoffice import create_app
    from backoffice import db as dbmod
    from backoffice.config import Config
    from models import Person, Province, User, database
    from backoffice.auth import hash_password
    tmp = tempfile.mkdtemp(prefix='summary-bench-')
    dbmod.bind(args.database)
    t = time.perf_counter()
    applied = dbmod.migrate()
    print(f'code: {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}   database: {args.database}')
    print(f'migrations applied now: {applied or "none"} in {time.perf_counter() - t:.1f} s   load {load()}')
    app = create_app(Config, DATABASE_URL=args.database, SECRET_KEY='bench', UPLOAD_DIR=tmp, OUTPUT_DIR=tmp,
                     SEED_DEMO=False, AUTO_MIGRATE=False, RATELIMIT_ENABLED=False)
    with app.app_context(), database.connection_context():
        counts = {t: database.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                  for t in ('person', 'application', 'registration', 'certificate')}
        print(f'rows: {counts}')
        bj = Province.get(Province.code == '11')
        for username, role, prov in (('bench_admin', 'admin', None), ('bench_provincial', 'provincial', bj.id),
                                     ('bench_supervisor', 'supervisor', None), ('bench_helpdesk', 'helpdesk', None)):
            if not User.get_or_none(User.username == username):
                User.create(username=username, name=username, password_hash=hash_password('Bench12345'), role=role,
                            province=prov)
        import random
        rng = random.Random(1)
        max_id = database.execute_sql('SELECT MAX(id) FROM person').fetchone()[0]
        ids = [p.id_number for p in Person.select(Person.id_number).where(
            Person.id.in_([rng.randrange(1, max_id) for _ in range(args.lookups)]))]
        try:
            from backoffice.workflow import summaries
        except ImportError:
            summaries = None
        if summaries is not None:
            t = time.perf_counter()
            n = len(summaries.recount())
            print(f'full recount of the summary counters ({n} counters): {time.perf_counter() - t:.1f} s   '
                  f'load {load()}')
        if summaries is not None:
            data_figures(args.dashboard)
    counter = QueryCounter(database.obj)
    admin = login(app, 'bench_admin')
    report('back-office home, administrator', *timed(admin, counter, '/admin/', args.home))
    prov = login(app, 'bench_provincial')

    def has_print(html):
        assert summaries is None or '待打印' in html
    report('back-office home, provincial officer', *timed(prov, counter, '/admin/', args.home, has_print))
    sup = login(app, 'bench_supervisor')
    report('dashboard, no filter', *timed(sup, counter, '/admin/dashboard/', args.dashboard))
    report(f'dashboard, province {bj.id} only', *timed(sup, counter, f'/admin/dashboard/?province_id={bj.id}',
                                                       args.dashboard))
    desk = login(app, 'bench_helpdesk')
    times, queries = [], []
    for key in ids:
        before = counter.n
        t = time.perf_counter()
        r = desk.get('/admin/helpdesk/', query_string={'q': key.lower()})
        times.append((time.perf_counter() - t) * 1000)
        queries.append(counter.n - before)
        assert r.status_code == 200 and 'person-summary' in r.get_data(as_text=True), key
    report('helpdesk lookup by ID number', times, queries)


if __name__ == '__main__':
    main()
