"""The electronic registration certificate (A4), domain §8."""
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fonts import cjk_font
from .qr import draw_qr

PAGE_SIZE = A4
BLUE = HexColor('#1f3f8f')
_BG = 'certificate_background'


def _background(c, font):
    """Static frame and labels, drawn once per document as a form XObject."""
    if getattr(c, '_cert_bg_ready', False):
        return
    w, h = PAGE_SIZE
    c.beginForm(_BG)
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
    c.setFont(font, 12)
    labels = ['姓　　名', '性　　别', '出生日期', '身份证号', '注册编号', '聘用企业', '统一社会信用代码']
    for i, label in enumerate(labels):
        c.drawString(28 * mm, h - (75 + i * 11) * mm, label + '：')
    c.drawString(28 * mm, h - 160 * mm, '注册专业及有效期：')
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


def draw_certificate(c, data):
    """Draw one certificate page from certificate_data() values. Caller calls showPage()."""
    font = cjk_font()
    _background(c, font)
    w, h = PAGE_SIZE
    c.doForm(_BG)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(font, 13)
    values = [data['name'], data['gender'], data['birth_date'].strftime('%Y年%m月%d日'), data['id_number'],
              data['number'], data['enterprise'], data['uscc']]
    for i, value in enumerate(values):
        c.drawString(72 * mm if i == 6 else 55 * mm, h - (75 + i * 11) * mm, str(value))
    y = h - 171 * mm
    for name, until in data['specialties']:
        c.drawString(34 * mm, y, f'{name}　　有效期至 {until:%Y年%m月%d日}')
        y -= 9 * mm
    c.drawString(50 * mm, h - 232 * mm, data['issued_on'].strftime('%Y年%m月%d日'))
    c.drawString(50 * mm, h - 243 * mm, data['authority'])
    c.drawString(62 * mm, h - 254 * mm, data['use_until'].strftime('%Y年%m月%d日'))
    if data.get('photo'):
        c.drawImage(data['photo'], 150 * mm, h - 115 * mm, 30 * mm, 42 * mm, preserveAspectRatio=True)
    if data.get('signature'):
        c.drawImage(data['signature'], 145 * mm, h - 282 * mm, 40 * mm, 16 * mm, preserveAspectRatio=True,
                    mask='auto')
    draw_qr(c, data['qr_text'], 150 * mm, h - 215 * mm, 35 * mm)
    c.setFont(font, 7)
    c.drawCentredString(167.5 * mm, h - 219 * mm, f'证书编号 {data["serial"]}')
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
