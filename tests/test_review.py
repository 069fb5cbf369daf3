"""Review queues, per-row and batch decisions, the reviewer's page, refusal notices."""
import datetime
import re

from backoffice.workflow import transitions
from models import Application, AuditEvent, RefusalGround

from .conftest import (actor_for, build_application, login, make_enterprise, make_user, pdf_text, post_form,
                       render_first_page)


def _numbers(html):
    """The application numbers of the list's rows, in display order."""
    return re.findall(r'<td class="col-number">\s*(SQT\d{12})', html)


def test_accept_queue_shows_only_waiting_oldest_first(client, users):
    old = build_application('initial', 'reported')
    new = build_application('renewal', 'reported')
    Application.update(reported_at=datetime.datetime(2026, 1, 2)).where(Application.id == old.id).execute()
    Application.update(reported_at=datetime.datetime(2026, 3, 1)).where(Application.id == new.id).execute()
    build_application('initial', 'accepted')
    build_application('initial', 'submitted')
    login(client, 'acceptor')
    page = client.get('/admin/accept_queue/').get_data(as_text=True)
    assert _numbers(page) == [old.number, new.number]
    page = client.get('/admin/accept_queue/?flt0_0=renewal').get_data(as_text=True)
    assert _numbers(page) == [new.number]


def test_an_application_the_applicant_sends_straight_to_the_registry_is_dated_as_reported(client, users,
                                                                                          password_hash):
    """增项 and 信息修改 reach the registry when the applicant submits them: that is their 上报 date, shown
    in the 待受理 queue and ordering it with the ones their enterprises reported (it was left empty:
    such rows came first on SQLite and last on PostgreSQL, whatever their date)."""
    earlier = build_application('initial', 'reported')
    Application.update(reported_at=datetime.datetime(2026, 1, 2, 9)).where(Application.id == earlier.id).execute()
    sent = []
    for kind in ('addition', 'info_change'):
        draft = build_application(kind, 'draft')
        transitions.perform(draft, 'submit', actor_for('applicant', draft, users, password_hash))
        row = Application.get_by_id(draft.id)
        assert row.state == 'reported' and row.reported_at is not None and row.reported_at == row.submitted_at
        sent.append(row)
    later = build_application('renewal', 'reported')
    Application.update(reported_at=datetime.datetime.now() + datetime.timedelta(hours=1)) \
        .where(Application.id == later.id).execute()
    login(client, 'acceptor')
    page = client.get('/admin/accept_queue/').get_data(as_text=True)
    assert _numbers(page) == [earlier.number] + [a.number for a in sent] + [later.number]
    for row in sent:
        cell = re.search(rf'{row.number}.*?<td class="col-reported_at">\s*(\S+)\s*</td>', page, re.S).group(1)
        assert cell == str(row.reported_at.date())


def test_review_queue_deadline_and_overdue(client, users):
    late = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    soon = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    today = datetime.date.today()
    Application.update(deadline=today - datetime.timedelta(days=3)).where(Application.id == late.id).execute()
    Application.update(deadline=today + datetime.timedelta(days=12)).where(Application.id == soon.id).execute()
    login(client, 'reviewer')
    page = client.get('/admin/review_queue/').get_data(as_text=True)
    assert _numbers(page) == [late.number, soon.number]
    assert '已超期 3 天' in page and 'overdue' in page and '剩 12 天' in page


def test_queue_filters_province_specialty_enterprise(client, users):
    sh = build_application('initial', 'accepted', enterprise=make_enterprise(code='31', name='上海某建工'))
    bj = build_application('initial', 'accepted', enterprise=make_enterprise(code='11', name='北京某建工'))
    login(client, 'reviewer')
    from models import Province, Specialty
    sh_id = Province.get(Province.code == '31').id
    page = client.get(f'/admin/review_queue/?flt0_1={sh_id}').get_data(as_text=True)
    assert _numbers(page) == [sh.number]
    spec = Specialty.get(Specialty.name == '建筑工程').id
    assert sorted(_numbers(client.get(f'/admin/review_queue/?flt0_2={spec}').get_data(as_text=True))) == \
        sorted([sh.number, bj.number])
    page = client.get('/admin/review_queue/?flt0_3=北京').get_data(as_text=True)
    assert _numbers(page) == [bj.number]


def test_row_accept_button_posts_through_workflow(client, users):
    row = build_application('initial', 'reported')
    login(client, 'acceptor')
    page = client.get('/admin/accept_queue/').get_data(as_text=True)
    assert 'name="transition" value="accept"' in page
    r = post_form(client, '/admin/accept_queue/transition/',
                  {'id': row.id, 'transition': 'accept', 'next': '/admin/accept_queue/'}, page='/admin/accept_queue/')
    assert r.status_code == 302 and r.headers['Location'].endswith('/admin/accept_queue/')
    assert Application.get_by_id(row.id).state == 'accepted'


def test_batch_accept_skips_rows_changed_meanwhile(client, users):
    a = build_application('initial', 'reported')
    b = build_application('addition', 'reported')
    login(client, 'acceptor')
    token_page = client.get('/admin/accept_queue/').get_data(as_text=True)
    # someone else accepts b before the batch arrives
    transitions.perform(b, 'accept', users['acceptor2'])
    from .conftest import csrf_from
    r = client.post('/admin/accept_queue/action/', data={'action': 'accept', 'rowid': [str(a.id), str(b.id)],
                                                         'csrf_token': csrf_from(token_page)})
    assert r.status_code == 302
    assert Application.get_by_id(a.id).state == 'accepted'
    assert AuditEvent.select().where(AuditEvent.application == b.id).count() == 1     # decided once only
    page = client.get('/admin/accept_queue/').get_data(as_text=True)
    assert f'已受理 1 件：{a.number}' in page
    assert f'跳过 1 件（状态已变化或不符合条件）：{b.number}' in page


def test_batch_approve_and_batch_refuse(client, users):
    rows = [build_application('initial', 'accepted', accepted_by=users['acceptor']) for _ in range(3)]
    login(client, 'reviewer')
    from .conftest import csrf_from
    token = csrf_from(client.get('/admin/review_queue/').get_data(as_text=True))
    client.post('/admin/review_queue/action/', data={'action': 'approve', 'rowid': [str(rows[0].id)],
                                                     'csrf_token': token})
    assert Application.get_by_id(rows[0].id).state == 'approved'
    r = client.post('/admin/review_queue/action/', data={'action': 'refuse', 'rowid': [str(rows[1].id),
                                                                                       str(rows[2].id)],
                                                         'csrf_token': token})
    url = r.headers['Location']
    page = client.get(url).get_data(as_text=True)
    assert rows[1].number in page and rows[2].number in page
    ids = f'{rows[1].id},{rows[2].id}'
    r = client.post('/admin/review_queue/batch-refuse/', data={'ids': ids, 'csrf_token': csrf_from(page)})
    assert '不予注册须至少选择一项依据' in r.get_data(as_text=True)
    assert Application.get_by_id(rows[1].id).state == 'accepted'
    ground = RefusalGround.get(RefusalGround.code == '9').id
    client.post('/admin/review_queue/batch-refuse/', data={'ids': ids, 'grounds': [str(ground)],
                                                           'comment': '聘用单位不符合要求', 'csrf_token': csrf_from(page)})
    assert {Application.get_by_id(r.id).state for r in rows[1:]} == {'refused'}


def test_reviewer_page_shows_everything(client, users):
    row = build_application('initial', 'accepted', accepted_by=users['acceptor'], specialties=['公路工程'])
    from .conftest import _store_images
    _store_images(row)
    login(client, 'reviewer')
    page = client.get(f'/admin/application/details/?id={row.id}').get_data(as_text=True)
    for text in ('申请人与资格库比对', '已实名认证', '劳动合同', '自动核查', '需会审', '办理记录',
                 '年龄未满65周岁', '资格库中具有所选专业的资格'):
        assert text in page, text
    # 公路工程 is not in the qualification record: that check fails and says why
    assert '未通过</span> 资格库中没有您的以下专业资格，不能申请注册：公路工程' in page
    img = re.search(r'<img[^>]* src="(/files/material/\d+)"', page).group(1)
    r = client.get(img)
    assert r.status_code == 200 and r.mimetype == 'image/jpeg'


def test_material_download_rights(client, users, password_hash):
    row = build_application('initial', 'accepted')
    from models import Material
    from .conftest import _store_images
    _store_images(row)
    mid = Material.get((Material.application == row) & (Material.kind == 'photo')).id
    login(client, 'helpdesk')
    assert client.get(f'/files/material/{mid}').status_code == 403
    other = build_application('initial')
    make_user('other_app', password_hash, role='applicant', person=other.person)
    client.post('/logout', data={'csrf_token': 'x'})
    c2 = client.application.test_client()
    login(c2, 'other_app')
    assert c2.get(f'/files/material/{mid}').status_code == 403


def test_refusal_notice_pdf_and_rights(client, users, password_hash, tmp_path):
    row = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    ground = RefusalGround.get(RefusalGround.code == '2').id
    transitions.perform(row, 'refuse', users['reviewer'], grounds=[ground], text='经核查在外省另有注册')
    owner = actor_for('applicant', row, users, password_hash)
    ent = actor_for('enterprise', row, users, password_hash)
    stranger = make_user('stranger', password_hash, role='applicant', person=build_application('initial').person)
    for user, expected in ((owner, 200), (ent, 200), (stranger, 403)):
        c = client.application.test_client()
        login(c, user.username)
        r = c.get(f'/files/refusal/{row.id}.pdf')
        assert r.status_code == expected, user.username
        if expected == 200:
            pdf = r.data
            text, pages = pdf_text(pdf)
    assert pages == 1
    for field in ('不予注册告知书', row.person.name, '申请在两个或者两个以上单位注册', '经核查在外省另有注册',
                  '中华人民共和国住房和城乡建设部', row.number):
        assert field in text.replace('\n', ''), field
    assert row.person.id_number not in text                # masked
    image = render_first_page(pdf, tmp_path)
    assert image.convert('L').getextrema()[0] < 100        # ink on the page, not blank


def test_refusal_notice_only_for_refused(client, users):
    row = build_application('initial', 'accepted')
    login(client, 'reviewer')
    assert client.get(f'/files/refusal/{row.id}.pdf').status_code == 403
    assert client.get('/files/refusal/999999.pdf').status_code == 404
