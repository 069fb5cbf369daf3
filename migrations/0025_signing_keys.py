"""Certificate signing keys in the shared database (issue 10: nothing a second node needs lives on
one machine's disk)."""
from peewee import *


def up(migrator, db):
    class SigningKey(Model):
        kid = CharField(max_length=32, unique=True)
        public_key = CharField(max_length=64)
        private_key = TextField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'signing_key'

    db.create_tables([SigningKey], safe=True)
