"""Summary counters (issue 15): after random series of changes through every choke point
(transitions, the batch announcement, lapse, 依法注销, merger, 加注, printing, drafts), the stored
counters equal a full recount of the base tables; the home page and the dashboard read them."""
import datetime
import random
import re

import pytest

from backoffice.desks import dashboard
from backoffice.issuing import certificates, printing
from backoffice.workflow import lifecycle, summaries, transitions
from backoffice.workflow.states import WorkflowError
from models import (Application, Certificate, Enterprise, RefusalGround, Registration, SummaryCount,
                    database)
from reports import filters, stats

from .conftest import (actor_for, build_application, login, make_enterprise, make_person, make_registration,
                       province)

TODAY = datetime.date.today()
STATES = {
    'initial': ('draft', 'submitted', 'reported', 'accepted', 'approved'),
    'renewal': ('submitted', 'reported', 'accepted', 'approved'),
    'reregister': ('submitted', 'reported', 'accepted'),
    'addition': ('reported', 'accepted', 'approved'),
    'cancellation': ('submitted', 'reported', 'accepted'),
    'info_change': ('reported', 'accepted'),
}
ROLES = ('applicant', 'enterprise', 'acceptor', 'reviewer', 'admin')


def _diff():
    stored, real = summaries.stored(), summaries.recount()
    return {k: (stored.get(k, 0), real.get(k, 0)) for k in set(stored) | set(real) if stored.get(k, 0) != real.get(k, 0)}


def _world(rng, users):
    ents = [make_enterprise(code=c) for c in ('11', '31', '44')]
    for _ in range(14):
        bt = rng.choice(list(STATES))
        state = rng.choice(STATES[bt])
        build_application(bt, state, enterprise=rng.choice(ents),
                          accepted_by=users['acceptor'] if state in ('accepted', 'approved') else None)
    for k in range(4):                  # registered through the real path: certificates to print, 加注
        row = build_application('initial', 'approved', enterprise=ents[k % 3])
        transitions.perform_many([row.id], 'announce', users['reviewer'])
    for _ in range(3):                  # specialties expiring at different times
        make_registration(make_person(), rng.choice(ents), ('建筑工程', '市政公用工程'),
                          valid_until=TODAY + datetime.timedelta(days=rng.randrange(-20, 120)))
    return ents


def _transition(rng, users, password_hash):
    apps = list(Application.select().order_by(Application.id))
    app = rng.choice(apps)
    choices = []
    for role in ROLES:
        actor = actor_for(role, app, users, password_hash)
        choices += [(actor, t) for t in transitions.available(app, actor)
                    if t.name not in ('registry_cancel', 'registry_change')]
    if not choices:
        return 'none'
    actor, t = rng.choice(choices)
    grounds = [RefusalGround.select().order_by(RefusalGround.id).first().id]
    try:
        if t.name == 'announce' and rng.random() < 0.5:
            transitions.perform_many([app.id], 'announce', actor)
        else:
            transitions.perform(app, t.name, actor, comment='测试意见', grounds=grounds, override_reason='测试：继续办理')
    except WorkflowError:
        return f'{t.name} refused'            # rolled back: the counters must not move either
    return t.name


def _active_registration(rng):
    regs = list(Registration.select().where(Registration.state == 'active').order_by(Registration.id))
    return rng.choice(regs) if regs else None


def _step(rng, users, password_hash, ents):
    op = rng.choice(['transition'] * 6 + ['lapse', 'registry_cancel', 'download', 'print', 'draft', 'merge'])
    if op == 'transition':
        return _transition(rng, users, password_hash)
    if op == 'lapse':
        lifecycle.run_lapse(today=TODAY + datetime.timedelta(days=rng.choice([0, 30, 90, 800])))
    elif op == 'registry_cancel':
        reg = _active_registration(rng)
        if reg is not None:
            reason = lifecycle.registry_reasons()[0]
            lifecycle.cancel_by_registry(reg, users['reviewer'], [reason.id], '依法注销（测试）')
    elif op == 'download':
        reg = _active_registration(rng)
        if reg is not None and Certificate.select().where(Certificate.registration == reg.id).exists():
            try:
                certificates.download_version(reg, users['admin'], today=TODAY)
            except certificates.CertificateError:
                pass
    elif op == 'print':
        target = rng.choice(ents)
        try:
            printing.request_batch(users['admin'], target.province_id)
        except printing.PrintError:
            pass
    elif op == 'draft':
        from backoffice.intake import applications
        person = make_person()
        app = applications.start(person, 'initial')
        owner = actor_for('applicant', app, users, password_hash)
        from werkzeug.datastructures import MultiDict
        applications.save(app, MultiDict({'uscc': rng.choice(ents).uscc}), owner)
    elif op == 'merge':
        source, target = rng.sample(ents, 2)
        if Registration.select().where((Registration.enterprise == source.id)
                                       & (Registration.state == 'active')).exists():
            lifecycle.enterprises_merged(Enterprise.get_by_id(source.id), Enterprise.get_by_id(target.id),
                                         users['reviewer'], '企业合并（测试）')
    return op


@pytest.mark.parametrize('seed', [1, 2, 3, 4])
def test_counters_equal_a_full_recount_after_random_changes(seed, users, password_hash):
    rng = random.Random(seed)
    ents = _world(rng, users)
    summaries.rebuild()             # the builders above forge rows past the choke points
    assert _diff() == {}
    done = []
    for step in range(45):
        done.append(_step(rng, users, password_hash, ents))
        assert _diff() == {}, (seed, step, done[-1])
    # the series did reach the interesting places
    assert {'print', 'lapse', 'registry_cancel', 'merge', 'draft', 'download'} <= set(done), done
    assert {'accept', 'approve', 'announce'} & set(done), done


def test_a_missed_choke_point_is_seen(users):
    """The check can fail: a row changed past the choke points makes the counters differ."""
    build_application('initial', 'reported')
    summaries.rebuild()
    assert _diff() == {}
    Application.update(state='accepted').execute()
    assert _diff() != {}
    summaries.rebuild()
    assert _diff() == {}


def _queried(f, today):
    """dashboard(f) computed by the queries, not the counters."""
    approved, refused, grounds = stats.decisions(f)
    histogram, late, overdue_now = stats.processing_time(f, today)
    return {'by_month': stats.applications_by_month(f), 'approved': approved, 'refused': refused,
            'grounds': sorted(grounds, key=lambda g: (-g[1], g[0])), 'histogram': histogram, 'late': late,
            'overdue_now': overdue_now,
            'by_province': sorted(stats.registered_by_province(f), key=lambda g: (-g[1], g[0])),
            'by_specialty': stats.registered_by_specialty(f), 'expiring': stats.expiring(f, today)}


@pytest.mark.parametrize('seed', [5, 6])
def test_dashboard_from_counters_equals_the_queries(seed, users, password_hash):
    rng = random.Random(seed)
    ents = _world(rng, users)
    summaries.rebuild()
    for _ in range(30):
        _step(rng, users, password_hash, ents)
    # decision facts as a real decision records them, for the histogram and lateness
    for app in Application.select().where(Application.decided_at.is_null(False)):
        assert app.processing_days is not None or app.accepted_at is None
    for f in (filters.Filters(), filters.Filters(province_id=province('11').id),
              filters.Filters(province_id=province('31').id)):
        assert stats.summary_answers(f)
        from_counters = stats.summary_dashboard(f, TODAY)
        assert from_counters == _queried(f, TODAY), f
        assert stats.dashboard(f, TODAY) == from_counters
    assert not stats.summary_answers(filters.Filters(date_from=TODAY))
    assert stats.dashboard(filters.Filters(date_from=TODAY), TODAY)['by_month'] == stats.applications_by_month(
        filters.Filters(date_from=TODAY))


def test_home_counts_come_from_the_counters(client, users):
    for state in ('reported', 'reported', 'accepted', 'correction'):
        build_application('initial', state, accepted_by=users['acceptor'] if state == 'accepted' else None)
    late = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    Application.update(deadline=TODAY - datetime.timedelta(days=1)).where(Application.id == late.id).execute()
    summaries.rebuild()
    login(client, 'admin')
    page = client.get('/admin/').get_data(as_text=True)
    assert 'data-count="待受理 2"' in page and 'data-count="审查中 2"' in page
    assert 'data-count="已超期（审查中） 1"' in page
    assert dashboard.overdue_under_review(TODAY) == 1 and dashboard.overdue_under_review(TODAY - datetime.timedelta(days=1)) == 0
    # the page reads the counters: a row forged past the workflow is not seen until a rebuild
    Application.update(state='reported').where(Application.id == late.id).execute()
    assert 'data-count="待受理 2"' in client.get('/admin/').get_data(as_text=True)
    summaries.rebuild()
    assert 'data-count="待受理 3"' in client.get('/admin/').get_data(as_text=True)


def _to_print_on_home(client):
    m = re.search(r'data-count="待打印 (\d+) 本"', client.get('/admin/').get_data(as_text=True))
    assert m, 'no 待打印 on the provincial home'
    return int(m.group(1))


def test_provincial_home_shows_certificates_to_print(client, users):
    bj = make_enterprise(code='11')
    for _ in range(3):
        row = build_application('initial', 'approved', enterprise=bj)
        transitions.perform(row, 'announce', users['reviewer'])
    row = build_application('initial', 'approved', enterprise=make_enterprise(code='31'))
    transitions.perform(row, 'announce', users['reviewer'])
    login(client, 'provincial')                     # 北京
    real = printing.selection(province('11').id).count()
    assert real == 3 and _to_print_on_home(client) == 3
    printing.request_batch(users['provincial'], province('11').id)      # printed: nothing left
    assert printing.selection(province('11').id).count() == 0 and _to_print_on_home(client) == 0
    reg = Registration.get((Registration.province == province('11').id) & (Registration.state == 'active'))
    certificates.download_version(reg, users['admin'], today=TODAY + datetime.timedelta(days=1))   # a new version
    assert _to_print_on_home(client) == printing.selection(province('11').id).count() == 1
    other = client.application.test_client()
    login(other, 'provincial_sh')
    assert _to_print_on_home(other) == printing.selection(province('31').id).count() == 1


def test_rebuild_command(app, users):
    build_application('initial', 'reported')
    SummaryCount.delete().execute()
    runner = app.test_cli_runner()
    result = runner.invoke(args=['summaries', 'check'])
    assert result.exit_code == 1 and '不一致' in result.output
    result = runner.invoke(args=['summaries', 'rebuild'])
    assert result.exit_code == 0 and '已重建' in result.output
    if database.is_closed():
        database.connect()
    assert _diff() == {}
    result = runner.invoke(args=['summaries', 'check'])
    assert result.exit_code == 0, result.output


def test_concurrent_transitions_lose_no_count(app, users):
    """Several transitions at once (each in its own connection), two of them racing for the same
    application: the counters, changed by `n = n + ?`, still equal the recount."""
    import threading
    reported = [build_application('initial', 'reported') for _ in range(5)]
    contested = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    summaries.rebuild()
    ground = RefusalGround.select().order_by(RefusalGround.id).first().id
    jobs = [(row.id, 'accept', users['acceptor'], {}) for row in reported]
    jobs += [(contested.id, 'approve', users['reviewer'], {}),
             (contested.id, 'refuse', users['reviewer2'], {'grounds': [ground]})]
    barrier, results = threading.Barrier(len(jobs)), []

    def act(app_id, name, user, data):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                transitions.perform(app_id, name, user, comment='并发', override_reason='测试：继续办理', **data)
                results.append(name)
            except WorkflowError as exc:
                results.append(exc.kind)
            finally:
                database.close()

    threads = [threading.Thread(target=act, args=job) for job in jobs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results).count('accept') == 5 and len(results) == 7
    assert results.count('approve') + results.count('refuse') == 1         # one of the racing pair wins
    database.connect(reuse_if_open=True)
    assert _diff() == {}
    assert summaries.totals('app_state')[('accepted', '')] == 5
