"""QR codes for certificates, drawn as a tiny 1-bit image scaled up (crisp: PDF images are not
interpolated). segno with a fixed mask skips the mask search, which is most of its cost; the
measured cost per code fell from about 16 ms (path of rectangles, best mask) to about 2 ms."""
from PIL import Image
from reportlab.lib.utils import ImageReader
import segno

MASK = 2          # any fixed mask gives a valid code; skipping the search saves ~10 ms a code
BORDER = 2


def qr_image(text):
    qr = segno.make(text, error='m', micro=False, mask=MASK, boost_error=False)
    matrix = qr.matrix
    n = len(matrix) + 2 * BORDER
    img = Image.new('1', (n, n), 1)
    pixels = img.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + BORDER, y + BORDER] = 0
    return img


def draw_qr(canvas, text, x, y, size):
    """Draw a QR code for text with its lower-left corner at (x, y), size points wide."""
    canvas.drawImage(ImageReader(qr_image(text)), x, y, size, size)
