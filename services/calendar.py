"""工作日 — working days from China's official holiday calendar (chinesecalendar, 调休 weekends included).

The office may enter days of its own (节假日安排, table `holiday`): the State Council's arrangement for a year the
installed calendar does not know yet, or a local one; an entry wins over the library. For a year neither knows,
Monday to Friday count as working days (docs/workflow.md): deadlines then may be a few days short around that
year's holidays, never lost. Working days are looked up once per process (the memo below), not on every page.
"""
import datetime as dt
import zoneinfo
from calendar import monthrange

import chinese_calendar
from flask import current_app, g, has_app_context

from models import retried, utcnow, write_transaction


# The working-day memo of this process: {day: is it a working day}, and the deadline tables by day. Built once,
# emptied when the holiday calendar changed — in any process: `_current()` reads the office's entries (a small
# table: a few dozen rows a year) once per request or app context and compares them with those the memo was
# built from. Their content, not a count or the highest id: SQLite reuses the id of a row deleted and entered again.
_memo = {"version": None, "overrides": {}, "days": {}, "tables": {}}


def _entries():
    from models import Holiday
    return tuple(sorted(Holiday.select(Holiday.day, Holiday.workday).tuples()))


def _current():
    """The memo, valid for the holiday calendar as it is now (checked once per request or app context)."""
    version = g.get("holiday_version") if has_app_context() else None
    if version is None:
        version = _entries()
        if has_app_context():
            g.holiday_version = version
    memo = _memo
    if memo["version"] != version:
        memo = {"version": version, "overrides": dict(version), "days": {}, "tables": {}}
        globals()["_memo"] = memo
    return memo


def forget():
    """After an edit of the holiday calendar: this request checks the version again (other processes do on
    their next request)."""
    if has_app_context():
        g.pop("holiday_version", None)


def _workday(memo, day):
    known = memo["days"].get(day)
    if known is None:
        known = memo["overrides"].get(day)
        if known is None:
            try:
                known = chinese_calendar.is_workday(day)
            except NotImplementedError:
                known = day.weekday() < 5
        memo["days"][day] = known
    return known


def is_workday(day):
    return _workday(_current(), day)


def add_working_days(start, days):
    """The date `days` working days after `start` (the start day itself never counts)."""
    memo, day = _current(), start
    while days > 0:
        day += dt.timedelta(days=1)
        if _workday(memo, day):
            days -= 1
    return day


def deadline_table(start=None, most=90):
    """{n: the date n working days after start (today)} for n = 1..most, as ISO text (the assign form shows
    the deadline as you type); computed once a day per process."""
    memo, start = _current(), start or today()
    table = memo["tables"].get((start, most))
    if table is None:
        table, day = {}, start
        while len(table) < most:
            day += dt.timedelta(days=1)
            if _workday(memo, day):
                table[len(table) + 1] = day.isoformat()
        memo["tables"][(start, most)] = table
    return table


def add_months(start, months):
    """The same day `months` calendar months later (the month's last day when it is shorter), moved on to
    the next working day when it falls on a rest day (a suggestion's 3-month deadline)."""
    memo, month = _current(), start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    day = start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))
    while not _workday(memo, day):
        day += dt.timedelta(days=1)
    return day


def working_days_between(start, end):
    """Working days after `start` up to and including `end` (negative when end is before start)."""
    if end < start:
        return -working_days_between(end, start)
    memo, count, day = _current(), 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += _workday(memo, day)
    return count


def arrangements():
    """The office's entries, newest day first."""
    from models import Holiday
    return list(Holiday.select().order_by(Holiday.day.desc()))


@retried
def set_day(actor, day, workday, name=""):
    """Enter (or change) one day of the holiday calendar: a rest day or a working day. Audited."""
    from models import Holiday
    from services import audit
    from services.errors import InvalidInput
    day = parse_day(day) if isinstance(day, str) else day
    if day is None:
        raise InvalidInput("invalid_date", "请填写日期（年-月-日）", field="day")
    if workday not in ("1", "0", True, False):
        raise InvalidInput("invalid_choice", "请选择放假或上班", field="workday")
    workday, name = workday in ("1", True), (name or "").strip()[:50]
    with write_transaction():
        Holiday.delete().where(Holiday.day == day).execute()
        Holiday.create(day=day, workday=workday, name=name)
        audit.record(actor, "holiday.set", ("holiday", day.isoformat()), {"workday": workday, "name": name})
    forget()


@retried
def remove_day(actor, day):
    from models import Holiday
    from services import audit
    day = parse_day(day) if isinstance(day, str) else day
    with write_transaction():
        if day and Holiday.delete().where(Holiday.day == day).execute():
            audit.record(actor, "holiday.remove", ("holiday", day.isoformat()))
    forget()


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
