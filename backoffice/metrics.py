"""Prometheus metrics: every metric object of the application lives here (a wiring module).

    registry_http_request_duration_seconds{endpoint,method}   request latency per Flask endpoint
    registry_http_requests_total{endpoint,method,status}       requests answered, by status code
    registry_job_duration_seconds{kind,outcome}                background job run time (done / failed)
    registry_queue_depth{queue}                                jobs queued / running, SMS outbox rows due
                                                               (read from the database at scrape time)
    registry_workflow_transitions_total{transition}            workflow transitions fired, by name
    registry_sms_total{purpose,status}                         SMS handed to the gateway: sent / failed

Several processes (gunicorn workers, job consumers): when PROMETHEUS_MULTIPROC_DIR is set before
prometheus_client is first imported, every process writes its values to files in that directory and
`exposition()` adds them up (prometheus_client's multiprocess mode; backoffice/gunicorn_conf.py sets
the directory up and marks dead workers). Without it, one process: the default registry.

/metrics itself is views/health.py; who may read it is METRICS_ALLOWED_IPS (`allowed`).
"""
import ipaddress
import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUEST_LATENCY = Histogram(
    'registry_http_request_duration_seconds', 'Request latency by Flask endpoint', ['endpoint', 'method'],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
REQUESTS = Counter('registry_http_requests_total', 'Requests answered, by endpoint and status',
                   ['endpoint', 'method', 'status'])
JOB_DURATION = Histogram(
    'registry_job_duration_seconds', 'Background job run time by kind and outcome', ['kind', 'outcome'],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
WORKFLOW_TRANSITIONS = Counter('registry_workflow_transitions_total', 'Workflow transitions fired, by name',
                               ['transition'])
SMS = Counter('registry_sms_total', 'SMS handed to the gateway, by purpose and result', ['purpose', 'status'])

CONTENT_TYPE = CONTENT_TYPE_LATEST


# --- recording (called from the capability packages; never raises into them) -----------------

def transition(name, count=1):
    WORKFLOW_TRANSITIONS.labels(transition=name).inc(count)


def sms(purpose, status):
    SMS.labels(purpose=purpose or '', status=status).inc()


def job(kind, outcome, seconds):
    JOB_DURATION.labels(kind=kind, outcome=outcome).observe(max(0.0, seconds))


# --- the request histogram ----------------------------------------------------------------------

def init_app(app):
    from flask import g, request

    @app.before_request
    def _metrics_start():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _metrics_observe(response):
        started = g.pop('_metrics_started', None)
        if started is not None:
            # the endpoint name, never the path: ids in paths would make a label per record
            endpoint = request.endpoint or 'unmatched'
            REQUEST_LATENCY.labels(endpoint=endpoint, method=request.method).observe(time.perf_counter() - started)
            REQUESTS.labels(endpoint=endpoint, method=request.method, status=str(response.status_code)).inc()
        return response


# --- who may read /metrics ------------------------------------------------------------------------

def _networks(setting):
    items = setting.split(',') if isinstance(setting, str) else list(setting or ())
    nets = []
    for item in items:
        item = str(item).strip()
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return nets


def allowed(remote_addr, setting):
    """Is `remote_addr` in METRICS_ALLOWED_IPS (addresses or networks, comma-separated or a list)?"""
    try:
        addr = ipaddress.ip_address((remote_addr or '').strip())
    except ValueError:
        return False
    if getattr(addr, 'ipv4_mapped', None):
        addr = addr.ipv4_mapped
    try:
        nets = _networks(setting)
    except ValueError:
        return False
    return any(addr.version == net.version and addr in net for net in nets)


# --- exposition -----------------------------------------------------------------------------------

class _QueueCollector:
    """Queue depth read from the database when scraped: the same figure from whichever process answers."""

    def collect(self):
        family = GaugeMetricFamily('registry_queue_depth', 'Rows waiting or running in each queue', labels=['queue'])
        from models import Job, Notification
        family.add_metric(['jobs_queued'], Job.select().where(Job.state == 'queued').count())
        family.add_metric(['jobs_running'], Job.select().where(Job.state == 'running').count())
        family.add_metric(['sms_outbox'], Notification.select().where(
            (Notification.channel == 'sms') & Notification.state.in_(('queued', 'retrying'))).count())
        yield family


def multiprocess_dir():
    return os.environ.get('PROMETHEUS_MULTIPROC_DIR') or None


def exposition():
    """The text Prometheus scrapes: every process's metrics (multiprocess mode) plus the queue depth."""
    if multiprocess_dir():
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    queues = CollectorRegistry()
    queues.register(_QueueCollector())
    return generate_latest(registry) + generate_latest(queues)
