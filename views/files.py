"""Downloads of stored materials and generated documents; every one checked by backoffice.access."""
import os

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user, login_required

from backoffice import access
from backoffice.issuing import documents

from .guard import fetch_or_abort
from models import Application, Certificate, DownloadLog, Material

bp = Blueprint('files', __name__, url_prefix='/files')


def _pdf(data, filename, inline=True):
    from io import BytesIO
    return send_file(BytesIO(data), mimetype='application/pdf', as_attachment=not inline,
                     download_name=filename)


@bp.route('/material/<int:material_id>')
@login_required
def material(material_id):
    row = fetch_or_abort(Material, Material.id == material_id, access.can_view_material)
    root = os.path.realpath(current_app.config['UPLOAD_DIR'])
    path = os.path.realpath(os.path.join(root, row.stored_path))
    if not path.startswith(root + os.sep) or not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype=row.content_type, download_name=row.original_name)


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
