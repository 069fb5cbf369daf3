"""The work each request of bench/load_bench.py's mix does, counted instead of timed: Python function
calls and SQL statements per request, per endpoint and weighted by the mix. On a shared 2-core machine
requests/s swings by a third from one minute to the next; these counts do not move unless the code or
the data does, so two versions of the code can be compared run against run. Nothing is timed here.

    .venv/bin/python bench/work_bench.py                           # SQLite, 300 demo persons
    .venv/bin/python bench/work_bench.py --database-url postgresql://…/bench_e1 --no-seed

The requests are load_bench's (same weights, same data, same demo accounts), made in this process
through Flask's test client; the counts are those of the application, not of gunicorn or the client.
"""
import argparse
import collections
import cProfile
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import load_bench  # noqa: E402  (the mix, its data and its accounts)


def _client(app, username, password):
    import re
    client = app.test_client()
    if username:
        page = client.get('/login').get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = client.post('/login', data={'username': username, 'password': password, 'csrf_token': token})
        if r.status_code != 302:
            raise SystemExit(f'login failed for {username}')
    return client


def main(argv=None):
    parser = argparse.ArgumentParser(description='混合负载的每个请求做了多少工作（函数调用数、SQL 语句数），不计时')
    parser.add_argument('--database-url', default=None, help='默认：临时 SQLite 数据库')
    parser.add_argument('--persons', type=int, default=300)
    parser.add_argument('--no-seed', action='store_true', help='使用已有数据，不生成演示数据')
    parser.add_argument('--requests', type=int, default=100, help='每种请求的次数')
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix='registry-work-')
    url = args.database_url or 'sqlite:///' + os.path.join(tmp, 'bench.db')
    env = dict(os.environ, INSTANCE_DIR=tmp, RATELIMIT_ENABLED='0', SECRET_KEY='work-bench', LOG_LEVEL='WARNING',
               DATABASE_URL=url, PYTHONPATH=HERE, AUTO_MIGRATE='1')
    done = subprocess.run([sys.executable, '-c', load_bench.PREPARE, str(args.persons), '0' if args.no_seed else '1'],
                          cwd=HERE, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    data = json.loads(done.stdout.strip().splitlines()[-1])

    from backoffice import create_app
    from backoffice.config import Config
    from models import database
    from seed.demo import DEMO_ACCOUNTS
    app = create_app(Config, DATABASE_URL=url, SECRET_KEY='work-bench', RATELIMIT_ENABLED=False, SEED_DEMO=False,
                     UPLOAD_DIR=tmp, OUTPUT_DIR=tmp)
    passwords = {u: p for u, p, *_ in DEMO_ACCOUNTS}
    clients = {'public': _client(app, None, None)}
    for role, username in (('applicant', 'shenqing'), ('reviewer', 'shencha'), ('helpdesk', 'kefu')):
        clients[role] = _client(app, username, passwords[username])

    statements = [0]
    real_execute = database.obj.execute_sql

    def counted(sql, params=None, *a, **kw):
        statements[0] += 1
        return real_execute(sql, params, *a, **kw)
    database.obj.execute_sql = counted

    by_kind = collections.defaultdict(list)
    for kind, role, path in load_bench._requests(data, random.Random(1)):
        if len(by_kind[kind]) < args.requests:
            by_kind[kind].append((role, path))
        if len(by_kind) == len(load_bench.WEIGHTS) and all(len(v) >= args.requests for v in by_kind.values()):
            break
    print(f'{"endpoint":<22}{"calls/request":>15}{"SQL/request":>13}{"bytes":>9}')
    weighted_calls = weighted_sql = 0.0
    total_weight = sum(load_bench.WEIGHTS.values())
    for kind, weight in load_bench.WEIGHTS.items():
        requests = by_kind.get(kind)
        if not requests:
            continue
        for role, path in requests[:10]:                      # warm-up: prepared statements, caches
            r = clients[role].get(path)
            if r.status_code != 200:
                raise SystemExit(f'{kind} {path}: {r.status_code}')
        profile, size = cProfile.Profile(), 0
        statements[0] = 0
        for role, path in requests:
            profile.enable()
            r = clients[role].get(path)
            profile.disable()
            size += len(r.get_data())
        import pstats
        calls = pstats.Stats(profile).total_calls / len(requests)
        sql = statements[0] / len(requests)
        weighted_calls += calls * weight / total_weight
        weighted_sql += sql * weight / total_weight
        print(f'{kind:<22}{calls:>15,.0f}{sql:>13.2f}{size // len(requests):>9,}')
    print(f'{"mix (weighted)":<22}{weighted_calls:>15,.0f}{weighted_sql:>13.2f}')
    database.obj.execute_sql = real_execute


if __name__ == '__main__':
    main()
