"""The one storage interface, against local disk and against S3 (moto's server, in-process,
on loopback: no network)."""
import socket

import pytest

from backoffice import storage


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def moto_endpoint():
    moto_server = pytest.importorskip('moto.server')
    server = moto_server.ThreadedMotoServer(ip_address='127.0.0.1', port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f'http://{host}:{port}'
    server.stop()


S3_SETTINGS = {'S3_REGION': 'us-east-1', 'S3_ACCESS_KEY_ID': 'test', 'S3_SECRET_ACCESS_KEY': 'test'}


def _s3_config(endpoint, bucket, tmp_path):
    config = {'S3_BUCKET': bucket, 'S3_ENDPOINT_URL': endpoint, 'S3_PREFIX': 'registry/',
              'UPLOAD_DIR': str(tmp_path / 'never-up'), 'OUTPUT_DIR': str(tmp_path / 'never-out'), **S3_SETTINGS}
    store = storage.from_config(config, 'uploads')
    store.client.create_bucket(Bucket=bucket)
    return config


@pytest.fixture(params=['local', 's3'])
def backend(request, tmp_path):
    if request.param == 'local':
        config = {'UPLOAD_DIR': str(tmp_path / 'up'), 'OUTPUT_DIR': str(tmp_path / 'out')}
    else:
        endpoint = request.getfixturevalue('moto_endpoint')
        config = _s3_config(endpoint, f'bucket-{request.node.name.split("[")[0][-20:].replace("_", "-")}', tmp_path)
    return request.param, config


def test_put_get_exists_delete(backend, tmp_path):
    kind, config = backend
    store = storage.from_config(config, 'uploads')
    assert store.kind == kind
    data = '一寸照片'.encode() * 1000
    store.put_bytes('12/photo-ab.jpg', data, 'image/jpeg')
    assert store.exists('12/photo-ab.jpg') and store.get_bytes('12/photo-ab.jpg') == data
    assert store.size('12/photo-ab.jpg') == len(data)
    with store.open('12/photo-ab.jpg') as fh:
        assert fh.read() == data
    src = tmp_path / 'result.csv'
    src.write_bytes(b'a,b\n1,2\n')
    out = storage.from_config(config, 'output')
    out.put_file('jobs/7/result.csv', str(src), 'text/csv')
    assert out.get_bytes('jobs/7/result.csv') == b'a,b\n1,2\n'
    assert not store.exists('jobs/7/result.csv')                 # the two areas are apart
    store.delete('12/photo-ab.jpg')
    assert not store.exists('12/photo-ab.jpg')
    with pytest.raises(KeyError):
        store.get_bytes('12/photo-ab.jpg')
    out.put_bytes('jobs/7/other.pdf', b'%PDF')
    out.delete_prefix('jobs/7')
    assert not out.exists('jobs/7/result.csv') and not out.exists('jobs/7/other.pdf')
    store.check()


def test_keys_cannot_escape(backend):
    _kind, config = backend
    store = storage.from_config(config, 'uploads')
    for bad in ('../secret', '/etc/passwd', 'a/../../b', ''):
        with pytest.raises(storage.StorageError):
            store.put_bytes(bad, b'x')
        assert not store.exists(bad)


def test_download_response(app, backend):
    _kind, config = backend
    store = storage.from_config(config, 'output')
    store.put_bytes('jobs/9/注册人员.csv', b'\xef\xbb\xbfa,b\n')
    with app.test_request_context():
        response = store.send('jobs/9/注册人员.csv', mimetype='text/csv', download_name='注册人员.csv')
        response.direct_passthrough = False
        assert response.status_code == 200 and response.get_data() == b'\xef\xbb\xbfa,b\n'
        assert 'attachment' in response.headers['Content-Disposition']
        with pytest.raises(KeyError):
            store.send('jobs/9/missing.csv')


def test_s3_not_reachable_is_reported(tmp_path):
    config = {'S3_BUCKET': 'nowhere', 'S3_ENDPOINT_URL': f'http://127.0.0.1:{_free_port()}', **S3_SETTINGS,
              'UPLOAD_DIR': str(tmp_path), 'OUTPUT_DIR': str(tmp_path)}
    store = storage.from_config(config, 'uploads')
    store.client.meta.config.retries = {'max_attempts': 1}
    with pytest.raises(Exception):
        store.check()


# --- the app on S3: uploads, certificates, job results and import files all go through storage ---

@pytest.fixture
def s3_app(app, moto_endpoint, tmp_path):
    config = _s3_config(moto_endpoint, 'registry-app', tmp_path)
    saved = {k: app.config.get(k) for k in config if k.startswith('S3_')}
    app.config.update({k: v for k, v in config.items() if k.startswith('S3_')})
    yield storage.from_config(app.config, 'uploads'), storage.from_config(app.config, 'output')
    app.config.update(saved)


def test_app_on_s3(s3_app, client, users, app):
    import io
    import json

    from backoffice.background import jobs
    from backoffice.intake import uploads
    from models import Job

    from . import images
    from .conftest import build_application, csrf_from, login, registered_with_certificate
    up, out = s3_app
    # an uploaded photo is stored in the bucket, not on local disk, and served from there
    row = build_application('initial', 'draft')
    from backoffice.intake import photo as photo_tool
    fixed, _ = photo_tool.fix_photo(images.portrait_jpeg())
    import pathlib

    def local_files():
        return {(p, p.stat().st_mtime_ns) for p in pathlib.Path(app.config['UPLOAD_DIR']).rglob('*') if p.is_file()}
    before = local_files()
    material = uploads.save_material(row, 'photo', '照片.jpg', fixed)
    assert up.exists(material.stored_path)
    assert local_files() == before              # nothing written to (or rewritten on) the local disk
    login(client, 'acceptor')
    r = client.get(f'/files/material/{material.id}')
    assert r.status_code == 200 and r.data == up.get_bytes(material.stored_path)
    # the certificate reads the photo from the bucket
    from backoffice.issuing import certificates
    cert, app_row = registered_with_certificate(users, with_images=False)
    from models import Material
    Material.update(stored_path=material.stored_path).where(
        (Material.application == app_row.id) & (Material.kind == 'photo')).execute()
    photo = certificates._material_path(app_row.person_id, 'photo')
    assert photo is not None and not isinstance(photo, str)
    # an export job's result is published to the bucket and downloaded from it
    client = app.test_client()
    login(client, 'supervisor')
    page = client.get('/admin/exports/').get_data(as_text=True)
    assert client.post('/admin/exports/registrations.xlsx', data={'csrf_token': csrf_from(page)}).status_code == 302
    job = Job.get(Job.kind == 'export')
    assert job.state == 'done' and job.result_path.startswith(jobs.STORED), (job.state, job.message)
    key = job.result_path[len(jobs.STORED):]
    assert out.exists(key)
    r = client.get(f'/admin/job/{job.id}/download')
    assert r.status_code == 200 and r.data == out.get_bytes(key) and r.data[:2] == b'PK'
    # an import file goes to the bucket too, and the job reads it from there
    params = None
    with app.test_request_context():
        from werkzeug.datastructures import FileStorage
        params = jobs.save_input(FileStorage(io.BytesIO('a,b\n'.encode()), filename='x.csv'))
    assert 'input_key' in params and out.exists(params['input_key'])
    with jobs.input_file(params) as path:
        assert open(path, 'rb').read() == b'a,b\n'
    assert json.loads(job.params)['export'] == 'registrations'
