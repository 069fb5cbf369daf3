"""Staff list pages drawn cheaply (issue 15): row links and queue buttons drawn once per page and filled
in per row, the staff menu drawn once per role and view, a bounded number of queries per queue page.
Each test checks what a user sees or the queries run, never time."""
import datetime
import html as htmlmod
import logging
import re

import pytest

from models import Application
from views.admin.base import SecureModelView
from views.admin.review import QueueView

from .conftest import build_application, login

ROWS = re.compile(r'<tr>(.*?)</tr>', re.S)
DETAILS = re.compile(r'href="([^"]*/details/\?[^"]*)"')


def _rows(page):
    """(details link, queue form fields, checkbox value, number cell) of each data row."""
    out = []
    for chunk in ROWS.findall(page):
        if 'action-checkbox' not in chunk:
            continue
        link = htmlmod.unescape(DETAILS.search(chunk).group(1))
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', chunk))
        button = re.search(r'<button type="submit"[^>]*title="([^"]*)"[^>]*>([^<]*)</button>', chunk)
        confirm = re.search(r'data-confirm="([^"]*)"', chunk)
        box = re.search(r'class="action-checkbox" value="(\d+)"', chunk).group(1)
        number = re.search(r'<td class="col-number">\s*(\S+)\s*</td>', chunk).group(1)
        out.append({'link': link, 'form': form, 'button': button.groups() if button else None,
                    'confirm': confirm.group(1) if confirm else None, 'box': box, 'number': number})
    return out


def _queries(caplog, fn):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger='peewee'):
        fn()
    # '/* SELECT … */ EXECUTE …': a statement prepared on the PostgreSQL server (db.Prepared)
    return [r.getMessage() for r in caplog.records if r.name == 'peewee'
            and r.getMessage().lstrip("('\"").upper().startswith(('SELECT', 'WITH', 'EXPLAIN', '/* SELECT'))]


def test_each_queue_row_links_and_decides_its_own_application(client, users):
    plain = [build_application('initial', 'accepted') for _ in range(3)]
    change = build_application('info_change', 'accepted')            # 准予变更, not 准予注册; no enterprise
    login(client, 'reviewer')
    page = client.get('/admin/review_queue/').get_data(as_text=True)
    rows = _rows(page)
    by_id = {a.id: a for a in plain + [change]}
    assert sorted(int(r['box']) for r in rows) == sorted(by_id)
    tokens = {r['form']['csrf_token'] for r in rows}
    assert len(tokens) == 1 and tokens != {''}
    for r in rows:
        app = by_id[int(r['box'])]
        assert r['number'] == app.number
        assert r['link'].startswith(f'/admin/review_queue/details/?id={app.id}&url=/admin/review_queue/')
        assert r['form']['id'] == str(app.id) and r['form']['transition'] == 'approve'
        label = '准予变更' if app.business_type == 'info_change' else '准予注册'
        assert r['button'] == (f'{label} {app.number}', label)
        assert r['confirm'] == f'确定对申请 {app.number} 执行“{label}”吗？'
        assert r['form']['next'].startswith('/admin/review_queue/')


def test_row_links_keep_the_page_they_return_to(client, users):
    """The return address of every row is the page's own, whatever it holds (even text that looks
    like the placeholder a row is drawn with)."""
    apps = [build_application('initial', 'reported') for _ in range(2)]
    login(client, 'acceptor')
    for search in ('ROWIDzq9x', 'ROWNUMzq9x', 'SQT'):
        page = client.get(f'/admin/accept_queue/?search={search}&page_size=50').get_data(as_text=True)
        rows = _rows(page)
        if search != 'SQT':
            assert rows == []
            continue
        assert sorted(int(r['box']) for r in rows) == sorted(a.id for a in apps)
        for r in rows:
            assert f'id={r["box"]}&' in r['link'] and 'search%3DSQT' in r['link'], r['link']
            assert r['form']['id'] == r['box'] and r['form']['transition'] == 'accept'
            assert htmlmod.unescape(r['form']['next']) == '/admin/accept_queue/?search=SQT&page_size=50'
            assert r['button'][1] == '受理'


ACTIVE = re.compile(r'<a class="dropdown-item active[^"]*" href="([^"]+)"')


def test_staff_menu_follows_the_role_and_the_page(client, users):
    login(client, 'reviewer')
    page = client.get('/admin/review_queue/').get_data(as_text=True)
    menu = page.split('aria-label="主菜单"')[1].split('</nav>')[0]
    assert 'href="/admin/review_queue/"' in menu and 'href="/admin/accept_queue/"' not in menu
    assert ACTIVE.findall(menu) == ['/admin/review_queue/']
    page = client.get('/admin/application/').get_data(as_text=True)
    menu = page.split('aria-label="主菜单"')[1].split('</nav>')[0]
    assert ACTIVE.findall(menu) == ['/admin/application/']
    client.post('/logout', data={'csrf_token': re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    login(client, 'acceptor')                       # the same page, another role: another menu
    page = client.get('/admin/application/').get_data(as_text=True)
    menu = page.split('aria-label="主菜单"')[1].split('</nav>')[0]
    assert 'href="/admin/accept_queue/"' in menu and 'href="/admin/review_queue/"' not in menu
    assert ACTIVE.findall(menu) == ['/admin/application/']


def test_queue_page_query_count(client, users, caplog):
    """A queue opened as it is runs the same three queries whatever its number of rows: the signed-in
    user, the bounded count, and the rows joined with their persons and enterprises. Another page of it
    is the general list's reading: five (the rows' persons and enterprises one query each, not one per
    row)."""
    for _ in range(2):
        build_application('initial', 'accepted')
    login(client, 'reviewer')
    client.get('/admin/review_queue/')                                  # warm-up
    few = _queries(caplog, lambda: client.get('/admin/review_queue/'))
    for _ in range(30):
        build_application('initial', 'accepted')
    many = _queries(caplog, lambda: client.get('/admin/review_queue/'))
    assert Application.select().where(Application.state == 'accepted').count() == 32
    assert len(few) == len(many) == 3, many
    [count] = [q for q in many if 'COUNT(1)' in q]
    assert 'JOIN' not in count
    [rows] = [q for q in many if 'FROM "application"' in q and q not in (count,)]
    assert 'JOIN "person"' in rows and 'JOIN "enterprise"' in rows
    second = _queries(caplog, lambda: client.get('/admin/review_queue/?page=1'))
    assert len(second) == 5, second
    assert len([q for q in second if 'FROM "person"' in q]) == 1
    assert len([q for q in second if 'FROM "enterprise"' in q]) == 1


@pytest.fixture
def small_count_limit(app):
    old = app.config.get('LIST_EXACT_COUNT_LIMIT')
    app.config['LIST_EXACT_COUNT_LIMIT'] = 5
    yield
    app.config['LIST_EXACT_COUNT_LIMIT'] = old if old is not None else 1000


@pytest.mark.parametrize('queue, state, role', [('review_queue', 'accepted', 'reviewer'),
                                                ('accept_queue', 'reported', 'acceptor')])
@pytest.mark.parametrize('limited', [False, True])
def test_an_opened_queue_shows_what_the_general_list_shows(client, users, monkeypatch, request, queue, state,
                                                            role, limited):
    """The opened queue's own statements (composed once) give the page the general list reading gives:
    the same rows in the same order, the same count label and the same pager, with few rows and with
    more than the exact-count limit (a page and a next page)."""
    if limited:
        request.getfixturevalue('small_count_limit')
    today = datetime.date.today()
    for i in range(25):
        app = build_application('initial' if i % 3 else 'info_change', state)
        # deadlines and 上报 dates out of id order, some equal (the id decides), one 上报 date missing
        Application.update(deadline=today + datetime.timedelta(days=(i * 7) % 5 - 2),
                           reported_at=None if i == 4 else datetime.datetime(2026, 1, 1 + (i * 5) % 7, 9)) \
            .where(Application.id == app.id).execute()
    login(client, role)
    url = f'/admin/{queue}/'
    fast = client.get(url).get_data(as_text=True)
    monkeypatch.setattr(QueueView, '_bounded_list', SecureModelView._bounded_list)
    general = client.get(url).get_data(as_text=True)
    assert [r['number'] for r in _rows(fast)] == [r['number'] for r in _rows(general)]
    assert len(_rows(fast)) == 20
    label = re.compile(r'<span class="list-count">([^<]*)</span>')
    assert label.findall(fast) == label.findall(general) != []
    shown = label.findall(fast)[0]
    assert (shown == '超过 5 条' or shown.endswith('条（估算）')) if limited else shown == '共 25 条'
    pager = re.compile(r'<ul class="pagination[^"]*">(.*?)</ul>', re.S)
    assert pager.findall(fast) == pager.findall(general) != []
    assert re.search(r'href="[^"]*page=1[^"]*"', pager.findall(fast)[0])          # the next page is offered
    # the same cells: person (name and masked ID number), enterprise, deadline badge
    cells = re.compile(r'<td class="col-(?:person|enterprise|deadline|state|business_type)">(.*?)</td>', re.S)
    assert cells.findall(fast) == cells.findall(general)


def test_list_menu_and_headings_follow_the_query_string(client, users, monkeypatch):
    """The list's menu, filter form and column headings are drawn once per view, role and query string
    and reused: what one query string drew never shows on another."""
    for _ in range(3):
        build_application('initial', 'accepted')
    login(client, 'reviewer')
    plain = client.get('/admin/review_queue/').get_data(as_text=True)
    sorted_page = client.get('/admin/review_queue/?sort=0&desc=1').get_data(as_text=True)
    searched = client.get('/admin/review_queue/?search=SQT').get_data(as_text=True)
    again = client.get('/admin/review_queue/').get_data(as_text=True)
    chevron = 'glyphicon-chevron-down'

    def head(page):
        return page.split('<thead>')[1].split('</thead>')[0]
    assert chevron not in head(plain) and chevron in head(sorted_page) and chevron not in head(again)
    assert head(plain) == head(again)
    assert 'name="sort" value="0"' in sorted_page and 'name="sort"' not in plain
    assert 'name="search" value="SQT"' in searched and 'name="search" value=""' in plain
    assert 'name="search" value="SQT"' not in again
    # the cache is bounded, and a long query string is drawn without being kept
    admin = next(v for v in app_views(client) if getattr(v, 'endpoint', None) == 'review_queue')
    monkeypatch.setattr(type(admin), 'VARYING_FRAGMENTS_MAX', 6)
    for i in range(10):
        assert client.get(f'/admin/review_queue/?search=Q{i}').status_code == 200
        assert len(admin.admin._staff_fragments_varying) <= 6
    kept = len(admin.admin._staff_fragments_varying)
    long_search = 'Q' * 600
    page = client.get(f'/admin/review_queue/?search={long_search}').get_data(as_text=True)
    assert f'value="{long_search}"' in page
    assert not any(long_search.encode() in key[-1] for key in admin.admin._staff_fragments_varying)
    assert len(admin.admin._staff_fragments_varying) in (kept, 0)


def app_views(client):
    return client.application.extensions['admin'][0]._views


def test_queue_page_asks_a_visitor_to_sign_in_and_refuses_another_role(client, users):
    r = client.get('/admin/review_queue/')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    login(client, 'acceptor')
    assert client.get('/admin/review_queue/').status_code == 403


CELL = re.compile(r'<td class="(col-[^"]*)">(.*?)</td>', re.S)


def _cells(page):
    return [(cls, re.sub(r'\s+', ' ', text).strip()) for cls, text in CELL.findall(page)]


def test_every_list_draws_the_cells_flask_admin_draws(app, monkeypatch):
    """The list rows' cells drawn in one call (SecureModelView._cells_drawer) are the cells Flask-Admin's
    own loop draws with get_value(row, c) (its formatters, choices, type formatters and escaping), on
    every list page every demo account can open."""
    from seed.demo import DEMO_ACCOUNTS, generate
    generate(60)
    views = [v for v in app.extensions['admin'][0]._views if isinstance(v, SecureModelView)]
    compared = set()
    for username, password, *_rest in DEMO_ACCOUNTS:
        client = app.test_client()
        login(client, username, password)
        for view in views:
            url = f'/admin/{view.endpoint}/'
            fast = client.get(url)
            if fast.status_code != 200:
                continue
            with monkeypatch.context() as m:
                m.setattr(SecureModelView, '_cells_drawer', lambda self, columns: None)
                slow = client.get(url).get_data(as_text=True)
            fast_cells, slow_cells = _cells(fast.get_data(as_text=True)), _cells(slow)
            assert fast_cells == slow_cells, (username, url)
            if fast_cells:
                compared.add(view.endpoint)
    # the lists with rows in the demo data, queues and registry lists among them
    assert {'application', 'registration', 'person', 'enterprise', 'review_queue'} <= compared, compared


def test_a_type_formatter_of_two_arguments_is_still_called_as_flask_admin_calls_it(app, monkeypatch):
    """Flask-Admin still accepts an old type formatter taking (view, value): the one-call cells do too."""
    import warnings
    from .conftest import make_person
    person = make_person(name='庚七')
    view = next(v for v in app.extensions['admin'][0]._views if getattr(v, 'endpoint', '') == 'person')
    monkeypatch.setattr(view, 'column_type_formatters', {str: lambda v, value: f'[{value}]'})
    monkeypatch.setattr(view, '_list_type_formatter_of', {}, raising=False)
    with app.test_request_context(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert view._list_value(None, person, 'name') == '[庚七]'


def test_the_staff_layout_cache_is_bounded_whatever_script_root_a_client_sends(client, users, monkeypatch):
    """The staff layout's fragments are keyed by the script root, which a proxy's X-Forwarded-Prefix can
    set: a client sending a new one on every request does not grow the cache, and each page still gets
    its own prefix in its menu."""
    login(client, 'reviewer')
    view = next(v for v in app_views(client) if getattr(v, 'endpoint', None) == 'review_queue')
    monkeypatch.setattr(SecureModelView, 'STAFF_FRAGMENTS_MAX', 8)
    for i in range(12):
        page = client.get('/admin/review_queue/', base_url=f'http://localhost/s{i}/')
        assert page.status_code == 200
        assert f'href="/s{i}/admin/' in page.get_data(as_text=True)
        assert len(view.admin.__dict__.get('_staff_fragments', {})) <= 8
