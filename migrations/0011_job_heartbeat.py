"""Job liveness: when a job last showed a sign of life (queued, claimed, progress, heartbeat
ticks) and how often the reaper re-queued it, so a job whose worker died never stays
"queued" or "running" (backoffice.background.jobs.reap)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('job', 'started_at', DateTimeField(null=True)),
        migrator.add_column('job', 'heartbeat_at', DateTimeField(null=True)),
        migrator.add_column('job', 'retries', IntegerField(default=0)),
        migrator.add_index('job', ('state', 'heartbeat_at'), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('job', 'job_state_heartbeat_at'),
        migrator.drop_column('job', 'retries'),
        migrator.drop_column('job', 'heartbeat_at'),
        migrator.drop_column('job', 'started_at'),
    )
