"""Probes for the process manager and the load balancer (JSON, no login, no personal data).

    /healthz   the process is up and answers
    /readyz    the database, Redis (when configured) and the storage directories can be reached;
               503 when any of them cannot
    /metrics   Prometheus metrics (backoffice.metrics), only for METRICS_ALLOWED_IPS; 404 for anyone else
    /.well-known/registry-keys.json   the public keys that verify a certificate's QR payload offline
    /.well-known/registry-specialties.json   {code: name} of the specialties: names the codes of an RC2 payload
"""
from flask import Blueprint, Response, abort, current_app, jsonify, request

from backoffice import health, metrics
from backoffice.limits import limit

bp = Blueprint('health', __name__)


@bp.route('/healthz')
def healthz():
    return jsonify(status='ok')


@bp.route('/readyz')
def readyz():
    checks = health.readiness()
    ready = all(c['ok'] for c in checks.values())
    return jsonify(status='ready' if ready else 'not ready', checks=checks), (200 if ready else 503)


@bp.route('/metrics', endpoint='metrics')
def metrics_page():
    """Prometheus metrics, for the clients in METRICS_ALLOWED_IPS only (anyone else: 404, as if absent)."""
    if not metrics.allowed(request.remote_addr, current_app.config.get('METRICS_ALLOWED_IPS', '127.0.0.1,::1')):
        abort(404)
    return Response(metrics.exposition(), mimetype=None, content_type=metrics.CONTENT_TYPE)


@bp.route('/.well-known/registry-keys.json', endpoint='registry_keys')
@limit('RATELIMIT_VERIFY')
def registry_keys():
    """The Ed25519 public keys of the certificates' signed QR payload, {kid: base64 raw key}: a verifier
    checks a printed or downloaded certificate with them, offline (backoffice.issuing.signing)."""
    from backoffice.issuing import signing
    return _published(signing.public_keys())


@bp.route('/.well-known/registry-specialties.json', endpoint='registry_specialties')
@limit('RATELIMIT_VERIFY')
def registry_specialties():
    """{code: name} of every specialty: an RC2 payload names specialties by code, so a verifier without
    network keeps this document beside the keys (backoffice.issuing.signing.verify). A document of its
    own: the keys document stays {kid: key} for the clients that read it."""
    from backoffice.issuing import signing
    return _published(signing.specialty_names())


def _published(document):
    """A public document for verifiers: any site may fetch it (CORS), and caches may keep it for an hour
    (keys are only ever added: a rotation keeps the old ones published, backoffice.issuing.signing)."""
    resp = jsonify(document)
    resp.headers['Access-Control-Allow-Origin'] = '*'
    resp.headers['Cache-Control'] = 'public, max-age=3600'
    return resp
