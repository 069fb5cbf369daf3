"""The helpdesk's home page is its search box; the query stays in the box after a search; the
timeline of each application has column headers and names the enterprise (issue 13)."""
import re

from backoffice.validators import mask_id_number
from backoffice.workflow import transitions

from .conftest import build_application, login, make_enterprise, make_person, make_registration

BOX = re.compile(r'<form[^>]*id="helpdesk-box"[^>]*>(.*?)</form>', re.S)


def _box(page):
    """(form tag's action, the q input tag) of the page's helpdesk box; None when there is none."""
    form = re.search(r'<form[^>]*id="helpdesk-box"[^>]*>', page)
    if form is None:
        return None
    action = re.search(r'action="([^"]*)"', form.group(0)).group(1)
    box = BOX.search(page).group(1)
    field = re.search(r'<input[^>]*name="q"[^>]*>', box).group(0)
    assert '<label for="q"' in box
    return action, field


def _value(field):
    m = re.search(r'value="([^"]*)"', field)
    return m.group(1) if m else None


def test_the_helpdesk_home_is_the_search_box(client, users):
    resp = login(client, 'helpdesk')
    assert resp.headers['Location'].endswith('/admin/')
    page = client.get('/admin/').get_data(as_text=True)
    box = _box(page)
    assert box is not None, 'no search box on the helpdesk home'
    action, field = box
    assert action == '/admin/helpdesk/' and 'autofocus' in field and _value(field) == ''
    # the box works from the home page: it searches
    person = make_person(name='钱多多')
    page = client.get(action, query_string={'q': '钱多多'}).get_data(as_text=True)
    assert 'id="person-summary"' in page or 'id="matches"' in page
    assert person.name in page


def test_other_roles_homes_have_no_helpdesk_box(app, users):
    for username in ('acceptor', 'reviewer', 'admin'):
        client = app.test_client()
        login(client, username)
        page = client.get('/admin/').get_data(as_text=True)
        assert '工作台' in page and _box(page) is None, username


def test_the_query_stays_in_the_box(client, users):
    enterprise = make_enterprise(name='北京长城建设集团有限公司')
    person = make_person(name='孙丽')
    reg = make_registration(person, enterprise)
    twin = make_person(name='孙丽')
    login(client, 'helpdesk')
    for q in (person.id_number, reg.number, '孙丽', '查无此人', '1101'):
        page = client.get('/admin/helpdesk/', query_string={'q': q}).get_data(as_text=True)
        assert _value(_box(page)[1]) == q, q
    # an ID number stays in the box only: the page shows it masked
    page = client.get('/admin/helpdesk/', query_string={'q': person.id_number}).get_data(as_text=True)
    outside = page.replace(_box(page)[1], '')
    assert person.id_number not in outside and mask_id_number(person.id_number) in outside
    # from the list of namesakes to one person's page: the name is still in the box
    page = client.get('/admin/helpdesk/', query_string={'q': '孙丽'}).get_data(as_text=True)
    link = re.search(rf'href="(/admin/helpdesk/person/{twin.id}[^"]*)"', page).group(1).replace('&amp;', '&')
    page = client.get(link).get_data(as_text=True)
    assert 'id="person-summary"' in page and _value(_box(page)[1]) == '孙丽'


def test_the_timeline_has_headers_and_the_enterprise_name(client, users):
    enterprise = make_enterprise(name='上海浦江路桥工程有限公司')
    app = build_application('initial', 'submitted', enterprise=enterprise)
    transitions.perform(app, 'report', _enterprise_user(enterprise))
    login(client, 'helpdesk')
    page = client.get('/admin/helpdesk/', query_string={'q': app.person.id_number}).get_data(as_text=True)
    table = re.search(r'<table[^>]*class="[^"]*timeline[^"]*"[^>]*>(.*?)</table>', page, re.S)
    assert table, 'no timeline table'
    headers = re.findall(r'<th[^>]*>(.*?)</th>', re.search(r'<thead>(.*?)</thead>', table.group(1), re.S).group(1))
    assert headers == ['时间', '办理方', '环节', '意见']
    rows = re.findall(r'<tr>(.*?)</tr>', re.search(r'<tbody>(.*?)</tbody>', table.group(1), re.S).group(1), re.S)
    assert len(rows) >= 2
    # the enterprise's step names the enterprise, and the card says which enterprise it is
    assert any('企业（上海浦江路桥工程有限公司）' in row for row in rows)
    assert '聘用企业：<span class="app-enterprise">上海浦江路桥工程有限公司</span>' in page


def _enterprise_user(enterprise):
    from models import User
    return User.create(username=f'ent{enterprise.id}', name='经办人', password_hash='x', role='enterprise',
                       enterprise=enterprise)
