"""The audit log: every state change and every staff edit."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .registry import Application


class AuditEvent(BaseModel):
    application = pw.ForeignKeyField(Application, null=True, backref='audit_events',
                                     on_delete='RESTRICT')
    object_type = pw.CharField(max_length=40, index=True)       # 'application', 'person', ...
    object_id = pw.IntegerField(null=True, index=True)
    action = pw.CharField(max_length=40)                        # transition name or create/update
    actor = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
    actor_role = pw.CharField(max_length=16, default='')
    from_state = pw.CharField(max_length=16, default='')
    to_state = pw.CharField(max_length=16, default='')
    comment = pw.TextField(default='')
    created_at = pw.DateTimeField(default=now, index=True)

    def __str__(self):
        return f'{self.created_at} {self.action}'


class LookupLog(BaseModel):
    """Who looked up whom, when (helpdesk and other staff lookups by ID number / 注册编号 / name)."""
    user = pw.ForeignKeyField(User, on_delete='RESTRICT', backref='+')
    query = pw.CharField(max_length=60)
    kind = pw.CharField(max_length=16)                        # id_number / reg_number / name / person
    person_id = pw.IntegerField(null=True, index=True)
    results = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=now, index=True)

    def __str__(self):
        return f'{self.created_at} {self.query}'
