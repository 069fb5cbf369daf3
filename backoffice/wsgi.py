"""The WSGI entry for gunicorn workers: `gunicorn -c python:backoffice.gunicorn_conf backoffice.wsgi:app`.

Each worker imports this after it has forked (no preload), so every worker opens its own
database connections and huey storage. Migrations are applied once before the workers start
(`python3 run.py` does it; in a deployment `python3 run.py migrate`), never by each worker.
"""
from backoffice import create_app

app = create_app(AUTO_MIGRATE=False)
