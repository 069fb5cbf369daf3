"""Helpdesk lookup (issue 15): the queries one lookup runs are counted and bounded, whatever the
number of the person's applications (no query per application); the answer stays complete."""
import contextlib
import datetime

import pytest

from backoffice.desks import helpdesk
from backoffice.workflow import transitions
from models import RefusalGround, database

from .conftest import build_application, login, make_enterprise, make_person, make_registration

TODAY = datetime.date.today()


@contextlib.contextmanager
def counted_queries():
    """Every SQL statement run meanwhile: [sql]."""
    db = database.obj
    seen = []
    original = db.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield seen
    finally:
        del db.execute_sql


def _person_with_history(users, n_apps):
    ent = make_enterprise()
    person = make_person()
    make_registration(person, ent, ('建筑工程', '市政公用工程'), valid_until=TODAY + datetime.timedelta(days=60))
    ground = RefusalGround.select().order_by(RefusalGround.id).first()
    for k in range(n_apps):
        row = build_application('addition', 'accepted', person=person, enterprise=ent,
                                accepted_by=users['acceptor'], specialties=['机电工程'])
        if k % 2 == 0:
            transitions.perform(row, 'refuse', users['reviewer'], comment='不予', grounds=[ground.id])
    return person


def _lookup_queries(client, person):
    client.get('/admin/helpdesk/')              # session, user: warmed before counting
    with counted_queries() as seen:
        page = client.get('/admin/helpdesk/', query_string={'q': person.id_number}).get_data(as_text=True)
    assert 'person-summary' in page and person.name in page
    return seen, page


# the user (Flask-Login), the person, the lookup log, the registration with its enterprise and province,
# its specialties, the applications with their enterprises, every timeline, the qualifications with
# their specialties, the verified mobile, the external registration, the refusal grounds, a sanction
LIMIT = 12


@pytest.mark.parametrize('n_apps', [1, 6])
def test_lookup_runs_a_bounded_number_of_queries(client, users, n_apps):
    person = _person_with_history(users, n_apps)
    login(client, 'helpdesk')
    seen, page = _lookup_queries(client, person)
    # the page is still complete: every application with its own timeline, the refusal's grounds
    summary = helpdesk.person_summary(person)
    assert len(summary['applications']) == n_apps
    for item in summary['applications']:
        refused = item['app'].state == 'refused'
        assert [step for _t, _who, step, _c in item['timeline']] == ['创建申请'] + (['不予注册'] if refused else [])
        assert item['app'].number in page
    assert ('不予注册，依据' in page) == (summary['applications'][0]['app'].state == 'refused')
    assert len(seen) <= LIMIT, '\n'.join(seen)
    assert not [q for q in seen if 'FROM "specialty"' in q or 'FROM "enterprise"' in q], 'a lazy load per row'
