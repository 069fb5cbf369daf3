"""Notifications: the outbox of SMS and in-app messages, their templates, SMS preferences and the
reminders already sent (issue 12)."""
from peewee import *


def _stub(db, name):
    class Meta:
        database = db
        table_name = name
    return type(name.title().replace('_', ''), (Model,), {'Meta': Meta})


def up(migrator, db):
    Person, User, Enterprise, Application = (_stub(db, n) for n in ('person', 'user', 'enterprise', 'application'))

    class NotificationTemplate(Model):
        key = CharField(max_length=40, unique=True)
        label = CharField(max_length=50)
        text = TextField()
        needs_action = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'notification_template'

    class Notification(Model):
        person = ForeignKeyField(Person, null=True, on_delete='RESTRICT', index=True)
        user = ForeignKeyField(User, null=True, on_delete='RESTRICT', index=True)
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT', index=True)
        application = ForeignKeyField(Application, null=True, on_delete='RESTRICT')
        channel = CharField(max_length=8)
        template_key = CharField(max_length=40)
        text = TextField()
        mobile = CharField(max_length=11, default='')
        needs_action = BooleanField(default=False)
        state = CharField(max_length=10, default='queued')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        claimed_at = DateTimeField(null=True)
        last_error = CharField(max_length=300, default='')
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        read_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'notification'
            indexes = ((('channel', 'state', 'next_attempt_at'), False),)

    class NotifyPreference(Model):
        user = ForeignKeyField(User, unique=True, on_delete='CASCADE')
        sms_info = BooleanField(default=True)

        class Meta:
            database = db
            table_name = 'notify_preference'

    class ReminderSent(Model):
        key = CharField(max_length=120, unique=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'reminder_sent'

    db.create_tables([NotificationTemplate, Notification, NotifyPreference, ReminderSent])


def down(migrator, db):
    for name in ('reminder_sent', 'notify_preference', 'notification', 'notification_template'):
        migrator.migrate(migrator.drop_table(name))
