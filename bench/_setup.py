"""Shared benchmark set-up: a fresh database and an app context in a temp folder."""
import os
import resource
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fresh_app(database_url=None):
    from backoffice import create_app
    from backoffice import db as dbmod
    from backoffice.config import Config
    from models import database

    tmp = tempfile.mkdtemp(prefix='registry-bench-')
    url = database_url or 'sqlite:///' + os.path.join(tmp, 'bench.db')
    dbmod.bind(url)
    if dbmod.is_postgres():
        with database.connection_context():
            database.execute_sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
    app = create_app(Config, DATABASE_URL=url, UPLOAD_DIR=os.path.join(tmp, 'uploads'),
                     OUTPUT_DIR=os.path.join(tmp, 'out'), SECRET_KEY='bench', SEED_DEMO=False)
    return app, tmp


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
