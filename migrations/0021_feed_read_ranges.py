"""The API read log records a feed page as one row with its change range (issue 14): a page of a
thousand registrations wrote a thousand rows, half the feed's time. Who read a person through the
feed is answered from the range and the change rows (backoffice.api.readlog.read_person)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('api_read_log', 'seq_from', BigIntegerField(null=True)),
        migrator.add_column('api_read_log', 'seq_to', BigIntegerField(null=True)),
        migrator.add_column('api_read_log', 'province_id', IntegerField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('api_read_log', 'seq_from'),
        migrator.drop_column('api_read_log', 'seq_to'),
        migrator.drop_column('api_read_log', 'province_id'),
    )
