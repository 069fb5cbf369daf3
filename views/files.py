"""Downloads of stored materials and generated documents; every one checked by backoffice.access.

Uploaded materials are the applicants' bytes: a browser must never run them as this site's content.
Each is served with the type found at upload (never the client's), X-Content-Type-Options: nosniff
(backoffice.headers) and a sandboxing Content-Security-Policy (no script, no plugin, an opaque
origin); only verified JPEG/PNG images are shown inline (the review page displays them), every
other file (a PDF, which may carry an /OpenAction) is an attachment."""
from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required

from backoffice import access, storage
from backoffice.roles import ENTERPRISE
from backoffice.issuing import certificates, documents

from .guard import fetch_or_abort
from models import Application, Certificate, DownloadLog, Material, Registration

bp = Blueprint('files', __name__, url_prefix='/files')
UPLOAD_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
INLINE_TYPES = ('image/jpeg', 'image/png')


def _pdf(data, filename, inline=True):
    from io import BytesIO
    return send_file(BytesIO(data), mimetype='application/pdf', as_attachment=not inline,
                     download_name=filename)


@bp.route('/material/<int:material_id>')
@login_required
def material(material_id):
    row = fetch_or_abort(Material, Material.id == material_id, access.can_view_material)
    inline = row.content_type in INLINE_TYPES
    known = INLINE_TYPES + ('application/pdf',)
    try:                                    # local disk or S3 (backoffice.storage)
        response = storage.uploads().send(
            row.stored_path, mimetype=row.content_type if row.content_type in known else 'application/octet-stream',
            as_attachment=not inline, download_name=row.original_name)
    except (KeyError, storage.StorageError):
        abort(404)
    response.headers['Content-Security-Policy'] = UPLOAD_CSP
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


@bp.route('/refusal/<int:app_id>.pdf')
@login_required
def refusal_notice(app_id):
    app = fetch_or_abort(Application, Application.id == app_id, access.can_download_refusal)
    return _pdf(documents.refusal_notice_pdf(app), f'不予注册告知书-{app.number}.pdf')


@bp.route('/certificate/<serial>.pdf')
@login_required
def certificate(serial):
    cert = fetch_or_abort(Certificate, Certificate.serial == serial, access.can_download_certificate)
    data = documents.certificate_pdf(cert)
    DownloadLog.create(certificate=cert, user=current_user.id, remote_addr=request.remote_addr or '')
    return _pdf(data, f'一级建造师电子注册证书-{cert.serial}.pdf', inline=False)



@bp.route('/registration/<int:reg_id>/certificate', methods=['POST'])
@login_required
def annotate(reg_id):
    """加注: the holder or the enterprise downloads the e-certificate; each download is a new version
    (backoffice.issuing.certificates.download_version). POST with the CSRF token: a download voids the
    previous version, which no other site may trigger."""
    reg = fetch_or_abort(Registration, Registration.id == reg_id, access.can_annotate_certificate)
    try:
        cert, _new = certificates.download_version(reg, current_user, remote_addr=request.remote_addr or '')
    except certificates.CertificateError as exc:
        flash(exc.message, 'error')
        back = 'company.staff' if current_user.role == ENTERPRISE else 'portal.progress'
        return redirect(url_for(back))
    return _pdf(documents.certificate_pdf(cert), f'一级建造师电子注册证书-{cert.serial}.pdf', inline=False)
