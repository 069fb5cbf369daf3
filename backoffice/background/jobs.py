"""Background jobs on huey: SQLite storage by default (instance/jobs.db), Redis when REDIS_URL
(or the older HUEY_REDIS_URL) is set. Each job has a Job row whose progress the browser polls.

The consumer process starts from backoffice.background.consumer, which builds the app once
and binds it here (`python3 run.py` starts one beside the web server). Tests run huey in
immediate mode, inside the caller's app context.

Liveness: a job row records its last sign of life in `heartbeat_at` (queued, claimed, each
progress write, and a ticker thread every JOB_HEARTBEAT_SECONDS while it runs on a consumer).
`reap()` (periodic on the consumer, `flask jobs reap`, and for one job whenever its status is
read) ends what a dead worker left behind: a running job whose heartbeat is older than
JOB_STALE_SECONDS is re-queued once when its kind is safe to re-run, otherwise marked failed
('任务进程中断'); a job queued longer than JOB_QUEUE_TIMEOUT_MINUTES is re-queued once, and then
marked failed when no consumer is alive. A job runs only after a guarded claim
(`queued` → `running`), so a duplicate queue message never runs it twice.
"""
import contextlib
import datetime
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
import uuid

from flask import current_app, has_app_context, send_file
from huey import RedisHuey, SqliteHuey, crontab

from models import Job, database, now

from backoffice import metrics, storage
from backoffice.config import INSTANCE_DIR

log = logging.getLogger(__name__)

INTERRUPTED = '任务进程中断'
STATE_LABELS = {'queued': '排队中', 'running': '进行中', 'done': '已完成', 'failed': '失败'}
RESULT_LABELS = {'import': '下载被拒绝行的报告', 'print_certificates': '下载打印文件'}
DEFAULTS = {'JOB_HEARTBEAT_SECONDS': 15, 'JOB_STALE_SECONDS': 120, 'JOB_QUEUE_TIMEOUT_MINUTES': 10,
            'JOB_CONSUMER_ALIVE_SECONDS': 180}
# kinds that only read and write their own output file: safe to re-run from the start
RERUNNABLE_KINDS = {'export'}
CONSUMER_ALIVE_KEY = 'registry-consumer-alive'


def redis_url():
    """The Redis URL for the job queue: REDIS_URL, or HUEY_REDIS_URL (older name, still read)."""
    return os.environ.get('REDIS_URL') or os.environ.get('HUEY_REDIS_URL') or None


def _make_huey():
    immediate = os.environ.get('HUEY_IMMEDIATE') == '1'
    url = redis_url()
    if url:
        # blocking pop: an idle consumer sees a new job at once
        return RedisHuey('registry', url=url, blocking=True, read_timeout=1, immediate=immediate)
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    return SqliteHuey('registry', filename=os.environ.get('HUEY_DB', os.path.join(INSTANCE_DIR, 'jobs.db')),
                      immediate=immediate)


huey = _make_huey()
HANDLERS = {}
_consumer_app = None


def handler(kind):
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


def bind_app(app):
    """The consumer process's one app (see backoffice.background.consumer)."""
    global _consumer_app
    _consumer_app = app


def setting(name):
    if has_app_context():
        return int(current_app.config.get(name, DEFAULTS[name]))
    return int(os.environ.get(name, DEFAULTS[name]))


@contextlib.contextmanager
def app_context():
    """An app context: the caller's, or the one app bound for the consumer process."""
    if has_app_context():
        yield
        return
    if _consumer_app is None:
        raise RuntimeError('no app bound: start the consumer from backoffice.background.consumer')
    with _consumer_app.app_context():
        with database.connection_context():
            yield


def start(kind, title, actor, params):
    """Create the Job row and queue it. Returns the Job."""
    job = Job.create(kind=kind, title=title, created_by=actor, params=json.dumps(params, default=str),
                     heartbeat_at=now())
    run_job(job.id)
    return Job.get_by_id(job.id)


class Progress:
    """Writes progress (and a heartbeat) to the Job row every `every` steps (and at the end)."""

    def __init__(self, job, total, every=25):
        self.job, self.total, self.every = job, total, every
        Job.update(total=total, state='running', heartbeat_at=now()).where(Job.id == job.id).execute()

    def __call__(self, done):
        if done == self.total or done % self.every == 0:
            Job.update(progress=done, heartbeat_at=now()).where(Job.id == self.job.id).execute()


@contextlib.contextmanager
def _heartbeat(job_id):
    """On a consumer, keep heartbeat_at fresh while a long step writes no progress."""
    if huey.immediate:
        yield
        return
    stop = threading.Event()
    interval = setting('JOB_HEARTBEAT_SECONDS')

    def tick():
        while not stop.wait(interval):
            try:
                with database.connection_context():
                    Job.update(heartbeat_at=now()).where((Job.id == job_id) & (Job.state == 'running')).execute()
            except Exception:
                log.warning('job %s: heartbeat not written', job_id, exc_info=True)
    thread = threading.Thread(target=tick, name=f'job-{job_id}-heartbeat', daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@huey.task()
def run_job(job_id):
    with app_context():
        at = now()
        claimed = (Job.update(state='running', started_at=at, heartbeat_at=at, progress=0)
                   .where((Job.id == job_id) & (Job.state == 'queued')).execute())
        if not claimed:      # already run, running elsewhere, or failed by the reaper: a duplicate message
            log.info('job %s: not queued any more, message skipped', job_id)
            return
        job = Job.get_by_id(job_id)
        log.info('job %s (%s) started', job_id, job.kind)
        started = time.perf_counter()
        with _heartbeat(job_id):
            try:
                result = HANDLERS[job.kind](job, json.loads(job.params))
            except JobError as exc:
                Job.update(state='failed', message=exc.message, finished_at=now()).where(Job.id == job_id).execute()
                metrics.job(job.kind, 'failed', time.perf_counter() - started)
                return
            except Exception:
                current_app.logger.error('job %s failed\n%s', job_id, traceback.format_exc())
                Job.update(state='failed', message='任务执行出错，已记录，请联系系统管理员',
                           finished_at=now()).where(Job.id == job_id).execute()
                metrics.job(job.kind, 'failed', time.perf_counter() - started)
                return
            result = _publish(job, result)
        done = Job.get_by_id(job_id)
        Job.update(state='done', progress=Job.total, result_path=result or '', finished_at=now(),
                   message=done.message or '已完成').where(Job.id == job_id).execute()
        metrics.job(job.kind, 'done', time.perf_counter() - started)
        log.info('job %s done', job_id)


class JobError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- liveness ------------------------------------------------------------------------------

def mark_consumer_alive(at=None):
    huey.put(CONSUMER_ALIVE_KEY, (at or now()).isoformat())


def consumer_alive(at=None):
    """Did a consumer show a sign of life within JOB_CONSUMER_ALIVE_SECONDS?"""
    value = huey.get(CONSUMER_ALIVE_KEY, peek=True)
    if not value:
        return False
    seen = datetime.datetime.fromisoformat(value)
    return (at or now()) - seen <= datetime.timedelta(seconds=setting('JOB_CONSUMER_ALIVE_SECONDS'))


def _guarded(job, **values):
    """Move `job` only if nobody changed it since it was read (state and heartbeat unchanged)."""
    cond = (Job.id == job.id) & (Job.state == job.state)
    cond &= Job.heartbeat_at.is_null() if job.heartbeat_at is None else (Job.heartbeat_at == job.heartbeat_at)
    return Job.update(**values).where(cond).execute() == 1


def _requeue(job, at, message):
    if _guarded(job, state='queued', retries=Job.retries + 1, heartbeat_at=at, progress=0, message=message):
        log.warning('job %s re-queued: %s', job.id, message)
        run_job(job.id)
        return 'requeued'
    return None


def _fail(job, at, message):
    if _guarded(job, state='failed', message=message, finished_at=at):
        log.warning('job %s failed: %s', job.id, message)
        return 'failed'
    return None


def _last_sign(job):
    return job.heartbeat_at or job.started_at or job.created_at


def reap_one(job, at=None):
    """Settle one job left behind by a dead worker. Returns 'requeued', 'failed' or None."""
    at = at or now()
    if job.state == 'running':
        if at - _last_sign(job) <= datetime.timedelta(seconds=setting('JOB_STALE_SECONDS')):
            return None
        if job.kind in RERUNNABLE_KINDS and job.retries < 1:
            return _requeue(job, at, INTERRUPTED + '，已自动重新排队')
        return _fail(job, at, INTERRUPTED + '，请点击“重试”重新提交')
    if job.state == 'queued':
        if at - _last_sign(job) <= datetime.timedelta(minutes=setting('JOB_QUEUE_TIMEOUT_MINUTES')):
            return None
        if job.retries < 1:
            return _requeue(job, at, '排队超时，已重新排队')
        if not consumer_alive(at):
            return _fail(job, at, '后台任务进程未运行，任务未能执行，请稍后重试或联系系统管理员')
    return None


def reap(at=None):
    """Settle every stale job. Returns {'requeued': n, 'failed': n}."""
    at = at or now()
    oldest_running = at - datetime.timedelta(seconds=setting('JOB_STALE_SECONDS'))
    oldest_queued = at - datetime.timedelta(minutes=setting('JOB_QUEUE_TIMEOUT_MINUTES'))
    sign = Job.heartbeat_at.is_null() | ((Job.state == 'running') & (Job.heartbeat_at < oldest_running)) | (
        (Job.state == 'queued') & (Job.heartbeat_at < oldest_queued))
    counts = {'requeued': 0, 'failed': 0}
    for job in list(Job.select().where(Job.state.in_(('queued', 'running')) & sign)):
        outcome = reap_one(job, at)
        if outcome:
            counts[outcome] += 1
    return counts


def check(job, at=None):
    """A job as the user should see it: settled first when its worker died. Returns the Job."""
    if job.state in ('queued', 'running') and reap_one(job, at):
        return Job.get_by_id(job.id)
    return job


def describe(job):
    """What the job pages show of a job, in Chinese (HTML and the JSON that job.js polls):
    state (the code, for the script's logic), state_label, progress_text (no "0/0" before the
    job has counted its work), percent, message (empty when it only repeats the state) and
    the download button's label."""
    label = STATE_LABELS.get(job.state, job.state)
    counted = job.total > 0
    if job.state == 'queued':
        text = '等待后台处理，尚未开始'
    elif not counted:
        text = '正在准备…' if job.state == 'running' else ''
    else:
        text = f'{job.progress:,}/{job.total:,}'
    message = (job.message or '').strip()
    if message in (label, job.state):
        message = ''
    return {'state': job.state, 'state_label': label, 'progress_text': text,
            'percent': int(100 * job.progress / job.total) if counted else (100 if job.state == 'done' else 0),
            'message': message, 'download_label': RESULT_LABELS.get(job.kind, '下载文件'),
            'downloadable': job.state == 'done' and bool(job.result_path)}


def retry(job, actor):
    """Queue a failed job again with the same parameters, as a new job. Only its owner may."""
    if job.created_by_id != actor.id:
        raise JobError('只能重试本人提交的任务')
    if job.state != 'failed':
        raise JobError('只有失败的任务可以重试')
    return start(job.kind, job.title, actor, json.loads(job.params))


@huey.periodic_task(crontab(minute='*'), name='reap_jobs')
def reap_jobs():
    """Every minute on the consumer's scheduler: the consumer is alive; settle stale jobs."""
    with app_context():
        mark_consumer_alive()
        counts = reap()
        if any(counts.values()):
            log.info('jobs reaped: %s', counts)


def job_dir(job):
    """Where a handler writes its files (OUTPUT_DIR/jobs/<id>; with S3 a scratch folder, see _publish)."""
    path = os.path.join(current_app.config['OUTPUT_DIR'], 'jobs', str(job.id))
    os.makedirs(path, exist_ok=True)
    return path


# --- files: results and inputs where every node can fetch them (backoffice.storage) ----------

STORED = 'storage:'          # result_path of a result kept in object storage: 'storage:jobs/<id>/<name>'


def _publish(job, result):
    """The handler's result file, moved to object storage when S3 is configured (local disk: as is)."""
    store = storage.outputs()
    if not result or store.kind == 'local':
        return result
    key = f'jobs/{job.id}/{os.path.basename(result)}'
    store.put_file(key, result)
    shutil.rmtree(job_dir(job), ignore_errors=True)
    return STORED + key


def send_result(job):
    """The download response for a done job's file. KeyError when there is none (any more)."""
    if job.state != 'done' or not job.result_path:
        raise KeyError(job.id)
    if job.result_path.startswith(STORED):
        key = job.result_path[len(STORED):]
        return storage.outputs().send(key, download_name=key.rsplit('/', 1)[-1])
    root = os.path.realpath(current_app.config['OUTPUT_DIR'])
    path = os.path.realpath(job.result_path)
    if not path.startswith(root + os.sep) or not os.path.exists(path):
        raise KeyError(job.id)
    return send_file(path, as_attachment=True, download_name=os.path.basename(path))


def save_input(upload):
    """A file uploaded for a job (werkzeug FileStorage), kept where the consumer can read it.
    Returns the job params naming it: {'path': ...} on local disk, {'input_key': ...} in S3."""
    key = f'imports/{uuid.uuid4().hex}.upload'
    store = storage.outputs()
    if store.kind == 'local':
        path = store.local_path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        upload.save(path)
        return {'path': path}
    store.put_bytes(key, upload.read())
    return {'input_key': key}


@contextlib.contextmanager
def input_file(params):
    """A local path to the job's input file (fetched from object storage when it lives there)."""
    if not params.get('input_key'):
        yield params['path']
        return
    fd, path = tempfile.mkstemp(suffix='.upload')
    try:
        with os.fdopen(fd, 'wb') as fh:
            with storage.outputs().open(params['input_key']) as body:
                shutil.copyfileobj(body, fh)
        yield path
    finally:
        os.remove(path)


def parse_date(value):
    return datetime.date.fromisoformat(value) if value else None
