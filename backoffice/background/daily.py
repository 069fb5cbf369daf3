"""Daily scheduled work of the registry, run by the job consumer's scheduler and as CLI commands.

    flask lapse [--today YYYY-MM-DD]      the lapse task (backoffice.workflow.lifecycle)
    flask remind [--today YYYY-MM-DD]     expiry and 65th-birthday reminders (backoffice.notify.reminders)
"""
import datetime
import logging

import click
from huey import crontab

from backoffice.background import jobs
from backoffice.workflow import lifecycle
from backoffice.notify import reminders

log = logging.getLogger(__name__)


def _day(text):
    """The --today option: an ISO date, or None for today."""
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        raise click.UsageError('日期格式应为 YYYY-MM-DD') from None


@jobs.huey.periodic_task(crontab(hour='0', minute='20'))
def daily_lapse():
    """Just after midnight: what lapsed yesterday shows as lapsed all of today."""
    with jobs.app_context():
        counts = lifecycle.run_lapse()
    log.info('lapse task: %s', counts)


@click.command('lapse', help='执行注册失效任务（专业到期、年满65周岁、企业破产或被吊销）')
@click.option('--today', default='', help='按指定日期执行，格式 YYYY-MM-DD（默认今天）')
def lapse_command(today):
    from models import database
    with database.connection_context():
        counts = lifecycle.run_lapse(today=_day(today))
    click.echo(f'专业到期 {counts["specialties_expired"]} 个；注册失效：有效期满 {counts["expired"]} 人，'
               f'年满65周岁 {counts["age"]} 人，企业原因 {counts["enterprise"]} 人')


@jobs.huey.periodic_task(crontab(hour='7', minute='30'))
def daily_reminders():
    """In the morning, after the lapse: once per key, so a second run sends nothing."""
    with jobs.app_context():
        counts = reminders.run()
    log.info('reminder task: %s', counts)


@click.command('remind', help='发送到期提醒（专业有效期届满前90、60、30天；年满65周岁前）')
@click.option('--today', default='', help='按指定日期执行，格式 YYYY-MM-DD（默认今天）')
def remind_command(today):
    from models import database
    with database.connection_context():
        counts = reminders.run(today=_day(today))
    click.echo(f'已提醒注册人员 {counts["holders"]} 项，企业汇总 {counts["enterprises"]} 家')
