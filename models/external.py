"""Registrations held in other systems (二级建造师, other professions), for conflict checks."""
import peewee as pw

from .base import BaseModel, now


class ExternalRegistration(BaseModel):
    id_number = pw.CharField(max_length=18, index=True)
    name = pw.CharField(max_length=50)
    category = pw.CharField(max_length=50)                       # 二级建造师, 注册监理工程师 ...
    reg_number = pw.CharField(max_length=40)
    enterprise_name = pw.CharField(max_length=200, default='')
    enterprise_uscc = pw.CharField(max_length=18, default='')
    active = pw.BooleanField(default=True)
    source = pw.CharField(max_length=100, default='')
    imported_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((('id_number', 'category', 'reg_number'), True),)

    def __str__(self):
        return f'{self.category} {self.reg_number}'


class Sequence(BaseModel):
    """Monotonic counters (registration serials, application and notice numbers). Never reset."""
    key = pw.CharField(max_length=40, unique=True)
    value = pw.IntegerField(default=0)

    def __str__(self):
        return f'{self.key}={self.value}'
