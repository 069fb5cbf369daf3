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
    if not User.select().where(User.username == 'shenqing').exists():
        # a registry built by bench/big_registry.py has no demo accounts: the applicant is a person
        # with applications, the enterprise account the first enterprise
        from seed.demo import ensure_accounts
        from models import Enterprise
        holder = Person.select().join(Application, on=(Application.person == Person.id)).first()
        ensure_accounts(enterprise=Enterprise.select().first(), person=holder)
    if not Certificate.select().exists():
        reviewer = User.get(User.username == 'shencha')
        ids = [a.id for a in Application.select().where((Application.state == 'approved')
               & (Application.business_type == 'initial')).limit(500)]
        if seed and ids:
            notices.publish(notices.create_draft(reviewer, ids=ids).id, reviewer)
        else:                               # a built registry: certificates for registrations in force
            for reg in Registration.select().where(Registration.state == 'active').limit(200):
                certificates.issue(reg)
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


def _cookies(session):
    return '; '.join(f'{c.name}={c.value}' for c in session.cookies)


def _logins(url, users):
    """Each user's cookies as public visitor, applicant, reviewer and helpdesk (logged in with requests,
    outside the measured period: password hashing is not part of the figures)."""
    import concurrent.futures

    import requests

    from seed.demo import DEMO_ACCOUNTS
    passwords = {u: p for u, p, *_ in DEMO_ACCOUNTS}

    def one(_):
        jar = {'public': ''}
        for role, username in (('applicant', 'shenqing'), ('reviewer', 'shencha'), ('helpdesk', 'kefu')):
            session = requests.Session()
            _login(session, url, username, passwords[username])
            jar[role] = _cookies(session)
        return jar
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(users)))


async def _get(conn, host, path, cookie):
    """One GET on a kept-alive HTTP/1.1 connection: (status, whether the server closes it, the
    Set-Cookie header or None)."""
    reader, writer = conn
    writer.write(f'GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n'.encode('latin-1'))
    head = (await reader.readuntil(b'\r\n\r\n')).decode('latin-1').split('\r\n')
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
    if 'content-length' in headers:
        await reader.readexactly(int(headers['content-length']))
    elif headers.get('transfer-encoding', '').lower() == 'chunked':
        while True:
            size = int((await reader.readuntil(b'\r\n')).split(b';')[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get('connection', '').lower() == 'close', headers.get('set-cookie')


def _with_cookie(jar, set_cookie):
    """The Cookie header after a Set-Cookie, as a browser keeps it (name=value replaced or added)."""
    name, _, value = set_cookie.split(';', 1)[0].strip().partition('=')
    pairs = dict(p.split('=', 1) for p in jar.split('; ') if '=' in p)
    pairs[name] = value
    return '; '.join(f'{k}={v}' for k, v in pairs.items())


def _requests(data, rng):
    """The workload: an endless series of (kind, session role, path with query)."""
    from urllib.parse import urlencode
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    while True:
        kind = rng.choices(names, weights)[0]
        if kind == 'verify' and data['verify']:
            yield kind, 'public', rng.choice(data['verify'])
        elif kind == 'public_search' and data['search']:
            yield kind, 'public', '/search?' + urlencode(rng.choice(data['search']))
        elif kind == 'applicant_progress':
            yield kind, 'applicant', '/portal/progress'
        elif kind == 'staff_queue':
            yield kind, 'reviewer', '/admin/review_queue/'
        elif kind == 'application_details' and data['apps']:
            yield kind, 'reviewer', f"/admin/application/details/?id={rng.choice(data['apps'])}"
        elif kind == 'helpdesk' and data['ids']:
            yield kind, 'helpdesk', '/admin/helpdesk/?' + urlencode({'q': rng.choice(data['ids'])})


async def _user(port, jar, data, end, results, errors, seed):
    """One scripted user: a kept-alive connection, one request after the other until `end`."""
    import asyncio
    host, conn = f'127.0.0.1:{port}', None
    for kind, role, path in _requests(data, random.Random(seed)):
        if time.monotonic() >= end:
            break
        started = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.open_connection('127.0.0.1', port)
            status, closing, set_cookie = await asyncio.wait_for(_get(conn, host, path, jar[role]), 30)
            ok = status == 200
            if set_cookie and role != 'public':
                jar[role] = _with_cookie(jar[role], set_cookie)     # kept, as a browser keeps it
        except Exception:
            ok, closing = False, True
        results[kind].append(time.perf_counter() - started)
        if not ok:
            errors[kind] += 1
        if closing and conn is not None:
            conn[1].close()
            conn = None
    if conn is not None:
        conn[1].close()


def run(kind, env, data, users, seconds):
    """Drive one server with `users` concurrent users for `seconds`. The client is asyncio on raw
    kept-alive connections in this one process: it needs a small share of a core, so on this 2-core
    machine the server gets most of the CPU (a thread per user with requests took about a core)."""
    import asyncio
    proc, url = _start(kind, env)
    port = int(url.rsplit(':', 1)[1])
    results, errors = collections.defaultdict(list), collections.Counter()
    try:
        jars = _logins(url, users)

        async def drive():
            end = time.monotonic() + seconds
            await asyncio.gather(*(_user(port, jars[k], data, end, results, errors, k) for k in range(users)))
        started, cpu, server = time.monotonic(), time.process_time(), _server_cpu(proc.pid)
        asyncio.run(drive())
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        server = {k: v - server[k] for k, v in _server_cpu(proc.pid).items()}
        done = sum(len(v) for v in results.values()) or 1
        print(f'  (load client: {cpu / wall * 100:.0f} % of one core; CPU per request: server '
              f'{server["server"] / done * 1000:.2f} ms, PostgreSQL {server["postgres"] / done * 1000:.2f} ms)',
              flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return results, errors, wall


def _server_cpu(root):
    """CPU seconds so far of the server's process tree and of every PostgreSQL process (Linux /proc):
    CPU per request is steadier than requests/s on a machine the server shares with its database."""
    tick = os.sysconf('SC_CLK_TCK')
    procs = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as fh:
                    stat = fh.read()
            except OSError:
                continue
            name, fields = stat[stat.index('(') + 1:stat.rindex(')')], stat[stat.rindex(')') + 2:].split()
            procs[int(entry)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, (_n, parent, _c) in procs.items() if parent == pid and p not in tree)
    return {'server': sum(procs[p][2] for p in tree if p in procs),
            'postgres': sum(c for name, _parent, c in procs.values() if name == 'postgres')}


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
    parser.add_argument('--only', choices=list(WEIGHTS), default=None,
                        help='只压测一种请求（如 verify：核验页单独的吞吐量）')
    args = parser.parse_args(argv)
    if args.only:
        for name in list(WEIGHTS):
            if name != args.only:
                del WEIGHTS[name]
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
                 f"workers × {os.environ.get('WEB_THREADS') or 2} threads)") if kind == 'gunicorn' \
            else 'Werkzeug development server (threaded)'
        rates[kind] = report(label, results, errors, wall)
    if len(rates) == 2 and rates['werkzeug']:
        print(f"\ngunicorn / Werkzeug: {rates['gunicorn'] / rates['werkzeug']:.2f}×")


if __name__ == '__main__':
    main()
