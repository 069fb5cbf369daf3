"""The registration's life cycle: when and why it lapsed, the enterprise's standing
(bankrupt, licence or 资质 revoked) with its date and source, and who started an application
(the applicant, or the registry for a 依法注销)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('registration', 'lapsed_on', DateField(null=True)),
        migrator.add_column('registration', 'end_reason', CharField(max_length=20, default='')),
        migrator.add_column('enterprise', 'status', CharField(max_length=24, default='normal')),
        migrator.add_column('enterprise', 'status_date', DateField(null=True)),
        migrator.add_column('enterprise', 'status_source', CharField(max_length=100, default='')),
        migrator.add_index('enterprise', ('status',), False),
        migrator.add_column('application', 'initiated_by', CharField(max_length=12, default='applicant')),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('registration', 'lapsed_on'),
        migrator.drop_column('registration', 'end_reason'),
        migrator.drop_column('enterprise', 'status'),
        migrator.drop_column('enterprise', 'status_date'),
        migrator.drop_column('enterprise', 'status_source'),
        migrator.drop_column('application', 'initiated_by'),
    )
