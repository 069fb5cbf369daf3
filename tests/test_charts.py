"""Dashboard charts (reports.charts, pygal): each SVG parsed and checked for a title, axis titles
with units, gridlines, label sizes of at least 12 px, a Chinese font family, "暂无数据" when empty
and no <script>; the dashboard page under its CSP; the 受理至决定用时 histogram counted right from
decisions taken through the workflow and from the demo data (it showed 0 everywhere: the demo
generator inserts decided applications directly and never wrote their decision facts)."""
import datetime
import os
import re
import threading
import xml.etree.ElementTree as ET

import pytest

from backoffice.workflow import transitions
from models import Application, RefusalGround
from reports import charts, filters, stats

from .conftest import PASSWORD, build_application, login, make_enterprise

SVG = '{http://www.w3.org/2000/svg}'
TODAY = datetime.date.today()
UNIT = re.compile(r'（[^）]*(件|人|天|项)）$')


def parse(markup):
    return ET.fromstring(str(markup))


def classes(el):
    return set((el.get('class') or '').split())


def texts(root, cls):
    return [''.join(t.itertext()).strip() for t in root.iter(SVG + 'text') if cls in classes(t)]


def css_font_sizes(root):
    """(selector, size in px) for every font-size in the SVG's style sheet, em sizes resolved
    against 16 px (the root size); the tooltip box (drawn by pygal's script only, which is not
    loaded) and gauge-only classes are left out."""
    css = ''.join(''.join(s.itertext()) for s in root.iter(SVG + 'style'))
    out = []
    for selector, body in re.findall(r'([^{}]+)\{([^{}]*)\}', css):
        for size, unit in re.findall(r'font-size:\s*([\d.]+)(px|em)', body):
            if unit == 'em' and re.search(r'\.tooltip|\.bound|\.max-value', selector):
                continue
            out.append((selector.strip(), float(size) * (16 if unit == 'em' else 1)))
    return out


def all_charts():
    return {
        'stacked': charts.stacked_columns('按月申请量（按业务类型）',
                                          {'2026-01': {'初始注册': 3, '延续注册': 1}, '2026-02': {'延续注册': 2}},
                                          ['初始注册', '增项注册', '延续注册'], '申请月份', '申请量（件）', '件'),
        'columns': charts.columns('审批结果', [('准予注册', 11), ('不予注册', 6)], '决定', '申请数（件）', '件',
                                  colours=['#2e7d4f', '#c8423b'], width=340),
        'bars': charts.bars('各省有效注册人数', [('北京', 300), ('内蒙古自治区', 7)], '省份', '注册人数（人）', '人'),
        'histogram': charts.columns('受理至决定用时', [('10天内', 3), ('11–20天', 5), ('40天以上', 0)],
                                    '用时（日历日，天）', '申请数（件）', '件'),
    }


@pytest.mark.parametrize('kind', ['stacked', 'columns', 'bars', 'histogram'])
def test_chart_has_title_axis_titles_gridlines_and_readable_labels(kind):
    markup = all_charts()[kind]
    root = parse(markup)
    titles = texts(root, 'title')
    assert titles[0] == root.get('aria-label') and root.get('role') == 'img'
    axis_titles = titles[1:]
    assert len(axis_titles) == 2 and any(UNIT.search(t) for t in axis_titles), axis_titles
    # gridlines: pygal's guide lines across the plot, at least one per tick above zero
    guides = [p for p in root.iter(SVG + 'path') if 'guide' in classes(p)]
    assert len(guides) >= 2
    sizes = css_font_sizes(root)
    assert sizes and min(size for _, size in sizes) >= 12, sizes
    assert all(float(el.get('font-size')) >= 12 for el in root.iter() if el.get('font-size'))
    css = ''.join(''.join(s.itertext()) for s in root.iter(SVG + 'style'))
    assert 'Noto Sans CJK SC' in css and 'Microsoft YaHei' in css and 'Consolas' not in css
    # drawn no narrower than its own width: the label size is the size on screen
    width = int(root.get('viewBox').split()[2])
    assert f'min-width: {width}px' in root.get('style')
    # nothing that runs: no script element, no tooltip script from a CDN
    assert not [el for el in root.iter() if el.tag.endswith('script')]
    assert 'kozea.github.io' not in str(markup) and '<script' not in str(markup)


def test_long_labels_are_never_cut():
    ground = '因执业活动受到刑事处罚，自刑事处罚执行完毕之日起至申请注册之日止不满5年'
    root = parse(charts.bars('主要不予注册依据', [(ground, 2), ('年龄超过65周岁', 1)], '不予注册依据',
                             '引用次数（件）', '件', width=900))
    labels = [''.join(t.itertext()) for g in root.iter(SVG + 'g') if 'axis' in classes(g)
              for t in g.iter(SVG + 'text')]
    assert ground in labels and not any('…' in label for label in labels)
    # the plot starts right of the longest label (about one em per CJK character)
    plot = next(g for g in root.iter(SVG + 'g') if 'plot' in classes(g))
    left = float(re.search(r'translate\(([\d.]+)', plot.get('transform')).group(1))
    assert left >= len(ground) * charts.LABEL_FONT_SIZE * 0.95


@pytest.mark.parametrize('make', [
    lambda: charts.stacked_columns('按月申请量', {}, ['初始注册']),
    lambda: charts.columns('审批结果', [('准予注册', 0), ('不予注册', 0)], '决定', '申请数（件）', '件'),
    lambda: charts.bars('各省有效注册人数', [], '省份', '注册人数（人）', '人'),
])
def test_empty_chart_says_no_data(make):
    root = parse(make())
    assert texts(root, 'no_data') == ['暂无数据']
    assert not [r for r in root.iter(SVG + 'rect') if 'rect' in classes(r)]       # no bars
    assert texts(root, 'title')                                                   # the chart's title stays


def test_ticks_are_whole_numbers():
    assert charts.ticks(2) == [0, 1, 2]
    assert charts.ticks(7) == [0, 2, 4, 6, 8]
    assert charts.ticks(1051) == [0, 500, 1000, 1500]
    assert charts.ticks(0) == [0, 1]


@pytest.fixture
def decisions(users):
    """Seven decisions taken through workflow.perform, accepted 3, 10, 11, 15, 25, 35 and 50 calendar
    days before the decision; deadlines 28 days after acceptance (the last two decided late)."""
    enterprise = make_enterprise()
    grounds = [RefusalGround.get(RefusalGround.code == '2').id]
    out = []
    for days, name in ((3, 'approve'), (10, 'approve'), (11, 'approve'), (15, 'refuse'), (25, 'approve'),
                       (35, 'approve'), (50, 'refuse')):
        row = build_application('initial', 'accepted', enterprise=enterprise, accepted_by=users['acceptor'])
        accepted = TODAY - datetime.timedelta(days=days)
        Application.update(accepted_at=datetime.datetime.combine(accepted, datetime.time(9)),
                           deadline=accepted + datetime.timedelta(days=28)).where(Application.id == row.id).execute()
        extra = {'grounds': grounds} if name == 'refuse' else {}
        transitions.perform(Application.get_by_id(row.id), name, users['reviewer'], today=TODAY, **extra)
        out.append(row.id)
    return out


EXPECTED = {'10天内': 2, '11–20天': 2, '21–28天': 1, '29–40天': 1, '40天以上': 1}


def test_histogram_counts_decisions_taken_through_the_workflow(decisions):
    histogram, late, _ = stats.processing_time(filters.Filters(), today=TODAY)
    assert dict(histogram) == EXPECTED
    assert late == 2
    assert sorted(Application.select(Application.processing_days).where(Application.id.in_(decisions))
                  .tuples()) == [(3,), (10,), (11,), (15,), (25,), (35,), (50,)]


@pytest.mark.parametrize('query', ['', f'?date_from={TODAY - datetime.timedelta(days=400)}'])
def test_histogram_chart_on_the_dashboard(client, decisions, query):
    """Unfiltered (the summary counters) and filtered by date (the SQL aggregates)."""
    login(client, 'supervisor')
    r = client.get(f'/admin/dashboard/{query}')
    page = r.get_data(as_text=True)
    csp = r.headers['Content-Security-Policy']
    assert "script-src 'self'" in csp and 'unsafe-inline' not in csp.split('script-src')[1].split(';')[0]
    svgs = re.findall(r'<svg\b.*?</svg>', page, re.S)
    assert len(svgs) == 7
    histogram = parse(next(s for s in svgs if 'aria-label="受理至决定用时"' in s))
    tips = [''.join(t.itertext()) for t in histogram.iter(SVG + 'title')]
    for label, n in EXPECTED.items():
        assert f'{label}：{n} 件' in tips
    for svg in svgs:
        assert '<script' not in svg
    # every script on the page is a file from this site: nothing inline, nothing from a CDN
    scripts = re.findall(r'<script\b[^>]*>', page)
    assert scripts and all(re.search(r'src="/(admin/)?static/', s) for s in scripts), scripts


def test_demo_data_gets_its_decision_facts(app):
    from seed.demo import fill_decision_facts, generate
    generate(300)
    decided = list(Application.select().where(Application.decided_at.is_null(False)
                                              & Application.accepted_at.is_null(False)))
    assert decided
    for row in decided:
        assert row.processing_days == (row.decided_at.date() - row.accepted_at.date()).days
        assert row.decided_late == (row.decided_at.date() > row.deadline)
    histogram, _, _ = stats.processing_time(filters.Filters())
    assert sum(n for _, n in histogram) == len(decided)
    assert fill_decision_facts() == 0                                 # idempotent: nothing left to fill


# --- in the browser: the labels' size on screen --------------------------------------------------

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')


def _need_browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get('REQUIRE_BROWSER') == '1':
            raise RuntimeError(f'Chromium not found at {CHROMIUM}')
        pytest.skip(f'Chromium not installed at {CHROMIUM}')
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get('REQUIRE_BROWSER') == '1':
            raise
        pytest.skip('playwright not installed')
    return sync_playwright


MEASURE = """() => Array.from(document.querySelectorAll('svg.chart text')).filter(t => {
    const box = t.getBoundingClientRect();
    return t.textContent.trim() && box.width > 0 && !t.closest('.tooltip');
  }).map(t => { const m = t.getScreenCTM();
    return [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)]; })"""


def test_chart_labels_at_least_12px_on_screen(app, decisions, request):
    _need_browser()
    browser = request.getfixturevalue('browser')     # pytest-playwright's session browser (conftest's launch args)
    from werkzeug.serving import make_server
    server = make_server('127.0.0.1', 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_port}'
    try:
        for width, height in ((1366, 768), (390, 844)):
            page = browser.new_page(viewport={'width': width, 'height': height}, locale='zh-CN')
            violations = []
            page.on('console', lambda m: violations.append(m.text) if 'Content Security Policy' in m.text else None)
            page.goto(f'{url}/login')
            page.fill('#username', 'supervisor')
            page.fill('#password', PASSWORD)
            page.click('button[type=submit]')
            page.wait_for_load_state()
            page.goto(f'{url}/admin/dashboard/?date_from={TODAY - datetime.timedelta(days=400)}')
            sizes = page.evaluate(MEASURE)
            assert len(sizes) > 50
            small = [(text, round(size, 1)) for text, size in sizes if size < 11.95]
            assert not small, (width, small[:10])
            # nothing overflows the page sideways: a chart wider than the screen scrolls in its box
            assert page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')
            assert not violations, violations
            page.close()
    finally:
        server.shutdown()


def test_rendered_charts_are_kept_by_their_arguments():
    rows = [('北京', 3), ('上海', 2)]
    first = charts.bars('各省有效注册人数', rows, '省份', '注册人数（人）', '人')
    assert charts.bars('各省有效注册人数', list(rows), '省份', '注册人数（人）', '人') is first
    changed = charts.bars('各省有效注册人数', [('北京', 4), ('上海', 2)], '省份', '注册人数（人）', '人')
    assert changed is not first and '北京：4 人' in changed
