"""Registrations, applications and their materials."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .people import Enterprise, Person
from .reference import CancellationReason, Province, RefusalGround, Specialty


class Registration(BaseModel):
    """A person's registration with one enterprise (one certificate, one seal)."""
    person = pw.ForeignKeyField(Person, backref='registrations', on_delete='RESTRICT')
    enterprise = pw.ForeignKeyField(Enterprise, backref='registrations', on_delete='RESTRICT')
    province = pw.ForeignKeyField(Province, on_delete='RESTRICT', index=True)
    number = pw.CharField(max_length=13, index=True)           # 注册编号, e.g. 京111050700001
    seal_check = pw.IntegerField(default=0)                    # 印章校验码
    state = pw.CharField(max_length=12, default='active', index=True)  # active / lapsed / cancelled
    registered_on = pw.DateField()
    cancelled_on = pw.DateField(null=True)
    lapsed_on = pw.DateField(null=True)                        # 失效 (Art. 16), by the daily task
    end_reason = pw.CharField(max_length=20, default='')       # see workflow.states.LAPSE_REASONS
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((('state', 'province'), False),)

    def __str__(self):
        return f'{self.number}({self.seal_check:02d})'

    @property
    def full_number(self):
        return f'{self.number}({self.seal_check:02d})'


# At most one active registration per person, enforced by the database too.
Registration.add_index(Registration.index(
    Registration.person, unique=True, where=(Registration.state == 'active'),
    name='registration_one_active_per_person'))


class RegisteredSpecialty(BaseModel):
    registration = pw.ForeignKeyField(Registration, backref='specialties', on_delete='RESTRICT')
    specialty = pw.ForeignKeyField(Specialty, on_delete='RESTRICT')
    valid_from = pw.DateField()
    valid_until = pw.DateField(index=True)
    state = pw.CharField(max_length=12, default='active')      # active / expired / lapsed / cancelled

    class Meta:
        indexes = ((('registration', 'specialty'), True),
                   (('state', 'specialty'), False),
                   (('state', 'valid_until'), False))

    def __str__(self):
        return f'{self.specialty.name} 至 {self.valid_until}'


class Application(BaseModel):
    number = pw.CharField(max_length=20, unique=True)          # 申请编号
    business_type = pw.CharField(max_length=16, index=True)    # see backoffice.workflow.states.BUSINESS_TYPES
    person = pw.ForeignKeyField(Person, backref='applications', on_delete='RESTRICT')
    enterprise = pw.ForeignKeyField(Enterprise, backref='applications', null=True, on_delete='RESTRICT')
    registration = pw.ForeignKeyField(Registration, backref='applications', null=True, on_delete='RESTRICT')
    # the employing enterprise's province, kept with the row so that province filters stay on an index
    province = pw.ForeignKeyField(Province, null=True, backref='+', on_delete='RESTRICT')
    state = pw.CharField(max_length=16, default='draft', index=True)
    version = pw.IntegerField(default=0)                       # bumped by every transition
    initiated_by = pw.CharField(max_length=12, default='applicant')   # or 'registry' (依法注销, Art. 17)
    contract_start = pw.DateField(null=True)
    contract_end = pw.DateField(null=True)
    commitment_accepted = pw.BooleanField(default=False)
    # 信息修改: the corrected name / ID number and the explanation
    new_name = pw.CharField(max_length=50, default='')
    new_id_number = pw.CharField(max_length=18, default='')
    change_explanation = pw.TextField(default='')
    correction_note = pw.TextField(default='')                  # 补正 notice: every missing item
    return_reason = pw.TextField(default='')                    # enterprise 退回 reason
    refusal_text = pw.TextField(default='')
    created_at = pw.DateTimeField(default=now, index=True)
    submitted_at = pw.DateTimeField(null=True, index=True)
    reported_at = pw.DateTimeField(null=True, index=True)
    accepted_at = pw.DateTimeField(null=True, index=True)
    decided_at = pw.DateTimeField(null=True, index=True)
    announced_at = pw.DateTimeField(null=True, index=True)
    deadline = pw.DateField(null=True, index=True)             # 20 working days after acceptance
    accepted_by = pw.ForeignKeyField(User, null=True, backref='+', on_delete='RESTRICT')
    decided_by = pw.ForeignKeyField(User, null=True, backref='+', on_delete='RESTRICT')
    # facts of the decision, recorded when it is made (for statistics)
    processing_days = pw.IntegerField(null=True, index=True)     # calendar days from acceptance to decision
    decided_late = pw.BooleanField(null=True, index=True)        # decided after the deadline

    class Meta:
        indexes = ((('state', 'business_type'), False),
                   (('business_type', 'created_at'), False),
                   (('state', 'decided_at'), False),
                   (('state', 'deadline', 'id'), False),      # the 审查 queue's order (migration 0026)
                   (('province', 'business_type', 'created_at'), False),
                   (('province', 'state', 'decided_at'), False),
                   (('province', 'decided_at', 'processing_days', 'decided_late'), False))

    def save(self, *args, **kwargs):
        if self.enterprise_id is not None:
            self.province_id = Enterprise.select(Enterprise.province).where(
                Enterprise.id == self.enterprise_id).scalar()
        return super().save(*args, **kwargs)

    def __str__(self):
        return self.number


class ApplicationSpecialty(BaseModel):
    application = pw.ForeignKeyField(Application, backref='specialties', on_delete='CASCADE')
    specialty = pw.ForeignKeyField(Specialty, on_delete='RESTRICT')

    class Meta:
        indexes = ((('application', 'specialty'), True),)


class ApplicationCancelReason(BaseModel):
    application = pw.ForeignKeyField(Application, backref='cancel_reasons', on_delete='CASCADE')
    reason = pw.ForeignKeyField(CancellationReason, on_delete='RESTRICT')

    class Meta:
        indexes = ((('application', 'reason'), True),)


class ApplicationRefusalGround(BaseModel):
    application = pw.ForeignKeyField(Application, backref='refusal_grounds', on_delete='CASCADE')
    ground = pw.ForeignKeyField(RefusalGround, on_delete='RESTRICT')

    class Meta:
        indexes = ((('application', 'ground'), True),)


MATERIAL_KINDS = {
    'photo': '一寸白底免冠照',
    'signature': '个人签名',
    'id_front': '身份证人像面',
    'id_back': '身份证国徽面',
    'contract': '劳动合同',
    'continuing_education': '继续教育证明',
    'change_proof': '公安机关或人事考试部门证明',
    'contract_end_proof': '解除或终止劳动合同证明',
    'commitment': '个人承诺书',
    'other': '其他材料',
}


class Material(BaseModel):
    application = pw.ForeignKeyField(Application, backref='materials', on_delete='RESTRICT')
    kind = pw.CharField(max_length=24, choices=list(MATERIAL_KINDS.items()))
    original_name = pw.CharField(max_length=200)
    stored_path = pw.CharField(max_length=300)
    size = pw.IntegerField()
    content_type = pw.CharField(max_length=60)
    sha256 = pw.CharField(max_length=64, index=True)
    check_result = pw.TextField(default='')
    uploaded_at = pw.DateTimeField(default=now)

    def __str__(self):
        return f'{MATERIAL_KINDS.get(self.kind, self.kind)}：{self.original_name}'


class Sanction(BaseModel):
    """A ban on new applications (Art. 33: 1 year; Art. 34: 3 years), from the decision that set it."""
    person = pw.ForeignKeyField(Person, backref='sanctions', on_delete='RESTRICT', index=True)
    kind = pw.CharField(max_length=24)                        # see workflow.states.SANCTIONS
    starts_on = pw.DateField()
    ends_on = pw.DateField(index=True)                         # the last day of the ban
    application = pw.ForeignKeyField(Application, null=True, backref='+', on_delete='RESTRICT')
    decided_by = pw.ForeignKeyField(User, null=True, backref='+', on_delete='RESTRICT')
    note = pw.TextField(default='')
    created_at = pw.DateTimeField(default=now)
