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
}

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

    def __init__(self, messages, kind='rule'):
        if isinstance(messages, str):
            messages = [messages]
        super().__init__('；'.join(messages))
        self.messages = list(messages)
        self.kind = kind          # 'permission', 'state', 'rule', 'conflict', 'unknown'
