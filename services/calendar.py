"""工作日 — working days from China's official holiday calendar (chinesecalendar, 调休 weekends included).

For a year the installed calendar does not know, Monday to Friday count as working days (documented in
docs/workflow.md): deadlines then may be a few days short around that year's holidays, never lost.
"""
import datetime as dt
import zoneinfo
from calendar import monthrange

import chinese_calendar
from flask import current_app, has_app_context

from models import utcnow


def is_workday(day):
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start, days):
    """The date `days` working days after `start` (the start day itself never counts)."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            days -= 1
    return day


def add_months(start, months):
    """The same day `months` calendar months later (the month's last day when it is shorter), moved on to
    the next working day when it falls on a rest day (a suggestion's 3-month deadline)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    day = start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def working_days_between(start, end):
    """Working days after `start` up to and including `end` (negative when end is before start)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_workday(day)
    return count


def tz():
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return zoneinfo.ZoneInfo(name)


def local(moment):
    """A stored UTC datetime as an aware local datetime."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(tz()) if moment else None


def today():
    """Today's date in the configured time zone."""
    return local(utcnow()).date()


def parse_day(value):
    """A YYYY-MM-DD date from a filter, or None when empty, malformed or outside 1970–9000 (so that the day
    after it still exists)."""
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    return day if day is None or dt.date(1970, 1, 1) <= day <= dt.date(9000, 1, 1) else None


def utc_start(day):
    """The UTC moment (naive, as stored) at which a local date begins."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz())
    return start.astimezone(dt.timezone.utc).replace(tzinfo=None)
