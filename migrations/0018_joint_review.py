"""Joint review (会审, issue 11): the 会审人员's specialties and one opinion per (application, specialty)."""
from peewee import *


def _stub(db, name):
    class Meta:
        database = db
        table_name = name
    return type(name.title().replace('_', ''), (Model,), {'Meta': Meta})


def up(migrator, db):
    User, Specialty, Application = (_stub(db, n) for n in ('user', 'specialty', 'application'))

    class JointReviewerSpecialty(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        specialty = ForeignKeyField(Specialty, on_delete='RESTRICT')

        class Meta:
            database = db
            table_name = 'joint_reviewer_specialty'
            indexes = ((('user', 'specialty'), True),)

    class JointOpinion(Model):
        application = ForeignKeyField(Application, on_delete='RESTRICT')
        specialty = ForeignKeyField(Specialty, on_delete='RESTRICT')
        requested_at = DateTimeField()
        requested_by = ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
        due_on = DateField(index=True)
        reviewer = ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
        opinion = CharField(max_length=10, default='')
        reason = TextField(default='')
        decided_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'joint_opinion'
            indexes = ((('application', 'specialty'), True),
                       (('specialty', 'opinion', 'requested_at'), False))

    db.create_tables([JointReviewerSpecialty, JointOpinion])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('joint_opinion'), migrator.drop_table('joint_reviewer_specialty'))
