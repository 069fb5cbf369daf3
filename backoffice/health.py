"""Readiness checks behind /readyz: can this process reach what it needs to serve requests?"""
import os

from flask import current_app

from models import database

from backoffice import storage


def _database():
    database.connect(reuse_if_open=True)        # the request's connection; closed at teardown
    database.execute_sql('SELECT 1').fetchone()


def _redis(url):
    import redis
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def readiness():
    """{name: {'ok': bool, 'error': str (only when not ok)}} for every dependency configured."""
    cfg = current_app.config
    checks = {'database': _database}
    redis_url = cfg.get('REDIS_URL') or os.environ.get('HUEY_REDIS_URL')
    if redis_url:
        checks['redis'] = lambda: _redis(redis_url)
    checks['storage'] = lambda: (storage.from_config(cfg, 'uploads').check(),
                                 storage.from_config(cfg, 'output').check())
    out = {}
    for name, check in checks.items():
        try:
            check()
            out[name] = {'ok': True}
        except Exception as exc:       # the probe reports, it never raises
            out[name] = {'ok': False, 'error': type(exc).__name__}
    return out
