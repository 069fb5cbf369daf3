"""Joint review (会审, issue 11): 送会审, the 会审人员's queue and opinions, and the decision that waits for them."""
import datetime
import re

import pytest

from backoffice.workflow import joint_review
from backoffice.workflow.calendar import add_working_days
from backoffice.workflow.states import WorkflowError
from backoffice.workflow.transitions import perform
from models import Application, AuditEvent, JointOpinion, JointReviewerSpecialty, RefusalGround, User

from .conftest import build_application, csrf_from, login, make_person, post_form, specialty

TODAY = datetime.date.today()


def _accepted(users, specialties=('公路工程',)):
    # the holder is qualified for these specialties: every automatic check passes (no override needed)
    return build_application('initial', 'accepted', accepted_by=users['acceptor'], specialties=list(specialties),
                             person=make_person(qualifications=tuple(specialties)))


def _link(user, *names):
    for n in names:
        JointReviewerSpecialty.create(user=user, specialty=specialty(n))


def _ground():
    return RefusalGround.select().first().id


# --- sending --------------------------------------------------------------------------------------

def test_send_only_when_allowed(users):
    plain = _accepted(users, ('建筑工程',))
    with pytest.raises(WorkflowError, match='没有需要会审的专业'):
        joint_review.send(plain, users['reviewer'])
    reported = build_application('initial', 'reported', specialties=['公路工程'])
    with pytest.raises(WorkflowError, match='只有已受理'):
        joint_review.send(reported, users['reviewer'])
    app = _accepted(users, ('公路工程', '建筑工程', '铁路工程'))
    for role in ('acceptor', 'admin', 'joint_reviewer', 'supervisor'):
        with pytest.raises(WorkflowError) as err:
            joint_review.send(app, users[role])
        assert err.value.kind == 'permission'
    assert JointOpinion.select().count() == 0

    rows = joint_review.send(app, users['reviewer'], today=TODAY)
    assert sorted(r.specialty.name for r in rows) == ['公路工程', '铁路工程']        # joint specialties only
    assert {r.due_on for r in rows} == {add_working_days(TODAY, 10)}
    assert all(r.opinion == '' and r.requested_by_id == users['reviewer'].id for r in rows)
    with pytest.raises(WorkflowError, match='已送会审'):
        joint_review.send(app, users['reviewer'])
    event = AuditEvent.get((AuditEvent.action == 'joint_review_request') & (AuditEvent.application == app.id))
    assert event.actor_id == users['reviewer'].id and '公路工程、铁路工程' in event.comment


def test_send_from_the_application_page(client, users):
    app = _accepted(users)
    plain = _accepted(users, ('建筑工程',))
    login(client, 'reviewer')
    page = client.get(f'/admin/application/details/?id={app.id}').get_data(as_text=True)
    assert '送会审' in page and '尚未送会审' in page and '须先“送会审”' in page
    assert '送会审</button>' not in client.get(f'/admin/application/details/?id={plain.id}').get_data(as_text=True)
    r = client.post('/admin/joint_progress/send/', data={'id': app.id, 'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    assert JointOpinion.select().where(JointOpinion.application == app.id).count() == 1
    page = client.get(f'/admin/application/details/?id={app.id}').get_data(as_text=True)
    assert '送会审</button>' not in page and '待会审' in page and '会审意见尚未返回：公路工程' in page
    # a second post is refused with a message, nothing added
    r = client.post('/admin/joint_progress/send/', data={'id': app.id, 'csrf_token': csrf_from(page)},
                    follow_redirects=True)
    assert '已送会审，不能重复发送' in r.get_data(as_text=True)
    assert JointOpinion.select().count() == 1
    # without CSRF nothing happens; a bad id is a message, not a 500
    other = _accepted(users, ('铁路工程',))
    assert client.post('/admin/joint_progress/send/', data={'id': other.id}).status_code == 400
    assert client.post('/admin/joint_progress/send/', data={'id': 'abc', 'csrf_token': csrf_from(page)}
                       ).status_code == 302
    assert JointOpinion.select().where(JointOpinion.application == other.id).count() == 0


def test_acceptor_cannot_send(client, users):
    app = _accepted(users)
    login(client, 'acceptor')
    page = client.get(f'/admin/application/details/?id={app.id}').get_data(as_text=True)
    assert '送会审</button>' not in page
    r = client.post('/admin/joint_progress/send/', data={'id': app.id, 'csrf_token': csrf_from(page)})
    assert r.status_code == 403
    assert JointOpinion.select().count() == 0


# --- the decision waits -----------------------------------------------------------------------------

@pytest.mark.parametrize('decision', ['approve', 'refuse'])
def test_decision_waits_for_request_opinions_or_clock(users, decision):
    app = _accepted(users, ('公路工程', '铁路工程'))
    data = {'grounds': [_ground()]} if decision == 'refuse' else {}
    with pytest.raises(WorkflowError) as err:
        perform(app, decision, users['reviewer'], today=TODAY, **data)
    assert any('须先“送会审”' in m and '公路工程、铁路工程' in m for m in err.value.messages)

    sent = TODAY - datetime.timedelta(days=3)
    rows = {r.specialty.name: r for r in joint_review.send(app, users['reviewer'], today=sent)}
    due = add_working_days(sent, 10)
    with pytest.raises(WorkflowError) as err:
        perform(app, decision, users['reviewer'], today=TODAY, **data)
    assert any('公路工程、铁路工程' in m and str(due) in m for m in err.value.messages)

    _link(users['joint_reviewer'], '公路工程')
    joint_review.record_opinion(rows['公路工程'].id, users['joint_reviewer'], 'agree')
    with pytest.raises(WorkflowError) as err:       # 铁路工程 still waiting, on its due date too
        perform(app, decision, users['reviewer'], today=due, **data)
    waiting = [m for m in err.value.messages if '会审意见尚未返回' in m]
    assert waiting and '铁路工程' in waiting[0] and '公路工程' not in waiting[0]
    assert Application.get_by_id(app.id).state == 'accepted'

    # the clock has run out for 铁路工程: the decision may be taken
    decided = perform(app, decision, users['reviewer'], today=due + datetime.timedelta(days=1), **data)
    assert decided.state == ('approved' if decision == 'approve' else 'refused')


def test_decision_allowed_once_every_opinion_is_in(users):
    app = _accepted(users, ('公路工程',))
    row, = joint_review.send(app, users['reviewer'], today=TODAY)
    _link(users['joint_reviewer'], '公路工程')
    joint_review.record_opinion(row.id, users['joint_reviewer'], 'disagree', '施工业绩不属于公路工程')
    assert joint_review.decision_blocker(Application.get_by_id(app.id), TODAY) is None
    assert perform(app, 'approve', users['reviewer'], today=TODAY).state == 'approved'


def test_applications_without_joint_specialties_are_not_held(users):
    app = _accepted(users, ('建筑工程',))
    assert perform(app, 'approve', users['reviewer'], today=TODAY).state == 'approved'


# --- the 会审人员's queue ---------------------------------------------------------------------------

def test_queue_shows_only_own_specialties_oldest_first(client, users):
    _link(users['joint_reviewer'], '公路工程')
    older, newer = _accepted(users, ('公路工程',)), _accepted(users, ('公路工程',))
    rail = _accepted(users, ('铁路工程',))
    joint_review.send(older, users['reviewer'], today=TODAY)
    joint_review.send(newer, users['reviewer'], today=TODAY)
    rail_row, = joint_review.send(rail, users['reviewer'], today=TODAY)
    JointOpinion.update(requested_at=datetime.datetime.now() - datetime.timedelta(days=2)).where(
        JointOpinion.application == older.id).execute()
    JointOpinion.update(requested_at=datetime.datetime.now() - datetime.timedelta(days=1)).where(
        JointOpinion.application == newer.id).execute()
    assert [r.application_id for r in joint_review.queue(users['joint_reviewer'])] == [older.id, newer.id]

    login(client, 'joint_reviewer')
    page = client.get('/admin/joint_review/').get_data(as_text=True)
    assert older.number in page and newer.number in page and rail.number not in page
    assert page.index(older.number) < page.index(newer.number)
    assert '剩 10 个工作日' in page
    assert client.get(f'/admin/joint_review/decide/?id={rail_row.id}').status_code == 403
    # the 会审人员 sees nothing else of the registry
    assert client.get('/admin/application/').status_code == 403
    assert client.get('/admin/joint_progress/').status_code == 403
    home = client.get('/admin/').get_data(as_text=True)      # the home counts: own specialties only
    assert re.search(r'待会审</div>\s*<div class="h3">\s*2\s*</div>', home) and '已超期未返回' in home


def test_reviewer_without_specialties_sees_nothing(client, users):
    app = _accepted(users)
    joint_review.send(app, users['reviewer'], today=TODAY)
    login(client, 'joint_reviewer')
    assert app.number not in client.get('/admin/joint_review/').get_data(as_text=True)


def test_overdue_listing(client, users):
    _link(users['joint_reviewer'], '公路工程', '铁路工程')
    late, fresh = _accepted(users, ('公路工程',)), _accepted(users, ('铁路工程',))
    joint_review.send(late, users['reviewer'], today=TODAY - datetime.timedelta(days=40))
    joint_review.send(fresh, users['reviewer'], today=TODAY)
    overdue = list(joint_review.queue(users['joint_reviewer'], today=TODAY, overdue_only=True))
    assert [r.application_id for r in overdue] == [late.id]
    assert joint_review.status(overdue[0], TODAY) == 'overdue' and joint_review.days_left(overdue[0], TODAY) < 0
    login(client, 'joint_reviewer')
    page = client.get('/admin/joint_review/').get_data(as_text=True)
    assert '已超期' in page and late.number in page and fresh.number in page
    filtered = client.get('/admin/joint_review/?flt0_0=1').get_data(as_text=True)
    assert late.number in filtered and fresh.number not in filtered
    current = client.get('/admin/joint_review/?flt0_0=0').get_data(as_text=True)
    assert fresh.number in current and late.number not in current


# --- opinions ---------------------------------------------------------------------------------------

def test_opinion_form_errors_at_the_field_then_agree(app, client, users):
    _link(users['joint_reviewer'], '公路工程')
    application = _accepted(users)
    row, = joint_review.send(application, users['reviewer'], today=TODAY)
    login(client, 'joint_reviewer')
    url = f'/admin/joint_review/decide/?id={row.id}'
    r = post_form(client, url, {'id': row.id, 'opinion': 'disagree', 'reason': '  '})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert re.search(r'id="reason-error">不同意的，请填写理由<', html)
    r = post_form(client, url, {'id': row.id, 'opinion': 'maybe'})
    assert re.search(r'id="opinion-error">请选择会审意见：同意或不同意<', r.get_data(as_text=True))
    assert JointOpinion.get_by_id(row.id).opinion == ''
    # no CSRF: refused
    assert client.post(url, data={'id': row.id, 'opinion': 'agree'}).status_code == 400
    assert JointOpinion.get_by_id(row.id).opinion == ''

    r = post_form(client, url, {'id': row.id, 'opinion': 'disagree', 'reason': '业绩证明不足'})
    assert r.status_code == 302
    saved = JointOpinion.get_by_id(row.id)
    assert (saved.opinion, saved.reason, saved.reviewer_id) == ('disagree', '业绩证明不足', users['joint_reviewer'].id)
    assert saved.decided_at is not None
    event = AuditEvent.get(AuditEvent.action == 'joint_opinion')
    assert event.application_id == application.id and '不同意' in event.comment and '业绩证明不足' in event.comment
    # decided rows leave the queue; a second opinion is refused
    client.get('/admin/joint_review/')                       # shows (and clears) the success message
    assert application.number not in client.get('/admin/joint_review/').get_data(as_text=True)
    with pytest.raises(joint_review.OpinionError, match='已有意见'):
        joint_review.record_opinion(row.id, users['joint_reviewer'], 'agree')
    # the reviewer's page shows the opinion
    reviewer = app.test_client()
    login(reviewer, 'reviewer')
    page = reviewer.get(f'/admin/application/details/?id={application.id}').get_data(as_text=True)
    assert 'joint-opinions' in page and '不同意' in page and '业绩证明不足' in page


def test_opinion_rules(users):
    _link(users['joint_reviewer'], '公路工程')
    app = _accepted(users, ('公路工程', '铁路工程'))
    rows = {r.specialty.name: r for r in joint_review.send(app, users['reviewer'], today=TODAY)}
    with pytest.raises(joint_review.OpinionError) as err:        # not their specialty
        joint_review.record_opinion(rows['铁路工程'].id, users['joint_reviewer'], 'agree')
    assert err.value.kind == 'permission'
    with pytest.raises(joint_review.OpinionError) as err:        # not a 会审人员
        joint_review.record_opinion(rows['公路工程'].id, users['reviewer'], 'agree')
    assert err.value.kind == 'permission'
    with pytest.raises(joint_review.OpinionError) as err:
        joint_review.record_opinion(rows['公路工程'].id, users['joint_reviewer'], 'disagree', '')
    assert err.value.field == 'reason'
    saved = joint_review.record_opinion(rows['公路工程'].id, users['joint_reviewer'], 'agree')
    assert saved.opinion == 'agree' and saved.reason == ''
    assert AuditEvent.select().where(AuditEvent.action == 'joint_opinion').count() == 1


# --- the administrator links a 会审人员 to specialties ------------------------------------------------

def test_admin_sets_joint_reviewer_specialties(client, users):
    login(client, 'admin')
    data = {'username': 'huishen1', 'name': '交通运输部会审员', 'role': 'joint_reviewer', 'password': 'Huishen2026x'}
    r = post_form(client, '/admin/user/new/', data)
    assert r.status_code == 200 and '会审人员须至少指定一个会审专业' in r.get_data(as_text=True)
    assert User.get_or_none(User.username == 'huishen1') is None
    data['joint_specialty_ids'] = [str(specialty('公路工程').id), str(specialty('铁路工程').id)]
    assert post_form(client, '/admin/user/new/', data).status_code == 302
    user = User.get(User.username == 'huishen1')
    assert sorted(joint_review.reviewer_specialty_ids(user)) == sorted(
        [specialty('公路工程').id, specialty('铁路工程').id])
    # a specialty that needs no joint review is no choice
    edit = f'/admin/user/edit/?id={user.id}'
    page = client.get(edit).get_data(as_text=True)
    assert 'selected' in page and '建筑工程' not in page.split('joint_specialty_ids', 1)[1].split('</select>')[0]
    r = post_form(client, edit, {'username': 'huishen1', 'name': '交通运输部会审员', 'role': 'joint_reviewer',
                                 'joint_specialty_ids': [str(specialty('建筑工程').id)]})
    assert r.status_code == 200
    data = {'username': 'huishen1', 'name': '交通运输部会审员', 'role': 'joint_reviewer',
            'joint_specialty_ids': [str(specialty('公路工程').id)]}
    assert post_form(client, edit, data).status_code == 302
    assert joint_review.reviewer_specialty_ids(user) == [specialty('公路工程').id]
    event = AuditEvent.select().where(AuditEvent.action == 'joint_specialties').order_by(AuditEvent.id.desc()).first()
    assert event.object_id == user.id and '铁路工程' in event.changes


def test_joint_reviewer_is_refused_every_transition(users):
    app = _accepted(users)
    for name in ('approve', 'refuse', 'accept'):
        with pytest.raises(WorkflowError) as err:
            perform(app, name, users['joint_reviewer'])
        assert err.value.kind == 'permission' and '会审人员无权执行' in err.value.messages[0]
