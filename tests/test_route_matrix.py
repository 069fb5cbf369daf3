"""The role × endpoint matrix, generated from app.url_map (nothing hand-listed).

Every rule is requested by anonymous and by one signed-in user of every role in
backoffice.roles.ROLES, with ids of rows that belong to ANOTHER applicant, enterprise,
province or user than the one asking:

- a rule whose endpoint has no declared policy (views/policies.py) fails the first test, so
  a future route is covered the moment it is added;
- anonymous on a non-public rule → the login page (or 401/403);
- a role outside the policy → 403 (or the login page);
- a role the policy limits to its own rows, given someone else's row → 403 or 404;
- a role the policy allows is not refused by the page itself (the declaration is exact);
- an API endpoint that needs a bearer token answers 401 to every session, signed in or not;
- nothing ever answers 500.

GET rules are fetched; POST-only rules get a POST with a valid CSRF token, but only where a
refusal is expected (nothing is performed for an allowed role). One dataset for the module.
"""
import hashlib
import os

import pytest
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from backoffice import limits
from backoffice.roles import APPLICANT, ENTERPRISE, PROVINCIAL, ROLES
from models import ALL_MODELS, Job, Material, Notice, PrintLog, database
from seed.reference import load_reference
from views.policies import policy_for, undeclared

from .conftest import (PASSWORD, build_application, login, make_enterprise, make_person, make_user,
                       registered_with_certificate)

# The account that plays each role (the enterprise and applicant ones own rows of their own).
ACCOUNTS = {'admin': 'admin', 'acceptor': 'acceptor', 'reviewer': 'reviewer', 'provincial': 'provincial',
            'supervisor': 'supervisor', 'helpdesk': 'helpdesk', 'joint_reviewer': 'joint_reviewer',
            'enterprise': 'ent_mine',
            'applicant': 'app_mine'}
IDENTITIES = [None] + list(ROLES)          # None = anonymous
OK_FOR_ANONYMOUS_REFUSAL = (401, 403)


@pytest.fixture(scope='module')
def world(app):
    """One dataset: the askers' own rows, and rows of another applicant / enterprise / province / user."""
    ctx = app.app_context()
    ctx.push()
    database.connect(reuse_if_open=True)
    with database.atomic():
        for model in reversed(ALL_MODELS):
            model.delete().execute()
    load_reference()
    limits.reset()
    ph = generate_password_hash(PASSWORD, method='pbkdf2:sha256:1000')   # cheap: nine sign-ins
    users = {name: make_user(name, ph) for name in ('admin', 'acceptor', 'acceptor2', 'reviewer', 'reviewer2',
                                                     'provincial', 'supervisor', 'helpdesk', 'joint_reviewer')}
    ent_mine, ent_other = make_enterprise(code='11'), make_enterprise(code='31')
    person_mine, person_other = make_person(name='甲某'), make_person(name='乙某')
    users['ent_mine'] = make_user('ent_mine', ph, role=ENTERPRISE, enterprise=ent_mine)
    users['app_mine'] = make_user('app_mine', ph, role=APPLICANT, person=person_mine)
    make_user('ent_other', ph, role=ENTERPRISE, enterprise=ent_other)
    make_user('app_other', ph, role=APPLICANT, person=person_other)
    build_application('initial', 'submitted', person=person_mine, enterprise=ent_mine)
    other_app = build_application('initial', 'refused', person=person_other, enterprise=ent_other)
    cert_other, _ = registered_with_certificate(users, enterprise=ent_other, with_images=False)  # province 31
    other_job = Job.create(kind='export', title='他人的导出', state='done', created_by=users['acceptor2'])
    PrintLog.create(certificate=cert_other, printed_by=users['admin'])
    published = Notice.select().where(Notice.state == 'published').first()
    values = {
        'app_id': other_app.id,
        'material_id': Material.get(Material.application == other_app).id,
        'notice_id': published.id,
        'person_id': person_other.id,
        'job_id': other_job.id,
        'serial': cert_other.serial,
        'token': 'not-a-valid-token',
        'business_type': 'initial',
        'export_name': 'applications',
        'export_type': 'csv',
    }
    clients = {}
    for role in IDENTITIES:
        client = app.test_client()
        if role is not None:
            r = login(client, ACCOUNTS[role])
            assert r.status_code == 302, f'cannot sign in as {role}'
        clients[role] = (client, _csrf_token(app, client))
    data = {'values': values, 'clients': clients, 'users': users}
    yield data
    database.close()
    ctx.pop()


@pytest.fixture(autouse=True)
def clean_db(world):
    """Overrides conftest's per-test reset: the whole module shares one dataset."""
    limits.reset()
    yield


def _csrf_token(app, client):
    """A valid CSRF token for this client's session (what a form on any page would carry)."""
    with client.session_transaction() as session:
        raw = session.get('csrf_token')
        if not raw:
            raw = session['csrf_token'] = hashlib.sha1(os.urandom(64)).hexdigest()
    return URLSafeTimedSerializer(app.secret_key, salt='wtf-csrf-token').dumps(raw)


def _admin_view(app, endpoint):
    admin = app.extensions['registry_admin']
    prefix = endpoint.split('.', 1)[0]
    return next((v for v in admin._views if v.endpoint == prefix), None)


def _row_id(app, endpoint, role, world):
    """The ?id= of a Flask-Admin details/edit page: a row outside the officer's province when the
    view is province-scoped and the asker is a provincial officer, else any row."""
    view = _admin_view(app, endpoint)
    model = getattr(view, 'model', None)
    if model is None:
        return None
    query = model.select(model.id)
    if role == PROVINCIAL and getattr(view, 'province_field', None) is not None:
        from flask_login import login_user
        with app.test_request_context():
            login_user(world['users']['provincial'])
            inside = [r.id for r in view.scope(model.select(model.id))]      # the view's own scope rule
        row = query.where(model.id.not_in(inside)).first() if inside else query.first()
        assert row is not None, f'the dataset has no {model.__name__} outside the home province'
        return row.id
    row = query.first()
    return row.id if row is not None else 1


def _url(app, rule, role, world):
    values = {}
    for arg in rule.arguments:
        if arg in world['values']:
            values[arg] = world['values'][arg]
        elif arg == 'filename':
            values[arg] = 'admin/js/form.js' if rule.endpoint == 'admin.static' else 'no-such-file.css'
        else:
            converter = type(rule._converters[arg]).__name__
            values[arg] = world['values']['app_id'] if 'Int' in converter else 'x'
    with app.test_request_context():
        from flask import url_for
        url = url_for(rule.endpoint, **values)
    method = rule.endpoint.rsplit('.', 1)[-1]
    if method in ('details_view', 'edit_view') and _admin_view(app, rule.endpoint) is not None:
        url += ('&' if '?' in url else '?') + f'id={_row_id(app, rule.endpoint, role, world)}'
    return url


def _is_login_redirect(response):
    return response.status_code in (302, 303) and '/login' in response.headers.get('Location', '')


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules()), key=lambda r: (r.rule, r.endpoint))


def test_every_route_has_a_declared_policy(app, world):
    missing = undeclared(app)
    assert not missing, ('routes without an access policy (declare them in views/policies.py): '
                         + ', '.join(missing))


def test_every_role_has_an_account():
    assert set(ROLES) == set(ACCOUNTS), 'a role without an account in the matrix'


@pytest.mark.parametrize('role', IDENTITIES, ids=lambda r: r or 'anonymous')
def test_route_matrix(app, world, role):
    client, token = world['clients'][role]
    failures, cells = [], 0
    for rule in _rules(app):
        policy = policy_for(rule.endpoint, app)
        if policy is None:
            continue                        # reported by test_every_route_has_a_declared_policy
        methods = rule.methods - {'HEAD', 'OPTIONS'}
        url = _url(app, rule, role, world)
        allowed = policy.public or (role is not None and role in policy.roles)
        own_scoped = role is not None and role in policy.own and (
            rule.arguments or rule.endpoint.endswith(('.details_view', '.edit_view')))
        tries = []
        if not allowed:
            tries = [m for m in ('GET', 'POST') if m in methods]       # every method must be refused
        elif own_scoped:
            tries = ['GET'] if 'GET' in methods else ['POST']
        elif 'GET' in methods:
            tries = ['GET']
        for method in tries:
            cells += 1
            limits.reset()
            try:
                if method == 'GET':
                    response = client.get(url)
                else:
                    response = client.post(url, data={'csrf_token': token})
            except Exception as exc:        # TESTING propagates what would be a 500
                failures.append(f'{method} {url} [{rule.endpoint}] as {role or "anonymous"}: raised {exc!r}')
                continue
            code = response.status_code
            where = f'{method} {url} [{rule.endpoint}] as {role or "anonymous"}: {code}'
            if code >= 500:
                failures.append(where + ' (server error)')
            elif policy.bearer:
                if code != 401:             # a session (or none) never stands in for the bearer token
                    failures.append(where + ' (answered without a bearer token)')
            elif not allowed and role is None:
                if not (_is_login_redirect(response) or code in OK_FOR_ANONYMOUS_REFUSAL):
                    failures.append(where + ' (anonymous let in)')
            elif not allowed:
                if not (code == 403 or _is_login_redirect(response)):
                    failures.append(where + ' (role outside the policy let in)')
            elif own_scoped:
                if code not in (403, 404):
                    failures.append(where + " (someone else's row not refused)")
            elif policy.bearer:
                # the open API: no session opens it; without a bearer token every caller gets the JSON 401
                if code not in (401, 404, 405) or _is_login_redirect(response):
                    failures.append(where + ' (API answered a session without a bearer token)')
            elif role is not None and (code in (401, 403) or _is_login_redirect(response)):
                # the declaration is exact: a role it lets in is not refused by the page itself
                failures.append(where + ' (refused although the policy allows this role: narrow the policy)')
    assert cells > 50
    assert not failures, f'{len(failures)} of {cells} cells fail:\n' + '\n'.join(failures)


def test_the_hook_refuses_an_undeclared_route(app, world):
    """Fail closed: a route added without a policy is refused for everyone, admin included."""
    from views import policies
    client, _ = world['clients']['admin']
    rule_endpoint = 'public.index'
    saved = policies.POLICIES.pop(rule_endpoint)
    app.extensions['route_policies'].pop(rule_endpoint, None)
    try:
        assert client.get('/').status_code == 403
        assert world['clients'][None][0].get('/').status_code == 403
    finally:
        policies.POLICIES[rule_endpoint] = saved
        app.extensions['route_policies'].pop(rule_endpoint, None)
    assert client.get('/').status_code == 200
