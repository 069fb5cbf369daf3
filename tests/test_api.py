"""The open API (issue 14): token flow, scopes and province, read log, masking, the change feed,
the error format and the OpenAPI document."""
import base64
import datetime
import json

import pytest

from backoffice.api import readlog, clients, tokens
from backoffice.workflow import changes, lifecycle
from models import ApiClient, ApiReadLog, Registration, RegistrationChange
from tests.conftest import (build_application, login, make_enterprise, make_person, make_registration, province,
                            registered_with_certificate)


def _client(scopes, kind='national', code=None, enterprise=None, name='测试系统'):
    return clients.create(name, kind, scopes, province=province(code) if code else None, enterprise=enterprise)


def _token(http, client_row, secret):
    r = http.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': client_row.client_id,
                                         'client_secret': secret})
    assert r.status_code == 200, r.get_json()
    return r.get_json()['access_token']


def _auth(token):
    return {'Authorization': f'Bearer {token}'}


@pytest.fixture
def api(client):
    """(http client, headers for a client with `scopes`)."""
    def make(scopes, **kw):
        row, secret = _client(scopes, **kw)
        return _auth(_token(client, row, secret)), row
    return make


# --- token flow -----------------------------------------------------------------------------------

def test_token_with_form_and_basic_auth(client):
    row, secret = _client('registry:read')
    r = client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                           'client_secret': secret})
    body = r.get_json()
    assert r.status_code == 200 and body['token_type'] == 'Bearer' and body['scope'] == 'registry:read'
    assert 0 < body['expires_in'] <= 900
    basic = base64.b64encode(f'{row.client_id}:{secret}'.encode()).decode()
    r = client.post('/api/v1/token', data={'grant_type': 'client_credentials'},
                    headers={'Authorization': f'Basic {basic}'})
    assert r.status_code == 200
    assert client.get('/api/v1/enterprises', headers=_auth(r.get_json()['access_token'])).status_code == 200


def test_wrong_secret_unknown_client_and_inactive_client_get_no_token(client):
    row, secret = _client('registry:read')
    for cid, sec in ((row.client_id, secret + 'x'), ('cl_nobody', secret), (row.client_id, '')):
        r = client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': cid,
                                               'client_secret': sec})
        assert r.status_code == 401 and r.get_json()['error'] == 'invalid_client'
        assert '不正确' in r.get_json()['message'] or '请提供' in r.get_json()['message']
    clients.deactivate(row)
    r = client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                           'client_secret': secret})
    assert r.status_code == 401


def test_secret_is_stored_hashed(client):
    row, secret = _client('registry:read')
    stored = ApiClient.get_by_id(row.id)
    assert secret not in stored.secret_hash and stored.secret_hash == clients.hash_secret(secret)


def test_expired_token_is_refused(client, monkeypatch):
    row, secret = _client('registry:read')
    token = _token(client, row, secret)
    assert client.get('/api/v1/enterprises', headers=_auth(token)).status_code == 200
    start = tokens._now()
    monkeypatch.setattr(tokens, '_now', lambda: start + 901)
    r = client.get('/api/v1/enterprises', headers=_auth(token))
    assert r.status_code == 401 and '过期' in r.get_json()['message']
    assert r.get_json()['error'] == 'invalid_token'


def test_rotation_invalidates_old_secret_and_old_tokens(client):
    row, secret = _client('registry:read')
    old_token = _token(client, row, secret)
    new_secret = clients.rotate(row)
    r = client.get('/api/v1/enterprises', headers=_auth(old_token))
    assert r.status_code == 401 and '密钥已更换' in r.get_json()['message']
    r = client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                           'client_secret': secret})
    assert r.status_code == 401
    assert client.get('/api/v1/enterprises', headers=_auth(_token(client, row, new_secret))).status_code == 200


def test_deactivation_ends_live_tokens(client):
    row, secret = _client('registry:read')
    token = _token(client, row, secret)
    clients.deactivate(row)
    assert client.get('/api/v1/enterprises', headers=_auth(token)).status_code == 401


def test_forged_or_missing_token(client):
    row, secret = _client('registry:read')
    token = _token(client, row, secret)
    for headers in ({}, {'Authorization': 'Bearer '}, _auth(token[:-2] + 'xx'), {'Authorization': 'Basic abc'}):
        r = client.get('/api/v1/enterprises', headers=headers)
        assert r.status_code == 401 and r.get_json()['code'] == 401 and r.get_json()['message']


def test_session_cookie_grants_nothing(client, users):
    login(client, 'admin')
    r = client.get('/api/v1/enterprises')
    assert r.status_code == 401


def test_bearer_calls_need_no_csrf_token(client):
    row, secret = _client('registry:read')
    # the token endpoint is a POST without a CSRF token: it must work (CSRF does not apply to bearer auth)
    assert client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                              'client_secret': secret}).status_code == 200


def test_client_settings_are_checked():
    with pytest.raises(clients.ClientError) as exc:
        clients.create('某省', 'province', 'applications:read')
    assert 'province' in exc.value.errors
    with pytest.raises(clients.ClientError) as exc:
        clients.create('某企业', 'enterprise', 'enterprise:self')
    assert 'enterprise' in exc.value.errors
    with pytest.raises(ValueError):
        clients.create('x', 'national', 'registry:write')


# --- scopes for every endpoint ----------------------------------------------------------------

ENDPOINTS = [  # (url, scopes that open it)
    ('/api/v1/persons?reg_number=京111050700001', {'registry:read', 'enterprise:self'}),
    ('/api/v1/registrations', {'registry:read', 'enterprise:self'}),
    ('/api/v1/registrations/changes', {'registry:read'}),
    ('/api/v1/enterprises', {'registry:read', 'enterprise:self'}),
    ('/api/v1/enterprises/911101000000000000', {'registry:read', 'enterprise:self'}),
    ('/api/v1/applications/SQ2025010100001', {'applications:read'}),
    ('/api/v1/certificates/verify/abc', {'certificates:verify'}),
    ('/api/v1/stats', {'stats:read'}),
    ('/api/v1/announcements', None),
]
ALL_SCOPES = ('registry:read', 'applications:read', 'certificates:verify', 'enterprise:self', 'stats:read')


@pytest.mark.parametrize('url,allowed', ENDPOINTS)
def test_every_endpoint_needs_a_token_and_its_scope(client, api, url, allowed):
    assert client.get(url).status_code == 401
    ent = make_enterprise()
    for scope in ALL_SCOPES:
        headers, _row = api(scope, kind='enterprise' if scope == 'enterprise:self' else 'national',
                            enterprise=ent if scope == 'enterprise:self' else None)
        r = client.get(url, headers=headers)
        if allowed is None or scope in allowed:
            assert r.status_code in (200, 404, 422), (scope, url, r.status_code)
        else:
            assert r.status_code == 403, (scope, url, r.status_code)
            assert r.get_json()['error'] == 'insufficient_scope' and '权限' in r.get_json()['message']


# --- persons: masking, province, enterprise, read log -------------------------------------------

def test_person_lookup_masks_unless_idnumber_full_and_is_logged(client, api):
    person = make_person()
    reg = make_registration(person, make_enterprise())
    headers, row = api('registry:read')
    r = client.get(f'/api/v1/persons?id_number={person.id_number}', headers=headers)
    body = r.get_json()
    assert r.status_code == 200 and body['name'] == person.name
    assert body['id_number'] != person.id_number and '*' in body['id_number']
    assert body['registrations'][0]['registration_number'] == reg.number
    assert body['registrations'][0]['person']['id_number'] == body['id_number']
    assert body['registrations'][0]['specialties'][0]['specialty'] == '建筑工程'
    logs = list(ApiReadLog.select().where(ApiReadLog.client == row.id))
    assert [(x.person_id, x.resource) for x in logs] == [(person.id, 'person')]
    assert person.id_number not in logs[0].query

    full, _ = api('registry:read idnumber:full')
    r = client.get(f'/api/v1/persons?reg_number={reg.number}', headers=full)
    assert r.get_json()['id_number'] == person.id_number


def test_person_outside_the_province_is_not_found(client, api):
    person = make_person()
    make_registration(person, make_enterprise(code='31'))
    bj, _ = api('registry:read', kind='province', code='11')
    sh, _ = api('registry:read', kind='province', code='31')
    assert client.get(f'/api/v1/persons?id_number={person.id_number}', headers=bj).status_code == 404
    assert client.get(f'/api/v1/persons?id_number={person.id_number}', headers=sh).status_code == 200
    listed = client.get('/api/v1/registrations', headers=bj).get_json()['items']
    assert listed == []
    assert len(client.get('/api/v1/registrations', headers=sh).get_json()['items']) == 1
    assert client.get('/api/v1/enterprises', headers=bj).get_json()['items'] == []


def test_enterprise_client_sees_only_its_own_staff(client, api):
    mine, other = make_enterprise(), make_enterprise()
    p1, p2 = make_person(), make_person(name='李娜')
    make_registration(p1, mine)
    make_registration(p2, other)
    headers, _ = api('enterprise:self', kind='enterprise', enterprise=mine)
    items = client.get('/api/v1/registrations', headers=headers).get_json()['items']
    assert [i['person']['name'] for i in items] == ['张伟']
    assert client.get(f'/api/v1/persons?id_number={p2.id_number}', headers=headers).status_code == 404
    assert client.get(f'/api/v1/enterprises/{other.uscc}', headers=headers).status_code == 404
    r = client.get(f'/api/v1/enterprises/{mine.uscc}', headers=headers)
    assert r.status_code == 200 and r.get_json()['registered_staff'] == 1


def test_registration_list_is_keyset_paginated(client, api):
    ent = make_enterprise()
    for k in range(5):
        make_registration(make_person(name=f'人员{k}'), ent)
    headers, row = api('registry:read')
    seen, after = [], 0
    while after is not None:
        body = client.get(f'/api/v1/registrations?limit=2&after={after}', headers=headers).get_json()
        seen += [i['id'] for i in body['items']]
        after = body['next_after']
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5
    assert ApiReadLog.select().where(ApiReadLog.client == row.id).count() == 5


# --- applications, certificates, stats ------------------------------------------------------------

def test_application_status_is_province_scoped_and_logged(client, api):
    app_row = build_application('initial', 'accepted', enterprise=make_enterprise(code='11'))
    bj, bj_row = api('applications:read', kind='province', code='11')
    sh, _ = api('applications:read', kind='province', code='31')
    r = client.get(f'/api/v1/applications/{app_row.number}', headers=bj)
    body = r.get_json()
    assert r.status_code == 200 and body['state'] == 'accepted' and body['province']['code'] == '11'
    assert '*' in body['applicant']['id_number']
    assert client.get(f'/api/v1/applications/{app_row.number}', headers=sh).status_code == 404
    assert ApiReadLog.get(ApiReadLog.client == bj_row.id).person_id == app_row.person_id


def test_certificate_verification_shows_live_status(client, api, users):
    from backoffice.issuing import certificates
    cert, _row = registered_with_certificate(users, with_images=False)
    headers, _ = api('certificates:verify')
    token = certificates.token_for(cert)
    r = client.get(f'/api/v1/certificates/verify/{token}', headers=headers)
    body = r.get_json()
    assert r.status_code == 200 and body['status'] == 'valid' and body['serial'] == cert.serial
    assert '*' in body['holder']['id_number']
    reg = Registration.get_by_id(cert.registration_id)
    lifecycle.cancel_by_registry(reg, users['admin'], [lifecycle.registry_reasons()[0].id], '依法注销')
    assert client.get(f'/api/v1/certificates/verify/{token}', headers=headers).get_json()['status'] == 'cancelled'
    r = client.get(f'/api/v1/certificates/verify/{token}x', headers=headers)
    assert r.status_code == 422 and r.get_json()['errors']['token']


def test_stats_province_scope(client, api):
    make_registration(make_person(), make_enterprise(code='11'))
    make_registration(make_person(), make_enterprise(code='31'))
    national, _ = api('stats:read')
    body = client.get('/api/v1/stats', headers=national).get_json()
    assert sum(x['count'] for x in body['registered_by_province']) == 2
    bj, _ = api('stats:read', kind='province', code='11')
    body = client.get('/api/v1/stats', headers=bj).get_json()
    assert body['province'] == '11' and sum(x['count'] for x in body['registered_by_province']) == 1
    assert client.get('/api/v1/stats?province=31', headers=bj).status_code == 403
    r = client.get('/api/v1/stats?province=99', headers=national)
    assert r.status_code == 422 and r.get_json()['message']


def test_announcements_and_items(client, api, users):
    _cert, app_row = registered_with_certificate(users, with_images=False)
    headers, _ = api('certificates:verify')
    notices = client.get('/api/v1/announcements', headers=headers).get_json()['items']
    assert len(notices) == 1 and notices[0]['item_count'] == 1
    body = client.get(f"/api/v1/announcements/{notices[0]['id']}/items", headers=headers).get_json()
    assert body['items'][0]['name'] == app_row.person.name and '*' in body['items'][0]['id_number']
    assert client.get('/api/v1/announcements/999999/items', headers=headers).status_code == 404


# --- the change feed ----------------------------------------------------------------------------

def _read_feed(client, headers, cursor=0, limit=2, between=None):
    seqs, pages = [], 0
    while True:
        body = client.get(f'/api/v1/registrations/changes?cursor={cursor}&limit={limit}', headers=headers).get_json()
        seqs += [(i['seq'], i['kind'], i['registration']['id']) for i in body['items']]
        cursor = body['next_cursor']
        pages += 1
        if between:
            between(pages)
        if not body['has_more'] and not (between and pages < 6):
            return seqs, cursor


def test_every_registration_change_is_in_the_feed(client, api, users):
    cert, app_row = registered_with_certificate(users, with_images=False)     # announcement: registered
    reg = Registration.get_by_id(cert.registration_id)
    lifecycle.cancel_by_registry(reg, users['admin'], [lifecycle.registry_reasons()[0].id], '依法注销')
    old = make_person(name='王老', birth=datetime.date(1950, 1, 1))
    old_reg = make_registration(old, make_enterprise())
    lifecycle.run_lapse(datetime.date.today())
    kinds = [(c.registration_id, c.kind) for c in RegistrationChange.select().order_by(RegistrationChange.seq)]
    assert kinds == [(reg.id, 'registered'), (reg.id, 'cancelled'), (old_reg.id, 'lapsed')]
    headers, _ = api('registry:read')
    seqs, cursor = _read_feed(client, headers)
    assert [s[1] for s in seqs] == ['registered', 'cancelled', 'lapsed']
    assert cursor == seqs[-1][0]
    # resumable: nothing new after the cursor
    body = client.get(f'/api/v1/registrations/changes?cursor={cursor}', headers=headers).get_json()
    assert body['items'] == [] and body['next_cursor'] == cursor and body['has_more'] is False


def test_feed_pages_while_changes_are_written_deliver_each_change_once(client, api):
    ent = make_enterprise()
    regs = [make_registration(make_person(name=f'人员{k}'), ent) for k in range(12)]
    changes.backfill()
    headers, _ = api('registry:read')
    pending = list(regs)

    def write_between_pages(page):
        # after each page another writer appends changes (two at once, in one transaction)
        if len(pending) >= 2:
            from models import database
            with database.atomic():
                changes.record([pending.pop().id], 'renewed')
                changes.record([pending.pop().id], 'holder_changed')

    seqs, _cursor = _read_feed(client, headers, limit=3, between=write_between_pages)
    # drain whatever is left
    rest, _ = _read_feed(client, headers, cursor=_cursor, limit=3)
    delivered = [s[0] for s in seqs + rest]
    written = [c.seq for c in RegistrationChange.select().order_by(RegistrationChange.seq)]
    assert len(delivered) == len(set(delivered)), 'a change was delivered twice'
    assert sorted(delivered) == written, 'a change was missed'
    assert len(written) == 12 + 12


def test_feed_is_province_scoped(client, api):
    make_registration(make_person(), make_enterprise(code='11'))
    make_registration(make_person(), make_enterprise(code='31'))
    changes.backfill()
    bj, _ = api('registry:read', kind='province', code='11')
    items = client.get('/api/v1/registrations/changes', headers=bj).get_json()['items']
    assert [i['registration']['province']['code'] for i in items] == ['11']


def test_a_feed_page_is_one_read_log_row_and_still_names_who_was_read(client, api, users):
    ent_bj, ent_sh = make_enterprise(code='11'), make_enterprise(code='31')
    people = [make_person(name=f'人员{k}') for k in range(5)]
    for k, person in enumerate(people):
        make_registration(person, ent_bj if k < 4 else ent_sh)
    changes.backfill()
    stranger = make_person(name='未读者')
    make_registration(stranger, ent_bj)             # changed after the client's last page: never delivered
    national, n_row = api('registry:read')
    _read_feed(client, national, limit=2)            # pages of 2: (0,2], (2,4], (4,5]
    rows = list(ApiReadLog.select().where(ApiReadLog.client == n_row.id).order_by(ApiReadLog.id))
    assert [(r.resource, r.seq_from, r.seq_to, r.person_id) for r in rows] == [
        ('registration_feed', 0, 2, None), ('registration_feed', 2, 4, None), ('registration_feed', 4, 5, None)]
    changes.backfill()                               # the stranger's registration enters the feed as change 6

    def readers(person):
        return sorted((r.client_id, r.seq_from) for r in ApiReadLog.select().where(readlog.read_person(person.id)))
    assert readers(people[0]) == [(n_row.id, 0)] and readers(people[3]) == [(n_row.id, 2)]
    assert readers(stranger) == []
    # a province client's page covers the whole range but delivered only its own province
    bj, bj_row = api('registry:read', kind='province', code='11')
    body = client.get('/api/v1/registrations/changes?limit=10', headers=bj).get_json()
    assert len(body['items']) == 5
    assert (bj_row.id, 0) in readers(people[0]) and (bj_row.id, 0) in readers(stranger)
    assert readers(people[4]) == [(n_row.id, 4)]     # Shanghai: the Beijing client never got it
    # the supervisor's read-log filter by person answers the same
    login(client, 'supervisor')
    from flask import current_app
    view = [v for v in current_app.extensions['admin'][0]._views if getattr(v, 'endpoint', '') == 'apireadlog'][0]
    flt = [k for k, f in enumerate(view._filters) if f.name.startswith('人员编号')][0]
    html = client.get(f'/admin/apireadlog/?flt0_{flt}={people[4].id}').get_data(as_text=True)
    assert '变更 5–5（1 条）' in html and '变更 1–2（2 条）' not in html


def test_rolled_back_change_gives_its_number_back():
    from models import database
    reg = make_registration(make_person(), make_enterprise())
    with pytest.raises(RuntimeError):
        with database.atomic():
            changes.record([reg.id], 'renewed')
            raise RuntimeError('rollback')
    changes.record([reg.id], 'renewed')
    assert [c.seq for c in RegistrationChange.select()] == [1]


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('url,field', [
    ('/api/v1/registrations?limit=abc', 'limit'),
    ('/api/v1/registrations?limit=0', 'limit'),
    ('/api/v1/registrations?after=-1', 'after'),
    ('/api/v1/registrations?state=gone', 'state'),
    ('/api/v1/registrations/changes?cursor=x', 'cursor'),
    ('/api/v1/persons?id_number=110105198513450011', 'id_number'),
    ('/api/v1/registrations?after=99999999999999999999999', 'after'),
])
def test_bad_input_gets_one_json_error_format(client, api, url, field):
    headers, _ = api('registry:read')
    r = client.get(url, headers=headers)
    body = r.get_json()
    assert r.status_code in (400, 422), (url, r.status_code)
    assert set(body) >= {'code', 'status', 'message'} and body['code'] == r.status_code
    assert field in body['errors'] and any('\u4e00' <= ch <= '\u9fff' for ch in body['errors'][field])


def test_person_lookup_needs_exactly_one_key(client, api):
    headers, _ = api('registry:read')
    for url in ('/api/v1/persons', '/api/v1/persons?id_number=1&reg_number=2'):
        r = client.get(url, headers=headers)
        assert r.status_code == 400 and '一项' in r.get_json()['message']


def test_unknown_address_and_method_answer_json(client):
    r = client.get('/api/v1/nothing-here')
    assert r.status_code == 404 and r.get_json()['message'] == '请求的资源不存在'
    r = client.get('/api/v1/token')
    assert r.status_code == 405 and r.get_json()['code'] == 405
    r = client.post('/api/v1/token', data='{"grant_type": 1', content_type='application/json')
    assert r.status_code in (400, 422) and r.get_json()['message']


def test_rate_limit_per_client(client, api, app):
    headers, _ = api('registry:read')
    other, _ = api('registry:read')
    app.config['RATELIMIT_API'] = '3 per minute'
    try:
        codes = [client.get('/api/v1/enterprises', headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get('/api/v1/enterprises', headers=headers)
        assert r.get_json()['code'] == 429 and r.headers['Retry-After']
        assert client.get('/api/v1/enterprises', headers=other).status_code == 200
    finally:
        app.config['RATELIMIT_API'] = type(app.config).__name__ and '600 per minute;20000 per hour'


# --- the OpenAPI document and the documentation page ----------------------------------------------

def test_openapi_document_describes_every_route(client, app):
    r = client.get('/api/v1/openapi.json')
    assert r.status_code == 200
    spec = json.loads(r.get_data(as_text=True))
    assert spec['openapi'].startswith('3.')
    schemes = spec['components']['securitySchemes']
    assert schemes['oauth2']['flows']['clientCredentials']['tokenUrl'] == '/api/v1/token'
    methods = {'get', 'post', 'put', 'patch', 'delete'}
    documented = {(path, m.upper()) for path, ops in spec['paths'].items() for m in ops if m in methods}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith('/api/v1') or rule.endpoint.startswith(('api_docs.', 'api-docs.')):
            continue
        path = rule.rule.replace('<string:', '{').replace('<int:', '{').replace('>', '}')
        for method in rule.methods - {'HEAD', 'OPTIONS'}:
            assert (path, method) in documented, (path, method)
    for path, ops in spec['paths'].items():
        for method, op in ops.items():
            if method not in methods:
                continue
            ok = op['responses']['200']
            assert 'schema' in ok['content']['application/json'], (path, method)
            if path != '/api/v1/token':
                assert op['security'] and '401' in op['responses'] and '403' in op['responses']


def test_documentation_page_loads_nothing_from_elsewhere(client):
    r = client.get('/api/v1/docs')
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'swagger-ui' in html
    assert 'http://' not in html and 'https://' not in html and '<script>' not in html
    assert client.get('/api/v1/docs/static/swagger-ui-bundle.js').status_code == 200
    assert client.get('/api/v1/docs/static/../__init__.py').status_code == 404


# --- back office --------------------------------------------------------------------------------

def test_admin_creates_client_and_sees_the_secret_once(client, users):
    from tests.conftest import post_form
    login(client, 'admin')
    r = post_form(client, '/admin/apiclient/new/', {'name': '北京市政务服务大厅', 'kind': 'province',
                                                     'scope_list': ['applications:read'],
                                                     'province': str(province('11').id), 'active': 'y'})
    html = r.get_data(as_text=True)
    row = ApiClient.get(ApiClient.name == '北京市政务服务大厅')
    assert r.status_code == 200 and row.client_id in html and '只显示这一次' in html
    secret = html.split('client_secret）</th><td><code>')[1].split('</code>')[0]
    assert clients.authenticate(row.client_id, secret) is not None
    assert row.scopes == 'applications:read' and row.province_id == province('11').id
    # a second look shows no secret
    assert secret not in client.get(f'/admin/apiclient/details/?id={row.id}').get_data(as_text=True)


def test_supervisor_reads_the_api_read_log_others_do_not(client, users, api):
    person = make_person()
    make_registration(person, make_enterprise())
    headers, _ = api('registry:read')
    client.get(f'/api/v1/persons?id_number={person.id_number}', headers=headers)
    login(client, 'supervisor')
    assert client.get('/admin/apireadlog/').status_code == 200
    assert client.get('/admin/apiclient/').status_code == 403


def test_admin_rotates_a_secret_and_the_old_one_stops_working(client, users):
    from models import AuditEvent
    from tests.conftest import post_form
    row, secret = _client('registry:read')
    login(client, 'admin')
    r = post_form(client, '/admin/apiclient/action/', {'action': 'rotate', 'rowid': str(row.id)},
                  page='/admin/apiclient/')
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '已更换密钥' in html
    new_secret = html.split('client_secret）</th><td><code>')[1].split('</code>')[0]
    assert clients.authenticate(row.client_id, secret) is None
    assert clients.authenticate(row.client_id, new_secret) is not None
    assert AuditEvent.select().where((AuditEvent.object_type == 'api_client') & (AuditEvent.action == 'rotate_secret')).count() == 1
    assert new_secret not in ''.join(e.comment + e.changes for e in AuditEvent.select())


def test_feed_under_concurrent_writers_delivers_every_change_exactly_once(app):
    """Writers commit out of step while a reader pages: a change numbered n is never skipped because
    a lower number committed later (the counter row stays locked until each writer commits)."""
    import random
    import threading
    import time

    from backoffice import db as dbmod
    from backoffice.api import feed
    from models import database
    if not dbmod.is_postgres():
        pytest.skip('concurrent writers need PostgreSQL (SQLite runs one writer at a time; the sequential '
                    'interleaving test covers it)')
    ent = make_enterprise()
    regs = [make_registration(make_person(name=f'并发{k}'), ent).id for k in range(8)]
    reader_client, _secret = _client('registry:read')
    writers_done = threading.Event()
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                for _ in range(15):
                    with database.atomic():
                        changes.record([rng.choice(regs)], 'renewed')
                        time.sleep(rng.random() / 100)        # hold the transaction open a little
            except Exception as exc:                        # pragma: no cover - reported below
                errors.append(exc)
            finally:
                database.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    delivered, cursor = [], 0
    with app.app_context():
        database.connect(reuse_if_open=True)
        for th in threads:
            th.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done_before_read = writers_done.is_set()
            body = feed.page(reader_client, cursor=cursor, limit=4)
            delivered += [i['seq'] for i in body['items']]
            cursor = body['next_cursor']
            if not any(th.is_alive() for th in threads):
                writers_done.set()
            if done_before_read and not body['has_more']:
                break
        for th in threads:
            th.join()
    assert not errors, errors
    written = [c.seq for c in RegistrationChange.select().order_by(RegistrationChange.seq)]
    assert len(written) == 45
    assert len(delivered) == len(set(delivered)), 'a change was delivered twice'
    assert delivered == written, 'a change was missed or came out of order'
