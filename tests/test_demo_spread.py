"""The demo data looks like a registry at work, for any "today" it is generated on: the queues hold
items mostly inside their deadline and a few past it, and the registered specialties expire all over
the coming year, not in one month. Generating twice gives the same data."""
import collections
import datetime

from models import ALL_MODELS, Application, AuditEvent, RegisteredSpecialty, database
from seed.demo import generate
from seed.reference import load_reference

TODAY = datetime.date(2026, 11, 25)


def _queue(state, today):
    rows = list(Application.select().where(Application.state == state))
    overdue = [r for r in rows if r.deadline is not None and r.deadline < today]
    return rows, overdue


def _expiry_months(today):
    """Active specialties' expiries per month over the next twelve months."""
    months = collections.Counter()
    end = today.replace(year=today.year + 1)
    for (until,) in (RegisteredSpecialty.select(RegisteredSpecialty.valid_until)
                     .where(RegisteredSpecialty.state == 'active').tuples()):
        assert until > today, 'an active specialty that has already expired'
        if until <= end:
            months[(until.year, until.month)] += 1
    return months


def _check_spread(today):
    for state in ('reported', 'accepted'):             # the 受理 and the 审查 queues
        rows, overdue = _queue(state, today)
        assert len(rows) >= 8, (state, len(rows))
        assert all(r.deadline is not None for r in rows), state
        assert 0 < len(overdue) <= 0.25 * len(rows), (state, len(overdue), len(rows))
        waits = [(today - r.deadline).days for r in overdue]
        assert max(waits) <= 30, waits                  # late, not forgotten for a year
    inbox = list(Application.select().where(Application.state == 'submitted'))
    assert inbox and all(today - r.submitted_at.date() <= datetime.timedelta(days=21) for r in inbox)
    # nothing happened after today
    latest = max(AuditEvent.select(AuditEvent.created_at).where(AuditEvent.application.is_null(False))
                 .tuples(), default=(None,))[0]
    assert latest.date() <= today, latest
    months = _expiry_months(today)
    total = RegisteredSpecialty.select().where(RegisteredSpecialty.state == 'active').count()
    within_30 = (RegisteredSpecialty.select().where((RegisteredSpecialty.state == 'active')
                 & (RegisteredSpecialty.valid_until <= today + datetime.timedelta(days=30))).count())
    assert within_30 <= 0.1 * total, (within_30, total)
    mean = sum(months.values()) / 12
    assert len(months) >= 12 and mean > 0, months     # (up to 13 calendar months touched)
    assert max(months.values()) <= 2 * mean + 3, (dict(months), mean)
    return months


def _snapshot():
    apps = list(Application.select(Application.number, Application.state, Application.deadline,
                                   Application.submitted_at, Application.accepted_at)
                .order_by(Application.number).tuples())
    specs = list(RegisteredSpecialty.select(RegisteredSpecialty.valid_until)
                 .order_by(RegisteredSpecialty.valid_until).tuples())
    return apps, specs


def _wipe():
    with database.atomic():
        for model in reversed(ALL_MODELS):
            model.delete().execute()
    load_reference()


def test_queues_and_expiries_are_spread_and_deterministic():
    generate(1200, today=TODAY)
    months = _check_spread(TODAY)
    first = _snapshot()
    _wipe()
    generate(1200, today=TODAY)
    assert _snapshot() == first
    assert _expiry_months(TODAY) == months


def test_spread_follows_the_injected_today():
    later = datetime.date(2027, 6, 14)
    generate(800, today=later)
    _check_spread(later)
