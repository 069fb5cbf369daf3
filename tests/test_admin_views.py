"""Every back-office view opened by every role; bad input in the forms; no 500s."""
import datetime

import pytest

from backoffice.roles import ROLES
from models import Application, AuditEvent, Enterprise, Person, Qualification, User

from .conftest import build_application, login, make_enterprise, make_person, make_user, post_form

STAFF_READ = {'admin', 'acceptor', 'reviewer', 'supervisor'}
EXPECTED_READ = {
    'application': STAFF_READ, 'material': STAFF_READ, 'notice': STAFF_READ, 'noticeitem': STAFF_READ,
    'person': STAFF_READ, 'qualification': STAFF_READ, 'externalregistration': STAFF_READ,
    'province': STAFF_READ, 'specialty': STAFF_READ, 'refusalground': STAFF_READ,
    'cancellationreason': STAFF_READ,
    'registration': STAFF_READ | {'provincial'}, 'registeredspecialty': STAFF_READ | {'provincial'},
    'certificate': STAFF_READ | {'provincial'}, 'enterprise': STAFF_READ | {'provincial'},
    'auditevent': {'admin', 'supervisor', 'acceptor', 'reviewer'},
    'user': {'admin'},
    'accept_queue': {'acceptor'}, 'review_queue': {'reviewer'},
    # joint review (issue 11)
    'joint_review': {'joint_reviewer'}, 'joint_progress': {'reviewer'},
    'print': {'provincial', 'admin'}, 'printlog': {'provincial', 'admin', 'supervisor'},
    'helpdesk': {'helpdesk', 'admin', 'supervisor'}, 'lookuplog': {'supervisor', 'admin'},
    'dashboard': {'supervisor', 'admin', 'provincial'}, 'exports': {'supervisor', 'admin', 'provincial'},
    'imports': {'admin', 'acceptor'}, 'job': {'supervisor', 'admin', 'provincial', 'acceptor'},
    # notifications (issue 12)
    'notification': {'admin', 'supervisor'}, 'notificationtemplate': {'admin'},
    'enterprisesignup': {'admin', 'acceptor'},
    # open API (issue 14)
    'apiclient': {'admin'}, 'apireadlog': {'admin', 'supervisor'},
}
NOT_MODEL_VIEWS = {'print', 'helpdesk', 'dashboard', 'exports', 'imports', 'job'}
EXPECTED_CREATE = {
    'person': {'admin', 'acceptor'}, 'qualification': {'admin', 'acceptor'}, 'enterprise': {'admin', 'acceptor'},
    'province': {'admin'}, 'specialty': {'admin'}, 'refusalground': {'admin'}, 'cancellationreason': {'admin'},
    'externalregistration': {'admin'}, 'user': {'admin'}, 'apiclient': {'admin'},
}
ROLE_ACCOUNT = {'admin': 'admin', 'acceptor': 'acceptor', 'reviewer': 'reviewer', 'provincial': 'provincial',
                'supervisor': 'supervisor', 'helpdesk': 'helpdesk', 'joint_reviewer': 'joint_reviewer',
                'enterprise': 'ent', 'applicant': 'app'}


@pytest.fixture
def logged_in(client, users, password_hash):
    def as_role(role):
        if role == 'enterprise' and not User.get_or_none(User.username == 'ent'):
            make_user('ent', password_hash, role='enterprise', enterprise=make_enterprise())
        if role == 'applicant' and not User.get_or_none(User.username == 'app'):
            make_user('app', password_hash, role='applicant', person=make_person())
        r = login(client, ROLE_ACCOUNT[role])
        assert r.status_code == 302, r.get_data(as_text=True)
        return client
    return as_role


def test_every_view_is_registered(app):
    endpoints = {v.endpoint for v in app.extensions['registry_admin']._views} - {'admin'}
    assert endpoints == set(EXPECTED_READ)


@pytest.mark.parametrize('role', list(ROLES))
def test_view_access_matrix(logged_in, role):
    client = logged_in(role)
    staff = role in ('admin', 'acceptor', 'reviewer', 'provincial', 'supervisor', 'helpdesk', 'joint_reviewer')
    assert client.get('/admin/').status_code == (200 if staff else 403)
    for endpoint, roles in EXPECTED_READ.items():
        r = client.get(f'/admin/{endpoint}/')
        assert r.status_code == (200 if role in roles else 403), (endpoint, role)
        if r.status_code == 403:
            assert '无权访问' in r.get_data(as_text=True)
        if endpoint in NOT_MODEL_VIEWS:
            continue
        r = client.get(f'/admin/{endpoint}/new/')
        assert r.status_code == (200 if role in EXPECTED_CREATE.get(endpoint, ()) else 403), (endpoint, role)


def test_anonymous_is_sent_to_login(client):
    for endpoint in EXPECTED_READ:
        r = client.get(f'/admin/{endpoint}/')
        assert r.status_code == 302 and '/login' in r.headers['Location']


def test_no_delete_anywhere(logged_in):
    client = logged_in('admin')
    person = make_person()
    r = post_form(client, '/admin/person/delete/', {'id': person.id}, page='/admin/person/')
    assert r.status_code == 403
    assert Person.get_or_none(Person.id == person.id) is not None


def test_read_only_roles_cannot_edit(logged_in):
    person = make_person()
    client = logged_in('supervisor')
    assert client.get(f'/admin/person/edit/?id={person.id}').status_code == 403
    assert client.get(f'/admin/person/details/?id={person.id}').status_code == 200


def test_provincial_officer_sees_only_own_province(logged_in):
    bj = make_enterprise(code='11', name='北京测试建工')
    sh = make_enterprise(code='31', name='上海测试建工')
    client = logged_in('provincial')
    page = client.get('/admin/enterprise/').get_data(as_text=True)
    assert '北京测试建工' in page and '上海测试建工' not in page
    assert client.get(f'/admin/enterprise/details/?id={bj.id}').status_code == 200
    assert client.get(f'/admin/enterprise/details/?id={sh.id}').status_code == 403


def test_malformed_ids_never_500(logged_in):
    client = logged_in('admin')
    for url in ('/admin/person/details/?id=abc', '/admin/person/edit/?id=%27%3B--', '/admin/person/details/?id=',
                '/admin/application/details/?id=9999999', '/admin/person/?page=abc', '/admin/person/?sort=zz',
                '/admin/person/?search=%25%25%25', '/admin/application/?flt0_0=nonsense'):
        assert client.get(url).status_code in (200, 302), url


def _person_form(**kw):
    data = {'id_number': '11010519491231002X', 'name': '李娜', 'ethnicity': '汉族', 'school': '同济大学',
            'major': '土木工程', 'education': '本科', 'graduation_date': '1972-07-01', 'mobile': '13800138000'}
    data.update(kw)
    return data


def test_person_create_derives_birth_and_gender(logged_in):
    client = logged_in('acceptor')
    r = post_form(client, '/admin/person/new/', _person_form())
    assert r.status_code == 302
    p = Person.get(Person.id_number == '11010519491231002X')
    assert (str(p.birth_date), p.gender) == ('1949-12-31', '女')
    assert AuditEvent.get(AuditEvent.object_type == 'person').action == 'create'


@pytest.mark.parametrize('field,value,message', [
    ('id_number', '110105194912310021', '身份证号码校验位不正确，请核对后重新输入'),
    ('id_number', '', '请填写身份证号码'),
    ('mobile', '12345', '手机号码应为11位，以1开头'),
    ('graduation_date', '2020-02-31', '日期无效，请按“年-月-日”填写'),
    ('education', '小学', '不是有效的选择'),
])
def test_person_bad_input_message_at_field(logged_in, field, value, message):
    client = logged_in('acceptor')
    r = post_form(client, '/admin/person/new/', _person_form(**{field: value}))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert message in html
    assert Person.select().count() == 0


def test_duplicate_person_is_refused(logged_in):
    client = logged_in('acceptor')
    assert post_form(client, '/admin/person/new/', _person_form()).status_code == 302
    r = post_form(client, '/admin/person/new/', _person_form(name='另一人'), page='/admin/person/new/')
    assert '该身份证号码的人员已存在' in r.get_data(as_text=True)
    assert Person.select().count() == 1


def test_edit_keeps_saved_data_on_bad_input(logged_in):
    client = logged_in('acceptor')
    post_form(client, '/admin/person/new/', _person_form())
    p = Person.get()
    url = f'/admin/person/edit/?id={p.id}'
    r = post_form(client, url, _person_form(mobile='999'))
    assert '手机号码应为11位' in r.get_data(as_text=True)
    assert Person.get_by_id(p.id).mobile == '13800138000'


def _enterprise_form(**kw):
    from models import Province
    data = {'uscc': '91110000600037341L', 'name': '北京测试建设集团有限公司', 'legal_rep': '王强',
            'province': str(Province.get(Province.code == '11').id), 'city': '北京市', 'address': '长安街1号'}
    data.update(kw)
    return data


@pytest.mark.parametrize('field,value,message', [
    ('uscc', '91110000600037341A', '统一社会信用代码校验位不正确'),
    ('uscc', '9111000060003734', '统一社会信用代码长度不正确'),
    ('province', '99999', '不是有效的选择'),
    ('legal_rep', '', '请填写法定代表人'),
])
def test_enterprise_bad_input(logged_in, field, value, message):
    client = logged_in('acceptor')
    r = post_form(client, '/admin/enterprise/new/', _enterprise_form(**{field: value}))
    assert message in r.get_data(as_text=True)
    assert Enterprise.select().count() == 0


def test_enterprise_duplicate_and_verification_time(logged_in):
    client = logged_in('admin')
    assert post_form(client, '/admin/enterprise/new/', _enterprise_form(verified='y')).status_code == 302
    assert Enterprise.get().verified_at is not None
    r = post_form(client, '/admin/enterprise/new/', _enterprise_form(uscc='91110000600037341l'))
    assert '该统一社会信用代码的企业已存在' in r.get_data(as_text=True)


def test_qualification_unknown_specialty_and_future_date(logged_in):
    client = logged_in('acceptor')
    data = {'cert_number': 'ZG1', 'holder_name': '李娜', 'holder_id_number': '11010519491231002X',
            'specialty': '999', 'issue_date': '2020-01-01'}
    r = post_form(client, '/admin/qualification/new/', data)
    assert '不是有效的选择' in r.get_data(as_text=True)
    from .conftest import specialty
    data.update(specialty=str(specialty('建筑工程').id), issue_date='2999-01-01')
    r = post_form(client, '/admin/qualification/new/', data)
    assert '签发日期不能晚于今天' in r.get_data(as_text=True)
    assert Qualification.select().count() == 0


def test_user_admin_password_rules(logged_in):
    client = logged_in('admin')
    data = {'username': 'newone', 'name': '新用户', 'role': 'acceptor', 'password': '1234567890'}
    r = post_form(client, '/admin/user/new/', data)
    assert '密码须同时包含字母和数字' in r.get_data(as_text=True)
    data.update(role='provincial', password='Abcdef123xyz')
    r = post_form(client, '/admin/user/new/', data)
    assert '省级主管部门账号须指定省份' in r.get_data(as_text=True)
    data.update(role='acceptor')
    assert post_form(client, '/admin/user/new/', data).status_code == 302
    assert User.get(User.username == 'newone').password_hash != 'Abcdef123xyz'


def test_application_detail_shows_trail_and_decides_through_workflow(logged_in, users):
    app_row = build_application('initial', 'reported')
    client = logged_in('acceptor')
    url = f'/admin/application/details/?id={app_row.id}'
    page = client.get(url).get_data(as_text=True)
    assert '受理' in page and '要求补正' in page
    r = post_form(client, '/admin/application/transition/', {'id': app_row.id, 'transition': 'accept'}, page=url)
    assert r.status_code == 302
    assert Application.get_by_id(app_row.id).state == 'accepted'
    page = client.get(url).get_data(as_text=True)
    assert '办理记录' in page and '待受理 → 审查中' in page
    # the acceptor cannot decide (role), and a reviewer who accepted cannot either
    r = post_form(client, '/admin/application/transition/', {'id': app_row.id, 'transition': 'approve'}, page=url)
    assert r.status_code == 403
    assert Application.get_by_id(app_row.id).state == 'accepted'


def test_refuse_without_ground_shows_message(logged_in, users):
    app_row = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    client = logged_in('reviewer')
    url = f'/admin/application/details/?id={app_row.id}'
    r = post_form(client, '/admin/application/transition/', {'id': app_row.id, 'transition': 'refuse'}, page=url)
    assert r.status_code == 200                      # answered on the page, the message at the grounds
    page = r.get_data(as_text=True)
    assert 'invalid-feedback d-block field-error">不予注册须至少选择一项依据' in page
    assert Application.get_by_id(app_row.id).state == 'accepted'


def test_transition_with_bad_id_is_not_500(logged_in):
    client = logged_in('reviewer')
    r = post_form(client, '/admin/application/transition/', {'id': 'x', 'transition': 'approve'},
                  page='/admin/application/')
    assert r.status_code == 302


def test_exact_search_by_id_number(logged_in):
    a = make_person(name='甲')
    make_person(name='乙')
    client = logged_in('reviewer')
    import re
    names = lambda html: re.findall(r'<td class="col-name">\s*(\S+)\s*</td>', html)
    assert sorted(names(client.get('/admin/person/').get_data(as_text=True))) == ['乙', '甲']
    page = client.get(f'/admin/person/?search={a.id_number.lower()}').get_data(as_text=True)
    assert names(page) == ['甲']


@pytest.mark.parametrize('value', ['abc', '', '1.5', '-3'])
def test_a_select_value_that_is_no_id_is_a_field_error_not_a_500(logged_in, users, value):
    """wtf-peewee looks the value up as a primary key: on PostgreSQL 'abc' was a database error."""
    client = logged_in('admin')
    user = users['acceptor']
    r = post_form(client, f'/admin/user/edit/?id={user.id}',
                  {'username': user.username, 'name': user.name, 'role': user.role, 'province': value,
                   'mobile': '', 'password': '', 'active': 'y'})
    assert r.status_code in (200, 302)
    if r.status_code == 200:
        assert '不是有效的选择' in r.get_data(as_text=True)


def test_staff_pages_show_no_birth_date_beside_a_masked_id_number(logged_in):
    """Domain §14: the 8 hidden digits of the old mask were the birth date; none of it shows next to it."""
    from .conftest import make_person
    person = make_person(birth=datetime.date(1979, 3, 14))
    for k, q in enumerate(Qualification.select().where(Qualification.person == person)):
        q.cert_number = f'ZG2019{person.id:06d}{k}'     # test certificate numbers carry the ID number
        q.save()
    client = logged_in('admin')
    born = person.birth_date.isoformat()
    for url in ('/admin/person/', f'/admin/person/details/?id={person.id}'):
        page = client.get(url).get_data(as_text=True)
        assert person.id_number not in page and born not in page, url
    app_row = build_application('initial', 'reported', person=person)
    page = client.get(f'/admin/application/details/?id={app_row.id}').get_data(as_text=True)
    assert person.id_number not in page and born not in page


@pytest.mark.parametrize('username,url', [('supervisor', '/admin/dashboard/'), ('supervisor', '/admin/exports/'),
                                          ('admin', '/admin/imports/'), ('admin', '/admin/'),
                                          ('provincial', '/admin/print/'), ('helpdesk', '/admin/helpdesk/'),
                                          ('admin', '/admin/application/'), ('admin', '/admin/person/')])
def test_each_page_has_its_heading_once(client, users, username, url):
    """A page that draws its own heading does not get Flask-Admin's view-name heading above it too."""
    import re
    login(client, username)
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    headings = [re.sub(r'<[^>]+>|\s+', '', h) for h in
                re.findall(r'<h[1-4][^>]*>(.*?)</h[1-4]>', r.get_data(as_text=True), re.S)]
    assert headings, url
    assert len(headings[:2]) == len(set(headings[:2])) and not (
        len(headings) > 1 and headings[1].startswith(headings[0])), (url, headings[:3])


def test_a_filter_value_the_database_refuses_is_a_message_not_a_500(client, users):
    """Text where a number filter expects an id (PostgreSQL raises DataError; SQLite compares)."""
    login(client, 'admin')
    r = client.get('/admin/qualification/?flt0_0=1?flt0_0=1&search=%E5%BC%A0')
    assert r.status_code == 200
    assert client.get('/admin/qualification/').status_code == 200        # the connection is usable again
