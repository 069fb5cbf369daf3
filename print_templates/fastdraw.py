"""Faster drawing of what every certificate page repeats: text in the embedded TrueType font and
JPEG photos and signatures.

canvas.drawString builds a text object per string (bidi, shaping hooks, word spacing) and
canvas.drawImage opens and parses the file, hashes it and formats the image dictionary with
ReportLab's generic PDF object formatter; together they were over half the cost of a certificate.
Here a string is one "BT … ET" literal made with the font's own subset splitting and escaping (the
documented way to write a dynamic font: ttfonts module docs), and a JPEG is passed through as a
DCTDecode stream whose dictionary is formatted once as bytes. The output is the same PDF content:
the text extracts and renders the same (tests/test_print_fit.py, tests/test_certificates.py).
Written for ReportLab 5.1 (pinned in requirements.txt).
"""
import hashlib
import io

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.pdfutils import readJPEGInfo


def text(c, font_name, size, x, y, s, align='left'):
    """Draw s with its baseline starting at (x, y) (or ending / centred there) in the current fill colour."""
    if not s:
        return
    font = pdfmetrics.getFont(font_name)
    if not getattr(font, '_dynamicFont', False):           # a CID font (no TrueType file): the usual path
        c.setFont(font_name, size)
        {'left': c.drawString, 'right': c.drawRightString, 'centre': c.drawCentredString}[align](x, y, s)
        return
    # a string's operators depend only on the document (its font subsets), so a string that repeats
    # (the authority, the dates of a batch) is split and escaped once per document
    cache = c.__dict__.setdefault('_fastdraw_text', {})
    key = (font_name, size, s)
    found = cache.get(key)
    if found is None:
        doc = c._doc
        body = ' '.join(f'{font.getSubsetInternalName(subset, doc)} {size:g} Tf ({escapePDF(chunk)}) Tj'
                        for subset, chunk in font.splitString(s, doc))
        found = cache[key] = (body, font.stringWidth(s, size))
    body, width = found
    if align != 'left':
        x -= width if align == 'right' else width / 2
    c.addLiteral(f'BT 1 0 0 1 {x:.2f} {y:.2f} Tm {body} ET')


class _JpegXObject(pdfdoc.PDFImageXObject):
    """A JPEG passed through unchanged (DCTDecode), its dictionary formatted directly."""

    def __init__(self, name, data, width, height, components):
        self.name, self.width, self.height, self.mask = name, width, height, None
        self.bitsPerComponent = 8
        self.colorSpace = {1: 'DeviceGray', 3: 'DeviceRGB'}.get(components, 'DeviceCMYK')
        self.streamContent = data

    def format(self, document):
        decode = ' /Decode [ 1 0 1 0 1 0 1 0 ]' if self.colorSpace == 'DeviceCMYK' else ''
        head = (f'<<\n/BitsPerComponent 8 /ColorSpace /{self.colorSpace}{decode} /Filter [ /DCTDecode ] '
                f'/Height {self.height} /Length {len(self.streamContent)} /Subtype /Image\n'
                f'/Type /XObject /Width {self.width}\n>>\nstream\n').encode('latin-1')
        return head + self.streamContent + b'\nendstream'


def _jpeg_bytes(source):
    """The bytes of a JPEG file path or of an ImageReader / file object holding a JPEG, else None."""
    if isinstance(source, str):
        if not source.lower().endswith(('.jpg', '.jpeg')):
            return None
        with open(source, 'rb') as f:
            data = f.read()
    else:
        fp = getattr(source, 'fp', None) if not hasattr(source, 'read') else source
        if fp is None or not hasattr(fp, 'read'):
            return None
        fp.seek(0)
        data = fp.read()
        fp.seek(0)
    return data if data[:2] == b'\xff\xd8' else None


def image(c, source, x, y, width, height, mask=None):
    """canvas.drawImage(source, x, y, width, height, preserveAspectRatio=True) (centred in the box),
    with a JPEG embedded without decoding it and once per document; anything else (PNG, a mask)
    goes through drawImage."""
    data = None if mask not in (None, 'auto') else _jpeg_bytes(source)     # a JPEG has no alpha to mask
    info = None
    if data is not None:
        try:
            info = readJPEGInfo(io.BytesIO(data))
        except Exception:          # noqa: BLE001 - not a JPEG ReportLab can read: its own path decides
            info = None
    if info is None:
        c.drawImage(source, x, y, width, height, preserveAspectRatio=True, mask=mask)
        return
    doc = c._doc
    name = 'J' + hashlib.md5(data, usedforsecurity=False).hexdigest()
    reg_name = doc.getXObjectName(name)
    if reg_name not in doc.idToObject:
        obj = _JpegXObject(name, data, *info[:3])        # width, height, components (, dpi)
        doc.Reference(obj, reg_name)
        doc.addForm(name, obj)
    iw, ih = info[0], info[1]
    scale = min(width / iw, height / ih)
    w, h = iw * scale, ih * scale
    x, y = x + (width - w) / 2, y + (height - h) / 2
    c.addLiteral(f'q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm /{reg_name} Do Q')
    c._formsinuse.append(name)
    c._currentPageHasImages = 1
