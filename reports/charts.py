"""Small SVG charts drawn on the server: no JavaScript library, nothing fetched from the internet."""
from markupsafe import Markup, escape

PALETTE = ['#2f6fba', '#e07b39', '#3a9d5d', '#c8423b', '#8b5fbf', '#7f7f7f', '#1fa2b3', '#b8a02e']


def _svg(width, height, body, title):
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
                  f'width="100%" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
                  f'<title>{escape(title)}</title>{body}</svg>')


def stacked_columns(title, data, series):
    """data: {category: {series: value}}; one stacked column per category."""
    cats = list(data)
    width, height, left, bottom, top = 640, 260, 40, 40, 20
    peak = max([sum(v.values()) for v in data.values()] + [1])
    step = (width - left - 10) / max(len(cats), 1)
    bar = max(step * 0.7, 2)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>']
    for i, cat in enumerate(cats):
        x, y = left + i * step + (step - bar) / 2, height - bottom
        for k, name in enumerate(series):
            value = data[cat].get(name, 0)
            h = (height - bottom - top) * value / peak
            if h:
                parts.append(f'<rect x="{x:.1f}" y="{y - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(cat)} {escape(name)}：{value}</title></rect>')
            y -= h
        if len(cats) <= 24 or i % 3 == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                         f'{escape(cat[2:] if len(cat) == 7 else cat)}</text>')
    for k, name in enumerate(series):
        parts.append(f'<rect x="{left + k * 90}" y="{height - 14}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{left + k * 90 + 14}" y="{height - 5}">{escape(name)}</text>')
    return _svg(width, height, ''.join(parts), title)


def bars(title, rows, width=640, label_width=170, colour='#2f6fba'):
    """rows: [(label, value)]; horizontal bars with the value written at the end."""
    height = 22 * max(len(rows), 1) + 10
    peak = max([v for _, v in rows] + [1])
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 6 + i * 22
        w = (width - label_width - 60) * value / peak
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(str(label)[:18])}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="16" fill="{colour}">'
                     f'<title>{escape(str(label))}：{value}</title></rect>'
                     f'<text x="{label_width + w + 4:.1f}" y="{y + 13}">{value}</text>')
    return _svg(width, height, ''.join(parts), title)
