"""The daily lapse (失效, Art. 16), with "today" injected: every case at once, run twice."""
import datetime

from backoffice.desks import public_query
from backoffice.issuing import certificates
from backoffice.workflow import lifecycle, transitions
from models import AuditEvent, Certificate, Enterprise, Person, RegisteredSpecialty, Registration
from tests.conftest import (actor_for, build_application, make_enterprise, make_person, make_registration,
                            registered_with_certificate)

TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)


def _born(name, day):
    """A person born exactly on `day` (the test ID builder shifts birth dates as the run goes on)."""
    from models import Person
    person = make_person(name, birth=day)
    Person.update(birth_date=day).where(Person.id == person.id).execute()
    return Person.get_by_id(person.id)


def _spec_states(reg):
    return {rs.specialty.name: rs.state for rs in RegisteredSpecialty.select().where(
        RegisteredSpecialty.registration == reg)}


def _set_until(reg, name, until):
    for rs in RegisteredSpecialty.select().where(RegisteredSpecialty.registration == reg):
        if rs.specialty.name == name:
            rs.valid_until = until
            rs.save()


def _registry_with_every_case():
    ent = make_enterprise()
    cases = {}
    # one specialty past its date, one still valid: the specialty expires, the registration stays
    p = make_person('甲')
    cases['partial'] = make_registration(p, ent, ('建筑工程', '市政公用工程'))
    _set_until(cases['partial'], '建筑工程', TODAY - DAY)
    # the only specialty ends today: still valid today
    cases['ends_today'] = make_registration(make_person('乙'), ent, ('建筑工程',), valid_until=TODAY)
    # the only specialty ended yesterday: the registration lapses (expired)
    cases['expired'] = make_registration(make_person('丙'), ent, ('建筑工程',), valid_until=TODAY - DAY)
    # 65th birthday today: not over 65 yet; born a day earlier: over 65
    sixty_five = lifecycle.age_limit_birth_date(TODAY)
    cases['birthday_today'] = make_registration(_born('丁', sixty_five), ent)
    cases['over_65'] = make_registration(_born('戊', sixty_five - DAY), ent)
    # an enterprise declared bankrupt
    bankrupt = make_enterprise()
    Enterprise.update(status='bankrupt', status_date=TODAY - DAY, status_source='法院公告').where(
        Enterprise.id == bankrupt.id).execute()
    cases['bankrupt'] = make_registration(make_person('己'), bankrupt)
    # untouched: valid, young, normal enterprise; and one already cancelled
    cases['fine'] = make_registration(make_person('庚'), ent)
    cases['cancelled'] = make_registration(make_person('辛'), ent, state='cancelled')
    return cases


def test_every_case_at_once_then_nothing_the_second_time():
    cases = _registry_with_every_case()
    counts = lifecycle.run_lapse(today=TODAY, batch=2)      # tiny batches: the loop is exercised
    assert counts == {'specialties_expired': 2, 'age': 1, 'enterprise': 1, 'expired': 1}

    def state(name):
        return Registration.get_by_id(cases[name].id)
    assert state('partial').state == 'active'
    assert _spec_states(cases['partial']) == {'建筑工程': 'expired', '市政公用工程': 'active'}
    assert state('ends_today').state == 'active'
    assert (state('expired').state, state('expired').end_reason, state('expired').lapsed_on) == (
        'lapsed', 'expired', TODAY)
    assert state('birthday_today').state == 'active'
    assert (state('over_65').state, state('over_65').end_reason) == ('lapsed', 'age')
    assert (state('bankrupt').state, state('bankrupt').end_reason) == ('lapsed', 'enterprise')
    assert state('fine').state == 'active'
    assert state('cancelled').state == 'cancelled'
    assert set(_spec_states(cases['over_65']).values()) == {'lapsed'}

    events = list(AuditEvent.select().where(AuditEvent.object_type == 'registration').order_by(AuditEvent.id))
    lapses = {e.object_id: e for e in events if e.action == 'lapse'}
    assert set(lapses) == {cases['expired'].id, cases['over_65'].id, cases['bankrupt'].id}
    assert all(e.actor_id is None and e.actor_role == 'system' and e.to_state == 'lapsed' for e in lapses.values())
    assert '年龄超过65周岁' in lapses[cases['over_65'].id].comment

    before = AuditEvent.select().count()
    assert lifecycle.run_lapse(today=TODAY) == {'specialties_expired': 0, 'age': 0, 'enterprise': 0, 'expired': 0}
    assert AuditEvent.select().count() == before


def test_a_year_later_everything_valid_today_lapses_by_expiry():
    reg = make_registration(make_person(), make_enterprise(), valid_until=TODAY + datetime.timedelta(days=200))
    assert lifecycle.run_lapse(today=TODAY + datetime.timedelta(days=200))['expired'] == 0
    assert lifecycle.run_lapse(today=TODAY + datetime.timedelta(days=201))['expired'] == 1
    assert Registration.get_by_id(reg.id).state == 'lapsed'


def test_lapse_voids_the_certificate_and_verification_says_so(client, users):
    cert, row = registered_with_certificate(users, with_images=False)
    token = certificates.token_for(cert)
    assert '有效' in client.get(f'/verify/{token}').get_data(as_text=True)
    reg = Registration.get(Registration.person == row.person_id)
    RegisteredSpecialty.update(valid_until=TODAY - DAY).where(RegisteredSpecialty.registration == reg).execute()
    lifecycle.run_lapse(today=TODAY)
    assert Certificate.get_by_id(cert.id).state == 'void'
    assert certificates.status(Certificate.get_by_id(cert.id)) == 'lapsed'
    page = client.get(f'/verify/{token}').get_data(as_text=True)
    assert '注册已失效' in page and '本证书真实有效' not in page


def test_public_query_no_longer_lists_a_lapsed_registration():
    reg = make_registration(make_person(), make_enterprise(), valid_until=TODAY - DAY)
    assert len(public_query.search(reg_number=reg.number)) == 1
    lifecycle.run_lapse(today=TODAY)
    assert public_query.search(reg_number=reg.number) == []


def test_after_a_lapse_by_expiry_the_holder_can_file_reregistration_at_once(users, password_hash):
    person = make_person()
    make_registration(person, make_enterprise(), valid_until=TODAY - DAY)
    app = build_application('reregister', 'draft', person=person)
    actor = actor_for('applicant', app, users, password_hash)
    blocked = transitions.rule_report(app, actor)
    assert any(msg for _label, msg in blocked), 'before the lapse the active registration blocks it'
    lifecycle.run_lapse(today=TODAY)
    assert transitions.perform(app, 'submit', actor).state == 'submitted'


def test_helpdesk_tells_the_caller_the_registration_lapsed_and_why():
    from backoffice.desks import helpdesk
    person = _born('张伟', lifecycle.age_limit_birth_date(TODAY) - DAY)
    make_registration(person, make_enterprise())
    lifecycle.run_lapse(today=TODAY)
    summary = helpdesk.person_summary(person)
    assert summary['registration'] is None
    assert any('失效' in a and '年龄超过65周岁' in a for a in summary['answers'])


def test_lapse_command_with_an_injected_day(app):
    reg = make_registration(make_person(), make_enterprise(), valid_until=TODAY + datetime.timedelta(days=10))
    runner = app.test_cli_runner()
    out = runner.invoke(args=['lapse', '--today', (TODAY + datetime.timedelta(days=11)).isoformat()])
    assert out.exit_code == 0, out.output
    assert '有效期满 1 人' in out.output
    assert Registration.get_by_id(reg.id).state == 'lapsed'
    bad = runner.invoke(args=['lapse', '--today', '2026-13-01'])
    assert bad.exit_code != 0 and 'YYYY-MM-DD' in bad.output


def test_the_lapse_runs_daily_on_the_consumer_scheduler():
    from backoffice.background import jobs
    tasks = [t for t in jobs.huey._registry.periodic_tasks if t.name.endswith('daily_lapse')]
    assert len(tasks) == 1, 'daily_lapse is not a periodic task of the consumer'
    assert tasks[0].validate_datetime(datetime.datetime(2026, 1, 1, 0, 20))
    assert not tasks[0].validate_datetime(datetime.datetime(2026, 1, 1, 12, 0))


def test_staff_set_an_enterprise_bankrupt_with_date_and_source_and_its_staff_lapse(client, users):
    from tests.conftest import login, post_form
    ent = make_enterprise()
    reg = make_registration(make_person(), ent)
    assert login(client, 'admin').status_code == 302
    form = {'uscc': ent.uscc, 'name': ent.name, 'legal_rep': ent.legal_rep, 'province': str(ent.province_id),
            'city': ent.city, 'address': ent.address, 'verified': 'y', 'status': 'bankrupt'}
    url = f'/admin/enterprise/edit/?id={ent.id}'
    page = post_form(client, url, form).get_data(as_text=True)
    assert '请填写状态日期' in page and '请填写状态来源' in page
    assert Enterprise.get_by_id(ent.id).status == 'normal'
    r = post_form(client, url, {**form, 'status_date': TODAY.isoformat(), 'status_source': '法院公告'})
    assert r.status_code == 302
    assert Enterprise.get_by_id(ent.id).status == 'bankrupt'
    assert lifecycle.run_lapse(today=TODAY)['enterprise'] == 1
    assert Registration.get_by_id(reg.id).end_reason == 'enterprise'


def test_cancellation_takes_effect_when_the_enterprise_confirms_and_reregistration_can_start(users, password_hash):
    """FAQ 14: the 注销 ends the registration at confirmation; the announcement only lists it."""
    from backoffice.workflow.transitions import perform
    cancel = build_application('cancellation', 'submitted')
    reg = Registration.get(Registration.person == cancel.person_id)
    cert = Certificate.create(serial='ZS-C1', registration=reg, person=cancel.person_id, issued_on=TODAY,
                              use_until=TODAY + datetime.timedelta(days=100), state='valid')
    perform(cancel, 'confirm_cancel', actor_for('enterprise', cancel, users, password_hash))
    reg = Registration.get_by_id(reg.id)
    assert (reg.state, reg.cancelled_on) == ('cancelled', TODAY)
    assert Certificate.get_by_id(cert.id).state == 'void'
    rereg = build_application('reregister', 'draft', person=cancel.person)
    assert perform(rereg, 'submit', actor_for('applicant', rereg, users, password_hash)).state == 'submitted'
    # the next announcement lists the 注销 without touching the registry again
    from tests.conftest import announce
    announce(cancel, users['reviewer'])
    assert Application_state(cancel) == 'announced'
    assert Registration.get_by_id(reg.id).cancelled_on == TODAY


def Application_state(row):
    from models import Application
    return Application.get_by_id(row.id).state


def test_registry_cancels_a_registration_with_a_decision_record(app, client, users):
    from models import Application, CancellationReason
    from tests.conftest import login, post_form
    ent = make_enterprise()
    person = make_person()
    reg = make_registration(person, ent)
    cert = Certificate.create(serial='ZS-R1', registration=reg, person=person, issued_on=TODAY,
                              use_until=TODAY + datetime.timedelta(days=100), state='valid')
    death = CancellationReason.get(CancellationReason.text == '死亡或不具有完全民事行为能力')
    url = f'/admin/registration/cancel/?id={reg.id}'
    acceptor = app.test_client()
    assert login(acceptor, 'acceptor').status_code == 302
    assert acceptor.get(url).status_code == 403
    assert login(client, 'reviewer').status_code == 302
    page = post_form(client, url, {'id': str(reg.id)}).get_data(as_text=True)
    assert '请勾选注销原因' in page and '请填写注销决定说明' in page
    assert Registration.get_by_id(reg.id).state == 'active'
    # what was typed stays on the page
    page = post_form(client, url, {'id': str(reg.id), 'reasons': str(death.id)}).get_data(as_text=True)
    assert 'checked' in page and '请填写注销决定说明' in page
    r = post_form(client, url, {'id': str(reg.id), 'reasons': str(death.id), 'explanation': '公安机关死亡证明'})
    assert r.status_code == 302
    assert Registration.get_by_id(reg.id).state == 'cancelled'
    assert Certificate.get_by_id(cert.id).state == 'void'
    decision = Application.get((Application.person == person) & (Application.initiated_by == 'registry'))
    assert (decision.business_type, decision.state, decision.decided_by_id) == (
        'cancellation', 'approved', users['reviewer'].id)
    assert decision.change_explanation == '公安机关死亡证明'
    assert [c.reason_id for c in decision.cancel_reasons] == [death.id]
    assert AuditEvent.get(AuditEvent.application == decision).action == 'registry_cancel'
    # listed in the next announcement
    from backoffice.issuing import notices
    notice = notices.create_draft(users['reviewer'], ids=[decision.id])
    notices.publish(notice.id, users['reviewer'])
    assert Application.get_by_id(decision.id).state == 'announced'


def test_the_registry_cannot_push_an_applicants_own_draft_through(users, password_hash):
    import pytest
    from backoffice.workflow.states import WorkflowError
    draft = build_application('cancellation', 'draft')
    with pytest.raises(WorkflowError) as exc:
        transitions.perform(draft, 'registry_cancel', users['reviewer'], comment='x')
    assert '只有注册机构发起的注销' in str(exc.value)


# --- 强制注销 ------------------------------------------------------------------------------

def _unconfirmed_cancellation(days_ago):
    from models import Application
    cancel = build_application('cancellation', 'submitted')
    Application.update(submitted_at=datetime.datetime.now() - datetime.timedelta(days=days_ago)).where(
        Application.id == cancel.id).execute()
    return Application.get_by_id(cancel.id)


def test_forced_cancellation_after_the_enterprise_lets_the_period_pass(users, password_hash):
    import pytest
    from backoffice.intake import applications as svc
    from backoffice.workflow.states import WorkflowError
    from models import Application
    early = _unconfirmed_cancellation(days_ago=2)
    holder = actor_for('applicant', early, users, password_hash)
    with pytest.raises(WorkflowError) as exc:
        svc.request_forced_cancel(early, holder, 'proof.pdf', b'%PDF-1.4\n%%EOF\n')
    assert '企业确认注销的期限尚未届满' in str(exc.value)
    assert 'contract_end_proof' not in {m.kind for m in early.materials}     # the refused request kept nothing
    assert svc.forced_cancel_offer(early)[1] is False

    late = _unconfirmed_cancellation(days_ago=30)
    holder = actor_for('applicant', late, users, password_hash)
    assert svc.forced_cancel_offer(late)[1] is True
    with pytest.raises(WorkflowError) as exc:
        svc.request_forced_cancel(late, holder, '', b'')
    assert '解除或终止劳动合同证明' in str(exc.value)
    late = svc.request_forced_cancel(late, holder, 'proof.pdf', b'%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n')
    assert late.state == 'reported'
    # the former employer can no longer act on it
    with pytest.raises(WorkflowError):
        transitions.perform(late, 'confirm_cancel', actor_for('enterprise', late, users, password_hash))
    reg = Registration.get(Registration.person == late.person_id)
    transitions.perform(late, 'accept', users['acceptor'])
    assert Registration.get_by_id(reg.id).state == 'active'          # decided by the registry, not yet
    done = transitions.perform(late, 'approve', users['reviewer'])
    assert done.state == 'approved' and done.decided_by_id == users['reviewer'].id
    assert Registration.get_by_id(reg.id).state == 'cancelled'
    rereg = build_application('reregister', 'draft', person=late.person)
    assert transitions.perform(rereg, 'submit', actor_for('applicant', rereg, users, password_hash)).state == \
        'submitted'
    assert Application.get_by_id(late.id).state == 'approved'


def test_the_registry_may_refuse_a_forced_cancellation_with_reasons(users, password_hash):
    import pytest
    from backoffice.workflow.states import WorkflowError
    from tests.conftest import add_material
    late = _unconfirmed_cancellation(days_ago=30)
    add_material(late, 'contract_end_proof')
    transitions.perform(late, 'request_forced_cancel', actor_for('applicant', late, users, password_hash))
    transitions.perform(late, 'accept', users['acceptor'])
    with pytest.raises(WorkflowError) as exc:
        transitions.perform(late, 'refuse', users['reviewer'])
    assert '请填写不予强制注销的理由' in str(exc.value)
    refused = transitions.perform(late, 'refuse', users['reviewer'], comment='劳动合同仍在履行期内')
    assert refused.state == 'refused'
    assert Registration.get(Registration.person == late.person_id).state == 'active'


def test_portal_offers_the_forced_cancellation_only_when_due(client, users, password_hash):
    import io
    from tests.conftest import csrf_from, login
    late = _unconfirmed_cancellation(days_ago=30)
    holder = actor_for('applicant', late, users, password_hash)
    assert login(client, holder.username).status_code == 302
    page = client.get('/portal/progress').get_data(as_text=True)
    assert '申请强制注销' in page and 'forced-cancel' in page
    token = csrf_from(page)
    r = client.post(f'/portal/application/{late.id}/forced-cancel', data={'csrf_token': token},
                    follow_redirects=True)
    assert f'请上传申报材料：解除或终止劳动合同证明（申请 {late.number}）' in r.get_data(as_text=True)
    pdf = b'%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'
    r = client.post(f'/portal/application/{late.id}/forced-cancel',
                    data={'csrf_token': token, 'comment': '已解除合同', 'file': (io.BytesIO(pdf), 'proof.pdf')},
                    content_type='multipart/form-data', follow_redirects=True)
    assert '已向注册机构申请强制注销' in r.get_data(as_text=True)
    from models import Application
    assert Application.get_by_id(late.id).state == 'reported'
    early = _unconfirmed_cancellation(days_ago=1)
    Application.update(person=late.person_id).where(Application.id == early.id).execute()
    page = client.get('/portal/progress').get_data(as_text=True)
    assert '逾期仍未确认的，您可以申请强制注销' in page


# --- sanctions (Art. 33, 34) ----------------------------------------------------------------

def test_a_refusal_for_false_materials_bans_new_applications_for_a_year(users, password_hash):
    import pytest
    from backoffice.desks import helpdesk
    from backoffice.workflow.states import WorkflowError
    from models import RefusalGround, Sanction
    refused = build_application('initial', 'accepted', accepted_by=users['acceptor2'])
    ground = RefusalGround.get(RefusalGround.text == '隐瞒有关情况或者提供虚假材料申请注册')
    transitions.perform(refused, 'refuse', users['reviewer'], grounds=[ground.id], comment='学历证明系伪造')
    ban = Sanction.get(Sanction.person == refused.person_id)
    assert (ban.kind, ban.starts_on) == ('concealment', TODAY)
    again = build_application('initial', 'draft', person=refused.person)
    actor = actor_for('applicant', again, users, password_hash)
    with pytest.raises(WorkflowError) as exc:
        transitions.perform(again, 'submit', actor)
    assert f'至{ban.ends_on}不得申请注册' in str(exc.value)
    assert any('禁止申请期' in a for a in helpdesk.person_summary(refused.person)['answers'])
    # the day after the ban ends, the same application goes through
    assert transitions.perform(again, 'submit', actor, today=ban.ends_on + DAY).state == 'submitted'
    # an ordinary refusal bans nothing
    other = build_application('initial', 'accepted', accepted_by=users['acceptor2'])
    transitions.perform(other, 'refuse', users['reviewer'], grounds=[RefusalGround.get(RefusalGround.code == '3').id])
    assert not Sanction.select().where(Sanction.person == other.person_id).exists()


def test_revocation_for_deception_bans_for_three_years(users, password_hash):
    from backoffice.workflow.calendar import add_years
    from models import CancellationReason, Sanction
    person = make_person()
    reg = make_registration(person, make_enterprise())
    revoked = CancellationReason.get(CancellationReason.text == '依法被撤销注册')
    death = CancellationReason.get(CancellationReason.text == '死亡或不具有完全民事行为能力')
    import pytest
    with pytest.raises(lifecycle.CancelError) as exc:
        lifecycle.cancel_by_registry(reg, users['reviewer'], [death.id], '材料造假', deception=True)
    assert '依法被撤销注册' in exc.value.errors['deception']
    lifecycle.cancel_by_registry(reg, users['reviewer'], [revoked.id], '以虚假业绩取得注册', deception=True)
    ban = Sanction.get(Sanction.person == person)
    assert (ban.kind, ban.ends_on) == ('deception', add_years(TODAY, 3) - DAY)
    rereg = build_application('reregister', 'draft', person=person)
    actor = actor_for('applicant', rereg, users, password_hash)
    assert any(msg and '3年' not in msg and '不得申请注册' in msg for _l, msg in transitions.rule_report(rereg, actor))


def test_a_void_certificate_downloads_only_as_a_copy_marked_void(app, users, tmp_path, password_hash):
    """建办市〔2021〕40号: once the registration is void, no copy looks valid."""
    from tests.conftest import login, pdf_text, render_first_page
    cert, row = registered_with_certificate(users, with_images=False)
    holder = actor_for('applicant', row, users, password_hash)
    client = app.test_client()
    assert login(client, holder.username).status_code == 302
    valid = client.get(f'/files/certificate/{cert.serial}.pdf')
    assert valid.status_code == 200
    assert '作' not in pdf_text(valid.data)[0].replace('工作', '')
    reg = Registration.get(Registration.person == row.person_id)
    RegisteredSpecialty.update(valid_until=TODAY - DAY).where(RegisteredSpecialty.registration == reg).execute()
    lifecycle.run_lapse(today=TODAY)
    void = client.get(f'/files/certificate/{cert.serial}.pdf')
    assert void.status_code == 200
    text = pdf_text(void.data)[0]
    assert '作  废' in text and '仅供存档' in text and '建筑工程' in text
    # the mark is really drawn: red pixels across the rendered page, none on the valid copy
    def red(img):
        return sum(1 for r, g, b in img.getdata() if r > 150 and g < 80 and b < 80)
    assert red(render_first_page(void.data, tmp_path, dpi=40)) > 20 * red(render_first_page(valid.data, tmp_path, dpi=40)) + 200


# --- FAQ 8: real-name data that differs from the 资格库 ----------------------------------------

def test_an_approved_info_change_corrects_the_qualification_record_and_unblocks_registration(users, password_hash):
    import pytest
    from backoffice.workflow.states import WorkflowError
    from models import Application, Qualification
    person = make_person('张伟')
    Qualification.update(holder_name='张玮').where(Qualification.person == person).execute()   # a typo in 资格库
    initial = build_application('initial', 'draft', person=person)
    holder = actor_for('applicant', initial, users, password_hash)
    with pytest.raises(WorkflowError) as exc:
        transitions.perform(initial, 'submit', holder)
    assert any('信息修改' in m for m in exc.value.messages)
    change = build_application('info_change', 'draft', person=person)
    Application.update(new_name='张伟', commitment_accepted=False).where(Application.id == change.id).execute()
    with pytest.raises(WorkflowError) as exc:
        transitions.perform(change.id, 'submit', holder)
    assert any('承诺' in m for m in exc.value.messages)                    # the commitment is required too
    Application.update(commitment_accepted=True).where(Application.id == change.id).execute()
    transitions.perform(change.id, 'submit', holder)
    transitions.perform(change.id, 'accept', users['acceptor'])
    assert transitions.perform(change.id, 'approve', users['reviewer']).state == 'completed'
    assert {q.holder_name for q in Qualification.select().where(Qualification.person == person)} == {'张伟'}
    corrected = AuditEvent.select().where(AuditEvent.action == 'correct_qualification')
    assert corrected.count() == 2 and all('张玮' in e.changes and '张伟' in e.changes for e in corrected)
    assert transitions.perform(initial, 'submit', holder).state == 'submitted'


# --- 变更注册 (Art. 13) -----------------------------------------------------------------------

def test_an_enterprise_name_change_is_a_change_registration_with_new_certificates(client, users):
    from backoffice.issuing import notices
    from models import Application
    from tests.conftest import login, post_form
    ent = make_enterprise(name='北京旧名建设有限公司')
    regs = [make_registration(make_person(), ent) for _ in range(2)]
    old_certs = [certificates.issue(r) for r in regs]
    untils = {r.id: [rs.valid_until for rs in r.specialties] for r in regs}
    assert login(client, 'admin').status_code == 302
    form = {'uscc': ent.uscc, 'name': '北京新名建设集团有限公司', 'legal_rep': ent.legal_rep,
            'province': str(ent.province_id), 'city': ent.city, 'address': ent.address, 'verified': 'y',
            'status': 'normal'}
    assert post_form(client, f'/admin/enterprise/edit/?id={ent.id}', form).status_code == 302
    decisions = list(Application.select().where(Application.business_type == 'change'))
    assert len(decisions) == 2 and {d.state for d in decisions} == {'approved'}
    assert all('北京旧名建设有限公司' in d.change_explanation for d in decisions)
    for reg, old in zip(regs, old_certs):
        assert Certificate.get_by_id(old.id).state == 'void'
        new = Certificate.get((Certificate.registration == reg) & (Certificate.state == 'valid'))
        assert certificates.certificate_data(new)['enterprise'] == '北京新名建设集团有限公司'
        assert [rs.valid_until for rs in Registration.get_by_id(reg.id).specialties] == untils[reg.id]
        assert Registration.get_by_id(reg.id).state == 'active'
    assert AuditEvent.select().where(AuditEvent.action == 'registry_change').count() == 2
    notice = notices.create_draft(users['reviewer'], ids=[d.id for d in decisions])
    notices.publish(notice.id, users['reviewer'])
    assert {Application.get_by_id(d.id).state for d in decisions} == {'announced'}
    # the same save again changes nothing more
    assert post_form(client, f'/admin/enterprise/edit/?id={ent.id}', form).status_code == 302
    assert Application.select().where(Application.business_type == 'change').count() == 2


def test_applicants_cannot_file_a_change_registration(client, users, password_hash):
    from tests.conftest import login, make_user
    user = make_user('p-change', password_hash, role='applicant', person=make_person())
    assert login(client, user.username).status_code == 302
    assert client.get('/portal/apply/change').status_code == 404


def test_public_query_rows_by_each_criterion(app):
    """Each search finds the active registrations it names, each with its own active specialties in the
    specialties' order; a cancelled registration and a cancelled specialty are not shown."""
    from models import Specialty
    ent = make_enterprise(name='检索测试建设有限公司')
    a = make_registration(make_person(name='甲检索'), ent, specialties=('市政公用工程', '建筑工程'))
    b = make_registration(make_person(name='乙检索'), ent, specialties=('机电工程',))
    make_registration(make_person(name='丙检索'), ent, state='cancelled')
    RegisteredSpecialty.create(registration=b, specialty=Specialty.get(Specialty.name == '水利水电工程'),
                               valid_from=TODAY, valid_until=TODAY + DAY, state='cancelled')
    order = {s.name: s.sort for s in Specialty.select()}
    rows = public_query.search(enterprise=ent.name)
    assert [r['number'] for r in rows] == [a.number, b.number]
    by_number = {r['number']: r for r in rows}
    assert [s[0] for s in by_number[a.number]['specialties']] == sorted(['市政公用工程', '建筑工程'], key=order.get)
    assert [s[0] for s in by_number[b.number]['specialties']] == ['机电工程']
    assert all(isinstance(s[1], datetime.date) and s[2] is True for r in rows for s in r['specialties'])
    one = public_query.search(reg_number=a.number)
    assert one == [by_number[a.number]] and one[0]['name'] == '甲检索' and '*' in one[0]['id_number']
    person = Person.get(Person.name == '乙检索')
    assert public_query.search(name='乙检索', id_number=person.id_number) == [by_number[b.number]]
    assert public_query.search(name='甲检索', id_number=person.id_number) == []       # name and number disagree
