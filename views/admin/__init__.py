"""The Flask-Admin staff back office: every view, in menu order."""
from models import (EnterpriseSignup, Notification, NotificationTemplate)  # noqa: I001
from models import (Application, AuditEvent, LookupLog, CancellationReason, Certificate, Enterprise, ExternalRegistration,
                    Material, Notice, NoticeItem, Person, PrintLog, Province, Qualification, RefusalGround,
                    RegisteredSpecialty, Registration, Specialty, User)

from . import registry as r
from .notices import AnnouncementView
from .helpdesk import HelpdeskView, LookupLogView
from .api import ApiClientView, ApiReadLogView
from .printing import PrintLogView, PrintView
from .reports import DashboardView, ExportView, ImportView, JobView
from .review import AcceptQueueView, ReviewQueueView
from .joint_review import JointProgressView, JointReviewQueueView
from models import JointOpinion
from .notify import EnterpriseSignupView, NotificationTemplateView, NotificationView


def register(admin):
    work, reg, people, ref, system = '办理', '注册业务', '人员与企业', '基础数据', '系统管理'
    admin.add_view(AcceptQueueView(Application, name='待受理', category=work, endpoint='accept_queue'))
    admin.add_view(ReviewQueueView(Application, name='待审查', category=work, endpoint='review_queue'))
    admin.add_view(JointProgressView(JointOpinion, name='会审进度', category=work, endpoint='joint_progress'))
    admin.add_view(JointReviewQueueView(JointOpinion, name='待会审', category=work, endpoint='joint_review'))
    admin.add_view(PrintView(name='证书批量打印', category=work, endpoint='print'))
    admin.add_view(HelpdeskView(name='客服查询', category=work, endpoint='helpdesk'))
    admin.add_view(DashboardView(name='统计分析', category='统计与数据', endpoint='dashboard'))
    admin.add_view(ExportView(name='数据导出', category='统计与数据', endpoint='exports'))
    admin.add_view(ImportView(name='数据导入', category='统计与数据', endpoint='imports'))
    admin.add_view(JobView(name='后台任务', endpoint='job'))
    admin.add_view(r.ApplicationView(Application, name='注册申请', category=reg, endpoint='application'))
    admin.add_view(AnnouncementView(Notice, name='公告', category=reg, endpoint='notice'))
    admin.add_view(r.NoticeItemView(NoticeItem, name='公告明细', category=reg, endpoint='noticeitem'))
    admin.add_view(r.RegistrationView(Registration, name='注册记录', category=reg, endpoint='registration'))
    admin.add_view(r.RegisteredSpecialtyView(RegisteredSpecialty, name='注册专业', category=reg,
                                             endpoint='registeredspecialty'))
    admin.add_view(r.CertificateView(Certificate, name='电子证书', category=reg, endpoint='certificate'))
    admin.add_view(PrintLogView(PrintLog, name='打印记录', category=reg, endpoint='printlog'))
    admin.add_view(r.MaterialView(Material, name='申报材料', category=reg, endpoint='material'))
    admin.add_view(r.PersonView(Person, name='人员', category=people, endpoint='person'))
    admin.add_view(r.QualificationView(Qualification, name='资格库', category=people, endpoint='qualification'))
    admin.add_view(r.EnterpriseView(Enterprise, name='企业', category=people, endpoint='enterprise'))
    admin.add_view(EnterpriseSignupView(EnterpriseSignup, name='企业注册审核', category=people,
                                        endpoint='enterprisesignup'))
    admin.add_view(r.ExternalRegistrationView(ExternalRegistration, name='外部注册信息', category=people,
                                              endpoint='externalregistration'))
    admin.add_view(r.ProvinceView(Province, name='省份', category=ref, endpoint='province'))
    admin.add_view(r.SpecialtyView(Specialty, name='注册专业类别', category=ref, endpoint='specialty'))
    admin.add_view(r.GroundView(RefusalGround, name='不予注册依据', category=ref, endpoint='refusalground'))
    admin.add_view(r.GroundView(CancellationReason, name='注销原因', category=ref, endpoint='cancellationreason'))
    admin.add_view(r.UserView(User, name='用户账号', category=system, endpoint='user'))
    admin.add_view(r.AuditEventView(AuditEvent, name='审计日志', category=system, endpoint='auditevent'))
    admin.add_view(LookupLogView(LookupLog, name='查询日志', category=system, endpoint='lookuplog'))
    admin.add_view(NotificationView(Notification, name='消息发送记录', category=system, endpoint='notification'))
    admin.add_view(NotificationTemplateView(NotificationTemplate, name='消息模板', category=system,
                                            endpoint='notificationtemplate'))
    from models import ApiClient, ApiReadLog
    admin.add_view(ApiClientView(ApiClient, name='API 客户端', category=system, endpoint='apiclient'))
    admin.add_view(ApiReadLogView(ApiReadLog, name='API 读取日志', category=system, endpoint='apireadlog'))
