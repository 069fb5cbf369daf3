"""Working days from the official calendar (holidays and 调休), the fallback, and the clocks by step."""
import datetime

from backoffice.workflow import calendar
from backoffice.workflow.transitions import perform
from models import Application
from tests.conftest import actor_for, build_application


def test_official_holidays_and_adjusted_working_weekends():
    # 2026 National Day: 1–7 October off; Saturday 14 February 2026 worked (Spring Festival 调休)
    assert not calendar.is_workday(datetime.date(2026, 10, 1))
    assert calendar.is_workday(datetime.date(2026, 2, 14))
    # from Wednesday 30 September 2026, one working day later is Thursday 8 October
    assert calendar.add_working_days(datetime.date(2026, 9, 30), 1) == datetime.date(2026, 10, 8)
    assert calendar.working_days_between(datetime.date(2026, 9, 30), datetime.date(2026, 10, 8)) == 1


def test_an_uncovered_year_falls_back_to_weekdays_and_configured_holidays():
    year = max(y for y in range(2026, 2040) if not calendar.covers(y) and calendar.covers(y - 1)) \
        if not calendar.covers(2040) else None
    assert year is not None
    friday = datetime.date(year, 1, 1)
    while friday.weekday() != 4:
        friday += datetime.timedelta(days=1)
    monday = friday + datetime.timedelta(days=3)
    assert calendar.add_working_days(friday, 1) == monday
    assert calendar.add_working_days(friday, 1, [monday.isoformat()]) == monday + datetime.timedelta(days=1)
    assert year in calendar.uncovered_years(datetime.date(year - 1, 12, 1))


def test_admin_home_warns_when_next_year_is_not_covered(app, client, users, monkeypatch):
    from tests.conftest import login
    monkeypatch.setattr(calendar, 'covers', lambda year: year < 2027)
    monkeypatch.setattr(calendar, 'uncovered_years', lambda today=None: [2027])
    assert login(client, 'admin').status_code == 302
    assert '尚未包含 2027 年' in client.get('/admin/').get_data(as_text=True)
    other = app.test_client()
    assert login(other, 'acceptor').status_code == 302
    assert '尚未包含' not in other.get('/admin/').get_data(as_text=True)


def test_acceptance_is_due_five_working_days_after_reporting(users, password_hash):
    app = build_application('initial', 'submitted')
    monday = datetime.date(2026, 11, 23)
    reported = perform(app, 'report', actor_for('enterprise', app, users, password_hash), today=monday)
    assert reported.deadline == datetime.date(2026, 11, 30)           # Mon + 5 working days
    accepted = perform(reported, 'accept', users['acceptor'], today=monday)
    assert accepted.deadline == calendar.add_working_days(monday, 20)


def test_renewal_timings_are_settings(app, users):
    app.config['RENEWAL_DECISION_WORKING_DAYS'] = 10
    try:
        row = build_application('renewal', 'reported')
        monday = datetime.date(2026, 11, 23)
        assert perform(row, 'accept', users['acceptor'], today=monday).deadline == \
            calendar.add_working_days(monday, 10)
    finally:
        app.config['RENEWAL_DECISION_WORKING_DAYS'] = 20


def test_a_finished_application_shows_no_deadline(users):
    from backoffice.intake import applications as svc
    row = build_application('initial', 'announced')
    Application.update(deadline=datetime.date(2026, 1, 1)).where(Application.id == row.id).execute()
    assert svc.waiting_for(Application.get_by_id(row.id))[2] is None
    open_row = build_application('initial', 'accepted')
    Application.update(deadline=datetime.date(2026, 1, 1)).where(Application.id == open_row.id).execute()
    assert svc.waiting_for(Application.get_by_id(open_row.id))[2] == datetime.date(2026, 1, 1)
