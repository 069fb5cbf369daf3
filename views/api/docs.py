"""The API's documentation page (Swagger UI from the swagger-ui-bundle package, served from here:
nothing from a CDN) and the JSON 404 / 405 for any other address under /api/v1."""
import os

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from werkzeug.exceptions import MethodNotAllowed, NotFound

from backoffice.limits import limit

bp = Blueprint('api_docs', __name__, url_prefix='/api/v1')
_FILES = ('swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'favicon-16x16.png')


def _swagger_dir():
    from swagger_ui_bundle import swagger_ui_path
    return os.fspath(swagger_ui_path)


@bp.route('/docs')
@limit('RATELIMIT_PUBLIC_PAGES')
def index():
    return render_template('api/docs.html')


@bp.route('/docs/static/<name>')
def asset(name):
    if name not in _FILES:
        abort(404)
    return send_from_directory(_swagger_dir(), name, max_age=86400)


ALL_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')


@bp.route('/', methods=ALL_METHODS)
def root():
    raise NotFound()


@bp.route('/<path:rest>', methods=ALL_METHODS)
def unknown(rest):
    """No API route matched: 405 when the address exists for another method, else 404 (JSON)."""
    adapter = current_app.url_map.bind('')
    for method in ('GET', 'POST'):
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except (NotFound, MethodNotAllowed):
            continue
        except Exception:
            continue
        if endpoint != 'api_docs.unknown':
            raise MethodNotAllowed()
    raise NotFound()
