"""The photo processing tool on a real portrait and on bad images; the signature check."""
import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from backoffice.intake import photo

from . import images


def test_real_portrait_is_fixed_to_a_passing_one_inch_photo():
    raw = images.portrait_jpeg()
    before = photo.check_photo(raw)
    assert not before.ok and before.faces == 1
    fixed, report = photo.fix_photo(raw)
    assert report.ok and report.message == '审核成功'
    img = Image.open(io.BytesIO(fixed))
    assert img.format == 'JPEG' and img.size == (295, 413)
    arr = np.asarray(img)
    assert arr[:20, :20].min() >= 250 and arr[:20, -20:].min() >= 250      # white corners
    assert photo.check_photo(fixed).message == '审核成功'


@pytest.mark.parametrize('make,message', [
    (images.astronaut_jpeg, '背景不是白色'),
    (images.no_face_jpeg, '未检测到正面人脸'),
    (images.two_faces_jpeg, '检测到 2 张人脸'),
    (images.grey_jpeg, '照片须为彩色照片'),
    (images.tiny_jpeg, '照片分辨率过低'),
    (lambda: b'this is not a picture', '文件内容不是有效的 JPEG 图片'),
    (images.png_bytes, '文件内容不是 JPEG 图片'),
    (images.decompression_bomb_png, '图片尺寸过大，可能是异常文件'),
    (lambda: b'\xff\xd8' + b'0' * (11 * 1024 * 1024), '文件过大'),
])
def test_bad_photos_are_explained(make, message):
    report = photo.check_photo(make())
    assert not report.ok
    assert any(message in p for p in report.problems), report.problems


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(photo.ImageRejected) as err:
        photo.open_image(images.decompression_bomb_png(), formats=('PNG',))
    assert err.value.message == '图片尺寸过大，可能是异常文件'


@pytest.mark.parametrize('make,message', [
    (images.no_face_jpeg, '未检测到正面人脸，无法处理'),
    (images.two_faces_jpeg, '检测到 2 张人脸'),
    (images.grey_jpeg, '照片须为彩色照片'),
    (images.tiny_jpeg, '不能放大处理'),
])
def test_fix_refuses_what_it_cannot_fix(make, message):
    with pytest.raises(photo.ImageRejected) as err:
        photo.fix_photo(make())
    assert message in err.value.message


def test_signature_checks():
    assert photo.check_signature(images.signature_jpeg()).ok
    cases = [
        (images.signature_jpeg(size=(200, 400)), '横版'),
        (images.signature_jpeg(paper=(60, 60, 60), ink='white'), '白纸'),
        (images.signature_jpeg(strokes=False), '未检测到清晰的黑色笔迹'),
        (b'not an image', '文件内容不是有效的 JPEG或PNG 图片'),
        (b'\xff\xd8' + b'0' * (201 * 1024), '签名图片过大'),
    ]
    for data, message in cases:
        report = photo.check_signature(data)
        assert any(message in p for p in report.problems), (message, report.problems)


def test_command_line(tmp_path, capsys):
    src = tmp_path / 'me.jpg'
    src.write_bytes(images.portrait_jpeg())
    out = tmp_path / 'fixed.jpg'
    assert photo.main(['fix', str(src), str(out)]) == 0
    assert '审核成功' in capsys.readouterr().out
    assert photo.main(['check', str(out)]) == 0
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(images.no_face_jpeg())
    assert photo.main(['check', str(bad)]) == 1
    assert '未检测到正面人脸' in capsys.readouterr().out
    assert photo.main(['check', str(tmp_path / 'missing.jpg')]) == 2
    assert photo.main([]) == 2


# --- bounded cost (issue 9 §5) ----------------------------------------------------------------

def _big_portrait(size):
    """A portrait scaled up to a camera's frame (kept small in bytes: smooth content)."""
    return images._jpeg(images.portrait().resize(size, Image.BICUBIC), quality=80)


def test_a_large_jpeg_is_decoded_at_reduced_size_and_still_fixed():
    data = _big_portrait((3360, 4480))                                 # 15 MP
    rgb, colour, declared = photo._decode(data)
    assert declared == (3360, 4480)
    assert rgb.size[0] * rgb.size[1] <= declared[0] * declared[1] // 4     # draft mode: at most 1/2 per side
    assert min(rgb.size) >= min(photo.DRAFT_BOX)
    report = photo.check_photo(data)
    assert report.size == (3360, 4480) and report.faces == 1
    fixed, result = photo.fix_photo(data)
    assert result.ok and Image.open(io.BytesIO(fixed)).size == (295, 413)


def test_pixel_caps_are_checked_on_the_header(monkeypatch):
    # a PNG is decoded whole: above MAX_PIXELS it is refused before decoding
    monkeypatch.setattr(photo, 'MAX_PIXELS', 1000 * 1000)
    big_png = images.png_bytes(Image.new('RGB', (1200, 1000), 'white'))
    with pytest.raises(photo.ImageRejected) as err:
        photo.open_image(big_png, formats=('PNG',))
    assert err.value.message == '图片尺寸过大，可能是异常文件'
    # a JPEG is refused above MAX_JPEG_PIXELS (its declared size), before decoding
    data = images.portrait_jpeg()                                   # 840×1120
    monkeypatch.setattr(photo, 'MAX_JPEG_PIXELS', 500 * 500)
    loaded = []
    monkeypatch.setattr(Image.Image, 'load', lambda self, *a: loaded.append(1))
    monkeypatch.setattr(ImageFile.ImageFile, 'load', lambda self, *a: loaded.append(1))
    report = photo.check_photo(data)
    assert report.problems == ['图片尺寸过大，可能是异常文件'] and loaded == []


def test_default_caps():
    assert photo.MAX_PIXELS <= 30_000_000 < 40_000_000            # lowered from 40 MP for full decodes
    assert photo.MAX_JPEG_PIXELS >= 40_000_000                      # a 40 MP phone photo is decoded at 1/4


def test_concurrent_processing_is_capped_and_a_busy_tool_says_so(app, client):
    import threading
    app.config.update(PHOTO_MAX_CONCURRENT=1, PHOTO_BUSY_WAIT=0.05)
    held, release = threading.Event(), threading.Event()

    def hold():
        with app.app_context(), photo.processing_slot():
            held.set()
            release.wait(5)
    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert held.wait(5)
        with pytest.raises(photo.Busy):
            photo.check_photo(images.portrait_jpeg())
        r = client.post('/portal/photo-tool', data={'action': 'check', 'csrf_token': _token(client),
                                                    'file': (io.BytesIO(images.portrait_jpeg()), 'me.jpg')},
                        content_type='multipart/form-data')
        assert r.status_code == 503 and '系统繁忙' in r.get_data(as_text=True)
    finally:
        release.set()
        worker.join()
        app.config.update(PHOTO_MAX_CONCURRENT=2, PHOTO_BUSY_WAIT=5.0)
    r = client.post('/portal/photo-tool', data={'action': 'check', 'csrf_token': _token(client),
                                                'file': (io.BytesIO(images.portrait_jpeg()), 'me.jpg')},
                    content_type='multipart/form-data')
    assert r.status_code == 200 and '系统繁忙' not in r.get_data(as_text=True)


def test_photo_tool_is_rate_limited_per_client(app, client):
    from .conftest import csrf_from
    app.config['RATELIMIT_PHOTO'] = '3 per minute'
    try:
        token = csrf_from(client.get('/portal/photo-tool').get_data(as_text=True))
        codes = []
        for _ in range(4):
            r = client.post('/portal/photo-tool', data={'action': 'check', 'csrf_token': token,
                                                        'file': (io.BytesIO(images.tiny_jpeg()), 'me.jpg')},
                            content_type='multipart/form-data')
            codes.append(r.status_code)
        assert codes == [200, 200, 200, 429]
        assert r.headers.get('Retry-After') and '操作过于频繁' in r.get_data(as_text=True)
        assert client.get('/portal/photo-tool').status_code == 200        # only the processing is limited
    finally:
        app.config['RATELIMIT_PHOTO'] = '10 per minute;100 per hour'


def _token(client):
    from .conftest import csrf_from
    return csrf_from(client.get('/portal/photo-tool').get_data(as_text=True))
