"""Prometheus metrics at /metrics (backoffice.metrics): allowed clients only, request latency per endpoint,
workflow transitions, SMS, queue depth, and several processes added up (multiprocess mode)."""
import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from backoffice import metrics
from backoffice.intake import sms
from backoffice.workflow.transitions import perform
from models import Job, now
from tests.conftest import actor_for, build_application

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _scrape(client, addr='127.0.0.1'):
    resp = client.get('/metrics', environ_base={'REMOTE_ADDR': addr})
    assert resp.status_code == 200, resp.status_code
    assert resp.content_type.startswith('text/plain')
    return resp.get_data(as_text=True)


def _value(text, name, **labels):
    """The sample `name` whose labels include `labels` (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_metrics_answer_404_outside_the_allowed_clients(app, client):
    assert client.get('/metrics', environ_base={'REMOTE_ADDR': '10.1.2.3'}).status_code == 404
    assert client.get('/metrics', environ_base={'REMOTE_ADDR': '192.168.0.7'}).status_code == 404
    assert client.get('/metrics', environ_base={'REMOTE_ADDR': '::1'}).status_code == 200
    app.config['METRICS_ALLOWED_IPS'] = '10.1.0.0/16, 192.168.0.7'
    try:
        assert client.get('/metrics', environ_base={'REMOTE_ADDR': '10.1.2.3'}).status_code == 200
        assert client.get('/metrics', environ_base={'REMOTE_ADDR': '192.168.0.7'}).status_code == 200
        assert client.get('/metrics', environ_base={'REMOTE_ADDR': '10.2.0.1'}).status_code == 404
        assert client.get('/metrics', environ_base={'REMOTE_ADDR': '127.0.0.1'}).status_code == 404
    finally:
        app.config['METRICS_ALLOWED_IPS'] = '127.0.0.1,::1'


def test_allowed_handles_odd_input():
    assert metrics.allowed('127.0.0.1', '127.0.0.1,::1')
    assert metrics.allowed('::ffff:127.0.0.1', '127.0.0.1')        # IPv4 seen through an IPv6 socket
    assert not metrics.allowed('', '127.0.0.1')
    assert not metrics.allowed('not-an-ip', '127.0.0.1')
    assert not metrics.allowed('127.0.0.1', 'garbage')                # a bad setting allows nobody
    assert not metrics.allowed('127.0.0.1', '')


def test_request_latency_histogram_per_endpoint(app, client):
    before = _scrape(client)
    count = _value(before, 'registry_http_request_duration_seconds_count', endpoint='health.healthz', method='GET')
    for _ in range(3):
        assert client.get('/healthz').status_code == 200
    text = _scrape(client)
    assert _value(text, 'registry_http_request_duration_seconds_count',
                  endpoint='health.healthz', method='GET') == count + 3
    assert _value(text, 'registry_http_request_duration_seconds_bucket',
                  endpoint='health.healthz', method='GET', le='+Inf') == count + 3
    assert _value(text, 'registry_http_requests_total', endpoint='health.healthz', method='GET', status='200') >= 3


def test_workflow_transition_and_queue_depth_are_counted(app, client, users, password_hash):
    before = _value(_scrape(client), 'registry_workflow_transitions_total', transition='submit')
    application = build_application('addition')
    perform(application, 'submit', actor_for('applicant', application, users, password_hash))
    Job.create(kind='export', title='导出', state='queued', created_by=users['admin'], created_at=now())
    text = _scrape(client)
    assert _value(text, 'registry_workflow_transitions_total', transition='submit') == before + 1
    assert _value(text, 'registry_queue_depth', queue='jobs_queued') == 1
    assert _value(text, 'registry_queue_depth', queue='jobs_running') == 0


def test_sms_sent_and_failed_are_counted(app, client, monkeypatch):
    text = _scrape(client)
    sent = _value(text, 'registry_sms_total', purpose='signup', status='sent')
    failed = _value(text, 'registry_sms_total', purpose='signup', status='failed')
    with app.app_context():
        sms.send_code('13700137001', 'signup')

        class Broken(sms.OutboxGateway):
            def send(self, mobile, text):
                raise sms.GatewayError('down')

        monkeypatch.setattr(sms, 'gateway', lambda: Broken(app.config))
        try:
            sms.send_code('13700137002', 'signup')
        except sms.SmsError:
            pass
    text = _scrape(client)
    assert _value(text, 'registry_sms_total', purpose='signup', status='sent') == sent + 1
    assert _value(text, 'registry_sms_total', purpose='signup', status='failed') == failed + 1


WRITER = textwrap.dedent('''
    import sys
    from backoffice import metrics
    metrics.transition('submit', int(sys.argv[1]))
    metrics.REQUEST_LATENCY.labels(endpoint='public.verify', method='GET').observe(0.02)
''')


def test_two_processes_sharing_the_multiproc_dir_are_added_up(app, client, tmp_path, monkeypatch):
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), PYTHONPATH=ROOT)
    procs = [subprocess.Popen([sys.executable, '-c', WRITER, str(n)], cwd=ROOT, env=env) for n in (2, 5)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(list(tmp_path.glob('*.db'))) >= 2                    # one file per process and kind
    monkeypatch.setenv('PROMETHEUS_MULTIPROC_DIR', str(tmp_path))
    text = _scrape(client)
    assert _value(text, 'registry_workflow_transitions_total', transition='submit') == 7
    assert _value(text, 'registry_http_request_duration_seconds_count', endpoint='public.verify', method='GET') == 2
