"""Browser journeys of the registry over time (issue: lapse, 强制注销), in Debian's Chromium.

Time passes by changing the data ("the enterprise has not confirmed for 30 days"; "the
specialty ended yesterday"), never by sleeping.
"""
import datetime


from backoffice.issuing import certificates
from backoffice.workflow import lifecycle
from models import Application, Certificate, RegisteredSpecialty, Registration, SmsCode

from .conftest import make_enterprise, make_user, render_first_page
from .test_browser import (_registered_applicant, app_number_of, browser_type_launch_args, files,  # noqa: F401
                           fill_application, live, log_in, new_page, staff_accept_approve_publish,
                           submit_with_code)

PDF = b'%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'


def _codes_may_be_sent_again():
    """Days later: the 60-second resend interval for the mobile has long passed."""
    SmsCode.update(created_at=datetime.datetime(2026, 1, 1)).execute()


def _download_and_verify(browser, page, live, tmp_path):
    """The holder downloads the e-certificate; its QR opens the public verification page."""
    page.goto(f'{live}/portal/progress')
    with page.expect_download() as dl:
        page.locator('.download-cert').first.click()
    pdf = tmp_path / 'cert.pdf'
    dl.value.save_as(pdf)
    from .conftest import decode_qr
    url = decode_qr(render_first_page(pdf.read_bytes(), tmp_path, dpi=300))
    assert url.startswith(f'{live}/verify/')
    visitor = new_page(browser)
    visitor.goto(url)
    text = visitor.inner_text('main')
    visitor.context.close()
    return text


def test_forced_cancellation_then_reregistration_with_another_enterprise(browser, live, users, password_hash,
                                                                          files, tmp_path):
    old = make_enterprise(code='11', name='北京拖延单位建设有限公司')
    new = make_enterprise(code='31', name='上海接收单位建设有限公司')
    make_user('slowent', password_hash, role='enterprise', enterprise=old)
    make_user('nextent', password_hash, role='enterprise', enterprise=new)
    person, user = _registered_applicant(password_hash, old, '13500003333', quals=('建筑工程',))
    old_reg = Registration.get(Registration.person == person)

    page = new_page(browser)
    log_in(page, live, user.username)
    fill_application(page, live, 'cancellation', files, reason='已与聘用单位解除聘用合同关系')
    submit_with_code(page, '13500003333')
    cancel = app_number_of(person.id, 'cancellation')
    page.goto(f'{live}/portal/progress')
    assert '逾期仍未确认的，您可以申请强制注销' in page.inner_text(f'[data-number="{cancel.number}"]')

    # the former employer never confirms: 30 days later the holder asks the registry
    Application.update(submitted_at=datetime.datetime.now() - datetime.timedelta(days=30)).where(
        Application.id == cancel.id).execute()
    page.goto(f'{live}/portal/progress')
    card = page.locator(f'[data-number="{cancel.number}"]')
    proof = tmp_path / '解除劳动合同证明.pdf'
    proof.write_bytes(PDF)
    card.locator('input[type=file]').set_input_files(str(proof))
    card.locator('textarea').fill('已于上月解除劳动合同，原单位不予确认注销')
    card.locator('button:has-text("申请强制注销")').click()
    page.wait_for_load_state()
    assert '已向注册机构申请强制注销' in page.content()
    assert Application.get_by_id(cancel.id).state == 'reported'

    # the registry accepts and decides; the registration ends at the decision
    staff_accept_approve_publish(browser, live, cancel.number)
    assert Registration.get_by_id(old_reg.id).state == 'cancelled'

    # 重新注册 with the new employer, at once
    _codes_may_be_sent_again()
    fill_application(page, live, 'reregister', files, enterprise=new, specialty_names=['建筑工程'])
    submit_with_code(page, '13500003333')
    rereg = app_number_of(person.id, 'reregister')
    hr = new_page(browser)
    log_in(hr, live, 'nextent')
    hr.click(f'#inbox tr:has-text("{rereg.number}") a')
    hr.once('dialog', lambda dialog: dialog.accept())
    hr.click('#act-report')
    hr.context.close()
    staff_accept_approve_publish(browser, live, rereg.number)
    active = Registration.get((Registration.person == person) & (Registration.state == 'active'))
    assert active.enterprise_id == new.id and active.number[1:] == old_reg.number[1:]

    text = _download_and_verify(browser, page, live, tmp_path)
    assert '核验结果：有效' in text and active.number in text


def test_a_lapsed_registration_shows_lapsed_and_the_holder_registers_again(browser, live, users, password_hash,
                                                                           files, tmp_path):
    ent = make_enterprise(code='11', name='北京失效测试建设有限公司')
    make_user('lapseent', password_hash, role='enterprise', enterprise=ent)
    person, user = _registered_applicant(password_hash, ent, '13500004444', quals=('建筑工程',))
    reg = Registration.get(Registration.person == person)
    cert = certificates.issue(reg)
    # the specialty ended yesterday without a renewal; tonight's task runs
    RegisteredSpecialty.update(valid_until=datetime.date.today() - datetime.timedelta(days=1)).where(
        RegisteredSpecialty.registration == reg).execute()
    assert lifecycle.run_lapse()['expired'] == 1

    visitor = new_page(browser)
    visitor.goto(f'{live}/search?reg_number={reg.number}')
    assert '没有查询到符合条件的注册人员' in visitor.inner_text('main')
    visitor.goto(certificates.verify_url(Certificate.get_by_id(cert.id)))
    verdict = visitor.inner_text('main')
    assert '注册已失效' in verdict and '本证书真实有效' not in verdict
    visitor.context.close()

    page = new_page(browser)
    log_in(page, live, user.username)
    fill_application(page, live, 'reregister', files, enterprise=ent, specialty_names=['建筑工程'])
    submit_with_code(page, '13500004444')
    assert app_number_of(person.id, 'reregister').state == 'submitted'
