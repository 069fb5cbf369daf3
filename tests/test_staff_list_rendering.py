"""Staff list pages drawn cheaply (issue 15): row links and queue buttons drawn once per page and filled
in per row, the staff menu drawn once per role and view, a bounded number of queries per queue page.
Each test checks what a user sees or the queries run, never time."""
import html as htmlmod
import logging
import re

from models import Application

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
    """A queue page runs the same five queries whatever its number of rows: the signed-in user, the
    bounded count, the rows, their persons and their enterprises (one query each, not one per row)."""
    for _ in range(2):
        build_application('initial', 'accepted')
    login(client, 'reviewer')
    client.get('/admin/review_queue/')                                  # warm-up
    few = _queries(caplog, lambda: client.get('/admin/review_queue/'))
    for _ in range(10):
        build_application('initial', 'accepted')
    many = _queries(caplog, lambda: client.get('/admin/review_queue/'))
    assert Application.select().where(Application.state == 'accepted').count() == 12
    assert len(few) == len(many) == 5, many
    assert len([q for q in many if 'FROM "person"' in q]) == 1
    assert len([q for q in many if 'FROM "enterprise"' in q]) == 1


def test_queue_page_asks_a_visitor_to_sign_in_and_refuses_another_role(client, users):
    r = client.get('/admin/review_queue/')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    login(client, 'acceptor')
    assert client.get('/admin/review_queue/').status_code == 403
