"""Who may read which document. Views ask here; they hold no rule of their own.

The helpdesk (客服) does lookups only: it reads a person's page only when the person came out of
its own search (backoffice.desks.helpdesk keeps that list in the session), and it gets no document
at all: no material, no refusal notice, no certificate."""
from models import Registration

from backoffice.roles import ACCEPTOR, ADMIN, APPLICANT, ENTERPRISE, HELPDESK, PROVINCIAL, REVIEWER, SUPERVISOR

REGISTRY_READERS = (ADMIN, ACCEPTOR, REVIEWER, SUPERVISOR)
# Staff exports mask ID numbers; these roles may ask for an export with whole ID numbers (each one
# is written to the lookup log that supervisors read).
FULL_ID_EXPORT_ROLES = (ADMIN, SUPERVISOR)


def _is(user, *roles):
    return user is not None and getattr(user, 'is_authenticated', False) and user.role in roles


def can_read_application(user, app):
    if _is(user, *REGISTRY_READERS):
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
    if _is(user, HELPDESK):
        return False                     # lookups only: no documents
    return app.state == 'refused' and can_read_application(user, app)


def can_view_material(user, material):
    app = material.application
    if _is(user, HELPDESK):
        return False                     # lookups only: no documents
    return can_read_application(user, app)


def can_download_certificate(user, cert):
    if _is(user, HELPDESK):
        return False                     # lookups only: no documents
    if _is(user, *REGISTRY_READERS):
        return True
    if _is(user, APPLICANT):
        return user.person_id == cert.person_id
    if _is(user, PROVINCIAL):
        return Registration.get_by_id(cert.registration_id).province_id == user.province_id
    return False


def can_annotate_certificate(user, registration):
    """加注 (a new version of the e-certificate): the holder, or the enterprise for a registration at
    that enterprise. Staff download the versions already issued; the helpdesk gets nothing."""
    if _is(user, APPLICANT):
        return user.person_id == registration.person_id
    if _is(user, ENTERPRISE):
        return user.enterprise_id is not None and user.enterprise_id == registration.enterprise_id
    return False


def can_export_full_id(user):
    """May this user export whole (unmasked) ID numbers?"""
    return _is(user, *FULL_ID_EXPORT_ROLES)


def can_open_helpdesk_person(user, person_id, found_ids):
    """The helpdesk person page: only for a person the user's own recent searches returned (found_ids:
    the ids their search result link grants, views/admin/helpdesk.py)."""
    return _is(user, HELPDESK, ADMIN, SUPERVISOR) and person_id in found_ids
