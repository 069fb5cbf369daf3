"""Safe decisions (issue 13, Decisions): confirmation naming the application, the override of failed
automatic checks with a reason in the audit, 办理下一件, messages naming the application, errors at their
field, the overdue state and materials on the application page, the 受理 queue's visible order, dropping
items from an announcement draft, and the audit log's labels."""
import datetime
import re

import pytest

from backoffice.issuing import notices
from backoffice.workflow import transitions
from backoffice.workflow.states import WorkflowError
from models import Application, AuditEvent, Material, NoticeItem, RefusalGround

from .conftest import actor_for, build_application, csrf_from, login

TODAY = datetime.date.today()


def _page(r):
    return r.get_data(as_text=True)


def _unqualified(state, users=None):
    """An application whose holder has no qualification for 机电工程 (no 会审): one automatic check fails."""
    return build_application('initial', state, specialties=['机电工程'],
                             accepted_by=users['acceptor'] if users else None)


def _form(html, name):
    """The decision form of transition `name` on the application page."""
    m = re.search(rf'<form[^>]*id="decide-{name}".*?</form>', html, re.S)
    assert m, f'no form for {name}'
    return m.group(0)


def _set_reported(app, when):
    Application.update(reported_at=when).where(Application.id == app.id).execute()


# --- the override rule lives in the workflow -------------------------------------------------------

def test_failed_check_needs_a_reason_which_goes_into_the_audit(users):
    app = _unqualified('accepted', users)
    assert [label for label, _m in transitions.failed_checks(app, users['reviewer'], 'approve')] == \
        ['资格库中具有所选专业的资格']
    with pytest.raises(WorkflowError) as err:
        transitions.perform(app, 'approve', users['reviewer'])
    assert err.value.kind == 'override'
    assert '资格库中具有所选专业的资格' in err.value.fields[transitions.OVERRIDE_FIELD][0]
    assert Application.get_by_id(app.id).state == 'accepted'
    assert AuditEvent.select().where(AuditEvent.application == app.id).count() == 0

    done = transitions.perform(app, 'approve', users['reviewer'], comment='同意',
                               override_reason='资格证书已核验原件，资格库待补录')
    assert done.state == 'approved'
    event = AuditEvent.select().where(AuditEvent.application == app.id).order_by(AuditEvent.id.desc()).get()
    assert event.action == 'approve'
    assert '同意' in event.comment and '资格库中具有所选专业的资格' in event.comment
    assert '资格证书已核验原件，资格库待补录' in event.comment


def test_passing_checks_need_no_reason_and_hard_guards_are_never_overridden(users):
    ok = build_application('initial', 'reported')
    assert transitions.failed_checks(ok, users['acceptor'], 'accept') == []
    assert transitions.perform(ok, 'accept', users['acceptor']).state == 'accepted'
    # 增项 of a specialty already registered: a guard of the approval itself, refused even with a reason
    dup = build_application('addition', 'accepted', accepted_by=users['acceptor'], specialties=['建筑工程'])
    with pytest.raises(WorkflowError) as err:
        transitions.perform(dup, 'approve', users['reviewer'], override_reason='理由')
    assert err.value.kind == 'rule' and any('不能增项' in m for m in err.value.messages)


def test_details_page_refuses_accept_without_reason_at_the_field_and_keeps_input(client, users):
    app = _unqualified('reported')
    login(client, 'acceptor')
    page = _page(client.get(f'/admin/accept_queue/details/?id={app.id}'))
    form = _form(page, 'accept')
    assert f'data-confirm="自动核查有 1 项未通过。确定对申请 {app.number} 执行“受理”吗？"' in form
    assert 'name="override_reason"' in form and 'required' in form
    r = client.post('/admin/accept_queue/transition/', data={
        'id': app.id, 'transition': 'accept', 'comment': '材料齐全', 'csrf_token': csrf_from(page)})
    assert r.status_code == 200
    form = _form(_page(r), 'accept')
    assert re.search(r'name="override_reason"[^>]*>\s*</textarea>\s*<div class="invalid-feedback field-error">'
                     r'自动核查有 1 项未通过（资格库中具有所选专业的资格）', form)
    assert '>材料齐全</textarea>' in form                       # nothing typed is lost
    assert Application.get_by_id(app.id).state == 'reported'

    r = client.post('/admin/accept_queue/transition/', data={
        'id': app.id, 'transition': 'accept', 'comment': '材料齐全', 'override_reason': '资格库数据待导入',
        'csrf_token': csrf_from(page)})
    assert r.status_code == 302 and 'done=accept' in r.headers['Location']
    assert Application.get_by_id(app.id).state == 'accepted'
    event = AuditEvent.select().where(AuditEvent.application == app.id).get()
    assert '资格库数据待导入' in event.comment and event.actor_id == users['acceptor'].id
    assert f'申请 {app.number}：已受理' in _page(client.get(r.headers['Location']))


def test_queue_row_with_failed_checks_goes_to_the_page_with_a_message_naming_it(client, users):
    app = _unqualified('reported')
    login(client, 'acceptor')
    page = _page(client.get('/admin/accept_queue/'))
    assert f'data-confirm="确定对申请 {app.number} 执行“受理”吗？"' in page
    r = client.post('/admin/accept_queue/transition/', data={
        'id': app.id, 'transition': 'accept', 'next': '/admin/accept_queue/', 'csrf_token': csrf_from(page)})
    assert r.status_code == 302 and r.headers['Location'].endswith(f'/admin/accept_queue/details/?id={app.id}')
    assert f'申请 {app.number}：自动核查有 1 项未通过' in _page(client.get(r.headers['Location']))
    assert Application.get_by_id(app.id).state == 'reported'


def test_batch_approve_skips_rows_whose_checks_fail(client, users):
    good = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    bad = _unqualified('accepted', users)
    login(client, 'reviewer')
    token = csrf_from(_page(client.get('/admin/review_queue/')))
    client.post('/admin/review_queue/action/', data={'action': 'approve', 'rowid': [str(good.id), str(bad.id)],
                                                     'csrf_token': token})
    assert Application.get_by_id(good.id).state == 'approved'
    assert Application.get_by_id(bad.id).state == 'accepted'
    page = _page(client.get('/admin/review_queue/'))
    assert f'已准予注册 1 件：{good.number}' in page
    assert f'{bad.number}：自动核查有 1 项未通过' in page


# --- confirmation, messages, 办理下一件 --------------------------------------------------------------

def test_every_decision_form_names_the_application_and_the_action(client, users, password_hash):
    change = build_application('info_change', 'accepted', accepted_by=users['acceptor'])
    login(client, 'reviewer')
    page = _page(client.get(f'/admin/review_queue/details/?id={change.id}'))
    assert f'data-confirm="确定对申请 {change.number} 执行“准予变更”吗？"' in _form(page, 'approve')
    assert f'data-confirm="确定对申请 {change.number} 执行“不予注册”吗？"' in _form(page, 'refuse')
    assert f'aria-label="准予变更 {change.number}"' in _page(client.get('/admin/review_queue/'))

    row = build_application('initial', 'submitted')
    hr = actor_for('enterprise', row, users, password_hash)
    c = client.application.test_client()
    login(c, hr.username)
    page = _page(c.get(f'/enterprise/application/{row.id}'))
    for label in ('上报', '退回', '撤回'):
        assert f'data-confirm="确定对申请 {row.number}（{row.person.name}）执行“{label}”吗？"' in page
    home = _page(c.get('/enterprise/'))
    assert 'data-confirm-selected="上报"' in home and f'data-number="{row.number}"' in home
    assert 'js/admin_actions.js' in home


def test_next_item_opens_the_next_of_the_same_queue(client, users):
    first = build_application('initial', 'reported')
    second = build_application('renewal', 'reported')
    third = build_application('initial', 'reported')
    _set_reported(first, datetime.datetime(2026, 1, 5))
    _set_reported(second, datetime.datetime(2026, 1, 9))
    _set_reported(third, datetime.datetime(2026, 1, 7))
    build_application('initial', 'accepted')                     # another queue: never offered here
    login(client, 'acceptor')
    page = _page(client.get(f'/admin/accept_queue/details/?id={first.id}'))
    r = client.post('/admin/accept_queue/transition/', data={'id': first.id, 'transition': 'accept',
                                                             'csrf_token': csrf_from(page)})
    page = _page(client.get(r.headers['Location']))
    assert f'申请 {first.number}：已受理' in page
    link = re.search(r'id="next-item-link" href="([^"]+)"', page).group(1)
    assert link.endswith(f'/admin/accept_queue/details/?id={third.id}')        # oldest 上报 next
    # the last one: the page says the queue is done
    for row in (third, second):
        transitions.perform(row, 'accept', users['acceptor2'])
    page = _page(client.get(r.headers['Location']))
    assert '待受理已全部办完' in page and 'next-item-link' not in page


def test_enterprise_next_item_after_report(client, users, password_hash):
    a = build_application('initial', 'submitted')
    b = build_application('renewal', 'submitted', enterprise=a.enterprise)
    hr = actor_for('enterprise', a, users, password_hash)
    login(client, hr.username)
    page = _page(client.get(f'/enterprise/application/{a.id}'))
    r = client.post(f'/enterprise/application/{a.id}/act', data={'transition': 'report',
                                                                 'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    page = _page(client.get(r.headers['Location']))
    assert f'申请 {a.number}：已上报' in page
    assert re.search(rf'id="next-item-link" href="/enterprise/application/{b.id}"', page)


def test_refused_addition_message_names_the_application(client, users):
    dup = build_application('addition', 'accepted', accepted_by=users['acceptor'], specialties=['建筑工程'])
    login(client, 'reviewer')
    page = _page(client.get(f'/admin/review_queue/details/?id={dup.id}'))
    r = client.post('/admin/review_queue/transition/', data={'id': dup.id, 'transition': 'approve',
                                                             'csrf_token': csrf_from(page)})
    page = _page(client.get(r.headers['Location']))
    assert f'申请 {dup.number}：以下专业已经注册，不能增项：建筑工程' in page


# --- errors at their field -------------------------------------------------------------------------

def test_refusal_without_grounds_is_answered_at_the_field(client, users):
    app = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    login(client, 'reviewer')
    page = _page(client.get(f'/admin/review_queue/details/?id={app.id}'))
    r = client.post('/admin/review_queue/transition/', data={'id': app.id, 'transition': 'refuse',
                                                             'comment': '经核查另有注册', 'csrf_token': csrf_from(page)})
    assert r.status_code == 200
    form = _form(_page(r), 'refuse')
    assert re.search(r'id="field-grounds".*invalid-feedback d-block field-error">不予注册须至少选择一项依据', form, re.S)
    assert '>经核查另有注册</textarea>' in form
    assert Application.get_by_id(app.id).state == 'accepted'


def test_batch_refusal_without_grounds_at_the_field_keeps_the_text(client, users):
    rows = [build_application('initial', 'accepted', accepted_by=users['acceptor']) for _ in range(2)]
    login(client, 'reviewer')
    ids = ','.join(str(r.id) for r in rows)
    page = _page(client.get(f'/admin/review_queue/batch-refuse/?ids={ids}'))
    assert 'data-confirm="确定对以下 2 件申请作出不予注册决定吗？' in page
    r = client.post('/admin/review_queue/batch-refuse/', data={'ids': ids, 'comment': '单位不符',
                                                               'csrf_token': csrf_from(page)})
    html = _page(r)
    assert 'id="grounds-error">不予注册须至少选择一项依据' in html and '>单位不符</textarea>' in html
    ground = str(RefusalGround.get(RefusalGround.code == '9').id)
    r = client.post('/admin/review_queue/batch-refuse/', data={'ids': ids, 'comment': '单位不符', 'grounds': ground,
                                                               'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    assert {Application.get_by_id(x.id).state for x in rows} == {'refused'}


def test_enterprise_return_reason_at_the_field(client, users, password_hash):
    row = build_application('initial', 'submitted')
    hr = actor_for('enterprise', row, users, password_hash)
    login(client, hr.username)
    page = _page(client.get(f'/enterprise/application/{row.id}'))
    r = client.post(f'/enterprise/application/{row.id}/act', data={'transition': 'return', 'comment': '  ',
                                                                   'csrf_token': csrf_from(page)})
    assert r.status_code == 200
    assert re.search(r'id="return-comment"[^>]*>.*?</textarea>\s*<div class="invalid-feedback mb-1 field-error">'
                     r'请填写退回原因', _page(r), re.S)
    assert Application.get_by_id(row.id).state == 'submitted'


def test_import_errors_at_their_fields_and_the_choice_kept(client, users):
    login(client, 'acceptor')
    page = _page(client.get('/admin/imports/'))
    html = _page(client.post('/admin/imports/', data={'csrf_token': csrf_from(page)}))
    assert 'id="kind-error">请选择导入类型' in html and 'id="file-error">请选择要导入的 CSV 或 XLSX 文件' in html
    html = _page(client.post('/admin/imports/', data={'csrf_token': csrf_from(page), 'kind': 'qualifications'}))
    assert 'kind-error' not in html and 'id="file-error"' in html
    assert re.search(r'value="qualifications" id="k-qualifications" checked', html)


# --- the application page and the queue ------------------------------------------------------------

def test_details_shows_overdue_state_and_materials_above_the_decisions(client, users):
    app = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    Application.update(deadline=TODAY - datetime.timedelta(days=3)).where(Application.id == app.id).execute()
    Material.create(application=app, kind='other', original_name='劳动合同.pdf', stored_path='test/c.pdf', size=2048,
                    content_type='application/pdf', sha256='1' * 64)
    login(client, 'reviewer')
    queue = _page(client.get('/admin/review_queue/'))
    assert '已超期 3 天' in queue
    page = _page(client.get(f'/admin/review_queue/details/?id={app.id}'))
    assert re.search(r'id="deadline-state">已超期 3 天<', page)
    assert page.index('id="materials"') < page.index('id="decide-approve"')
    assert re.search(r'<img class="material-thumb" src="/files/material/\d+"', page)
    pdf = re.search(r'class="material-pdf" href="(/files/material/\d+)"', page)
    assert pdf and '劳动合同.pdf' in page
    # decided: no deadline, no overdue badge
    transitions.perform(app, 'approve', users['reviewer'])
    page = _page(client.get(f'/admin/application/details/?id={app.id}'))
    assert 'deadline-state' not in page and '已超期' not in page


def test_accept_queue_is_ordered_by_the_shown_report_date(client, users):
    late = build_application('initial', 'reported')
    early = build_application('initial', 'reported')
    _set_reported(late, datetime.datetime(2026, 2, 3, 9))
    _set_reported(early, datetime.datetime(2026, 1, 20, 9))
    # deadlines in the other order: the queue does not sort by them
    Application.update(deadline=TODAY).where(Application.id == late.id).execute()
    Application.update(deadline=TODAY + datetime.timedelta(days=4)).where(Application.id == early.id).execute()
    login(client, 'acceptor')
    page = _page(client.get('/admin/accept_queue/'))
    assert '上报日期' in page and '按上报日期排序，最早上报的在前' in page
    numbers = re.findall(r'<td class="col-number">\s*(SQT\d{12})', page)
    assert numbers == [early.number, late.number]
    cells = re.findall(r'<td class="col-reported_at">\s*([^<]*?)\s*</td>', page)
    assert cells == ['2026-01-20', '2026-02-03']


# --- announcements ---------------------------------------------------------------------------------

def test_announcement_draft_drops_single_items(client, users):
    keep = build_application('initial', 'approved')
    drop = build_application('initial', 'approved')
    notice = notices.create_draft(users['reviewer'], ids=[keep.id, drop.id])
    login(client, 'reviewer')
    page = _page(client.get(f'/admin/notice/details/?id={notice.id}'))
    assert f'data-confirm="确定将申请 {drop.number}（{drop.person.name}）移出本公告草稿吗？"' in page
    r = client.post('/admin/notice/remove-item/', data={'id': notice.id, 'application': drop.id,
                                                        'csrf_token': csrf_from(page)})
    page = _page(client.get(r.headers['Location']))
    assert f'申请 {drop.number}：已从公告草稿中移出' in page
    assert [i.application_id for i in NoticeItem.select().where(NoticeItem.notice == notice)] == [keep.id]
    assert drop.id in [a.id for a in notices.announceable()]           # waits for the next announcement
    assert f'data-number="{drop.number}"' not in page and f'data-number="{keep.number}"' in page
    # an id that is not in the draft is refused; a published notice cannot be changed
    with pytest.raises(notices.NoticeError):
        notices.remove_items(notice, [drop.id])
    notices.publish(notice.id, users['reviewer'])
    with pytest.raises(notices.NoticeError):
        notices.remove_items(notice, [keep.id])
    page = _page(client.get(f'/admin/notice/details/?id={notice.id}'))
    assert 'remove-item' not in page


# --- the audit log -----------------------------------------------------------------------------------

def test_audit_log_labels_info_change_number_and_object_type(client, users):
    change = build_application('info_change', 'accepted', accepted_by=users['acceptor'])
    transitions.perform(change, 'approve', users['reviewer'])
    initial = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    transitions.perform(initial, 'approve', users['reviewer'])
    login(client, 'admin')
    page = _page(client.get('/admin/auditevent/'))
    rows = re.findall(r'<tr>.*?</tr>', page, re.S)
    change_row = next(r for r in rows if change.number in r)
    initial_row = next(r for r in rows if initial.number in r)
    assert '准予变更' in change_row and '准予注册' not in change_row
    assert '准予注册' in initial_row
    assert '注册申请' in change_row
    assert re.search(rf'<td class="col-object_id">\s*{change.number}\s*</td>', change_row)
    event = AuditEvent.select().where(AuditEvent.application == change.id).get()
    details = _page(client.get(f'/admin/auditevent/details/?id={event.id}'))
    assert '准予变更' in details and change.number in details and '注册申请' in details
    # the application page's own timeline says 准予变更 too
    c = client.application.test_client()
    login(c, 'reviewer')
    page = _page(c.get(f'/admin/application/details/?id={change.id}'))
    timeline = page[page.index('办理记录（审计日志）'):]
    assert '准予变更' in timeline and '准予注册' not in timeline



def test_applicant_and_enterprise_timelines_name_the_approval_by_its_business_type(users):
    """The timeline the applicant, the enterprise and the helpdesk read (intake.applications.timelines)
    uses the same labels as the audit log."""
    from backoffice.intake import applications as intake
    change = build_application('info_change', 'accepted', accepted_by=users['acceptor'])
    transitions.perform(change, 'approve', users['reviewer'])
    initial = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    transitions.perform(initial, 'approve', users['reviewer'])
    steps = intake.timelines([change, initial])
    assert [s[2] for s in steps[change.id]][-1] == '准予变更'
    assert [s[2] for s in steps[initial.id]][-1] == '准予注册'
