"""Background jobs whose worker died: settled by the reaper (periodic, CLI, on status read), never
left "queued" or "running"; failed jobs retried by the user who started them.

huey runs in immediate mode here: a re-queued job runs at once, inline. A dead worker is
simulated by a Job row in "running" with an old heartbeat; "now" is injected, never slept.
"""
import datetime
import json

import pytest

from backoffice.background import jobs
from models import Job

from .conftest import csrf_from, login

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0)
MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def probe():
    """A job kind for these tests that records its runs."""
    runs = []

    def run(job, params):
        runs.append((job.id, params))
        return ''
    jobs.HANDLERS['probe'] = run
    yield runs
    jobs.HANDLERS.pop('probe', None)


def _job(user, state, last_sign, kind='probe', retries=0, **kw):
    return Job.create(kind=kind, title='测试任务', created_by=user, state=state, params=json.dumps({'n': 7}),
                      heartbeat_at=last_sign, started_at=last_sign if state == 'running' else None,
                      created_at=last_sign, retries=retries, **kw)


def test_running_job_with_dead_worker_is_marked_failed(users, probe):
    dead = _job(users['supervisor'], 'running', NOW - 10 * MIN, progress=40, total=100)
    alive = _job(users['supervisor'], 'running', NOW - datetime.timedelta(seconds=30))
    assert jobs.reap(at=NOW) == {'requeued': 0, 'failed': 1}
    dead, alive = Job.get_by_id(dead.id), Job.get_by_id(alive.id)
    assert dead.state == 'failed' and dead.message.startswith('任务进程中断') and dead.finished_at == NOW
    assert alive.state == 'running'
    assert probe == []                               # not re-run: only safe kinds are re-run by themselves


def test_rerunnable_job_is_requeued_once_then_failed(users, monkeypatch, probe):
    monkeypatch.setattr(jobs, 'RERUNNABLE_KINDS', {'probe'})
    dead = _job(users['supervisor'], 'running', NOW - 10 * MIN)
    assert jobs.reap(at=NOW) == {'requeued': 1, 'failed': 0}
    row = Job.get_by_id(dead.id)
    assert row.state == 'done' and row.retries == 1 and probe == [(dead.id, {'n': 7})]
    # the re-run died too: no second automatic attempt
    Job.update(state='running', heartbeat_at=NOW - 10 * MIN).where(Job.id == dead.id).execute()
    assert jobs.reap(at=NOW) == {'requeued': 0, 'failed': 1}
    assert Job.get_by_id(dead.id).state == 'failed' and len(probe) == 1


def test_queued_job_without_consumer_is_requeued_then_failed(users, monkeypatch, probe):
    lost = _job(users['supervisor'], 'queued', NOW - 30 * MIN)
    fresh = _job(users['supervisor'], 'queued', NOW - 2 * MIN)
    assert jobs.reap(at=NOW) == {'requeued': 1, 'failed': 0}
    assert Job.get_by_id(lost.id).state == 'done' and Job.get_by_id(fresh.id).state == 'queued'
    # queued again long after its one re-queue: failed when no consumer is alive ...
    stuck = _job(users['supervisor'], 'queued', NOW - 30 * MIN, retries=1)
    jobs.mark_consumer_alive(NOW - 60 * MIN)
    assert jobs.reap(at=NOW) == {'requeued': 0, 'failed': 1}
    row = Job.get_by_id(stuck.id)
    assert row.state == 'failed' and '后台任务进程未运行' in row.message
    # ... but left queued while a consumer is alive (it is busy, the message is on the queue)
    busy = _job(users['supervisor'], 'queued', NOW - 30 * MIN, retries=1)
    jobs.mark_consumer_alive(NOW - MIN)
    assert jobs.reap(at=NOW) == {'requeued': 0, 'failed': 0}
    assert Job.get_by_id(busy.id).state == 'queued'


def test_duplicate_queue_message_does_not_run_a_job_twice(users, probe):
    job = jobs.start('probe', '测试任务', users['supervisor'], {'n': 1})
    assert Job.get_by_id(job.id).state == 'done' and len(probe) == 1
    jobs.run_job(job.id)                      # the same message delivered again
    assert len(probe) == 1


def test_progress_writes_heartbeat(users):
    job = _job(users['supervisor'], 'queued', NOW - 60 * MIN)
    progress = jobs.Progress(job, 10, every=5)
    first = Job.get_by_id(job.id).heartbeat_at
    assert first > NOW - 60 * MIN and Job.get_by_id(job.id).state == 'running'
    Job.update(heartbeat_at=NOW - 60 * MIN).where(Job.id == job.id).execute()
    progress(5)
    row = Job.get_by_id(job.id)
    assert row.progress == 5 and row.heartbeat_at > NOW - 60 * MIN


def test_status_read_settles_a_dead_job(client, users):
    dead = _job(users['supervisor'], 'running', jobs.now() - datetime.timedelta(hours=1))
    login(client, 'supervisor')
    status = client.get(f'/admin/job/{dead.id}/status').get_json()
    assert status['state'] == 'failed' and status['message'].startswith('任务进程中断')
    page = client.get(f'/admin/job/{dead.id}/').get_data(as_text=True)
    assert '失败' in page and '重试' in page


def test_failed_job_retry_by_its_owner(client, users, probe):
    failed = _job(users['supervisor'], 'failed', NOW - 60 * MIN, message='任务进程中断')
    login(client, 'supervisor')
    page = client.get(f'/admin/job/{failed.id}/').get_data(as_text=True)
    assert f'/admin/job/{failed.id}/retry' in page
    listing = client.get('/admin/job/').get_data(as_text=True)
    assert f'/admin/job/{failed.id}/retry' in listing
    # without the CSRF token: refused, nothing queued
    assert client.post(f'/admin/job/{failed.id}/retry').status_code == 400
    assert Job.select().count() == 1
    r = client.post(f'/admin/job/{failed.id}/retry', data={'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    new = Job.select().where(Job.id != failed.id).get()
    assert r.headers['Location'].endswith(f'/admin/job/{new.id}/')
    assert (new.kind, new.title, json.loads(new.params), new.created_by_id) == (
        'probe', '测试任务', {'n': 7}, users['supervisor'].id)
    assert new.state == 'done' and probe == [(new.id, {'n': 7})]
    assert Job.get_by_id(failed.id).state == 'failed'           # the failed run stays in the history


def test_retry_only_for_own_failed_jobs(client, users, probe):
    failed = _job(users['supervisor'], 'failed', NOW - 60 * MIN)
    done = _job(users['admin'], 'done', NOW - 60 * MIN)
    login(client, 'admin')
    token = csrf_from(client.get(f'/admin/job/{done.id}/').get_data(as_text=True))
    assert client.post(f'/admin/job/{failed.id}/retry', data={'csrf_token': token}).status_code == 403
    r = client.post(f'/admin/job/{done.id}/retry', data={'csrf_token': token}, follow_redirects=True)
    assert '只有失败的任务可以重试' in r.get_data(as_text=True)
    assert Job.select().count() == 2 and probe == []


def test_cli_and_periodic_task_reap(app, users):
    dead = _job(users['supervisor'], 'running', jobs.now() - datetime.timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=['jobs', 'reap'])
    assert result.exit_code == 0, result.output
    assert '标记失败 1 个' in result.output and Job.get_by_id(dead.id).state == 'failed'
    # the same on the consumer's scheduler, every minute; running it also marks the consumer alive
    assert any(t.name == 'reap_jobs' for t in jobs.huey._registry.periodic_tasks)
    dead2 = _job(users['supervisor'], 'running', jobs.now() - datetime.timedelta(hours=1))
    jobs.huey.delete(jobs.CONSUMER_ALIVE_KEY)
    assert not jobs.consumer_alive()
    jobs.reap_jobs()
    assert Job.get_by_id(dead2.id).state == 'failed' and jobs.consumer_alive()


def test_redis_url_is_the_queue_setting(monkeypatch):
    monkeypatch.delenv('HUEY_REDIS_URL', raising=False)
    monkeypatch.setenv('REDIS_URL', 'redis://127.0.0.1:6379/5')
    assert jobs.redis_url() == 'redis://127.0.0.1:6379/5'
    monkeypatch.delenv('REDIS_URL')
    monkeypatch.setenv('HUEY_REDIS_URL', 'redis://127.0.0.1:6379/6')       # the older name still works
    assert jobs.redis_url() == 'redis://127.0.0.1:6379/6'
    monkeypatch.delenv('HUEY_REDIS_URL')
    assert jobs.redis_url() is None
