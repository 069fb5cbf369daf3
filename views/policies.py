"""Who may reach each endpoint: one declaration per endpoint, enforced before every request.

Blueprint endpoints are declared in POLICIES below (one central table, so a new route is one
line here). Flask-Admin endpoints are derived from their view class: `read_roles` for reading,
`write_roles` / `create_roles` for the create and edit endpoints, nobody for an endpoint whose
permission flag is off (delete, export, actions when there are none); ADMIN_OVERRIDES narrows
the custom pages whose view checks more than `read_roles`.

`install(app)` adds a before_request hook that refuses, fail closed, any endpoint without a
declared policy (403) and any role outside the policy (anonymous → the login page, others →
403). A view may still refuse more (another applicant's row, another province); `own` names the
roles for which the URL's row must be their own, so tests/test_route_matrix.py can check it.
"""
import dataclasses
import logging

from flask import abort, current_app, request
from flask_login import current_user

from backoffice.roles import (ACCEPTOR, ADMIN, APPLICANT, ENTERPRISE, PROVINCIAL, REVIEWER, ROLES,
                              SUPERVISOR)

log = logging.getLogger(__name__)
ALL_ROLES = frozenset(ROLES)


@dataclasses.dataclass(frozen=True)
class Policy:
    roles: frozenset = None          # None: anyone, signed in or not
    own: frozenset = frozenset()     # roles that may only reach their own row (person, enterprise, province, user)
    note: str = ''
    bearer: bool = False             # authenticated by a bearer token in the view, never by the session
    bearer: bool = False             # the open API: the session grants nothing, a bearer token is checked by the view

    @property
    def public(self):
        return self.roles is None

    def allows(self, role):
        return self.roles is None or role in self.roles


PUBLIC = Policy(None)
NOBODY = Policy(frozenset(), note='no screen may use this endpoint')


def Roles(*roles, own=(), note=''):
    """Signed-in users of these roles; `own` lists the roles limited to their own rows."""
    own = ALL_ROLES if own == 'all' else frozenset(own)
    return Policy(frozenset(roles), own & frozenset(roles), note)


SIGNED_IN = Roles(*ROLES)
API_TOKEN = Policy(None, bearer=True, note='open API: no session; bearer token and scopes checked by views/api (backoffice/api)')
DOCUMENT_READERS = (ADMIN, ACCEPTOR, REVIEWER, SUPERVISOR)      # backoffice.access.REGISTRY_READERS

# --- blueprint endpoints: every one declared here -------------------------------------------------
POLICIES = {
    # static files
    'static': PUBLIC,
    'admin.static': PUBLIC,
    # public site (views/public.py)
    'public.index': PUBLIC,
    'public.announcements': PUBLIC,
    'public.announcement': PUBLIC,
    'public.announcement_pdf': PUBLIC,
    'public.verify': PUBLIC,
    'public.search': PUBLIC,
    # sign-in (views/auth.py)
    'auth.login': PUBLIC,
    'auth.logout': SIGNED_IN,
    'auth.change_password': SIGNED_IN,
    # probes for the process manager (views/health.py): no personal data
    'health.healthz': PUBLIC,
    'health.readyz': PUBLIC,
    # Prometheus metrics: PUBLIC at the session layer; the view answers 404 to any client outside
    # METRICS_ALLOWED_IPS (backoffice.metrics.allowed). Counts and latencies only, no personal data.
    'health.metrics': PUBLIC,
    # the public keys of the certificates' signed QR payload (views/health.py): public by design
    'health.registry_keys': PUBLIC,
    # the specialties' {code: name} that names an RC2 QR payload's codes (views/health.py): public by design
    'health.registry_specialties': PUBLIC,
    # applicant portal (views/portal.py)
    'portal.signup': PUBLIC,
    'portal.photo_tool': PUBLIC,
    'portal.photo_tool_download': PUBLIC,
    'portal.sms_outbox': Roles(ADMIN, note='demo outbox: administrators only, and only when the demo setting is on'),
    'portal.home': Roles(APPLICANT),
    'portal.notice': Roles(APPLICANT),
    'portal.edit': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.upload': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.enterprises': Roles(APPLICANT),
    'portal.send_code': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.submitted': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.abandon': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.forced_cancel': Roles(APPLICANT, own=(APPLICANT,)),
    'portal.progress': Roles(APPLICANT),
    # enterprise portal (views/enterprise.py)
    'company.home': Roles(ENTERPRISE),
    'company.application': Roles(ENTERPRISE, own=(ENTERPRISE,)),
    'company.act': Roles(ENTERPRISE, own=(ENTERPRISE,)),
    'company.staff': Roles(ENTERPRISE),
    # message centre of the applicant and enterprise portals (views/messages.py): one's own messages only
    'messages.index': Roles(APPLICANT, ENTERPRISE),
    'messages.read': Roles(APPLICANT, ENTERPRISE),
    'messages.preferences': Roles(APPLICANT),
    # enterprise self-service (views/enterprise_account.py): sign-up is anonymous (RATELIMIT_ENTERPRISE_SIGNUP,
    # SMS limits per number and client); HR accounts and data changes only by the enterprise's administrator
    'enterprise_account.signup': PUBLIC,
    'enterprise_account.users': Roles(ENTERPRISE, note='list for every enterprise user; creating only for the admin'),
    'enterprise_account.change': Roles(ENTERPRISE, note='page for every enterprise user; requesting only for the admin'),
    'company.report_batch': Roles(ENTERPRISE, note='each row through perform: another enterprise\'s row is refused'),
    # downloads (views/files.py; backoffice.access decides row by row). Helpdesk gets no documents.
    'files.material': Roles(*DOCUMENT_READERS, APPLICANT, ENTERPRISE, own=(APPLICANT, ENTERPRISE)),
    'files.refusal_notice': Roles(*DOCUMENT_READERS, APPLICANT, ENTERPRISE, own=(APPLICANT, ENTERPRISE)),
    'files.certificate': Roles(*DOCUMENT_READERS, APPLICANT, PROVINCIAL, own=(APPLICANT, PROVINCIAL)),
    # 加注 (a new e-certificate version): the holder or the enterprise of the registration (backoffice.access)
    'files.annotate': Roles(APPLICANT, ENTERPRISE, own=(APPLICANT, ENTERPRISE)),
    # open API (views/api): no session. PUBLIC at this layer because every call authenticates with its
    # own bearer token, checked with its scopes and province / enterprise scope in views/api/resources.py
    # (`authorized`) and backoffice/api; a session cookie grants nothing there.
    **{f'api.{name}': API_TOKEN for name in ('token', 'person', 'registrations', 'changes', 'enterprises',
                                               'enterprise', 'announcements', 'announcement_items',
                                               'application', 'verify_certificate', 'stats')},
    'api-docs.openapi_json': PUBLIC,            # the OpenAPI document: no data
    'api_docs.index': PUBLIC,                   # its documentation page
    'api_docs.asset': PUBLIC,                   # Swagger UI's files
    'api_docs.unknown': PUBLIC,                 # JSON 404 / 405 for any other address under /api/v1
    'api_docs.root': PUBLIC,
}

# --- Flask-Admin endpoints narrower than their view's read_roles ----------------------------------
ADMIN_OVERRIDES = {
    # only roles that some transition names (workflow.transitions.TRANSITIONS) may post a decision
    'application.transition_view': lambda view: _roles(view.read_roles, (ACCEPTOR, REVIEWER, ADMIN)),
    # building and publishing 公告 (AnnouncementView.publish_roles)
    'notice.build_view': lambda view: _roles(view.read_roles, view.publish_roles),
    'notice.publish_view': lambda view: _roles(view.read_roles, view.publish_roles),
    'notice.remove_item_view': lambda view: _roles(view.read_roles, view.publish_roles),
    # 依法注销 by the registry (RegistrationView.cancel_roles)
    'registration.cancel_view': lambda view: _roles(view.read_roles, view.cancel_roles),
    # 企业合并 (变更注册) by the registry (EnterpriseView.merge_roles)
    'enterprise.merge_view': lambda view: _roles(view.read_roles, view.merge_roles),
    # one's own background jobs only, whatever the role
    'job.job_view': lambda view: _roles(view.read_roles, own='all'),
    'job.status': lambda view: _roles(view.read_roles, own='all'),
    'job.download': lambda view: _roles(view.read_roles, own='all'),
    'job.retry': lambda view: _roles(view.read_roles, own='all'),     # POST, the owner of a failed job
    # a person page only after a search that found that person
    'helpdesk.person': lambda view: _roles(view.read_roles, own='all'),
}

# Flask-Admin ModelView endpoints and the permission they need.
_READ = {'index_view', 'details_view', 'ajax_lookup'}
_ROW = {'details_view', 'edit_view'}            # ?id= names a row (province scope applies)


def _roles(*groups, own=()):
    roles = set(groups[0])
    for g in groups[1:]:
        roles &= set(g)
    return Roles(*sorted(roles), own=own)


def _admin_policy(view, method):
    """The policy of a Flask-Admin endpoint, read from its view class."""
    from flask_admin.model import BaseModelView
    read = tuple(getattr(view, 'read_roles', ()) or ())
    if not isinstance(view, BaseModelView):
        return Roles(*read)
    cls = type(view)
    write = tuple(getattr(cls, 'write_roles', ()) or ())
    create = getattr(cls, 'create_roles', None)
    create = write if create is None else tuple(create)
    scoped = (PROVINCIAL,) if getattr(view, 'province_field', None) is not None else ()
    flags = {name: getattr(cls, name, False) for name in ('can_delete', 'can_export', 'can_view_details')}
    if method == 'create_view':
        return _roles(read, create) if not isinstance(getattr(cls, 'can_create', None), bool) \
            or cls.can_create else NOBODY
    if method in ('edit_view', 'ajax_update'):
        if isinstance(getattr(cls, 'can_edit', None), bool) and not cls.can_edit:
            return NOBODY
        return _roles(read, write, own=scoped if method in _ROW else ())
    if method == 'delete_view':
        return Roles(*read) if flags['can_delete'] is True else NOBODY
    if method == 'export':
        return Roles(*read) if flags['can_export'] is True else NOBODY
    if method == 'details_view' and flags['can_view_details'] is not True:
        return NOBODY
    if method == 'action_view':
        allowed = [name for name, _ in getattr(view, '_actions', ()) if view.is_action_allowed(name)]
        return Roles(*read) if allowed and 'action_view' not in getattr(view, 'WRITE_ENDPOINTS', ()) else NOBODY
    return Roles(*read, own=scoped if method in _ROW else ())


def _admin_views(app):
    admin = app.extensions.get('registry_admin')
    return {v.endpoint: v for v in getattr(admin, '_views', ())}


def policy_for(endpoint, app=None):
    """The declared policy of an endpoint, or None when it has none (the request is refused)."""
    app = app or current_app
    cache = app.extensions.setdefault('route_policies', {})
    if endpoint in cache:
        return cache[endpoint]
    policy = POLICIES.get(endpoint)
    if policy is None and endpoint and '.' in endpoint:
        prefix, method = endpoint.split('.', 1)
        view = _admin_views(app).get(prefix)
        if view is not None:
            override = ADMIN_OVERRIDES.get(endpoint)
            policy = override(view) if override else _admin_policy(view, method)
    cache[endpoint] = policy
    return policy


def undeclared(app):
    """Endpoints of app.url_map with no policy (the route-matrix test fails on any)."""
    return sorted({r.endpoint for r in app.url_map.iter_rules() if policy_for(r.endpoint, app) is None})


def install(app):
    """Refuse every request whose endpoint has no policy or whose user the policy leaves out."""

    @app.before_request
    def _enforce_route_policy():
        endpoint = request.endpoint
        if endpoint is None:                  # no such route: the 404 / 405 follows
            return None
        policy = policy_for(endpoint)
        if policy is None:
            log.error('route without a declared access policy refused: %s (declare it in views/policies.py)',
                      endpoint)
            abort(403)
        if policy.public:
            return None
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not policy.allows(current_user.role):
            abort(403)
        return None
