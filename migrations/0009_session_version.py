"""A session version per user: every session stores the version it was opened with, and a bump
(logout, password, role or scope change, deactivation) ends all sessions of that user."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('user', 'session_version', IntegerField(default=0)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('user', 'session_version'),
    )
