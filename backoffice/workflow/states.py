"""The workflow's vocabulary: business types, states, who holds an application, WorkflowError.

Rules, effects and the transition table all import from here; this module imports nothing of theirs.
"""

BUSINESS_TYPES = {
    'initial': '初始注册',
    'addition': '增项注册',
    'renewal': '延续注册',
    'cancellation': '注销注册',
    'reregister': '重新注册',
    'info_change': '信息修改',
    'change': '变更注册',
}
# What an applicant may file (变更注册 is started by the registry when an enterprise's name changes)
APPLICANT_TYPES = ('initial', 'addition', 'renewal', 'cancellation', 'reregister', 'info_change')

STATES = {
    'draft': '草稿',
    'submitted': '待企业上报',
    'returned': '企业退回',
    'withdrawn': '已撤回',
    'reported': '待受理',
    'correction': '待补正',
    'accepted': '审查中',
    'approved': '准予注册（待公告）',
    'refused': '不予注册',
    'announced': '已公告生效',
    'completed': '已办结',
}
FINAL_STATES = ('withdrawn', 'refused', 'announced', 'completed')

# Who holds an application in each state (for progress pages and the helpdesk).
HOLDER = {
    'draft': '本人', 'returned': '本人', 'correction': '本人',
    'submitted': '企业',
    'reported': '注册机构', 'accepted': '注册机构', 'approved': '注册机构',
}

WITH_ENTERPRISE = ('initial', 'renewal', 'reregister')      # enterprise confirms and reports
ALL = tuple(BUSINESS_TYPES)
REVIEWED = ('initial', 'addition', 'renewal', 'reregister', 'info_change')


class WorkflowError(Exception):
    """A refused transition. `messages` are Chinese sentences for the user."""

    def __init__(self, messages, kind='rule', fields=None):
        if isinstance(messages, str):
            messages = [messages]
        super().__init__('；'.join(messages))
        self.messages = list(messages)
        self.kind = kind          # 'permission', 'state', 'rule', 'override', 'conflict', 'unknown'
        self.fields = dict(fields or {})     # form field name → its messages (shown at the field)

    def general(self):
        """The messages that belong to no form field."""
        at_fields = {m for ms in self.fields.values() for m in ms}
        return [m for m in self.messages if m not in at_fields]

# --- the registration's own life cycle (domain §12) -------------------------------------

REGISTRATION_STATES = {
    'active': '有效',
    'lapsed': '已失效',
    'cancelled': '已注销',
}
SPECIALTY_STATES = {
    'active': '有效',
    'expired': '已过有效期',
    'lapsed': '已失效',
    'cancelled': '已注销',
}
# Why a registration lapsed (Art. 16)
LAPSE_REASONS = {
    'expired': '注册有效期满且未延续注册',
    'age': '年龄超过65周岁',
    'enterprise': '聘用企业破产、营业执照被吊销或资质被撤回、撤销',
}
# An enterprise's standing; any status but 'normal' ends its staff's registrations (Art. 16)
ENTERPRISE_STATUSES = {
    'normal': '正常',
    'bankrupt': '破产',
    'licence_revoked': '营业执照被吊销',
    'qualification_revoked': '资质被撤回或撤销',
}
SYSTEM_ROLE = 'system'          # the actor of scheduled work (lapse); no user account

# Bans on new applications (Art. 33, 34): kind → (years, label)
SANCTIONS = {
    'concealment': (1, '隐瞒有关情况或者提供虚假材料申请注册（第三十三条）'),
    'deception': (3, '以欺骗、贿赂等不正当手段取得注册被撤销（第三十四条）'),
}
# The refusal ground (RefusalGround.text) that starts the 1-year ban
CONCEALMENT_GROUND = '隐瞒有关情况或者提供虚假材料申请注册'


# Chinese names of the kinds of record the audit log refers to (AuditEvent.object_type = table name).
OBJECT_TYPES = {
    'application': '注册申请', 'person': '人员', 'qualification': '资格库', 'enterprise': '企业',
    'enterprise_signup': '企业注册审核', 'registration': '注册记录', 'registered_specialty': '注册专业',
    'certificate': '电子证书', 'notice': '公告', 'notice_item': '公告明细', 'material': '申报材料',
    'user': '用户账号', 'joint_opinion': '会审意见', 'joint_reviewer_specialty': '会审专业',
    'external_registration': '外部注册信息', 'province': '省份', 'specialty': '注册专业类别',
    'refusal_ground': '不予注册依据', 'cancellation_reason': '注销原因', 'api_client': 'API 客户端',
    'notification_template': '消息模板', 'notification': '消息', 'sanction': '不良行为记录',
    'print_log': '打印记录', 'job': '后台任务', 'signing_key': '签名密钥',
}
