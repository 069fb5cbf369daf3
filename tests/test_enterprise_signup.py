"""Enterprise self-service (issue 12): sign-up with 实名认证, the registry's approval queue, HR
accounts created by the enterprise's administrator, and batch 上报."""
import io
import re

from PIL import Image
from werkzeug.datastructures import MultiDict

from backoffice.intake import enterprises
from models import Application, AuditEvent, Enterprise, EnterpriseSignup, Notification, SmsMessage, User

from .conftest import (build_application, csrf_from, login, make_enterprise, make_id_number,
                       make_uscc, make_user)


PASSWORD = 'Qiye2026Zhuce'          # the sign-up's password policy: 10+ characters, letters and digits


def _png():
    buf = io.BytesIO()
    Image.new('RGB', (600, 400), 'white').save(buf, 'PNG')
    return buf.getvalue()


def _page(r):
    return r.get_data(as_text=True)


def _post(client, url, data, files=None):
    token = csrf_from(_page(client.get(url)))
    payload = MultiDict(data)
    payload['csrf_token'] = token
    for key, (name, body) in (files or {}).items():
        payload[key] = (io.BytesIO(body), name)
    return client.post(url, data=payload, content_type='multipart/form-data')


def _form(**kw):
    form = {'uscc': make_uscc(), 'name': '自助注册建设有限公司', 'legal_rep': '赵敏',
            'legal_rep_id_number': make_id_number(), 'province': '11', 'address': '北京市朝阳区建国路1号',
            'mobile': '13711112222', 'username': 'zizhu_admin', 'password': PASSWORD, 'password2': PASSWORD}
    form.update(kw)
    return form


def _code(mobile):
    text = SmsMessage.select().where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).get().text
    return re.search(r'验证码为(\d{6})', text).group(1)


def _sign_up(client, form, licence=None):
    r = _post(client, '/enterprise-account/signup', {**form, 'step': 'code'})
    assert r.status_code == 200, _page(r)
    form = {**form, 'code': _code(form['mobile']), 'step': 'submit'}
    return _post(client, '/enterprise-account/signup', form, {'licence': licence or ('licence.png', _png())})


def _field_error(page, field):
    m = re.search(rf'data-field="{field}">([^<]+)<', page)
    return m.group(1) if m else None


def test_sign_up_waits_for_approval_then_the_enterprise_is_offered(client, users):
    form = _form()
    r = _sign_up(client, form)
    assert r.status_code == 200 and '等待注册机构审核' in _page(r)
    row = EnterpriseSignup.get(EnterpriseSignup.uscc == form['uscc'])
    assert row.state == 'pending' and row.legal_rep == '赵敏'
    # not offered to applicants before approval
    assert not Enterprise.select().where((Enterprise.uscc == form['uscc']) & (Enterprise.verified == True)).exists()  # noqa: E712
    ent = enterprises.approve(row.id, users['admin'])
    assert ent.verified and ent.uscc == form['uscc']
    admin_user = User.get(User.username == 'zizhu_admin')
    assert admin_user.enterprise_id == ent.id and enterprises.is_enterprise_admin(admin_user)
    assert AuditEvent.select().where(AuditEvent.action == 'enterprise_approve').count() == 1


def test_invalid_uscc_is_refused_at_its_field(client):
    r = _post(client, '/enterprise-account/signup', {**_form(uscc='91110000123456789X'), 'step': 'code'})
    assert r.status_code == 400
    assert '统一社会信用代码' in _field_error(_page(r), 'uscc')
    assert SmsMessage.select().count() == 0


def test_uscc_with_an_account_is_refused(client, password_hash):
    ent = make_enterprise()
    make_user('hr_x', password_hash, role='enterprise', enterprise=ent)
    r = _post(client, '/enterprise-account/signup', {**_form(uscc=ent.uscc), 'step': 'code'})
    assert r.status_code == 400 and '已注册企业账号' in _field_error(_page(r), 'uscc')
    # and a sign-up already waiting counts as well
    form = _form()
    assert _sign_up(client, form).status_code == 200
    r = _post(client, '/enterprise-account/signup', {**_form(uscc=form['uscc'], username='other'), 'step': 'code'})
    assert '正在审核' in _field_error(_page(r), 'uscc')


def test_legal_representative_who_does_not_match_is_refused(client):
    ent = make_enterprise(verified=False)          # known to the registry, legal representative 王强
    r = _post(client, '/enterprise-account/signup', {**_form(uscc=ent.uscc, legal_rep='李四'), 'step': 'code'})
    assert r.status_code == 400 and '法定代表人' in _field_error(_page(r), 'legal_rep')
    r = _post(client, '/enterprise-account/signup', {**_form(legal_rep_id_number='110105198506150000'),
                                                     'step': 'code'})
    assert r.status_code == 400 and '身份证' in _field_error(_page(r), 'legal_rep_id_number')


def test_fake_or_oversized_licence_is_refused(client):
    form = _form()
    r = _sign_up(client, form, ('licence.pdf', b'MZ\x90\x00 this is an executable renamed'))
    assert r.status_code == 400 and '营业执照' in _field_error(_page(r), 'licence')
    assert '不是' in _field_error(_page(r), 'licence')
    big = b'%PDF-1.4\n' + b'0' * (5 * 1024 * 1024 + 10) + b'\n%%EOF'
    form2 = _form(uscc=make_uscc(), username='other_admin', mobile='13722223333')
    r = _sign_up(client, form2, ('licence.pdf', big))
    assert r.status_code == 400 and '不能超过 5 MB' in _field_error(_page(r), 'licence')
    assert EnterpriseSignup.select().count() == 0


def test_wrong_sms_code_is_refused_at_its_field(client):
    form = _form()
    _post(client, '/enterprise-account/signup', {**form, 'step': 'code'})
    r = _post(client, '/enterprise-account/signup', {**form, 'code': '000000', 'step': 'submit'},
              {'licence': ('licence.png', _png())})
    assert r.status_code == 400 and '验证码' in _field_error(_page(r), 'code')


def test_registry_queue_approves_and_refuses_with_reason(client, users):
    _sign_up(client, _form())
    row = EnterpriseSignup.get()
    login(client, 'acceptor')
    page = _page(client.get(f'/admin/enterprisesignup/decide/?id={row.id}'))
    assert row.name in page
    token = csrf_from(page)
    r = client.post('/admin/enterprisesignup/decide/', data={'id': row.id, 'decision': 'refuse', 'reason': '',
                                                             'csrf_token': token})
    assert '请填写不予通过的原因' in _page(r)
    client.post('/admin/enterprisesignup/decide/', data={'id': row.id, 'decision': 'refuse',
                                                         'reason': '营业执照模糊', 'csrf_token': token})
    row = EnterpriseSignup.get_by_id(row.id)
    assert (row.state, row.reason) == ('refused', '营业执照模糊')
    assert not User.select().where(User.username == row.username).exists()
    assert client.get('/admin/enterprisesignup/decide/?id=abc').status_code == 404


def test_enterprise_admin_creates_hr_users_and_hr_cannot(client, users, password_hash):
    _sign_up(client, _form())
    ent = enterprises.approve(EnterpriseSignup.get().id, users['admin'])
    login(client, 'zizhu_admin', PASSWORD)
    r = _post(client, '/enterprise-account/users', {'username': 'hr_li', 'name': '李人事', 'mobile': '12345',
                                                    'password': PASSWORD, 'password2': PASSWORD})
    assert r.status_code == 400 and '手机号码' in _field_error(_page(r), 'mobile')
    r = _post(client, '/enterprise-account/users', {'username': 'hr_li', 'name': '李人事', 'mobile': '13800001111',
                                                    'password': PASSWORD, 'password2': PASSWORD})
    assert r.status_code == 302
    hr = User.get(User.username == 'hr_li')
    assert (hr.role, hr.enterprise_id) == ('enterprise', ent.id) and not enterprises.is_enterprise_admin(hr)
    other = client.application.test_client()
    login(other, 'hr_li', PASSWORD)
    assert '只有本单位的企业管理员' in _page(other.get('/enterprise-account/users'))
    token = csrf_from(_page(other.get('/enterprise-account/users')))
    assert other.post('/enterprise-account/users', data={'username': 'x', 'csrf_token': token}).status_code == 403


def test_batch_report_each_through_the_workflow_refused_rows_listed(client, users, password_hash):
    ent = make_enterprise()
    hr = make_user('hr_batch', password_hash, role='enterprise', enterprise=ent)
    good = [build_application('initial', 'submitted', enterprise=ent) for _ in range(2)]
    stale = build_application('initial', 'withdrawn', enterprise=ent)
    foreign = build_application('initial', 'submitted')          # another enterprise's row
    login(client, 'hr_batch')
    token = csrf_from(_page(client.get('/enterprise/')))
    r = client.post('/enterprise/report-batch', data=MultiDict(
        [('csrf_token', token)] + [('app_id', str(a.id)) for a in good + [stale, foreign]]), follow_redirects=True)
    page = _page(r)
    assert all(Application.get_by_id(a.id).state == 'reported' for a in good)
    assert Application.get_by_id(foreign.id).state == 'submitted'
    assert f'申请 {stale.number} 未能上报' in page and f'申请 {foreign.number} 未能上报' in page
    assert '该申请不属于贵单位' in page
    events = AuditEvent.select().where(AuditEvent.action == 'report')
    assert {e.actor_id for e in events} == {hr.id} and events.count() == 2


def test_approval_is_refused_twice_and_enterprise_then_gets_notifications(client, users, password_hash):
    import pytest
    from backoffice.workflow.states import WorkflowError
    from backoffice.workflow.transitions import perform
    _sign_up(client, _form())
    row = EnterpriseSignup.get()
    ent = enterprises.approve(row.id, users['admin'])
    with pytest.raises(WorkflowError):
        enterprises.approve(row.id, users['admin'])
    app = build_application('initial', 'draft', enterprise=ent)
    applicant = make_user('p_sub', password_hash, role='applicant', person=app.person)
    perform(app, 'submit', applicant)
    sms_row = Notification.get((Notification.enterprise == ent.id) & (Notification.channel == 'sms'))
    assert sms_row.mobile == '13711112222' and sms_row.template_key == 'enterprise_inbox'


def test_change_of_enterprise_data_goes_through_verification_again_and_a_new_name_changes_registrations(
        client, users, password_hash):
    from models import Registration, Notification as N
    from .conftest import make_person, make_registration
    _sign_up(client, _form())
    ent = enterprises.approve(EnterpriseSignup.get().id, users['admin'])
    reg = make_registration(make_person(), ent)
    login(client, 'zizhu_admin', PASSWORD)
    change = {'name': '更名后建设集团有限公司', 'address': '北京市西城区新路2号', 'legal_rep': '钱新',
              'legal_rep_id_number': make_id_number(), 'mobile': '13788889999'}
    r = _post(client, '/enterprise-account/change', {**change, 'step': 'code'})
    assert r.status_code == 200
    # a fake licence is refused at its field, nothing is recorded
    r = _post(client, '/enterprise-account/change', {**change, 'code': _code(change['mobile']), 'step': 'submit'},
              {'licence': ('licence.pdf', b'not a pdf at all')})
    assert r.status_code == 400 and '营业执照' in _field_error(_page(r), 'licence')
    r = _post(client, '/enterprise-account/change', {**change, 'code': _code(change['mobile']), 'step': 'submit'},
              {'licence': ('licence.png', _png())})
    assert r.status_code == 302
    row = EnterpriseSignup.get(EnterpriseSignup.kind == 'change')
    assert Enterprise.get_by_id(ent.id).name == '自助注册建设有限公司'          # unchanged until approved
    # the registry approves: the data changes, and the registration gets its 变更注册
    enterprises.approve(row.id, users['acceptor'])
    ent = Enterprise.get_by_id(ent.id)
    assert (ent.name, ent.legal_rep, ent.address) == ('更名后建设集团有限公司', '钱新', '北京市西城区新路2号')
    changed = Application.get((Application.business_type == 'change') & (Application.registration == reg.id))
    assert '更名后建设集团有限公司' in changed.change_explanation
    assert Registration.get_by_id(reg.id).state == 'active'
    assert N.select().where((N.person == reg.person_id) & (N.template_key == 'changed')).exists()


def test_only_the_enterprise_admin_may_request_a_change(client, users, password_hash):
    ent = make_enterprise()
    make_user('hr_plain', password_hash, role='enterprise', enterprise=ent)
    from .conftest import PASSWORD as DEFAULT
    login(client, 'hr_plain', DEFAULT)
    page = _page(client.get('/enterprise-account/change'))
    assert '只有本单位的企业管理员' in page
    assert client.post('/enterprise-account/change', data={'csrf_token': csrf_from(page)}).status_code == 403


def test_anonymous_sign_up_is_rate_limited_per_client(client):
    page = _page(client.get('/enterprise-account/signup'))
    token = csrf_from(page)
    codes = [client.post('/enterprise-account/signup', data={'uscc': 'bad', 'step': 'code', 'csrf_token': token}
                         ).status_code for _ in range(6)]
    assert codes[:5] == [400] * 5 and codes[5] == 429
