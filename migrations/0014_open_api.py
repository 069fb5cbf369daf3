"""The open API (issue 14): API clients, their read log, and the registration change feed."""
from peewee import *


def up(migrator, db):
    class Province(Model):
        class Meta:
            database = db
            table_name = 'province'

    class Enterprise(Model):
        class Meta:
            database = db
            table_name = 'enterprise'

    class Registration(Model):
        class Meta:
            database = db
            table_name = 'registration'

    class ApiClient(Model):
        client_id = CharField(max_length=40, unique=True)
        name = CharField(max_length=100)
        kind = CharField(max_length=20, default='province')
        scopes = CharField(max_length=300, default='')
        province = ForeignKeyField(Province, null=True, on_delete='RESTRICT')
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')
        secret_hash = CharField(max_length=64, default='')
        generation = IntegerField(default=0)
        active = BooleanField(default=True)
        created_at = DateTimeField()
        rotated_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'api_client'

    class ApiReadLog(Model):
        client = ForeignKeyField(ApiClient, on_delete='RESTRICT')
        resource = CharField(max_length=40)
        query = CharField(max_length=60, default='')
        person_id = IntegerField(null=True, index=True)
        created_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'api_read_log'
            indexes = ((('client', 'created_at'), False),)

    class RegistrationChange(Model):
        seq = BigIntegerField(unique=True)
        registration = ForeignKeyField(Registration, on_delete='RESTRICT', index=True)
        kind = CharField(max_length=24)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'registration_change'

    db.create_tables([ApiClient, ApiReadLog, RegistrationChange])


def down(migrator, db):
    for table in ('registration_change', 'api_read_log', 'api_client'):
        migrator.migrate(migrator.drop_table(table))
