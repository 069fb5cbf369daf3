"""The application's province (its enterprise's), indexed for province-filtered statistics; backfilled."""
from peewee import *


def up(migrator, db):
    class Province(Model):
        class Meta:
            database = db
            table_name = 'province'

    migrator.migrate(
        migrator.add_column('application', 'province_id',
                            ForeignKeyField(Province, field=Province.id, null=True, on_delete='RESTRICT')),
        migrator.add_index('application', ('province_id', 'business_type', 'created_at'), False),
    )
    db.execute_sql('UPDATE application SET province_id = (SELECT province_id FROM enterprise '
                   'WHERE enterprise.id = application.enterprise_id) WHERE enterprise_id IS NOT NULL')


def down(migrator, db):
    migrator.migrate(migrator.drop_column('application', 'province_id'))
