"""Background jobs on huey: SQLite storage by default (instance/jobs.db), Redis when HUEY_REDIS_URL
is set. Each job has a Job row whose progress the browser polls.

The consumer process starts from backoffice.background.consumer, which builds the app once
and binds it here (`python3 run.py` starts one beside the web server). Tests run huey in
immediate mode, inside the caller's app context.
"""
import contextlib
import datetime
import json
import os
import traceback

from flask import current_app, has_app_context
from huey import RedisHuey, SqliteHuey

from models import Job, database, now

from backoffice.config import INSTANCE_DIR


def _make_huey():
    redis_url = os.environ.get('HUEY_REDIS_URL')
    if redis_url:
        return RedisHuey('registry', url=redis_url)
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    return SqliteHuey('registry', filename=os.environ.get('HUEY_DB', os.path.join(INSTANCE_DIR, 'jobs.db')),
                      immediate=os.environ.get('HUEY_IMMEDIATE') == '1')


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


@contextlib.contextmanager
def _context():
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
    job = Job.create(kind=kind, title=title, created_by=actor, params=json.dumps(params, default=str))
    run_job(job.id)
    return Job.get_by_id(job.id)


class Progress:
    """Writes progress to the Job row every `every` steps (and at the end)."""

    def __init__(self, job, total, every=25):
        self.job, self.total, self.every = job, total, every
        Job.update(total=total, state='running').where(Job.id == job.id).execute()

    def __call__(self, done):
        if done == self.total or done % self.every == 0:
            Job.update(progress=done).where(Job.id == self.job.id).execute()


@huey.task()
def run_job(job_id):
    with _context():
        job = Job.get_by_id(job_id)
        try:
            result = HANDLERS[job.kind](job, json.loads(job.params))
        except JobError as exc:
            Job.update(state='failed', message=exc.message, finished_at=now()).where(Job.id == job_id).execute()
            return
        except Exception:
            current_app.logger.error('job %s failed\n%s', job_id, traceback.format_exc())
            Job.update(state='failed', message='任务执行出错，已记录，请联系系统管理员',
                       finished_at=now()).where(Job.id == job_id).execute()
            return
        done = Job.get_by_id(job_id)
        Job.update(state='done', progress=Job.total, result_path=result or '', finished_at=now(),
                   message=done.message or '已完成').where(Job.id == job_id).execute()


class JobError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def job_dir(job):
    path = os.path.join(current_app.config['OUTPUT_DIR'], 'jobs', str(job.id))
    os.makedirs(path, exist_ok=True)
    return path


def parse_date(value):
    return datetime.date.fromisoformat(value) if value else None
