"""The batch print sheet used by provincial officers: one 124 mm x 87 mm certificate card a page."""
from reportlab.lib.units import mm

from .fonts import cjk_font, fit
from .qr import draw_qr

PAGE_SIZE = (124 * mm, 87 * mm)
_BG = 'print_sheet_background'


def _background(c, font):
    if getattr(c, '_sheet_bg_ready', False):
        return
    w, h = PAGE_SIZE
    c.beginForm(_BG)
    c.setLineWidth(1.2)
    c.setStrokeColorRGB(0.12, 0.25, 0.56)
    c.rect(3 * mm, 3 * mm, w - 6 * mm, h - 6 * mm)
    c.setFont(font, 11)
    c.drawCentredString(w / 2, h - 10 * mm, '中华人民共和国一级建造师注册证书')
    c.setFont(font, 7.5)
    for i, label in enumerate(('姓名', '性别', '出生日期', '注册编号', '聘用企业', '注册专业')):
        c.drawString(7 * mm, h - (19 + i * 7) * mm, label + '：')
    c.drawString(7 * mm, 8 * mm, '签发日期：')
    c.rect(95 * mm, h - 44 * mm, 21 * mm, 28 * mm)
    c.endForm()
    c._sheet_bg_ready = True


def draw_print_sheet(c, data):
    """Draw one card page from certificate_data() values. Caller calls showPage()."""
    font = cjk_font()
    _background(c, font)
    w, h = PAGE_SIZE
    c.doForm(_BG)
    c.setFont(font, 8)
    specialties = '、'.join(f'{n}（至{u:%Y.%m.%d}）' for n, u in data['specialties'])
    values = [data['name'], data['gender'], data['birth_date'].strftime('%Y年%m月%d日'), data['number'],
              data['enterprise'], specialties]
    for i, value in enumerate(values):
        c.drawString(20 * mm, h - (19 + i * 7) * mm, fit(str(value), font, 8, 73 * mm))
    c.drawString(20 * mm, 8 * mm, f'{data["issued_on"]:%Y年%m月%d日}　{data["authority"]}')
    if data.get('photo'):
        c.drawImage(data['photo'], 95 * mm, h - 44 * mm, 21 * mm, 28 * mm, preserveAspectRatio=True)
    draw_qr(c, data['qr_text'], 95.5 * mm, 5 * mm, 24 * mm)     # 24 mm: the URL plus the signed payload (signing)
