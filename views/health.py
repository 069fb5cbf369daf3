"""Probes for the process manager and the load balancer (JSON, no login, no personal data).

    /healthz   the process is up and answers
    /readyz    the database, Redis (when configured) and the storage directories can be reached;
               503 when any of them cannot
"""
from flask import Blueprint, jsonify

from backoffice import health

bp = Blueprint('health', __name__)


@bp.route('/healthz')
def healthz():
    return jsonify(status='ok')


@bp.route('/readyz')
def readyz():
    checks = health.readiness()
    ready = all(c['ok'] for c in checks.values())
    return jsonify(status='ready' if ready else 'not ready', checks=checks), (200 if ready else 503)
