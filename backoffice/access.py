"""Who may read which document. Views ask here; they hold no rule of their own."""
from models import Registration

from backoffice.roles import ACCEPTOR, ADMIN, APPLICANT, ENTERPRISE, HELPDESK, PROVINCIAL, REVIEWER, SUPERVISOR

REGISTRY_READERS = (ADMIN, ACCEPTOR, REVIEWER, SUPERVISOR)


def _is(user, *roles):
    return user is not None and getattr(user, 'is_authenticated', False) and user.role in roles


def can_read_application(user, app):
    if _is(user, *REGISTRY_READERS, HELPDESK):
        return True
    if _is(user, APPLICANT):
        return user.person_id == app.person_id
    if _is(user, ENTERPRISE):
        # 增项 and 信息修改 never reach the enterprise (FAQ 13)
        return (app.enterprise_id is not None and user.enterprise_id == app.enterprise_id
                and app.business_type not in ('addition', 'info_change'))
    return False


def owns_application(user, app):
    """The applicant's own application (the portal edits only these)."""
    return _is(user, APPLICANT) and user.person_id == app.person_id


def can_download_refusal(user, app):
    return app.state == 'refused' and can_read_application(user, app)


def can_view_material(user, material):
    app = material.application
    if _is(user, HELPDESK):
        return False                     # lookups only: no documents
    return can_read_application(user, app)


def can_download_certificate(user, cert):
    if _is(user, *REGISTRY_READERS):
        return True
    if _is(user, APPLICANT):
        return user.person_id == cert.person_id
    if _is(user, PROVINCIAL):
        return Registration.get_by_id(cert.registration_id).province_id == user.province_id
    return False
