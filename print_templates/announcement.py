"""公告 PDF: a title block on the first page, then a table of items, at most ROWS_PER_PAGE a page.

No cell is cut: a value wider than its column wraps within it and its row grows; paginate() splits
the rows into pages by their measured heights (a page whose rows still do not fit shrinks its font).
"""
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from .fonts import cjk_font
from .textfit import draw_fitted, wrap

PAGE_SIZE = landscape(A4)
ROWS_PER_PAGE = 22
COLUMNS = [('序号', 12), ('姓名', 22), ('身份证号', 38), ('聘用企业', 78), ('业务类型', 20), ('注册专业', 57),
           ('注册编号', 40)]
SIZE, MIN_SIZE, PITCH, LEFT, BOTTOM = 9, 5, 7 * mm, 15 * mm, 15 * mm


def _top(page_no):
    """Baseline of the column titles."""
    return PAGE_SIZE[1] - (38 if page_no == 1 else 20) * mm


def _cells(row, font, size):
    return [wrap(str(value), font, size, (width - 2) * mm) for (_, width), value in zip(COLUMNS, row)]


def _height(cells, size):
    return max(PITCH, PITCH + (max(len(c) for c in cells) - 1) * size * 1.2)


def paginate(rows):
    """The rows split into pages (lists), each fitting its page at the normal size."""
    font = cjk_font()
    pages, page, used = [], [], 0
    for row in rows:
        h = _height(_cells(row, font, SIZE), SIZE)
        room = _top(len(pages) + 1) - 7 * mm - BOTTOM + PITCH
        if page and (used + h > room or len(page) == ROWS_PER_PAGE):
            pages.append(page)
            page, used = [], 0
        page.append(row)
        used += h
    return pages + [page] if page or not pages else pages


def draw_announcement_page(c, data, rows, page_no, pages):
    """data: number, title, published (date), authority; rows: list of tuples in COLUMNS order."""
    font = cjk_font()
    w, h = PAGE_SIZE
    if page_no == 1:
        draw_fitted(c, data['title'], font, w / 2, h - 20 * mm, 16, w - 30 * mm, min_size=10, align='centre')
        c.setFont(font, 10)
        c.drawCentredString(w / 2, h - 28 * mm, f'{data["number"]}　　{data["published"]:%Y年%m月%d日}')
    y = _top(page_no)
    c.setFont(font, SIZE)
    x = LEFT
    for title, width in COLUMNS:
        c.drawString(x, y, title)
        x += width * mm
    c.line(LEFT, y - 2 * mm, w - LEFT, y - 2 * mm)
    y -= 7 * mm
    size = SIZE                          # shrink only if these rows do not fit at the normal size
    cells = [_cells(row, font, size) for row in rows]
    while size > MIN_SIZE and y - sum(_height(cs, size) for cs in cells) + PITCH < BOTTOM:
        size -= 0.5
        cells = [_cells(row, font, size) for row in rows]
    c.setFont(font, size)
    for row_cells in cells:
        x = LEFT
        for (_, width), lines in zip(COLUMNS, row_cells):
            for i, line in enumerate(lines):
                c.drawString(x, y - i * size * 1.2, line)
            x += width * mm
        y -= _height(row_cells, size)
    c.setFont(font, SIZE)
    c.drawCentredString(w / 2, 10 * mm, f'{data["authority"]}　第 {page_no} / {pages} 页')
