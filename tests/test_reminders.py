"""Expiry reminders (issue 12): 90/60/30 days before a specialty expires, before the 65th birthday;
each once, even when the task runs twice; one digest per enterprise. "today" is injected."""
import datetime

from backoffice.notify import reminders
from models import Notification, RegisteredSpecialty, ReminderSent

from .conftest import make_enterprise, make_person, make_registration

TODAY = datetime.date(2027, 1, 10)


def _until(reg, days):
    RegisteredSpecialty.update(valid_until=TODAY + datetime.timedelta(days=days)).where(
        RegisteredSpecialty.registration == reg.id).execute()


def _inapp(**kw):
    q = Notification.select().where(Notification.channel == 'inapp')
    for k, v in kw.items():
        q = q.where(getattr(Notification, k) == v)
    return list(q)


def test_holder_and_enterprise_reminded_once_at_each_threshold():
    ent = make_enterprise()
    p1, p2 = make_person(name='李明'), make_person(name='王芳')
    r1, r2 = make_registration(p1, ent), make_registration(p2, ent)
    _until(r1, 90)
    _until(r2, 60)
    assert reminders.run(today=TODAY) == {'holders': 2, 'enterprises': 1}
    assert [n.template_key for n in _inapp(person=p1.id)] == ['expiry']
    assert '还有90天' in _inapp(person=p1.id)[0].text
    digest = _inapp(enterprise=ent.id)
    assert len(digest) == 1 and '李明' in digest[0].text and '王芳' in digest[0].text and '2名' in digest[0].text
    # the task runs again the same day: nothing new
    assert reminders.run(today=TODAY) == {'holders': 0, 'enterprises': 0}
    assert len(_inapp()) == 3
    # the next day: still nothing (the 90-day reminder of p1 and the 60-day one of p2 went out)
    assert reminders.run(today=TODAY + datetime.timedelta(days=1))['holders'] == 0
    # 30 days later p1 reaches 60 days left and p2 30: each reminded again, once, one digest
    later = TODAY + datetime.timedelta(days=30)
    assert reminders.run(today=later) == {'holders': 2, 'enterprises': 1}
    assert reminders.run(today=later) == {'holders': 0, 'enterprises': 0}
    assert [n.template_key for n in _inapp(person=p1.id)] == ['expiry', 'expiry']


def test_a_missed_day_is_caught_up_with_the_most_urgent_threshold_only():
    reg = make_registration(make_person(), make_enterprise())
    _until(reg, 25)
    reminders.run(today=TODAY)
    keys = [r.key for r in ReminderSent.select()]
    assert len(keys) == 1 and keys[0].endswith(':30')


def test_nothing_beyond_90_days_and_nothing_for_a_lapsed_registration():
    reg = make_registration(make_person(), make_enterprise())
    _until(reg, 91)
    other = make_registration(make_person(), make_enterprise(), state='cancelled')
    _until(other, 30)
    assert reminders.run(today=TODAY) == {'holders': 0, 'enterprises': 0}


def test_holder_reminded_before_the_65th_birthday_once():
    birth = datetime.date(TODAY.year - 65, 3, 1)          # 65 on 1 March, within 90 days
    person = make_person(birth=birth)
    make_registration(person, make_enterprise())
    counts = reminders.run(today=TODAY)
    assert counts['holders'] == 1
    rows = [n for n in _inapp(person=person.id) if n.template_key == 'age']
    assert len(rows) == 1 and f'{TODAY.year}-03-0' in rows[0].text
    assert reminders.run(today=TODAY + datetime.timedelta(days=3))['holders'] == 0


def test_cli_command_with_today(app):
    reg = make_registration(make_person(), make_enterprise())
    _until(reg, 30)
    result = app.test_cli_runner().invoke(args=['remind', '--today', TODAY.isoformat()])
    assert result.exit_code == 0 and '1 项' in result.output
    result = app.test_cli_runner().invoke(args=['remind', '--today', TODAY.isoformat()])
    assert '0 项' in result.output
    assert app.test_cli_runner().invoke(args=['remind', '--today', '2027-13-01']).exit_code != 0
