"""Browser journey of issue 12: an enterprise signs up, the registry approves it, its administrator
creates an HR user, an applicant picks the enterprise, the HR user batch-上报s, and the applicant
sees the notification in the message centre and in the SMS outbox. Playwright on Debian's Chromium."""
import io

from PIL import Image

from backoffice.notify import outbox
from models import Application, EnterpriseSignup, Enterprise, Notification, SmsMessage

from .conftest import make_person, make_user
from .test_browser import (browser_type_launch_args, files, fill_application, live, log_in,  # noqa: F401
                           new_page, sms_code, submit_with_code)


def test_enterprise_signup_to_batch_report_and_notification(browser, live, users, password_hash, files,  # noqa: F811
                                                              tmp_path):
    from .conftest import make_id_number, make_uscc
    licence = tmp_path / '营业执照.png'
    buf = io.BytesIO()
    Image.new('RGB', (800, 560), 'white').save(buf, 'PNG')
    licence.write_bytes(buf.getvalue())
    uscc, ent_mobile = make_uscc(), '13766668888'

    # 1. the enterprise signs up: USCC, legal representative, mobile with an SMS code, licence
    page = new_page(browser)
    page.goto(f'{live}/enterprise-account/signup')
    page.fill('#uscc', uscc)
    page.fill('#name', '自助建工集团有限公司')
    page.select_option('#province', '11')
    page.fill('#address', '北京市海淀区建设路8号')
    page.fill('#legal_rep', '钱进')
    page.fill('#legal_rep_id_number', make_id_number())
    page.fill('#mobile', ent_mobile)
    page.click('#get-code')
    page.wait_for_load_state()          # the new page, not the one being left
    assert '验证码已发送到联系手机' in page.content()
    page.fill('#code', sms_code(ent_mobile))
    page.set_input_files('#licence', str(licence))
    page.fill('#username', 'zizhu_qy')
    page.fill('#password', 'Zizhu2026pw')
    page.fill('#password2', 'Zizhu2026pw')
    page.click('#signup')
    page.wait_for_selector('#signup-submitted')
    signup = EnterpriseSignup.get(EnterpriseSignup.uscc == uscc)
    page.context.close()

    # 2. the registry approves it
    staff = new_page(browser)
    log_in(staff, live, 'acceptor')
    staff.goto(f'{live}/admin/enterprisesignup/decide/?id={signup.id}')
    staff.click('#approve')
    assert '已通过' in staff.content()
    staff.context.close()
    ent = Enterprise.get(Enterprise.uscc == uscc)
    assert ent.verified

    # 3. its administrator creates an HR user
    admin_page = new_page(browser)
    log_in(admin_page, live, 'zizhu_qy', 'Zizhu2026pw')
    admin_page.goto(f'{live}/enterprise-account/users')
    admin_page.fill('#username', 'zizhu_hr')
    admin_page.fill('#name', '孙人事')
    admin_page.fill('#mobile', '13766669999')
    admin_page.fill('#password', 'Renshi2026pw')
    admin_page.fill('#password2', 'Renshi2026pw')
    admin_page.click('#create-user')
    assert '已新建人事账号' in admin_page.content()
    admin_page.context.close()

    # 4. an applicant picks the enterprise and submits
    mobile = '13955556666'
    person = make_person(name='周杰', qualifications=('建筑工程',))
    make_user('zhoujie', password_hash, role='applicant', person=person, mobile=mobile)
    applicant = new_page(browser)
    log_in(applicant, live, 'zhoujie')
    fill_application(applicant, live, 'initial', files, enterprise=ent, specialty_names=['建筑工程'])
    submit_with_code(applicant, mobile)
    app_row = Application.get(Application.person == person.id)

    # 5. the HR user batch-上报s from the inbox
    hr = new_page(browser)
    log_in(hr, live, 'zizhu_hr', 'Renshi2026pw')
    hr.goto(f'{live}/enterprise/')
    hr.check(f'#inbox tr:has-text("{app_row.number}") input[type=checkbox]')
    hr.once('dialog', lambda dialog: dialog.accept())              # names the ticked applications
    hr.click('#report-selected')
    assert f'已上报 1 件：{app_row.number}' in hr.content()
    hr.context.close()
    assert Application.get_by_id(app_row.id).state == 'reported'

    # 6. the job queue sends after commit (run here as the consumer would); the applicant sees it
    outbox.send_due()
    assert SmsMessage.select().where((SmsMessage.mobile == mobile) & (SmsMessage.purpose == 'notify')
                                     & SmsMessage.text.contains('已由聘用企业')).count() == 1
    applicant.goto(f'{live}/portal/')
    assert applicant.locator('#nav-messages [data-unread-count]').count() == 1
    applicant.click('#nav-messages')
    assert '已由聘用企业自助建工集团有限公司上报' in applicant.inner_text('#messages')
    applicant.click('button[name=all]')
    assert applicant.locator('#nav-messages [data-unread-count]').count() == 0
    assert Notification.select().where((Notification.person == person.id) & Notification.read_at.is_null()
                                       & (Notification.channel == 'inapp')).count() == 0
