"""Sending the outbox on the job queue: every minute on the consumer's scheduler, and right after a
request whose transaction wrote notification rows (queued after the response is built, i.e. after
commit; the minute task catches anything this misses)."""
import logging

from huey import crontab

from backoffice.background import jobs
from backoffice.notify import outbox

log = logging.getLogger(__name__)


@jobs.huey.task()
def send_notifications():
    with jobs.app_context():
        counts = outbox.send_due()
    if any(counts.values()):
        log.info('notifications: %s', counts)
    return counts


@jobs.huey.periodic_task(crontab(minute='*'))
def send_notifications_every_minute():
    with jobs.app_context():
        counts = outbox.send_due()
    if any(counts.values()):
        log.info('notifications (periodic): %s', counts)


def queue_inline():
    """True when huey runs tasks inline (tests): they call outbox.send_due themselves, with a clock."""
    return jobs.huey.immediate


def init_app(app):
    @app.after_request
    def _send_after_commit(response):
        from flask import g
        if g.pop('notify_kick', False) and not queue_inline():
            try:
                send_notifications()
            except Exception:           # the queue being down must not fail a committed request
                log.warning('notification send not queued; the minute task will send', exc_info=True)
        return response
