"""Dashboard figures. Each function takes Filters and returns plain data for a chart."""
import datetime

import peewee as pw

from backoffice import db as dbmod
from backoffice.workflow import BUSINESS_TYPES
from models import (Application, ApplicationRefusalGround, ApplicationSpecialty, Enterprise, Province,
                    RefusalGround, RegisteredSpecialty, Registration, Specialty)

DECIDED = ('approved', 'announced', 'completed')


def _month(column):
    if dbmod.is_postgres():
        return pw.fn.to_char(column, 'YYYY-MM')
    return pw.fn.strftime('%Y-%m', column)


def _days(a, b):
    """Whole days from a to b (both timestamps), in SQL."""
    if dbmod.is_postgres():
        return pw.fn.date_part('day', b - a)
    return pw.fn.julianday(b) - pw.fn.julianday(a)


def _apps(f, date_column=Application.created_at):
    q = Application.select()
    if f.date_from:
        q = q.where(date_column >= datetime.datetime.combine(f.date_from, datetime.time.min))
    if f.date_to:
        q = q.where(date_column <= datetime.datetime.combine(f.date_to, datetime.time.max))
    if f.business_type:
        q = q.where(Application.business_type == f.business_type)
    if f.province_id:
        q = q.where(Application.enterprise.in_(Enterprise.select(Enterprise.id)
                                               .where(Enterprise.province == f.province_id)))
    if f.specialty_id:
        q = q.where(Application.id.in_(ApplicationSpecialty.select(ApplicationSpecialty.application)
                                       .where(ApplicationSpecialty.specialty == f.specialty_id)))
    return q


def applications_by_month(f):
    """{month: {business type label: count}}, months ascending."""
    month = _month(Application.created_at).alias('month')
    rows = (_apps(f).select(month, Application.business_type, pw.fn.COUNT(Application.id))
            .group_by(month, Application.business_type).order_by(month).tuples())
    out = {}
    for m, bt, n in rows:
        out.setdefault(m, {})[BUSINESS_TYPES[bt]] = n
    return out


def decisions(f):
    """(approved count, refused count, [(ground, count)] most cited first)."""
    base = _apps(f, Application.decided_at).where(Application.decided_at.is_null(False))
    approved = base.where(Application.state.in_(DECIDED)).count()
    refused_q = base.where(Application.state == 'refused')
    refused = refused_q.count()
    grounds = (RefusalGround.select(RefusalGround.text, pw.fn.COUNT(ApplicationRefusalGround.id).alias('n'))
               .join(ApplicationRefusalGround)
               .where(ApplicationRefusalGround.application.in_(refused_q.select(Application.id)))
               .group_by(RefusalGround.text).order_by(pw.SQL('n').desc()).limit(8).tuples())
    return approved, refused, list(grounds)


BUCKETS = [(0, 10, '10天内'), (11, 20, '11–20天'), (21, 28, '21–28天'), (29, 40, '29–40天'), (41, 100000, '40天以上')]


def processing_time(f, today=None):
    """Decided applications by calendar days from acceptance to decision; on time vs the deadline;
    applications under review past their deadline now."""
    today = today or datetime.date.today()
    days = _days(Application.accepted_at, Application.decided_at)
    base = _apps(f, Application.decided_at).where(Application.accepted_at.is_null(False)
                                                  & Application.decided_at.is_null(False))
    cases = [pw.fn.SUM(pw.Case(None, [((days >= lo) & (days <= hi), 1)], 0)) for lo, hi, _ in BUCKETS]
    row = base.select(*cases).tuples().first() or [0] * len(BUCKETS)
    histogram = [(label, int(n or 0)) for (_, _, label), n in zip(BUCKETS, row)]
    late = base.where(Application.deadline.is_null(False)
                      & (pw.fn.DATE(Application.decided_at) > Application.deadline)).count() \
        if not dbmod.is_postgres() else \
        base.where(Application.deadline.is_null(False)
                   & (Application.decided_at.cast('date') > Application.deadline)).count()
    overdue_now = _apps(f, Application.accepted_at).where((Application.state == 'accepted')
                                                          & (Application.deadline < today)).count()
    return histogram, late, overdue_now


def _active_regs(f):
    q = Registration.select().where(Registration.state == 'active')
    if f.province_id:
        q = q.where(Registration.province == f.province_id)
    if f.specialty_id:
        q = q.where(Registration.id.in_(RegisteredSpecialty.select(RegisteredSpecialty.registration).where(
            (RegisteredSpecialty.specialty == f.specialty_id) & (RegisteredSpecialty.state == 'active'))))
    return q


def registered_by_province(f):
    rows = (_active_regs(f).select(Province.name, pw.fn.COUNT(Registration.id).alias('n'))
            .join(Province, on=(Registration.province == Province.id))
            .group_by(Province.name).order_by(pw.SQL('n').desc()).tuples())
    return list(rows)


def _active_specs(f):
    q = (RegisteredSpecialty.select().join(Registration)
         .where((RegisteredSpecialty.state == 'active') & (Registration.state == 'active')))
    if f.province_id:
        q = q.where(Registration.province == f.province_id)
    if f.specialty_id:
        q = q.where(RegisteredSpecialty.specialty == f.specialty_id)
    return q


def registered_by_specialty(f):
    rows = (_active_specs(f).select(Specialty.name, pw.fn.COUNT(RegisteredSpecialty.id).alias('n'))
            .switch(RegisteredSpecialty).join(Specialty)
            .group_by(Specialty.name, Specialty.sort).order_by(Specialty.sort).tuples())
    return list(rows)


def expiring(f, today=None):
    """[(label, count)] of registered specialties expiring within 30, 31–60 and 61–90 days."""
    today = today or datetime.date.today()
    out = []
    for lo, hi, label in ((0, 30, '30天内'), (31, 60, '31–60天'), (61, 90, '61–90天')):
        n = _active_specs(f).where(RegisteredSpecialty.valid_until.between(
            today + datetime.timedelta(days=lo), today + datetime.timedelta(days=hi))).count()
        out.append((label, n))
    return out


def dashboard(f, today=None):
    approved, refused, grounds = decisions(f)
    histogram, late, overdue_now = processing_time(f, today)
    return {
        'by_month': applications_by_month(f), 'approved': approved, 'refused': refused, 'grounds': grounds,
        'histogram': histogram, 'late': late, 'overdue_now': overdue_now,
        'by_province': registered_by_province(f), 'by_specialty': registered_by_specialty(f),
        'expiring': expiring(f, today),
    }
