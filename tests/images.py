"""Test images: a real portrait (scikit-image's astronaut, shipped in its wheel) and bad ones."""
import io
import struct
import zlib

from PIL import Image, ImageDraw, ImageFilter


def _jpeg(img, quality=95):
    buf = io.BytesIO()
    img.save(buf, 'JPEG', quality=quality)
    return buf.getvalue()


def _head_crop():
    from skimage import data
    astro = Image.fromarray(data.astronaut())
    return astro.crop((110, 0, 340, 330)).resize((460, 660))


def portrait(size=(840, 1120), at=(190, 160)):
    """A real face on white paper, as a camera would give it (not yet cropped to 295x413)."""
    crop = _head_crop()
    mask = Image.new('L', crop.size, 0)
    d = ImageDraw.Draw(mask)
    d.ellipse((95, 22, 365, 420), fill=255)
    d.rectangle((0, 380, 460, 660), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(3))
    canvas = Image.new('RGB', size, 'white')
    canvas.paste(crop, at, mask)
    return canvas


def portrait_jpeg():
    return _jpeg(portrait())


def two_faces_jpeg():
    one = portrait()
    canvas = Image.new('RGB', (1680, 1120), 'white')
    canvas.paste(one, (0, 0))
    canvas.paste(one, (840, 0))
    return _jpeg(canvas)


def astronaut_jpeg():
    """The original photo: a face, but on a flag and shuttle background."""
    from skimage import data
    return _jpeg(Image.fromarray(data.astronaut()).resize((600, 600)))


def no_face_jpeg():
    img = Image.new('RGB', (600, 800), 'white')
    ImageDraw.Draw(img).rectangle((150, 200, 450, 700), fill=(120, 90, 60))
    return _jpeg(img)


def grey_jpeg():
    return _jpeg(portrait().convert('L'))


def tiny_jpeg():
    return _jpeg(portrait().resize((105, 140)))


def png_bytes(img=None):
    buf = io.BytesIO()
    (img or portrait()).save(buf, 'PNG')
    return buf.getvalue()


def decompression_bomb_png(width=40000, height=40000):
    """A few hundred bytes that claim to be a 1.6-gigapixel PNG."""
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff)
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0' * 1000)) + \
        chunk(b'IEND', b'')


def signature_jpeg(size=(600, 200), ink='black', paper='white', strokes=True):
    img = Image.new('RGB', size, paper)
    if strokes:
        w, h = size
        d = ImageDraw.Draw(img)
        d.line([(w * 0.2, h * 0.7), (w * 0.35, h * 0.3), (w * 0.5, h * 0.75), (w * 0.65, h * 0.3),
                (w * 0.8, h * 0.6)], fill=ink, width=6)
    return _jpeg(img, quality=90)
