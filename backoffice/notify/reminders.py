"""The daily reminders (issue 12): a specialty expiring in 90, 60 or 30 days (holder and
enterprise), and the 65th birthday that will end the registration (holder).

Each reminder has a key — (person, specialty, valid-until date, threshold) or (person, birthday) —
recorded in ReminderSent in the same transaction as its notification rows; a key already recorded
is skipped, and the unique index stops a second run that races this one. So running the task
twice sends nothing the second time. Enterprises get one digest per run listing all their staff
with a new reminder, not one message per person. A day the task did not run is caught up: a
specialty 85 days from expiry still gets its 90-day reminder (only the most urgent threshold is
sent, never three at once).
"""
import datetime

import peewee as pw

from models import Enterprise, Person, RegisteredSpecialty, Registration, ReminderSent, Specialty, database

from backoffice.notify import outbox
from backoffice.workflow.calendar import add_years

THRESHOLDS = (30, 60, 90)        # days before the specialty's valid-until date
AGE_NOTICE_DAYS = 90             # days before the 65th birthday
MAX_AGE = 65


def _threshold(days_left):
    for t in THRESHOLDS:
        if days_left <= t:
            return t
    return None


def due(today):
    """[(key, kind, registration, person, specialty name or None, date, days left)] due today, sent or not."""
    out = []
    horizon = today + datetime.timedelta(days=max(THRESHOLDS))
    rows = (RegisteredSpecialty.select(RegisteredSpecialty, Registration, Specialty)
            .join(Registration, on=(Registration.id == RegisteredSpecialty.registration))
            .switch(RegisteredSpecialty).join(Specialty, on=(Specialty.id == RegisteredSpecialty.specialty))
            .where((RegisteredSpecialty.state == 'active') & (Registration.state == 'active')
                   & (RegisteredSpecialty.valid_until >= today) & (RegisteredSpecialty.valid_until <= horizon)))
    for rs in rows:
        days = (rs.valid_until - today).days
        t = _threshold(days)
        key = f'expiry:{rs.registration.person_id}:{rs.specialty_id}:{rs.valid_until.isoformat()}:{t}'
        out.append((key, 'expiry', rs.registration, rs.registration.person_id, rs.specialty.name, rs.valid_until,
                    days))
    # born between these dates: the 65th birthday falls within AGE_NOTICE_DAYS from today
    first, last = add_years(today, -MAX_AGE), add_years(today + datetime.timedelta(days=AGE_NOTICE_DAYS), -MAX_AGE)
    regs = (Registration.select(Registration, Person).join(Person, on=(Person.id == Registration.person))
            .where((Registration.state == 'active') & (Person.birth_date > first) & (Person.birth_date <= last)))
    for reg in regs:
        birthday = add_years(reg.person.birth_date, MAX_AGE)
        out.append((f'age:{reg.person_id}:{birthday.isoformat()}', 'age', reg, reg.person_id, None, birthday,
                    (birthday - today).days))
    return out


def run(today=None):
    """Send every reminder due today that was not sent before. Returns {'holders': n, 'enterprises': n}."""
    today = today or datetime.date.today()
    items = due(today)
    try:
        return _send(items, today)
    except pw.IntegrityError:          # another run recorded some keys first: those are skipped now
        return _send(due(today), today)


def _send(items, today):
    with database.atomic():
        keys = [i[0] for i in items]
        sent = set()
        for k in range(0, len(keys), 900):
            sent |= {r.key for r in ReminderSent.select(ReminderSent.key).where(ReminderSent.key.in_(keys[k:k + 900]))}
        new = [i for i in items if i[0] not in sent]
        if not new:
            return {'holders': 0, 'enterprises': 0}
        people = {p.id: p for p in Person.select().where(Person.id.in_(sorted({i[3] for i in new})))}
        messages, staff = [], {}
        for key, kind, reg, person_id, specialty, day, days in new:
            name = people[person_id].name if person_id in people else ''
            if kind == 'expiry':
                values = {'name': name, 'specialty': specialty, 'valid_until': day.isoformat(), 'days': days,
                          'reg_number': reg.number}
                if reg.enterprise_id:
                    staff.setdefault(reg.enterprise_id, []).append(f'{name}（{specialty}，{day.isoformat()}到期）')
            else:
                values = {'name': name, 'birthday': day.isoformat(), 'reg_number': reg.number}
                if reg.enterprise_id:
                    staff.setdefault(reg.enterprise_id, []).append(f'{name}（{day.isoformat()}年满65周岁，注册将失效）')
            messages.append(outbox.Message(kind, values, person=person_id))
        firms = {e.id: e for e in Enterprise.select().where(Enterprise.id.in_(sorted(staff)))} if staff else {}
        for ent_id, lines in sorted(staff.items()):
            messages.append(outbox.Message('enterprise_digest', {
                'enterprise': firms[ent_id].name if ent_id in firms else '', 'count': len(lines),
                'staff': '；'.join(lines)}, enterprise=ent_id))
        outbox.write(messages)
        ReminderSent.insert_many([{'key': i[0]} for i in new]).execute()
        return {'holders': len(new), 'enterprises': len(staff)}
