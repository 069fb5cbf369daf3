"""Data leaving the system and files served (issue 9 §4 and §5): formula injection in exports, the
full-ID export and its log, the helpdesk's access path, uploaded files served inertly, generated
kinds refused at upload, oversized or malformed ids, the secret key's mode, retention."""
import csv
import datetime
import io
import json
import os
import re
import stat

import openpyxl
import pytest
from werkzeug.datastructures import MultiDict

from backoffice.validators import mask_id_number
from backoffice.workflow import transitions
from models import Application, Job, LookupLog, Material, RefusalGround, User
from reports import exports, filters

from . import images
from .test_storage import moto_endpoint  # noqa: F401  (fixture)
from .conftest import (build_application, csrf_from, login, make_enterprise, make_person, make_registration,
                       make_user, registered_with_certificate)

FORMULA = "=cmd|' /C calc'!A0"
NASTY = [FORMULA, '+SUM(1,2)', '-2+3', '@SUM(A1)', '\tTAB', '\rCR']


def _expected(text):
    """The quoted text (a carriage return inside text is written as a line feed)."""
    return ("'" + text).replace('\r', '\n')


def _csv(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    return list(csv.reader(io.StringIO(r.get_data().decode('utf-8-sig'))))


def _post(client, url, data, files=None, page=None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    payload = MultiDict(data)
    payload['csrf_token'] = token
    for key, value in (files or {}).items():
        payload[key] = value
    return client.post(url, data=payload, content_type='multipart/form-data' if files else None)


# --- formula injection ------------------------------------------------------------

@pytest.fixture
def nasty(users):
    """Applications whose enterprise and person names a spreadsheet would run as formulas."""
    rows = []
    for i, text in enumerate(NASTY):
        ent = make_enterprise(name=text if i % 2 == 0 else f'正常企业{i}')
        person = make_person(name=text if i % 2 else '张伟')
        rows.append(build_application('initial', 'submitted', person=person, enterprise=ent))
    return rows


def test_csv_cells_that_start_a_formula_are_neutralised(client, nasty):
    login(client, 'supervisor')
    rows = _csv(client, '/admin/exports/applications.csv')
    cells = [c for r in rows[1:] for c in r]
    for text in NASTY:
        assert _expected(text) in cells, text                  # quoted, the text itself kept
        assert text not in cells, text
    assert not [c for c in cells if c[:1] in ('=', '+', '-', '@', '\t', '\r')]
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number[nasty[0].number][5] == "'" + FORMULA     # 聘用企业
    assert by_number[nasty[0].number][6].startswith('20')      # dates untouched


def test_xlsx_cells_are_strings_never_formulas(app, nasty, tmp_path):
    path = tmp_path / 'apps.xlsx'
    exports.write_xlsx(exports.EXPORTS['applications'], filters.Filters(), str(path))
    sheet = openpyxl.load_workbook(path).active                 # not data_only: a formula would show as one
    values = []
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != 'f', cell.value
            if cell.value is not None:
                values.append(cell.value)
    assert "'" + FORMULA in values
    for text in NASTY:
        assert _expected(text) in values, text
    assert not [v for v in values if isinstance(v, str) and v[:1] in ('=', '+', '-', '@', '\t', '\r')]


def test_negative_numbers_stay_numbers(users, tmp_path):
    """The rule is for text: a computed number such as the days left of an expired specialty (-5)
    stays a number in both formats; text from user data starting with '-' is quoted."""
    today = datetime.date.today()
    make_registration(make_person(name='-李四'), make_enterprise(), valid_until=today - datetime.timedelta(days=5))
    f = filters.Filters(date_from=today - datetime.timedelta(days=30), date_to=today)
    export = exports.EXPORTS['expiry']
    rows = list(exports.rows(export, f))
    assert rows[0][-1] == -5 and rows[0][2] == "'-李四"
    csv_path, xlsx_path = tmp_path / 'e.csv', tmp_path / 'e.xlsx'
    exports.write_csv(export, f, str(csv_path))
    line = list(csv.reader(io.StringIO(csv_path.read_text(encoding='utf-8-sig'))))[1]
    assert line[-1] == '-5' and line[2] == "'-李四"
    exports.write_xlsx(export, f, str(xlsx_path))
    cells = list(openpyxl.load_workbook(xlsx_path).active.iter_rows(min_row=2, values_only=True))[0]
    assert cells[-1] == -5 and cells[2] == "'-李四"


def test_neutralise_rule():
    for text in NASTY:
        assert exports.neutralise(text) == _expected(text)
    assert exports.neutralise('甲\r\n乙\r丙') == '甲\n乙\n丙'
    for value in ('张伟', '', None, -5, 3.5, '110105********31', "'already"):
        assert exports.neutralise(value) == value


# --- full-ID export -----------------------------------------------------------------

def test_exports_mask_ids_unless_a_full_id_export_is_asked_by_an_allowed_role(client, users):
    rows = [build_application('initial', 'submitted') for _ in range(3)]
    numbers = [Application.get_by_id(r.id).person.id_number for r in rows]
    login(client, 'supervisor')
    masked = client.get('/admin/exports/applications.csv').get_data().decode('utf-8-sig')
    assert not any(n in masked for n in numbers) and mask_id_number(numbers[0]) in masked
    assert LookupLog.select().count() == 0

    page = client.get('/admin/exports/').get_data(as_text=True)
    assert 'id="csv-full-applications"' in page and '记入查询日志' in page
    full = client.get('/admin/exports/applications.csv?full_id=1').get_data().decode('utf-8-sig')
    assert all(n in full for n in numbers)
    log = LookupLog.get(LookupLog.kind == exports.FULL_ID_EXPORT_KIND)
    assert log.user_id == users['supervisor'].id and log.results == 3 and '注册申请及办理环节' in log.query
    assert log.created_at is not None

    # XLSX through a background job: logged too, and whole numbers in the file
    r = client.post('/admin/exports/applications.xlsx', data={'csrf_token': csrf_from(page), 'full_id': '1'})
    assert r.status_code == 302
    job = Job.get(Job.kind == 'export')
    assert json.loads(job.params).get('full_id') is True
    data = client.get(f'/admin/job/{job.id}/download').data
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row]
    assert all(n in cells for n in numbers)
    assert LookupLog.select().where(LookupLog.kind == exports.FULL_ID_EXPORT_KIND).count() == 2

    # supervisors read the log
    listing = client.get('/admin/lookuplog/').get_data(as_text=True)
    assert '完整身份证号导出' in listing


def test_full_id_export_refused_to_other_roles(client, users):
    build_application('initial', 'submitted')
    login(client, 'provincial')
    page = client.get('/admin/exports/').get_data(as_text=True)
    assert 'csv-full-' not in page
    assert client.get('/admin/exports/applications.csv?full_id=1').status_code == 403
    r = client.post('/admin/exports/applications.xlsx',
                    data={'csrf_token': csrf_from(page), 'full_id': '1'})
    assert r.status_code == 403
    assert LookupLog.select().count() == 0 and Job.select().count() == 0


# --- helpdesk: lookups only --------------------------------------------------------------

def _person_link(page, person_id):
    import html
    found = re.search(rf'href="(/admin/helpdesk/person/{person_id}\?[^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def test_helpdesk_cannot_walk_person_pages(client, users):
    wanted, other = make_person(name='赵敏'), make_person(name='周芷若')
    login(client, 'helpdesk')
    for pid in (wanted.id, other.id, other.id + 1000):
        assert client.get(f'/admin/helpdesk/person/{pid}').status_code == 404        # no search yet
    page = client.get('/admin/helpdesk/', query_string={'q': '赵敏'}).get_data(as_text=True)
    link = _person_link(page, wanted.id)
    assert link and _person_link(page, other.id) is None
    assert client.get(f'/admin/helpdesk/person/{wanted.id}').status_code == 404    # the bare address
    r = client.get(link)
    assert r.status_code == 200 and 'id="person-summary"' in r.get_data(as_text=True)
    token = re.search(r'[?&]t=([^&]+)', link).group(1)
    # the token opens its person only, and only as it was signed
    assert client.get(f'/admin/helpdesk/person/{other.id}?t={token}').status_code == 404
    # (a middle character of the signature: the last one of base64 may carry only padding bits)
    forged = token[:-5] + ('A' if token[-5] != 'A' else 'B') + token[-4:]
    assert client.get(f'/admin/helpdesk/person/{wanted.id}?t={forged}').status_code == 404
    assert client.get(f'/admin/helpdesk/person/{wanted.id}?t={"A" * 500}').status_code == 404
    assert LookupLog.select().where((LookupLog.kind == 'person') & (LookupLog.person_id == other.id)).count() == 0
    # another user does not inherit the results, even with the link
    admin = client.application.test_client()
    login(admin, 'admin')
    assert admin.get(f'/admin/helpdesk/person/{wanted.id}').status_code == 404
    assert admin.get(link).status_code == 404
    # and the user's own links end with their sessions (a password change, a forced sign-out)
    User.update(session_version=User.session_version + 1).where(User.id == users['helpdesk'].id).execute()
    login(client, 'helpdesk')
    assert client.get(link).status_code == 404


def test_a_helpdesk_lookup_writes_nothing_to_the_session(client, users):
    make_person(name='赵敏')
    person = make_person(name='张无忌')
    login(client, 'helpdesk')
    client.get('/admin/helpdesk/')
    for q in ('赵敏', person.id_number):
        r = client.get('/admin/helpdesk/', query_string={'q': q})
        assert r.status_code == 200 and 'Set-Cookie' not in r.headers, q


def test_helpdesk_search_results_expire(client, users, monkeypatch):
    import time
    person = make_person(name='赵敏')
    login(client, 'helpdesk')
    link = _person_link(client.get('/admin/helpdesk/', query_string={'q': '赵敏'}).get_data(as_text=True), person.id)
    assert client.get(link).status_code == 200
    later = time.time() + 30 * 60 + 1
    monkeypatch.setattr(time, 'time', lambda: later)
    assert client.get(link).status_code == 404


def test_helpdesk_gets_no_documents(client, users):
    refused = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    ground = RefusalGround.get(RefusalGround.code == '2').id
    transitions.perform(refused, 'refuse', users['reviewer'], grounds=[ground], text='经核查在外省另有注册')
    cert, registered = registered_with_certificate(users)
    material = Material.get((Material.application == registered) & (Material.kind == 'photo'))
    urls = [f'/files/refusal/{refused.id}.pdf', f'/files/certificate/{cert.serial}.pdf',
            f'/files/material/{material.id}']
    reviewer = client.application.test_client()
    login(reviewer, 'reviewer')
    assert [reviewer.get(u).status_code for u in urls] == [200, 200, 200]      # the documents exist
    login(client, 'helpdesk')
    assert [client.get(u).status_code for u in urls] == [403, 403, 403]


# --- uploaded files served inertly; generated kinds refused -----------------------------------

def _applicant_draft(client, password_hash):
    person = make_person()
    user = make_user(f'u{person.id}', password_hash, role='applicant', person=person, mobile='13822223333')
    login(client, user.username)
    r = _post(client, '/portal/apply/initial', {'agree': 'y'})
    assert r.status_code == 302
    return int(r.headers['Location'].rstrip('/').split('/')[-1])




def _polyglot_jpeg():
    return images.signature_jpeg() + b'<html><body><script>alert(document.cookie)</script></body></html>'


PDF_OPENACTION = (b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n'
                  b'2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n'
                  b'3 0 obj<</S/JavaScript/JS(app.alert\\(1\\))>>endobj\n'
                  b'trailer<</Root 1 0 R>>\n%%EOF\n')


def test_uploaded_files_are_served_so_no_browser_runs_them(client, password_hash):
    app_id = _applicant_draft(client, password_hash)
    url = f'/portal/application/{app_id}'
    for kind, data, name in (('other', _polyglot_jpeg(), 'x.html.jpg'), ('contract', PDF_OPENACTION, 'c.pdf')):
        r = _post(client, url, {'action': 'upload', 'kind': kind}, files={'file': (io.BytesIO(data), name)})
        assert r.status_code == 302, r.get_data(as_text=True)
    jpeg = Material.get(Material.kind == 'other')
    pdf = Material.get(Material.kind == 'contract')

    r = client.get(f'/files/material/{jpeg.id}')
    assert r.status_code == 200 and r.data.endswith(b'</html>')
    assert r.headers['Content-Type'] == 'image/jpeg'
    assert r.headers['X-Content-Type-Options'] == 'nosniff'
    csp = r.headers['Content-Security-Policy']
    assert csp.startswith('sandbox') and "default-src 'none'" in csp and 'script-src' not in csp
    assert r.headers['Cache-Control'] == 'no-store'

    r = client.get(f'/files/material/{pdf.id}')
    assert r.status_code == 200 and b'/OpenAction' in r.data
    assert r.headers['Content-Disposition'].startswith('attachment')
    assert r.headers['Content-Type'] == 'application/pdf'
    assert r.headers['X-Content-Type-Options'] == 'nosniff'
    assert r.headers['Content-Security-Policy'].startswith('sandbox')


def test_applicant_cannot_upload_a_generated_document(client, password_hash):
    app_id = _applicant_draft(client, password_hash)
    url = f'/portal/application/{app_id}'
    pdf = b'%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'
    r = _post(client, url, {'action': 'upload', 'kind': 'commitment'}, files={'file': (io.BytesIO(pdf), 'c.pdf')})
    assert r.status_code == 400
    assert '该材料由系统生成，不能自行上传' in r.get_data(as_text=True)
    assert Material.select().where(Material.kind == 'commitment').count() == 0
    r = _post(client, url, {'action': 'upload', 'kind': 'contract'}, files={'file': (io.BytesIO(pdf), 'c.pdf')})
    assert r.status_code == 302                                     # an applicant's kind still goes in


def test_photo_uploads_are_rate_limited_per_client(app, client, password_hash):
    app_id = _applicant_draft(client, password_hash)
    url = f'/portal/application/{app_id}'
    app.config['RATELIMIT_PHOTO'] = '2 per minute'
    try:
        codes = [_post(client, url, {'action': 'upload', 'kind': 'photo'},
                       files={'file': (io.BytesIO(images.tiny_jpeg()), 'p.jpg')}).status_code for _ in range(3)]
        assert codes == [400, 400, 429]                 # checked (and refused: too small), then limited
        r = _post(client, url, {'action': 'upload', 'kind': 'contract'},
                  files={'file': (io.BytesIO(PDF_OPENACTION), 'c.pdf')})
        assert r.status_code == 302                      # other materials are not held up
    finally:
        app.config['RATELIMIT_PHOTO'] = '10 per minute;100 per hour'


# --- oversized and malformed ids ------------------------------------------------------------

BIG = '99999999999999999999999'


def _urls_with_int_parts(app):
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if conv.__class__.__name__.endswith('IntConverter')
                or conv.__class__.__name__ == 'IntegerConverter']
        if not ints:
            continue
        for bad in (BIG, 'abc', '-1'):
            path = rule.rule
            for name, conv in rule._converters.items():
                value = bad if name in ints else 'x'
                path = re.sub(r'<(?:[^:<>]+:)?' + re.escape(name) + r'>', value, path)
            yield rule, path


def test_every_int_url_part_answers_404_for_oversized_or_malformed_ids(app, client, users):
    login(client, 'admin')
    token = csrf_from(client.get('/admin/').get_data(as_text=True))
    checked = 0
    for rule, path in _urls_with_int_parts(app):
        for method in sorted(rule.methods - {'HEAD', 'OPTIONS'}):
            if method == 'GET':
                r = client.get(path)
            else:
                r = client.open(path, method=method, data={'csrf_token': token})
            assert r.status_code == 404, (rule.rule, path, method, r.status_code)
            checked += 1
    assert checked >= 20          # the public announcement, files, portal, company and admin routes


def test_admin_id_arguments_never_give_500(app, client, users):
    login(client, 'admin')
    endpoints = sorted({r.endpoint for r in app.url_map.iter_rules()
                        if r.endpoint.endswith(('.details_view', '.edit_view'))})
    assert len(endpoints) >= 5
    from flask import url_for
    for endpoint in endpoints:
        with app.test_request_context():
            base = url_for(endpoint)
        for bad in (BIG, 'abc', '-5', ''):
            r = client.get(base, query_string={'id': bad})
            assert r.status_code in (302, 403, 404), (endpoint, bad, r.status_code)
    assert client.get('/admin/application/details/', query_string={'id': BIG}).status_code == 404
    r = client.get('/admin/application/details/', query_string={'id': 'abc'}, follow_redirects=True)
    assert r.status_code == 200 and '申请不存在' in r.get_data(as_text=True)
    r = client.get('/admin/person/details/', query_string={'id': 'abc'}, follow_redirects=True)
    assert r.status_code == 200 and '记录不存在' in r.get_data(as_text=True)


def test_id_and_page_arguments_never_give_500(client, users):
    """Query and form arguments that carry ids or page numbers: 404 for a number beyond any key."""
    login(client, 'admin')
    for url in ('/admin/application/', '/admin/registration/', '/admin/auditevent/', '/admin/lookuplog/',
                '/admin/printlog/'):
        assert client.get(url, query_string={'page': BIG}).status_code == 404, url
    for url, arg in (('/admin/dashboard/', 'province_id'), ('/admin/exports/applications.csv', 'province_id'),
                     ('/admin/exports/applications.csv', 'specialty_id'), ('/admin/review_queue/batch-refuse/', 'ids'),
                     ('/admin/application/cancel/', 'id'), ('/admin/notice/pdf/', 'id')):
        assert client.get(url, query_string={arg: BIG}).status_code == 404, (url, arg)
    token = csrf_from(client.get('/admin/').get_data(as_text=True))
    for url, data in (('/admin/application/transition/', {'id': BIG, 'transition': 'accept'}),
                      ('/admin/notice/publish/', {'id': BIG}),
                      ('/admin/notice/remove-item/', {'id': '1', 'application': BIG}),
                      ('/admin/notice/build/', {'mode': 'selected', 'ids': f'1,{BIG}'}),
                      ('/admin/user/action/', {'action': 'x', 'rowid': BIG})):
        assert client.post(url, data={**data, 'csrf_token': token}).status_code == 404, url
    # a search box is not an id: it keeps its own Chinese message
    helpdesk = client.application.test_client()
    login(helpdesk, 'helpdesk')
    page = helpdesk.get('/admin/helpdesk/', query_string={'q': BIG})
    assert page.status_code == 200 and '请输入18位身份证号' in page.get_data(as_text=True)


def test_public_announcement_with_oversized_id(client):
    assert client.get(f'/announcements/{BIG}').status_code == 404
    assert client.get(f'/announcements/{BIG}.pdf').status_code == 404
    assert client.get('/announcements/abc').status_code == 404
    assert '页面不存在' in client.get(f'/announcements/{BIG}').get_data(as_text=True)


# --- secret key ------------------------------------------------------------------------

def test_secret_key_file_is_created_owner_only(tmp_path, monkeypatch):
    from backoffice import config
    monkeypatch.setattr(config, 'INSTANCE_DIR', str(tmp_path / 'inst'))
    old = os.umask(0o022)
    try:
        key = config._secret_key()
    finally:
        os.umask(old)
    path = tmp_path / 'inst' / 'secret_key'
    assert len(key) == 64 and path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config._secret_key() == key                              # read back, not replaced
    os.chmod(path, 0o644)                                           # a file an older version left readable
    assert config._secret_key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- retention ---------------------------------------------------------------------------

def _job(user, state, finished_days_ago, now, name='out.csv', params=None, kind='export'):
    from flask import current_app
    at = now - datetime.timedelta(days=finished_days_ago)
    job = Job.create(kind=kind, title='导出', state=state, created_by=user, created_at=at,
                     finished_at=at if state in ('done', 'failed') else None, params=json.dumps(params or {}))
    folder = os.path.join(current_app.config['OUTPUT_DIR'], 'jobs', str(job.id))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, 'w') as fh:
        fh.write('身份证号\n110105198506150031\n')
    Job.update(result_path=path).where(Job.id == job.id).execute()
    return Job.get_by_id(job.id), folder


def _upload(name, days_ago, now):
    from flask import current_app
    folder = os.path.join(current_app.config['OUTPUT_DIR'], 'imports')
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, 'w') as fh:
        fh.write('姓名,身份证号\n')
    ts = (now - datetime.timedelta(days=days_ago)).timestamp()
    os.utime(path, (ts, ts))
    return path


def test_retention_deletes_old_job_outputs_and_import_uploads(app, client, users):
    from backoffice.background import retention
    now = datetime.datetime(2026, 11, 25, 3, 0)
    user = users['supervisor']
    old, old_dir = _job(user, 'done', 8, now)
    recent, recent_dir = _job(user, 'done', 6, now)
    running, running_dir = _job(user, 'running', 30, now)
    stale_upload = _upload('old.upload', 8, now)
    fresh_upload = _upload('new.upload', 1, now)
    in_use = _upload('queued.upload', 9, now)
    Job.create(kind='import', title='导入', state='queued', created_by=user, params=json.dumps({'path': in_use}))

    counts = retention.cleanup(now=now)
    assert counts['jobs'] == 1 and counts['imports'] == 1
    assert not os.path.exists(old_dir) and os.path.exists(recent_dir) and os.path.exists(running_dir)
    assert not os.path.exists(stale_upload) and os.path.exists(fresh_upload) and os.path.exists(in_use)
    kept = Job.get_by_id(old.id)                                    # the row stays, marked
    assert kept.result_path == '' and '已超过保留期限' in kept.message and kept.state == 'done'
    login(client, 'supervisor')
    assert client.get(f'/admin/job/{old.id}/download').status_code == 404
    assert client.get(f'/admin/job/{recent.id}/download').status_code == 200

    # a day later the recent one is past the period too; nothing is counted twice
    counts = retention.cleanup(now=now + datetime.timedelta(days=2))
    assert counts['jobs'] == 1 and not os.path.exists(recent_dir)
    assert retention.cleanup(now=now + datetime.timedelta(days=2))['jobs'] == 0
    # the period is a setting
    app.config['RETENTION_DAYS'] = 0
    try:
        assert retention.cleanup(now=now)['imports'] == 1 and not os.path.exists(fresh_upload)
    finally:
        app.config['RETENTION_DAYS'] = 7


def test_cleanup_command_and_schedule(app, users):
    from backoffice.background import retention
    now = datetime.datetime.now()
    old, old_dir = _job(users['admin'], 'failed', 10, now)
    result = app.test_cli_runner().invoke(args=['cleanup'])
    assert result.exit_code == 0, result.output
    assert '任务结果 1 个' in result.output and not os.path.exists(old_dir)
    assert app.test_cli_runner().invoke(args=['cleanup', '--days', '-1']).exit_code != 0
    # the consumer's scheduler runs it daily at 03:00
    task = retention.daily_cleanup.task_class()
    assert task.validate_datetime(datetime.datetime(2026, 11, 25, 3, 0))
    assert not task.validate_datetime(datetime.datetime(2026, 11, 25, 4, 0))
    assert 'retention_cleanup' in [t.name for t in retention.jobs.huey._registry.periodic_tasks]


def test_retention_in_object_storage(app, users, request):
    """With S3 configured (moto's server on loopback) the same rule holds for objects."""
    pytest.importorskip('moto.server')
    from backoffice.background import jobs, retention
    from .test_storage import _s3_config
    endpoint = request.getfixturevalue('moto_endpoint')
    config = _s3_config(endpoint, 'registry-retention', __import__('pathlib').Path(app.config['OUTPUT_DIR']))
    saved = {k: app.config.get(k) for k in config if k.startswith('S3_')}
    app.config.update({k: v for k, v in config.items() if k.startswith('S3_')})
    try:
        from backoffice import storage
        out = storage.outputs()
        now = datetime.datetime.now() + datetime.timedelta(days=8)     # object times are the server's: move "now"
        user = users['supervisor']
        done = Job.create(kind='export', title='导出', state='done', created_by=user,
                          finished_at=now - datetime.timedelta(days=9), result_path=jobs.STORED + 'jobs/1/x.csv')
        Job.update(result_path=f'{jobs.STORED}jobs/{done.id}/x.csv').where(Job.id == done.id).execute()
        out.put_bytes(f'jobs/{done.id}/x.csv', b'data')
        out.put_bytes('jobs/999999/old.csv', b'orphan')
        out.put_bytes('imports/old.upload', b'rows')
        out.put_bytes('imports/queued.upload', b'rows')
        Job.create(kind='import', title='导入', state='queued', created_by=user,
                   params=json.dumps({'input_key': 'imports/queued.upload'}))
        counts = retention.cleanup(now=now)
        assert counts == {'jobs': 1, 'imports': 1, 'orphans': 1}
        assert not out.exists(f'jobs/{done.id}/x.csv') and not out.exists('jobs/999999/old.csv')
        assert not out.exists('imports/old.upload') and out.exists('imports/queued.upload')
        assert Job.get_by_id(done.id).result_path == ''
    finally:
        app.config.update(saved)
