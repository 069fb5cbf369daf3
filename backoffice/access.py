"""Who may read which document. Views ask here; they hold no rule of their own.

The helpdesk (客服) does lookups only: it reads a person's page only through a link of its own search
results (signed for the user and the person, below), and it gets no document at all: no material, no
refusal notice, no certificate."""
from itsdangerous import BadSignature, TimestampSigner

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


HELPDESK_LINK_TTL = 30 * 60          # a search result's link opens its person page for 30 minutes


def _helpdesk_signer():
    from flask import current_app
    return TimestampSigner(current_app.secret_key, salt='helpdesk-person')


def _helpdesk_grant(user, person_id):
    # the user's session version too: a password change or a forced sign-out ends their links
    return f'{user.id}.{user.session_version}.{person_id}'


def helpdesk_person_token(user, person_id):
    """The token a helpdesk search result's link carries: this user, this person, now. Nothing is kept
    on the server or in the session: /admin/helpdesk/person/1..N cannot be walked without one."""
    grant = _helpdesk_grant(user, person_id)
    return _helpdesk_signer().sign(grant).decode()[len(grant) + 1:]


def can_open_helpdesk_person(user, person_id, token):
    """The helpdesk person page: only through a link of the user's own search results, younger than
    HELPDESK_LINK_TTL (another user, another person, a forged or an old token: no)."""
    if not _is(user, HELPDESK, ADMIN, SUPERVISOR) or not token or len(token) > 100:
        return False
    try:
        _helpdesk_signer().unsign(f'{_helpdesk_grant(user, person_id)}.{token}', max_age=HELPDESK_LINK_TTL)
    except BadSignature:                 # SignatureExpired is one
        return False
    return True
