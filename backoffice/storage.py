"""One storage interface for uploaded materials and generated files (job outputs, import files).

Two areas, each addressed by keys such as "12/photo-ab12.jpg" or "jobs/7/applications.csv":

    uploads()   applicants' materials           local: UPLOAD_DIR     S3: <S3_PREFIX>uploads/<key>
    outputs()   job results, import uploads     local: OUTPUT_DIR     S3: <S3_PREFIX>output/<key>

Local disk is the embedded default. With S3_BUCKET set, both areas live in S3-compatible object
storage through boto3, so a second app server or job consumer on another machine sees the same
files. Settings: S3_BUCKET, S3_ENDPOINT_URL (MinIO, Ceph, moto; unset for AWS), S3_REGION,
S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (unset: boto3's usual credential chain), S3_PREFIX.
"""
import io
import os
import shutil
import tempfile

from flask import Response, current_app, send_file

AREAS = {'uploads': 'UPLOAD_DIR', 'output': 'OUTPUT_DIR'}
CHUNK = 256 * 1024


class StorageError(Exception):
    pass


def _clean_key(key):
    key = str(key).replace(os.sep, '/').strip()
    parts = key.split('/')
    if not key or key.startswith('/') or any(p in ('', '.', '..') for p in parts):
        raise StorageError(f'invalid storage key: {key!r}')
    return key


class LocalStorage:
    """Files under one directory."""
    kind = 'local'

    def __init__(self, root):
        self.root = os.path.realpath(root)

    def path(self, key):
        path = os.path.realpath(os.path.join(self.root, _clean_key(key)))
        if not path.startswith(self.root + os.sep):
            raise StorageError(f'key outside the storage root: {key!r}')
        return path

    def put_bytes(self, key, data, content_type=None):
        path = self.path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f'{path}.tmp-{os.getpid()}'
        with open(tmp, 'wb') as fh:
            fh.write(data)
        os.replace(tmp, path)                 # readers never see half a file

    def put_file(self, key, local_path, content_type=None):
        path = self.path(key)
        if os.path.realpath(local_path) == path:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(local_path, path)

    def get_bytes(self, key):
        try:
            with open(self.path(key), 'rb') as fh:
                return fh.read()
        except FileNotFoundError:
            raise KeyError(key) from None

    def open(self, key):
        try:
            return open(self.path(key), 'rb')
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key):
        try:
            return os.path.isfile(self.path(key))
        except StorageError:
            return False

    def size(self, key):
        return os.path.getsize(self.path(key))

    def delete(self, key):
        try:
            os.remove(self.path(key))
        except FileNotFoundError:
            pass

    def delete_prefix(self, prefix):
        path = self.path(prefix.rstrip('/'))
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.isfile(path):
            os.remove(path)

    def local_path(self, key):
        return self.path(key)

    def send(self, key, mimetype=None, as_attachment=True, download_name=None):
        if not self.exists(key):
            raise KeyError(key)
        return send_file(self.path(key), mimetype=mimetype, as_attachment=as_attachment,
                         download_name=download_name or os.path.basename(key))

    def check(self):
        os.makedirs(self.root, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix='.readyz-'):
            pass


class S3Storage:
    """Objects in one bucket under a prefix (boto3; any S3-compatible service)."""
    kind = 's3'

    def __init__(self, bucket, prefix='', client=None, **client_args):
        self.bucket, self.prefix = bucket, prefix
        if client is None:
            import boto3
            client = boto3.client('s3', **{k: v for k, v in client_args.items() if v})
        self.client = client

    def _key(self, key):
        return self.prefix + _clean_key(key)

    def put_bytes(self, key, data, content_type=None):
        extra = {'ContentType': content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)

    def put_file(self, key, local_path, content_type=None):
        extra = {'ExtraArgs': {'ContentType': content_type}} if content_type else {}
        self.client.upload_file(local_path, self.bucket, self._key(key), **extra)

    def _get(self, key):
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get('Error', {}).get('Code') in ('NoSuchKey', '404', 'NotFound'):
                raise KeyError(key) from None
            raise

    def get_bytes(self, key):
        return self._get(key)['Body'].read()

    def open(self, key):
        return self._get(key)['Body']

    def exists(self, key):
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except (ClientError, StorageError):
            return False

    def size(self, key):
        return self.client.head_object(Bucket=self.bucket, Key=self._key(key))['ContentLength']

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix):
        full = self.prefix + _clean_key(prefix.rstrip('/')) + '/'
        paginator = self.client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={'Objects': keys, 'Quiet': True})

    def local_path(self, key):
        return None

    def send(self, key, mimetype=None, as_attachment=True, download_name=None):
        """Streamed through the app (the object store need not be reachable from browsers)."""
        obj = self._get(key)
        body = obj['Body']
        name = download_name or key.rsplit('/', 1)[-1]
        response = Response((chunk for chunk in body.iter_chunks(CHUNK)),
                            mimetype=mimetype or obj.get('ContentType') or 'application/octet-stream',
                            direct_passthrough=True)
        response.headers['Content-Length'] = str(obj['ContentLength'])
        from urllib.parse import quote
        disposition = 'attachment' if as_attachment else 'inline'
        response.headers['Content-Disposition'] = f"{disposition}; filename*=UTF-8''{quote(name)}"
        return response

    def check(self):
        self.client.head_bucket(Bucket=self.bucket)


def from_config(config, area):
    """The storage for `area` ('uploads' or 'output') as the configuration says."""
    if area not in AREAS:
        raise StorageError(f'unknown storage area: {area}')
    bucket = config.get('S3_BUCKET')
    if bucket:
        key = ('s3', bucket, config.get('S3_ENDPOINT_URL'), config.get('S3_PREFIX', ''), area)
        cache = _clients
        if key not in cache:
            cache[key] = S3Storage(bucket, prefix=f"{config.get('S3_PREFIX') or ''}{area}/",
                                   endpoint_url=config.get('S3_ENDPOINT_URL'),
                                   region_name=config.get('S3_REGION') or 'us-east-1',
                                   aws_access_key_id=config.get('S3_ACCESS_KEY_ID'),
                                   aws_secret_access_key=config.get('S3_SECRET_ACCESS_KEY'))
        return cache[key]
    return LocalStorage(config[AREAS[area]])


_clients = {}       # boto3 clients are thread-safe; one per process and setting (built lazily, after fork)


def uploads():
    return from_config(current_app.config, 'uploads')


def outputs():
    return from_config(current_app.config, 'output')


def as_file(store, key):
    """Something ReportLab and Pillow can read: a local path, or the bytes in memory."""
    path = store.local_path(key)
    if path is not None:
        return path if os.path.exists(path) else None
    try:
        return io.BytesIO(store.get_bytes(key))
    except KeyError:
        return None
