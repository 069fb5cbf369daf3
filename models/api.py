"""The open API: clients, their read log, and the registration change feed."""
import peewee as pw

from .base import BaseModel, now
from .people import Enterprise
from .reference import Province
from .registry import Registration


class ApiClient(BaseModel):
    """A system that calls the API (a province's service hall, the national platform, an enterprise)."""
    client_id = pw.CharField(max_length=40, unique=True)         # public identifier, 'cl_' + 24 hex
    name = pw.CharField(max_length=100)
    kind = pw.CharField(max_length=20, default='province')        # see backoffice.api.clients.KINDS
    scopes = pw.CharField(max_length=300, default='')            # space separated, backoffice.api.scopes
    province = pw.ForeignKeyField(Province, null=True, backref='+', on_delete='RESTRICT')
    enterprise = pw.ForeignKeyField(Enterprise, null=True, backref='+', on_delete='RESTRICT')
    secret_hash = pw.CharField(max_length=64, default='')        # sha256 of the secret; '' = no secret yet
    generation = pw.IntegerField(default=0)                      # bumped by every rotation: old tokens die
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=now)
    rotated_at = pw.DateTimeField(null=True)

    def __str__(self):
        return f'{self.name}（{self.client_id}）'

    @property
    def scope_set(self):
        return frozenset((self.scopes or '').split())


class ApiReadLog(BaseModel):
    """Which client read which person, when (the API's counterpart of LookupLog).

    A point read names its person. A page of the change feed is one row with its change range
    (seq_from, seq_to] and the province the client was limited to: the persons it delivered are
    those of the registrations changed in that range (backoffice.api.readlog.read_person)."""
    client = pw.ForeignKeyField(ApiClient, backref='+', on_delete='RESTRICT')
    resource = pw.CharField(max_length=40)                       # person / registration_feed / application ...
    query = pw.CharField(max_length=60, default='')              # masked ID number, 注册编号, 申请编号 ...
    person_id = pw.IntegerField(null=True, index=True)
    created_at = pw.DateTimeField(default=now, index=True)
    seq_from = pw.BigIntegerField(null=True)                     # feed pages: changes above this number ...
    seq_to = pw.BigIntegerField(null=True)                       # ... up to and including this one
    province_id = pw.IntegerField(null=True)                     # feed pages: the client's province, if limited

    class Meta:
        indexes = ((('client', 'created_at'), False),)

    def __str__(self):
        return f'{self.created_at} {self.resource}'


class RegistrationChange(BaseModel):
    """One change of a registration, numbered by `seq` in commit order (backoffice.workflow.changes)."""
    seq = pw.BigIntegerField(unique=True)
    registration = pw.ForeignKeyField(Registration, backref='+', on_delete='RESTRICT', index=True)
    kind = pw.CharField(max_length=24)                           # see backoffice.workflow.changes.KINDS
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f'#{self.seq} {self.kind}'
