"""Audit that holds up: the before/after values of staff edits (`changes`), the hash chain
(`prev_hash`, `hash`) and its head row. Rows written before this migration are chained here,
in id order, so `flask audit verify` holds from the start."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('audit_event', 'changes', TextField(default='')),
        migrator.add_column('audit_event', 'prev_hash', CharField(max_length=64, default='')),
        migrator.add_column('audit_event', 'hash', CharField(max_length=64, default='')),
    )

    class AuditChainHead(Model):
        last_id = IntegerField(default=0)
        last_hash = CharField(max_length=64, default='')
        count = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = 'audit_chain_head'
    db.create_tables([AuditChainHead])

    from models import database
    from backoffice import audit
    if database.obj is None:            # the Runner was given a database the proxy does not point at
        database.initialize(db)
    audit.rechain()


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('audit_event', 'changes'),
        migrator.drop_column('audit_event', 'prev_hash'),
        migrator.drop_column('audit_event', 'hash'),
        migrator.drop_table('audit_chain_head'),
    )
