"""Retention: uploaded import files and job outputs are deleted RETENTION_DAYS (default 7) after
they were made. They hold personal data (exports, rejected-row reports, print files, the 资格库
files staff uploaded) and nobody needs them once downloaded.

    flask cleanup [--days N]          by hand; the consumer's scheduler runs it every day at 03:00

- A finished job (done or failed) older than the period loses its files (OUTPUT_DIR/jobs/<id>/, or
  jobs/<id>/ in object storage, backoffice.storage);
  its Job row is kept, with result_path cleared and a message saying the file was removed, so
  the job list still tells who made what and when, and the download answers 404.
- Import uploads (imports/*, local or in object storage) older than the period are deleted unless a job still
  waiting or running reads them.
- Job files with no Job row, older than the period, are deleted too.
Ages are read from Job.finished_at (or created_at) and from file modification times, against `now`
(injected by tests).
"""
import datetime
import json
import logging
import os
import shutil

import click
from flask import current_app
from huey import crontab

from backoffice import storage
from backoffice.background import jobs
from models import Job, database

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
EXPIRED_MESSAGE = '结果文件已超过保留期限（{days} 天），已删除'


def _inside(root, path):
    root, path = os.path.realpath(root), os.path.realpath(path)
    return path.startswith(root + os.sep)


def _listing(store, prefix):
    """(key, modification time as a timestamp) of every file under prefix ('jobs/', 'imports/'),
    on local disk or in object storage."""
    if store.kind == 'local':
        top = os.path.join(store.root, prefix.rstrip('/'))
        for folder, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(folder, name)
                yield os.path.relpath(path, store.root).replace(os.sep, '/'), os.path.getmtime(path)
        return
    paginator = store.client.get_paginator('list_objects_v2')
    for page in paginator.paginate(Bucket=store.bucket, Prefix=store.prefix + prefix):
        for obj in page.get('Contents', []):
            yield obj['Key'][len(store.prefix):], obj['LastModified'].timestamp()


def _delete_job_files(store, job):
    store.delete_prefix(f'jobs/{job.id}')                      # local folder, or the objects in S3
    output = current_app.config['OUTPUT_DIR']
    scratch = os.path.join(output, 'jobs', str(job.id))      # with S3, a scratch folder may be left
    if os.path.isdir(scratch):
        shutil.rmtree(scratch, ignore_errors=True)
    path = job.result_path
    if path and not path.startswith(jobs.STORED) and _inside(output, path) and os.path.isfile(path):
        os.remove(path)


def cleanup(now=None, days=None):
    """Delete what is past the retention period; returns counts {'jobs', 'imports', 'orphans'}."""
    days = int(days if days is not None else current_app.config.get('RETENTION_DAYS', DEFAULT_DAYS))
    now = now or datetime.datetime.now()
    cutoff = now - datetime.timedelta(days=days)
    cutoff_ts = cutoff.timestamp()
    store = storage.outputs()
    counts = {'jobs': 0, 'imports': 0, 'orphans': 0}

    # finished jobs past the period: files removed, row kept and marked
    message = EXPIRED_MESSAGE.format(days=days)
    old = Job.select().where((Job.state.in_(('done', 'failed')))
                             & (((Job.finished_at.is_null(False)) & (Job.finished_at < cutoff))
                                | ((Job.finished_at.is_null()) & (Job.created_at < cutoff))))
    for job in old:
        if not job.result_path and job.message == message:
            continue                    # already cleaned
        _delete_job_files(store, job)
        Job.update(result_path='', message=message).where(Job.id == job.id).execute()
        counts['jobs'] += 1

    # job files with no row, past the period
    known = {str(i) for (i,) in Job.select(Job.id).tuples()}
    orphans = set()
    for key, mtime in list(_listing(store, 'jobs/')):
        parts = key.split('/')
        if len(parts) > 2 and parts[1] not in known and mtime < cutoff_ts:
            store.delete(key)
            orphans.add(parts[1])
    counts['orphans'] = len(orphans)

    # uploaded import files, unless a job still to run reads them
    in_use = set()
    for (params,) in Job.select(Job.params).where(Job.state.in_(('queued', 'running'))).tuples():
        try:
            values = json.loads(params or '{}')
        except ValueError:
            continue
        if values.get('path'):
            in_use.add(os.path.realpath(values['path']))
        if values.get('input_key'):
            in_use.add(values['input_key'])
    for key, mtime in list(_listing(store, 'imports/')):
        local = store.local_path(key)
        if mtime >= cutoff_ts or key in in_use or (local and os.path.realpath(local) in in_use):
            continue
        store.delete(key)
        counts['imports'] += 1
    return counts


@jobs.huey.periodic_task(crontab(hour='3', minute='0'), name='retention_cleanup')
def daily_cleanup():
    """Every day at 03:00 on the consumer's scheduler."""
    with jobs.app_context():
        counts = cleanup()
    log.info('retention cleanup: %s', counts)


@click.command('cleanup', help='删除超过保留期限的导入文件和后台任务结果文件（默认保留 7 天，见 RETENTION_DAYS）')
@click.option('--days', type=click.IntRange(min=0), default=None, help='保留天数（默认取 RETENTION_DAYS 设置）')
def cleanup_command(days):
    with database.connection_context():
        counts = cleanup(days=days)
    click.echo(f'已删除：任务结果 {counts["jobs"]} 个，导入文件 {counts["imports"]} 个，'
               f'无主任务目录 {counts["orphans"]} 个')
