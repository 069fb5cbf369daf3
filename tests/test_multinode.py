"""Scale-out proof: two app servers and two job consumers, started from the Procfile's own command
lines (docs/DEPLOYMENT.md), sharing one database, Redis (queue, rate limits) and S3 (moto's
server, in-process on loopback). Each node has its own instance folder: nothing is shared by disk.

Staff decisions and an applicant's visit move between the servers on one session; a batch print is
requested on one server and downloaded from the other; a consumer is killed with SIGKILL in the
middle of a print job, the job is reported failed ('任务进程中断'), retried by its owner and done by
the other consumer. Then: every decision has its audit row, every print is logged once per run,
every job file can be fetched from both servers.

Database: a SQLite file by default; TEST_DATABASE=postgresql://… runs the nodes on that database.
Needs Redis at 127.0.0.1:6379 (skipped without it).
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from .test_runtime import HERE, _env, _free_port

REDIS_URL = 'redis://127.0.0.1:6379/15'
SECRET = 'multinode-test-secret-key'


def _redis():
    try:
        import redis
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        return client
    except Exception:
        pytest.skip('no Redis at 127.0.0.1:6379')


def procfile():
    """{name: argv} from the Procfile, run with this interpreter (the project's .venv)."""
    out = {}
    with open(os.path.join(HERE, 'Procfile')) as fh:
        for line in fh:
            if ':' in line and not line.startswith('#'):
                name, cmd = line.split(':', 1)
                argv = shlex.split(cmd)
                if argv[0] in ('.venv/bin/python', 'python3', 'python'):
                    argv[0] = sys.executable
                out[name.strip()] = argv
    return out


class Cluster:
    def __init__(self, root, db_url, s3_endpoint):
        self.root, self.db_url, self.procs, self.logs = root, db_url, {}, {}
        self.base_env = _env(root, DATABASE_URL=db_url, REDIS_URL=REDIS_URL, SECRET_KEY=SECRET,
                             S3_BUCKET='registry-multinode', S3_ENDPOINT_URL=s3_endpoint, S3_REGION='us-east-1',
                             S3_ACCESS_KEY_ID='test', S3_SECRET_ACCESS_KEY='test', S3_PREFIX='t/',
                             SEED_DEMO='0', RATELIMIT_ENABLED='0', JOB_STALE_SECONDS='3',
                             JOB_HEARTBEAT_SECONDS='1', LOG_LEVEL='WARNING')
        self.urls = {}

    def env(self, node, **extra):
        folder = os.path.join(self.root, node)
        os.makedirs(folder, exist_ok=True)
        return dict(self.base_env, INSTANCE_DIR=folder, **extra)

    def run(self, argv, node='release', timeout=300):
        done = subprocess.run(argv, cwd=HERE, env=self.env(node), capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    def script(self, code, node='release'):
        out = self.run([sys.executable, '-c', textwrap.dedent(code)], node)
        return json.loads(out.strip().splitlines()[-1])

    def start(self, name, argv, node, **extra):
        log = open(os.path.join(self.root, f'{name}.log'), 'wb')
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(argv, cwd=HERE, env=self.env(node, **extra), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def start_web(self, name, node):
        port = _free_port()
        self.start(name, procfile()['web'], node, PORT=str(port), PUBLIC_BASE_URL=f'http://127.0.0.1:{port}')
        self.urls[name] = f'http://127.0.0.1:{port}'

    def wait_ready(self, name, timeout=90):
        import requests
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs[name].poll() is None, self.output(name)
            try:
                if requests.get(self.urls[name] + '/readyz', timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        pytest.fail(f'{name} not ready:\n{self.output(name)}')

    def output(self, name, tail=4000):
        self.logs[name].flush()
        with open(self.logs[name].name, 'rb') as fh:
            text = fh.read().decode(errors='replace')
        return text[-tail:] if tail else text

    def signal(self, name, sig):
        os.killpg(self.procs[name].pid, sig)

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGCONT)
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for log in self.logs.values():
            log.close()


SETUP = '''
    import json
    from backoffice import create_app
    from backoffice.issuing import notices
    from models import Application, Certificate, User, database
    from seed.demo import generate
    app = create_app(AUTO_MIGRATE=False)
    with app.app_context(), database.connection_context():
        generate(400)
        reviewer = User.get(User.username == 'shencha')
        # certificates to print: announce the approved initial registrations of 北京
        ids = [a.id for a in Application.select().where((Application.state == 'approved')
               & (Application.business_type == 'initial'))]
        notice = notices.create_draft(reviewer, ids=ids)
        notices.publish(notice.id, reviewer)
        accepted = [a.id for a in Application.select().where(Application.state == 'accepted').limit(6)]
        print(json.dumps({'certificates': Certificate.select().count(), 'accepted': accepted}))
'''

CHECK = '''
    import json
    from backoffice import create_app
    from models import Application, AuditEvent, Certificate, Job, PrintLog, database
    app = create_app(AUTO_MIGRATE=False)
    ids = %s
    with app.app_context(), database.connection_context():
        out = {'states': {}, 'audits': {}, 'jobs': {}, 'logs': {}}
        for i in ids:
            out['states'][i] = Application.get_by_id(i).state
            out['audits'][i] = [(e.action, e.from_state, e.to_state) for e in
                                AuditEvent.select().where(AuditEvent.application == i).order_by(AuditEvent.id)]
        for job in Job.select().order_by(Job.id):
            out['jobs'][job.id] = [job.kind, job.state, job.message, job.result_path]
            rows = [p.certificate_id for p in PrintLog.select().where(PrintLog.job == job.id)]
            unprinted = Certificate.select().where(Certificate.id.in_(rows or [0]) & (Certificate.printed == False))
            out['logs'][job.id] = [len(rows), len(set(rows)), unprinted.count()]
        print(json.dumps(out, ensure_ascii=False))
'''


def _own_postgres_database(test_url):
    """A database of the cluster's own on the test server: the suite empties the tables of the test
    database before every test, which would take the cluster's data away under it."""
    from urllib.parse import urlparse, urlunparse

    import psycopg2
    url = urlparse(test_url)
    name = url.path.lstrip('/') + '_multinode'
    admin = psycopg2.connect(urlunparse(url._replace(path='/postgres')))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunparse(url._replace(path='/' + name))


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    redis_client = _redis()
    redis_client.flushdb()
    moto_server = pytest.importorskip('moto.server')
    s3 = moto_server.ThreadedMotoServer(ip_address='127.0.0.1', port=_free_port(), verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    endpoint = f'http://{host}:{port}'
    import boto3
    boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test',
                 aws_secret_access_key='test').create_bucket(Bucket='registry-multinode')
    root = str(tmp_path_factory.mktemp('multinode'))
    test_db = os.environ.get('TEST_DATABASE', 'sqlite')
    db_url = _own_postgres_database(test_db) if test_db.startswith('postgres') else \
        'sqlite:///' + os.path.join(root, 'shared.db')
    c = Cluster(root, db_url, endpoint)
    try:
        c.run(procfile()['release'], 'release')                # migrations, reference lists
        c.facts = c.script(SETUP)
        c.start_web('web-a', 'node-a')
        c.start_web('web-b', 'node-b')
        c.start('jobs-1', procfile()['jobs'], 'node-a')
        c.start('jobs-2', procfile()['jobs'], 'node-b')
        c.wait_ready('web-a')
        c.wait_ready('web-b')
        yield c
    finally:
        c.stop_all()
        s3.stop()
        redis_client.flushdb()


def _csrf(html):
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, 'no CSRF token on the page'
    return m.group(1)


def _login(c, username, server):
    import requests

    from seed.demo import DEMO_ACCOUNTS
    password = {u: p for u, p, *_ in DEMO_ACCOUNTS}[username]
    s = requests.Session()
    page = s.get(c.urls[server] + '/login').text
    r = s.post(c.urls[server] + '/login', data={'username': username, 'password': password, 'csrf_token': _csrf(page)},
               allow_redirects=False)
    assert r.status_code == 302 and '/login' not in r.headers['Location'], r.text[:500]
    return s


def _wait_job(c, session, server, job_id, until=('done', 'failed'), timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = session.get(f'{c.urls[server]}/admin/job/{job_id}/status').json()
        if status['state'] in until:
            return status
        time.sleep(0.1)
    pytest.fail(f'job {job_id} still {status}')


def _request_print(c, session, server_page, server_post, reprint=False):
    page = session.get(c.urls[server_page] + '/admin/print/').text
    province = re.search(r'<select[^>]*name="province"[^>]*>.*?<option[^>]*value="(\d+)"', page, re.S).group(1)
    data = {'csrf_token': _csrf(page), 'province': province}
    if reprint:
        data['reason'] = '证书污损，补打'
    else:
        data['only_unprinted'] = 'y'
    r = session.post(c.urls[server_post] + '/admin/print/', data=data, allow_redirects=False)
    assert r.status_code == 302 and '/admin/job/' in r.headers['Location'], r.text[:1000]
    return int(re.search(r'/admin/job/(\d+)/', r.headers['Location']).group(1))


def test_two_servers_two_consumers_nothing_lost(cluster):
    c = cluster
    assert c.facts['certificates'] > 0 and c.facts['accepted'], c.facts

    # staff decisions: one session, pages read on one server and decisions posted on the other
    reviewer = _login(c, 'shencha', 'web-a')
    decided = []
    for k, app_id in enumerate(c.facts['accepted']):
        read_on, post_on = ('web-a', 'web-b') if k % 2 == 0 else ('web-b', 'web-a')
        page = reviewer.get(f'{c.urls[read_on]}/admin/application/details/?id={app_id}')
        assert page.status_code == 200, page.text[:300]
        if 'name="transition" value="approve"' not in page.text:
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(?:(?!</form>).)*?name="transition" value="approve"',
                         page.text, re.S)
        assert form, page.text[:3000]
        action = form.group(1)
        r = reviewer.post(c.urls[post_on] + action, data={'csrf_token': _csrf(page.text), 'id': app_id,
                                                          'transition': 'approve', 'comment': '符合条件',
                                                          # a failed automatic check of the demo data needs one
                                                          'override_reason': '材料已人工核实'},
                          allow_redirects=False)
        if r.status_code == 200:          # refused at a field by a guard, answered on the application's page
            assert 'invalid-feedback' in r.text, r.text[:2000]
            decided.append((app_id, False))
            continue
        assert r.status_code == 302
        after = reviewer.get(r.headers['Location'] if r.headers['Location'].startswith('http')
                             else c.urls[post_on] + r.headers['Location']).text
        # the message names the application; a guard may refuse (e.g. 增项 of a held specialty)
        decided.append((app_id, '：已准予' in after))
    assert any(ok for _id, ok in decided)

    # the applicant: signed in on one server, reads the progress page on the other
    applicant = _login(c, 'shenqing', 'web-b')
    r = applicant.get(c.urls['web-a'] + '/portal/progress', allow_redirects=False)
    assert r.status_code == 200

    # a batch print requested on server A, run by a consumer, downloaded from server B
    officer = _login(c, 'beijing', 'web-a')
    first = _request_print(c, officer, 'web-b', 'web-a')
    assert _wait_job(c, officer, 'web-b', first)['state'] == 'done'
    pdf = officer.get(f"{c.urls['web-b']}/admin/job/{first}/download")
    assert pdf.status_code == 200 and pdf.content[:4] in (b'%PDF', b'PK\x03\x04')
    assert officer.get(f"{c.urls['web-a']}/admin/job/{first}/download").content == pdf.content
    # the card's QR was signed by whichever consumer ran the job: both servers publish that one key
    # (kept in the shared database, not on a node's disk) and it verifies offline
    keys_a = officer.get(f"{c.urls['web-a']}/.well-known/registry-keys.json").json()
    keys_b = officer.get(f"{c.urls['web-b']}/.well-known/registry-keys.json").json()
    assert keys_a == keys_b and list(keys_a) == ['k1'], (keys_a, keys_b)
    if pdf.content[:4] == b'%PDF':
        from backoffice.issuing import signing
        from .conftest import decode_qr, render_first_page
        qr = decode_qr(render_first_page(pdf.content, None, dpi=300))
        assert '#' in qr and signing.verify(qr, keys_a) is not None, qr[:200]

    # SIGKILL a consumer in the middle of a job: only consumer 1 may take it (2 is paused), then it is
    # frozen while running and killed; the job is reported failed and its owner retries it
    killed = None
    c.signal('jobs-2', signal.SIGSTOP)
    time.sleep(2)          # its pending blocking pop (1 s) ends on the Redis side: only consumer 1 takes jobs
    for _attempt in range(3):
        job_id = _request_print(c, officer, 'web-a', 'web-b', reprint=True)
        status = _wait_job(c, officer, 'web-a', job_id, until=('running', 'done', 'failed'))
        c.signal('jobs-1', signal.SIGSTOP)
        status = officer.get(f"{c.urls['web-b']}/admin/job/{job_id}/status").json()
        if status['state'] == 'running':
            killed = job_id
            break
        c.signal('jobs-1', signal.SIGCONT)
    assert killed, 'the print job was never caught running'
    c.signal('jobs-1', signal.SIGKILL)
    c.signal('jobs-2', signal.SIGCONT)
    time.sleep(4)                  # past JOB_STALE_SECONDS=3: nothing writes the heartbeat any more
    status = _wait_job(c, officer, 'web-b', killed, timeout=30)
    assert status['state'] == 'failed' and status['message'].startswith('任务进程中断'), status
    page = officer.get(f"{c.urls['web-a']}/admin/job/{killed}/").text
    r = officer.post(f"{c.urls['web-b']}/admin/job/{killed}/retry", data={'csrf_token': _csrf(page)},
                     allow_redirects=False)
    assert r.status_code == 302
    retried = int(re.search(r'/admin/job/(\d+)/', r.headers['Location']).group(1))
    assert retried != killed
    assert _wait_job(c, officer, 'web-a', retried)['state'] == 'done'
    for server in ('web-a', 'web-b'):
        r = officer.get(f"{c.urls[server]}/admin/job/{retried}/download")
        assert r.status_code == 200 and r.content[:4] in (b'%PDF', b'PK\x03\x04')

    # nothing lost
    facts = c.script(CHECK % json.dumps([app_id for app_id, _ok in decided]))
    for app_id, ok in decided:
        audits = [tuple(a) for a in facts['audits'][str(app_id)]]
        approvals = [a for a in audits if a[0] == 'approve']
        if ok:            # decided once, on whichever server, with its audit row
            assert facts['states'][str(app_id)] != 'accepted' and len(approvals) == 1, audits
            assert approvals[0][1] == 'accepted'
        else:             # refused by a guard: nothing moved, nothing recorded
            assert facts['states'][str(app_id)] == 'accepted' and approvals == [], audits
    jobs = facts['jobs']
    assert jobs[str(first)][1] == 'done' and jobs[str(retried)][1] == 'done'
    assert jobs[str(killed)][1] == 'failed'
    logs = facts['logs']
    assert logs[str(first)][0] > 0 and logs[str(retried)][0] >= logs[str(first)][0]
    for job_id, (rows, distinct, unprinted) in logs.items():
        assert rows == distinct and unprinted == 0, (job_id, logs)       # one row per certificate, each marked
    assert all(state in ('done', 'failed') for _kind, state, *_ in jobs.values())     # none stuck
    for job_id, (_kind, state, _msg, result) in jobs.items():
        if state == 'done':
            assert result.startswith('storage:')                          # in S3, not on a node's disk
    # the consumers' and servers' logs carry no personal data and are JSON
    from backoffice.logs import ID_NUMBER_RE, MOBILE_RE
    for name in ('web-a', 'web-b', 'jobs-2'):
        text = c.output(name, tail=None)
        assert 'gunicorn.access' in text or name.startswith('jobs')
        assert not ID_NUMBER_RE.search(text) and not MOBILE_RE.search(text)
        for line in text.splitlines():
            if line.strip():
                try:
                    json.loads(line)
                except ValueError:
                    pytest.fail(f'{name}: not a JSON line: {line[:300]}')
