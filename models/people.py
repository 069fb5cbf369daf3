"""Persons, their qualification records (资格库) and enterprises."""
import peewee as pw

from .base import BaseModel, now
from .reference import Province, Specialty

GENDERS = (('男', '男'), ('女', '女'))
EDUCATIONS = [(v, v) for v in ('中专', '大专', '本科', '硕士研究生', '博士研究生', '其他')]


class Person(BaseModel):
    id_number = pw.CharField(max_length=18, unique=True)     # 公民身份号码, upper-case X
    name = pw.CharField(max_length=50, index=True)
    gender = pw.CharField(max_length=1, choices=GENDERS)      # derived from id_number
    birth_date = pw.DateField()                               # derived from id_number
    ethnicity = pw.CharField(max_length=20, default='汉族')    # 民族
    school = pw.CharField(max_length=100, default='')         # 毕业院校
    major = pw.CharField(max_length=100, default='')          # 所学专业
    education = pw.CharField(max_length=20, default='本科', choices=EDUCATIONS)
    graduation_date = pw.DateField(null=True)                 # 毕业时间
    mobile = pw.CharField(max_length=11, default='')
    # 12 digits of the 注册编号, given at the first initial registration, kept for life.
    reg_core = pw.CharField(max_length=12, null=True, unique=True)
    seal_count = pw.IntegerField(default=0)                   # seals issued so far
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    def __str__(self):
        from backoffice.validators import mask_id_number      # the one masking rule (imported late: no cycle)
        return f'{self.name}（{mask_id_number(self.id_number)}）'


class Qualification(BaseModel):
    """A 资格证书 record from the examination authority (资格库)."""
    cert_number = pw.CharField(max_length=30, unique=True)    # 资格证书管理号
    holder_name = pw.CharField(max_length=50)                 # name as recorded by the exam authority
    holder_id_number = pw.CharField(max_length=18, index=True)
    person = pw.ForeignKeyField(Person, backref='qualifications', null=True, on_delete='RESTRICT')
    specialty = pw.ForeignKeyField(Specialty, on_delete='RESTRICT')
    issue_date = pw.DateField()
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((('holder_id_number', 'specialty'), True),)

    def __str__(self):
        return f'{self.cert_number} {self.holder_name} {self.specialty.name}'


class Enterprise(BaseModel):
    uscc = pw.CharField(max_length=18, unique=True)            # 统一社会信用代码
    name = pw.CharField(max_length=200, index=True)
    legal_rep = pw.CharField(max_length=50)                   # 法定代表人
    province = pw.ForeignKeyField(Province, on_delete='RESTRICT', index=True)
    city = pw.CharField(max_length=50, default='')
    address = pw.CharField(max_length=200, default='')
    verified = pw.BooleanField(default=False, index=True)     # 实名认证 done
    verified_at = pw.DateTimeField(null=True)
    # standing: normal / bankrupt / licence_revoked / qualification_revoked (workflow.states)
    status = pw.CharField(max_length=24, default='normal', index=True)
    status_date = pw.DateField(null=True)
    status_source = pw.CharField(max_length=100, default='')   # who reported it: staff, import file …
    created_at = pw.DateTimeField(default=now)

    def __str__(self):
        return self.name
