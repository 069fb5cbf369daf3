"""Dashboard charts, drawn on the server with pygal as inline SVG.

Nothing is fetched from the internet and nothing runs in the browser: pygal's tooltip script
(a CDN URL by default) is switched off (`js=[]`) and the inline <script> holding its config is
removed from the tree before rendering, so the page's CSP (no inline script) holds. Hover
texts are native SVG <title> elements.

Each chart has a title, axis titles with units, gridlines, labels of at least LABEL_FONT_SIZE
user units and "暂无数据" when there is nothing to draw. The SVG is never drawn narrower than
its own width (a min-width on the element; the dashboard's box scrolls on a narrow screen),
so a label is never shown smaller than its font size in CSS pixels, and at most MAX_SCALE times
its width. The half-width charts are 360 wide: they fit a 390 px phone without scrolling.
"""
import collections
import functools
import math
import threading

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

PALETTE = ('#2f6fba', '#e07b39', '#3a9d5d', '#c8423b', '#8b5fbf', '#5f6b7a', '#1a8a99', '#9c7f16')
FONT_FAMILY = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
               '"WenQuanYi Micro Hei", "Hiragino Sans GB", SimHei, sans-serif')
LABEL_FONT_SIZE = 13           # axis labels, value labels and legend: never under 12
NO_DATA = '暂无数据'
CJK_EM = 1.05                  # a CJK glyph is about one em wide; pygal assumes 0.6 em per character
MAX_SCALE = 1.25               # drawn at most this much larger than its own width (labels up to ~16 px)
CACHE_SIZE = 128               # rendered charts kept per process, by their exact arguments


def cached(fn):
    """Keep the last CACHE_SIZE rendered charts: pygal takes tens of milliseconds per chart and
    the dashboard's figures change only when the registry does."""
    store, lock = collections.OrderedDict(), threading.Lock()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = repr((args, sorted(kwargs.items())))
        with lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
        svg = fn(*args, **kwargs)
        with lock:
            store[key] = svg
            while len(store) > CACHE_SIZE:
                store.popitem(last=False)
        return svg
    wrapper.cache = store
    return wrapper


def _style(colours):
    return Style(
        font_family=FONT_FAMILY, background='#ffffff', plot_background='#ffffff',
        foreground='#333333', foreground_strong='#222222', foreground_subtle='#d0d4da',
        colors=tuple(colours), opacity='.9', opacity_hover='1', guide_stroke_color='#d0d4da',
        major_guide_stroke_color='#b8bec7', label_font_size=LABEL_FONT_SIZE,
        major_label_font_size=LABEL_FONT_SIZE, value_font_size=LABEL_FONT_SIZE,
        value_label_font_size=LABEL_FONT_SIZE, legend_font_size=LABEL_FONT_SIZE,
        tooltip_font_size=LABEL_FONT_SIZE, title_font_size=16, no_data_font_size=20)


def ticks(peak):
    """Whole-number axis ticks from 0 to at least `peak`: 1, 2 or 5 × 10^k apart, about 5 of them."""
    if peak <= 0:
        return [0, 1]
    raw = peak / 5
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(peak / step)
    return list(range(0, top + 1, step))


def _text_width(text, size=LABEL_FONT_SIZE):
    """Estimated width of a label: CJK characters about one em, others about 0.6 em."""
    return sum(size * (CJK_EM if ord(ch) > 0x2e7f else 0.6) for ch in str(text))


def _strip_scripts(root):
    """Remove every <script> pygal put into the tree (its config object, any js file)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).rsplit('}', 1)[-1] == 'script':
                parent.remove(child)
    return root


def _values_after_bars(root):
    """Horizontal bars: each value starts just after its bar's end (pygal centres it on the end)."""
    for el in root.iter():
        if str(el.tag).endswith('text') and 'value' in (el.get('class') or '').split() and el.get('x'):
            el.set('x', f'{float(el.get("x")) - LABEL_FONT_SIZE / 2 + 4:.1f}')
            el.set('text-anchor', 'start')
    return root


def _config(title, x_title, y_title, width, height, colours, **extra):
    config = dict(title=title, x_title=x_title, y_title=y_title, width=width, height=height,
                  style=_style(colours), js=[], disable_xml_declaration=True, no_data_text=NO_DATA,
                  show_y_guides=True, show_x_guides=False, print_values=True, print_zeroes=False,
                  truncate_label=-1, truncate_legend=-1, value_formatter=lambda v: f'{v:,.0f}',
                  margin=12, spacing=10, tooltip_fancy_mode=False)
    config.update(extra)
    return config


def _render(chart, title, width):
    chart.add_xml_filter(_strip_scripts)
    svg = chart.render(is_unicode=True)
    svg = svg.replace('<svg ', f'<svg role="img" aria-label="{escape(title)}" '
                               f'style="min-width: {width}px; max-width: {int(width * MAX_SCALE)}px; width: 100%; '
                               f'height: auto; display: block" ', 1)
    svg = svg.replace('class="pygal-chart"', 'class="chart pygal-chart"', 1)
    return Markup(svg)


@cached
def stacked_columns(title, data, series, x_title='月份', y_title='申请量（件）', unit='件', width=720, height=360):
    """data: {category: {series: value}}; one stacked column per category, one colour per series
    (legend below, one row; a series with nothing in it is left out)."""
    cats = list(data)
    shown = [(k, name) for k, name in enumerate(series) if any(data[c].get(name, 0) for c in cats)]
    if not shown:
        return _empty(title, width, height)
    many = len(cats) > 8
    chart = pygal.StackedBar(**_config(
        title, x_title, y_title, width, height + (30 if many else 0),
        [PALETTE[k % len(PALETTE)] for k, _ in shown],
        legend_at_bottom=True, legend_at_bottom_columns=len(shown),
        x_label_rotation=-45 if many else 0, print_values=False))
    chart.x_labels = cats
    chart.y_labels = ticks(max(sum(v.values()) for v in data.values()))
    for _, name in shown:
        chart.add(name, [{'value': data[c].get(name, 0) or None,
                          'tooltip': f'{c} {name}：{data[c].get(name, 0):,} {unit}'} for c in cats])
    return _render(chart, title, width)


def _empty(title, width, height):
    """The chart's title and "暂无数据", no axes (they would show a made-up scale)."""
    chart = pygal.Bar(**_config(title, None, None, width, min(height, 220), [PALETTE[0]],
                                show_legend=False, show_y_guides=False, show_x_labels=False,
                                show_y_labels=False))
    return _render(chart, title, width)


@cached
def columns(title, rows, x_title, y_title, unit, colour=PALETTE[0], width=480, height=320, colours=None):
    """rows: [(label, value)]; vertical columns, the value written above each one.
    colours: one colour per column (else all `colour`)."""
    peak = max([v for _, v in rows] + [0])
    if not peak:
        return _empty(title, width, height)
    chart = pygal.Bar(**_config(title, x_title, y_title, width, height, colours or [colour],
                                show_legend=False, print_values_position='top'))
    chart.x_labels = [label for label, _ in rows]
    chart.y_labels = ticks(peak)
    values = []
    for k, (label, v) in enumerate(rows):
        value = {'value': v, 'tooltip': f'{label}：{v:,} {unit}'}
        if colours:
            value['color'] = colours[k % len(colours)]
        values.append(value)
    chart.add(title, values)
    return _render(chart, title, width)


@cached
def bars(title, rows, label_title, value_title, unit, colour=PALETTE[0], width=560):
    """rows: [(label, value)]; horizontal bars, one per row, the value written at its end.
    The left margin is sized for the longest label in CJK widths (pygal's own estimate is for
    Latin text), so no label is cut."""
    peak = max([v for _, v in rows] + [0])
    if not peak:
        return _empty(title, width, 220)
    longest = max([_text_width(label) for label, _ in rows] + [0])
    height = 130 + 30 * max(len(rows), 3)
    pygal_guess = max([len(str(label)) * 0.6 * LABEL_FONT_SIZE for label, _ in rows] + [0])
    widest_value = max(_text_width(f'{v:,}') for _, v in rows)
    chart = pygal.HorizontalBar(**_config(
        title, value_title, label_title, width, height, [colour], show_legend=False,
        print_values_position='top', margin_left=12 + max(0, int(longest - pygal_guess) + 4),
        margin_right=12 + int(widest_value) + 6))
    chart.add_xml_filter(_values_after_bars)
    # HorizontalBar draws the first row at the bottom: reversed so the list reads from the top
    chart.x_labels = [str(label) for label, _ in reversed(rows)]
    chart.y_labels = ticks(peak)
    chart.add(title, [{'value': v, 'tooltip': f'{label}：{v:,} {unit}'} for label, v in reversed(rows)])
    return _render(chart, title, width)
