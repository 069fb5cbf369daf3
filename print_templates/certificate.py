"""The electronic registration certificate (A4), domain §8."""
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fastdraw import image, text
from .fonts import cjk_font
from .qr import draw_qr
from .textfit import Row, draw_rows, fits_line, layout_rows

PAGE_SIZE = A4
BLUE = HexColor('#1f3f8f')
_FORMS = ('certificate_background', 'certificate_frame')
LABELS = ['姓　　名', '性　　别', '出生日期', '身份证号', '注册编号', '聘用企业', '统一社会信用代码']
LABEL_X, VALUE_X, USCC_X = 28 * mm, 55 * mm, 72 * mm
RIGHT = 145 * mm                  # values end before the photo and the QR code (150 mm)
FIRST_ROW, PITCH = 75 * mm, 11 * mm                  # from the top
HEADING_ROW, FIRST_SPECIALTY, SPECIALTY_PITCH, SPECIALTY_X = 160 * mm, 171 * mm, 9 * mm, 34 * mm
BLOCK_BOTTOM = 226 * mm           # from the top: the 签发日期 row is at 232 mm
VALUE_SIZE, LABEL_SIZE = 13, 12


def _forms(c, font):
    """Static frame and labels, drawn once per document as form XObjects: one with the labels of the
    usual layout, one without the labels of the rows that flow when a value needs more room."""
    if getattr(c, '_cert_bg_ready', False):
        return
    w, h = PAGE_SIZE
    for name in _FORMS:
        c.beginForm(name)
        c.setStrokeColor(BLUE)
        c.setLineWidth(3)
        c.rect(12 * mm, 12 * mm, w - 24 * mm, h - 24 * mm)
        c.setLineWidth(0.8)
        c.rect(15 * mm, 15 * mm, w - 30 * mm, h - 30 * mm)
        c.setFillColor(BLUE)
        c.setFont(font, 24)
        c.drawCentredString(w / 2, h - 42 * mm, '中华人民共和国一级建造师注册证书')
        c.setFont(font, 11)
        c.drawCentredString(w / 2, h - 50 * mm, '（电子证书）')
        c.setFillColorRGB(0.2, 0.2, 0.2)
        c.setFont(font, LABEL_SIZE)
        if name == _FORMS[0]:
            for i, label in enumerate(LABELS):
                c.drawString(LABEL_X, h - FIRST_ROW - i * PITCH, label + '：')
            c.drawString(LABEL_X, h - HEADING_ROW, '注册专业及有效期：')
        c.drawString(28 * mm, h - 232 * mm, '签发日期：')
        c.drawString(28 * mm, h - 243 * mm, '发证机关：')
        c.drawString(28 * mm, h - 254 * mm, '使用有效期至：')
        c.setFont(font, 8)
        c.drawString(28 * mm, 22 * mm, '本证书须经持证人手写签名方为有效；扫描二维码可核验证书真伪及状态。')
        c.rect(150 * mm, h - 115 * mm, 30 * mm, 42 * mm)      # photo frame
        c.drawCentredString(165 * mm, h - 120 * mm, '照片')
        c.drawString(120 * mm, h - 275 * mm, '持证人签名：')
        c.endForm()
    c._cert_bg_ready = True


def _rows(data):
    values = [data['name'], data['gender'], data['birth_date'].strftime('%Y年%m月%d日'), data['id_number'],
              data['number'], data['enterprise'], data['uscc']]
    rows = [Row(label + '：', value, USCC_X if i == 6 else VALUE_X, RIGHT, LABEL_X)
            for i, (label, value) in enumerate(zip(LABELS, values))]
    rows[-1].pitch = HEADING_ROW - FIRST_ROW - 6 * PITCH
    rows.append(Row('注册专业及有效期：', '', VALUE_X, RIGHT, LABEL_X, pitch=FIRST_SPECIALTY - HEADING_ROW))
    rows += [Row('', f'{name}　　有效期至 {until:%Y年%m月%d日}', SPECIALTY_X, RIGHT, pitch=SPECIALTY_PITCH)
             for name, until in data['specialties']]
    return rows


def draw_certificate(c, data):
    """Draw one certificate page from certificate_data() values. Caller calls showPage().
    No field is cut: when a value does not fit its line, or the specialties do not fit above the
    签发日期 row, the rows flow and shrink to fit (textfit.layout_rows)."""
    font = cjk_font()
    _forms(c, font)
    w, h = PAGE_SIZE
    rows = _rows(data)
    usual = (FIRST_SPECIALTY + (len(data['specialties']) - 1) * SPECIALTY_PITCH <= BLOCK_BOTTOM
             and all(fits_line(r.value, font, VALUE_SIZE, r.right - r.value_x) for r in rows))
    c.setFillColorRGB(0, 0, 0)
    if usual:
        c.doForm(_FORMS[0])
        for i, row in enumerate(rows[:7]):
            text(c, font, VALUE_SIZE, row.value_x, h - FIRST_ROW - i * PITCH, row.value)
        for i, row in enumerate(rows[8:]):
            text(c, font, VALUE_SIZE, row.value_x, h - FIRST_SPECIALTY - i * SPECIALTY_PITCH, row.value)
    else:
        c.doForm(_FORMS[1])
        size, label_size, placed = layout_rows(rows, font, VALUE_SIZE, h - FIRST_ROW, h - BLOCK_BOTTOM, PITCH,
                                               label_size=LABEL_SIZE)
        c.setFillColorRGB(0.2, 0.2, 0.2)
        for row, _, y in placed:
            if row.label:
                text(c, font, label_size, row.label_x, y, row.label)
        c.setFillColorRGB(0, 0, 0)
        draw_rows(c, font, size, label_size, placed, labels=False)
    text(c, font, VALUE_SIZE, 50 * mm, h - 232 * mm, data['issued_on'].strftime('%Y年%m月%d日'))
    text(c, font, VALUE_SIZE, 50 * mm, h - 243 * mm, data['authority'])
    text(c, font, VALUE_SIZE, 62 * mm, h - 254 * mm, data['use_until'].strftime('%Y年%m月%d日'))
    if data.get('photo'):
        image(c, data['photo'], 150 * mm, h - 115 * mm, 30 * mm, 42 * mm)
    if data.get('signature'):
        image(c, data['signature'], 145 * mm, h - 282 * mm, 40 * mm, 16 * mm, mask='auto')
    draw_qr(c, data['qr_text'], 150 * mm, h - 215 * mm, 35 * mm)
    text(c, font, 7, 167.5 * mm, h - 219 * mm, f'证书编号 {data["serial"]}', align='centre')
    if data.get('void_mark'):
        _void_mark(c, font, data['void_mark'])


def _void_mark(c, font, text):
    """A copy kept for the record of a void certificate: a large red mark across the page."""
    w, h = PAGE_SIZE
    c.saveState()
    c.setFillColorRGB(0.8, 0, 0)
    c.setStrokeColorRGB(0.8, 0, 0)
    c.translate(w / 2, h / 2)
    c.rotate(35)
    c.setLineWidth(4)
    c.roundRect(-70 * mm, -22 * mm, 140 * mm, 44 * mm, 6 * mm, stroke=1, fill=0)
    c.setFont(font, 72)
    c.drawCentredString(0, -10 * mm, '作  废')
    c.setFont(font, 12)
    c.drawCentredString(0, -19 * mm, text)
    c.restoreState()
