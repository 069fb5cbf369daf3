"""The photo processing tool on a real portrait and on bad images; the signature check."""
import io

import numpy as np
import pytest
from PIL import Image

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
