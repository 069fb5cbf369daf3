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


def next_value(key):
    """Increment and return the counter `key` (creating it at 1). Call inside db.atomic()."""
    with database.atomic():
        updated = (Sequence.update(value=Sequence.value + 1)
                   .where(Sequence.key == key).execute())
        if not updated:
            try:
                with database.atomic():
                    Sequence.create(key=key, value=1)
                return 1
            except pw.IntegrityError:
                # Another transaction created it first: bump theirs.
                Sequence.update(value=Sequence.value + 1).where(Sequence.key == key).execute()
        return Sequence.get(Sequence.key == key).value


def registration_core(province_code, qualification_year, registered_on):
    """The 12 digits after the province character (domain §7).

    1 (level) + province code (2) + qualification year (2) + registration year (2)
    + provincial serial at initial registration (5).
    """
    reg_year = registered_on.year % 100
    serial = next_value(f'reg:{province_code}:{reg_year:02d}')
    if serial > 99999:
        raise OverflowError(f'{province_code} 省 {registered_on.year} 年注册流水号已用尽')
    return f'1{province_code}{qualification_year % 100:02d}{reg_year:02d}{serial:05d}'


def application_number(day=None):
    day = day or datetime.date.today()
    return f'SQ{day:%Y%m%d}{next_value("app:" + day.strftime("%Y%m%d")):05d}'


def notice_number(day=None):
    day = day or datetime.date.today()
    return f'建一注公告〔{day.year}〕第{next_value(f"notice:{day.year}"):03d}号'
