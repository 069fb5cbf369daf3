"""No printed field is cut (issue 13): every document, filled with the longest values the system accepts
(all 10 specialties, a 200-character enterprise name, a 50-character personal name, long grounds and
addresses), keeps each field's full text in the PDF's extracted text, draws every character inside
its page or card box, clear of the photo and the QR code and of every other character; and the QR
code of such a certificate still decodes and verifies. Also the QR encoder (print_templates.qr)
against segno, and the wrapping helper."""
import datetime
import io
import random
import re
import string

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import segno
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from backoffice.issuing import certificates, documents, signing
from print_templates import announcement, certificate, commitment, print_sheet, qr, refusal_notice, textfit
from print_templates.fonts import cjk_font

from .conftest import decode_qr, make_enterprise, make_person, make_registration, pdf_text

ALL_SPECIALTIES = ('建筑工程', '公路工程', '铁路工程', '民航机场工程', '港口与航道工程', '水利水电工程', '市政公用工程',
                   '通信与广电工程', '矿业工程', '机电工程')
LONG_ENTERPRISE = ('中国' + '通信与广电港口与航道水利水电民航机场市政公用工程建设' * 10)[:196] + '有限公司'
LONG_NAME = ('阿卜杜热合曼·买买提艾力·' * 5)[:50]
LONG_ADDRESS = ('新疆维吾尔自治区乌鲁木齐市天山区解放南路' + '建设大厦A座十八层1801室' * 10)[:200]
TODAY = datetime.date(2026, 11, 25)


def _flat(text):
    return re.sub(r'\s+', '', text)


def _chars(data):
    """[(page index, character, (left, bottom, right, top) in points, page width, page height)]."""
    out = []
    pdf = pypdfium2.PdfDocument(data)
    try:
        for p in range(len(pdf)):
            page = pdf[p]
            w, h = page.get_size()
            tp = page.get_textpage()
            for i in range(tp.count_chars()):
                ch = chr(pdfium_c.FPDFText_GetUnicode(tp, i))
                if ch.isspace() or pdfium_c.FPDFText_IsGenerated(tp, i) == 1:
                    continue
                out.append((p, ch, tp.get_charbox(i), w, h))
    finally:
        pdf.close()
    return out


def _intersects(box, rect, tol=0.3):
    left, bottom, right, top = box
    x0, y0, x1, y1 = rect
    return min(right, x1) - max(left, x0) > tol and min(top, y1) - max(bottom, y0) > tol


def _check_boxes(data, inset, keep_out=(), where=''):
    """Every character inside the page less `inset` points, outside the keep_out rectangles
    (x0, y0, x1, y1), and clear of every other character on its page."""
    chars = _chars(data)
    assert chars, 'no text found'
    for p, ch, box, w, h in chars:
        left, bottom, right, top = box
        assert left >= inset - 0.5 and bottom >= inset - 0.5 and right <= w - inset + 0.5 \
            and top <= h - inset + 0.5, f'{where}: {ch!r} at {box} outside the box (page {p + 1})'
        for rect in keep_out:
            assert not _intersects(box, rect), f'{where}: {ch!r} at {box} over {rect}'
    for p in {c[0] for c in chars}:
        boxes = np.array([c[2] for c in chars if c[0] == p])
        ix = np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - np.maximum(boxes[:, None, 0], boxes[None, :, 0])
        iy = np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1], boxes[None, :, 1])
        overlap = (ix > 0.5) & (iy > 0.5)
        np.fill_diagonal(overlap, False)
        pairs = np.argwhere(overlap)
        assert not len(pairs), f'{where}: characters drawn over each other on page {p + 1}: ' + ', '.join(
            f'{[c[1] for c in chars if c[0] == p][i]}/{[c[1] for c in chars if c[0] == p][j]}' for i, j in pairs[:5])
    return chars


def _check_text(data, fields, where):
    text, pages = pdf_text(data)
    flat = _flat(text)
    assert '…' not in text, f'{where}: an ellipsis means a cut field'
    for field in fields:
        assert _flat(str(field)) in flat, f'{where}: {field!r} is not printed in full'
    return pages


@pytest.fixture
def long_holder():
    """A holder with every specialty, the longest name and enterprise name the forms accept."""
    assert len(LONG_ENTERPRISE) == 200 and len(LONG_NAME) == 50        # models: CharField(max_length=...)
    person = make_person(name=LONG_NAME, qualifications=ALL_SPECIALTIES)
    ent = make_enterprise(name=LONG_ENTERPRISE)
    ent.address = LONG_ADDRESS
    ent.save()
    reg = make_registration(person, ent, specialties=ALL_SPECIALTIES,
                            valid_until=datetime.date.today() + datetime.timedelta(days=900))
    return certificates.issue(reg), person, reg


def _fields(data):
    return [data['name'], data['gender'], data['number'], data['enterprise']] + [n for n, _ in data['specialties']]


def _verify_qr(pdf, cert, dpi):
    pdf_doc = pypdfium2.PdfDocument(pdf)
    try:
        image = pdf_doc[0].render(scale=dpi / 72).to_pil().convert('RGB')
    finally:
        pdf_doc.close()
    decoded = decode_qr(image)
    assert decoded.split('#')[0] == certificates.verify_url(cert)
    facts = signing.verify(decoded, signing.public_keys(), signing.specialty_names())
    assert facts is not None and facts['serial'] == cert.serial and facts['version'] == signing.VERSION
    assert len(facts['specialties']) == 10
    assert facts['specialties'] == certificates.certificate_data(cert)['specialties']     # named from the table
    return decoded


def test_certificate_a4_prints_every_field_in_full(long_holder):
    cert, person, reg = long_holder
    data = certificates.certificate_data(cert)
    assert len(data['specialties']) == 10 and data['enterprise'] == LONG_ENTERPRISE
    pdf = documents.certificate_pdf(cert)
    fields = _fields(data) + [person.id_number, data['uscc'], data['serial'], data['authority']]
    fields += [f'{n}　　有效期至 {u:%Y年%m月%d日}' for n, u in data['specialties']]
    assert _check_text(pdf, fields, 'certificate') == 1
    h = certificate.PAGE_SIZE[1]
    _check_boxes(pdf, 15 * mm, where='certificate', keep_out=[          # (and clear of the 签发日期 row)
        (150 * mm, h - 115 * mm, 180 * mm, h - 73 * mm),             # photo
        (150 * mm, h - 215 * mm, 185 * mm, h - 180 * mm)])           # QR code
    _verify_qr(pdf, cert, 400)


def test_print_card_prints_every_field_in_full(long_holder, tmp_path):
    cert, person, reg = long_holder
    data = certificates.certificate_data(cert)
    path = documents.write_print_batch([cert], str(tmp_path / 'card.pdf'), layout='sheet')
    pdf = open(path, 'rb').read()
    fields = _fields(data) + [f'{n}（至{u:%Y.%m.%d}）' for n, u in data['specialties']]
    fields.append('、'.join(f'{n}（至{u:%Y.%m.%d}）' for n, u in data['specialties']))
    assert _check_text(pdf, fields, 'print card') == 1
    w, h = print_sheet.PAGE_SIZE
    x, y, pw, ph = print_sheet.PHOTO_BOX
    qx, qy, qs = print_sheet.QR_BOX
    _check_boxes(pdf, 3 * mm, where='print card', keep_out=[(x, y, x + pw, y + ph), (qx, qy, qx + qs, qy + qs)])
    decoded = _verify_qr(pdf, cert, 300)                # a card printer's resolution (issue 14: RC2)
    version, _codewords = qr.data_codewords(decoded)
    modules = 17 + 4 * version + 2 * qr.BORDER
    print(f'card QR: {len(decoded)} characters, version {version}, {qs / mm / modules:.3f} mm per module')


def test_print_card_usual_layout_unchanged_for_short_values(long_holder, tmp_path):
    """A card whose values fit on one line keeps the usual layout: the labels' rows at their places."""
    from .conftest import make_person as mp
    person = mp(name='王芳')
    reg = make_registration(person, make_enterprise(name='北京建工集团有限责任公司'), specialties=('建筑工程',))
    cert = certificates.issue(reg)
    pdf = open(documents.write_print_batch([cert], str(tmp_path / 'c.pdf')), 'rb').read()
    chars = _check_boxes(pdf, 3 * mm, where='short card')
    h = print_sheet.PAGE_SIZE[1]
    name_box = next(box for _, ch, box, _, _ in chars if ch == '芳')
    assert abs(name_box[1] - (h - 19 * mm)) < 3                     # on the first row's baseline


def test_refusal_notice_long_values(long_holder):
    grounds = [f'第{i}项：' + '申请人提交的继续教育证明材料与全国建筑市场监管公共服务平台记录不一致，且未在规定期限内补正' * 2
               for i in range(1, 11)]
    data = {'number': 'SQ2026112500000001', 'name': LONG_NAME, 'id_number': '110105********002X',
            'business_type': '初始注册', 'submitted': '2026年11月01日', 'enterprise': LONG_ENTERPRISE,
            'specialties': '、'.join(ALL_SPECIALTIES), 'grounds': grounds,
            'text': ('经核查，' + LONG_ADDRESS) * 5, 'date': TODAY, 'authority': certificates.AUTHORITY}
    pdf = _render(refusal_notice.PAGE_SIZE, lambda c: refusal_notice.draw_refusal_notice(c, data))
    pages = _check_text(pdf, [LONG_NAME, LONG_ENTERPRISE, data['specialties'], data['text'], *grounds,
                              certificates.AUTHORITY, '2026年11月25日'], 'refusal notice')
    assert pages >= 2                                               # it went on to another page
    _check_boxes(pdf, 15 * mm, where='refusal notice')


def test_commitment_long_values():
    data = {'title': '个人承诺书', 'number': 'SQ2026112500000001', 'business_type': '延续注册',
            'text': ('本人承诺所填报的信息及提交的材料真实、准确、完整，' + LONG_ADDRESS + '。') * 8,
            'name': LONG_NAME, 'date': TODAY}
    pdf = _render(commitment.PAGE_SIZE, lambda c: commitment.draw_commitment(c, data))
    _check_text(pdf, [data['text'], f'承诺人：{LONG_NAME}（经短信验证码确认）', '2026年11月25日'], 'commitment')
    _check_boxes(pdf, 15 * mm, where='commitment')


def test_announcement_long_rows():
    specialties = '、'.join(ALL_SPECIALTIES)
    rows = [(i, LONG_NAME if i % 2 else '李娜', '110105********002X', LONG_ENTERPRISE if i % 3 else '中铁一局集团有限公司',
             '初始注册', specialties, f'京11{i:011d}(00)') for i in range(1, 31)]
    chunks = announcement.paginate(rows)
    assert sum(len(c) for c in chunks) == 30 and len(chunks) > 2
    data = {'number': '建市公告〔2026〕12号', 'title': '2026年第12批一级建造师注册公告', 'published': TODAY,
            'authority': certificates.AUTHORITY}
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=announcement.PAGE_SIZE)
    for k, chunk in enumerate(chunks, 1):
        announcement.draw_announcement_page(c, data, chunk, k, len(chunks))
        c.showPage()
    c.save()
    pdf = buf.getvalue()
    _check_text(pdf, [LONG_NAME, LONG_ENTERPRISE, specialties, '京1100000000030(00)'], 'announcement')
    _check_boxes(pdf, 8 * mm, where='announcement')              # the page footer is at 10 mm


def _render(pagesize, draw):
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=pagesize)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


# --- the helpers ---------------------------------------------------------------------------------

def test_wrap_keeps_every_character_and_measures_width():
    font = cjk_font()
    text = '、'.join(f'{n}（至2029.11.25）' for n in ALL_SPECIALTIES) + ' and a verylongwordthatcannotfit' * 3
    for size, width in ((8, 73 * mm), (6, 40 * mm), (13, 90 * mm)):
        lines = textfit.wrap(text, font, size, width)
        assert _flat(''.join(lines)) == _flat(text)
        assert all(stringWidth(line, font, size) <= width + 0.01 for line in lines)
        assert not any(line[:1] in textfit.NO_LINE_START for line in lines[1:])
        assert not any(line[-1:] in textfit.NO_LINE_END for line in lines)
        assert all('2029.11.25' in line or '2029' not in line for line in lines)     # a date stays whole
    size, lines = textfit.fit('通信与广电工程（至2029.11.25）', font, 8, 40 * mm, max_lines=1, min_size=5)
    assert len(lines) == 1 and size < 8


def _segno_codewords(text, version):
    from segno import consts, encoder
    segments = encoder.prepare_data(text, consts.MODE_BYTE, None)
    buff = encoder.Buffer()
    encoder.write_segment(buff, segments.segments[0], None, encoder.version_range(version), False)
    capacity = consts.SYMBOL_CAPACITY[version][consts.ERROR_LEVEL_M]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    return np.array(list(buff.toints()), dtype=np.uint8)


def test_qr_encoder_matches_segno_bit_for_bit():
    """Same version, mask and data codewords: the matrix (Reed-Solomon, interleaving, placement,
    mask, format and version information) is the one segno makes, from version 1 to 20 and more."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + '-_~#/:.'
    versions = set()
    for n in list(range(1, 120, 5)) + list(range(120, 900, 37)):
        text = ''.join(rng.choice(alphabet) for _ in range(n))
        ref = segno.make(text, error='m', micro=False, mask=qr.MASK, boost_error=False, mode='byte')
        version, _ = qr.data_codewords(text)
        assert version == ref.version, n
        versions.add(version)
        mine = qr.symbol(version, _segno_codewords(text, version))
        assert np.array_equal(mine, np.array([list(r) for r in ref.matrix], dtype=np.uint8)), (n, version)
    assert min(versions) == 1 and max(versions) >= 20


def test_qr_codes_decode():
    import cv2
    for text in ('http://registry.test/verify/abc#' + 'A' * 200 + '~' + 'B' * 86, 'x' * 17, 'ZS2026112500000001'):
        m = qr.qr_matrix(text, border=True)
        image = np.kron(1 - m, np.ones((6, 6), dtype=np.uint8)) * 255
        image = np.pad(image, 24, constant_values=255)
        found = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))[0]
        assert found == text


def test_print_job_in_several_processes(users, monkeypatch, app):
    """PRINT_PROCESSES=2: the files of a print are drawn by worker processes; every certificate is
    printed once, logged, and its QR code still verifies."""
    import zipfile
    from backoffice.issuing import printing
    from models import Certificate, Job, PrintLog
    from .conftest import registered_with_certificate
    monkeypatch.setattr(printing, 'PART_SIZE', 2)
    monkeypatch.setitem(app.config, 'PRINT_PROCESSES', 2)

    def in_this_process(*args, **kwargs):
        raise AssertionError('drawn in the job process')
    monkeypatch.setattr(printing, 'write_print_batch', in_this_process)
    assert printing.processes_for(3) == 2 and printing.processes_for(1) == 1
    ent = make_enterprise(code='11')
    certs = [registered_with_certificate(users, enterprise=ent)[0] for _ in range(5)]
    job = Job.get_by_id(printing.request_batch(users['provincial'], users['provincial'].province_id).id)
    assert (job.state, job.progress, job.total) == ('done', 5, 5)
    with zipfile.ZipFile(job.result_path) as zf:
        names = sorted(zf.namelist())
        assert names == ['certificates-001.pdf', 'certificates-002.pdf', 'certificates-003.pdf']
        files = [zf.read(n) for n in names]
    text = ''.join(pdf_text(f)[0] for f in files)
    assert sum(pdf_text(f)[1] for f in files) == 5
    for cert in certs:
        assert certificates.certificate_data(cert)['number'] in text
    assert PrintLog.select().count() == 5
    assert Certificate.select().where(Certificate.printed == False).count() == 0  # noqa: E712
    _verify_card_qr(files[0], certs[0])


def _verify_card_qr(pdf, cert):
    pdf_doc = pypdfium2.PdfDocument(pdf)
    try:
        image = pdf_doc[0].render(scale=300 / 72).to_pil().convert('RGB')
    finally:
        pdf_doc.close()
    facts = signing.verify(decode_qr(image), signing.public_keys())
    assert facts is not None and facts['serial'] == cert.serial


def test_photo_passes_through_and_png_signature_keeps_its_mask(tmp_path):
    """A JPEG photo (here as bytes, as from S3) is embedded unchanged, once per document; a PNG
    signature with transparency goes through ReportLab's own path and keeps its soft mask."""
    from PIL import Image, ImageDraw
    from pypdf import PdfReader
    from print_templates import batch
    buf = io.BytesIO()
    Image.new('RGB', (295, 413), (200, 170, 140)).save(buf, 'JPEG', quality=85)
    jpeg = buf.getvalue()
    sig = Image.new('RGBA', (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(sig).line((20, 100, 200, 40, 380, 50), fill=(0, 0, 0, 255), width=6)
    buf = io.BytesIO()
    sig.save(buf, 'PNG')
    data = {'serial': 'ZS20261125000001', 'name': '王芳', 'gender': '女', 'birth_date': datetime.date(1985, 6, 15),
            'id_number': '11010519850615002X', 'number': '京111252400001(00)', 'enterprise': '北京建工集团有限责任公司',
            'uscc': '91110000600037341L', 'specialties': [('建筑工程', TODAY)], 'issued_on': TODAY,
            'use_until': TODAY, 'authority': certificates.AUTHORITY, 'qr_text': 'http://registry.test/verify/x',
            'void_mark': ''}
    pages = [dict(data, photo=jpeg, signature=buf.getvalue()) for _ in range(2)]
    path = str(tmp_path / 'two.pdf')
    assert batch.write_pages(path, 'certificate', pages) == 2
    reader = PdfReader(path)
    seen = {}
    for page in reader.pages:
        for name, ref in page['/Resources']['/XObject'].items():
            obj = ref.get_object()
            if obj.get('/Subtype') == '/Image':
                seen.setdefault(ref.idnum, obj)
    photos = [o for o in seen.values() if o.get('/Filter') in ('/DCTDecode', ['/DCTDecode'])]
    assert len(photos) == 1 and photos[0].get_data() == jpeg        # unchanged, and embedded once
    assert any('/SMask' in o for o in seen.values())                # the signature's transparency
    assert '王芳' in pdf_text(open(path, 'rb').read())[0]


def test_certificate_data_for_a_batch_takes_a_fixed_number_of_queries(users, monkeypatch):
    """The print path reads a batch's data in a few queries, however many certificates (it was
    about ten a certificate); the values are those of certificate_data() one by one."""
    from models import database
    from .conftest import registered_with_certificate
    ent = make_enterprise(code='11')
    certs = [registered_with_certificate(users, enterprise=ent)[0] for _ in range(6)]
    signing.private_key()                                   # the signing key is read once per process
    one_by_one = [certificates.certificate_data(c) for c in certs]
    counted = []
    db = database.obj                                       # the database behind models' proxy
    real = db.execute_sql

    def counting(sql, *args, **kwargs):
        counted.append(sql)
        return real(sql, *args, **kwargs)
    monkeypatch.setattr(db, 'execute_sql', counting)
    few = certificates.certificate_data_many(certs[:2])
    queries_for_two = len(counted)
    counted.clear()
    many = certificates.certificate_data_many(certs)
    assert len(counted) == queries_for_two <= 5
    assert many[:2] == few and [d['number'] for d in many] == [d['number'] for d in one_by_one]
    assert [d['qr_text'] for d in many] == [d['qr_text'] for d in one_by_one]       # Ed25519 is deterministic
