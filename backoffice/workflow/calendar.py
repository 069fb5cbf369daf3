"""Calendar arithmetic for statutory periods: working days and whole years."""
import datetime


def add_working_days(start, days, holidays=()):
    """The date `days` working days after `start` (weekends and listed holidays skipped)."""
    holidays = {datetime.date.fromisoformat(h) if isinstance(h, str) else h for h in holidays}
    day = start
    left = days
    while left > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day


def working_days_between(start, end, holidays=()):
    """Working days from start (exclusive) to end (inclusive); negative when end < start."""
    if end < start:
        return -working_days_between(end, start, holidays)
    holidays = {datetime.date.fromisoformat(h) if isinstance(h, str) else h for h in holidays}
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            count += 1
    return count


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:                     # 29 February
        return day.replace(year=day.year + years, day=28)
