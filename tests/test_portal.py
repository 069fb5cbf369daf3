"""The applicant and enterprise portals over HTTP: every step, bad input, and who sees what."""
import re

from werkzeug.datastructures import MultiDict

from backoffice.issuing import notices
from backoffice.workflow import transitions
from backoffice.intake import identity
from models import (Application, ApplicationSpecialty, Material, Person, Qualification, SmsCode, SmsMessage,
                    User)

from . import images
from .conftest import (build_application, csrf_from, login, make_enterprise, make_person, make_user,
                       pdf_text, specialty)


def _code(mobile):
    text = SmsMessage.select().where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).get().text
    return re.search(r'验证码为(\d{6})', text).group(1)


def _page(r):
    return r.get_data(as_text=True)


def _post(client, url, data, files=None):
    token = csrf_from(_page(client.get(url)))
    payload = MultiDict(data)
    payload['csrf_token'] = token
    for key, value in (files or {}).items():
        payload[key] = value
    return client.post(url, data=payload, content_type='multipart/form-data' if files else None)


def test_signup_checks_identity_against_the_qualification_database(client, app, monkeypatch):
    monkeypatch.setitem(app.config, 'RATELIMIT_SIGNUP', '100 per minute')     # limits: test_security_identity
    person = make_person(name='王芳')
    number = person.id_number
    cert = Qualification.get(Qualification.holder_id_number == number).cert_number
    Qualification.update(person=None).where(Qualification.person == person).execute()
    Person.delete().where(Person.id == person.id).execute()          # only the 资格库 knows her
    base = {'step': 'code', 'name': '王芳', 'id_number': number, 'cert_number': cert, 'mobile': '13811112222'}
    r = _post(client, '/portal/signup', dict(base, name='王方'))
    assert identity.NO_MATCH in _page(r) and r.status_code == 400
    assert SmsMessage.select().count() == 0                           # no code sent on a mismatch
    r = _post(client, '/portal/signup', dict(base, id_number=number[:-1] + '0' if number[-1] != '0'
                                             else number[:-1] + '1'))
    assert '身份证号码校验位不正确' in _page(r)
    r = _post(client, '/portal/signup', dict(base, cert_number=' '))
    assert '请填写资格证书管理号' in _page(r)
    r = _post(client, '/portal/signup', base)
    assert '验证码已发送到您的手机' in _page(r)
    confirm = dict(base, step='confirm', password='Abc12345xy', password2='Abc12345xy')
    r = _post(client, '/portal/signup', dict(confirm, code='000000' if _code('13811112222') != '000000' else '111111'))
    assert '验证码错误，还可尝试4次' in _page(r)
    r = _post(client, '/portal/signup', dict(confirm, password2='Abc12345xz', code=_code('13811112222')))
    assert '两次输入的密码不一致' in _page(r)                          # checked first: the code is not used up
    r = _post(client, '/portal/signup', dict(confirm, code=_code('13811112222')))
    assert r.status_code == 302 and r.headers['Location'].endswith('/portal/')
    user = User.get(User.username == number)
    new_person = Person.get(Person.id_number == number)
    assert user.role == 'applicant' and user.person_id == new_person.id and new_person.name == '王芳'
    assert Qualification.get(Qualification.holder_id_number == number).person_id == new_person.id


def test_signup_accepts_the_corrected_name_of_an_existing_person(client, app, monkeypatch):
    """FAQ 8: the person record carries the corrected name; the 资格库 still has the old one."""
    person = make_person(name='李雷')
    cert = Qualification.get(Qualification.person == person).cert_number
    Person.update(name='李磊').where(Person.id == person.id).execute()
    base = {'step': 'code', 'id_number': person.id_number, 'cert_number': cert, 'mobile': '13811113333'}
    for name in ('李雷', '李磊'):
        SmsCode.delete().execute()
        r = _post(client, '/portal/signup', dict(base, name=name))
        assert '验证码已发送到您的手机' in _page(r), name
    r = _post(client, '/portal/signup', dict(base, name='韩梅梅'))
    assert identity.NO_MATCH in _page(r)


def _applicant(client, password_hash, person=None):
    person = person or make_person()
    user = make_user(f'u{person.id}', password_hash, role='applicant', person=person, mobile='13822223333')
    login(client, user.username)
    return user, person


def _start(client, business_type):
    r = _post(client, f'/portal/apply/{business_type}', {'agree': 'y'})
    assert r.status_code == 302, _page(r)
    return int(r.headers['Location'].rstrip('/').split('/')[-1])


def test_notice_must_be_ticked_and_draft_is_resumed(client, password_hash):
    _applicant(client, password_hash)
    r = _post(client, '/portal/apply/initial', {})
    assert '请阅读并勾选“注册须知”后再点击下一步' in _page(r)
    first = _start(client, 'initial')
    assert _start(client, 'initial') == first                         # the same draft, nothing lost
    r = _post(client, '/portal/apply/addition', {'agree': 'y'})
    assert '您目前没有有效的注册，不能办理此项业务' in _page(r)


def test_form_bad_input_keeps_what_was_valid(client, password_hash):
    _, person = _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    unverified = make_enterprise(verified=False, name='尚未认证建设有限公司')
    mining = specialty('矿业工程').id                                   # not in her 资格库 record
    r = _post(client, f'/portal/application/{app_id}', {
        'action': 'save', 'school': '同济大学', 'education': '本科', 'uscc': unverified.uscc,
        'contract_start': '2026-05-01', 'contract_end': '2026-04-01', 'graduation_date': '2008-02-30',
        'specialties_sent': '1', 'specialties': str(mining)})
    page = _page(r)
    assert r.status_code == 400
    assert '请确认企业名称：“尚未认证建设有限公司”尚未在建设行业执业资格管理信息系统完成企业实名认证' in page
    assert '劳动合同结束日期应晚于开始日期' in page
    assert '日期无效，请按“年-月-日”填写' in page
    assert '所选专业不在您可申请的专业范围内' in page
    assert Person.get_by_id(person.id).school == '同济大学'            # valid parts were saved
    assert ApplicationSpecialty.select().where(ApplicationSpecialty.application == app_id).count() == 0
    assert Application.get_by_id(app_id).enterprise_id is None


def test_enterprise_suggestions_offer_only_verified(client, password_hash):
    _applicant(client, password_hash)
    make_enterprise(name='华东建工集团有限公司')
    pending = make_enterprise(verified=False, name='华东路桥集团有限公司')
    items = client.get('/portal/enterprises?q=华东').get_json()['items']
    assert [i['name'] for i in items] == ['华东建工集团有限公司']
    assert set(items[0]) == {'uscc', 'name', 'legal_rep', 'province', 'city', 'address'}
    hint = client.get('/portal/enterprises?q=华东路桥集团有限公司').get_json()['hint']
    assert hint.startswith('请确认企业名称') and '实名认证' in hint
    by_code = client.get(f'/portal/enterprises?q={pending.uscc}').get_json()
    assert by_code['items'] == [] and '实名认证' in by_code['hint']


def test_uploads_are_checked_by_content(client, password_hash):
    _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    url = f'/portal/application/{app_id}'
    import io

    def up(kind, data, name):
        return _post(client, url, {'action': 'upload', 'kind': kind}, files={'file': (io.BytesIO(data), name)})
    assert '文件内容不是 JPG、PNG 图片或 PDF 文件' in _page(up('contract', b'MZ fake exe', 'contract.pdf'))
    assert '照片未通过照片处理工具审核' in _page(up('photo', images.portrait_jpeg(), 'me.jpg'))
    assert '签名图片过大' in _page(up('signature', b'\xff\xd8\xff' + b'0' * (300 * 1024), 'sig.jpg'))
    assert Material.select().count() == 0
    from backoffice.intake import photo
    fixed, _ = photo.fix_photo(images.portrait_jpeg())
    assert up('photo', fixed, 'whatever.png').status_code == 302
    assert up('signature', images.signature_jpeg(), 'sig.jpg').status_code == 302
    assert up('contract', b'%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n', 'c.pdf').status_code == 302
    kinds = {m.kind: m.content_type for m in Material.select()}
    assert kinds == {'photo': 'image/jpeg', 'signature': 'image/jpeg', 'contract': 'application/pdf'}


def _ready_initial(client, password_hash):
    """An applicant with an initial draft that satisfies every rule except the commitment."""
    user, person = _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    ent = make_enterprise(name='北京城建测试有限公司')
    from backoffice.intake import photo
    import io
    fixed, _ = photo.fix_photo(images.portrait_jpeg())
    for kind, data in (('photo', fixed), ('signature', images.signature_jpeg())):
        _post(client, f'/portal/application/{app_id}', {'action': 'upload', 'kind': kind},
              files={'file': (io.BytesIO(data), kind + '.jpg')})
    r = _post(client, f'/portal/application/{app_id}', {
        'action': 'save', 'uscc': ent.uscc, 'contract_start': '2026-01-01', 'contract_end': '2029-12-31',
        'specialties_sent': '1', 'specialties': str(specialty('建筑工程').id), 'commitment_sent': '1'})
    assert r.status_code == 302, _page(r)
    return user, person, app_id, ent


def test_submit_needs_commitment_and_sms_code(client, password_hash):
    user, person, app_id, ent = _ready_initial(client, password_hash)
    url = f'/portal/application/{app_id}'
    page = _page(client.get(url + '?step=commitment'))                 # the form's 个人承诺 step
    assert f'本人与{ent.name}签订了劳动合同' in page                      # FAQ 4: the commitment names the enterprise
    r = _post(client, url, {'action': 'submit', 'commitment_sent': '1', 'code': '123456'})
    assert '请阅读个人承诺并勾选“本人作出上述承诺”' in _page(r)
    token = csrf_from(page)
    r = client.post(f'{url}/sms', headers={'X-CSRFToken': token})
    assert r.get_json()['ok'] is True
    r = client.post(f'{url}/sms', headers={'X-CSRFToken': token})
    assert r.status_code == 429 and '秒后再获取' in r.get_json()['message']
    r = _post(client, url, {'action': 'submit', 'commitment_sent': '1', 'commitment': 'y', 'code': '12'})
    assert '验证码错误' in _page(r)
    assert Application.get_by_id(app_id).state == 'draft'
    r = _post(client, url, {'action': 'submit', 'commitment_sent': '1', 'commitment': 'y',
                            'code': _code('13822223333')})
    assert r.status_code == 302
    assert '您所申请的事项已经提交成功！' in _page(client.get(r.headers['Location']))
    assert Application.get_by_id(app_id).state == 'submitted'
    commitment = Material.get((Material.application == app_id) & (Material.kind == 'commitment'))
    from flask import current_app
    import os
    text, _ = pdf_text(open(os.path.join(current_app.config['UPLOAD_DIR'], commitment.stored_path), 'rb').read())
    assert ent.name in text.replace('\n', '') and '本人作出上述承诺' in text


def test_someone_elses_application_is_not_reachable(client, password_hash):
    other = build_application('initial')
    _applicant(client, password_hash)
    assert client.get(f'/portal/application/{other.id}').status_code == 403
    assert _post(client, '/portal/', {}).status_code in (403, 405)
    r = client.post(f'/portal/application/{other.id}', data={'action': 'save'})
    assert r.status_code in (400, 403)                                 # no CSRF token, or not hers
    assert client.get('/enterprise/').status_code == 403
    assert client.get('/admin/').status_code == 403


def test_enterprise_inbox_report_return_withdraw(client, users, password_hash):
    ent = make_enterprise()
    make_user('ent', password_hash, role='enterprise', enterprise=ent)
    a = build_application('initial', 'submitted', enterprise=ent)
    b = build_application('renewal', 'submitted', enterprise=ent)
    c = build_application('cancellation', 'submitted', enterprise=ent)
    hidden = build_application('addition', 'reported', enterprise=ent)     # FAQ 13: never seen
    login(client, 'ent')
    page = _page(client.get('/enterprise/'))
    assert a.number in page and b.number in page and c.number in page and hidden.number not in page
    assert client.get(f'/enterprise/application/{hidden.id}').status_code == 403
    r = _post(client, f'/enterprise/application/{a.id}', {})
    assert r.status_code == 405
    url = f'/enterprise/application/{a.id}'
    token = csrf_from(_page(client.get(url)))
    client.post(f'{url}/act', data={'transition': 'report', 'csrf_token': token})
    assert Application.get_by_id(a.id).state == 'reported'
    client.post(f'{url}/act', data={'transition': 'withdraw', 'csrf_token': token})
    assert Application.get_by_id(a.id).state == 'reported'                # FAQ 11: too late
    assert '不能执行“撤回”操作' in _page(client.get(url))
    burl = f'/enterprise/application/{b.id}'
    r = client.post(f'{burl}/act', data={'transition': 'return', 'comment': '', 'csrf_token': token})
    assert re.search(r'invalid-feedback[^"]*field-error">请填写退回原因', _page(r))     # at its field
    assert Application.get_by_id(b.id).state == 'submitted'
    client.post(f'{burl}/act', data={'transition': 'return', 'comment': '合同已过期', 'csrf_token': token})
    assert Application.get_by_id(b.id).state == 'returned'
    client.post(f'/enterprise/application/{c.id}/act', data={'transition': 'confirm_cancel', 'csrf_token': token})
    assert Application.get_by_id(c.id).state == 'approved'
    other = build_application('initial', 'submitted')
    r = client.post(f'/enterprise/application/{other.id}/act', data={'transition': 'report', 'csrf_token': token})
    assert r.status_code == 403 and Application.get_by_id(other.id).state == 'submitted'
    staff = _page(client.get('/enterprise/staff'))
    assert Person.get_by_id(b.person_id).name in staff


def test_progress_shows_timeline_notices_and_certificate(client, users, password_hash):
    row = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    make_user('me', password_hash, role='applicant', person=row.person, mobile='13800000000')
    transitions.perform(row, 'approve', users['reviewer'])
    notices.publish(notices.create_draft(users['reviewer'], ids=[row.id]).id, users['reviewer'])
    corr = build_application('addition', 'reported', person=Person.get_by_id(row.person_id))
    transitions.perform(corr, 'request_correction', users['acceptor'], comment='1. 签名不清晰')
    login(client, 'me')
    page = _page(client.get('/portal/progress'))
    assert '补正通知' in page and '1. 签名不清晰' in page and '待本人补正后重新提交' in page
    assert '公告生效' in page and '注册机构' in page
    link = re.search(r'href="(/files/certificate/[^"]+\.pdf)"', page).group(1)
    r = client.get(link)
    assert r.status_code == 200 and r.data[:4] == b'%PDF'


def test_info_change_basic_only_needs_no_material(client, users, password_hash):
    user, person = _applicant(client, password_hash)
    app_id = _start(client, 'info_change')
    url = f'/portal/application/{app_id}'
    _post(client, url, {'action': 'save', 'change_sent': '1', 'new_name': '张卫', 'commitment_sent': '1',
                        'commitment': 'y'})
    r = _post(client, url, {'action': 'submit', 'change_sent': '1', 'new_name': '张卫', 'commitment_sent': '1',
                            'commitment': 'y', 'code': '000000'})
    page = _page(r)
    assert '修改姓名或身份证号须填写情况说明' in page and '请上传身份证人像面' in page
    r = _post(client, url, {'action': 'save', 'change_sent': '1', 'new_name': '', 'school': '清华大学',
                            'commitment_sent': '1', 'commitment': 'y'})
    token = csrf_from(_page(client.get(url)))
    client.post(f'{url}/sms', headers={'X-CSRFToken': token})
    r = _post(client, url, {'action': 'submit', 'change_sent': '1', 'commitment_sent': '1', 'commitment': 'y',
                            'code': _code('13822223333')})
    assert r.status_code == 302
    assert Application.get_by_id(app_id).state == 'reported'
    assert Person.get_by_id(person.id).school == '清华大学'
