"""Job pages: a queued job shows no "0/0"; states in Chinese in the HTML and in the JSON job.js
renders; "已完成" once, not twice; the download button at the top; the print page says how many
certificates a print will include before it starts, and a print never starts on a count the user
did not see."""
import datetime
import html
import os
import re
import threading

import pytest

from backoffice.background import jobs
from backoffice.issuing import printing
from models import Certificate, Job

from .conftest import PASSWORD, csrf_from, login, make_enterprise, registered_with_certificate

ENGLISH_STATES = re.compile(r'\b(queued|running|done|failed)\b')


def visible_text(page):
    """The page's text as a reader sees it: no tags, no attribute values, no scripts or styles."""
    body = re.sub(r'<(script|style)\b.*?</\1>', ' ', page, flags=re.S)
    body = re.sub(r'<[^>]+>', ' ', body)
    return re.sub(r'\s+', ' ', html.unescape(body))


def _job(user, state, progress=0, total=0, message='', kind='export', result_path=''):
    return Job.create(kind=kind, title='导出：申请明细（XLSX）', created_by=user, state=state, progress=progress,
                      total=total, message=message, result_path=result_path, heartbeat_at=datetime.datetime.now())


def test_queued_job_page_shows_no_zero_of_zero_and_chinese_state(client, users):
    job = _job(users['supervisor'], 'queued')
    login(client, 'supervisor')
    page = client.get(f'/admin/job/{job.id}/').get_data(as_text=True)
    text = visible_text(page)
    assert '0/0' not in text and not ENGLISH_STATES.search(text)
    assert re.search(r'id="state"[^>]*>排队中<', page) and '等待后台处理，尚未开始' in text
    assert re.search(r'<p id="download"[^>]*hidden', page)                    # nothing to download yet
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert status['state'] == 'queued'                                      # the code, for job.js's logic only
    assert status['state_label'] == '排队中' and status['percent'] == 0
    assert '0/0' not in status['progress_text'] and status['message'] == ''
    shown = ' '.join(str(status[k]) for k in ('state_label', 'progress_text', 'message'))
    assert not ENGLISH_STATES.search(shown)
    listing = visible_text(client.get('/admin/job/').get_data(as_text=True))
    assert '排队中' in listing and '0/0' not in listing and not ENGLISH_STATES.search(listing)


def test_running_job_counts_only_once_it_knows_its_total(client, users):
    job = _job(users['supervisor'], 'running')
    login(client, 'supervisor')
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert (status['state_label'], status['progress_text']) == ('进行中', '正在准备…')
    Job.update(progress=250, total=1000).where(Job.id == job.id).execute()
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert (status['progress_text'], status['percent']) == ('250/1,000', 25)


def test_done_job_says_done_once_and_offers_the_download_first(client, users, app, tmp_path):
    out = os.path.join(app.config['OUTPUT_DIR'], 'jobs', 'test-job-pages')
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'result.xlsx')
    with open(path, 'wb') as fh:
        fh.write(b'PK\x03\x04 not really a workbook')
    job = _job(users['supervisor'], 'done', progress=5, total=5, message='已完成', result_path=path)
    login(client, 'supervisor')
    page = client.get(f'/admin/job/{job.id}/').get_data(as_text=True)
    text = visible_text(page)
    assert text.count('已完成') == 1 and '已完成 已完成' not in text
    assert not ENGLISH_STATES.search(text)
    download = re.search(r'<p id="download"([^>]*)>\s*<a class="btn btn-success btn-lg" href="([^"]+)">下载文件</a>', page)
    assert download and 'hidden' not in download.group(1)
    # where the eye lands: right under the title, above the state and the progress bar
    assert page.index('id="download"') < page.index('id="state"') < page.index('id="bar"')
    assert client.get(download.group(2)).status_code == 200
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert status['state_label'] == '已完成' and status['message'] == '' and status['downloadable'] is True
    assert status['progress_text'] == '5/5' and status['percent'] == 100
    listing = client.get('/admin/job/').get_data(as_text=True)
    assert visible_text(listing).count('已完成') == 1 and f'/admin/job/{job.id}/download' in listing


def test_failed_job_keeps_its_reason_and_offers_retry(client, users):
    job = _job(users['supervisor'], 'failed', message='任务执行出错，已记录，请联系系统管理员')
    login(client, 'supervisor')
    page = client.get(f'/admin/job/{job.id}/').get_data(as_text=True)
    assert re.search(r'id="state"[^>]*>失败<', page) and '任务执行出错' in page
    assert re.search(r'<form id="retry"(?![^>]*hidden)', page)


def test_export_page_lists_jobs_in_chinese(client, users):
    _job(users['supervisor'], 'queued')
    _job(users['supervisor'], 'done', progress=1, total=1, message='已完成')
    login(client, 'supervisor')
    text = visible_text(client.get('/admin/exports/').get_data(as_text=True))
    assert '（排队中）' in text and '（已完成）' in text and not ENGLISH_STATES.search(text)


def test_job_script_renders_server_texts_only():
    """job.js shows the JSON's Chinese texts and keeps no state names of its own."""
    js = open(os.path.join(os.path.dirname(__file__), '..', 'views', 'static', 'js', 'job.js'),
              encoding='utf-8').read()
    assert 's.state_label' in js and 's.progress_text' in js and 's.downloadable' in js
    assert "s.progress + '/' + s.total" not in js and '已完成' not in js


# --- the print page's count ------------------------------------------------------------------

@pytest.fixture
def certificates(users):
    ent = make_enterprise(code='11')
    certs = [registered_with_certificate(users, enterprise=ent, with_images=False)[0] for _ in range(3)]
    Certificate.update(printed=True).where(Certificate.id == certs[0].id).execute()     # printed once already
    return certs


def test_count_batch_matches_the_selection(users, certificates):
    officer = users['provincial']
    assert printing.count_batch(officer, officer.province_id) == (2, 0)
    assert printing.count_batch(officer, officer.province_id, only_unprinted=False) == (3, 1)
    assert printing.selection(officer.province_id, only_unprinted=False).count() == 3
    with pytest.raises(printing.PrintError) as exc:
        printing.count_batch(users['provincial_sh'], officer.province_id)
    assert exc.value.field == 'province'
    with pytest.raises(printing.PrintError):
        printing.count_batch(officer, officer.province_id, datetime.date(2026, 12, 1), datetime.date(2026, 1, 1))


def test_print_page_says_how_many_before_it_starts(client, users, certificates):
    login(client, 'provincial')
    province = str(users['provincial'].province_id)
    page = client.get('/admin/print/').get_data(as_text=True)
    assert re.search(r'id="print-total">2<', page) and 'name="count" value="2"' in page
    assert '生成打印文件（2 本）' in page
    assert Job.select().count() == 0                                         # counting starts nothing
    # all certificates, printed ones too: counted again, reprints named
    token = csrf_from(page)
    page = client.post('/admin/print/', data={'csrf_token': token, 'province': province, 'action': 'count',
                                              'count': '2'}).get_data(as_text=True)
    assert re.search(r'id="print-total">3<', page) and re.search(r'id="print-reprints">1<', page)
    assert Job.select().count() == 0
    # a print on a count the page did not show (conditions changed since): asked again, nothing starts
    page = client.post('/admin/print/', data={'csrf_token': token, 'province': province, 'action': 'print',
                                              'count': '2', 'reason': '证书污损'}).get_data(as_text=True)
    assert '按当前条件将打印 3 本证书' in page and Job.select().count() == 0
    # the count shown is the count printed
    r = client.post('/admin/print/', data={'csrf_token': token, 'province': province, 'action': 'print',
                                           'count': '3', 'reason': '证书污损'})
    assert r.status_code == 302
    job = Job.get()
    assert job.total == 3 and '（3 本）' in job.title
    page = client.get('/admin/print/').get_data(as_text=True)
    assert '没有符合条件的证书可打印' in page and re.search(r'id="print-total">0<', page)
    assert re.search(r'<button[^>]*value="print"[^>]*disabled', page)
    listing = visible_text(page)
    assert '已完成' in listing and not ENGLISH_STATES.search(listing)


# --- in the browser: job.js follows the job to its end ----------------------------------------

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')


def test_job_page_follows_the_job_in_the_browser(app, users, certificates, request):
    if not os.path.exists(CHROMIUM):
        if os.environ.get('REQUIRE_BROWSER') == '1':
            raise RuntimeError(f'Chromium not found at {CHROMIUM}')
        pytest.skip(f'Chromium not installed at {CHROMIUM}')
    from playwright.sync_api import expect
    from werkzeug.serving import make_server
    out = os.path.join(app.config['OUTPUT_DIR'], 'jobs', 'test-job-pages')
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'result.csv')
    with open(path, 'w') as fh:
        fh.write('a\n')
    job = _job(users['supervisor'], 'queued')
    server = make_server('127.0.0.1', 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_port}'
    try:
        browser = request.getfixturevalue('browser')     # pytest-playwright's session browser
        context = browser.new_context(locale='zh-CN')
        page = context.new_page()
        page.goto(f'{url}/login')
        page.fill('#username', 'supervisor')
        page.fill('#password', PASSWORD)
        page.click('button[type=submit]')
        page.wait_for_load_state()
        page.goto(f'{url}/admin/job/{job.id}/')
        assert page.inner_text('#state') == '排队中' and '0/0' not in page.inner_text('#job')
        assert not page.is_visible('#download')
        Job.update(state='running', progress=2, total=8).where(Job.id == job.id).execute()
        expect(page.locator('#progress')).to_have_text('2/8', timeout=10000)       # job.js polls each second
        assert page.inner_text('#state') == '进行中'
        Job.update(state='done', progress=8, message='已完成', result_path=path).where(Job.id == job.id).execute()
        expect(page.locator('#state')).to_have_text('已完成', timeout=10000)
        assert page.is_visible('#download') and page.inner_text('#message') == ''
        assert page.inner_text('#job').count('已完成') == 1
        assert not ENGLISH_STATES.search(page.inner_text('body'))
        # the print page: a changed condition makes the count shown stale until it is counted again
        officer = browser.new_context(locale='zh-CN').new_page()
        officer.goto(f'{url}/login')
        officer.fill('#username', 'provincial')
        officer.fill('#password', PASSWORD)
        officer.click('button[type=submit]')
        officer.wait_for_load_state()
        officer.goto(f'{url}/admin/print/')
        assert officer.inner_text('#print-total') == '2'
        officer.uncheck('#ou')
        assert '条件已修改' in officer.inner_text('#print-count')
        officer.click('button[value="count"]')
        officer.wait_for_load_state()
        assert officer.inner_text('#print-total') == '3' and officer.inner_text('#print-reprints') == '1'
        officer.context.close()
        context.close()
    finally:
        server.shutdown()
