"""The staff application page (issue 15): the queries one GET /admin/application/details/ runs are
counted and bounded, whatever the number of its audit events, materials, qualifications, specialties
and joint-review opinions (no query per row, each automatic check run once); the page stays complete."""
import datetime

import pytest

from backoffice import audit
from backoffice.workflow import joint_review
from models import JointReviewerSpecialty

from .conftest import (add_material, build_application, counted_queries, login, make_enterprise, make_person, make_registration,
                       make_user, specialty)

TODAY = datetime.date.today()

# the user (Flask-Login); the application with its person, enterprise and province; the audit events
# with their actors; the qualifications with their specialties; the chosen specialties; the materials;
# the refusal grounds with the chosen ones; the joint-review opinions with specialty and reviewer; and
# one query each for the automatic checks that read the database (sanction, the active registration
# with its enterprise and specialties, another open application, the national platform)
LIMIT = 12

JOINT = ('公路工程', '铁路工程', '港口与航道工程', '水利水电工程')
PLAIN = ('建筑工程', '市政公用工程', '矿业工程', '机电工程')
MATERIALS = ('id_front', 'id_back', 'contract', 'education', 'other')


def _renewal_with_history(users, password_hash, n):
    """An accepted 延续注册 with n joint-review and n other specialties, n extra materials, n audit events
    by n different staff members and opinions returned on its joint review: every list the page draws."""
    names = PLAIN[:n] + JOINT[:n]
    person = make_person(qualifications=names)
    ent = make_enterprise()
    make_registration(person, ent, names, valid_until=TODAY + datetime.timedelta(days=60))
    app = build_application('renewal', 'accepted', person=person, enterprise=ent,
                            accepted_by=users['acceptor'], specialties=list(names))
    for kind in MATERIALS[:n]:
        add_material(app, kind)
    for k in range(n):
        staff = make_user(f'staff{n}_{k}', password_hash, role='supervisor', name=f'检查员{k}')
        audit.record('note', application=app.id, object_id=app.id, actor=staff, actor_role=staff.role,
                     from_state=app.state, to_state=app.state, comment=f'核对记录{k}')
    for name in JOINT[:n]:
        JointReviewerSpecialty.create(user=users['joint_reviewer'], specialty=specialty(name))
    for row in joint_review.send(app, users['reviewer'], today=TODAY):
        joint_review.record_opinion(row.id, users['joint_reviewer'], 'disagree', f'意见{row.specialty.name}')
    return app


def _page_queries(client, app_id):
    client.get(f'/admin/application/details/?id={app_id}')         # session warmed before counting
    with counted_queries() as seen:
        r = client.get(f'/admin/application/details/?id={app_id}')
    assert r.status_code == 200
    return seen, r.get_data(as_text=True)


@pytest.mark.parametrize('n', [1, 4])
def test_application_page_runs_a_bounded_number_of_queries(client, users, password_hash, n):
    app = _renewal_with_history(users, password_hash, n)
    login(client, 'reviewer')
    seen, page = _page_queries(client, app.id)
    # the page is complete: every row of every list, the checks, the decision forms
    for k in range(n):
        assert f'检查员{k}' in page and f'核对记录{k}' in page
        assert f'意见{JOINT[k]}' in page
    for q in app.person.qualifications:
        assert q.cert_number in page
    assert page.count('class="border rounded p-2 mr-2 mb-2 material"') == 3 + n
    assert '自动核查' in page and 'id="decide-approve"' in page and 'id="decide-refuse"' in page
    assert '会审意见' in page and 'joint-opinions' in page
    assert len(seen) <= LIMIT, '\n'.join(seen)
    assert not [q for q in seen if 'FROM "user" AS "t1" WHERE ("t1"."id" = ' in q][1:], \
        'a user read per row'


def test_application_page_queries_do_not_grow_with_its_rows(client, users, password_hash):
    login(client, 'reviewer')
    small, _page = _page_queries(client, _renewal_with_history(users, password_hash, 1).id)
    JointReviewerSpecialty.delete().execute()
    big, _page = _page_queries(client, _renewal_with_history(users, password_hash, 4).id)
    assert len(big) == len(small), '\n'.join(big)


@pytest.mark.parametrize('business_type,state,role', [
    ('initial', 'accepted', 'reviewer'), ('initial', 'reported', 'acceptor'), ('addition', 'accepted', 'reviewer'),
    ('renewal', 'reported', 'acceptor'), ('reregister', 'accepted', 'reviewer'),
    ('cancellation', 'reported', 'acceptor'), ('info_change', 'accepted', 'reviewer'),
    ('initial', 'refused', 'supervisor'), ('initial', 'approved', 'admin'),
])
def test_every_kind_of_application_page_is_bounded(client, users, business_type, state, role):
    app = build_application(business_type, state, accepted_by=users['acceptor'])
    login(client, role)
    seen, page = _page_queries(client, app.id)
    assert app.number in page and '自动核查' in page
    assert len(seen) <= LIMIT, '\n'.join(seen)


def test_the_application_page_composes_no_query_while_it_answers(client, users, password_hash, monkeypatch):
    """Every statement of the application page, the automatic checks' included, is composed once and
    reused (db.Prepared): composing a query in peewee cost about as much as running it. A statement
    composed per request goes through peewee's Database.execute; a prepared one does not."""
    from models import Sanction, database
    app = _renewal_with_history(users, password_hash, 2)
    Sanction.create(person=app.person, kind='concealment', starts_on=TODAY - datetime.timedelta(days=400),
                    ends_on=TODAY - datetime.timedelta(days=1))                   # over: read, not shown
    login(client, 'reviewer')
    client.get(f'/admin/application/details/?id={app.id}')
    composed = []
    real = type(database.obj).execute

    def spy(self, query, *args, **kwargs):
        composed.append(type(query).__name__)
        return real(self, query, *args, **kwargs)
    monkeypatch.setattr(type(database.obj), 'execute', spy)
    page = client.get(f'/admin/application/details/?id={app.id}').get_data(as_text=True)
    assert '自动核查' in page and '不得申请注册' not in page
    assert composed == []
