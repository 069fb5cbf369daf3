"""Safe decisions in a real browser (issue 13): every decision asks first, naming the application and the
action; cancelling changes nothing; a failed automatic check needs a reason; 办理下一件 opens the next item.

Playwright on Debian's Chromium, as tests/test_browser.py (skipped without it unless REQUIRE_BROWSER=1).
"""
import datetime
import re

from models import Application, AuditEvent

from .conftest import actor_for, build_application
from .test_browser import browser_type_launch_args, live, log_in, new_page   # noqa: F401  (fixtures)


ACTIONS_MENU = '.dropdown:has([data-admin-action]) > a[data-toggle=dropdown]'     # Flask-Admin's batch menu


def _dialogs(page, answer):
    """Answer every dialog with `answer` (True = OK) and keep their texts."""
    seen = []

    def handle(dialog):
        seen.append(dialog.message)
        dialog.accept() if answer() else dialog.dismiss()
    page.on('dialog', handle)
    return seen


def test_row_decision_asks_naming_the_application_and_cancel_changes_nothing(browser, live, users):
    row = build_application('initial', 'reported')
    page = new_page(browser)
    answer = {'ok': False}
    seen = _dialogs(page, lambda: answer['ok'])
    log_in(page, live, 'acceptor')
    page.goto(f'{live}/admin/accept_queue/')
    button = page.locator(f'tr:has-text("{row.number}") button:has-text("受理")')
    button.click()
    assert seen == [f'确定对申请 {row.number} 执行“受理”吗？']
    page.wait_for_timeout(300)                       # a submit would have navigated by now
    assert Application.get_by_id(row.id).state == 'reported'
    answer['ok'] = True
    with page.expect_navigation():
        button.click()
    assert Application.get_by_id(row.id).state == 'accepted'
    assert f'申请 {row.number}：已受理' in page.content()
    page.context.close()


def test_failed_check_needs_a_reason_then_next_item(browser, live, users):
    bad = build_application('initial', 'reported', specialties=['机电工程'])     # not in the 资格库
    nxt = build_application('initial', 'reported')
    Application.update(reported_at=datetime.datetime(2026, 1, 5)).where(Application.id == bad.id).execute()
    Application.update(reported_at=datetime.datetime(2026, 1, 6)).where(Application.id == nxt.id).execute()
    page = new_page(browser)
    seen = _dialogs(page, lambda: True)
    log_in(page, live, 'acceptor')
    page.goto(f'{live}/admin/accept_queue/details/?id={bad.id}')
    form = page.locator('#decide-accept')
    assert '资格库中具有所选专业的资格' in form.inner_text()
    # the reason is required in the browser too: no dialog, no request
    form.locator('button[type=submit]').click()
    assert seen == [] and Application.get_by_id(bad.id).state == 'reported'
    form.locator('textarea[name=override_reason]').fill('已核验资格证书原件')
    with page.expect_navigation():
        form.locator('button[type=submit]').click()
    assert seen == [f'自动核查有 1 项未通过。确定对申请 {bad.number} 执行“受理”吗？']
    assert Application.get_by_id(bad.id).state == 'accepted'
    event = AuditEvent.select().where(AuditEvent.application == bad.id).get()
    assert '已核验资格证书原件' in event.comment
    assert f'申请 {bad.number}：已受理' in page.content()
    page.click('#next-item-link')
    page.wait_for_load_state()
    assert page.url.endswith(f'/admin/accept_queue/details/?id={nxt.id}')
    assert page.locator(f'h4:has-text("{nxt.number}")').count() == 1
    page.context.close()


def test_batch_action_names_every_selected_application(browser, live, users):
    rows = [build_application('initial', 'reported') for _ in range(2)]
    page = new_page(browser)
    answer = {'ok': False}
    seen = _dialogs(page, lambda: answer['ok'])
    log_in(page, live, 'acceptor')
    page.goto(f'{live}/admin/accept_queue/')
    for r in rows:
        page.check(f'tr:has-text("{r.number}") input.action-checkbox')
    page.click(ACTIONS_MENU)
    page.click('[data-admin-action=accept]')
    assert len(seen) == 1 and '批量受理' in seen[0]
    assert all(r.number in seen[0] for r in rows)
    assert {Application.get_by_id(r.id).state for r in rows} == {'reported'}      # cancelled
    answer['ok'] = True
    page.click(ACTIONS_MENU)
    with page.expect_navigation():
        page.click('[data-admin-action=accept]')
    assert {Application.get_by_id(r.id).state for r in rows} == {'accepted'}
    page.context.close()


def test_enterprise_report_and_batch_report_confirm(browser, live, users, password_hash):
    one = build_application('initial', 'submitted')
    two = build_application('renewal', 'submitted', enterprise=one.enterprise)
    three = build_application('initial', 'submitted', enterprise=one.enterprise)
    for k, a in enumerate((one, two, three)):       # the inbox is oldest submission first
        Application.update(submitted_at=datetime.datetime(2026, 1, 5 + k)).where(Application.id == a.id).execute()
    hr = actor_for('enterprise', one, users, password_hash)
    page = new_page(browser)
    seen = _dialogs(page, lambda: True)
    log_in(page, live, hr.username)
    page.goto(f'{live}/enterprise/application/{one.id}')
    with page.expect_navigation():
        page.click('#act-report')
    assert seen[-1] == f'确定对申请 {one.number}（{one.person.name}）执行“上报”吗？'
    assert Application.get_by_id(one.id).state == 'reported'
    assert re.search(r'申请 \S+：已上报', page.content())
    page.click('#next-item-link')                   # the oldest other item of the inbox
    page.wait_for_load_state()
    assert page.url.endswith(f'/enterprise/application/{two.id}')
    page.goto(f'{live}/enterprise/')
    page.check(f'#inbox tr:has-text("{two.number}") input[type=checkbox]')
    page.check(f'#inbox tr:has-text("{three.number}") input[type=checkbox]')
    with page.expect_navigation():
        page.click('#report-selected')
    assert '确定上报以下 2 件业务吗？' in seen[-1] and two.number in seen[-1] and three.number in seen[-1]
    assert {Application.get_by_id(a.id).state for a in (two, three)} == {'reported'}
    page.context.close()
