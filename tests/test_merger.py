"""变更注册 (Art. 13) for an enterprise merger (new USCC): a registry decision moves the active
registrations to the enterprise B; 注册编号 and validity unchanged, new certificates, decision records,
announcement, change feed, audit; refused input shows Chinese messages at the fields."""
import datetime

import pytest

from backoffice.issuing import certificates, notices
from backoffice.workflow import lifecycle
from models import Application, AuditEvent, Certificate, Enterprise, RegisteredSpecialty, Registration
from models.api import RegistrationChange

from .conftest import login, make_enterprise, make_person, make_registration, make_uscc, post_form

TODAY = datetime.date.today()


def _world():
    source = make_enterprise(code='11', name='北京被合并建设有限公司')
    target = make_enterprise(code='31', name='上海合并后建设集团有限公司')
    regs = [make_registration(make_person(name=f'员工{k}'), source) for k in range(2)]
    gone = make_registration(make_person(name='已注销'), source, state='cancelled')
    elsewhere = make_registration(make_person(name='他人'), make_enterprise())
    old_certs = [certificates.issue(r, TODAY - datetime.timedelta(days=20)) for r in regs]
    return source, target, regs, gone, elsewhere, old_certs


def _snapshot(reg):
    return reg.number, reg.seal_check, [(rs.specialty_id, rs.valid_from, rs.valid_until, rs.state) for rs in
                                        RegisteredSpecialty.select().where(RegisteredSpecialty.registration == reg)
                                        .order_by(RegisteredSpecialty.id)]


def test_a_merger_moves_the_registrations_by_a_registry_decision(users):
    source, target, regs, gone, elsewhere, old_certs = _world()
    before = {r.id: _snapshot(r) for r in regs}
    feed_before = RegistrationChange.select().count()
    done = lifecycle.enterprises_merged(source, target, users['reviewer'], '经市场监管部门核准吸收合并', today=TODAY)
    assert len(done) == 2 and {d.state for d in done} == {'approved'}
    for reg, old in zip(regs, old_certs):
        now = Registration.get_by_id(reg.id)
        assert (now.enterprise_id, now.province_id, now.state) == (target.id, target.province_id, 'active')
        assert _snapshot(now) == before[reg.id]                 # 注册编号 and validity unchanged: no new 3 years
        assert Certificate.get_by_id(old.id).state == 'void'
        new = Certificate.get((Certificate.registration == reg) & (Certificate.state == 'valid'))
        assert new.issued_on == TODAY
        data = certificates.certificate_data(new)
        assert (data['enterprise'], data['uscc']) == (target.name, target.uscc)
        assert certificates.status(Certificate.get_by_id(old.id)) == 'replaced'
    assert Registration.get_by_id(gone.id).enterprise_id == source.id          # only active ones move
    assert Registration.get_by_id(elsewhere.id).enterprise_id != target.id
    for d in done:
        d = Application.get_by_id(d.id)
        assert (d.business_type, d.initiated_by, d.enterprise_id) == ('change', 'registry', target.id)
        assert source.uscc in d.change_explanation and target.uscc in d.change_explanation
        assert '注册编号不变' in d.change_explanation and '吸收合并' in d.change_explanation
    assert AuditEvent.select().where(AuditEvent.action == 'registry_change').count() == 2
    merged = AuditEvent.get(AuditEvent.action == 'enterprise_merged')
    assert merged.object_id == source.id and '2 名注册人员' in merged.comment
    feed = list(RegistrationChange.select().order_by(RegistrationChange.seq))[feed_before:]
    assert {(c.registration_id, c.kind) for c in feed} == {(r.id, 'enterprise_changed') for r in regs}
    notice = notices.create_draft(users['reviewer'], ids=[d.id for d in done])
    notices.publish(notice.id, users['reviewer'])
    assert {Application.get_by_id(d.id).state for d in done} == {'announced'}
    assert all(_snapshot(Registration.get_by_id(r.id)) == before[r.id] for r in regs)   # still no new 3 years
    with pytest.raises(lifecycle.CancelError) as err:          # nothing left to move
        lifecycle.enterprises_merged(source, target, users['reviewer'], '再次合并')
    assert '没有有效的注册人员' in err.value.errors['form']


def test_the_merger_page_refuses_bad_input_at_its_fields(client, users):
    source, target, regs, *_ = _world()
    unverified = make_enterprise(verified=False, name='未认证建设有限公司')
    url = f'/admin/enterprise/merge/?id={source.id}'
    acceptor = client.application.test_client()
    login(acceptor, 'acceptor')
    assert acceptor.get(url).status_code == 403                # reviewers and administrators only
    assert login(client, 'reviewer').status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert source.name in page and '2 人' in page
    cases = [
        ({'target_uscc': source.uscc, 'explanation': '合并'}, 'target-error', '不能是原企业本身'),
        ({'target_uscc': unverified.uscc, 'explanation': '合并'}, 'target-error', '尚未完成企业实名认证'),
        ({'target_uscc': make_uscc(), 'explanation': '合并'}, 'target-error', '未找到该统一社会信用代码的企业'),
        ({'target_uscc': '91110000ABC', 'explanation': '合并'}, 'target-error', '统一社会信用代码'),
        ({'target_uscc': '', 'explanation': '合并'}, 'target-error', '请填写合并后企业的统一社会信用代码'),
        ({'target_uscc': target.uscc, 'explanation': '  '}, 'explanation-error', '请填写变更决定说明'),
    ]
    for data, field, message in cases:
        r = post_form(client, url, data)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, data
        error = html[html.index(f'id="{field}"'):]
        assert message in error[:200], (data, error[:200])
    assert Application.select().where(Application.business_type == 'change').count() == 0
    assert {Registration.get_by_id(r.id).enterprise_id for r in regs} == {source.id}
    Enterprise.update(status='bankrupt').where(Enterprise.id == target.id).execute()
    html = post_form(client, url, {'target_uscc': target.uscc, 'explanation': '合并'}).get_data(as_text=True)
    assert '企业状态为非正常' in html
    Enterprise.update(status='normal').where(Enterprise.id == target.id).execute()
    r = post_form(client, url, {'target_uscc': target.uscc.lower(), 'explanation': '经核准吸收合并'})
    assert r.status_code == 302
    assert {Registration.get_by_id(r.id).enterprise_id for r in regs} == {target.id}
    assert Application.select().where(Application.business_type == 'change').count() == 2
    listing = client.get('/admin/enterprise/').get_data(as_text=True)
    assert '/admin/enterprise/merge/?id=' in listing
