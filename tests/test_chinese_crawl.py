"""Chinese everywhere: a crawl of every page each role can reach, on the demo data.

For every demo account the crawl starts at the home page and the menu, follows same-origin GET
links breadth first (a bound per URL shape and per role), opens list, details, create and edit
pages and Flask-Admin filter pages, and posts every create/edit form empty once to see the page
with form errors. Each HTML page must say <html lang="zh-CN"> and show none of the English UI
strings of Flask-Admin, WTForms, Select2 and the date picker (ENGLISH below). Only what a user
sees is checked: text outside <script>/<style>, the placeholder, title, aria-label, alt and
data-placeholder attributes, button labels and the filter operations Flask-Admin's script shows.

The date picker and Select2 draw their texts in the browser: the pages that load them must
load the zh-CN locale script too, and that script must carry the Chinese names.
"""
import collections
import html.parser
import json
import os
import re
import urllib.parse

import pytest

from .conftest import csrf_from

# English UI strings (whole words, case-sensitive): Flask-Admin's and WTForms' messages, buttons
# and filter operations, Select2's messages, the date picker's labels and month and day names.
ENGLISH = [
    'Failed to', 'Save', 'Cancel', 'Apply', 'List', 'Create', 'Edit', 'Delete', 'Search', 'Add Filter',
    'Filter', 'Export', 'Actions', 'With selected', 'Are you sure', 'Record', 'record', 'View Record',
    'This field is required', 'Not a valid', 'Invalid', 'Field must', 'is required', 'Please select',
    'Please enter', 'select model', 'True', 'False', 'true', 'false', 'NULL', 'None', 'Previous', 'Next',
    'Home', 'Close', 'Remove', 'Add', 'Yes', 'No', 'equals', 'not equal', 'contains', 'not contains',
    'empty', 'in list', 'not in list', 'greater than', 'smaller than', 'between', 'not between',
    'No matches found', 'Searching', 'Loading', 'Custom Range', 'From', 'To',
    'January', 'February', 'March', 'April', 'June', 'July', 'August', 'September', 'October',
    'November', 'December', 'Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov',
    'Dec', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
    'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa',
    'Toggle navigation', 'Enter comma separated values', 'Choose', 'Submit', 'Back', 'Page',
]
ENGLISH_RE = re.compile(r'(?<![A-Za-z0-9_.-])(' + '|'.join(re.escape(w) for w in sorted(ENGLISH, key=len,
                                                                                       reverse=True))
                        + r')(?![A-Za-z0-9_-])')
# Chinese labels that stand for a literal translation or the wrong word.
WRONG_CHINESE = ['请选择模型', '模型']

VISIBLE_ATTRS = ('placeholder', 'title', 'aria-label', 'alt', 'data-placeholder')
SKIP_TEXT_IN = {'script', 'style', 'template', 'noscript'}
# Hidden data divs whose JSON Flask-Admin's filter script turns into visible options.
FILTER_DATA_IDS = {'filter-groups-data', 'active-filters-data'}

DEMO_LOGINS = [  # (username, password) of seed.demo.DEMO_ACCOUNTS, one or two per role
    ('admin', 'Admin@2026'), ('shouli', 'Shouli@2026'), ('shencha', 'Shencha@2026'),
    ('beijing', 'Sheng@2026'), ('jiandu', 'Jiandu@2026'), ('kefu', 'Kefuyuan@2026'),
    ('huishen', 'Huishen@2026'), ('qiye', 'Qiyejingban@2026'), ('shenqing', 'Shenqing@2026'),
]
MAX_PAGES_PER_ROLE = 400
MAX_PER_SHAPE = 1          # at most this many URLs of one shape (path with ids as N, query keys)
# Never followed: downloads, files, the JSON API, logout and anything that is not a page.
SKIP_PATH = re.compile(r'(/static/|/logout|/export|download|\.pdf$|\.csv$|\.xlsx$|\.json$|\.svg$|\.png$|'
                       r'\.jpg$|/files/|/api/v1/(?!docs)|/metrics|/healthz|/readyz|/ajax/|/\.well-known/)')


class PageText(html.parser.HTMLParser):
    """Visible strings of one page: text nodes, user-facing attributes, button values, links, forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.strings = []          # (where, text)
        self.links = []
        self.forms = []            # (method, action, [(name, value)], has_csrf)
        self.html_lang = None
        self._stack = []
        self._data_div = None
        self._data_buf = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'html':
            self.html_lang = a.get('lang')
        if tag not in ('br', 'img', 'input', 'meta', 'link', 'hr', 'source', 'col', 'area', 'base', 'wbr'):
            self._stack.append(tag)
        for name in VISIBLE_ATTRS:
            if a.get(name):
                self.strings.append((f'{tag}[{name}]', a[name]))
        if tag == 'input' and (a.get('type') or '').lower() in ('submit', 'button', 'reset') and a.get('value'):
            self.strings.append((f'{tag}[value]', a['value']))
        if tag == 'a' and a.get('href'):
            self.links.append(a['href'])
        if tag == 'div' and a.get('id') in FILTER_DATA_IDS:
            self._data_div, self._data_buf = a['id'], []
        if tag == 'form':
            self._form = {'method': (a.get('method') or 'get').lower(), 'action': a.get('action') or '',
                          'fields': [], 'enctype': a.get('enctype') or ''}
            self.forms.append(self._form)
        if self._form is not None and tag in ('input', 'textarea', 'select') and a.get('name'):
            self._form['fields'].append((a['name'], (a.get('type') or tag).lower(), a.get('value') or ''))

    def handle_endtag(self, tag):
        if tag == 'form':
            self._form = None
        if self._data_div and tag == 'div':
            self._filter_json(''.join(self._data_buf))
            self._data_div = None
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data):
        if self._data_div:
            self._data_buf.append(data)
            return
        if any(t in SKIP_TEXT_IN for t in self._stack):
            return
        if data.strip():
            self.strings.append((self._stack[-1] if self._stack else 'text', data.strip()))

    def _filter_json(self, text):
        """Flask-Admin's filter groups: {group label: [{operation, options: [[value, label]]}]}."""
        try:
            data = json.loads(text or 'null')
        except ValueError:
            return
        groups = data.items() if isinstance(data, dict) else []
        for label, items in groups:
            self.strings.append(('filter group', label))
            for item in items or ():
                if isinstance(item, dict):
                    self.strings.append(('filter operation', str(item.get('operation', ''))))
                    for option in item.get('options') or ():
                        if isinstance(option, (list, tuple)) and len(option) > 1:
                            self.strings.append(('filter option', str(option[1])))
        if isinstance(data, list):    # active filters: [[index, name, value], ...]
            for row in data:
                if isinstance(row, list) and len(row) > 1:
                    self.strings.append(('active filter', str(row[1])))


def english_in(strings):
    """[(where, English word, context)] for every English UI word among the visible strings."""
    found = []
    for where, text in strings:
        for m in ENGLISH_RE.finditer(text):
            found.append((where, m.group(1), text[:80]))
        for wrong in WRONG_CHINESE:
            if wrong in text:
                found.append((where, wrong, text[:80]))
    return found


def _shape(url):
    parts = urllib.parse.urlsplit(url)
    path = re.sub(r'\d+', 'N', parts.path)
    query = urllib.parse.parse_qs(parts.query)
    keys = sorted(k if not k.startswith('flt') else 'flt' for k in query
                  if k not in ('url', 'page', 'sort', 'desc', 'page_size'))
    if 'id' in query:
        keys.append('id')
    return path + '?' + '&'.join(sorted(set(keys)))


def _local(href, base):
    """The same-origin path+query of a link, or None."""
    if not href or href.startswith(('#', 'javascript:', 'mailto:', 'tel:', 'data:')):
        return None
    url = urllib.parse.urljoin('http://localhost' + base, href)
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ('localhost', ''):
        return None
    path = parts.path + ('?' + parts.query if parts.query else '')
    if SKIP_PATH.search(parts.path):
        return None
    return path


def _filter_urls(app, role):
    """List URLs with a Flask-Admin filter applied, one per kind of filter input (date picker, select,
    text box) of each model view the role may read: the filter row and its input are on the page."""
    admin = app.extensions['registry_admin']
    urls = []
    for view in admin._views:
        if role not in getattr(view, 'read_roles', ()) or not getattr(view, '_filters', None):
            continue
        base = view.url.rstrip('/') + '/'
        kinds = set()
        for index, flt in enumerate(view._filters):
            kind = (getattr(flt, 'data_type', None), flt.options is not None)
            if kind in kinds:
                continue
            kinds.add(kind)
            name = type(flt).__name__
            value = '2026-01-01' if 'Date' in name else '1'
            if 'Between' in name:
                value = '2026-01-01 to 2026-12-31'
            arg = view.get_filter_arg(index, flt)
            urls.append(base + '?' + urllib.parse.urlencode({f'flt0_{arg}': value}))
    return urls


def crawl(app, client, username, role):
    """Visit the role's pages; return ({url: [problems]}, pages visited, forms posted)."""
    problems = collections.defaultdict(list)
    seeds = (['/', '/admin/', '/portal/', '/company/', '/messages/', '/api/v1/docs', '/login',
              '/no-such-page', '/admin/user/', '/admin/helpdesk/?q=' + urllib.parse.quote(SAMPLE_QUERY)]
             + _filter_urls(app, role))
    seen, shapes = set(), collections.Counter()
    queue = collections.deque((url, True) for url in seeds)
    visited = posted = 0
    forms_to_post = {}
    while queue and visited < MAX_PAGES_PER_ROLE:
        url, seed = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        shape = _shape(url)
        if not seed and shapes[shape] >= MAX_PER_SHAPE:
            continue
        shapes[shape] += 1
        try:
            resp = client.get(url)
        except Exception as exc:           # a server error is a finding too, not the end of the crawl
            problems[url].append(f'server error: {exc!r}'[:200])
            continue
        if resp.status_code in (301, 302, 303, 307, 308):
            target = _local(resp.headers.get('Location', ''), url)
            if target:
                queue.append((target, seed))
            continue
        if 'text/html' not in resp.content_type:
            continue
        visited += 1
        if os.environ.get('CRAWL_DEBUG'):
            print('VISIT', username, shape, url)
        body = resp.get_data(as_text=True)
        page = PageText()
        page.feed(body)
        check_page(url, resp, page, problems)
        for href in page.links + _get_form_urls(page, url):
            target = _local(href, url)
            if target and target not in seen:
                queue.append((target, False))
        path = urllib.parse.urlsplit(url).path
        if resp.status_code == 200 and re.search(r'/(new|edit)/$|^/login$', path):
            forms_to_post.setdefault(path, (url, body))     # one create and one edit form per view
    for url, body in forms_to_post.values():
        posted += post_empty(client, url, body, problems)
    return problems, visited, posted


SAMPLE_QUERY = '张'


def _get_form_urls(page, url):
    """A GET form (search, filters) submitted once: text boxes get SAMPLE_QUERY, the rest their values."""
    out = []
    for form in page.forms:
        if form['method'] != 'get' or not form['fields']:
            continue
        data = {}
        for name, kind, value in form['fields']:
            if kind in ('submit', 'button', 'checkbox', 'radio', 'file'):
                continue
            data[name] = SAMPLE_QUERY if kind in ('text', 'search', 'input') and not value else value
        out.append(urllib.parse.urljoin(url, form['action'] or url) + '?' + urllib.parse.urlencode(data))
    return out


def post_empty(client, url, body, problems):
    """POST the page's model form with every field empty (the page with form errors)."""
    page = PageText()
    page.feed(body)
    form = next((f for f in page.forms if f['method'] == 'post'
                 and any(name == 'csrf_token' for name, _t, _v in f['fields'])
                 and any(name != 'csrf_token' for name, _t, _v in f['fields'])), None)
    if form is None:
        return 0
    data = {'csrf_token': csrf_from(body)}
    for name, kind, _value in form['fields']:
        if name != 'csrf_token' and kind not in ('submit', 'button', 'checkbox', 'file'):
            data.setdefault(name, '')
    resp = client.post(urllib.parse.urljoin('http://localhost' + url, form['action'] or url), data=data)
    if 'text/html' in resp.content_type and resp.status_code < 300:
        after = PageText()
        after.feed(resp.get_data(as_text=True))
        check_page(url + ' [POST empty]', resp, after, problems)
    return 1


# Pages about people: a person's name is 姓名, never 名称.
PERSON_PAGES = re.compile(r'^/admin/(person|externalregistration|user)/')


def check_page(url, resp, page, problems):
    if page.html_lang != 'zh-CN':
        problems[url].append(f'<html lang={page.html_lang!r}> (status {resp.status_code})')
    if PERSON_PAGES.match(url):
        for where, text in page.strings:
            if text.strip() == '名称' or text.startswith('名称') and where in ('label', 'th', 'a', 'filter group'):
                problems[url].append(f'{where}: "名称" where 姓名 is meant')
    for where, word, context in english_in(page.strings):
        problems[url].append(f'{where}: "{word}" in "{context}"')


@pytest.fixture
def demo(app):
    from seed.demo import generate
    generate(120)


def _login(client, username, password):
    token = csrf_from(client.get('/login').get_data(as_text=True))
    resp = client.post('/login', data={'username': username, 'password': password, 'csrf_token': token})
    assert resp.status_code in (302, 303), f'{username} could not log in'


def test_every_page_of_every_role_is_in_chinese(app, demo):
    from models import User
    report, totals = [], {}
    anonymous = app.test_client()
    problems, visited, posted = crawl(app, anonymous, None, None)
    totals['anonymous'] = (visited, posted)
    for url, items in problems.items():
        report.append(f'[anonymous] {url}: ' + '; '.join(items))
    for username, password in DEMO_LOGINS:
        client = app.test_client()
        _login(client, username, password)
        role = User.get(User.username == username).role
        problems, visited, posted = crawl(app, client, username, role)
        totals[username] = (visited, posted)
        for url, items in problems.items():
            report.append(f'[{username}] {url}: ' + '; '.join(sorted(set(items))))
    print('pages visited / forms posted per account:', totals)
    assert all(v >= 3 for v, _p in totals.values()), totals
    assert not report, '\n'.join(report)


# --- what the browser draws: the date picker and Select2 -----------------------------------------

def _scripts(page):
    return re.findall(r'<script[^>]*src="([^"]+)"', page)


def test_pages_with_a_date_picker_or_select2_load_the_chinese_locale(client, users):
    """The zh-CN locale script comes after moment and Select2 and before Flask-Admin's form.js,
    on every page that draws a date picker or a Select2 box (filter, create and edit pages)."""
    from .conftest import login
    login(client, 'admin')
    pickers = 0
    for url in ('/admin/application/?flt0_0=accepted', '/admin/person/?flt0_2=2026-01-01',
                '/admin/user/new/', '/admin/enterprise/', '/admin/auditevent/'):
        page = client.get(url).get_data(as_text=True)
        scripts = [s.split('?')[0].rsplit('/', 1)[-1] for s in _scripts(page)]
        pickers += 'daterangepicker.js' in scripts and 'form.js' in scripts
        assert 'zh_locale.js' in scripts, url
        at = scripts.index('zh_locale.js')
        assert scripts.index('moment.min.js') < at and scripts.index('select2.min.js') < at, (url, scripts)
        for later in ('daterangepicker.js', 'form.js'):
            if later in scripts:
                assert scripts.index(later) > at, (url, scripts)
    assert pickers >= 3
    source = client.get('/static/js/zh_locale.js').get_data(as_text=True)
    for text in ('确定', '取消', '1月', '12月', '星期一', "'日', '一', '二'", 'dow: 1', '没有找到匹配项', '正在搜索',
                 '请再输入', '请输入值，多个值用英文逗号分隔'):
        assert text in source, text
    # no English label left in what the script sets (comments aside)
    code = re.sub(r'/\*.*?\*/|//[^\n]*', '', source, flags=re.S)
    literals = re.findall(r"'([^']*)'", code)
    assert not english_in([('zh_locale.js', lit) for lit in literals]), english_in([('js', x) for x in literals])


def test_flask_admin_messages_catalogue_is_compiled_from_its_po():
    """views/translations: the .mo Flask-Babel reads says what the .po says."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po
    folder = os.path.join(os.path.dirname(__file__), '..', 'views', 'translations', 'zh_Hans_CN', 'LC_MESSAGES')
    with open(os.path.join(folder, 'admin.po'), 'rb') as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with open(os.path.join(folder, 'admin.mo'), 'rb') as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo and 'Failed to create record.' in mo and 'Failed to save record.' in mo


def test_a_create_form_with_errors_says_so_in_chinese(client, users):
    """Flask-Admin's own flash for a form that did not validate ("Failed to create record.")."""
    from .conftest import login
    login(client, 'admin')
    body = client.get('/admin/specialty/new/').get_data(as_text=True)
    page = client.post('/admin/specialty/new/', data={'csrf_token': csrf_from(body)}).get_data(as_text=True)
    assert '新增失败：请按提示修改标红的字段。' in page and 'Failed to' not in page
    row = client.get('/admin/specialty/').get_data(as_text=True)
    edit = re.search(r'href="(/admin/specialty/edit/\?id=\d+[^"]*)"', row).group(1).replace('&amp;', '&')
    body = client.get(edit).get_data(as_text=True)
    page = client.post(edit, data={'csrf_token': csrf_from(body), 'code': '', 'name': ''}).get_data(as_text=True)
    assert '保存失败：请按提示修改标红的字段。' in page and 'Failed to' not in page


def test_booleans_and_person_names_read_as_chinese(client, users):
    from .conftest import login, make_person
    person = make_person(name='周芷若')
    login(client, 'admin')
    from models import Specialty
    specialty_id = Specialty.select(Specialty.id).order_by(Specialty.id).first().id     # ids differ by database
    page = client.get(f'/admin/specialty/details/?id={specialty_id}').get_data(as_text=True)
    assert re.search(r'<td>\s*(是|否)\s*</td>', page) and not re.search(r'>\s*(True|False)\s*<', page)
    listing = client.get('/admin/person/').get_data(as_text=True)
    assert '姓名' in listing and '>名称<' not in listing.replace(' ', '')
    detail = client.get(f'/admin/person/details/?id={person.id}').get_data(as_text=True)
    assert re.search(r'<b>\s*姓名\s*</b>|>\s*姓名\s*<', detail)
    user_form = client.get('/admin/user/new/').get_data(as_text=True)
    assert 'data-placeholder="输入关键字，搜索并选择' in user_form and '请选择模型' not in user_form


CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')


@pytest.fixture(scope='session')
def browser_type_launch_args():
    """Debian's Chromium (never a download); without it the browser check is skipped, or fails
    with REQUIRE_BROWSER=1."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get('REQUIRE_BROWSER') == '1':
            pytest.fail(f'Chromium not found at {CHROMIUM}')
        pytest.skip(f'Chromium not installed at {CHROMIUM}')
    return {'executable_path': CHROMIUM, 'headless': True,
            'args': ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                     '--disable-component-update', '--no-first-run', '--disable-sync']}


@pytest.fixture
def live_url(app):
    import threading
    from werkzeug.serving import make_server
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()


def _filter_arg(app, endpoint, data_type):
    view = next(v for v in app.extensions['registry_admin']._views if v.endpoint == endpoint)
    for index, flt in enumerate(view._filters):
        if getattr(flt, 'data_type', None) == data_type:
            return view.get_filter_arg(index, flt)
    raise AssertionError(f'{endpoint} has no {data_type} filter')


def test_the_date_picker_and_select2_speak_chinese_in_the_browser(app, users, browser, live_url):
    from .conftest import PASSWORD
    from .conftest import make_enterprise, make_person, make_registration
    make_registration(make_person(), make_enterprise())
    context = browser.new_context(locale='zh-CN')
    page = context.new_page()
    try:
        page.goto(f'{live_url}/login')
        page.fill('#username', 'admin')
        page.fill('#password', PASSWORD)
        page.click('button[type=submit]')
        page.wait_for_load_state()
        arg = _filter_arg(app, 'registration', 'datepicker')
        page.goto(f'{live_url}/admin/registration/?flt0_{arg}=2026-11-25')
        page.click('.filters input.filter-val')
        picker = page.locator('.daterangepicker:visible').first
        picker.wait_for()
        text = picker.inner_text()
        # the buttons (hidden on a single-date picker, shown on a range) carry the labels
        assert picker.locator('.applyBtn').text_content() == '确定'
        assert picker.locator('.cancelBtn').text_content() == '取消'
        assert re.search(r'一\s+二\s+三\s+四\s+五\s+六\s+日', text), text          # Monday first
        months = picker.locator('select.monthselect option').all_inner_texts()
        assert months[:3] == ['1月', '2月', '3月'] and months[-1] == '12月', months
        assert not english_in([('date picker', text)] + [('month', m) for m in months]), text

        page.goto(f'{live_url}/admin/user/new/')
        page.click('#s2id_enterprise a, #s2id_enterprise')
        drop = page.locator('#select2-drop')
        drop.wait_for()
        assert '请再输入 1 个字' in drop.inner_text(), drop.inner_text()
        page.keyboard.type('查无此企业')
        page.wait_for_function("() => /没有找到匹配项/.test(document.querySelector('#select2-drop').innerText)")
        assert not english_in([('select2', drop.inner_text())])
        placeholder = page.locator('#s2id_enterprise .select2-chosen').inner_text()
        assert placeholder.startswith('输入关键字，搜索并选择'), placeholder
    finally:
        context.close()


def test_a_date_range_filter_reads_the_chinese_separator(app, client, users):
    """The date picker writes "起 至 止"; the filter reads it as Flask-Admin's "起 to 止"."""
    from .conftest import login, make_enterprise, make_person, make_registration
    reg = make_registration(make_person(), make_enterprise())
    login(client, 'admin')
    arg = _filter_arg(app, 'registration', 'daterangepicker')
    for value, found in (('2000-01-01 至 2099-12-31', True), ('2000-01-01 to 2099-12-31', True),
                         ('2000-01-01 至 2000-01-02', False)):
        page = client.get('/admin/registration/', query_string={f'flt0_{arg}': value}).get_data(as_text=True)
        assert '无效的筛选器值' not in page, value
        assert (reg.number in page) == found, value
