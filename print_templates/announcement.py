"""公告 PDF: a title block on the first page, then a table of items, ROWS_PER_PAGE a page."""
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from .fonts import cjk_font, fit

PAGE_SIZE = landscape(A4)
ROWS_PER_PAGE = 22
COLUMNS = [('序号', 12), ('姓名', 22), ('身份证号', 38), ('聘用企业', 78), ('业务类型', 20), ('注册专业', 57),
           ('注册编号', 40)]


def draw_announcement_page(c, data, rows, page_no, pages):
    """data: number, title, published (date), authority; rows: list of tuples in COLUMNS order."""
    font = cjk_font()
    w, h = PAGE_SIZE
    y = h - 20 * mm
    if page_no == 1:
        c.setFont(font, 16)
        c.drawCentredString(w / 2, y, data['title'])
        c.setFont(font, 10)
        c.drawCentredString(w / 2, y - 8 * mm, f'{data["number"]}　　{data["published"]:%Y年%m月%d日}')
        y -= 18 * mm
    c.setFont(font, 9)
    x = 15 * mm
    for title, width in COLUMNS:
        c.drawString(x, y, title)
        x += width * mm
    c.line(15 * mm, y - 2 * mm, w - 15 * mm, y - 2 * mm)
    y -= 7 * mm
    for row in rows:
        x = 15 * mm
        for (title, width), value in zip(COLUMNS, row):
            c.drawString(x, y, fit(str(value), font, 9, (width - 2) * mm))
            x += width * mm
        y -= 7 * mm
    c.drawCentredString(w / 2, 10 * mm, f'{data["authority"]}　第 {page_no} / {pages} 页')
