"""The production runtime: `python3 run.py` (gunicorn + the job consumer, supervised together)
and the consumer process (one app per process, jobs picked up promptly).

These start real processes on a free loopback port with their own instance directory
(SQLite + huey on SQLite), whatever TEST_DATABASE says.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(HERE, 'run.py')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env(instance, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ('DATABASE_URL', 'REDIS_URL', 'HUEY_REDIS_URL', 'HUEY_IMMEDIATE', 'HUEY_DB',
                        'PUBLIC_BASE_URL', 'UPLOAD_DIR', 'OUTPUT_DIR', 'PORT', 'HOST')}
    env.update(INSTANCE_DIR=str(instance), SEED_PERSONS='12', REGISTRY_NO_VENV='1', WEB_WORKERS='2',
               WEB_THREADS='2', JOB_WORKERS='2', PYTHONPATH=HERE, **extra)
    return env


def _children_of(pid):
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _descendants(pid):
    found, todo = [], [pid]
    while todo:
        for child in _children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rindex(')') + 2] != 'Z'


def _cmdline(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as fh:
            return fh.read().replace(b'\0', b' ').decode()
    except OSError:
        return ''


def _environ(pid):
    with open(f'/proc/{pid}/environ', 'rb') as fh:
        return dict(item.split(b'=', 1) for item in fh.read().split(b'\0') if b'=' in item)


class Server:
    def __init__(self, instance, **env):
        self.instance, self.port = instance, _free_port()
        self.log = open(os.path.join(instance, f'run-{self.port}.log'), 'wb')
        self.proc = subprocess.Popen([sys.executable, RUN_PY], cwd=HERE,
                                     env=_env(instance, PORT=str(self.port), **env),
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f'http://127.0.0.1:{self.port}'

    def wait_healthy(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                with urllib.request.urlopen(self.url + '/healthz', timeout=2) as resp:
                    body = json.loads(resp.read())
                    if resp.status == 200 and body['status'] == 'ok':
                        break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail('server did not answer /healthz:\n' + self.output())
        # the banner is printed once the consumer and gunicorn are both up
        deadline = time.monotonic() + 20
        while '按 Ctrl-C 停止' not in self.output() and time.monotonic() < deadline:
            time.sleep(0.2)
        return self

    def tree(self):
        pids = _descendants(self.proc.pid)
        kinds = {pid: _cmdline(pid) for pid in pids}
        return kinds

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name, 'rb') as fh:
            return fh.read().decode(errors='replace')

    def wait_exit(self, timeout=40):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill_all(self):
        """Last-resort clean-up so a failing test leaves nothing running."""
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope='module')
def instance(tmp_path_factory):
    return tmp_path_factory.mktemp('runtime-instance')


@pytest.fixture
def server(instance):
    servers = []

    def start(**env):
        s = Server(str(instance), **env)
        servers.append(s)
        return s.wait_healthy()
    yield start
    for s in servers:
        s.kill_all()


def _assert_all_gone(pids, server):
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {p: _cmdline(p) for p in pids if _alive(p)}
    assert not left, f'orphans left running: {left}\n{server.output()[-3000:]}'


ENQUEUE = textwrap.dedent('''
    import json, sys, time
    from backoffice import create_app
    from backoffice.background import jobs
    from models import Job, User, database
    app = create_app(AUTO_MIGRATE=False)
    with app.app_context(), database.connection_context():
        admin = User.get(User.username == 'admin')
        time.sleep(3)                      # the consumer has been idle for a while
        t0 = time.monotonic()
        job = jobs.start('export', 'runtime', admin, {'export': 'registrations', 'format': 'csv', 'filters': {}})
        started = None
        while time.monotonic() - t0 < 60:
            state = Job.get_by_id(job.id).state
            if state != 'queued' and started is None:
                started = time.monotonic() - t0
            if state in ('done', 'failed'):
                break
            time.sleep(0.05)
        job = Job.get_by_id(job.id)
        print(json.dumps({'started_after': started, 'state': job.state, 'message': job.message}))
''')


def test_serve_runs_gunicorn_and_consumer_and_sigterm_ends_both(server, instance):
    s = server()
    tree = s.tree()
    web = [p for p, cmd in tree.items() if 'gunicorn' in cmd]
    consumer = [p for p, cmd in tree.items() if 'backoffice.background.consumer' in cmd]
    assert len(web) == 3, tree                # the arbiter and WEB_WORKERS=2 workers
    assert len(consumer) == 1, tree
    # QR codes and links point at the port actually served, in the web workers and in the consumer
    for pid in web + consumer:
        assert _environ(pid)[b'PUBLIC_BASE_URL'] == f'http://127.0.0.1:{s.port}'.encode()
    assert f'http://127.0.0.1:{s.port}/' in s.output()
    assert 'development server' not in s.output()
    with urllib.request.urlopen(s.url + '/healthz') as resp:
        assert resp.headers['Server'].startswith('gunicorn')
    with urllib.request.urlopen(s.url + '/readyz') as resp:
        body = json.loads(resp.read())
        assert body['status'] == 'ready' and body['checks']['database']['ok'] and body['checks']['storage']['ok']

    # a job queued while the consumer idles is picked up promptly and run by the consumer
    done = subprocess.run([sys.executable, '-c', ENQUEUE], cwd=HERE, env=_env(instance), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result['state'] == 'done', result
    assert result['started_after'] < 3, result          # polling capped at 0.5 s (huey -m 0.5)

    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    _assert_all_gone(list(tree), s)


REDIS_TEST_URL = 'redis://127.0.0.1:6379/14'


def _redis_or_skip():
    try:
        import redis
        client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
        client.ping()
        return client
    except Exception:
        pytest.skip('no Redis at 127.0.0.1:6379')


def test_serve_with_redis_queue(server, instance):
    """REDIS_URL: the queue is RedisHuey (blocking pop) in the web workers and the consumer."""
    client = _redis_or_skip()
    client.flushdb()
    try:
        s = server(REDIS_URL=REDIS_TEST_URL)
        tree = s.tree()
        with urllib.request.urlopen(s.url + '/readyz') as resp:
            assert json.loads(resp.read())['checks']['redis'] == {'ok': True}
        done = subprocess.run([sys.executable, '-c', ENQUEUE], cwd=HERE, env=_env(instance, REDIS_URL=REDIS_TEST_URL),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result['state'] == 'done' and result['started_after'] < 3, result
        assert any(b'huey' in key for key in client.keys('*'))        # the queue lived in Redis
        s.proc.send_signal(signal.SIGTERM)
        assert s.wait_exit() == 0
        _assert_all_gone(list(tree), s)
    finally:
        client.flushdb()


def test_ctrl_c_ends_both(server):
    s = server()
    tree = s.tree()
    assert len(tree) >= 4
    s.proc.send_signal(signal.SIGINT)
    assert s.wait_exit() == 0
    _assert_all_gone(list(tree), s)
    assert '已停止' in s.output()


def test_killed_supervisor_leaves_no_orphan(server):
    """Even SIGKILL of run.py (no handler can run) ends the children (parent-death signal)."""
    s = server()
    tree = s.tree()
    s.proc.send_signal(signal.SIGKILL)
    s.wait_exit()
    _assert_all_gone(list(tree), s)


def test_consumer_death_stops_the_server(server):
    s = server()
    tree = s.tree()
    consumer = [p for p, cmd in tree.items() if 'backoffice.background.consumer' in cmd]
    os.kill(consumer[0], signal.SIGKILL)
    assert s.wait_exit() != 0
    _assert_all_gone(list(tree), s)
    assert '后台任务进程已退出' in s.output()


CONSUMER_ONCE = textwrap.dedent('''
    import json, threading, time
    import backoffice
    calls = []
    real = backoffice.create_app
    def counting(*a, **kw):
        calls.append(threading.current_thread().name)
        return real(*a, **kw)
    backoffice.create_app = counting
    from backoffice.background import consumer, jobs
    from flask import current_app
    from models import Job, User, database
    seen = []

    @jobs.handler('probe')
    def probe(job, params):
        seen.append(id(current_app._get_current_object()))
        time.sleep(0.2)
        return ''

    with consumer.app.app_context(), database.connection_context():
        user = User.create(username='probe', name='probe', password_hash='x', role='admin')
        ids = [jobs.start('probe', f'probe {k}', user, {}).id for k in range(6)]
    c = jobs.huey.create_consumer(workers=4, worker_type='thread', initial_delay=0.05, max_delay=0.2)
    threading.Thread(target=c.run, daemon=True).start()
    deadline = time.time() + 60
    with database.connection_context():
        while time.time() < deadline:
            states = [Job.get_by_id(i).state for i in ids]
            if all(s == 'done' for s in states):
                break
            time.sleep(0.1)
    print(json.dumps({'calls': calls, 'states': states, 'apps': len(set(seen)), 'ran': len(seen),
                      'same_app': seen[0] == id(consumer.app) if seen else None}))
    import os; os._exit(0)
''')


def test_consumer_builds_the_app_once_for_all_worker_threads(tmp_path):
    env = _env(tmp_path)
    env.pop('SEED_PERSONS')
    done = subprocess.run([sys.executable, '-c', CONSUMER_ONCE], cwd=HERE, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result['states'] == ['done'] * 6, result
    assert len(result['calls']) == 1 and result['calls'] == ['MainThread'], result
    assert result['ran'] == 6 and result['apps'] == 1 and result['same_app'], result


# --- probes (in-process) ------------------------------------------------------------------------

@pytest.fixture
def config_patch(app):
    saved = {}

    def patch(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value
    yield patch
    for key, value in saved.items():
        app.config[key] = value


def test_healthz_and_readyz(client, config_patch, tmp_path, monkeypatch):
    config_patch(REDIS_URL=None)
    monkeypatch.delenv('HUEY_REDIS_URL', raising=False)
    r = client.get('/healthz')
    assert r.status_code == 200 and r.get_json() == {'status': 'ok'}
    r = client.get('/readyz')
    assert r.status_code == 200 and r.get_json()['status'] == 'ready'
    assert set(r.get_json()['checks']) == {'database', 'storage'}          # no Redis configured
    # storage that cannot be written: not ready
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('x')
    config_patch(OUTPUT_DIR=str(blocker / 'out'))
    r = client.get('/readyz')
    assert r.status_code == 503 and r.get_json()['checks']['storage']['ok'] is False
    assert r.get_json()['checks']['database']['ok'] is True


def test_readyz_checks_redis_when_configured(client, config_patch):
    config_patch(REDIS_URL='redis://127.0.0.1:1/0')          # nothing listens there
    r = client.get('/readyz')
    assert r.status_code == 503 and r.get_json()['checks']['redis'] == {'ok': False, 'error': 'ConnectionError'}
    try:
        import redis
        redis.Redis.from_url('redis://127.0.0.1:6379/0', socket_connect_timeout=1).ping()
    except Exception:
        return                                                 # no local Redis: the failing case is enough
    config_patch(REDIS_URL='redis://127.0.0.1:6379/0')
    r = client.get('/readyz')
    assert r.status_code == 200 and r.get_json()['checks']['redis'] == {'ok': True}


# --- `python3 run.py test` on a fresh machine: the browser's system packages ------------------------

@pytest.fixture
def run_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('registry_run', RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_browser_packages_not_root_says_what_to_install(run_module, monkeypatch, capsys):
    monkeypatch.setattr(run_module.os, 'geteuid', lambda: 1000)
    calls = []
    monkeypatch.setattr(run_module.subprocess, 'check_call', lambda *a, **kw: calls.append(a))
    with pytest.raises(SystemExit) as exc:
        run_module._ensure_system_packages({'chromium': lambda: False, 'fonts-wqy-zenhei': lambda: True}, '运行测试')
    assert exc.value.code == 1 and calls == []
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'apt-get install -y chromium' in err and 'fonts-wqy-zenhei' not in err


def test_missing_browser_packages_as_root_are_installed(run_module, monkeypatch):
    installed = set()
    calls = []

    def check_call(cmd, **kw):
        calls.append(cmd)
        if cmd[:2] == ['apt-get', 'install']:
            installed.update(c for c in cmd if not c.startswith('-') and c not in ('apt-get', 'install'))
    monkeypatch.setattr(run_module.os, 'geteuid', lambda: 0)
    monkeypatch.setattr(run_module, '_which', lambda name: '/usr/bin/apt-get')
    monkeypatch.setattr(run_module.subprocess, 'check_call', check_call)
    run_module._ensure_system_packages({'chromium': lambda: 'chromium' in installed,
                                        'fonts-wqy-zenhei': lambda: 'fonts-wqy-zenhei' in installed}, '运行测试')
    assert calls[0] == ['apt-get', 'update', '-qq']
    assert calls[1][:2] == ['apt-get', 'install'] and installed == {'chromium', 'fonts-wqy-zenhei'}
    # nothing missing: nothing run
    calls.clear()
    run_module._ensure_system_packages({'chromium': lambda: True}, '运行测试')
    assert calls == []


def test_browser_packages_only_needed_when_browser_tests_run(run_module):
    assert run_module._runs_browser_tests([])
    assert run_module._runs_browser_tests(['-k', 'journey'])
    assert run_module._runs_browser_tests(['tests/test_browser.py'])
    assert not run_module._runs_browser_tests(['tests/test_jobs.py', '-x'])


PROXY_FIX = textwrap.dedent('''
    import json, sys
    from flask import request
    from backoffice import create_app
    out = {}
    for count in (int(sys.argv[1]),):
        app = create_app(PROXY_COUNT=count, SEED_DEMO=False)
        def seen(response):
            response.headers['X-Seen'] = json.dumps([request.remote_addr, request.scheme])
            return response
        app.after_request(seen)
        r = app.test_client().get('/healthz', headers={'X-Forwarded-For': '203.0.113.9',
                                                        'X-Forwarded-Proto': 'https'})
        out[count] = json.loads(r.headers['X-Seen'])
    print(json.dumps(out))
''')


def test_proxy_fix_only_when_configured(tmp_path):
    result = {}
    for count in ('0', '1'):            # one app per process
        done = subprocess.run([sys.executable, '-c', PROXY_FIX, count], cwd=HERE, env=_env(tmp_path),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))
    assert result['0'] == ['127.0.0.1', 'http']            # no proxy configured: headers not trusted
    assert result['1'] == ['203.0.113.9', 'https']


def _listening_sockets(port):
    """How many sockets listen on `port` (IPv4 and IPv6), read from /proc/net."""
    count = 0
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(':', 1)[1], 16) == port and fields[3] == '0A':       # 0A: LISTEN
                count += 1
    return count


def test_a_burst_of_kept_alive_connections_is_spread_over_the_web_workers(server):
    """Each gunicorn worker listens on a socket of its own (SO_REUSEPORT), so connections opened together (a load balancer's keep-alive pool) are not all taken by the worker
    that woke first. Seen before: all 16 of a benchmark's connections on one worker, one core idle."""
    import http.client
    import threading
    s = server()
    web = [p for p, cmd in s.tree().items() if 'gunicorn' in cmd]
    arbiter = [p for p in web if p in _children_of(s.proc.pid)]
    assert len(arbiter) == 1, s.tree()
    workers = set(_children_of(arbiter[0]))
    assert len(workers) == 2, s.tree()
    assert _listening_sockets(s.port) == len(workers)              # one per worker
    served = []
    lock = threading.Lock()
    gate = threading.Barrier(24)

    def client():
        conn = http.client.HTTPConnection('127.0.0.1', s.port, timeout=30)
        gate.wait()
        conn.connect()                                          # 24 connections opened at once
        for _ in range(3):                                      # and kept alive for 3 requests each
            conn.request('GET', '/healthz')
            resp = conn.getresponse()
            resp.read()
            with lock:
                served.append(resp.status)
        conn.close()
    already = len(s.output())                     # the start-up probes' lines are not counted
    threads = [threading.Thread(target=client) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert served.count(200) == 72
    time.sleep(0.5)
    pids = set()
    for line in s.output()[already:].splitlines():
        if line.startswith('{') and 'GET /healthz 200' in line:
            pids.add(json.loads(line)['pid'])
    # both workers served (the chance the kernel puts all 24 on one worker's socket is 2 × 2^-24)
    assert pids == workers, (pids, workers)
