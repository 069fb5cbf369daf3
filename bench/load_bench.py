"""Mixed-workload load benchmark: gunicorn (the Procfile's web process) against Werkzeug's
development server on the same data, many concurrent scripted users. Prints requests/s and
p50/p95/p99 per endpoint, and the error count. Benchmarks print figures; nothing asserts on time.

    .venv/bin/python bench/load_bench.py                           # SQLite, 2000 demo persons, 20 s each
    .venv/bin/python bench/load_bench.py --database-url postgresql://…/registry --no-seed \\
        --users 64 --seconds 60                                    # an existing (1M-person) registry

Workload (weights): public verification page, public search (name + ID number), an applicant's
progress page, the staff review queue and an application's details, the helpdesk lookup.
Rate limits are switched off for the servers under test (RATELIMIT_ENABLED=0).
"""
import argparse
import collections
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

WEIGHTS = {'verify': 40, 'public_search': 15, 'applicant_progress': 15, 'staff_queue': 10,
           'application_details': 10, 'helpdesk': 10}

PREPARE = r'''
import json, sys
from backoffice import create_app
from backoffice.issuing import certificates, notices
from models import Application, Certificate, Person, Registration, User, database
persons, seed = int(sys.argv[1]), sys.argv[2] == '1'
app = create_app()
with app.app_context(), database.connection_context():
    if seed and not Person.select().exists():
        from seed.demo import generate
        generate(persons)
    if not Certificate.select().exists():
        reviewer = User.get(User.username == 'shencha')
        ids = [a.id for a in Application.select().where((Application.state == 'approved')
               & (Application.business_type == 'initial')).limit(500)]
        if ids:
            notices.publish(notices.create_draft(reviewer, ids=ids).id, reviewer)
    certs = list(Certificate.select().limit(200))
    regs = list(Registration.select(Registration, Person).join(Person).where(Registration.state == 'active').limit(200))
    apps = [a.id for a in Application.select(Application.id).where(Application.state == 'accepted').limit(200)]
    print(json.dumps({
        'verify': ['/verify/' + certificates.token_for(c) for c in certs],
        'search': [{'name': r.person.name, 'id_number': r.person.id_number} for r in regs],
        'ids': [r.person.id_number for r in regs],
        'apps': apps,
    }))
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _procfile_web():
    with open(os.path.join(HERE, 'Procfile')) as fh:
        for line in fh:
            if line.startswith('web:'):
                argv = shlex.split(line.split(':', 1)[1])
                argv[0] = sys.executable
                return argv
    raise SystemExit('Procfile has no web process')


def _wait(url, proc, timeout=120):
    import requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f'server exited ({proc.returncode})')
        try:
            if requests.get(url + '/healthz', timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit('server did not start')


def _start(kind, env):
    port = _free_port()
    env = dict(env, PORT=str(port), HOST='127.0.0.1', PUBLIC_BASE_URL=f'http://127.0.0.1:{port}')
    if kind == 'gunicorn':
        argv = _procfile_web()
    else:
        argv = [sys.executable, '-c',
                'import os; from werkzeug.serving import run_simple; from backoffice.wsgi import app; '
                'run_simple("127.0.0.1", int(os.environ["PORT"]), app, threaded=True)']
    proc = subprocess.Popen(argv, cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    _wait(url, proc)
    return proc, url


def _login(session, url, username, password):
    import re
    page = session.get(url + '/login').text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = session.post(url + '/login', data={'username': username, 'password': password, 'csrf_token': token},
                     allow_redirects=False)
    if r.status_code != 302:
        raise SystemExit(f'login failed for {username}')


def _user(url, data, seconds, results, errors, seed, ready):
    import requests

    from seed.demo import DEMO_ACCOUNTS
    passwords = {u: p for u, p, *_ in DEMO_ACCOUNTS}
    rng = random.Random(seed)
    public = requests.Session()
    applicant, reviewer, helpdesk = requests.Session(), requests.Session(), requests.Session()
    _login(applicant, url, 'shenqing', passwords['shenqing'])
    _login(reviewer, url, 'shencha', passwords['shencha'])
    _login(helpdesk, url, 'kefu', passwords['kefu'])
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    ready.wait()                            # every user logged in: the measured period starts together
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        kind = rng.choices(names, weights)[0]
        params = None
        if kind == 'verify' and data['verify']:
            session, path = public, rng.choice(data['verify'])
        elif kind == 'public_search' and data['search']:
            session, path = public, '/search'
            params = rng.choice(data['search'])
        elif kind == 'applicant_progress':
            session, path = applicant, '/portal/progress'
        elif kind == 'staff_queue':
            session, path = reviewer, '/admin/review_queue/'
        elif kind == 'application_details' and data['apps']:
            session, path = reviewer, f"/admin/application/details/?id={rng.choice(data['apps'])}"
        elif kind == 'helpdesk' and data['ids']:
            session, path = helpdesk, '/admin/helpdesk/'
            params = {'q': rng.choice(data['ids'])}
        else:
            continue
        started = time.perf_counter()
        try:
            r = session.get(url + path, params=params, timeout=30, allow_redirects=False)
            ok = r.status_code == 200
        except Exception:
            ok = False
        elapsed = time.perf_counter() - started
        results[kind].append(elapsed)
        if not ok:
            errors[kind] += 1


def run(kind, env, data, users, seconds):
    proc, url = _start(kind, env)
    results, errors = collections.defaultdict(list), collections.Counter()
    try:
        clock = {}
        ready = threading.Barrier(users + 1, action=lambda: clock.setdefault('start', time.monotonic()))
        threads = [threading.Thread(target=_user, args=(url, data, seconds, results, errors, k, ready))
                   for k in range(users)]
        for t in threads:
            t.start()
        ready.wait()                        # logins (password hashing) are not part of the figures
        for t in threads:
            t.join()
        wall = time.monotonic() - clock['start']
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return results, errors, wall


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000 if values else 0.0


def report(label, results, errors, wall):
    total = sum(len(v) for v in results.values())
    print(f'\n== {label}: {total / wall:.0f} requests/s overall, {sum(errors.values())} errors, {wall:.1f} s')
    print(f'{"endpoint":<22}{"req/s":>8}{"p50 ms":>9}{"p95 ms":>9}{"p99 ms":>9}{"errors":>8}')
    for name in WEIGHTS:
        v = results.get(name, [])
        print(f'{name:<22}{len(v) / wall:>8.0f}{_pct(v, 50):>9.1f}{_pct(v, 95):>9.1f}{_pct(v, 99):>9.1f}'
              f'{errors.get(name, 0):>8}')
    return total / wall


def main(argv=None):
    parser = argparse.ArgumentParser(description='混合负载基准：gunicorn 与 Werkzeug 开发服务器')
    parser.add_argument('--database-url', default=None, help='默认：临时 SQLite 数据库')
    parser.add_argument('--persons', type=int, default=2000)
    parser.add_argument('--no-seed', action='store_true', help='使用已有数据，不生成演示数据')
    parser.add_argument('--users', type=int, default=32, help='并发用户数')
    parser.add_argument('--seconds', type=int, default=20, help='每个服务器的压测时长')
    parser.add_argument('--skip-dev-server', action='store_true')
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix='registry-load-')
    env = {k: v for k, v in os.environ.items() if k not in ('HUEY_IMMEDIATE',)}
    env.update(INSTANCE_DIR=tmp, RATELIMIT_ENABLED='0', SECRET_KEY='load-bench', LOG_LEVEL='WARNING',
               DATABASE_URL=args.database_url or 'sqlite:///' + os.path.join(tmp, 'bench.db'),
               PYTHONPATH=HERE, AUTO_MIGRATE='1')
    print('准备数据 ...', flush=True)
    done = subprocess.run([sys.executable, '-c', PREPARE, str(args.persons), '0' if args.no_seed else '1'],
                          cwd=HERE, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    data = json.loads(done.stdout.strip().splitlines()[-1])
    env['AUTO_MIGRATE'] = '0'
    print(f"数据：{len(data['verify'])} 个核验地址，{len(data['search'])} 名注册人员，{len(data['apps'])} 件待审查申请；"
          f'{args.users} 个并发用户，每个服务器 {args.seconds} 秒', flush=True)
    rates = {}
    for kind in ('gunicorn',) + (() if args.skip_dev_server else ('werkzeug',)):
        results, errors, wall = run(kind, env, data, args.users, args.seconds)
        label = ('gunicorn (Procfile web: ' + f"{os.environ.get('WEB_WORKERS') or max(2, os.cpu_count() or 1)} "
                 f"workers × {os.environ.get('WEB_THREADS') or 4} threads)") if kind == 'gunicorn' \
            else 'Werkzeug development server (threaded)'
        rates[kind] = report(label, results, errors, wall)
    if len(rates) == 2 and rates['werkzeug']:
        print(f"\ngunicorn / Werkzeug: {rates['gunicorn'] / rates['werkzeug']:.2f}×")


if __name__ == '__main__':
    main()
