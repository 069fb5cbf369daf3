"""One PDF file of certificate pages from plain data (certificate_data() values), with nothing but
ReportLab: what a worker process of a batch print runs (backoffice.issuing.printing). Images come as
a path or as the bytes (from S3), so the data crosses a process boundary."""
import io

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as rl_canvas

from . import certificate, print_sheet

LAYOUTS = {'sheet': (print_sheet.PAGE_SIZE, print_sheet.draw_print_sheet),
           'certificate': (certificate.PAGE_SIZE, certificate.draw_certificate)}


def portable(data):
    """data with its images as a path or bytes (an ImageReader does not pickle)."""
    out = dict(data)
    for key in ('photo', 'signature'):
        image = out.get(key)
        if image is not None and not isinstance(image, (str, bytes)):
            fp = getattr(image, 'fp', None)
            if fp is not None and hasattr(fp, 'getvalue'):
                out[key] = fp.getvalue()
    return out


def write_pages(path, layout, pages):
    """Draw every data dict of pages as one page of `layout` into the PDF file at path; returns
    the number of pages."""
    pagesize, draw = LAYOUTS[layout]
    c = rl_canvas.Canvas(path, pagesize=pagesize, pageCompression=1)
    c.setTitle('一级建造师注册证书批量打印')
    for data in pages:
        for key in ('photo', 'signature'):
            if isinstance(data.get(key), bytes):
                data[key] = ImageReader(io.BytesIO(data[key]))
        draw(c, data)
        c.showPage()
    c.save()
    return len(pages)
