"""不予注册告知书 (A4)."""
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fonts import cjk_font, wrap

PAGE_SIZE = A4


def draw_refusal_notice(c, data):
    """data: number, name, id_number, business_type, specialties, enterprise, grounds, text, date, authority."""
    font = cjk_font()
    w, h = PAGE_SIZE
    c.setFont(font, 20)
    c.drawCentredString(w / 2, h - 35 * mm, '不予注册告知书')
    c.setFont(font, 11)
    c.drawRightString(w - 25 * mm, h - 45 * mm, f'申请编号：{data["number"]}')
    c.setFont(font, 12)
    y = h - 60 * mm
    lines = [f'{data["name"]}（身份证号：{data["id_number"]}）：',
             f'　　你于{data["submitted"]}提交的一级建造师{data["business_type"]}申请'
             f'（聘用企业：{data["enterprise"]}；申请专业：{data["specialties"]}），经审查，'
             '依据《注册建造师管理规定》第十五条，决定不予注册。理由如下：']
    for i, ground in enumerate(data['grounds'], 1):
        lines.append(f'　　{i}. {ground}')
    if data.get('text'):
        lines.append(f'　　说明：{data["text"]}')
    lines.append('　　如对本决定不服，可以自收到本告知书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。')
    for line in lines:
        for part in wrap(line, 38):
            c.drawString(25 * mm, y, part)
            y -= 8 * mm
    c.drawRightString(w - 25 * mm, y - 20 * mm, data['authority'])
    c.drawRightString(w - 25 * mm, y - 30 * mm, data['date'].strftime('%Y年%m月%d日'))
