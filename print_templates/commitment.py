"""个人承诺书 (A4), kept as a PDF with the application."""
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fonts import cjk_font, wrap

PAGE_SIZE = A4


def draw_commitment(c, data):
    """data: title, number, business_type, text, name, date."""
    font = cjk_font()
    w, h = PAGE_SIZE
    c.setFont(font, 20)
    c.drawCentredString(w / 2, h - 35 * mm, data['title'])
    c.setFont(font, 11)
    c.drawRightString(w - 25 * mm, h - 45 * mm, f'{data["business_type"]}　申请编号：{data["number"]}')
    c.setFont(font, 12)
    y = h - 62 * mm
    for part in wrap('　　' + data['text'], 38):
        c.drawString(25 * mm, y, part)
        y -= 8 * mm
    c.drawString(25 * mm, y - 8 * mm, '☑ 本人作出上述承诺')
    c.drawRightString(w - 25 * mm, y - 30 * mm, f'承诺人：{data["name"]}（经短信验证码确认）')
    c.drawRightString(w - 25 * mm, y - 40 * mm, data['date'].strftime('%Y年%m月%d日'))
