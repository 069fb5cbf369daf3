"""Security headers on every page type (issue 9 §5), set in one place (backoffice.headers), and no
inline script left in the pages the CSP would then break."""
import os
import re

import pytest

from backoffice import headers
from backoffice.workflow import transitions
from models import Material, RefusalGround

from .conftest import build_application, csrf_from, login, make_user, registered_with_certificate

COMMON = {
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
}


def _check(r, no_store=True, csp=headers.CSP):
    for name, value in COMMON.items():
        assert r.headers.get(name) == value, (name, r.headers.get(name))
    policy = r.headers['Content-Security-Policy']
    assert policy == csp
    if not policy.startswith('sandbox'):
        directives = dict(d.strip().split(' ', 1) for d in policy.split(';'))
        assert directives['script-src'] == "'self'"                      # no inline script, no eval
        assert directives['frame-ancestors'] == "'none'"
        assert directives['object-src'] == "'none'"
    assert 'Strict-Transport-Security' not in r.headers                  # no TLS configured in tests
    if no_store:
        assert r.headers['Cache-Control'] == 'no-store'
    else:
        assert 'no-store' not in r.headers.get('Cache-Control', '')


@pytest.fixture
def documents(users, password_hash):
    """A published announcement (with a certificate) and a refused application with its applicant."""
    cert, registered = registered_with_certificate(users)
    refused = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    ground = RefusalGround.get(RefusalGround.code == '2').id
    transitions.perform(refused, 'refuse', users['reviewer'], grounds=[ground], text='经核查在外省另有注册')
    make_user('refused_app', password_hash, role='applicant', person=refused.person)
    from models import Notice
    return {'notice': Notice.get(Notice.state == 'published'), 'refused': refused, 'cert': cert,
            'material': Material.get((Material.application == registered) & (Material.kind == 'photo'))}


def test_public_pages(client, documents):
    _check(client.get('/'))
    _check(client.get('/announcements'))
    _check(client.get(f'/announcements/{documents["notice"].id}'))
    r = client.get(f'/announcements/{documents["notice"].id}.pdf')          # public: may be cached
    assert r.status_code == 200 and r.mimetype == 'application/pdf'
    _check(r, no_store=False)
    _check(client.get('/login'))


def test_portal_pages_and_a_personal_pdf(client, documents):
    login(client, 'refused_app')
    _check(client.get('/portal/'))
    _check(client.get('/portal/progress'))
    r = client.get(f'/files/refusal/{documents["refused"].id}.pdf')
    assert r.status_code == 200 and r.mimetype == 'application/pdf'
    _check(r)


def test_admin_pages_and_json(client, documents):
    login(client, 'admin')
    for url in ('/admin/', '/admin/application/', f'/admin/notice/details/?id={documents["notice"].id}',
                '/admin/helpdesk/', '/admin/exports/', '/admin/user/'):
        r = client.get(url)
        assert r.status_code == 200, url
        _check(r)
    r = client.get(f'/files/certificate/{documents["cert"].serial}.pdf')
    assert r.status_code == 200
    _check(r)


def test_json_endpoint(client, users, password_hash):
    from .conftest import make_person
    make_user('json_app', password_hash, role='applicant', person=make_person())
    login(client, 'json_app')
    r = client.get('/portal/enterprises?q=建工')
    assert r.status_code == 200 and r.is_json
    _check(r)
    staff = client.application.test_client()
    login(staff, 'supervisor')
    build_application('initial', 'submitted')
    page = staff.get('/admin/exports/').get_data(as_text=True)
    staff.post('/admin/exports/applications.xlsx', data={'csrf_token': csrf_from(page)})
    from models import Job
    r = staff.get(f'/admin/job/{Job.get().id}/status')
    assert r.is_json
    _check(r)


def test_uploaded_material_keeps_its_sandbox(client, documents):
    login(client, 'reviewer')
    r = client.get(f'/files/material/{documents["material"].id}')
    assert r.status_code == 200 and r.mimetype == 'image/jpeg'
    from views.files import UPLOAD_CSP
    _check(r, csp=UPLOAD_CSP)


def test_static_files_and_error_pages(client):
    r = client.get('/static/js/app.js')
    assert r.status_code == 200
    _check(r, no_store=False)
    r = client.get('/admin/static/vendor/jquery.min.js')
    assert r.status_code == 200
    _check(r, no_store=False)
    for url, code in (('/no-such-page', 404), ('/announcements/99999999999999999999999', 404),
                      ('/admin/application/', 302)):
        r = client.get(url)
        assert r.status_code == code
        _check(r)
    r = client.post('/login', data={'username': 'x'})                    # no CSRF token: a Chinese 400
    assert r.status_code == 400
    _check(r)


def test_hsts_only_when_tls_is_configured(app, client):
    assert 'Strict-Transport-Security' not in client.get('/').headers
    app.config['HSTS_ENABLED'] = True
    try:
        value = client.get('/').headers['Strict-Transport-Security']
        assert value.startswith('max-age=31536000')
    finally:
        app.config['HSTS_ENABLED'] = False
    app.config['PREFERRED_URL_SCHEME'] = 'https'
    try:
        assert 'Strict-Transport-Security' in client.get('/').headers
    finally:
        app.config['PREFERRED_URL_SCHEME'] = 'http'
    from backoffice.config import ProductionConfig
    assert ProductionConfig.HSTS_ENABLED


INLINE_SCRIPT = re.compile(r'<script(?![^>]*\bsrc=)[^>]*>', re.I)
INLINE_HANDLER = re.compile(r'<[^>]+\son[a-z]+\s*=', re.I)
# javascript:void(0) (Flask-Admin's menu toggles) is inert; anything else after javascript: would be code
JS_URL = re.compile(r'(?:href|src|action)\s*=\s*["\']\s*javascript:(?!void\(0\)["\'])', re.I)


def _no_inline_script(html, url):
    assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
    handler = INLINE_HANDLER.search(html)
    # Flask-Admin's filter menu keeps one harmless onclick="return false;" (it only blocks a link)
    assert handler is None or 'return false;' in html[handler.start():handler.start() + 300], (url, handler.group(0))
    assert not JS_URL.search(html), (url, JS_URL.search(html).group(0))


def test_pages_carry_no_inline_script(client, users, password_hash, documents):
    """With script-src 'self' an inline script or handler would silently not run: none is left."""
    from .conftest import make_person
    person = make_person()
    make_user('inline_app', password_hash, role='applicant', person=person)
    draft = build_application('initial', 'draft', person=person)
    login(client, 'inline_app')
    for url in ('/', '/portal/', f'/portal/application/{draft.id}', '/portal/photo-tool', '/announcements'):
        r = client.get(url)
        assert r.status_code == 200, url
        _no_inline_script(r.get_data(as_text=True), url)
    build_application('initial', 'reported')
    pages = {'admin': ('/admin/', '/admin/application/', f'/admin/notice/details/?id={documents["notice"].id}',
                       '/admin/exports/', '/admin/user/', '/admin/helpdesk/'),
             'acceptor': ('/admin/accept_queue/',), 'reviewer': ('/admin/review_queue/',)}
    for username, urls in pages.items():
        staff = client.application.test_client()
        login(staff, username)
        for url in urls:
            r = staff.get(url)
            assert r.status_code == 200, url
            _no_inline_script(r.get_data(as_text=True), url)
    page = staff.get('/admin/review_queue/').get_data(as_text=True)
    # the batch actions menu: no inline handler, bound by a static file
    assert 'data-admin-action=' in page and '/static/js/admin_actions.js' in page


# --- in a real browser: the pages work under the policy, and it reports no violation ---------------

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')


@pytest.fixture(scope='session')
def browser_type_launch_args():
    # the same launch as tests/test_browser.py (Debian's Chromium; never a downloaded browser)
    return {'executable_path': CHROMIUM, 'headless': True,
            'args': ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                     '--disable-component-update', '--no-first-run', '--disable-sync']}


@pytest.fixture(scope='module')
def live_app(app):
    import threading
    from werkzeug.serving import make_server
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get('REQUIRE_BROWSER') != '1',
                    reason='Chromium not installed (apt-get install chromium)')
def test_no_csp_violation_in_the_browser(request, users, password_hash):
    """Back-office lists (filters, batch actions with their confirmation), the application form and
    the photo tool run under the policy without a single violation report."""
    browser = request.getfixturevalue('browser')
    live = request.getfixturevalue('live_app')
    from .conftest import PASSWORD, make_person
    build_application('initial', 'accepted', accepted_by=users['acceptor'])
    person = make_person()
    make_user('csp_app', password_hash, role='applicant', person=person)
    draft = build_application('initial', 'draft', person=person)
    violations = []

    def page_for(username):
        page = browser.new_context(locale='zh-CN').new_page()
        page.on('console', lambda m: violations.append((page.url, m.text))
                if 'Content Security Policy' in m.text else None)
        page.goto(f'{live}/login')
        page.fill('#username', username)
        page.fill('#password', PASSWORD)
        page.click('button[type=submit]')
        page.wait_for_load_state()
        return page

    page = page_for('admin')
    page.goto(f'{live}/admin/application/')
    page.locator('.dropdown-menu.field-filters >> xpath=preceding-sibling::a[1]').first.click()
    page.locator('a.dropdown-item.filter').first.click()                # Flask-Admin's filter script
    assert page.locator('.filters tr, #filter-list tr, table.filters tr').count() >= 1
    for url in ('/admin/', '/admin/user/', '/admin/exports/', '/admin/helpdesk/'):
        page.goto(live + url)
    page.context.close()

    page = page_for('reviewer')
    page.goto(f'{live}/admin/review_queue/')
    page.locator('input.action-checkbox').first.check()
    page.locator('.dropdown-menu:has([data-admin-action]) >> xpath=preceding-sibling::a[1]').first.click()
    dialogs = []
    page.on('dialog', lambda d: (dialogs.append(d.message), d.dismiss()))
    page.locator('[data-admin-action="approve"]').click()                 # the batch action asks first
    page.wait_for_timeout(300)
    assert len(dialogs) == 1 and dialogs[0].startswith('确定对以下 1 件申请执行“批量准予注册”吗？')   # names them
    page.context.close()

    page = page_for('csp_app')
    for url in ('/portal/', f'/portal/application/{draft.id}', '/portal/photo-tool'):
        page.goto(live + url)
        page.wait_for_load_state('networkidle')
    page.context.close()
    assert violations == []
