"""schemathesis against the generated OpenAPI document (issue 14): every operation of /api/v1 is called
in-process with generated valid and invalid input, authenticated with a real token of a client that
holds every scope. No answer is a 5xx, and every answer matches the schema the document declares
(status code, content type, body). Bounded: a few examples per operation, no deadline."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backoffice.api import clients
from backoffice.api.scopes import SCOPES
from tests.conftest import registered_with_certificate

MAX_EXAMPLES = 20
# Operations whose input rules OpenAPI 3.0 cannot state, so a schema-valid request may rightly be refused.
# Their 400 / 422 answers are declared in the document and still checked against it (and never a 5xx).
BEYOND_THE_SCHEMA = {
    '/api/v1/persons': 'exactly one of id_number and reg_number (spans two parameters); an ID number check digit',
    '/api/v1/certificates/verify/{token}': 'the token is signed: a string with a wrong signature is refused (422)',
}


@pytest.fixture
def bearer(app, client, users):
    registered_with_certificate(users)                   # something to find: a person, an enterprise, a certificate
    # every scope except enterprise:self, which needs an enterprise and narrows registry:read to it
    row, secret = clients.create('schemathesis', 'national', [n for n in dict(SCOPES) if n != 'enterprise:self'])
    r = client.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                           'client_secret': secret})
    assert r.status_code == 200, r.get_json()
    return {'Authorization': f"Bearer {r.get_json()['access_token']}"}


def _operations(schema):
    out = []
    for result in schema.get_all_operations():
        out.append(result.ok())
    return out


def test_every_operation_conforms_to_the_openapi_document(app, bearer):
    app.config['RATELIMIT_ENABLED'] = False               # hundreds of calls from one client in a few seconds
    try:
        schema = schemathesis.openapi.from_wsgi('/api/v1/openapi.json', app)
        operations = _operations(schema)
        assert len(operations) >= 10                      # the document lists the API, not an empty shell
        seen = {}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                statuses = set()

                @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case):
                    headers = dict(case.headers or {})
                    headers.update(bearer)                # a real token, not a generated one
                    if operation.path == '/api/v1/token':
                        headers.pop('Authorization', None)
                    excluded = []
                    if operation.path in BEYOND_THE_SCHEMA:
                        excluded = [positive_data_acceptance]
                    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
                    assert response.status_code < 500, (operation.label, case.as_curl_command(), response.text)
                    statuses.add(response.status_code)

                run()
                seen[(operation.label, mode.value)] = statuses
        # the token worked: no valid request was refused for want of a token or scope, and the lists answered
        for (label, mode), statuses in seen.items():
            if mode == 'positive' and 'token' not in label:
                assert not statuses & {401, 403}, (label, statuses)
        for label in ('GET /api/v1/registrations', 'GET /api/v1/registrations/changes', 'GET /api/v1/enterprises',
                      'GET /api/v1/announcements', 'GET /api/v1/stats'):
            assert 200 in seen[(label, 'positive')], (label, seen[(label, 'positive')])
    finally:
        app.config['RATELIMIT_ENABLED'] = True


# --- what the run found, pinned ----------------------------------------------------------------------

def test_an_id_beyond_the_database_range_answers_the_api_json_404(client, bearer):
    r = client.get('/api/v1/announcements/99999999999999999999/items', headers=bearer)
    assert r.status_code == 404 and r.content_type == 'application/json'
    assert r.get_json()['message'] == '请求的资源不存在'


def test_times_carry_their_offset(client, bearer):
    import re
    r = client.get('/api/v1/registrations/changes', headers=bearer)
    stamp = r.get_json()['items'][0]['changed_at']
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$', stamp), stamp


def test_stats_province_is_one_of_the_documented_codes(client, bearer):
    spec = client.get('/api/v1/openapi.json').get_json()
    param = next(p for p in spec['paths']['/api/v1/stats']['get']['parameters'] if p['name'] == 'province')
    assert '11' in param['schema']['enum'] and '03' not in param['schema']['enum']
    r = client.get('/api/v1/stats?province=03', headers=bearer)
    assert r.status_code == 422 and r.get_json()['errors']['province'] == '省份代码无效'
