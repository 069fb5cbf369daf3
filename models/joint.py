"""Joint review (会审) by another ministry's reviewers for the specialties that need it."""
import peewee as pw

from .accounts import User
from .base import BaseModel, now
from .reference import Specialty
from .registry import Application


class JointReviewerSpecialty(BaseModel):
    """Which joint-review specialties a 会审人员 account may give opinions on."""
    user = pw.ForeignKeyField(User, backref='+', on_delete='CASCADE')
    specialty = pw.ForeignKeyField(Specialty, backref='+', on_delete='RESTRICT')

    class Meta:
        indexes = ((('user', 'specialty'), True),)


class JointOpinion(BaseModel):
    """One requested opinion: per (application, joint-review specialty)."""
    application = pw.ForeignKeyField(Application, backref='joint_opinions', on_delete='RESTRICT')
    specialty = pw.ForeignKeyField(Specialty, backref='+', on_delete='RESTRICT')
    requested_at = pw.DateTimeField(default=now)
    requested_by = pw.ForeignKeyField(User, null=True, backref='+', on_delete='RESTRICT')
    due_on = pw.DateField(index=True)                          # JOINT_REVIEW_WORKING_DAYS after the request
    reviewer = pw.ForeignKeyField(User, null=True, backref='+', on_delete='RESTRICT')
    opinion = pw.CharField(max_length=10, default='')         # '' (pending) / agree / disagree
    reason = pw.TextField(default='')
    decided_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((('application', 'specialty'), True),
                   (('specialty', 'opinion', 'requested_at'), False))
