"""gunicorn settings (`gunicorn -c python:backoffice.gunicorn_conf backoffice.wsgi:app`).

    HOST, PORT (or BIND)   address to listen on (default 127.0.0.1:5000)
    WEB_WORKERS            worker processes (default: the CPU count, at least 2)
    WEB_THREADS            threads per worker (gthread; default 4)
    WEB_TIMEOUT            seconds before a silent worker is restarted (default 120)
"""
import os

bind = os.environ.get('BIND') or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
worker_class = 'gthread'
workers = int(os.environ.get('WEB_WORKERS') or max(2, os.cpu_count() or 1))
threads = int(os.environ.get('WEB_THREADS') or 4)
timeout = int(os.environ.get('WEB_TIMEOUT') or 120)
graceful_timeout = 10
keepalive = 5
# workers are recycled now and then (memory); the jitter keeps them from restarting together
max_requests = 5000
max_requests_jitter = 500
# the app is loaded in each worker after the fork: no database connection or huey storage is shared
preload_app = False
accesslog = '-'
errorlog = '-'
loglevel = os.environ.get('LOG_LEVEL', 'info').lower()
logger_class = 'backoffice.logs.GunicornLogger'
proc_name = 'registry-web'
# gunicorn's control socket sits at one path per user: several servers on one machine would collide
control_socket_disable = True
