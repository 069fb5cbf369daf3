"""Calendar arithmetic for statutory periods: working days and whole years.

Working days follow the State Council's schedule (public holidays and the weekend days that
are worked instead, 调休) as carried by the `chinesecalendar` package, plus any extra days in
the HOLIDAYS setting. For a year the package does not carry yet (the schedule is published
each November/December) it falls back to Monday–Friday minus HOLIDAYS, and
`uncovered_years()` tells the administrators' home page to warn about it.
"""
import datetime
import functools

import chinese_calendar

# The package answers by scanning its holiday table on every call; the schedule is fixed once
# published, so each day's answer is kept (a raised NotImplementedError is never cached).
_official_workday = functools.lru_cache(maxsize=8192)(chinese_calendar.is_workday)


def _holiday_set(holidays):
    return {datetime.date.fromisoformat(h) if isinstance(h, str) else h for h in holidays}


def covers(year):
    """Whether the official schedule for `year` is known."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def uncovered_years(today=None):
    """This year and next, where the official schedule is not known yet (deadlines there fall back)."""
    today = today or datetime.date.today()
    return [y for y in (today.year, today.year + 1) if not covers(y)]


def is_workday(day, holidays=()):
    if day in holidays:
        return False
    try:
        return _official_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start, days, holidays=()):
    """The date `days` working days after `start`."""
    holidays = _holiday_set(holidays)
    day = start
    left = days
    while left > 0:
        day += datetime.timedelta(days=1)
        if is_workday(day, holidays):
            left -= 1
    return day


def working_days_between(start, end, holidays=()):
    """Working days from start (exclusive) to end (inclusive); negative when end < start."""
    if end < start:
        return -working_days_between(end, start, holidays)
    holidays = _holiday_set(holidays)
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_workday(day, holidays):
            count += 1
    return count


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:                     # 29 February
        return day.replace(year=day.year + years, day=28)
