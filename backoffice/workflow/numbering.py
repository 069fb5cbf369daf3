"""Numbers that must be unique and never reused: 注册编号 serials, application and notice numbers.

Every number comes from a row of the Sequence table bumped with one guarded
UPDATE inside the caller's transaction. PostgreSQL's row lock (and SQLite's
IMMEDIATE write lock) serialises concurrent callers, so two approvals running
at once can never draw the same serial; a rolled-back transaction gives its
serial back, so no gap is ever handed out twice either.
"""
import datetime

import peewee as pw

from models import Sequence, database


def reserve(key, count=1):
    """Advance the counter `key` by count; returns the first of the `count` values now reserved.

    Call inside the caller's transaction: the row stays locked until it commits.
    """
    with database.atomic():
        updated = (Sequence.update(value=Sequence.value + count)
                   .where(Sequence.key == key).execute())
        if not updated:
            try:
                with database.atomic():
                    Sequence.create(key=key, value=count)
                return 1
            except pw.IntegrityError:
                # Another transaction created it first: advance theirs.
                Sequence.update(value=Sequence.value + count).where(Sequence.key == key).execute()
        return Sequence.get(Sequence.key == key).value - count + 1


def next_value(key):
    """Increment and return the counter `key` (creating it at 1). Call inside db.atomic()."""
    return reserve(key, 1)


def registration_core(province_code, qualification_year, registered_on):
    """The 12 digits after the province character (domain §7).

    1 (level) + province code (2) + qualification year (2) + registration year (2)
    + provincial serial at initial registration (5).
    """
    serial = next_value(registration_key(province_code, registered_on))
    return format_core(province_code, qualification_year, registered_on, serial)


def registration_key(province_code, registered_on):
    return f'reg:{province_code}:{registered_on.year % 100:02d}'


def format_core(province_code, qualification_year, registered_on, serial):
    if serial > 99999:
        raise OverflowError(f'{province_code} 省 {registered_on.year} 年注册流水号已用尽')
    return f'1{province_code}{qualification_year % 100:02d}{registered_on.year % 100:02d}{serial:05d}'


def application_number(day=None):
    day = day or datetime.date.today()
    return f'SQ{day:%Y%m%d}{next_value("app:" + day.strftime("%Y%m%d")):05d}'


def notice_number(day=None):
    day = day or datetime.date.today()
    return f'建一注公告〔{day.year}〕第{next_value(f"notice:{day.year}"):03d}号'
