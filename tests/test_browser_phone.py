"""Pages added for the security, life-cycle and notification work, on a phone (390 × 844):
Chinese, lang="zh-CN", and no horizontal overflow."""
import datetime

from models import Application

from .conftest import build_application, make_user
from .test_browser import browser_type_launch_args, live, log_in, new_page  # noqa: F401


def _phone(browser):
    context = browser.new_context(viewport={'width': 390, 'height': 844}, locale='zh-CN', is_mobile=True)
    return context.new_page()


def _fits(page):
    width = page.evaluate('document.documentElement.scrollWidth')
    assert width <= 390, f'{page.url} is {width}px wide at 390px'
    assert page.evaluate('document.documentElement.lang') == 'zh-CN', page.url


def test_new_public_and_portal_pages_fit_a_phone(browser, live, users, password_hash):
    page = _phone(browser)
    for path in ('/login', '/portal/signup', '/enterprise-account/signup'):
        page.goto(live + path)
        _fits(page)
    # an applicant whose enterprise has not confirmed a 注销 for 30 days: the 强制注销 form shows
    cancel = build_application('cancellation', 'submitted')
    Application.update(submitted_at=datetime.datetime.now() - datetime.timedelta(days=30)).where(
        Application.id == cancel.id).execute()
    holder = make_user('phone-holder', password_hash, role='applicant', person=cancel.person, mobile='13900009999')
    log_in(page, live, holder.username)
    for path in ('/portal/progress', '/messages/', '/account/password'):
        page.goto(live + path)
        _fits(page)
    page.goto(live + '/portal/progress')
    assert page.locator('.forced-cancel button').is_visible()
    page.context.close()
