"""Decision facts for statistics (processing days, decided late) and covering indexes for the
dashboard; existing decided applications are backfilled."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('application', 'processing_days', IntegerField(null=True)),
        migrator.add_column('application', 'decided_late', BooleanField(null=True)),
        migrator.add_index('application', ('processing_days',), False),
        migrator.add_index('application', ('decided_late',), False),
        migrator.add_index('application', ('business_type', 'created_at'), False),
        migrator.add_index('application', ('state', 'decided_at'), False),
        migrator.add_index('application', ('state', 'deadline'), False),
        migrator.add_index('registration', ('state', 'province_id'), False),
        migrator.add_index('registered_specialty', ('state', 'specialty_id'), False),
        migrator.add_index('registered_specialty', ('state', 'valid_until'), False),
    )
    if isinstance(db, PostgresqlDatabase):
        days = "(decided_at::date - accepted_at::date)"
        late = "(decided_at::date > deadline)"
    else:
        days = "CAST(julianday(date(decided_at)) - julianday(date(accepted_at)) AS INTEGER)"
        late = "(date(decided_at) > deadline)"
    db.execute_sql(f'UPDATE application SET processing_days = {days} '
                   'WHERE accepted_at IS NOT NULL AND decided_at IS NOT NULL')
    db.execute_sql(f'UPDATE application SET decided_late = {late} '
                   'WHERE deadline IS NOT NULL AND decided_at IS NOT NULL')


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('application', 'processing_days'),
        migrator.drop_column('application', 'decided_late'),
        migrator.drop_index('application', 'application_business_type_created_at'),
        migrator.drop_index('application', 'application_state_decided_at'),
        migrator.drop_index('application', 'application_state_deadline'),
        migrator.drop_index('registration', 'registration_state_province_id'),
        migrator.drop_index('registered_specialty', 'registered_specialty_state_specialty_id'),
        migrator.drop_index('registered_specialty', 'registered_specialty_state_valid_until'),
    )
