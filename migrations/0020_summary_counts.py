"""Summary counters for the back-office home and the unfiltered dashboard (issue 15), backfilled
from a full recount of the base tables (backoffice.workflow.summaries.rebuild)."""
from peewee import *


def up(migrator, db):
    class SummaryCount(Model):
        metric = CharField(max_length=16)
        province = IntegerField(default=0)
        k1 = CharField(max_length=16, default='')
        k2 = CharField(max_length=16, default='')
        n = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = 'summary_count'
            indexes = ((('metric', 'province', 'k1', 'k2'), True), (('metric', 'k1'), False))

    db.create_tables([SummaryCount], safe=True)
    from backoffice.workflow import summaries
    summaries.rebuild()


def down(migrator, db):
    migrator.migrate(migrator.drop_table('summary_count'))
