"""CJK font registration, once per process."""
import os

from reportlab.pdfbase import pdfmetrics
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
