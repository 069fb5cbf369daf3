"""The applicant's step-by-step form in a real browser (Playwright on Debian's Chromium): an asynchronous
upload keeps the page and what was chosen, leaving with unsaved input asks first, an empty 提交 shows
a summary whose links lead to the errors at their fields, and 延续/注销 are offered only with a registration."""
import re

from models import Material

from .conftest import make_enterprise, make_person, make_registration, make_user
from .test_browser import browser_type_launch_args, files, live, log_in, new_page  # noqa: F401


def _applicant(password_hash, mobile, person=None):
    person = person or make_person()
    return person, make_user(f'st{person.id}', password_hash, role='applicant', person=person, mobile=mobile)


def _start(page, live, business_type):
    page.goto(f'{live}/portal/apply/{business_type}')
    page.check('#agree')
    page.click('#next')
    page.wait_for_url(re.compile(r'/portal/application/\d+$'))
    return int(page.url.rstrip('/').split('/')[-1])


def test_async_upload_keeps_the_page_and_typed_input(browser, live, password_hash, files):
    person, user = _applicant(password_hash, '13500001111')
    page = new_page(browser)
    violations = []                                   # the pages run under the CSP without a report
    page.on('console', lambda m: violations.append(m.text) if 'Content Security Policy' in m.text else None)
    log_in(page, live, user.username)
    app_id = _start(page, live, 'initial')
    page.fill('#school', '同济大学')
    page.fill('#major', '土木工程')
    page.click('#next-step')                                          # saved on the server, next step
    page.wait_for_url(re.compile(r'step=enterprise'))
    page.click('#form-steps button[value="materials"]')
    page.wait_for_url(re.compile(r'step=materials'))
    page.evaluate('window.__notReloaded = true')
    page.set_input_files('#file-signature', str(files['signature']))   # chosen, not uploaded yet
    page.set_input_files('#file-photo', str(files['photo']))
    page.click('#upload-photo')
    page.wait_for_selector('.uploaded[data-kind="photo"]')
    assert '已上传：一寸白底免冠照' in page.inner_text('#status-photo')
    assert page.evaluate('window.__notReloaded') is True                # the page was not reloaded
    assert page.evaluate("document.getElementById('file-signature').files.length") == 1   # nothing lost
    assert Material.get((Material.application == app_id) & (Material.kind == 'photo')).original_name \
        == files['photo'].name
    # a refused file: its message at its field, on the same page
    page.set_input_files('#file-contract', str(files['raw']))
    page.evaluate("document.getElementById('file-contract').value = ''")
    page.click('#upload-contract')
    assert page.inner_text('#error-upload_contract') == '请选择要上传的文件'
    page.click('#upload-signature')
    page.wait_for_selector('.uploaded[data-kind="signature"]')
    assert page.evaluate('window.__notReloaded') is True
    page.click('#form-steps button[value="basic"]')
    assert page.input_value('#school') == '同济大学' and page.input_value('#major') == '土木工程'
    page.goto(live + '/portal/progress')
    assert page.locator('.step-bar li[aria-current="step"] .step-label').inner_text() == '申请'
    page.goto(live + '/portal/photo-tool')
    page.wait_for_load_state('networkidle')
    assert violations == []


def test_leaving_with_unsaved_input_asks_first(browser, live, password_hash, files):
    person, user = _applicant(password_hash, '13500002222')
    page = new_page(browser)
    log_in(page, live, user.username)
    _start(page, live, 'initial')
    form_url = page.url
    seen = []

    def on_dialog(dialog):
        seen.append(dialog.type)
        dialog.dismiss()                                               # stay on the page
    page.on('dialog', on_dialog)
    page.fill('#school', '')
    page.click('#school')
    page.keyboard.type('清华大学')
    leave = page.locator('#requirements a').first                 # a link to another step (a GET)
    leave.click()
    page.wait_for_timeout(300)
    assert seen == ['beforeunload'] and page.url == form_url
    assert page.input_value('#school') == '清华大学'
    page.click('#save')                                                 # saving is not leaving: no question
    page.wait_for_load_state()          # the new page, not the one being left
    assert '草稿已保存' in page.content() and seen == ['beforeunload']
    page.locator('#requirements a').first.click()                       # nothing unsaved: no question
    page.wait_for_url(re.compile(r'step='))
    assert seen == ['beforeunload']
    page.goto(form_url + '?step=materials')
    page.set_input_files('#file-photo', str(files['photo']))            # chosen, not uploaded: also asks
    page.click('#requirements summary')
    page.locator('#requirements a').first.click()
    page.wait_for_timeout(300)
    assert seen == ['beforeunload', 'beforeunload'] and page.url.endswith('step=materials')
    page.click('#form-steps button[value="submit"]')                   # a step button uploads it with the draft
    page.wait_for_url(re.compile(r'step=submit'))
    assert '已上传：一寸白底免冠照' in page.content()


def test_empty_submit_links_each_error_to_its_field(browser, live, password_hash):
    person, user = _applicant(password_hash, '13500003333')
    page = new_page(browser)
    log_in(page, live, user.username)
    _start(page, live, 'initial')
    page.click('#form-steps button[value="submit"]')
    page.click('#submit')
    summary = page.locator('#error-summary')
    assert summary.is_visible()
    assert page.evaluate('document.activeElement.id') == 'error-summary'      # announced first
    texts = summary.locator('a.error-link').all_inner_texts()
    for expected in ('请选择聘用企业', '请至少选择一个注册专业', '请上传一寸白底免冠照', '请输入短信验证码'):
        assert expected in texts, texts
    assert page.inner_text('#error-code') == '请输入短信验证码'
    assert page.get_attribute('#code', 'aria-invalid') == 'true'
    summary.locator('a.error-link', has_text='请选择聘用企业').click()
    page.wait_for_url(re.compile(r'step=enterprise#enterprise-search$'))
    assert page.inner_text('#error-enterprise') == '请选择聘用企业'
    assert page.get_attribute('#enterprise-search', 'aria-required') == 'true'
    assert page.locator('label[for="contract_start"] .required-mark').is_visible()


def test_renewal_and_cancellation_offered_only_with_a_registration(browser, live, password_hash):
    _, without = _applicant(password_hash, '13500004444')
    page = new_page(browser)
    log_in(page, live, without.username)
    page.goto(f'{live}/portal/')
    links = page.locator('a.offered-type').evaluate_all('els => els.map(e => e.dataset.type)')
    assert 'renewal' not in links and 'cancellation' not in links and 'initial' in links
    assert '您目前没有有效的注册' in page.inner_text('#not-offered')
    response = page.goto(f'{live}/portal/apply/renewal')
    assert response.status == 403 and page.locator('#next').count() == 0
    page.context.close()
    person = make_person()
    make_registration(person, make_enterprise())
    _, holder = _applicant(password_hash, '13500005555', person)
    page = new_page(browser)
    log_in(page, live, holder.username)
    page.goto(f'{live}/portal/')
    links = page.locator('a.offered-type').evaluate_all('els => els.map(e => e.dataset.type)')
    assert 'renewal' in links and 'cancellation' in links and 'initial' not in links
