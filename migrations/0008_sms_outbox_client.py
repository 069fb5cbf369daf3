"""The SMS outbox records every message whatever the gateway: the sending client's address, the
purpose, the gateway, its status and error. Sends per mobile number and per client are counted on
these rows (shared by every worker), so the two composite indexes keep the counts on an index."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('sms_message', 'client', CharField(max_length=64, default='')),
        migrator.add_column('sms_message', 'purpose', CharField(max_length=30, default='')),
        migrator.add_column('sms_message', 'gateway', CharField(max_length=20, default='outbox')),
        migrator.add_column('sms_message', 'status', CharField(max_length=10, default='sent')),
        migrator.add_column('sms_message', 'error', CharField(max_length=300, default='')),
        migrator.add_index('sms_message', ('mobile', 'created_at'), False),
        migrator.add_index('sms_message', ('client', 'created_at'), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('sms_message', 'sms_message_client_created_at'),
        migrator.drop_index('sms_message', 'sms_message_mobile_created_at'),
        migrator.drop_column('sms_message', 'error'),
        migrator.drop_column('sms_message', 'status'),
        migrator.drop_column('sms_message', 'gateway'),
        migrator.drop_column('sms_message', 'purpose'),
        migrator.drop_column('sms_message', 'client'),
    )
