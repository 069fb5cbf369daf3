"""照片处理工具: check and fix a 一寸白底免冠照, and check a signature image (domain §9).

    python -m backoffice.intake.photo check FILE
    python -m backoffice.intake.photo fix FILE [OUT]
    python -m backoffice.intake.photo signature FILE

Images are read from their content (never the file name) with Pillow, guarded against
decompression bombs; faces are found with OpenCV's frontal-face Haar cascade, which ships in
the opencv-python-headless 4.x wheel (nothing is downloaded).

Cost is bounded (a 40-megapixel phone photo once took 13 s and 500 MB):
- a JPEG is decoded at reduced size (Pillow's draft mode: 1/2, 1/4 or 1/8 scale, straight from
  the DCT) to about DRAFT_BOX, which is plenty for a 295×413 result; its declared size may be
  at most MAX_JPEG_PIXELS;
- any other image is decoded whole and may have at most MAX_PIXELS;
- both sizes are checked on the header, before decoding;
- at most PHOTO_MAX_CONCURRENT photos (setting, default 2) are processed at once per process;
  a request that finds every slot busy for PHOTO_BUSY_WAIT seconds gets Busy ("系统繁忙").
"""
import contextlib
import dataclasses
import io
import sys
import threading

import numpy as np
from PIL import Image, ImageOps

OUT_W, OUT_H = 295, 413                 # 25 mm x 35 mm at 300 dpi
MIN_INPUT_W, MIN_INPUT_H = 215, 300
MIN_INPUT_BYTES = 30 * 1024
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 24_000_000                 # images decoded at full size (PNG): larger ones are refused
MAX_JPEG_PIXELS = 50_000_000            # JPEG's declared size (decoded at reduced size, see DRAFT_BOX)
DRAFT_BOX = (1000, 1000)                # a JPEG is decoded at the smallest DCT scale still >= this box
MAX_CONCURRENT = 2                      # default of the PHOTO_MAX_CONCURRENT setting
BUSY_WAIT = 5.0                         # default of the PHOTO_BUSY_WAIT setting (seconds)
FACE_WIDTH = (0.30, 0.62)               # face box (brows to chin) width / photo width
FACE_CENTER_X = (0.40, 0.60)
FACE_TOP = (0.18, 0.45)                 # face box top / photo height
TARGET_FACE_WIDTH, TARGET_FACE_TOP = 0.42, 0.32
WHITE_SHARE = 0.90                      # share of near-white pixels in the background strips
SIGNATURE_MAX_BYTES = 200 * 1024
SUCCESS = '审核成功'


class ImageRejected(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Busy(ImageRejected):
    """Every processing slot stayed busy: the caller answers "系统繁忙" (the request is not processed)."""

    def __init__(self):
        super().__init__('系统繁忙：正在处理的照片较多，请稍后再试')


_slots_lock = threading.Lock()
_slots = {'limit': None, 'semaphore': None}


def _setting(name, default):
    try:
        from flask import current_app, has_app_context
        if has_app_context():
            return current_app.config.get(name, default)
    except ImportError:            # pragma: no cover - Flask is always installed here
        pass
    return default


@contextlib.contextmanager
def processing_slot(limit=None, wait=None):
    """Hold one of the process-wide processing slots; raise Busy after `wait` seconds without one."""
    limit = max(1, int(limit if limit is not None else _setting('PHOTO_MAX_CONCURRENT', MAX_CONCURRENT)))
    wait = float(wait if wait is not None else _setting('PHOTO_BUSY_WAIT', BUSY_WAIT))
    with _slots_lock:
        if _slots['limit'] != limit:
            _slots['limit'], _slots['semaphore'] = limit, threading.BoundedSemaphore(limit)
        semaphore = _slots['semaphore']
    if not semaphore.acquire(timeout=wait):
        raise Busy()
    try:
        yield
    finally:
        semaphore.release()


@dataclasses.dataclass
class Report:
    problems: list
    faces: int = 0
    size: tuple = (0, 0)

    @property
    def ok(self):
        return not self.problems

    @property
    def message(self):
        return SUCCESS if self.ok else '；'.join(self.problems)


def open_image(data, formats=('JPEG',), max_bytes=MAX_BYTES):
    """Decode bytes into an RGB Pillow image, refusing what is not an image of the given formats."""
    rgb, is_colour, _size = _decode(data, formats, max_bytes)
    return rgb, is_colour


def _decode(data, formats=('JPEG',), max_bytes=MAX_BYTES, draft=True):
    """(RGB image, is colour, declared size). A JPEG is decoded at reduced size (draft mode) unless
    draft=False; sizes are checked on the header before anything is decoded."""
    names = {'JPEG': 'JPEG', 'PNG': 'PNG'}
    allowed = '或'.join(names[f] for f in formats)
    if len(data) > max_bytes:
        raise ImageRejected(f'文件过大（{len(data) // 1024} KB），不能超过 {max_bytes // 1024} KB')
    too_big = ImageRejected('图片尺寸过大，可能是异常文件')
    try:
        # Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, process-wide) stays at its default;
        # the caps below are checked explicitly, so no global is changed under other threads.
        img = Image.open(io.BytesIO(data))
        if img.format not in formats:
            raise ImageRejected(f'文件内容不是 {allowed} 图片')
        size = img.size
        if size[0] * size[1] > (MAX_JPEG_PIXELS if img.format == 'JPEG' else MAX_PIXELS):
            raise too_big
        if img.format == 'JPEG' and draft:
            img.draft('RGB', DRAFT_BOX)
        if img.width * img.height > MAX_PIXELS:
            raise too_big
        img.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise too_big from None
    except Exception:
        raise ImageRejected(f'文件内容不是有效的 {allowed} 图片，或文件已损坏') from None
    orientation = img.getexif().get(0x0112, 1)
    img = ImageOps.exif_transpose(img)
    if orientation in (5, 6, 7, 8):           # turned a quarter: the declared size the same way round
        size = (size[1], size[0])
    is_colour = img.mode not in ('1', 'L', 'LA', 'I', 'F')
    return img.convert('RGB'), is_colour, size


_local = threading.local()
_import_lock = threading.Lock()


def _cv2():
    """OpenCV, imported once under a lock: two threads importing it at once saw a half-made module
    ("module 'cv2' has no attribute 'data'")."""
    with _import_lock:
        import cv2
        return cv2


def _faces(rgb):
    cv2 = _cv2()
    # one classifier per thread: OpenCV's CascadeClassifier is not safe to share between threads
    # (two requests at once sometimes found no face on the same photo)
    cascade = getattr(_local, 'cascade', None)
    if cascade is None:
        cascade = _local.cascade = cv2.CascadeClassifier(
            cv2.data.haarcascades + 'haarcascade_frontalface_default.xml')
    gray = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2GRAY)
    side = min(gray.shape)
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(side // 8, side // 8))
    return [tuple(int(v) for v in f) for f in found]


def _near_white(arr, threshold=200, spread=40):
    arr = arr.astype(np.int16)
    return (arr.min(axis=2) >= threshold) & ((arr.max(axis=2) - arr.min(axis=2)) <= spread)


def _background_share(rgb):
    """Share of near-white pixels in the strips around the head (top, and the sides of the upper part)."""
    arr = np.asarray(rgb)
    h, w = arr.shape[:2]
    t, s = max(1, h // 12), max(1, w // 10)
    strips = [arr[:t, :], arr[:h * 6 // 10, :s], arr[:h * 6 // 10, w - s:]]
    white = sum(int(_near_white(x).sum()) for x in strips)
    total = sum(x.shape[0] * x.shape[1] for x in strips)
    return white / total


def _grey_like(rgb):
    arr = np.asarray(rgb).astype(np.int16)
    return float(np.abs(arr[:, :, 0] - arr[:, :, 1]).mean() + np.abs(arr[:, :, 1] - arr[:, :, 2]).mean()) < 2


def check_photo(data):
    """Check a photo; Report.message is '审核成功' or every problem found. Raises Busy when every
    processing slot stays taken."""
    with processing_slot():
        return _check_photo(data)


def _check_photo(data):
    try:
        rgb, colour, (w, h) = _decode(data)
    except ImageRejected as exc:
        return Report([exc.message])
    problems = []
    processed = (w, h) == (OUT_W, OUT_H)
    if not processed:
        if w < MIN_INPUT_W or h < MIN_INPUT_H:
            problems.append(f'照片分辨率过低（{w}×{h}），至少 {MIN_INPUT_W}×{MIN_INPUT_H} 像素')
        if len(data) < MIN_INPUT_BYTES:
            problems.append(f'照片文件过小（{len(data) // 1024} KB），应大于 30 KB，请使用清晰的原始照片')
    if not colour or _grey_like(rgb):
        problems.append('照片须为彩色照片')
    if _background_share(rgb) < WHITE_SHARE:
        problems.append('背景不是白色，请使用白色背景拍摄的照片')
    faces = _faces(rgb)
    if not faces:
        problems.append('未检测到正面人脸，请使用正面免冠照片')
    elif len(faces) > 1:
        problems.append(f'检测到 {len(faces)} 张人脸，照片中只能有本人一人')
    else:
        fx, fy, fw, fh = faces[0]
        dw, dh = rgb.size                       # face boxes are in decoded pixels (a JPEG may be reduced)
        ratio, cx, top = fw / dw, (fx + fw / 2) / dw, fy / dh
        if ratio < FACE_WIDTH[0]:
            problems.append('头部在照片中过小，请裁剪使头部约占照片宽度的一半')
        elif ratio > FACE_WIDTH[1]:
            problems.append('头部在照片中过大，请留出肩部和头顶空白')
        if not FACE_CENTER_X[0] <= cx <= FACE_CENTER_X[1]:
            problems.append('头部没有居中')
        if not FACE_TOP[0] <= top <= FACE_TOP[1]:
            problems.append('头部位置过高或过低')
    if not problems and not processed:
        problems.append(f'照片尺寸应为 {OUT_W}×{OUT_H} 像素，请点击“处理照片”自动裁剪后再上传')
    return Report(problems, len(faces), (w, h))


def fix_photo(data):
    """Crop and scale to 295x413 with the face placed, whiten a near-white background.

    Returns (jpeg bytes, Report of the result). Raises ImageRejected when it cannot be fixed (Busy when
    every processing slot stays taken).
    """
    with processing_slot():
        return _fix_photo(data)


def _fix_photo(data):
    rgb, colour = open_image(data)
    if not colour or _grey_like(rgb):
        raise ImageRejected('照片须为彩色照片')
    faces = _faces(rgb)
    if not faces:
        raise ImageRejected('未检测到正面人脸，无法处理')
    if len(faces) > 1:
        raise ImageRejected(f'检测到 {len(faces)} 张人脸，照片中只能有本人一人')
    fx, fy, fw, fh = faces[0]
    scale = TARGET_FACE_WIDTH * OUT_W / fw          # output pixels per input pixel
    if scale > 1.0:
        raise ImageRejected('照片分辨率不足（人脸区域过小），不能放大处理，请使用更清晰的照片')
    crop_w, crop_h = OUT_W / scale, OUT_H / scale
    left = fx + fw / 2 - crop_w / 2
    top = fy - TARGET_FACE_TOP * crop_h
    box = (round(left), round(top), round(left + crop_w), round(top + crop_h))
    canvas = Image.new('RGB', (box[2] - box[0], box[3] - box[1]), 'white')   # white where the crop leaves the photo
    canvas.paste(rgb.crop((max(box[0], 0), max(box[1], 0), min(box[2], rgb.width), min(box[3], rgb.height))),
                 (max(-box[0], 0), max(-box[1], 0)))
    out = canvas.resize((OUT_W, OUT_H), Image.LANCZOS)
    out = _whiten(out)
    buf = io.BytesIO()
    out.save(buf, 'JPEG', quality=95, subsampling=0)
    result = buf.getvalue()
    return result, _check_photo(result)


def _whiten(img, threshold=185):
    """Near-white areas connected to the edge become pure white (the person is left alone)."""
    cv2 = _cv2()
    arr = np.asarray(img).copy()
    mask = _near_white(arr, threshold=threshold, spread=45).astype(np.uint8)
    count, labels = cv2.connectedComponents(mask, connectivity=4)
    edge = set(np.unique(np.concatenate([labels[0, :], labels[:, 0], labels[:, -1]]))) - {0}
    if edge:
        arr[np.isin(labels, list(edge))] = 255
    return Image.fromarray(arr)


def check_signature(data):
    """Signature image: JPEG/PNG, at most 200 KB, landscape, white paper, dark strokes, centred."""
    if len(data) > SIGNATURE_MAX_BYTES:
        return Report([f'签名图片过大（{len(data) // 1024} KB），不能超过 200 KB'])
    try:
        rgb, _ = open_image(data, formats=('JPEG', 'PNG'), max_bytes=SIGNATURE_MAX_BYTES)
    except ImageRejected as exc:
        return Report([exc.message])
    w, h = rgb.size
    problems = []
    if w <= h:
        problems.append('签名图片须为横版（宽度大于高度），从左往右书写')
    gray = np.asarray(rgb.convert('L'))
    if float(np.median(gray)) < 200:
        problems.append('签名须写在白纸上（背景应为白色）')
    dark = gray < 100
    share = float(dark.mean())
    if share < 0.002:
        problems.append('未检测到清晰的黑色笔迹')
    elif share > 0.25:
        problems.append('笔迹过粗或背景过暗，请白纸黑字书写后拍摄')
    else:
        xs = np.nonzero(dark)[1]
        centre = (xs.min() + xs.max()) / 2 / w
        if not 0.3 <= centre <= 0.7:
            problems.append('签名应居中')
    return Report(problems, size=(w, h))


# --- the web tool's kept photo (so that 审核 then 处理 needs the file chosen only once) ----------

STASH_TTL_HOURS = 2                     # a kept photo is deleted after 2 to 3 hours
STASH_PREFIX = 'photo-tool'
PREVIEW_BOX = (300, 420)
_stash_lock = threading.Lock()
_last_purge = [0.0]


def _hour():
    import time
    return int(time.time() // 3600)


def _stash_store():
    from backoffice import storage          # lazily: the CLI above needs no Flask app
    return storage.outputs()


def _stash_key(token, name):
    import re
    if not isinstance(token, str) or not re.fullmatch(r'\d{1,8}-[A-Za-z0-9_-]{16,64}', token) \
            or name not in ('original', 'fixed'):
        return None
    hour, rest = token.split('-', 1)
    return f'{STASH_PREFIX}/{hour}/{rest}/{name}.jpg'


def stash_put(data, token=None, name='original'):
    """Keep a photo of the web tool for a short while (in the 'output' storage, so every app server
    sees it); returns its token (a new one unless token is given). Photos are personal data: a kept
    one lives at most STASH_TTL_HOURS + 1 hours."""
    import secrets
    if token is None or _stash_key(token, name) is None:
        token = f'{_hour()}-{secrets.token_urlsafe(24)}'
    _stash_store().put_bytes(_stash_key(token, name), data, 'image/jpeg')
    stash_purge()
    return token


def stash_get(token, name='original'):
    """The kept photo's bytes, or None when the token is unknown, malformed or expired."""
    key = _stash_key(token, name)
    if key is None or int(token.split('-', 1)[0]) < _hour() - STASH_TTL_HOURS:
        return None
    try:
        return _stash_store().get_bytes(key)
    except Exception:                    # gone (purged) or never there
        return None


def stash_drop(token):
    key = _stash_key(token, 'original')
    if key is not None:
        _stash_store().delete_prefix(key.rsplit('/', 1)[0])


def stash_purge(force=False):
    """Delete kept photos older than STASH_TTL_HOURS (at most every 10 minutes per process)."""
    import time
    with _stash_lock:
        if not force and time.time() - _last_purge[0] < 600:
            return
        _last_purge[0] = time.time()
    store, now_h = _stash_store(), _hour()
    root = store.local_path(STASH_PREFIX) if store.kind == 'local' else None
    if root is not None:
        import os
        hours = [h for h in (os.listdir(root) if os.path.isdir(root) else []) if h.isdigit()]
    else:
        hours = [str(h) for h in range(now_h - 48, now_h - STASH_TTL_HOURS)]
    for h in hours:
        if int(h) < now_h - STASH_TTL_HOURS:
            store.delete_prefix(f'{STASH_PREFIX}/{h}')


def preview_jpeg(data, box=PREVIEW_BOX):
    """A small JPEG of a photo for the before/after preview (decoded at reduced size)."""
    with processing_slot():
        rgb, _colour = open_image(data)
        rgb.thumbnail(box)
        buf = io.BytesIO()
        rgb.save(buf, 'JPEG', quality=85)
        return buf.getvalue()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in ('check', 'fix', 'signature'):
        print(__doc__)
        return 2
    try:
        with open(argv[1], 'rb') as fh:
            data = fh.read()
    except OSError as exc:
        print(f'无法读取文件：{argv[1]}（{exc.strerror}）')
        return 2
    if argv[0] == 'check':
        report = check_photo(data)
    elif argv[0] == 'signature':
        report = check_signature(data)
    else:
        try:
            fixed, report = fix_photo(data)
        except ImageRejected as exc:
            print(exc.message)
            return 1
        out = argv[2] if len(argv) > 2 else argv[1].rsplit('.', 1)[0] + '_处理后.jpg'
        with open(out, 'wb') as fh:
            fh.write(fixed)
        print(f'已保存：{out}')
    print(report.message)
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
