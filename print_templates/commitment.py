"""个人承诺书 (A4), kept as a PDF with the application."""
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fonts import cjk_font
from .textfit import TextFlow, draw_fitted

PAGE_SIZE = A4


def draw_commitment(c, data):
    """data: title, number, business_type, text, name, date."""
    font = cjk_font()
    w, h = PAGE_SIZE
    # nothing is cut: the title shrinks (then wraps), the text wraps by measured width and goes on to
    # more pages if it is long
    _, _, y = draw_fitted(c, data['title'], font, w / 2, h - 35 * mm, 20, w - 50 * mm, max_lines=2, min_size=14,
                          align='centre')
    draw_fitted(c, f'{data["business_type"]}　申请编号：{data["number"]}', font, w - 25 * mm,
                min(h - 45 * mm, y - 10 * mm), 11, w - 50 * mm, align='right')
    flow = TextFlow(c, font, 12, 25 * mm, w - 25 * mm, min(h - 62 * mm, y - 27 * mm), 20 * mm, 8 * mm,
                    page_top=h - 25 * mm)
    flow.paragraph('　　' + str(data['text']))
    flow.skip(8 * mm)
    flow.paragraph('☑ 本人作出上述承诺')
    flow.skip(14 * mm)
    flow.paragraph(f'承诺人：{data["name"]}（经短信验证码确认）', align='right')
    flow.skip(2 * mm)
    flow.paragraph(data['date'].strftime('%Y年%m月%d日'), align='right')
