"""Notifications (issue 12): written with the state change, sent after commit, never lost."""
import datetime

import pytest

from backoffice.intake import sms
from backoffice.notify import outbox, templates
from backoffice.workflow import lifecycle
from backoffice.workflow.states import WorkflowError
from backoffice.workflow.transitions import perform
from models import Notification, SmsMessage, User

from .conftest import actor_for, build_application, make_registration, make_enterprise, make_person

T0 = None     # the clock the sender is given: set before each test, a little after the rows it writes


@pytest.fixture(autouse=True)
def _clock():
    """T0 a few minutes after the test starts (not after the module was imported: the suite may run
    for longer than that before it reaches these tests)."""
    global T0
    T0 = datetime.datetime.now().replace(microsecond=0) + datetime.timedelta(minutes=5)


class FlakyGateway(sms.Gateway):
    name = 'flaky'

    def __init__(self, failures):
        super().__init__({})
        self.failures, self.sent = failures, []

    def send(self, mobile, text):
        if self.failures > 0:
            self.failures -= 1
            raise sms.GatewayError('网关不可用')
        self.sent.append((mobile, text))


def _sms_rows(app_row):
    return list(Notification.select().where((Notification.application == app_row.id)
                                            & (Notification.channel == 'sms')))


def test_return_writes_inapp_and_sms_rows_in_the_same_transaction(users, password_hash):
    app = build_application('initial', 'submitted')
    actor = actor_for('enterprise', app, users, password_hash)
    perform(app, 'return', actor, comment='请补充劳动合同')
    rows = list(Notification.select().where(Notification.application == app.id).order_by(Notification.channel))
    assert [(r.channel, r.state, r.template_key, r.needs_action) for r in rows] == [
        ('inapp', 'sent', 'returned', True), ('sms', 'queued', 'returned', True)]
    assert '请补充劳动合同' in rows[0].text and app.number in rows[0].text
    assert rows[0].person_id == app.person_id and rows[1].mobile == app.person.mobile


def test_a_refused_transition_writes_no_notification(users, password_hash):
    app = build_application('initial', 'submitted')
    actor = actor_for('enterprise', app, users, password_hash)
    with pytest.raises(WorkflowError):
        perform(app, 'return', actor, comment='')          # 退回 needs a reason: rolled back
    assert Notification.select().count() == 0


def test_rollback_after_the_hook_removes_the_rows(users, password_hash, monkeypatch):
    from backoffice import audit
    app = build_application('initial', 'submitted')
    actor = actor_for('enterprise', app, users, password_hash)
    monkeypatch.setattr(audit, 'record', lambda *a, **k: (_ for _ in ()).throw(RuntimeError('disk full')))
    with pytest.raises(RuntimeError):
        perform(app, 'return', actor, comment='原因')
    assert Notification.select().count() == 0


def test_submit_tells_the_enterprise(users, password_hash):
    ent = make_enterprise()
    hr = User.create(username='hr1', name='人事', password_hash=password_hash, role='enterprise', enterprise=ent,
                     mobile='13900139000')
    app = build_application('initial', 'draft', enterprise=ent)
    perform(app, 'submit', actor_for('applicant', app, users, password_hash))
    rows = list(Notification.select().where(Notification.enterprise == ent.id))
    assert {(r.channel, r.template_key, r.mobile) for r in rows} == {
        ('inapp', 'enterprise_inbox', ''), ('sms', 'enterprise_inbox', hr.mobile)}
    assert all(r.needs_action for r in rows)


def test_gateway_down_then_retrying_with_backoff_then_sent(users, password_hash):
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='原因')
    gw = FlakyGateway(failures=2)
    assert outbox.send_due(clock=T0, gw=gw) == {'sent': 0, 'retrying': 1, 'failed': 0}
    row = _sms_rows(app)[0]
    assert (row.state, row.attempts, row.last_error) == ('retrying', 1, '网关不可用')
    assert row.next_attempt_at == T0 + datetime.timedelta(seconds=60)
    # not due yet: nothing happens
    assert outbox.send_due(clock=T0 + datetime.timedelta(seconds=30), gw=gw) == {'sent': 0, 'retrying': 0,
                                                                                   'failed': 0}
    t1 = T0 + datetime.timedelta(seconds=60)
    assert outbox.send_due(clock=t1, gw=gw)['retrying'] == 1
    row = _sms_rows(app)[0]
    assert row.next_attempt_at == t1 + datetime.timedelta(seconds=120)      # doubled
    t2 = t1 + datetime.timedelta(seconds=120)
    assert outbox.send_due(clock=t2, gw=gw)['sent'] == 1
    row = _sms_rows(app)[0]
    assert (row.state, row.attempts, row.sent_at) == ('sent', 3, t2)
    assert len(gw.sent) == 1 and gw.sent[0][0] == row.mobile
    assert SmsMessage.select().where((SmsMessage.purpose == 'notify') & (SmsMessage.status == 'sent')).count() == 1
    assert outbox.send_due(clock=t2 + datetime.timedelta(hours=5), gw=gw)['sent'] == 0     # never twice
    assert len(gw.sent) == 1


def test_after_the_last_attempt_failed_then_an_administrator_resends(app, users, password_hash):
    app_row = build_application('initial', 'submitted')
    perform(app_row, 'return', actor_for('enterprise', app_row, users, password_hash), comment='原因')
    gw = FlakyGateway(failures=100)
    clock = T0
    for _ in range(outbox.DEFAULTS['NOTIFY_MAX_ATTEMPTS']):
        outbox.send_due(clock=clock, gw=gw)
        clock += datetime.timedelta(days=1)
    row = _sms_rows(app_row)[0]
    assert row.state == 'failed' and row.attempts == outbox.DEFAULTS['NOTIFY_MAX_ATTEMPTS']
    assert outbox.send_due(clock=clock, gw=gw)['retrying'] == 0           # failed rows stay failed
    assert outbox.resend([row.id], clock=clock) == 1
    gw.failures = 0
    assert outbox.send_due(clock=clock, gw=gw)['sent'] == 1
    assert _sms_rows(app_row)[0].state == 'sent'


def test_worker_killed_mid_send_is_picked_up_again_and_sent_once(users, password_hash):
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='原因')
    row = _sms_rows(app)[0]
    # a worker claimed the row, then died before finishing: the row stays 'sending'
    assert outbox.claim(row, T0)
    gw = FlakyGateway(failures=0)
    # while the claim is fresh, nobody else takes it (the dead worker might still be alive)
    assert outbox.send_due(clock=T0 + datetime.timedelta(seconds=60), gw=gw)['sent'] == 0
    assert gw.sent == []
    # once the claim is stale, the row is claimed again and sent, exactly once
    later = T0 + datetime.timedelta(seconds=outbox.DEFAULTS['NOTIFY_CLAIM_STALE_SECONDS'] + 1)
    assert outbox.send_due(clock=later, gw=gw)['sent'] == 1
    assert outbox.send_due(clock=later + datetime.timedelta(hours=1), gw=gw)['sent'] == 0
    assert len(gw.sent) == 1
    assert _sms_rows(app)[0].state == 'sent'


def test_two_workers_never_claim_the_same_row(users, password_hash):
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='原因')
    seen_by_a = outbox._due(T0, 10)
    seen_by_b = outbox._due(T0, 10)          # both read the same due row
    assert [r.id for r in seen_by_a] == [r.id for r in seen_by_b]
    assert outbox.claim(seen_by_a[0], T0) is True
    assert outbox.claim(seen_by_b[0], T0) is False


def test_information_sms_can_be_switched_off_but_needs_action_always_goes(users, password_hash):
    app = build_application('initial', 'reported')
    applicant = actor_for('applicant', app, users, password_hash)
    outbox.set_sms_info(applicant, False)
    perform(app, 'accept', users['acceptor'])                               # information
    assert [r.channel for r in Notification.select().where(Notification.application == app.id)] == ['inapp']
    app2 = build_application('initial', 'submitted', person=app.person)
    perform(app2, 'return', actor_for('enterprise', app2, users, password_hash), comment='原因')    # needs action
    assert {r.channel for r in Notification.select().where(Notification.application == app2.id)} == {'inapp', 'sms'}


def test_announcement_notifies_every_holder_in_one_batch(users):
    rows = [build_application('initial', 'approved') for _ in range(3)]
    from backoffice.issuing import notices
    notice = notices.create_draft(users['reviewer'], ids=[r.id for r in rows])
    notices.publish(notice.id, users['reviewer'])
    got = Notification.select().where((Notification.template_key == 'announced') & (Notification.channel == 'inapp'))
    assert sorted(n.application_id for n in got) == sorted(r.id for r in rows)


def test_cancellation_confirmed_tells_holder_and_enterprise(users, password_hash):
    app = build_application('cancellation', 'submitted')
    perform(app, 'confirm_cancel', actor_for('enterprise', app, users, password_hash))
    keys = {(n.template_key, bool(n.person_id), bool(n.enterprise_id))
            for n in Notification.select().where(Notification.channel == 'inapp')}
    assert keys == {('cancelled', True, False), ('enterprise_cancelled', False, True)}


def test_lapse_tells_the_holder_in_the_batch():
    person = make_person(birth=datetime.date(1950, 1, 1))
    make_registration(person, make_enterprise())
    lifecycle.run_lapse(today=datetime.date.today())
    row = Notification.get((Notification.person == person.id) & (Notification.channel == 'inapp'))
    assert row.template_key == 'lapsed' and '年龄超过65周岁' in row.text
    lifecycle.run_lapse(today=datetime.date.today())          # nothing lapses twice: no second message
    assert Notification.select().where(Notification.template_key == 'lapsed').count() == 2    # inapp + sms


def test_message_centre_unread_count_and_mark_read(client, users, password_hash):
    from .conftest import login, post_form
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='请补充劳动合同')
    applicant = actor_for('applicant', app, users, password_hash)
    assert outbox.unread_count(applicant) == 1
    login(client, applicant.username)
    page = client.get('/messages/').get_data(as_text=True)
    assert '请补充劳动合同' in page and 'data-unread="1"' in page
    post_form(client, '/messages/read', {'all': '1'}, page='/messages/')
    assert outbox.unread_count(applicant) == 0
    assert 'data-unread="0"' in client.get('/messages/').get_data(as_text=True)


def test_template_with_unknown_placeholder_is_refused():
    with pytest.raises(templates.TemplateError) as err:
        templates.validate('returned', '{name}您好：{phone}')
    assert '{phone}' in err.value.message and '可用的占位符' in err.value.message
    with pytest.raises(templates.TemplateError) as err:
        templates.validate('returned', '{name您好')
    assert '花括号' in err.value.message
    assert templates.validate('returned', '{name}：{comment}') == '{name}：{comment}'


def test_an_edited_template_is_used(users, password_hash):
    from models import NotificationTemplate
    templates.ensure_defaults()
    NotificationTemplate.update(text='退回通知：{number}').where(NotificationTemplate.key == 'returned').execute()
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='原因')
    assert Notification.get((Notification.application == app.id) & (Notification.channel == 'inapp')).text == \
        f'退回通知：{app.number}'


def test_admin_edits_a_template_and_an_unknown_placeholder_is_refused_at_the_field(client, users):
    from models import NotificationTemplate
    from .conftest import csrf_from, login
    login(client, 'admin')
    assert '要求补正' in client.get('/admin/notificationtemplate/').get_data(as_text=True)     # seeded defaults
    row = NotificationTemplate.get(NotificationTemplate.key == 'correction')
    url = f'/admin/notificationtemplate/edit/?id={row.id}'
    page = client.get(url).get_data(as_text=True)
    assert '可用的占位符' in page
    r = client.post(url, data={'text': '{name}：请补正 {materials}', 'csrf_token': csrf_from(page)})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and '无法识别的占位符：{materials}' in page
    assert NotificationTemplate.get_by_id(row.id).text == templates.DEFAULTS['correction'].text
    r = client.post(url, data={'text': '{name}：请补正 {comment}', 'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    assert NotificationTemplate.get_by_id(row.id).text == '{name}：请补正 {comment}'


def test_admin_sees_failures_and_resends(client, users, password_hash):
    from .conftest import csrf_from, login
    app = build_application('initial', 'submitted')
    perform(app, 'return', actor_for('enterprise', app, users, password_hash), comment='原因')
    row = _sms_rows(app)[0]
    Notification.update(state='failed', attempts=6, last_error='HTTP 500').where(Notification.id == row.id).execute()
    login(client, 'admin')
    page = client.get('/admin/notification/?flt0_0=failed').get_data(as_text=True)
    assert 'HTTP 500' in page and '发送失败' in page
    r = client.post('/admin/notification/action/', data={'action': 'resend', 'rowid': [str(row.id)],
                                                        'csrf_token': csrf_from(page)})
    assert r.status_code == 302
    assert Notification.get_by_id(row.id).state == 'queued'
    assert outbox.send_due(clock=T0, gw=FlakyGateway(0))['sent'] == 1


def test_registry_cancellation_for_deception_tells_of_the_cancellation_and_the_ban(users):
    from models import CancellationReason
    person = make_person()
    ent = make_enterprise()
    reg = make_registration(person, ent)
    revoked = CancellationReason.get(CancellationReason.text == '依法被撤销注册')
    lifecycle.cancel_by_registry(reg, users['reviewer'], [revoked.id], '以虚假业绩取得注册', deception=True)
    keys = {(n.template_key, n.person_id or n.enterprise_id) for n in Notification.select().where(
        Notification.channel == 'inapp')}
    assert keys == {('cancelled', person.id), ('enterprise_cancelled', ent.id), ('banned', person.id)}
    ban = Notification.get(Notification.template_key == 'banned')
    assert '第三十四条' in ban.text and '不得申请注册' in ban.text


def test_an_ordinary_refusal_starts_no_ban_message(users):
    from models import RefusalGround
    app = build_application('initial', 'accepted', accepted_by=users['acceptor2'])
    perform(app, 'refuse', users['reviewer'], comment='', grounds=[RefusalGround.get(RefusalGround.code == '3').id])
    assert {n.template_key for n in Notification.select()} == {'refused'}


def test_a_request_that_wrote_notifications_queues_a_send_after_it(client, users, password_hash, monkeypatch):
    from backoffice.notify import tasks
    from .conftest import csrf_from, login
    queued = []
    monkeypatch.setattr(tasks, 'queue_inline', lambda: False)
    monkeypatch.setattr(tasks, 'send_notifications', lambda: queued.append(Notification.select().where(
        Notification.state == 'queued').count()))
    app_row = build_application('initial', 'submitted')
    hr = actor_for('enterprise', app_row, users, password_hash)
    login(client, hr.username)
    page = client.get(f'/enterprise/application/{app_row.id}').get_data(as_text=True)
    assert queued == []                         # reading writes nothing, queues nothing
    client.post(f'/enterprise/application/{app_row.id}/act',
                data={'transition': 'return', 'comment': '请补充劳动合同', 'csrf_token': csrf_from(page)})
    assert queued == [1]                        # queued once, after the row was committed


def test_unread_count_is_the_inbox_unread_messages_of_each_kind_of_user(users, password_hash):
    """unread_count (composed once, shown on every portal page) counts what inbox_query lists unread:
    an applicant's person's, an enterprise user's enterprise's in-app messages; never an SMS, a read
    message or someone else's; 0 for staff."""
    from .conftest import make_user
    person, other_person = make_person(), make_person()
    ent, other_ent = make_enterprise(), make_enterprise()
    applicant = make_user('unread_app', password_hash, role='applicant', person=person)
    hr = make_user('unread_ent', password_hash, role='enterprise', enterprise=ent)

    def note(**kw):
        return Notification.create(template_key='returned', text='x', state='sent', **kw)
    note(person=person, channel='inapp')
    note(person=person, channel='inapp')
    note(person=person, channel='inapp', read_at=datetime.datetime.now())
    note(person=person, channel='sms')
    note(person=other_person, channel='inapp')
    note(enterprise=ent, channel='inapp')
    note(enterprise=other_ent, channel='inapp')
    for user in (applicant, hr, users['reviewer']):
        user = User.get_by_id(user.id)
        query = outbox.inbox_query(user)
        expected = 0 if query is None else query.where(Notification.read_at.is_null()).count()
        assert outbox.unread_count(user) == expected
    assert (outbox.unread_count(applicant), outbox.unread_count(hr), outbox.unread_count(users['reviewer'])) == (2, 1, 0)
