"""Sanctions: bans on new applications (Art. 33: 1 year after a refusal for concealment or false
materials; Art. 34: 3 years after a registration obtained by deception is 撤销)."""
from peewee import *


def up(migrator, db):
    class Person(Model):
        class Meta:
            database = db
            table_name = 'person'

    class Application(Model):
        class Meta:
            database = db
            table_name = 'application'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Sanction(Model):
        person = ForeignKeyField(Person, on_delete='RESTRICT', index=True)
        kind = CharField(max_length=24)
        starts_on = DateField()
        ends_on = DateField(index=True)
        application = ForeignKeyField(Application, null=True, on_delete='RESTRICT')
        decided_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        note = TextField(default='')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'sanction'
    db.create_tables([Sanction])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('sanction'))
