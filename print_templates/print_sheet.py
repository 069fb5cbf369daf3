"""The batch print sheet used by provincial officers: one 124 mm x 87 mm certificate card a page.

No field is cut. A card whose values each fit on one line at 8 pt is drawn in the usual layout (the
frame and labels are a form XObject drawn once per document). Otherwise the rows flow: each value
wraps within its column, and the whole block shrinks until it fits between the title and the
footer (textfit.layout_rows).
"""
from reportlab.lib.units import mm

from .fastdraw import image, text
from .fonts import cjk_font
from .qr import draw_qr
from .textfit import Row, draw_rows, fits_line, layout_rows

PAGE_SIZE = (124 * mm, 87 * mm)
LABELS = ('姓名', '性别', '出生日期', '注册编号', '聘用企业', '注册专业')
LABEL_X, VALUE_X, VALUE_RIGHT = 7 * mm, 20 * mm, 93 * mm      # values end before the photo (95 mm)
VALUE_SIZE, LABEL_SIZE, PITCH = 8, 7.5, 7 * mm
FIRST_ROW = 19 * mm                                             # from the top
FOOTER_Y, BLOCK_BOTTOM = 8 * mm, 12 * mm
PHOTO_BOX = (95 * mm, PAGE_SIZE[1] - 44 * mm, 21 * mm, 28 * mm)
QR_BOX = (95.5 * mm, 5 * mm, 24 * mm)          # 24 mm: the URL plus the signed payload (signing)
_FORMS = ('print_sheet_background', 'print_sheet_frame')


def _forms(c, font):
    """Two form XObjects per document: the frame with the labels of the usual layout, and the frame alone."""
    if getattr(c, '_sheet_bg_ready', False):
        return
    w, h = PAGE_SIZE
    for name in _FORMS:
        c.beginForm(name)
        c.setLineWidth(1.2)
        c.setStrokeColorRGB(0.12, 0.25, 0.56)
        c.rect(3 * mm, 3 * mm, w - 6 * mm, h - 6 * mm)
        c.setFont(font, 11)
        c.drawCentredString(w / 2, h - 10 * mm, '中华人民共和国一级建造师注册证书')
        c.setFont(font, LABEL_SIZE)
        if name == _FORMS[0]:
            for i, label in enumerate(LABELS):
                c.drawString(LABEL_X, h - FIRST_ROW - i * PITCH, label + '：')
        c.drawString(LABEL_X, FOOTER_Y, '签发日期：')
        c.rect(*PHOTO_BOX)
        c.endForm()
    c._sheet_bg_ready = True


def values(data):
    specialties = '、'.join(f'{n}（至{u:%Y.%m.%d}）' for n, u in data['specialties'])
    return [data['name'], data['gender'], data['birth_date'].strftime('%Y年%m月%d日'), data['number'],
            data['enterprise'], specialties]


def draw_print_sheet(c, data):
    """Draw one card page from certificate_data() values. Caller calls showPage()."""
    font = cjk_font()
    _forms(c, font)
    w, h = PAGE_SIZE
    vals = [str(v) for v in values(data)]
    if all(fits_line(v, font, VALUE_SIZE, VALUE_RIGHT - VALUE_X) for v in vals):
        c.doForm(_FORMS[0])
        for i, value in enumerate(vals):
            text(c, font, VALUE_SIZE, VALUE_X, h - FIRST_ROW - i * PITCH, value)
    else:
        c.doForm(_FORMS[1])
        rows = [Row(label + '：', value, VALUE_X, VALUE_RIGHT, LABEL_X) for label, value in zip(LABELS, vals)]
        placed = layout_rows(rows, font, VALUE_SIZE, h - FIRST_ROW, BLOCK_BOTTOM, PITCH, label_size=LABEL_SIZE)
        draw_rows(c, font, *placed)
    footer = f'{data["issued_on"]:%Y年%m月%d日}　{data["authority"]}'
    size = VALUE_SIZE
    while size > 4 and not fits_line(footer, font, size, QR_BOX[0] - 1 * mm - VALUE_X):
        size -= 0.25
    text(c, font, size, VALUE_X, FOOTER_Y, footer)
    if data.get('photo'):
        image(c, data['photo'], *PHOTO_BOX)
    draw_qr(c, data['qr_text'], *QR_BOX)
