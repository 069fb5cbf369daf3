"""Phones and accessibility, checked in the browser on the demo data for every role.

For every page a role reaches (the public pages, the applicant's and the enterprise's pages, and
every page of each staff role's menu plus a record page of each list):
- every visible input, select and textarea has an accessible name (label[for], a wrapping label,
  aria-label or aria-labelledby; a placeholder or title does not count);
- every visible text, button and badge has a contrast of at least 4.5:1 against its background
  (WCAG 2 relative luminance of the computed colours, semi-transparent layers blended);
- the first focusable element is the skip link 跳到主要内容, whose target exists;
- the title ends with the system's name.
At 390 × 844 no public, portal or enterprise page is wider than the screen, and the menu is
collapsed behind a button that opens it.
"""
import datetime
import re

import pytest

from backoffice.issuing import certificates, notices
from models import Application, Certificate, Registration, User
from seed.demo import DEMO_ACCOUNTS, generate

from .test_browser import browser_type_launch_args, live  # noqa: F401

SYSTEM = '一级建造师注册管理信息系统'
PASSWORDS = {u: p for u, p, *_ in DEMO_ACCOUNTS}
TODAY = datetime.date(2026, 11, 25)

AUDIT_JS = r"""
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]*)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const blend = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let base = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) base = blend(layers[i], base);
    return base;
  };
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.name) s += '[name=' + el.name + ']';
    if (el.className && typeof el.className === 'string') s += '.' + el.className.trim().split(/\s+/).slice(0, 3).join('.');
    return s;
  };
  const out = {width: document.documentElement.scrollWidth, inner: window.innerWidth,
               lang: document.documentElement.lang, title: document.title, unlabeled: [], contrast: []};

  // every visible form field has an accessible name
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const hiddenSelect = el.classList.contains('select2-hidden-accessible');
    if (!hiddenSelect && !visible(el)) continue;
    let named = false;
    if ((el.getAttribute('aria-label') || '').trim()) named = true;
    const by = (el.getAttribute('aria-labelledby') || '').trim();
    if (by && by.split(/\s+/).some(id => { const t = document.getElementById(id); return t && t.textContent.trim(); })) named = true;
    if (el.labels && Array.from(el.labels).some(l => l.textContent.trim() || l.querySelector('img[alt]'))) named = true;
    if (!named) out.unlabeled.push(describe(el));
  }

  // contrast of every visible text
  const seen = new Set();
  const check = (el, text) => {
    if (el.closest('[disabled], .disabled, [aria-disabled=true], .select2-hidden-accessible, option')) return;
    if (!visible(el)) return;
    const cs = getComputedStyle(el);
    const bg = background(el);
    let fg = parse(cs.color);
    if (fg[3] < 1) fg = blend(fg, bg);
    const r = ratio(fg, bg);
    if (r < 4.5) {
      const key = describe(el) + ' ' + cs.color + ' on ' + bg.slice(0, 3).map(Math.round).join(',');
      if (!seen.has(key)) { seen.add(key); out.contrast.push(key + ' = ' + r.toFixed(2) + ' «' + text.slice(0, 20) + '»'); }
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    if (!text || !n.parentElement || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION', 'TEXTAREA'].includes(n.parentElement.tagName)) continue;
    check(n.parentElement, text);
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea')) {
    if (el.value) check(el, el.value);
  }

  // the skip link comes first
  const focusable = Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]'))
    .filter(e => e.tabIndex >= 0 && !e.disabled);
  const first = focusable[0];
  out.firstFocus = first ? first.textContent.trim() : '';
  const target = first && first.getAttribute('href') && first.getAttribute('href').startsWith('#')
    ? document.getElementById(first.getAttribute('href').slice(1)) : null;
  out.skipTarget = !!target;
  return out;
}
"""


@pytest.fixture
def demo(app):
    """The demo data of 200 persons, one published announcement and a certificate to verify."""
    with app.app_context():
        generate(200, today=TODAY)
        admin = User.get(User.username == 'admin')
        approved = [a.id for a in Application.select().where((Application.state == 'approved')
                                                             & (Application.business_type != 'info_change'))]
        notice = notices.create_draft(admin, ids=approved)
        notices.publish(notice.id, admin)
        cert = Certificate.select().where(Certificate.state == 'valid').order_by(Certificate.id).first()
        reg = Registration.select().where(Registration.state == 'active').order_by(Registration.id).first()
        return {'notice': notice.id, 'token': certificates.token_for(cert), 'reg_number': reg.number}


def _log_in(page, live, username):
    page.goto(f'{live}/login')
    page.fill('#username', username)
    page.fill('#password', PASSWORDS[username])
    page.click('button[type=submit]')
    page.wait_for_load_state()
    assert '/login' not in page.url, f'{username} could not log in'


def _audit(page, problems, phone=False, check_lang=True):
    result = page.evaluate(AUDIT_JS)
    url = page.url
    if check_lang and result['lang'] != 'zh-CN':
        problems.append(f'{url}: lang={result["lang"]!r}')
    if not result['title'].endswith(SYSTEM):
        problems.append(f'{url}: title {result["title"]!r} does not name the system')
    for name in result['unlabeled']:
        problems.append(f'{url}: field without a label: {name}')
    for item in result['contrast']:
        problems.append(f'{url}: contrast {item}')
    if result['firstFocus'] != '跳到主要内容' or not result['skipTarget']:
        problems.append(f'{url}: first focusable is {result["firstFocus"]!r}, not the skip link')
    # against the screen's width: a mobile browser widens window.innerWidth to fit an overflowing page
    screen = page.viewport_size['width']
    if phone and result['width'] > screen:
        problems.append(f'{url}: {result["width"]}px wide at {screen}px')
    return result


def _links(page, live, prefix):
    hrefs = page.eval_on_selector_all('a[href]', 'els => els.map(e => e.getAttribute("href"))')
    out = []
    for h in hrefs:
        h = h.replace(live, '')
        if not h.startswith(prefix) or h.startswith(prefix + 'static') or '/export' in h or h.endswith('.pdf'):
            continue
        if any(bad in h for bad in ('download', '/logout', 'sms-outbox', '/files/', '.csv', '.xlsx')):
            continue
        out.append(h.split('#')[0])
    return list(dict.fromkeys(out))


def _visit(page, live, path, problems, phone=False, check_lang=True):
    response = page.goto(live + path)
    if response is None or response.status >= 400:
        return None
    return _audit(page, problems, phone, check_lang)


PUBLIC = ['/', '/login', '/announcements', '/search', '/search?name=王', '/search?id_number=1', '/portal/signup',
          '/enterprise-account/signup', '/portal/photo-tool']


def _public_pages(demo):
    return PUBLIC + [f'/announcements/{demo["notice"]}', f'/verify/{demo["token"]}',
                     f'/search?reg_number={demo["reg_number"]}']


def _applicant_pages(page, live):
    """The applicant's pages, with a draft opened from the 申报须知 page."""
    page.goto(f'{live}/portal/apply/initial')
    if page.locator('#agree').count():
        page.check('#agree')
        page.click('#next')
        page.wait_for_load_state()
    draft = page.url.replace(live, '')
    return ['/portal/', '/portal/apply/initial', draft, '/portal/progress', '/messages/', '/account/password',
            '/portal/photo-tool', '/announcements']


def _enterprise_pages(page, live):
    page.goto(f'{live}/enterprise/')
    details = [h for h in _links(page, live, '/enterprise/application/')][:2]
    return ['/enterprise/', '/enterprise/staff', '/enterprise-account/users', '/enterprise-account/change', '/messages/',
            '/account/password'] + details


def test_public_portal_and_enterprise_pages_fit_a_phone_and_are_accessible(browser, live, demo):
    problems = []
    context = browser.new_context(viewport={'width': 390, 'height': 844}, locale='zh-CN', is_mobile=True)
    page = context.new_page()
    for path in _public_pages(demo):
        assert _visit(page, live, path, problems, phone=True) is not None, path
    # the menu is collapsed on a phone and opens with its button
    page.goto(live + '/')
    assert not page.locator('#main-nav a:has-text("注册人员查询")').is_visible()
    page.click('button.navbar-toggler')
    page.locator('#main-nav a:has-text("注册人员查询")').wait_for(state='visible')
    # the login page puts the cursor in 用户名; Tab reaches the skip link first, which leads to the content
    page.goto(live + '/login')
    assert page.evaluate('document.activeElement.id') == 'username'
    page.goto(live + '/announcements')
    page.keyboard.press('Tab')
    assert page.evaluate('document.activeElement.textContent') == '跳到主要内容'
    assert page.locator('.skip-link').is_visible()                 # shown while it has the focus
    page.keyboard.press('Enter')
    assert page.evaluate('document.activeElement.id') == 'main'
    # the public search shows its results
    page.goto(live + f'/search?reg_number={demo["reg_number"]}')
    assert page.locator('#search-results tbody tr td[data-label="注册编号"]').inner_text() == demo['reg_number']
    for username, pages in (('shenqing', _applicant_pages), ('qiye', _enterprise_pages)):
        _log_in(page, live, username)
        for path in pages(page, live):
            assert _visit(page, live, path, problems, phone=True) is not None, path
        page.context.clear_cookies()
    context.close()
    assert not problems, '\n'.join(problems)


STAFF = [u for u, _, role, *_ in DEMO_ACCOUNTS if role not in ('applicant', 'enterprise')]


def test_every_staff_page_is_accessible(browser, live, demo):
    """Each staff role's home and menu pages, a record page of each list, and the list filters opened.
    A page two roles share is audited once, for the first role that reaches it (the pages are the
    same templates; `lang` of the back office is checked by the language crawl)."""
    problems, audited = [], set()
    context = browser.new_context(viewport={'width': 1366, 'height': 768}, locale='zh-CN')
    page = context.new_page()
    for username in STAFF:
        _log_in(page, live, username)
        start = page.url.replace(live, '')
        pages = [start] + [h for h in _links(page, live, '/admin/') if h != start]
        for path in pages:
            key = path.split('?')[0]
            if key in audited and path != start:
                continue
            audited.add(key)
            if _visit(page, live, path, problems, check_lang=False) is None:
                continue
            detail = [h for h in _links(page, live, key) if re.search(r'/(details|edit)/\?id=\d+', h)]
            if detail and key + 'details/' not in audited:
                audited.add(key + 'details/')
                _visit(page, live, detail[0], problems, check_lang=False)
                page.goto(live + path)
            if page.locator('a.filter').count():
                # open up to four filters: their rows are built by Flask-Admin's script
                page.eval_on_selector_all('a.filter', 'els => els.slice(0, 4).forEach(e => e.click())')
                assert page.locator('table.filters tr').count(), path
                _audit(page, problems, check_lang=False)
        page.context.clear_cookies()
    context.close()
    assert len(audited) > 30, sorted(audited)
    assert not problems, '\n'.join(problems)


def test_the_audit_finds_what_it_looks_for(browser):
    """The checks above can fail: the issue's own examples, on a page built for it."""
    context = browser.new_context(viewport={'width': 390, 'height': 844}, locale='zh-CN')
    page = context.new_page()
    page.set_content("""<html lang="zh-CN"><head><title>查询</title></head><body>
      <a href="/">首页</a>
      <nav style="background:#007bff"><span style="color:#fff">白字蓝底</span></nav>
      <table><tr style="background:#f5c6cb"><td><span style="color:#28a745">准予</span></td></tr></table>
      <label>姓名</label><input name="name" placeholder="姓名">
      <label for="ok">身份证号</label><input id="ok" name="id_number">
      <select name="kind" disabled style="display:none"></select>
      <div style="width:600px">宽</div></body></html>""")
    problems = []
    result = _audit(page, problems, phone=True)
    text = '\n'.join(problems)
    assert 'field without a label: input[name=name]' in text
    assert 'id_number' not in text                      # labelled with for/id
    assert len(result['contrast']) == 2, result['contrast']
    assert any('= 3.98' in c for c in result['contrast'])       # white on Bootstrap blue
    assert any('= 2.06' in c for c in result['contrast'])       # Bootstrap green on a pink row
    assert 'not the skip link' in text and 'does not name the system' in text
    assert result['width'] >= 600 and 'px wide at 390px' in text
    context.close()
