"""End-to-end journeys in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

Never downloads a browser: the launch points at the system Chromium. Without it the tests are
skipped with the reason, except where REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
import os
import re
import threading

import pytest
from werkzeug.serving import make_server

from backoffice.issuing import certificates
from backoffice.intake import photo
from models import (Application, Certificate, Person, Qualification, Registration, SmsMessage)

from . import images
from .conftest import (PASSWORD, make_enterprise, make_person, make_registration, make_user, render_first_page,
                       specialty)

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
if not os.path.exists(CHROMIUM):
    if os.environ.get('REQUIRE_BROWSER') == '1':
        raise RuntimeError(f'Chromium not found at {CHROMIUM} (apt-get install chromium)')
    pytest.skip(f'Chromium not installed at {CHROMIUM} (apt-get install chromium); browser tests skipped',
                allow_module_level=True)


@pytest.fixture(scope='session')
def browser_type_launch_args():
    return {'executable_path': CHROMIUM, 'headless': True,
            'args': ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                     '--disable-component-update', '--no-first-run', '--disable-sync']}


@pytest.fixture(scope='module')
def live(app):
    """The app on a free local port, in a thread; the certificate QR codes point at it."""
    server = make_server('127.0.0.1', 0, app, threaded=True)
    url = f'http://127.0.0.1:{server.server_port}'
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = app.config['PUBLIC_BASE_URL']
    app.config['PUBLIC_BASE_URL'] = url
    yield url
    app.config['PUBLIC_BASE_URL'] = old
    server.shutdown()


@pytest.fixture
def files(tmp_path):
    """A processed ID photo and a signature on disk, as the applicant would have them."""
    raw = tmp_path / '我的照片.jpg'
    raw.write_bytes(images.portrait_jpeg())
    fixed, report = photo.fix_photo(images.portrait_jpeg())
    assert report.ok
    path = tmp_path / '一寸照_处理后.jpg'
    path.write_bytes(fixed)
    sig = tmp_path / '签名.jpg'
    sig.write_bytes(images.signature_jpeg())
    return {'raw': raw, 'photo': path, 'signature': sig}


def sms_code(mobile):
    text = SmsMessage.select().where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).get().text
    return re.search(r'验证码为(\d{6})', text).group(1)


def log_in(page, live, username, password=PASSWORD):
    page.goto(f'{live}/login')
    page.fill('#username', username)
    page.fill('#password', password)
    page.click('button[type=submit]')
    page.wait_for_load_state()


def new_page(browser):
    context = browser.new_context(accept_downloads=True, locale='zh-CN')
    return context.new_page()


def fill_application(page, live, business_type, files, enterprise=None, specialty_names=(), reason=None):
    """From the 申报须知 page to a submitted application, the way the manual describes it."""
    page.goto(f'{live}/portal/apply/{business_type}')
    page.click('#next')                                             # without the tick: refused
    assert '后再点击下一步' in page.inner_text('.alert-danger')
    page.check('#agree')
    page.click('#next')
    page.wait_for_url(re.compile(r'/portal/application/\d+$'))
    # the manual's steps, one page each; the step indicator's buttons save the step before moving
    assert page.get_attribute('#form-steps li.current button', 'value') == 'basic'
    if enterprise is not None:
        page.click('#form-steps button[value="enterprise"]')
        page.fill('#enterprise-search', enterprise.name[:4])
        page.click(f'.enterprise-option:has-text("{enterprise.name}")')
        assert page.input_value('#ent-uscc') == enterprise.uscc
        assert page.input_value('#ent-legal') == enterprise.legal_rep
        page.fill('#contract_start', '2026-01-01')
        page.fill('#contract_end', '2029-12-31')
    if specialty_names:
        page.click('#form-steps button[value="specialties"]')
        for name in specialty_names:
            page.check(f'#s{specialty(name).id}')
    if reason is not None:
        page.click('#form-steps button[value="reasons"]')
        page.check(f'label:has-text("{reason}")')
    page.click('#save')
    page.wait_for_load_state()          # the new page, not the one being left
    assert '草稿已保存' in page.content()
    if page.locator('#form-steps button[value="commitment"]').count():
        page.click('#form-steps button[value="commitment"]')
        if enterprise is not None:
            assert enterprise.name in page.inner_text('#commitment-text')      # FAQ 4
        page.check('#commitment')
    if page.locator('#form-steps button[value="materials"]').count():
        page.click('#form-steps button[value="materials"]')
        for kind in ('photo', 'signature'):
            if page.locator(f'#file-{kind}').count():
                page.set_input_files(f'#file-{kind}', str(files[kind]))
                page.click(f'#upload-{kind}')                                # asynchronous: no reload
                page.wait_for_selector(f'.uploaded[data-kind="{kind}"]')
                assert page.locator(f'.uploaded[data-kind="{kind}"]').count() == 1
    page.click('#form-steps button[value="submit"]')
    page.click('#send-code')
    page.wait_for_selector('#code-status:has-text("验证码已发送")')


def submit_with_code(page, mobile):
    page.fill('#code', sms_code(mobile))
    page.click('#submit')
    page.wait_for_selector('#success')
    assert page.inner_text('#success') == '您所申请的事项已经提交成功！'


def app_number_of(person_id, business_type):
    return (Application.select().where((Application.person == person_id)
                                       & (Application.business_type == business_type))
            .order_by(Application.id.desc()).get())


def staff_accept_approve_publish(browser, live, number):
    page = new_page(browser)
    log_in(page, live, 'acceptor')
    page.goto(f'{live}/admin/accept_queue/')
    page.once('dialog', lambda dialog: dialog.accept())             # the confirmation names the application
    page.locator(f'tr:has-text("{number}") button:has-text("受理")').click()
    page.wait_for_load_state()          # the new page, not the one being left
    assert '当前状态为“审查中”' in page.content()
    page.context.close()
    page = new_page(browser)
    log_in(page, live, 'reviewer')
    page.goto(f'{live}/admin/review_queue/')
    page.once('dialog', lambda dialog: dialog.accept())
    page.locator(f'tr:has-text("{number}") button:has-text("准予")').click()
    page.wait_for_load_state()          # the new page, not the one being left
    assert '准予注册（待公告）' in page.content()
    publish(page, live, number)
    page.context.close()


def publish(page, live, number):
    page.goto(f'{live}/admin/notice/build/')
    page.locator(f'tr:has-text("{number}") input[type=checkbox]').check()
    page.click('button[value=selected]')
    page.wait_for_load_state()          # the new page, not the one being left
    assert '草稿（预览）' in page.content()
    page.on('dialog', lambda dialog: dialog.accept())
    page.click('button:has-text("发布公告")')
    page.wait_for_selector('.badge-success:has-text("已发布")')


def test_full_initial_registration_journey(browser, live, users, password_hash, files, tmp_path):
    # the 资格库 knows her; she has no account and no person record yet
    number = make_person(name='李娜', qualifications=('建筑工程',)).id_number
    cert_number = Qualification.get(Qualification.holder_id_number == number).cert_number   # her paper certificate
    Qualification.update(person=None).where(Qualification.holder_id_number == number).execute()
    Person.delete().where(Person.id_number == number).execute()
    ent = make_enterprise(code='11', name='北京测试建工集团有限公司')
    make_user('bjcj', password_hash, role='enterprise', enterprise=ent)
    mobile = '13912345678'
    page = new_page(browser)

    # sign-up: name, ID number and the 资格证书管理号 from her paper certificate; the SMS code is read
    # from the database (the demo outbox page is for administrators only, not for her)
    page.goto(f'{live}/portal/signup')
    assert '资格证书管理号' in page.inner_text('#identity-checks')
    page.fill('#name', '李娜')
    page.fill('#id_number', number)
    page.fill('#cert_number', cert_number)
    page.fill('#mobile', mobile)
    page.click('#get-code')
    page.wait_for_load_state()          # the new page, not the one being left
    assert '验证码已发送到您的手机' in page.content()
    outbox = page.context.new_page()
    outbox.goto(f'{live}/portal/sms-outbox?mobile={mobile}')
    assert '/login' in outbox.url and outbox.locator('.sms-text').count() == 0      # not hers to read
    outbox.close()
    page.fill('#code', sms_code(mobile))
    page.fill('#password', 'Lina2026pw')
    page.fill('#password2', 'Lina2026pw')
    page.click('#signup')
    page.wait_for_url(f'{live}/portal/')
    assert '一级建造师执业资格认定 · 李娜' in page.content()

    # the photo tool: check says what is wrong, fix saves the processed photo
    page.goto(f'{live}/portal/photo-tool')
    page.set_input_files('#photo-file', str(files['raw']))
    page.click('#check')
    assert '头部在照片中过小' in page.inner_text('#result')
    assert '我的照片.jpg' in page.inner_text('#kept-photo')                   # kept: not chosen again
    page.click('#fix')
    assert '处理成功' in page.inner_text('#result')                             # the old error is gone
    assert page.locator('.alert-danger, .alert-warning').count() == 0
    assert page.locator('#preview-before img').count() == 1 and page.locator('#preview-after img').count() == 1
    with page.expect_download() as dl:
        page.click('#save-photo')
    processed = tmp_path / 'processed.jpg'
    dl.value.save_as(processed)
    assert photo.check_photo(processed.read_bytes()).message == '审核成功'
    files = dict(files, photo=processed)

    fill_application(page, live, 'initial', files, enterprise=ent, specialty_names=['建筑工程'])
    submit_with_code(page, mobile)
    person = Person.get(Person.id_number == number)
    app_row = app_number_of(person.id, 'initial')
    assert app_row.state == 'submitted'

    # the enterprise confirms and reports
    ent_page = new_page(browser)
    log_in(ent_page, live, 'bjcj')
    ent_page.click(f'#inbox tr:has-text("{app_row.number}") a')
    ent_page.once('dialog', lambda dialog: dialog.accept())
    ent_page.click('#act-report')
    assert f'申请 {app_row.number}：已上报' in ent_page.content()
    ent_page.context.close()

    staff_accept_approve_publish(browser, live, app_row.number)
    reg = Registration.get(Registration.person == person)
    assert reg.number.startswith('京1') and Application.get_by_id(app_row.id).state == 'announced'

    # the holder downloads the e-certificate; its QR code opens the public verification page
    page.goto(f'{live}/portal/progress')
    with page.expect_download() as dl:
        page.click('.download-cert')
    pdf = tmp_path / 'cert.pdf'
    dl.value.save_as(pdf)
    from .conftest import decode_qr
    url = decode_qr(render_first_page(pdf.read_bytes(), tmp_path, dpi=300))
    assert url.split('#')[0] == certificates.verify_url(Certificate.get(Certificate.person == person))
    visitor = new_page(browser)                                   # anyone, not logged in
    visitor.goto(url)
    text = visitor.inner_text('main')
    assert '核验结果：有效' in text and reg.number in text and number not in text


def _registered_applicant(password_hash, ent, mobile, quals=('建筑工程', '市政公用工程')):
    person = make_person(qualifications=quals)
    make_registration(person, ent, ('建筑工程',))
    user = make_user(f'a{person.id}', password_hash, role='applicant', person=person, mobile=mobile)
    return person, user


def test_addition_never_reaches_the_enterprise(browser, live, users, password_hash, files):
    ent = make_enterprise(code='11', name='北京增项测试建设有限公司')
    make_user('zxent', password_hash, role='enterprise', enterprise=ent)
    person, user = _registered_applicant(password_hash, ent, '13700001111')
    page = new_page(browser)
    log_in(page, live, user.username)
    fill_application(page, live, 'addition', files, specialty_names=['市政公用工程'])
    submit_with_code(page, '13700001111')
    row = app_number_of(person.id, 'addition')
    assert row.state == 'reported'                                 # straight to the registry (FAQ 13)
    ent_page = new_page(browser)
    log_in(ent_page, live, 'zxent')
    assert row.number not in ent_page.content()
    assert ent_page.goto(f'{live}/enterprise/application/{row.id}').status == 403


def test_employer_change_is_cancellation_then_reregistration(browser, live, users, password_hash, files):
    old = make_enterprise(code='11', name='北京原单位建设有限公司')
    new = make_enterprise(code='31', name='上海新单位建设有限公司')
    make_user('oldent', password_hash, role='enterprise', enterprise=old)
    make_user('newent', password_hash, role='enterprise', enterprise=new)
    person, user = _registered_applicant(password_hash, old, '13600002222', quals=('建筑工程',))
    old_number = Registration.get(Registration.person == person).number
    page = new_page(browser)
    log_in(page, live, user.username)
    fill_application(page, live, 'cancellation', files, reason='已与聘用单位解除聘用合同关系')
    submit_with_code(page, '13600002222')
    cancel = app_number_of(person.id, 'cancellation')

    ent_page = new_page(browser)
    log_in(ent_page, live, 'oldent')
    ent_page.click(f'#inbox tr:has-text("{cancel.number}") a')
    ent_page.once('dialog', lambda dialog: dialog.accept())
    ent_page.click('#act-confirm_cancel')
    ent_page.context.close()
    # FAQ 14: the 注销 takes effect at the confirmation; the announcement only lists it
    assert Registration.get(Registration.person == person).state == 'cancelled'
    staff = new_page(browser)
    log_in(staff, live, 'reviewer')
    publish(staff, live, cancel.number)
    staff.context.close()
    assert Registration.get(Registration.person == person).state == 'cancelled'

    from models import SmsCode
    # days later: the 60-second resend interval for this mobile has long passed
    import datetime
    SmsCode.update(created_at=datetime.datetime(2026, 1, 1)).execute()
    fill_application(page, live, 'reregister', files, enterprise=new, specialty_names=['建筑工程'])
    submit_with_code(page, '13600002222')
    rereg = app_number_of(person.id, 'reregister')
    old_page = new_page(browser)
    log_in(old_page, live, 'oldent')
    assert rereg.number not in old_page.inner_text('#inbox')
    new_page_ = new_page(browser)
    log_in(new_page_, live, 'newent')
    new_page_.click(f'#inbox tr:has-text("{rereg.number}") a')
    new_page_.once('dialog', lambda dialog: dialog.accept())
    new_page_.click('#act-report')
    new_page_.context.close()
    staff_accept_approve_publish(browser, live, rereg.number)
    active = Registration.get((Registration.person == person) & (Registration.state == 'active'))
    assert active.enterprise_id == new.id
    assert active.number == '沪' + old_number[1:] and active.seal_check == 1
