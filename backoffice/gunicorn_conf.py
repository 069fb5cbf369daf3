"""gunicorn settings (`gunicorn -c python:backoffice.gunicorn_conf backoffice.wsgi:app`).

    HOST, PORT (or BIND)   address to listen on (default 127.0.0.1:5000)
    WEB_WORKERS            worker processes (default: the CPU count, at least 2)
    WEB_THREADS            threads per worker (gthread; default 2)
    WEB_MAX_REQUESTS       requests after which a worker is replaced (default 100000, ±10 %)
    WEB_REUSE_PORT         1 (default): each worker listens on a socket of its own (SO_REUSEPORT)
    WEB_TIMEOUT            seconds before a silent worker is restarted (default 120)
    PROMETHEUS_MULTIPROC_DIR  where every process writes its metric values (backoffice.metrics); unset:
                           a fresh directory per run, removed at exit. Give the job consumer the same
                           directory to see its job durations in /metrics.
"""
import glob
import os
import shutil
import sys
import tempfile

bind = os.environ.get('BIND') or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
worker_class = 'gthread'
workers = int(os.environ.get('WEB_WORKERS') or max(2, os.cpu_count() or 1))
# 2 threads: with 4 the threads of a worker contend for Python's GIL; bench/load_bench.py's mixed
# workload on PostgreSQL did 280 requests/s with 4 threads, 370 with 2 (2 workers, 2 cores)
threads = int(os.environ.get('WEB_THREADS') or 2)
timeout = int(os.environ.get('WEB_TIMEOUT') or 120)
graceful_timeout = 10
keepalive = 5
# workers are recycled now and then (memory); the jitter keeps them from restarting together. Rarely:
# a worker loads the app again (about 1.2 s of CPU), and at 5,000 requests the verification
# benchmark restarted each worker every few seconds
max_requests = int(os.environ.get('WEB_MAX_REQUESTS') or 100000)
max_requests_jitter = max_requests // 10
# the app is loaded in each worker after the fork: no database connection or huey storage is shared
preload_app = False
accesslog = '-'
errorlog = '-'
loglevel = os.environ.get('LOG_LEVEL', 'info').lower()
logger_class = 'backoffice.logs.GunicornLogger'
proc_name = 'registry-web'
# gunicorn's control socket sits at one path per user: several servers on one machine would collide
control_socket_disable = True


# --- Prometheus multiprocess mode (backoffice.metrics) ---------------------------------------------
# Set here, at import, in the master: prometheus_client picks its value class when first imported, and
# the workers (forked later, app loaded after the fork) must all write to files in this directory.
_created_metrics_dir = None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_metrics_dir(path):
    """Create `path`, and drop the files of processes that are gone (an earlier run's workers)."""
    os.makedirs(path, exist_ok=True)
    for name in glob.glob(os.path.join(path, '*.db')):
        pid = os.path.basename(name)[:-3].rsplit('_', 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            os.remove(name)


if os.environ.get('PROMETHEUS_MULTIPROC_DIR'):
    prepare_metrics_dir(os.environ['PROMETHEUS_MULTIPROC_DIR'])
else:
    _created_metrics_dir = tempfile.mkdtemp(prefix='registry-metrics-')
    os.environ['PROMETHEUS_MULTIPROC_DIR'] = _created_metrics_dir
if 'prometheus_client' in sys.modules:       # imported before the directory was set: single-process values
    sys.stderr.write('warning: prometheus_client imported before PROMETHEUS_MULTIPROC_DIR was set\n')


def child_exit(server, worker):
    """A worker died or was recycled: its live gauges go; its counters and histograms stay counted."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _created_metrics_dir:
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)



# --- one listening socket per worker (SO_REUSEPORT) -------------------------------------------------
# With one shared listening socket the worker that wakes first accepts a whole burst of new
# connections: with kept-alive connections (a load balancer's upstream pool, bench/load_bench.py) one
# worker served all of them on one core while the other sat idle (measured: /healthz 1,000 req/s with
# one worker busy, 2,100 with both). With reuse_port each worker opens a socket of its own bound to the
# address (gunicorn does this itself when reuse_port is set), and the kernel spreads new connections over
# them. A worker that exits takes its socket with it: connections the kernel had queued on it but the
# worker had not yet accepted are reset, which is why workers are recycled rarely (max_requests).
# WEB_REUSE_PORT=0 goes back to the one shared socket; a Unix socket (BIND=unix:…) always has one.
reuse_port = os.environ.get('WEB_REUSE_PORT', '1') == '1' and not bind.startswith(('unix:', 'fd://'))
