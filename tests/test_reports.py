"""Dashboard figures on a small known data set; exports read back and compared; province scope."""
import csv
import datetime
import io

import openpyxl
import pytest

from backoffice.validators import mask_id_number
from backoffice.workflow import transitions
from models import Application, Job, Person, RefusalGround, RegisteredSpecialty, Registration
from reports import exports, filters, stats

from .conftest import build_application, csrf_from, login, make_enterprise, make_person, make_registration, province

TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def known(users):
    """3 initial in January, 2 renewals in February; 2 approved, 1 refused; one overdue; registrations."""
    bj, sh = make_enterprise(code='11'), make_enterprise(code='31')
    rows = [build_application('initial', 'accepted', enterprise=bj, accepted_by=users['acceptor']) for _ in range(3)]
    rows += [build_application('renewal', 'accepted', enterprise=sh, accepted_by=users['acceptor'])
             for _ in range(2)]
    for r in rows[:3]:
        Application.update(created_at=datetime.datetime(2026, 1, 15, 9)).where(Application.id == r.id).execute()
    for r in rows[3:]:
        Application.update(created_at=datetime.datetime(2026, 2, 10, 9)).where(Application.id == r.id).execute()
    transitions.perform(rows[0], 'approve', users['reviewer'])
    transitions.perform(rows[1], 'approve', users['reviewer'])
    transitions.perform(rows[2], 'refuse', users['reviewer'], grounds=[RefusalGround.get(RefusalGround.code == '2').id])
    t0 = datetime.datetime(2026, 3, 1, 9)
    for r, days in ((rows[0], 5), (rows[1], 25), (rows[2], 12)):
        Application.update(accepted_at=t0, decided_at=t0 + datetime.timedelta(days=days),
                           deadline=(t0 + datetime.timedelta(days=28)).date(), processing_days=days,
                           decided_late=False).where(Application.id == r.id).execute()
    Application.update(deadline=TODAY - DAY).where(Application.id == rows[3].id).execute()
    # active registrations: the renewal applicants (上海) plus two in 北京 expiring soon
    for _ in range(2):
        make_registration(make_person(), bj, ('市政公用工程',), valid_until=TODAY + 10 * DAY)
    RegisteredSpecialty.update(valid_until=TODAY + 45 * DAY).where(
        RegisteredSpecialty.registration.in_(Registration.select(Registration.id).where(
            Registration.province == province('31').id))).execute()
    # the rows above are forged directly, past the workflow: the summary counters are recounted,
    # as after any bulk load (backoffice.workflow.summaries)
    from backoffice.workflow import summaries
    summaries.rebuild()
    return rows


def test_dashboard_numbers(known):
    data = stats.dashboard(filters.Filters())
    assert data['by_month'] == {'2026-01': {'初始注册': 3}, '2026-02': {'延续注册': 2}}
    assert (data['approved'], data['refused']) == (2, 1)
    assert data['grounds'] == [('申请在两个或者两个以上单位注册', 1)]
    assert dict(data['histogram']) == {'10天内': 1, '11–20天': 1, '21–28天': 1, '29–40天': 0, '40天以上': 0}
    assert data['late'] == 0 and data['overdue_now'] == 1
    assert dict(data['by_province']) == {'北京': 2, '上海': 2}
    assert dict(data['by_specialty']) == {'建筑工程': 2, '市政公用工程': 2}
    assert data['expiring'] == [('30天内', 2), ('31–60天', 2), ('61–90天', 0)]
    bj = stats.dashboard(filters.Filters(province_id=province('11').id))
    assert bj['by_month'] == {'2026-01': {'初始注册': 3}} and dict(bj['by_province']) == {'北京': 2}
    jan = stats.dashboard(filters.Filters(date_from=datetime.date(2026, 2, 1)))
    assert jan['by_month'] == {'2026-02': {'延续注册': 2}}


def test_dashboard_page_and_province_scope(client, known):
    login(client, 'supervisor')
    page = client.get('/admin/dashboard/').get_data(as_text=True)
    assert page.count('class="chart pygal-chart"') == 7 and 'id="overdue" class="text-danger">1<' in page
    page = client.get('/admin/dashboard/?date_from=2026-05-01&date_to=2026-01-01').get_data(as_text=True)
    assert '结束日期不能早于开始日期' in page
    assert client.get('/admin/dashboard/?province_id=abc&business_type=zz').status_code == 200
    officer = client.application.test_client()
    login(officer, 'provincial_sh')
    page = officer.get(f'/admin/dashboard/?province_id={province("11").id}').get_data(as_text=True)
    assert '北京：' not in page and '上海：2 人' in page                    # held to 上海 whatever is asked


def _csv(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.data[:3] == b'\xef\xbb\xbf'
    return list(csv.reader(io.StringIO(r.data.decode('utf-8-sig'))))


def test_csv_exports_match_source_rows(client, known, monkeypatch):
    monkeypatch.setattr(exports, 'BATCH', 2)                       # several keyset batches
    login(client, 'supervisor')
    rows = _csv(client, '/admin/exports/applications.csv')
    assert rows[0] == exports.EXPORTS['applications'].headers
    assert sorted(r[0] for r in rows[1:]) == sorted(a.number for a in Application.select())
    by_number = {r[0]: r for r in rows[1:]}
    first = Application.get_by_id(known[0].id)
    row = by_number[first.number]
    person = Person.get_by_id(first.person_id)
    assert row[1:5] == ['初始注册', '准予注册（待公告）', person.name, mask_id_number(person.id_number)]
    assert person.id_number not in ''.join(','.join(r) for r in rows)
    regs = _csv(client, '/admin/exports/registrations.csv')
    assert len(regs) - 1 == RegisteredSpecialty.select().count() == 4
    refusals = _csv(client, '/admin/exports/refusals.csv')
    assert len(refusals) == 2 and refusals[1][6] == '申请在两个或者两个以上单位注册'
    expiry = _csv(client, '/admin/exports/expiry.csv')
    assert sorted(int(r[-1]) for r in expiry[1:]) == [10, 10, 45, 45]
    r = client.get('/admin/exports/notices.csv')                  # nothing published: a message, not a file
    assert r.status_code == 302
    assert '没有符合条件的数据可导出' in client.get(r.headers['Location']).get_data(as_text=True)


def test_export_province_scope(client, known):
    officer = client.application.test_client()
    login(officer, 'provincial')                                   # 北京
    rows = _csv(officer, f'/admin/exports/applications.csv?province_id={province("31").id}')
    assert len(rows) == 4 and all(r[1] == '初始注册' for r in rows[1:])


def test_xlsx_export_through_a_job(client, known):
    login(client, 'supervisor')
    page = client.get('/admin/exports/').get_data(as_text=True)
    r = client.post('/admin/exports/applications.xlsx', data={'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    job = Job.get(Job.kind == 'export')
    assert job.state == 'done' and job.progress == job.total == 5
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert status['state'] == 'done'
    data = client.get(f'/admin/job/{job.id}/download').data
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    csv_rows = _csv(client, '/admin/exports/applications.csv')
    assert [[('' if v is None else str(v)) for v in r] for r in values] == csv_rows
    other = client.application.test_client()
    login(other, 'admin')
    assert other.get(f'/admin/job/{job.id}/download').status_code == 403


def test_cli_export(app, known, tmp_path):
    out = tmp_path / 'apps.csv'
    result = app.test_cli_runner().invoke(args=['export', 'applications', '--out', str(out), '--province', '31'])
    assert result.exit_code == 0, result.output
    assert '已导出 2 行' in result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding='utf-8-sig'))))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {'延续注册'}
    result = app.test_cli_runner().invoke(args=['export', 'nope', '--out', str(out)])
    assert result.exit_code != 0 and '报表名称应为' in result.output
    result = app.test_cli_runner().invoke(args=['export', 'notices', '--out', str(out)])
    assert result.exit_code != 0 and '没有符合条件的数据可导出' in result.output


def test_decision_facts_are_recorded_when_deciding(users):
    row = build_application('initial', 'reported')
    transitions.perform(row, 'accept', users['acceptor'])
    Application.update(accepted_at=datetime.datetime.now() - datetime.timedelta(days=40),
                       deadline=TODAY - 10 * DAY).where(Application.id == row.id).execute()
    transitions.perform(row, 'approve', users['reviewer'])
    done = Application.get_by_id(row.id)
    assert (done.processing_days, done.decided_late) == (40, True)
    stats_now = stats.processing_time(filters.Filters())
    assert dict(stats_now[0])['29–40天'] == 1 and stats_now[1] == 1


@pytest.mark.skipif(__import__('tests.conftest', fromlist=['x']).TEST_DATABASE == 'sqlite',
                    reason="the COPY fast path is PostgreSQL's; the SQLite run covers the keyset path")
@pytest.mark.parametrize('name', ['applications', 'registrations'])
def test_postgres_copy_path_writes_the_same_bytes(known, tmp_path, name):
    export = exports.EXPORTS[name]
    fast, slow = tmp_path / 'fast.csv', tmp_path / 'slow.csv'
    exports.write_csv(export, filters.Filters(), str(fast))
    exports.write_csv(export, filters.Filters(), str(slow), fast=False)
    assert fast.read_bytes() == slow.read_bytes()
    assert len(fast.read_text(encoding='utf-8-sig').splitlines()) > 1


@pytest.mark.skipif(__import__('tests.conftest', fromlist=['x']).TEST_DATABASE == 'sqlite',
                    reason="the COPY fast path is PostgreSQL's; the SQLite run covers the keyset path")
@pytest.mark.parametrize('name', ['applications', 'registrations'])
def test_postgres_copy_path_neutralises_formulas_like_the_keyset_path(users, tmp_path, name):
    """Names a spreadsheet would run as formulas (and a carriage return inside one): the same bytes
    from COPY as from the keyset path, every such cell quoted."""
    nasty = ["=cmd|' /C calc'!A0", '+1', '-2', '@x', '\tt', '\rr', '甲\r\n乙']
    for i, text in enumerate(nasty):
        ent = make_enterprise(name=text)
        person = make_person(name=text)
        make_registration(person, ent)
        build_application('initial', 'submitted', person=make_person(name=text), enterprise=ent)
    export = exports.EXPORTS[name]
    fast, slow = tmp_path / 'fast.csv', tmp_path / 'slow.csv'
    exports.write_csv(export, filters.Filters(), str(fast))
    exports.write_csv(export, filters.Filters(), str(slow), fast=False)
    assert fast.read_bytes() == slow.read_bytes()
    cells = [c for row in csv.reader(io.StringIO(fast.read_text(encoding='utf-8-sig'))) for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'\nr" in cells and '甲\n乙' in cells
    assert not [c for c in cells if c[:1] in ('=', '+', '-', '@', '\t', '\r')]
