"""Notifications (the outbox), their editable templates, preferences, reminders sent, and
enterprise sign-ups waiting for the registry's approval."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .people import Enterprise, Person
from .reference import Province
from .registry import Application


class NotificationTemplate(BaseModel):
    """The Chinese text of one kind of message, with {placeholders}; edited by administrators."""
    key = pw.CharField(max_length=40, unique=True)
    label = pw.CharField(max_length=50)
    text = pw.TextField()
    needs_action = pw.BooleanField(default=False)
    updated_at = pw.DateTimeField(default=now)

    def __str__(self):
        return self.label


class Notification(BaseModel):
    """One message on one channel to one recipient, written in the transaction of its cause.

    SMS rows are delivered after commit by the job queue: queued → sending (claimed) → sent, or
    retrying (with next_attempt_at) → … → failed. In-app rows are delivered when committed."""
    person = pw.ForeignKeyField(Person, null=True, on_delete='RESTRICT', index=True)
    user = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', index=True)
    enterprise = pw.ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT', index=True)
    application = pw.ForeignKeyField(Application, null=True, on_delete='RESTRICT')
    channel = pw.CharField(max_length=8)                     # sms / inapp
    template_key = pw.CharField(max_length=40)
    text = pw.TextField()
    mobile = pw.CharField(max_length=11, default='')
    needs_action = pw.BooleanField(default=False)
    state = pw.CharField(max_length=10, default='queued')     # queued / sending / sent / retrying / failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(null=True)
    claimed_at = pw.DateTimeField(null=True)
    last_error = pw.CharField(max_length=300, default='')
    created_at = pw.DateTimeField(default=now)
    sent_at = pw.DateTimeField(null=True)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((('channel', 'state', 'next_attempt_at'), False),)

    def __str__(self):
        return f'{self.template_key} #{self.id}'


class NotifyPreference(BaseModel):
    """A user's choice: information messages by SMS or not (needs-action messages always go)."""
    user = pw.ForeignKeyField(User, unique=True, on_delete='CASCADE')
    sms_info = pw.BooleanField(default=True)


class ReminderSent(BaseModel):
    """One row per reminder ever sent: its key makes a second run of the daily task send nothing."""
    key = pw.CharField(max_length=120, unique=True)
    created_at = pw.DateTimeField(default=now)


class EnterpriseSignup(BaseModel):
    """An enterprise's self-service sign-up (kind 'signup') or change of its data (kind 'change': name,
    legal representative, address, contact mobile), decided by the registry (approve / refuse)."""
    kind = pw.CharField(max_length=10, default='signup')
    uscc = pw.CharField(max_length=18, index=True)
    name = pw.CharField(max_length=200)
    legal_rep = pw.CharField(max_length=50)
    legal_rep_id_number = pw.CharField(max_length=18)
    province = pw.ForeignKeyField(Province, on_delete='RESTRICT')
    address = pw.CharField(max_length=200)
    mobile = pw.CharField(max_length=11)
    username = pw.CharField(max_length=50)
    password_hash = pw.CharField(max_length=200)
    licence_path = pw.CharField(max_length=300)
    licence_type = pw.CharField(max_length=40)
    state = pw.CharField(max_length=10, default='pending', index=True)     # pending / approved / refused
    reason = pw.CharField(max_length=300, default='')
    enterprise = pw.ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')
    admin_user = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='enterprise_signups')
    decided_by = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
    decided_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f'{self.name}（{self.uscc}）'
