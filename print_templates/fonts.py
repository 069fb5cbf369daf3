"""CJK font registration, once per process."""
import os

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

DEFAULT_FONT_PATH = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'
_registered = {}


def cjk_font(path=None):
    """Name of a registered font that prints Chinese.

    An embedded TrueType font (Debian fonts-wqy-zenhei) when the file exists, so the PDF
    looks the same everywhere; otherwise ReportLab's STSong-Light, which relies on the
    viewer's fonts.
    """
    path = path or os.environ.get('CJK_FONT_PATH') or DEFAULT_FONT_PATH
    if path in _registered:
        return _registered[path]
    if os.path.exists(path):
        kwargs = {'subfontIndex': 0} if path.endswith('.ttc') else {}
        pdfmetrics.registerFont(TTFont('CJK', path, **kwargs))
        name = 'CJK'
    else:
        pdfmetrics.registerFont(UnicodeCIDFont('STSong-Light'))
        name = 'STSong-Light'
    _registered[path] = name
    return name


def fit(text, font, size, max_width):
    """text cut (with an ellipsis) so that it fits max_width points."""
    if stringWidth(text, font, size) <= max_width:
        return text
    while text and stringWidth(text + '…', font, size) > max_width:
        text = text[:-1]
    return text + '…'


def wrap(text, width):
    """Split Chinese text into lines of at most `width` characters."""
    lines = []
    for paragraph in str(text).split('\n'):
        while len(paragraph) > width:
            lines.append(paragraph[:width])
            paragraph = paragraph[width:]
        lines.append(paragraph)
    return lines
