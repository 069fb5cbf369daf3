"""Announcements: build, preview, publish in one transaction; public pages leak no full ID number."""
import datetime

import pytest

from backoffice.validators import mask_id_number
from backoffice.issuing import notices
from backoffice.workflow import transitions
from models import Application, Certificate, Notice, Person, Registration

from .conftest import build_application, csrf_from, login, pdf_text, post_form


def test_draft_by_selection_and_by_date_range(users):
    rows = [build_application('initial', 'approved') for _ in range(3)]
    Application.update(decided_at=datetime.datetime(2026, 1, 10)).where(Application.id == rows[0].id).execute()
    Application.update(decided_at=datetime.datetime(2026, 2, 10)).where(Application.id << [rows[1].id, rows[2].id]).execute()
    n1 = notices.create_draft(users['reviewer'], ids=[rows[0].id])
    assert [i.application_id for i in n1.items] == [rows[0].id]
    n2 = notices.create_draft(users['reviewer'], date_from=datetime.date(2026, 2, 1), date_to=datetime.date(2026, 2, 28))
    assert sorted(i.application_id for i in n2.items) == sorted([rows[1].id, rows[2].id])
    with pytest.raises(notices.NoticeError) as err:
        notices.create_draft(users['reviewer'])               # everything is already in a notice
    assert '没有可公告的准予注册决定' in err.value.message
    with pytest.raises(notices.NoticeError) as err:
        notices.create_draft(users['reviewer'], date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 2, 1))
    assert err.value.message == '开始日期不能晚于结束日期'
    with pytest.raises(notices.NoticeError):
        notices.create_draft(users['acceptor'], ids=[rows[0].id])


def test_publish_makes_every_decision_take_effect(users):
    rows = [build_application(t, 'approved') for t in ('initial', 'addition', 'renewal', 'cancellation')]
    notice = notices.create_draft(users['reviewer'])
    published = notices.publish(notice.id, users['reviewer'])
    assert published.state == 'published' and published.number.startswith('建一注公告〔')
    assert published.published_at is not None
    assert {Application.get_by_id(r.id).state for r in rows} == {'announced'}
    initial_reg = Registration.get((Registration.person == rows[0].person_id) & (Registration.state == 'active'))
    assert Person.get_by_id(rows[0].person_id).reg_core == initial_reg.number[1:]
    assert Certificate.get(Certificate.registration == initial_reg).state == 'valid'
    cancelled = Registration.get(Registration.person == rows[3].person_id)
    assert cancelled.state == 'cancelled'
    # a published notice is never edited or published again
    with pytest.raises(notices.NoticeError) as err:
        notices.publish(notice.id, users['reviewer'])
    assert '已发布' in err.value.message
    with pytest.raises(notices.NoticeError) as err:
        notices.remove_items(published, [rows[0].id])
    assert err.value.message == '已发布的公告不能修改，更正请另行发布公告'


def test_publish_is_all_or_nothing(users):
    good = build_application('initial', 'approved')
    bad = build_application('initial', 'approved')
    notice = notices.create_draft(users['reviewer'])
    # bad's person got registered elsewhere meanwhile: the partial unique index refuses a second active one
    from .conftest import make_enterprise, make_registration
    make_registration(Person.get_by_id(bad.person_id), make_enterprise())
    with pytest.raises(notices.NoticeError) as err:
        notices.publish(notice.id, users['reviewer'])
    assert f'申请 {bad.number}：您已在' in err.value.message and '一人只能在一个单位注册' in err.value.message
    assert Notice.get_by_id(notice.id).state == 'draft' and Notice.get_by_id(notice.id).number is None
    assert Application.get_by_id(good.id).state == 'approved'
    assert Registration.select().where(Registration.person == good.person_id).count() == 0


def test_empty_notice_cannot_be_published(users):
    row = build_application('initial', 'approved')
    notice = notices.create_draft(users['reviewer'], ids=[row.id])
    notices.remove_items(notice, [row.id])
    with pytest.raises(notices.NoticeError) as err:
        notices.publish(notice.id, users['reviewer'])
    assert err.value.message == '公告没有任何条目，不能发布'
    assert Application.get_by_id(row.id).state == 'approved'


def test_build_preview_publish_in_the_browser(client, users):
    rows = [build_application('initial', 'approved') for _ in range(2)]
    login(client, 'reviewer')
    page = client.get('/admin/notice/build/').get_data(as_text=True)
    assert rows[0].number in page and rows[1].number in page
    r = client.post('/admin/notice/build/', data={'mode': 'selected', 'csrf_token': csrf_from(page)})
    assert '请勾选要公告的申请' in r.get_data(as_text=True)
    r = client.post('/admin/notice/build/', data={'mode': 'range', 'date_from': '2026-99-01',
                                                  'csrf_token': csrf_from(page)})
    assert '日期无效' in r.get_data(as_text=True)
    r = client.post('/admin/notice/build/', data={'mode': 'selected', 'ids': [str(rows[0].id)],
                                                  'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    preview = client.get(r.headers['Location']).get_data(as_text=True)
    assert '草稿（预览）' in preview and rows[0].person.name in preview
    notice = Notice.get()
    r = post_form(client, '/admin/notice/publish/', {'id': notice.id}, page=f'/admin/notice/details/?id={notice.id}')
    assert Notice.get_by_id(notice.id).state == 'published'
    assert Application.get_by_id(rows[0].id).state == 'announced'
    assert Application.get_by_id(rows[1].id).state == 'approved'


def test_acceptor_cannot_publish(client, users):
    row = build_application('initial', 'approved')
    notice = notices.create_draft(users['reviewer'], ids=[row.id])
    login(client, 'acceptor')
    r = post_form(client, '/admin/notice/publish/', {'id': notice.id}, page='/admin/notice/')
    assert r.status_code == 403
    assert client.get('/admin/notice/build/').status_code == 403
    assert Notice.get_by_id(notice.id).state == 'draft'


def test_public_pages_mask_id_numbers(client, users, tmp_path):
    rows = [build_application('initial', 'approved') for _ in range(2)]
    draft = notices.create_draft(users['reviewer'], ids=[rows[0].id])
    other = notices.create_draft(users['reviewer'], ids=[rows[1].id])
    notices.publish(draft.id, users['reviewer'])
    page = client.get('/announcements').get_data(as_text=True)
    assert Notice.get_by_id(draft.id).number in page
    assert f'/announcements/{other.id}"' not in page                       # drafts are not public
    assert client.get(f'/announcements/{other.id}').status_code == 404
    page = client.get(f'/announcements/{draft.id}').get_data(as_text=True)
    person = Person.get_by_id(rows[0].person_id)
    assert person.name in page and person.id_number not in page
    assert mask_id_number(person.id_number) in page and person.id_number[6:14] not in page   # no birth date
    r = client.get(f'/announcements/{draft.id}.pdf')
    text, pages = pdf_text(r.data)
    flat = text.replace('\n', '')
    assert pages == 1 and '一级建造师注册公告' in flat and person.name in flat
    assert person.id_number not in flat
    reg = Registration.get(Registration.person == person)
    assert reg.number in flat


def test_bulk_and_single_announcement_give_the_same_result(users):
    """perform_many (publishing) and perform (one decision) must leave identical registry records."""
    from models import Certificate, RegisteredSpecialty
    from .conftest import make_enterprise
    ent = make_enterprise(code='32')
    single = build_application('initial', 'approved', enterprise=ent)
    bulk = build_application('initial', 'approved', enterprise=ent)
    transitions.perform(single, 'announce', users['reviewer'])
    transitions.perform_many([bulk.id], 'announce', users['reviewer'])

    def shape(app_row):
        reg = Registration.get(Registration.person == app_row.person_id)
        cert = Certificate.get(Certificate.registration == reg)
        specs = [(s.specialty_id, s.valid_from, s.valid_until, s.state)
                 for s in RegisteredSpecialty.select().where(RegisteredSpecialty.registration == reg)]
        person = Person.get_by_id(app_row.person_id)
        return (reg.number[:9], reg.seal_check, reg.state, reg.province_id, reg.enterprise_id, reg.registered_on,
                person.seal_count, len(person.reg_core), specs, cert.state, cert.use_until, cert.issued_on,
                Application.get_by_id(app_row.id).registration_id == reg.id)

    assert shape(single) == shape(bulk)
    serials = sorted(int(r.number[-5:]) for r in Registration.select())
    assert serials == [1, 2]


def test_bulk_reregistration_keeps_number_with_new_seal(users):
    from .conftest import make_enterprise, make_registration
    person = build_application('initial').person
    old = make_registration(person, make_enterprise(code='11'), state='cancelled')
    row = build_application('reregister', 'approved', person=Person.get_by_id(person.id),
                            enterprise=make_enterprise(code='31'))
    notices.publish(notices.create_draft(users['reviewer'], ids=[row.id]).id, users['reviewer'])
    new = Registration.get((Registration.person == person) & (Registration.state == 'active'))
    assert new.number == '沪' + old.number[1:] and new.seal_check == 1


def test_parallel_publishing_never_shares_a_number(app, users):
    import threading
    from models import database
    from .conftest import make_enterprise
    ent = make_enterprise(code='11')
    drafts = []
    for _ in range(4):
        rows = [build_application('initial', 'approved', enterprise=ent) for _ in range(5)]
        drafts.append(notices.create_draft(users['reviewer'], ids=[r.id for r in rows]))
    barrier, errors = threading.Barrier(len(drafts)), []

    def publish(notice_id):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                notices.publish(notice_id, users['reviewer'])
            except Exception as exc:          # collected and asserted below
                errors.append(exc)
            finally:
                database.close()

    threads = [threading.Thread(target=publish, args=(d.id,)) for d in drafts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    numbers = [r.number for r in Registration.select()]
    assert len(numbers) == 20 and len(set(numbers)) == 20
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 21))
    assert len({c.serial for c in Certificate.select()}) == 20
