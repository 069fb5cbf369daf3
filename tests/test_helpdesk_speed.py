"""Helpdesk lookup (issue 15): the queries one lookup runs are counted and bounded, whatever the
number of the person's applications (no query per application); the answer stays complete."""
import datetime

import pytest

from backoffice.desks import helpdesk
from backoffice.intake import applications
from backoffice.workflow import transitions
from models import Application, Person, RefusalGround

from .conftest import TEST_DATABASE, build_application, counted_queries, login, make_enterprise, make_person, make_registration

TODAY = datetime.date.today()


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


# the user (Flask-Login), then backoffice.desks.helpdesk's: the person (read by ID number) with the
# active registration with its enterprise, province and specialties plus the person's one-of facts
# (verified mobile, lapsed registration, external registration, sanction), and the lookup log's INSERT
# (on PostgreSQL written by the same statement); the applications with their enterprises and every
# timeline, with the qualifications and their specialties. One more only for the grounds of a refused
# latest application. (Before issue 15: 11 queries, 12 with the grounds; 5 before the INSERT and the
# qualifications were folded in.)
LIMIT = 3 if TEST_DATABASE.startswith('postgres') else 4


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
    # the timelines read with the applications are the ones intake.applications gives
    expected = applications.timelines(list(Application.select().where(Application.person == person)))
    assert {item['app'].id: item['timeline'] for item in summary['applications']} == expected
    grounds = summary['applications'][0]['app'].state == 'refused'
    assert len(seen) <= LIMIT + grounds, '\n'.join(seen)
    assert len([q for q in seen if 'FROM "refusal_ground"' in q]) == grounds, '\n'.join(seen)
    assert not [q for q in seen if 'FROM "specialty"' in q or 'FROM "enterprise"' in q], 'a lazy load per row'


def test_lookup_answers_from_its_facts_query(client, users):
    """The one query of the person's facts still tells the lapsed registration, the external
    registration, the running ban and the verified mobile apart (no query of their own)."""
    from models import ExternalRegistration, Registration, Sanction
    person = make_person()
    lapsed = make_registration(person, make_enterprise(), ('建筑工程',), valid_until=TODAY - datetime.timedelta(days=1))
    Registration.update(state='lapsed', lapsed_on=TODAY - datetime.timedelta(days=1), end_reason='expired').where(
        Registration.id == lapsed.id).execute()
    make_registration(person, make_enterprise(), state='cancelled')      # a later one, not lapsed
    ExternalRegistration.create(id_number=person.id_number, name=person.name, category='二级建造师',
                                reg_number='R9', enterprise_name='外省公司')
    Sanction.create(person=person, kind='concealment', starts_on=TODAY - datetime.timedelta(days=3),
                    ends_on=TODAY + datetime.timedelta(days=300))
    login(client, 'helpdesk')
    seen, page = _lookup_queries(client, person)
    assert len(seen) <= LIMIT, '\n'.join(seen)
    for text in ('禁止申请期', '外省公司', lapsed.number, '无有效注册'):
        assert text in page, text
    answers = helpdesk.person_summary(person)['answers']
    assert '禁止申请期' in answers[0] and any('失效' in a for a in answers)
    # a lookup by ID number reads the person with these facts in one statement: the same summary
    [found] = helpdesk._people_with_facts(person.id_number, TODAY)
    assert found.__data__ == Person.get_by_id(person.id).__data__
    assert helpdesk.person_summary(found, TODAY) == helpdesk.person_summary(Person.get_by_id(person.id), TODAY)
    # facts read on another day are not reused
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert helpdesk.person_summary(found, tomorrow) == helpdesk.person_summary(Person.get_by_id(person.id), tomorrow)
    assert helpdesk._people_with_facts('11010519491231002X', TODAY) == []


@pytest.mark.parametrize('n_apps', [1, 5])
def test_applicant_progress_runs_the_same_queries_whatever_the_number_of_applications(client, users, password_hash,
                                                                                      n_apps):
    """The applicant's progress page reads every timeline in one query (it read one per application)
    and the unread count composed once; each application still shows its own timeline."""
    from .conftest import make_user
    person = _person_with_history(users, n_apps)
    make_user(f'progress{n_apps}', password_hash, role='applicant', person=person)
    login(client, f'progress{n_apps}')
    client.get('/portal/progress')
    with counted_queries() as seen:
        page = client.get('/portal/progress').get_data(as_text=True)
    for app in Application.select().where(Application.person == person):
        assert app.number in page
        for _at, _who, step, _comment in applications.timeline(app):
            assert step in page
    events = [sql for sql in seen if '"audit_event"' in sql]
    assert len(events) == 1, events
    # the user, the applications, their timelines, the unread count, and per registration its certificate
    # versions: nothing per application
    assert len(seen) <= 5, seen
