"""Announcements (公告) and certificates."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .people import Person
from .registry import Application, Registration


class Notice(BaseModel):
    """A 公告: approved decisions published together. Never edited once published."""
    number = pw.CharField(max_length=40, null=True, unique=True)   # given at publishing
    title = pw.CharField(max_length=200)
    state = pw.CharField(max_length=12, default='draft', index=True)  # draft / published
    created_by = pw.ForeignKeyField(User, on_delete='RESTRICT', backref='+')
    created_at = pw.DateTimeField(default=now)
    published_by = pw.ForeignKeyField(User, null=True, on_delete='RESTRICT', backref='+')
    published_at = pw.DateTimeField(null=True, index=True)

    def __str__(self):
        return self.number or self.title


class NoticeItem(BaseModel):
    notice = pw.ForeignKeyField(Notice, backref='items', on_delete='RESTRICT')
    application = pw.ForeignKeyField(Application, unique=True, on_delete='RESTRICT')

    def __str__(self):
        return f'{self.notice} / {self.application}'


class Certificate(BaseModel):
    """An issued electronic registration certificate (one per registration state)."""
    serial = pw.CharField(max_length=32, unique=True)
    registration = pw.ForeignKeyField(Registration, backref='certificates', on_delete='RESTRICT')
    person = pw.ForeignKeyField(Person, backref='certificates', on_delete='RESTRICT')
    issued_on = pw.DateField(index=True)
    use_until = pw.DateField()                                   # 使用有效期
    state = pw.CharField(max_length=12, default='valid', index=True)   # valid / void
    printed = pw.BooleanField(default=False, index=True)
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return self.serial
