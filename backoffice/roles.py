"""Roles and what each may see. The single source for role names and labels."""

ADMIN = 'admin'
ACCEPTOR = 'acceptor'
REVIEWER = 'reviewer'
PROVINCIAL = 'provincial'
SUPERVISOR = 'supervisor'
HELPDESK = 'helpdesk'
JOINT_REVIEWER = 'joint_reviewer'     # another ministry's 会审人员, limited to their specialties
ENTERPRISE = 'enterprise'
APPLICANT = 'applicant'

ROLES = {
    ADMIN: '系统管理员',
    ACCEPTOR: '受理人员',
    REVIEWER: '审查人员',
    PROVINCIAL: '省级主管部门',
    SUPERVISOR: '监督人员',
    HELPDESK: '客服人员',
    JOINT_REVIEWER: '会审人员',
    ENTERPRISE: '企业用户',
    APPLICANT: '申请人',
}

# Roles that work in the staff back office (/admin).
STAFF_ROLES = (ADMIN, ACCEPTOR, REVIEWER, PROVINCIAL, SUPERVISOR, HELPDESK, JOINT_REVIEWER)
# Registry staff who handle applications.
REGISTRY_ROLES = (ACCEPTOR, REVIEWER)
