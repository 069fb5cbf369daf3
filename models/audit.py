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
    changes = pw.TextField(default='')          # JSON: [{field, label, old, new}] of a staff edit
    created_at = pw.DateTimeField(default=now, index=True)
    # Hash chain (backoffice.audit): hash = sha256(canonical content + prev_hash).
    prev_hash = pw.CharField(max_length=64, default='')
    hash = pw.CharField(max_length=64, default='')

    def __str__(self):
        return f'{self.created_at} {self.action}'

    # Append-only and hash-chained: rows are written only by backoffice.audit.record / record_many.
    _WRITE_REFUSED = 'AuditEvent rows are written only through backoffice.audit.record()/record_many()'

    def save(self, *args, **kwargs):
        raise TypeError(self._WRITE_REFUSED)

    @classmethod
    def insert(cls, *args, **kwargs):
        raise TypeError(cls._WRITE_REFUSED)

    @classmethod
    def insert_many(cls, *args, **kwargs):
        raise TypeError(cls._WRITE_REFUSED)

    @classmethod
    def update(cls, *args, **kwargs):
        raise TypeError(cls._WRITE_REFUSED)


class AuditChainHead(BaseModel):
    """The one row (id=1) naming the last audit event of the chain. Appends lock it
    (SELECT … FOR UPDATE on PostgreSQL), so concurrent writers never fork the chain, and
    verification compares it with the last row, so deleting rows at the end is caught too."""
    last_id = pw.IntegerField(default=0)
    last_hash = pw.CharField(max_length=64, default='')
    count = pw.BigIntegerField(default=0)


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
