"""The workflow table, exercised for every business type x transition x role."""
import datetime
import threading

import pytest

from backoffice.workflow import transitions, states
from backoffice.roles import ROLES
from backoffice.workflow.states import WorkflowError
from backoffice.workflow.transitions import TRANSITIONS, perform
from models import (Application, ApplicationRefusalGround, AuditEvent, Person, RefusalGround,
                    RegisteredSpecialty, Registration, database)

from .conftest import actor_for, add_material, build_application

CASES = [(t.name, bt, src, role)
         for t in TRANSITIONS for bt in t.types for src in t.sources[:1] for role in ROLES]


def _payload(t):
    data = {'comment': {'request_correction': '请补充劳动合同；签名不清晰', 'return': '请补充劳动合同；签名不清晰',
                        'registry_cancel': '法院判决书', 'refuse': '证明材料不能证明劳动合同已解除'}.get(t.name, '')}
    if t.name == 'refuse':
        data['grounds'] = [RefusalGround.get(RefusalGround.code == '3').id]
    return data


def test_table_is_consistent():
    """Every transition names known states, types and roles; each (name, type) is declared once."""
    seen = set()
    for t in TRANSITIONS:
        assert t.target in states.STATES
        assert set(t.sources) <= set(states.STATES)
        assert set(t.types) <= set(states.BUSINESS_TYPES)
        assert set(t.roles) <= set(ROLES)
        for bt in t.types:
            assert (t.name, bt) not in seen
            seen.add((t.name, bt))
    # every business type can reach a final state from draft
    for bt in states.BUSINESS_TYPES:
        reach, frontier = {'draft'}, ['draft']
        while frontier:
            s = frontier.pop()
            for t in transitions.transitions_for(bt):
                if s in t.sources and t.target not in reach:
                    reach.add(t.target)
                    frontier.append(t.target)
        assert reach & set(states.FINAL_STATES) - {'withdrawn'}, bt


def _application_events():
    """Audit rows of applications (an effect may also audit the records it corrects, e.g. 资格库)."""
    return AuditEvent.select().where(AuditEvent.object_type == 'application').count()


@pytest.mark.parametrize('name,btype,source,role', CASES,
                         ids=[f'{n}-{b}-{r}' for n, b, s, r in CASES])
def test_transition_by_role(users, password_hash, name, btype, source, role):
    t = transitions.get_transition(name, btype)
    app = build_application(btype, source, accepted_by=users['acceptor2'] if source == 'accepted' else None)
    if name in ('registry_cancel', 'registry_change'):   # started by the registry itself
        Application.update(initiated_by='registry').where(Application.id == app.id).execute()
        app = Application.get_by_id(app.id)
    if name == 'request_forced_cancel':     # the enterprise let the confirmation period pass; proof given
        Application.update(submitted_at=datetime.datetime.now() - datetime.timedelta(days=30)).where(
            Application.id == app.id).execute()
        add_material(app, 'contract_end_proof')
        app = Application.get_by_id(app.id)
    actor = actor_for(role, app, users, password_hash)
    before = _application_events()
    if role in t.roles:
        result = perform(app, name, actor, **_payload(t))
        assert result.state == t.target
        event = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
        assert (event.application_id, event.action, event.from_state, event.to_state, event.actor_id) == \
            (app.id, name, source, t.target, actor.id)
        assert _application_events() == before + 1
    else:
        with pytest.raises(WorkflowError) as err:
            perform(app, name, actor, **_payload(t))
        assert err.value.kind == 'permission'
        assert err.value.messages == [f'{ROLES[role]}无权执行“{t.label}”操作']
        assert Application.get_by_id(app.id).state == source
        assert _application_events() == before


@pytest.mark.parametrize('name,btype', sorted({(t.name, bt) for t in TRANSITIONS for bt in t.types}))
def test_transition_refused_from_wrong_state(users, password_hash, name, btype):
    t = transitions.get_transition(name, btype)
    wrong = next(s for s in states.STATES if s not in t.sources)
    app = build_application(btype, wrong)
    actor = actor_for(t.roles[0], app, users, password_hash)
    with pytest.raises(WorkflowError) as err:
        perform(app, name, actor, **_payload(t))
    assert err.value.kind == 'state'
    assert f'当前状态为“{states.STATES[wrong]}”，不能执行“{t.label}”操作' in err.value.messages[0]


def test_unknown_transition_for_type(users):
    app = build_application('addition', 'submitted')
    with pytest.raises(WorkflowError) as err:
        perform(app, 'report', users['admin'])
    assert err.value.messages == ['增项注册没有“report”操作']


def test_addition_skips_the_enterprise(users, password_hash):
    """FAQ 13: 增项 goes from the applicant straight to the registry."""
    app = build_application('addition')
    applicant = actor_for('applicant', app, users, password_hash)
    assert perform(app, 'submit', applicant).state == 'reported'
    enterprise_user = actor_for('enterprise', app, users, password_hash)
    assert transitions.available(Application.get_by_id(app.id), enterprise_user) == []


def test_other_persons_application_is_refused(users, password_hash):
    app = build_application('initial')
    other = build_application('initial')
    stranger = actor_for('applicant', other, users, password_hash)
    with pytest.raises(WorkflowError) as err:
        perform(app, 'submit', stranger)
    assert err.value.messages == ['只能办理本人的申请']


def test_other_enterprise_cannot_report(users, password_hash):
    app = build_application('initial', 'submitted')
    other = build_application('initial', 'submitted')
    with pytest.raises(WorkflowError) as err:
        perform(app, 'report', actor_for('enterprise', other, users, password_hash))
    assert err.value.messages == ['该申请不属于贵单位']


def test_full_initial_life_cycle_assigns_number(users, password_hash):
    app = build_application('initial')
    person = app.person
    perform(app, 'submit', actor_for('applicant', app, users, password_hash))
    perform(app, 'report', actor_for('enterprise', app, users, password_hash))
    accepted = perform(app, 'accept', users['acceptor'])
    assert accepted.deadline > datetime.date.today()
    assert accepted.accepted_by_id == users['acceptor'].id
    perform(app, 'approve', users['reviewer'])
    done = perform(app, 'announce', users['reviewer'])
    assert done.state == 'announced'
    reg = Registration.get(Registration.person == person)
    ent = app.enterprise
    assert reg.state == 'active' and reg.seal_check == 0
    assert reg.number.startswith(ent.province.abbr + '1' + ent.province.code)
    assert len(reg.number) == 13 and reg.number[1:].isdigit()
    assert reg.number[6:8] == f'{datetime.date.today().year % 100:02d}'
    assert reg.number.endswith('00001')
    spec = RegisteredSpecialty.get(RegisteredSpecialty.registration == reg)
    assert spec.valid_until.year == datetime.date.today().year + 3
    trail = [(e.action, e.from_state, e.to_state) for e in
             AuditEvent.select().where(AuditEvent.application == app).order_by(AuditEvent.id)]
    assert trail == [('submit', 'draft', 'submitted'), ('report', 'submitted', 'reported'),
                     ('accept', 'reported', 'accepted'), ('approve', 'accepted', 'approved'),
                     ('announce', 'approved', 'announced')]


def test_cancellation_then_reregistration_keeps_number_and_new_seal(users, password_hash):
    """FAQ 14: changing employer is 注销 then 重新注册; the number stays, the seal check code goes up."""
    cancel = build_application('cancellation', 'submitted')
    person = cancel.person
    old = Registration.get(Registration.person == person)
    perform(cancel, 'confirm_cancel', actor_for('enterprise', cancel, users, password_hash))
    perform(cancel, 'announce', users['reviewer'])
    assert Registration.get_by_id(old.id).state == 'cancelled'
    rereg = build_application('reregister', 'accepted', person=Person.get_by_id(person.id),
                              accepted_by=users['acceptor'])
    perform(rereg, 'approve', users['reviewer'])
    perform(rereg, 'announce', users['admin'])
    new = Registration.get((Registration.person == person) & (Registration.state == 'active'))
    assert new.id != old.id
    assert new.number[1:] == old.number[1:]
    assert new.seal_check == 1


def test_refusal_records_grounds(users):
    app = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    g = RefusalGround.get(RefusalGround.code == '2')
    perform(app, 'refuse', users['reviewer'], comment='在其他单位有注册', grounds=[str(g.id)], text='补充说明')
    assert [r.ground_id for r in ApplicationRefusalGround.select()] == [g.id]
    assert Application.get_by_id(app.id).refusal_text == '补充说明'


def test_info_change_applies_on_approval(users):
    app = build_application('info_change', 'accepted', accepted_by=users['acceptor'])
    assert perform(app, 'approve', users['reviewer']).state == 'completed'
    assert Person.get_by_id(app.person_id).name == '张卫'


def test_failed_effect_rolls_back_state_and_audit(users):
    """All or nothing: an effect that fails leaves no state change and no audit event."""
    app = build_application('info_change', 'accepted', accepted_by=users['acceptor'])
    clash = build_application('initial').person
    app.new_id_number = clash.id_number
    app.save()
    with pytest.raises(WorkflowError) as err:
        perform(app, 'approve', users['reviewer'])
    assert err.value.messages == ['新身份证号码已被其他人员使用，请核实']
    assert Application.get_by_id(app.id).state == 'accepted'
    assert AuditEvent.select().count() == 0


def test_two_reviewers_at_once_exactly_one_wins(app, users):
    """Two reviewers decide the same application at the same moment: one wins, one is told."""
    row = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    ground = RefusalGround.get(RefusalGround.code == '3').id
    barrier = threading.Barrier(2)
    results = {}

    def act(key, name, user, **data):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                results[key] = perform(row.id, name, user, **data).state
            except WorkflowError as exc:
                results[key] = exc
            finally:
                database.close()

    threads = [threading.Thread(target=act, args=('a', 'approve', users['reviewer'])),
               threading.Thread(target=act, args=('b', 'refuse', users['reviewer2']), kwargs={'grounds': [ground]})]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wins = [v for v in results.values() if isinstance(v, str)]
    losses = [v for v in results.values() if isinstance(v, WorkflowError)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].kind in ('state', 'conflict')
    assert ('刚刚已被其他人处理' in losses[0].messages[0]) or ('当前状态为' in losses[0].messages[0])
    final = Application.get_by_id(row.id)
    assert final.state == wins[0]
    assert AuditEvent.select().where(AuditEvent.application == row.id).count() == 1
