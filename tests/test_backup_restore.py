"""The backup and restore that docs/DEPLOYMENT.md tells operators to use, rehearsed for real.

- PostgreSQL: `pg_dump -Fc` of a registry with announced certificates, `createdb` + `pg_restore
  --no-owner` into a new database, `python3 run.py migrate` against it (the documented release step),
  then the restored registry is checked: the same rows, an intact audit chain, the same certificate
  signing keys, and a certificate verified on the restored system.
- SQLite (the embedded default): the online backup API (safe while the server runs), the same checks.
- Object storage: bucket versioning on moto's S3 server brings back an object deleted by mistake.
Each database rehearsal runs on its own backend's run of the suite.
"""
import json
import os
import subprocess
import sys
import textwrap
from urllib.parse import urlparse, urlunparse

import pytest

from .test_runtime import HERE, _env, _free_port

SECRET = 'backup-rehearsal-secret'
TABLES = ['person', 'enterprise', 'qualification', 'registration', 'registered_specialty', 'application',
          'material', 'notice', 'notice_item', 'certificate', 'audit_event', 'signing_key']

SETUP = '''
    import json
    from backoffice import create_app
    from backoffice.issuing import certificates, notices, signing
    from models import Application, Certificate, User, database
    from seed.demo import generate
    app = create_app(AUTO_MIGRATE=False)
    with app.app_context(), database.connection_context():
        generate(60)
        reviewer = User.get(User.username == 'shencha')
        ids = [a.id for a in Application.select().where((Application.state == 'approved')
               & (Application.business_type == 'initial'))]
        notices.publish(notices.create_draft(reviewer, ids=ids).id, reviewer)
        cert = Certificate.select().order_by(Certificate.id).first()
        print(json.dumps({'token': certificates.token_for(cert), 'serial': cert.serial,
                          'qr': certificates.certificate_data(cert)['qr_text']}))
'''

FACTS = '''
    import json
    from backoffice import audit, create_app
    from backoffice.issuing import signing
    from models import database
    app = create_app(AUTO_MIGRATE=False)
    with app.app_context(), database.connection_context():
        counts = {t: database.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in %s}
        chain = audit.verify()
        keys = signing.public_keys()
    page = app.test_client().get('/verify/%s')       # a request opens and closes its own connection
    print(json.dumps({'counts': counts, 'chain_ok': chain.ok, 'keys': keys,
                      'verify_status': page.status_code, 'page': page.get_data(as_text=True)}))
'''


def _run(argv, env, timeout=300):
    done = subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def _script(code, env):
    return json.loads(_run([sys.executable, '-c', textwrap.dedent(code)], env).strip().splitlines()[-1])


def _environment(instance, db_url):
    return _env(instance, DATABASE_URL=db_url, SECRET_KEY=SECRET, SEED_DEMO='0', LOG_LEVEL='WARNING',
                PUBLIC_BASE_URL='http://registry.test')


def _rehearse(tmp_path, source_url, backup, restore):
    """Build a registry at source_url, back it up and restore it with the given callables, run the
    release step on the restored copy and compare."""
    instance = tmp_path / 'instance'
    instance.mkdir()
    env = _environment(instance, source_url)
    _run([sys.executable, os.path.join(HERE, 'run.py'), 'migrate'], env)
    made = _script(SETUP, env)
    before = _script(FACTS % (TABLES, made['token']), env)
    assert before['counts']['certificate'] > 0 and before['counts']['audit_event'] > 0, before['counts']
    assert before['chain_ok'] and before['verify_status'] == 200

    restored_url = restore(backup())
    restored_env = _environment(instance, restored_url)
    _run([sys.executable, os.path.join(HERE, 'run.py'), 'migrate'], restored_env)   # the documented release step
    after = _script(FACTS % (TABLES, made['token']), restored_env)

    assert after['counts'] == before['counts']
    assert after['chain_ok'], 'the audit chain of the restored database is broken'
    assert after['keys'] == before['keys'] and list(after['keys']) == ['k1']
    from backoffice.issuing import signing
    assert signing.verify(made['qr'], after['keys']) is not None      # printed cards still verify offline
    assert after['verify_status'] == 200 and made['serial'] in after['page']


def test_postgres_pg_dump_and_pg_restore_bring_back_the_registry(tmp_path):
    test_url = os.environ.get('TEST_DATABASE', 'sqlite')
    if not test_url.startswith('postgres'):
        pytest.skip('PostgreSQL backup rehearsal: runs in the PostgreSQL run of the suite')
    import psycopg2
    url = urlparse(test_url)
    names = {k: url.path.lstrip('/') + suffix for k, suffix in (('src', '_backup_src'), ('dst', '_backup_restore'))}
    admin = psycopg2.connect(urlunparse(url._replace(path='/postgres')))
    admin.autocommit = True

    def recreate(name, create=True):
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            if create:
                cur.execute(f'CREATE DATABASE "{name}"')
    recreate(names['src'])
    recreate(names['dst'], create=False)
    source = urlunparse(url._replace(path='/' + names['src']))
    dump = str(tmp_path / 'registry.dump')
    pg_env = dict(os.environ, PGHOST=url.hostname or '127.0.0.1', PGPORT=str(url.port or 5432),
                  PGUSER=url.username or 'postgres')

    def backup():
        subprocess.run(['pg_dump', '-Fc', '-f', dump, source], check=True, env=pg_env, timeout=300)
        return dump

    def restore(path):
        subprocess.run(['createdb', names['dst']], check=True, env=pg_env, timeout=60)
        subprocess.run(['pg_restore', '-d', names['dst'], '--no-owner', path], check=True, env=pg_env,
                       timeout=300)
        return urlunparse(url._replace(path='/' + names['dst']))
    try:
        _rehearse(tmp_path, source, backup, restore)
    finally:
        recreate(names['src'], create=False)
        recreate(names['dst'], create=False)
        admin.close()


def test_sqlite_online_backup_brings_back_the_registry(tmp_path):
    source_path = tmp_path / 'registry.db'
    copy_path = tmp_path / 'backup' / 'registry-backup.db'
    copy_path.parent.mkdir()

    def backup():
        # the command docs/DEPLOYMENT.md gives for the embedded default (safe while the server runs)
        _run([sys.executable, '-c', 'import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); '
              's.backup(d); d.close(); s.close()', str(source_path), str(copy_path)], dict(os.environ))
        return copy_path

    def restore(path):
        return f'sqlite:///{path}'
    _rehearse(tmp_path, f'sqlite:///{source_path}', backup, restore)


def test_object_storage_versioning_brings_back_a_deleted_file(tmp_path):
    """Bucket versioning, as docs/DEPLOYMENT.md says to turn on: a file deleted by mistake is restored
    from its previous version, byte for byte, and the storage interface reads it again."""
    moto_server = pytest.importorskip('moto.server')
    import boto3
    from backoffice import storage
    server = moto_server.ThreadedMotoServer(ip_address='127.0.0.1', port=_free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f'http://{host}:{port}'
        s3 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test',
                          aws_secret_access_key='test')
        s3.create_bucket(Bucket='registry-backup')
        s3.put_bucket_versioning(Bucket='registry-backup', VersioningConfiguration={'Status': 'Enabled'})
        config = {'S3_BUCKET': 'registry-backup', 'S3_ENDPOINT_URL': endpoint, 'S3_PREFIX': 'registry/',
                  'S3_REGION': 'us-east-1', 'S3_ACCESS_KEY_ID': 'test', 'S3_SECRET_ACCESS_KEY': 'test',
                  'UPLOAD_DIR': str(tmp_path / 'u'), 'OUTPUT_DIR': str(tmp_path / 'o')}
        backend = storage.from_config(config, 'uploads')
        data = os.urandom(4096)
        backend.put_bytes('materials/1/photo.jpg', data)
        key = 'registry/uploads/materials/1/photo.jpg'
        s3.delete_object(Bucket='registry-backup', Key=key)                 # the mistake
        with pytest.raises(Exception):
            s3.head_object(Bucket='registry-backup', Key=key)
        versions = s3.list_object_versions(Bucket='registry-backup', Prefix=key)
        previous = [v for v in versions['Versions'] if v['Key'] == key][0]
        s3.copy_object(Bucket='registry-backup', Key=key,                   # the restore
                       CopySource={'Bucket': 'registry-backup', 'Key': key, 'VersionId': previous['VersionId']})
        assert backend.get_bytes('materials/1/photo.jpg') == data
    finally:
        server.stop()
