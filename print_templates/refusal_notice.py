"""不予注册告知书 (A4)."""
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .fonts import cjk_font
from .textfit import TextFlow, draw_fitted

PAGE_SIZE = A4


def draw_refusal_notice(c, data):
    """data: number, name, id_number, business_type, specialties, enterprise, grounds, text, date, authority."""
    font = cjk_font()
    w, h = PAGE_SIZE
    c.setFont(font, 20)
    c.drawCentredString(w / 2, h - 35 * mm, '不予注册告知书')
    draw_fitted(c, f'申请编号：{data["number"]}', font, w - 25 * mm, h - 45 * mm, 11, w - 50 * mm, align='right')
    # every line wrapped by measured width; a long notice goes on to more pages (no line is cut)
    flow = TextFlow(c, font, 12, 25 * mm, w - 25 * mm, h - 60 * mm, 20 * mm, 8 * mm, page_top=h - 25 * mm)
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
        flow.paragraph(line)
    flow.skip(12 * mm)
    flow.paragraph(data['authority'], align='right')
    flow.skip(2 * mm)
    flow.paragraph(data['date'].strftime('%Y年%m月%d日'), align='right')
