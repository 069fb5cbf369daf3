"""Migrations build the schema; the demo generator is complete and idempotent."""
import collections

from stdnum.cn import ric, uscc

from backoffice import db as dbmod
from backoffice.workflow import transitions, states
from models import (ALL_MODELS, Application, AuditEvent, Enterprise, Person, Province, Qualification,
                    RefusalGround, Registration, Specialty, User, database)
from seed.demo import DEMO_ACCOUNTS, generate
from seed.reference import load_reference


def test_migrations_are_recorded_and_idempotent(app):
    applied = {n for (n,) in database.execute_sql('SELECT name FROM schema_migration').fetchall()}
    assert '0001_initial' in applied
    assert dbmod.migrate() == []                          # nothing pending
    for model in ALL_MODELS:
        assert database.table_exists(model._meta.table_name), model


def test_one_active_registration_per_person_is_enforced_by_the_database():
    import peewee as pw
    import pytest
    from .conftest import make_enterprise, make_person, make_registration
    person = make_person()
    make_registration(person, make_enterprise())
    with pytest.raises(pw.IntegrityError):
        with database.atomic():
            make_registration(person, make_enterprise())


def test_reference_data():
    load_reference()                                      # twice: no duplicates
    assert Province.select().count() == 31
    assert Specialty.select().count() == 10
    assert RefusalGround.select().count() == 12          # Art. 15 grounds and Art. 33 (false materials)
    joint = {s.name for s in Specialty.select().where(Specialty.joint_review == True)}  # noqa: E712
    assert joint == {'铁路工程', '公路工程', '港口与航道工程', '水利水电工程', '通信与广电工程', '民航机场工程'}
    assert Province.get(Province.code == '11').abbr == '京'


def test_demo_data_is_complete_valid_and_idempotent():
    counts = generate(600)
    assert counts['persons'] == 600
    snapshot = {m.__name__: m.select().count() for m in ALL_MODELS}
    again = generate(600)
    assert again['persons'] == 0 and again['applications'] == 0
    assert {m.__name__: m.select().count() for m in ALL_MODELS} == snapshot
    # every person's ID number and every enterprise's USCC is valid
    for p in Person.select():
        ric.validate(p.id_number)
    for e in Enterprise.select():
        uscc.validate(e.uscc)
    assert Enterprise.select().where(Enterprise.verified == False).count() > 0  # noqa: E712
    assert Qualification.select().where(Qualification.person.is_null()).count() == 0
    # every state reachable by each business type is present
    present = collections.defaultdict(set)
    for bt, st in Application.select(Application.business_type, Application.state).tuples():
        present[bt].add(st)
    for bt in states.BUSINESS_TYPES:
        reachable = {t.target for t in transitions.transitions_for(bt)} | {'draft'}
        assert reachable <= present[bt], (bt, reachable - present[bt])
    # audit trails follow the workflow table
    for app_row in Application.select().where(Application.state == 'announced').limit(20):
        events = list(AuditEvent.select().where(AuditEvent.application == app_row).order_by(AuditEvent.id))
        assert events[0].from_state == 'draft' and events[-1].to_state == 'announced'
        for e in events:
            assert transitions.get_transition(e.action, app_row.business_type) is not None
    # one account per role
    roles = {u.role for u in User.select()}
    assert roles == {r for _, _, r, _, _ in DEMO_ACCOUNTS}
    numbers = [r.number for r in Registration.select()]
    assert len(numbers) == len(set(numbers))


def test_larger_second_run_adds_only_new_persons():
    generate(300)
    before = Person.select().count()
    counts = generate(400)
    assert counts['persons'] == 100
    assert Person.select().count() == before + 100
    cores = [p.reg_core for p in Person.select() if p.reg_core]
    assert len(cores) == len(set(cores))


def test_migration_0027_dates_the_direct_submissions_as_reported(app):
    """增项 / 信息修改 submitted before the workflow stamped their 上报 take their submission time; others
    and those already dated keep theirs."""
    import datetime
    import importlib.util
    import os
    from .conftest import build_application
    path = os.path.join(dbmod.MIGRATIONS_DIR, '0027_reported_at_of_direct_submissions.py')
    spec = importlib.util.spec_from_file_location('m0027', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sent, dated, other = (build_application('addition', 'reported'), build_application('info_change', 'reported'),
                          build_application('initial', 'submitted'))
    at, kept = datetime.datetime(2026, 5, 6, 7, 8, 9), datetime.datetime(2026, 5, 1, 8)
    Application.update(submitted_at=at, reported_at=None).where(Application.id.in_([sent.id, other.id])).execute()
    Application.update(submitted_at=at, reported_at=kept).where(Application.id == dated.id).execute()
    module.up(None, dbmod.database)
    assert Application.get_by_id(sent.id).reported_at == at
    assert Application.get_by_id(dated.id).reported_at == kept
    assert Application.get_by_id(other.id).reported_at is None
