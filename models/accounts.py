"""Accounts of every role."""
import peewee as pw

from .base import BaseModel, now
from .people import Enterprise, Person
from .reference import Province


class User(BaseModel):
    username = pw.CharField(max_length=50, unique=True)
    name = pw.CharField(max_length=50)
    password_hash = pw.CharField(max_length=200)
    role = pw.CharField(max_length=16, index=True)            # see backoffice.roles.ROLES
    province = pw.ForeignKeyField(Province, null=True, on_delete='RESTRICT')      # provincial officers
    enterprise = pw.ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')  # enterprise users
    person = pw.ForeignKeyField(Person, null=True, on_delete='RESTRICT')          # applicants
    mobile = pw.CharField(max_length=11, default='')
    active = pw.BooleanField(default=True)
    failed_logins = pw.IntegerField(default=0)
    locked_until = pw.DateTimeField(null=True)       # no login attempt before (progressive delay)
    session_version = pw.IntegerField(default=0)     # bumped to end every session (backoffice.auth)
    last_login_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f'{self.name}（{self.username}）'

    # Flask-Login protocol
    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return str(self.id)
