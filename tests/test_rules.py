"""Each guard rule refuses with its Chinese message, and nothing changes."""
import datetime

import pytest

from backoffice.workflow.states import WorkflowError
from backoffice.workflow.transitions import perform
from models import (Application, ApplicationCancelReason, ApplicationSpecialty, AuditEvent,
                    ExternalRegistration, Material, Qualification, RegisteredSpecialty, Registration)

from .conftest import (actor_for, build_application, make_enterprise, make_person, make_registration,
                       specialty)

TODAY = datetime.date.today()


def _no_specialty(app):
    ApplicationSpecialty.delete().where(ApplicationSpecialty.application == app).execute()


def _unqualified(app):
    ApplicationSpecialty.create(application=app, specialty=specialty('矿业工程'))


def _name_mismatch(app):
    Qualification.update(holder_name='张维').where(Qualification.person == app.person).execute()


def _old_qualification(app):
    Qualification.update(issue_date=TODAY - datetime.timedelta(days=4 * 365)).where(
        Qualification.person == app.person).execute()
    Material.delete().where((Material.application == app) & (Material.kind == 'continuing_education')).execute()


def _already_registered(app):
    make_registration(app.person, make_enterprise())


def _unverified_enterprise(app):
    app.enterprise.verified = False
    app.enterprise.save()


def _contract_reversed(app):
    app.contract_end = app.contract_start - datetime.timedelta(days=1)
    app.save()


def _contract_missing(app):
    app.contract_end = None
    app.save()


def _too_old(app):
    p = make_person(birth=datetime.date(TODAY.year - 66, 1, 2))
    Application.update(person=p).where(Application.id == app.id).execute()


def _external(app):
    ExternalRegistration.create(id_number=app.person.id_number, name=app.person.name, category='二级建造师',
                                reg_number='京2110000001', enterprise_name='某公司')


def _too_early(app):
    RegisteredSpecialty.update(valid_until=TODAY + datetime.timedelta(days=1000)).execute()


def _no_commitment(app):
    app.commitment_accepted = False
    app.save()


def _no_photo(app):
    Material.delete().where((Material.application == app) & (Material.kind == 'photo')).execute()


def _open_other(app):
    build_application('initial', 'reported', person=app.person)


def _expiring(app):
    RegisteredSpecialty.update(valid_until=TODAY + datetime.timedelta(days=20)).execute()


def _expired(app):
    RegisteredSpecialty.update(valid_until=TODAY - datetime.timedelta(days=1)).execute()


def _already_has_specialty(app):
    _no_specialty(app)
    ApplicationSpecialty.create(application=app, specialty=specialty('建筑工程'))


def _not_registered(app):
    Registration.update(state='cancelled').execute()


def _no_reason(app):
    ApplicationCancelReason.delete().execute()


def _no_explanation(app):
    app.change_explanation = ''
    app.save()


def _bad_new_id(app):
    app.new_id_number = '110105194912310021'
    app.save()


def _other_enterprise(app):
    Application.update(enterprise=make_enterprise()).where(Application.id == app.id).execute()


RULE_CASES = [
    # (business type, mutation, expected message fragment)
    ('initial', _no_specialty, '请至少选择一个注册专业'),
    ('initial', _unqualified, '资格库中没有您的以下专业资格，不能申请注册：矿业工程'),
    ('initial', _name_mismatch, '与资格库不一致，请先办理“信息修改或材料补充”'),
    ('initial', _old_qualification, '资格证书签发已超过3年，须上传继续教育证明'),
    ('initial', _already_registered, '一人只能在一个单位注册；变更单位须先办理注销，再申请重新注册'),
    ('initial', _unverified_enterprise, '请确认企业名称'),
    ('initial', _contract_reversed, '劳动合同结束日期应晚于开始日期'),
    ('initial', _contract_missing, '请填写劳动合同开始日期和结束日期'),
    ('initial', _too_old, '第十五条第（十）项（年龄超过65周岁）不予注册'),
    ('initial', _external, '不能在两个或者两个以上单位注册'),
    ('initial', _no_commitment, '请阅读个人承诺并勾选“本人作出上述承诺”'),
    ('initial', _no_photo, '请上传申报材料：一寸白底免冠照'),
    ('initial', _open_other, '办结后才能提交新的申请'),
    ('reregister', _already_registered, '一人只能在一个单位注册'),
    ('renewal', _expiring, '延续注册须在到期30日前申请'),
    ('renewal', _expired, '请申请重新注册'),
    ('renewal', _too_early, '（到期前90日内）'),
    ('renewal', _other_enterprise, '延续注册的聘用企业须为当前注册单位'),
    ('addition', _already_has_specialty, '以下专业已经注册，不能增项：建筑工程'),
    ('addition', _not_registered, '您目前没有有效的注册，不能办理此项业务'),
    ('cancellation', _no_reason, '请勾选注销原因'),
    ('cancellation', _not_registered, '您目前没有有效的注册'),
    ('info_change', _no_explanation, '修改姓名或身份证号须填写情况说明'),
    ('info_change', _bad_new_id, '新身份证号码：身份证号码校验位不正确'),
]


@pytest.mark.parametrize('btype,mutate,message', RULE_CASES,
                         ids=[f'{b}-{m.__name__}' for b, m, _ in RULE_CASES])
def test_submit_rule(users, password_hash, btype, mutate, message):
    app = build_application(btype)
    mutate(Application.get_by_id(app.id))
    with pytest.raises(WorkflowError) as err:
        perform(app.id, 'submit', actor_for('applicant', Application.get_by_id(app.id), users, password_hash))
    assert err.value.kind == 'rule'
    assert any(message in m for m in err.value.messages), err.value.messages
    assert Application.get_by_id(app.id).state == 'draft'
    assert AuditEvent.select().count() == 0


def test_all_failures_listed_at_once(users, password_hash):
    app = build_application('initial')
    _no_commitment(app)
    _contract_reversed(Application.get_by_id(app.id))
    _no_photo(app)
    with pytest.raises(WorkflowError) as err:
        perform(app.id, 'submit', actor_for('applicant', app, users, password_hash))
    assert len(err.value.messages) == 3


def test_acceptor_may_not_review(users):
    app = build_application('initial', 'accepted', accepted_by=users['reviewer'])
    with pytest.raises(WorkflowError) as err:
        perform(app, 'approve', users['reviewer'])
    assert err.value.messages == ['受理人与审查人不能为同一人，请由其他审查人员办理']


def test_refusal_needs_a_ground(users):
    app = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    with pytest.raises(WorkflowError) as err:
        perform(app, 'refuse', users['reviewer'], grounds=[])
    assert err.value.messages == ['不予注册须至少选择一项依据（《注册建造师管理规定》第十五条）']
    with pytest.raises(WorkflowError) as err:
        perform(app, 'refuse', users['reviewer'], grounds=['abc'])
    assert err.value.messages == ['不予注册依据无效']
    assert Application.get_by_id(app.id).state == 'accepted'


def test_enterprise_withdraws_only_before_report(users, password_hash):
    """FAQ 11: withdraw while submitted; once reported it cannot."""
    app = build_application('initial', 'submitted')
    ent_user = actor_for('enterprise', app, users, password_hash)
    assert perform(app, 'withdraw', ent_user).state == 'withdrawn'
    reported = build_application('initial', 'reported')
    with pytest.raises(WorkflowError) as err:
        perform(reported, 'withdraw', actor_for('enterprise', reported, users, password_hash))
    assert err.value.messages == ['该申请当前状态为“待受理”，不能执行“撤回”操作']


def test_return_needs_reason_and_is_recorded(users, password_hash):
    app = build_application('initial', 'submitted')
    ent_user = actor_for('enterprise', app, users, password_hash)
    with pytest.raises(WorkflowError) as err:
        perform(app, 'return', ent_user, comment='  ')
    assert err.value.messages == ['请填写退回原因']
    perform(app, 'return', ent_user, comment='合同日期有误')
    row = Application.get_by_id(app.id)
    assert (row.state, row.return_reason) == ('returned', '合同日期有误')
    # the applicant edits and resubmits the same application
    assert perform(app, 'submit', actor_for('applicant', row, users, password_hash)).state == 'submitted'


def test_correction_lists_items_and_restarts_clock(users, password_hash):
    app = build_application('initial', 'reported')
    perform(app, 'request_correction', users['acceptor'], comment='1. 签名不清晰\n2. 合同缺页')
    row = Application.get_by_id(app.id)
    assert row.state == 'correction' and row.correction_note == '1. 签名不清晰\n2. 合同缺页'
    perform(app, 'resubmit', actor_for('applicant', row, users, password_hash))
    accepted = perform(app, 'accept', users['acceptor2'])
    assert accepted.deadline is not None and accepted.correction_note == ''


def test_joint_review_adds_ten_working_days(users):
    from backoffice.workflow.calendar import add_working_days
    plain = perform(build_application('initial', 'reported'), 'accept', users['acceptor'])
    joint = build_application('initial', 'reported', specialties=['公路工程'])
    Qualification.create(cert_number='QJ1', holder_name=joint.person.name, holder_id_number=joint.person.id_number,
                         person=joint.person, specialty=specialty('公路工程'), issue_date=TODAY)
    joint = perform(joint, 'accept', users['acceptor'])
    assert plain.deadline == add_working_days(TODAY, 20)
    assert joint.deadline == add_working_days(TODAY, 30)


def test_decision_rechecks_conflicts(users):
    """A conflict that appeared after submission stops the approval."""
    app = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    _external(app)
    with pytest.raises(WorkflowError) as err:
        perform(app, 'approve', users['reviewer'])
    assert '不能在两个或者两个以上单位注册' in err.value.messages[0]


def test_renewal_extends_validity(users):
    app = build_application('renewal', 'approved')
    rs = RegisteredSpecialty.get()
    old_until = rs.valid_until
    perform(app, 'announce', users['reviewer'])
    assert RegisteredSpecialty.get_by_id(rs.id).valid_until == old_until.replace(year=old_until.year + 3)


def test_addition_adds_specialty_with_own_validity(users):
    app = build_application('addition', 'approved')
    perform(app, 'announce', users['reviewer'])
    added = RegisteredSpecialty.get(RegisteredSpecialty.specialty == specialty('市政公用工程'))
    assert added.valid_from == TODAY and added.valid_until == TODAY.replace(year=TODAY.year + 3)


def test_calendar_skips_weekends_and_holidays():
    from backoffice.workflow.calendar import add_working_days, working_days_between
    friday = datetime.date(2026, 11, 20)
    assert add_working_days(friday, 1) == datetime.date(2026, 11, 23)
    assert add_working_days(friday, 1, ['2026-11-23']) == datetime.date(2026, 11, 24)
    assert add_working_days(friday, 20) == datetime.date(2026, 12, 18)
    assert working_days_between(friday, datetime.date(2026, 12, 18)) == 20
    assert working_days_between(datetime.date(2026, 12, 18), friday) == -20


def test_a_registration_elsewhere_at_the_same_enterprise_is_no_conflict(users, password_hash):
    """FAQ 9: only a registration at another enterprise blocks; the message names it."""
    app = build_application('initial')
    ExternalRegistration.create(id_number=app.person.id_number, name=app.person.name, category='二级建造师',
                                reg_number='京2110000002', enterprise_name=app.enterprise.name,
                                enterprise_uscc=app.enterprise.uscc)
    actor = actor_for('applicant', app, users, password_hash)
    assert perform(app.id, 'submit', actor).state == 'submitted'
    other = build_application('initial')
    ExternalRegistration.create(id_number=other.person.id_number, name=other.person.name, category='二级建造师',
                                reg_number='京2110000003', enterprise_name='别的建设公司', enterprise_uscc='91110000600037341L')
    with pytest.raises(WorkflowError) as err:
        perform(other.id, 'submit', actor_for('applicant', other, users, password_hash))
    assert any('别的建设公司' in m for m in err.value.messages)


def test_renewal_window_edges_with_an_injected_today(users, password_hash):
    from backoffice.workflow import rules
    from backoffice.workflow.transitions import TransitionContext, get_transition
    app = build_application('renewal')
    until = RegisteredSpecialty.get().valid_until
    ctx = lambda day: TransitionContext(app, None, get_transition('submit', 'renewal'), '', {}, day)  # noqa: E731
    assert rules.renewal_window(ctx(until - datetime.timedelta(days=90))) is None
    assert '方可申请' in rules.renewal_window(ctx(until - datetime.timedelta(days=91)))
    assert rules.renewal_window(ctx(until - datetime.timedelta(days=30))) is None
    assert '到期30日前' in rules.renewal_window(ctx(until - datetime.timedelta(days=29)))
