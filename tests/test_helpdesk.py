"""Helpdesk lookups: each key, masking, standard answers, the lookup log, read-only."""
import datetime
import re

from backoffice.desks import helpdesk
from backoffice.validators import mask_id_number
from backoffice.workflow import transitions
from models import Application, ExternalRegistration, LookupLog, Qualification

from .conftest import build_application, csrf_from, login, make_enterprise, make_person, make_registration


def _without_box(page):
    """The page without the search box's input (which keeps what the user typed)."""
    import re
    return re.sub(r'<input[^>]*name="q"[^>]*>', '', page)


def _page(client, q):
    return client.get('/admin/helpdesk/', query_string={'q': q}).get_data(as_text=True)


def test_lookup_by_each_key(client, users):
    from stdnum.cn import ric
    body = '11010519800101123'
    x_number = body + ric.calc_check_digit(body + '0')
    if not x_number.endswith('X'):                    # find a number ending in X for the case test
        for seq in range(100, 999):
            body = f'11010519800101{seq}'
            if ric.calc_check_digit(body + '0') == 'X':
                x_number = body + 'X'
                break
    from models import Person
    from backoffice.validators import id_number_facts
    birth, gender = id_number_facts(x_number)
    person = Person.create(id_number=x_number, name='赵敏', birth_date=birth, gender=gender, mobile='13912345678')
    reg = make_registration(person, make_enterprise())
    login(client, 'helpdesk')
    for q in (x_number.lower(), x_number, f'{reg.number}({reg.seal_check:02d})', reg.number):
        page = _page(client, q)
        assert 'id="person-summary"' in page, q
        assert f'value="{q}"' in page                       # the query stays in the box (issue 13)...
        page = _without_box(page)                           # ...and nowhere else is the number whole
        assert x_number not in page and mask_id_number(x_number) in page
        assert x_number[6:14] not in page and str(birth) not in page          # no birth date beside it
        assert '13912345678' not in page and '139****5678' in page
    twin = make_person(name='赵敏')
    page = _page(client, '赵敏')
    assert 'id="matches"' in page and page.count('查看</a>') == 2
    assert str(birth) not in page and str(twin.birth_date) not in page and mask_id_number(twin.id_number) in page
    link = re.search(rf'href="(/admin/helpdesk/person/{twin.id}\?[^"]*)"', page).group(1).replace('&amp;', '&')
    page = client.get(link).get_data(as_text=True)
    assert 'id="person-summary"' in page
    cert_numbers = [q.cert_number for q in Qualification.select().where(Qualification.person == twin)]
    assert cert_numbers and not any(c in page for c in cert_numbers)   # the sign-up factor is not read out
    assert LookupLog.select().where(LookupLog.kind == 'id_number').count() == 2
    assert LookupLog.select().where(LookupLog.kind == 'reg_number').count() == 2
    log = LookupLog.select().where(LookupLog.kind == 'name').get()
    assert log.results == 2 and log.user_id == users['helpdesk'].id
    assert LookupLog.select().where((LookupLog.kind == 'person') & (LookupLog.person_id == twin.id)).count() == 1


def test_a_lookup_by_id_number_logs_one_row_for_the_person(client, users):
    """The lookup log's row of a lookup by ID number (on PostgreSQL written by the lookup's own
    statement) counts people, not the rows the lookup reads (one per registered specialty), and names
    the person found; an unknown number is logged with no person."""
    person = make_person()
    make_registration(person, make_enterprise(), ('建筑工程', '市政公用工程', '机电工程'))
    unknown = '11010519491231002X'
    login(client, 'helpdesk')
    assert 'id="person-summary"' in _page(client, person.id_number)
    assert 'id="no-match"' in _page(client, unknown)
    rows = list(LookupLog.select().where(LookupLog.kind == 'id_number').order_by(LookupLog.id))
    assert [(r.query, r.results, r.person_id, r.user_id) for r in rows] == [
        (mask_id_number(person.id_number), 1, person.id, users['helpdesk'].id),
        (mask_id_number(unknown), 0, None, users['helpdesk'].id)]
    assert all(r.created_at is not None for r in rows)


def test_malformed_queries_get_messages(client, users):
    login(client, 'helpdesk')
    cases = {'110105194912310021': '身份证号码校验位不正确', '1101051949': '请输入18位身份证号',
             '京11105070000': '请输入18位身份证号', '   ': '请输入身份证号、注册编号或姓名',
             "' OR 1=1 --": '请输入18位身份证号'}
    for q, message in cases.items():
        page = _page(client, q)
        assert message in page, q
    assert 'id="no-match"' in _page(client, '不存在的人')


def test_standard_answers(users):
    app = build_application('initial', 'submitted')
    summary = helpdesk.person_summary(app.person)
    assert any('企业尚未上报' in a and app.enterprise.name in a for a in summary['answers'])
    Qualification.update(holder_name='别名').where(Qualification.person == app.person).execute()
    ExternalRegistration.create(id_number=app.person.id_number, name='x', category='二级建造师', reg_number='R1',
                                enterprise_name='外省公司')
    answers = helpdesk.person_summary(app.person)['answers']
    assert '信息修改或材料补充' in answers[0] and '常见问题9' in answers[1]
    acc = build_application('initial', 'reported')
    transitions.perform(acc, 'accept', users['acceptor'])
    answers = helpdesk.person_summary(acc.person)['answers']
    assert any('正在审查，办理期限至' in a and '个工作日' in a for a in answers)
    Application.update(deadline=datetime.date.today() - datetime.timedelta(days=1)).where(
        Application.id == acc.id).execute()
    assert any('已超过办理期限' in a for a in helpdesk.person_summary(acc.person)['answers'])


def test_helpdesk_reads_but_changes_nothing(client, users):
    app = build_application('initial', 'reported')
    login(client, 'helpdesk')
    page = client.get('/admin/helpdesk/').get_data(as_text=True)
    token = csrf_from(page)
    assert client.get('/admin/application/').status_code == 403
    r = client.post('/admin/application/transition/', data={'id': app.id, 'transition': 'accept',
                                                            'csrf_token': token})
    assert r.status_code == 403 and Application.get_by_id(app.id).state == 'reported'
    assert client.get('/admin/lookuplog/').status_code == 403
    supervisor = client.application.test_client()
    login(supervisor, 'supervisor')
    _page(supervisor, app.person.name)
    assert app.person.name in supervisor.get('/admin/lookuplog/').get_data(as_text=True) or \
        LookupLog.select().count() >= 1
    assert supervisor.get('/admin/lookuplog/').status_code == 200


def test_helpdesk_shows_the_mobile_verified_at_sign_up(password_hash):
    from tests.conftest import make_person, make_user
    person = make_person()                       # seeded mobile 13800138000
    make_user('signed', password_hash, role='applicant', person=person, mobile='13912345678')
    shown = helpdesk.person_summary(person)['mobile']
    assert shown.endswith('5678') and not shown.endswith('8000')
