"""The figures the office reports, defined once (formulas in docs/workflow.md#statistics).

For the cases submitted in a period (optionally within a staff member's station scope):
- handled   (已交办)  = ever assigned: state not in submitted / accepted / declined
- due       (应办结)  = handled and (concluded, or its deadline has passed)
- concluded (已办结)  = handled and answered in the current round: state answered / rated / closed
- on_time   (按期办结) = concluded and answered on or before its deadline
- rated     (已评价)  = has a rating in the current round;  satisfied = 满意 or 基本满意
- resolved  (办成)    = concluded with answer class A
办结率 = concluded / due; 按期办结率 = on_time / due; 满意率 = satisfied / rated; 办成率 = resolved / concluded.
A rate with a zero denominator is None (shown as "—").
"""
import datetime as dt

from peewee import SQL
from peewee import Case as When
from peewee import fn

from models import Case, CaseEvent, Department, Deputy, Project, Station, is_mysql
from services import calendar

SATISFACTION_FLOOR = 0.8  # under this a department or project is flagged for 二次整改

COUNTS = {
    "handled": ~Case.state.in_(("submitted", "accepted", "declined")),
    "concluded": Case.state.in_(("answered", "rated", "closed")),
    "on_time": Case.state.in_(("answered", "rated", "closed")) & (Case.answered_on_time == True),  # noqa: E712
    "rated": Case.rating != "",
    "satisfied": Case.rating.in_(("satisfied", "basic")),
    "resolved": Case.state.in_(("answered", "rated", "closed")) & (Case.answer_class == "A"),
}
RATES = {"completion_rate": ("concluded", "due"), "on_time_rate": ("on_time", "due"),
         "satisfaction_rate": ("satisfied", "rated"), "success_rate": ("resolved", "concluded")}
DIMENSIONS = {"department": Case.lead_department, "deputy": Case.deputy, "station": Case.station,
              "category": Case.category, "state": Case.state, "project": Case.project}
LABELS = {"department": Department, "deputy": Deputy, "station": Station, "project": Project}


def _count(condition):
    return fn.SUM(When(None, [(condition, 1)], 0))


def month_expr():
    hours = int(calendar.tz().utcoffset(dt.datetime(2026, 1, 1)).total_seconds() // 3600)
    if is_mysql():
        return fn.DATE_FORMAT(SQL(f"DATE_ADD(submitted_at, INTERVAL {hours} HOUR)"), "%Y-%m")
    return fn.strftime("%Y-%m", Case.submitted_at, f"{hours:+d} hours")


def scoped(query, start=None, end=None, station=None, **filters):
    """Cases submitted in [start, end) (local dates), within a station's subtree, with exact-match filters."""
    if start:
        query = query.where(Case.submitted_at >= _utc(start))
    if end:
        query = query.where(Case.submitted_at < _utc(end))
    if station is not None:
        query = query.where(Case.station.in_(Station.select(Station.id).where(Station.path.startswith(station.path))))
    for name, value in filters.items():
        if value not in (None, ""):
            query = query.where(getattr(Case, name) == value)
    return query


def _utc(day):
    local = dt.datetime.combine(day, dt.time(), tzinfo=calendar.tz())
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def figures(by=None, as_of=None, **scope):
    """Counts and rates, overall (by=None) or one row per value of a dimension (department, deputy,
    station, category, state, project or month). Rows are dicts with key, label, the counts and the rates."""
    as_of = as_of or calendar.today()
    due = COUNTS["handled"] & (COUNTS["concluded"] | (Case.deadline < as_of))
    columns = [fn.COUNT(Case.id).alias("total"), _count(due).alias("due")] + \
        [_count(cond).alias(name) for name, cond in COUNTS.items()]
    key = month_expr() if by == "month" else DIMENSIONS[by] if by else None
    query = Case.select(*([key.alias("key")] if key is not None else []), *columns)
    query = scoped(query, **scope)
    if key is not None:
        query = query.group_by(key).order_by(key)
    rows = []
    for row in query.dicts():
        for name in ["total", "due", *COUNTS]:
            row[name] = int(row[name] or 0)
        for name, (top, bottom) in RATES.items():
            row[name] = row[top] / row[bottom] if row[bottom] else None
        row["flagged"] = row["satisfaction_rate"] is not None and row["satisfaction_rate"] < SATISFACTION_FLOOR
        rows.append(row)
    if by is None:
        return rows[0]
    _label(rows, by)
    return rows


def _label(rows, by):
    model = LABELS.get(by)
    names = {}
    if model is not None:
        ids = [r["key"] for r in rows if r["key"] is not None]
        names = {m.id: m.name for m in model.select().where(model.id.in_(ids))} if ids else {}
    from services.workflow import CATEGORIES, STATES
    for row in rows:
        k = row["key"]
        row["label"] = (names.get(k) if model is not None else CATEGORIES.get(k) if by == "category"
                        else STATES[k][0] if by == "state" and k in STATES else k) or "未交办"


def percent(rate):
    """A rate as the office writes it: 96.3% — or a dash when there is nothing to divide."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


RESPONSES = ("accept", "decline", "forward")  # a deputy's first answer to a new case


def deputy_responsiveness(**scope):
    """Per deputy, for cases sent to them in the period: received, responded (accepted, declined or
    forwarded by anyone), response_rate = responded / received, and avg_hours from submission to
    that first response. Sorted best first."""
    rows = {}
    cases = scoped(Case.select(Case.id, Case.deputy, Case.submitted_at).where(Case.deputy.is_null(False)), **scope)
    first = dict(CaseEvent.select(CaseEvent.case, fn.MIN(CaseEvent.at)).where(
        CaseEvent.action.in_(RESPONSES), CaseEvent.case.in_(cases.select(Case.id))).group_by(CaseEvent.case).tuples())
    for case in cases:
        row = rows.setdefault(case.deputy_id, {"key": case.deputy_id, "received": 0, "responded": 0, "hours": []})
        row["received"] += 1
        if case.id in first:
            row["responded"] += 1
            row["hours"].append((first[case.id] - case.submitted_at).total_seconds() / 3600)
    names = {d.id: d.name for d in Deputy.select().where(Deputy.id.in_(list(rows)))} if rows else {}
    result = []
    for row in rows.values():
        hours = row.pop("hours")
        row.update(label=names.get(row["key"], "—"), response_rate=row["responded"] / row["received"],
                   avg_hours=sum(hours) / len(hours) if hours else None)
        result.append(row)
    return sorted(result, key=lambda r: (-r["response_rate"], r["avg_hours"] if r["avg_hours"] is not None
                                         else float("inf"), r["label"]))
