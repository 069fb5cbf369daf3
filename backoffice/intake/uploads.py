"""Uploaded materials: checked by content, never by file name; stored through backoffice.storage
(UPLOAD_DIR on local disk, or S3)."""
import hashlib

from models import MATERIAL_KINDS, Material, database, now

from backoffice import storage
from backoffice.intake import photo

MAX_BYTES = 10 * 1024 * 1024
SINGLE_KINDS = ('photo', 'signature', 'id_front', 'id_back', 'contract', 'continuing_education', 'change_proof',
                'commitment')
# kinds the applicant uploads (the commitment PDF is generated at submission)
APPLICANT_KINDS = [k for k in MATERIAL_KINDS if k != 'commitment']


class UploadError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def sniff(data):
    """(content type, extension) from the bytes, or None."""
    if data[:3] == b'\xff\xd8\xff':
        return 'image/jpeg', 'jpg'
    if data[:8] == b'\x89PNG\r\n\x1a\n':
        return 'image/png', 'png'
    if data[:5] == b'%PDF-':
        return 'application/pdf', 'pdf'
    return None


def _check(kind, data):
    """Return (content type, extension, check result text) or raise UploadError."""
    if not data:
        raise UploadError('请选择要上传的文件', kind)
    if len(data) > MAX_BYTES:
        raise UploadError(f'文件过大（{len(data) // 1024 // 1024} MB），不能超过 10 MB', kind)
    found = sniff(data)
    if kind == 'photo':
        try:
            report = photo.check_photo(data)
        except photo.Busy as exc:
            raise UploadError(exc.message, kind) from None
        if not report.ok:
            raise UploadError('照片未通过照片处理工具审核：' + report.message, kind)
        return 'image/jpeg', 'jpg', report.message
    if kind == 'signature':
        report = photo.check_signature(data)
        if not report.ok:
            raise UploadError('个人签名不符合要求：' + report.message, kind)
        return found[0], found[1], '符合要求'
    if found is None:
        raise UploadError('文件内容不是 JPG、PNG 图片或 PDF 文件（请勿仅修改文件扩展名）', kind)
    if found[0].startswith('image/'):
        try:
            photo.open_image(data, formats=('JPEG', 'PNG'), max_bytes=MAX_BYTES)
        except photo.ImageRejected as exc:
            raise UploadError(exc.message, kind) from None
    elif b'%%EOF' not in data[-2048:]:
        raise UploadError('PDF 文件不完整或已损坏', kind)
    return found[0], found[1], ''


def save_material(app, kind, filename, data):
    """Check and store one file for an application; replaces the previous file of a single kind."""
    if kind not in MATERIAL_KINDS:
        raise UploadError('材料类型无效', kind)
    content_type, ext, result = _check(kind, data)
    digest = hashlib.sha256(data).hexdigest()
    rel = f'{app.id}/{kind}-{digest[:16]}.{ext}'
    storage.uploads().put_bytes(rel, data, content_type)      # local disk or S3 (backoffice.storage)
    with database.atomic():
        if kind in SINGLE_KINDS:
            Material.delete().where((Material.application == app) & (Material.kind == kind)).execute()
        return Material.create(application=app, kind=kind, original_name=(filename or f'{kind}.{ext}')[-200:],
                               stored_path=rel, size=len(data), content_type=content_type, sha256=digest,
                               check_result=result, uploaded_at=now())
