"""Enterprise self-service: sign-ups and changes of enterprise data, waiting for the registry's approval
(issue 12)."""
from peewee import *


def _stub(db, name):
    class Meta:
        database = db
        table_name = name
    return type(name.title().replace('_', ''), (Model,), {'Meta': Meta})


def up(migrator, db):
    Province, User, Enterprise = (_stub(db, n) for n in ('province', 'user', 'enterprise'))

    class EnterpriseSignup(Model):
        kind = CharField(max_length=10, default='signup')
        uscc = CharField(max_length=18, index=True)
        name = CharField(max_length=200)
        legal_rep = CharField(max_length=50)
        legal_rep_id_number = CharField(max_length=18)
        province = ForeignKeyField(Province, on_delete='RESTRICT')
        address = CharField(max_length=200)
        mobile = CharField(max_length=11)
        username = CharField(max_length=50)
        password_hash = CharField(max_length=200)
        licence_path = CharField(max_length=300)
        licence_type = CharField(max_length=40)
        state = CharField(max_length=10, default='pending', index=True)
        reason = CharField(max_length=300, default='')
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')
        admin_user = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        decided_by = ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
        decided_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'enterprise_signup'

    db.create_tables([EnterpriseSignup])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('enterprise_signup'))
