"""PDF documents: one place that turns records into pages through print_templates."""
import datetime
import io
import os

from reportlab.pdfgen import canvas as rl_canvas

from print_templates import announcement, certificate, print_sheet, refusal_notice

from backoffice.issuing import certificates
from backoffice.workflow.rules import chosen_specialties
from backoffice.validators import mask_id_number
from backoffice.workflow.states import BUSINESS_TYPES


def _render(pagesize, pages, title):
    """pages: iterable of callables drawing one page each. Returns PDF bytes."""
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=pagesize, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(certificates.AUTHORITY)
    for draw in pages:
        draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def certificate_pdf(cert):
    data = certificates.certificate_data(cert)
    return _render(certificate.PAGE_SIZE, [lambda c: certificate.draw_certificate(c, data)],
                   f'一级建造师注册证书 {data["number"]}')


def refusal_data(app):
    grounds = [g.ground.text for g in app.refusal_grounds]
    return {
        'number': app.number, 'name': app.person.name, 'id_number': mask_id_number(app.person.id_number),
        'business_type': BUSINESS_TYPES[app.business_type],
        'submitted': (app.submitted_at or app.created_at).strftime('%Y年%m月%d日'),
        'enterprise': app.enterprise.name if app.enterprise else '—',
        'specialties': '、'.join(s.name for s in chosen_specialties(app)) or '—',
        'grounds': grounds, 'text': app.refusal_text,
        'date': (app.decided_at or datetime.datetime.now()).date(), 'authority': certificates.AUTHORITY,
    }


def refusal_notice_pdf(app):
    data = refusal_data(app)
    return _render(refusal_notice.PAGE_SIZE, [lambda c: refusal_notice.draw_refusal_notice(c, data)],
                   f'不予注册告知书 {app.number}')


def announcement_pdf(notice):
    from backoffice.issuing.notices import items_for_display
    rows = items_for_display(notice)
    chunks = announcement.paginate(rows)        # by measured row heights: long cells wrap, never cut
    data = {'number': notice.number, 'title': notice.title, 'published': notice.published_at.date(),
            'authority': certificates.AUTHORITY}
    return _render(announcement.PAGE_SIZE,
                   [(lambda chunk, k: lambda c: announcement.draw_announcement_page(c, data, chunk, k, len(chunks)))(
                       chunk, k) for k, chunk in enumerate(chunks, 1)], notice.title)


def write_print_batch(certs, path, progress=None, layout='sheet'):
    """Draw many certificates into one PDF file at path; progress(done) after each page."""
    module, draw = ((print_sheet, print_sheet.draw_print_sheet) if layout == 'sheet'
                    else (certificate, certificate.draw_certificate))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c = rl_canvas.Canvas(path, pagesize=module.PAGE_SIZE, pageCompression=1)
    c.setTitle('一级建造师注册证书批量打印')
    certs, done = list(certs), 0
    for k in range(0, len(certs), 100):            # the data of 100 certificates in a few queries
        for data in certificates.certificate_data_many(certs[k:k + 100]):
            draw(c, data)
            c.showPage()
            done += 1
            if progress:
                progress(done)
    c.save()
    return path
