"""peewee models only. Import everything from here."""
from .base import BaseModel, database, now  # noqa: F401
from .reference import CancellationReason, Province, RefusalGround, Specialty
from .people import EDUCATIONS, GENDERS, Enterprise, Person, Qualification  # noqa: F401
from .accounts import User
from .registry import (MATERIAL_KINDS, Application, ApplicationCancelReason,  # noqa: F401
                       ApplicationRefusalGround, ApplicationSpecialty, Material, RegisteredSpecialty, Registration,
                       Sanction)
from .notices import Certificate, Notice, NoticeItem
from .audit import AuditChainHead, AuditEvent, LookupLog
from .external import ExternalRegistration, Sequence
from .jobs import DownloadLog, Job, PrintLog
from .sms import SmsCode, SmsMessage
from .notify import EnterpriseSignup, Notification, NotificationTemplate, NotifyPreference, ReminderSent
from .api import ApiClient, ApiReadLog, RegistrationChange
from .joint import JointOpinion, JointReviewerSpecialty
from .summary import SummaryCount
from .signing import SigningKey

# In dependency order (create order).
ALL_MODELS = [
    Province, Specialty, RefusalGround, CancellationReason,
    Person, Qualification, Enterprise, User,
    Registration, RegisteredSpecialty,
    Application, ApplicationSpecialty, ApplicationCancelReason, ApplicationRefusalGround, Material,
    Notice, NoticeItem, Certificate, AuditEvent, ExternalRegistration, Sequence,
    Job, PrintLog, DownloadLog, SmsMessage, SmsCode, LookupLog,
    AuditChainHead, Sanction,
    NotificationTemplate, Notification, NotifyPreference, ReminderSent, EnterpriseSignup,
    ApiClient, ApiReadLog, RegistrationChange,
    JointReviewerSpecialty, JointOpinion,
    SigningKey,
    SummaryCount,
]
