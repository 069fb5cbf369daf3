"""Benchmark on a large registry: helpdesk lookups (p95), the dashboard, a 1M-row CSV export.

    .venv/bin/python bench/registry_bench.py [--persons 1000000] [--database URL] [--reuse FILE]

Builds the registry (bench/big_registry.py) unless --reuse names an already built SQLite file.
Server time is measured around the Flask test client's request (no network).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from _setup import fresh_app, peak_rss_mb


def p95(values):
    values = sorted(values)
    return values[int(len(values) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--persons', type=int, default=1_000_000)
    parser.add_argument('--database', default=None)
    parser.add_argument('--reuse', default=None, help='an SQLite file already built by this benchmark')
    parser.add_argument('--lookups', type=int, default=300)
    args = parser.parse_args()
    url = args.database or (f'sqlite:///{args.reuse}' if args.reuse else None)
    if args.reuse:
        from backoffice import create_app
        from backoffice.config import Config
        import tempfile
        tmp = tempfile.mkdtemp()
        app = create_app(Config, DATABASE_URL=url, SECRET_KEY='bench', UPLOAD_DIR=tmp, OUTPUT_DIR=tmp)
    else:
        app, tmp = fresh_app(url)
    url = app.config['DATABASE_URL']
    from models import Person, Registration, User, database
    from backoffice.auth import hash_password
    with app.app_context(), database.connection_context():
        if not args.reuse:
            import big_registry
            started = time.perf_counter()
            big_registry.build(args.persons)
            print(f'built {args.persons} persons in {time.perf_counter() - started:.0f} s')
        counts = {t: database.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                  for t in ('person', 'application', 'registration', 'registered_specialty')}
        print(f'database: {url.split(":")[0]}  rows: {counts}')
        for username, role in (('bench_helpdesk', 'helpdesk'), ('bench_supervisor', 'supervisor')):
            if not User.get_or_none(User.username == username):
                User.create(username=username, name=username, password_hash=hash_password('Bench12345'), role=role)
        import random
        rng = random.Random(1)
        max_id = database.execute_sql('SELECT MAX(id) FROM person').fetchone()[0]
        ids = [p.id_number for p in Person.select(Person.id_number).where(
            Person.id.in_([rng.randrange(1, max_id) for _ in range(args.lookups)]))]
        regs = [r.number for r in Registration.select(Registration.number).where(
            Registration.id.in_([rng.randrange(1, counts['registration']) for _ in range(args.lookups)]))]
    client = app.test_client()
    page = client.get('/login').get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post('/login', data={'username': 'bench_helpdesk', 'password': 'Bench12345', 'csrf_token': token})
    for label, keys in (('ID number', [k.lower() for k in ids]), ('注册编号', regs)):
        times = []
        for key in keys:
            t = time.perf_counter()
            r = client.get('/admin/helpdesk/', query_string={'q': key})
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200 and 'person-summary' in r.get_data(as_text=True), key
        print(f'helpdesk lookup by {label}: n={len(times)} p50 {statistics.median(times):.1f} ms, '
              f'p95 {p95(times):.1f} ms, max {max(times):.1f} ms')
    client.post('/logout', data={'csrf_token': token})
    sup = app.test_client()
    page = sup.get('/login').get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    sup.post('/login', data={'username': 'bench_supervisor', 'password': 'Bench12345', 'csrf_token': token})
    sup.get('/admin/dashboard/')                      # first request warms the caches
    times = []
    for _ in range(3):
        t = time.perf_counter()
        r = sup.get('/admin/dashboard/')
        times.append(time.perf_counter() - t)
        assert r.status_code == 200 and r.get_data(as_text=True).count('<svg class="chart"') == 7
    print(f'dashboard, all charts, no filter: {min(times):.2f} s best of 3 ({", ".join(f"{x:.2f}" for x in times)})')
    t = time.perf_counter()
    sup.get('/admin/dashboard/?province_id=1&date_from=2026-01-01')
    print(f'dashboard with province + date filter: {time.perf_counter() - t:.2f} s')
    # a CSV export of about 1M rows, in its own lean process (python -m reports), so that its peak
    # memory is its own: rows created since the date that leaves about 1,000,000 of them
    with app.app_context(), database.connection_context():
        from models import Application
        total = counts['application']
        cut = (Application.select(Application.created_at).order_by(Application.created_at.desc())
               .offset(min(1_000_000, total) - 1).limit(1).scalar())
        cut = str(cut)[:10]
    out = os.path.join(tmp, 'applications.csv')
    code = ('import resource, runpy, sys, time; t = time.perf_counter(); '
            f'sys.argv = ["reports", "applications", "--out", "{out}", "--database", "{url}", "--date-from", "{cut}"]\n'
            'try:\n    runpy.run_module("reports", run_name="__main__")\nexcept SystemExit:\n    pass\n'
            # VmHWM resets at exec; ru_maxrss would carry over the parent's high-water mark
            'hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]\n'
            'print(f"{time.perf_counter() - t:.2f} {int(hwm) / 1024:.0f}")')
    res = subprocess.run([sys.executable, '-c', code], cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stderr[-2000:])
        raise SystemExit(1)
    seconds, rss = res.stdout.strip().split()[-2:]
    lines = sum(1 for _ in open(out, encoding='utf-8-sig')) - 1
    print(f'CSV export of {lines} application rows (python -m reports): {seconds} s, '
          f'peak RSS of the exporting process {rss} MB')
    print(f'peak RSS of this process: {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()
