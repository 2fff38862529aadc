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
import contextlib
import contextvars
import datetime as dt
import operator
from collections import defaultdict
from functools import reduce

from peewee import EXCLUDED, SQL
from peewee import Case as When
from peewee import fn

from models import Case, CaseTally, Department, Deputy, Project, Station, db, is_mysql
from services import calendar
from wechat.prepared import Prepared
from services.vocab import CATEGORIES, CONCLUDED_STATES, HANDLING_STATES, STATES, setting

SATISFACTION_FLOOR = 0.8  # under this a department or project is flagged for 二次整改
SATISFIED = ("satisfied", "basic")

# What each count means, once: as SQL over `case` (live queries, rebuilding the tally) and as Python over
# one case (keeping the tally in step on every write). tests/test_stats.py checks the two agree.
COUNTS = {
    "handled": Case.state.in_(HANDLING_STATES + CONCLUDED_STATES),
    "open_handled": Case.state.in_(HANDLING_STATES),
    "concluded": Case.state.in_(CONCLUDED_STATES),
    "on_time": Case.state.in_(CONCLUDED_STATES) & (Case.answered_on_time == True),  # noqa: E712
    "rated": Case.rating != "",
    "satisfied": Case.rating.in_(SATISFIED),
    "resolved": Case.state.in_(CONCLUDED_STATES) & (Case.answer_class == "A"),
    "responded": Case.responded_at.is_null(False),
}
TESTS = {
    "handled": lambda c: c.state in HANDLING_STATES + CONCLUDED_STATES,
    "open_handled": lambda c: c.state in HANDLING_STATES,
    "concluded": lambda c: c.state in CONCLUDED_STATES,
    "on_time": lambda c: c.state in CONCLUDED_STATES and c.answered_on_time is True,
    "rated": lambda c: c.rating != "",
    "satisfied": lambda c: c.rating in SATISFIED,
    "resolved": lambda c: c.state in CONCLUDED_STATES and c.answer_class == "A",
    "responded": lambda c: c.responded_at is not None,
}
# 响应率 (a deputy's first response within RESPONSE_HOURS of the report) is tallied for these windows, so the
# dashboard reads it like the other counts; a setting outside them is counted from `case` (correct, slower).
WINDOWS = {f"responded_{hours}h": hours for hours in (12, 24, 48, 72)}
TESTS.update({name: lambda c, h=hours: c.responded_at is not None and
              (c.responded_at - c.submitted_at).total_seconds() <= h * 3600 for name, hours in WINDOWS.items()})
RATES = {"completion_rate": ("concluded", "due"), "on_time_rate": ("on_time", "due"),
         "satisfaction_rate": ("satisfied", "rated"), "success_rate": ("resolved", "concluded")}
DIMENSIONS = {"department": Case.lead_department, "deputy": Case.deputy, "station": Case.station,
              "category": Case.category, "state": Case.state, "project": Case.project}
LABELS = {"department": Department, "deputy": Deputy, "station": Station, "project": Project}
SUMS = ["total", *COUNTS, *WINDOWS, "response_seconds"]


def _count(condition):
    return fn.SUM(When(None, [(condition, 1)], 0))


def _seconds():
    """Seconds from submission to the first response, in SQL (NULL when not responded)."""
    if is_mysql():
        return fn.TIMESTAMPDIFF(SQL("SECOND"), Case.submitted_at, Case.responded_at)
    return fn.strftime("%s", Case.responded_at) - fn.strftime("%s", Case.submitted_at)


def _within(hours):
    """Responded within `hours` of submission, in SQL."""
    return Case.responded_at.is_null(False) & (_seconds() <= hours * 3600)


def _summed():
    """Every tally column but `total` as SQL over `case`, in SUMS order."""
    return {**{name: _count(condition) for name, condition in COUNTS.items()},
            **{name: _count(_within(hours)) for name, hours in WINDOWS.items()},
            "response_seconds": fn.COALESCE(fn.SUM(_seconds()), 0)}


def _in_time_column():
    """The tally column of the RESPONSE_HOURS window, or None when it has none."""
    name = f"responded_{response_hours()}h"
    return name if name in WINDOWS else None


def _offset_hours():
    return int(calendar.tz().utcoffset(dt.datetime(2026, 1, 1)).total_seconds() // 3600)


def month_expr():
    if is_mysql():
        return fn.DATE_FORMAT(SQL(f"DATE_ADD(submitted_at, INTERVAL {_offset_hours()} HOUR)"), "%Y-%m")
    return fn.strftime("%Y-%m", Case.submitted_at, f"{_offset_hours():+d} hours")


def day_expr():
    """The local day of submission, in SQL."""
    if is_mysql():
        return fn.DATE_FORMAT(SQL(f"DATE_ADD(submitted_at, INTERVAL {_offset_hours()} HOUR)"), "%Y-%m-%d")
    return fn.date(Case.submitted_at, f"{_offset_hours():+d} hours")


def scoped(query, start=None, end=None, station=None, kind=None, **filters):
    """Cases (of a kind, when given) submitted in [start, end) (local dates), within a station's subtree, with
    exact-match filters."""
    if kind:
        query = query.where(Case.kind == kind)
    if start:
        query = query.where(Case.submitted_at >= calendar.utc_start(start))
    if end:
        query = query.where(Case.submitted_at < calendar.utc_start(end))
    if station is not None:
        query = query.where(Case.station.in_(subtree(station)))
    for name, value in filters.items():
        if value not in (None, ""):
            query = query.where(getattr(Case, name) == value)
    return query


def subtree(station):
    """The ids of a station's subtree, as a list: `station_id IN (1, 2, 3)` lets MariaDB read the newest cases in
    order and stop after a page, where a subquery became a semi-join that sorted the whole subtree's cases."""
    return [s.id for s in Station.select(Station.id).where(Station.path.startswith(station.path))]


def rolled_up(parent=None, **scope):
    """One row per child of `parent` (the top nodes when None) with the figures of its whole subtree: what a
    city sees of its counties, a county of its townships (levels, services/levels.py). Summed from one reading
    by station, not one per child (a province's hundred counties)."""
    children = Station.select().where(Station.parent.is_null() if parent is None else Station.parent == parent)
    depth = 0 if parent is None else parent.path.count("/") - 1  # a path is the ids from the top: "/1/5/23/"
    paths = dict(Station.select(Station.id, Station.path).tuples())
    summed = defaultdict(lambda: dict.fromkeys(ADDED, 0))
    for row in figures(by="station", station=parent, **scope):
        if row["key"] is not None:
            under = summed[int(paths[row["key"]].split("/")[depth + 1])]  # the child whose subtree holds it
            for name in ADDED:
                under[name] += row.get(name, 0)  # responded_in_time: only where tallied or live
    return [{**_rated(dict(summed[child.id])), "key": child.code, "label": child.name}
            for child in children.order_by(Station.path)]




def figures(by=None, as_of=None, live=False, kind="report", **scope):
    """Counts and rates of one kind of matter (reports unless told), overall (by=None) or one row per value
    of a dimension (department, deputy, station, category, state, project or month). Rows are dicts with
    key, label, the counts and the rates. Read from the tally; `live=True` (or a filter the tally has no
    rows for) counts `case` itself."""
    as_of = as_of or calendar.today()
    scope["kind"] = kind
    filters = {k: v for k, v in scope.items() if k not in ("start", "end", "station", "kind")
               and v not in (None, "")}
    if live or len(filters) > 1 or (filters and by) or any(k not in DIMENSIONS for k in filters):
        rows = _live(by, as_of, scope)
    else:
        rows = _tallied(by, as_of, scope, filters)
    if by is None and not rows:
        rows = [_finish({}, 0)]
    for row in rows:
        _rated(row)
    if by is None:
        return rows[0]
    _label(rows, by)
    return rows


ADDED = [*SUMS, "due", "responded_in_time"]  # the counts of a row: rows of parts add up to the whole's


def _rated(row):
    """The row with its rates and its 二次整改 flag (from its counts)."""
    for name, (top, bottom) in RATES.items():
        row[name] = row[top] / row[bottom] if row[bottom] else None
    row["flagged"] = row["satisfaction_rate"] is not None and row["satisfaction_rate"] < SATISFACTION_FLOOR
    return row


def _live(by, as_of, scope):
    columns = [fn.COUNT(Case.id).alias("total"), *(sql.alias(name) for name, sql in _summed().items()),
               _count(_not_yet_due(as_of)).alias("not_yet_due")]
    if _in_time_column() is None:
        columns.append(_count(_within(response_hours())).alias("responded_in_time"))
    rows = [_finish(row, int(row.pop("not_yet_due") or 0)) for row in _cases_by(by, columns, scope).dicts()]
    for row in rows:
        row["responded_in_time"] = int(row.get("responded_in_time") or 0)
    return rows


UNCOUNTED = ("merged", "draft")  # a merged duplicate counts once, as its original; a draft not yet at all


def counted(query):
    """The cases the figures count: a duplicate merged into its original counts once, as the original; a
    suggestion's draft is nobody's business yet."""
    return query.where(Case.state.not_in(UNCOUNTED))


FIGURES = {"total": "反映总数", "handled": "已交办", "due": "应办结", "concluded": "已办结（已答复、已评价、已办结）",
           "on_time": "按期办结", "rated": "已评价", "satisfied": "满意（含基本满意）", "resolved": "办成（A类答复）",
           "responded": "代表已响应", "responded_in_time": "代表{hours}小时内响应"}


def figure_condition(name, as_of=None):
    """Exactly the cases one figure counts, as a `where` for the queue (the drill-down behind every number)."""
    if name not in FIGURES:
        return None
    base = Case.state.not_in(UNCOUNTED)
    if name == "total":
        return base
    if name == "due":
        return base & COUNTS["handled"] & ~_not_yet_due(as_of or calendar.today())
    if name == "responded_in_time":
        return base & _within(response_hours())
    return base & COUNTS[name]


def _cases_by(by, columns, scope):
    """`columns` over the cases in scope, one row per value of `by` (as "key") or one row overall."""
    key = month_expr() if by == "month" else DIMENSIONS[by] if by else None
    query = counted(scoped(Case.select(*([key.alias("key")] if key is not None else []), *columns), **scope))
    return query.group_by(key).order_by(key) if key is not None else query


def _not_yet_due(as_of):
    """Handled, not concluded, and its deadline not passed (or none set): not yet 应办结."""
    return COUNTS["open_handled"] & (Case.deadline.is_null() | (Case.deadline >= as_of))


def _finish(row, not_yet_due):
    for name in SUMS:
        row[name] = int(row.get(name) or 0)
    row["due"] = row["handled"] - not_yet_due
    column = _in_time_column()
    if column is not None:
        row["responded_in_time"] = row[column]
    return row


def _tallied(by, as_of, scope, filters):
    """The same rows summed from case_tally, with 应办结 completed by a live count of the few handled cases
    whose deadline is still ahead (deadlines move with as_of, so they cannot be tallied in advance)."""
    dim, value = next(iter(filters.items())) if filters else (by if by in DIMENSIONS else "station", None)
    if is_mysql():
        month = fn.DATE_FORMAT(CaseTally.day, "%Y-%m")
    else:
        month = fn.strftime("%Y-%m", CaseTally.day)
    key = month if by == "month" else CaseTally.key if by else None
    sums = [fn.SUM(getattr(CaseTally, name)).alias(name) for name in SUMS]
    query = CaseTally.select(*([key.alias("key")] if key is not None else []), *sums).where(
        CaseTally.kind == scope["kind"], CaseTally.dim == dim)
    if value is not None:
        query = query.where(CaseTally.key == str(getattr(value, "id", value)))
    query = query.where(_periods(scope.get("start"), scope.get("end"), UNITS[1:] if by == "month" else UNITS))
    if scope.get("station") is not None:
        query = query.where(CaseTally.station.in_(subtree(scope["station"])))
    if key is not None:
        query = query.group_by(key)
    waiting = _waiting(by, as_of, scope)
    rows = []
    for row in query.dicts():
        if by in DIMENSIONS:
            row["key"] = _key_value(by, row["key"])
        if row["total"]:
            rows.append(_finish(row, waiting.get(row.get("key"), 0)))
    return sorted(rows, key=lambda r: (r.get("key") is not None, r.get("key") or 0))


_READING = contextvars.ContextVar("stats_reading", default=None)


@contextlib.contextmanager
def one_reading():
    """Within it, the figures of one page count the cases still ahead of their deadline once per scope, not once
    per table (they change with every write: use it only around reads). Within another, it is that one."""
    token = _READING.set({}) if _READING.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _READING.reset(token)


def _waiting(by, as_of, scope):
    """How many handled cases in scope are not yet due, per value of `by` (None: all), from one query grouped by
    every dimension and month — the few cases in hand, read once per page within `one_reading`."""
    memo = _READING.get()
    mark = (as_of, *sorted((name, getattr(value, "id", value)) for name, value in scope.items()))
    rows = memo.get(mark) if memo is not None else None
    if rows is None:
        columns = [*DIMENSIONS.values(), month_expr()]
        rows = list(counted(scoped(Case.select(*columns, fn.COUNT(Case.id)), **scope)).where(
            _not_yet_due(as_of)).group_by(*columns).tuples())
        if memo is not None:
            memo[mark] = rows
    place = None if by is None else len(DIMENSIONS) if by == "month" else list(DIMENSIONS).index(by)
    waiting = defaultdict(int)
    for row in rows:
        waiting[None if place is None else row[place]] += row[-1]
    return waiting


def _periods(start, end, units=None):
    """The tally rows of [start, end) (local days; None: unbounded): whole years from the year rows, whole months
    at either ragged end from the month rows, the days left from the day rows (`units`: those to use, coarsest
    first)."""
    units = UNITS if units is None else units
    if not units:
        return (CaseTally.period == "D") & (CaseTally.day >= start) & (CaseTally.day < end)
    (period, floor, following), finer = units[0], units[1:]
    first = start if start is None or floor(start) == start else following(start)
    last = None if end is None else floor(end)
    if first is not None and last is not None and first >= last:
        return _periods(start, end, finer)
    whole = CaseTally.period == period
    whole &= CaseTally.day >= first if first else True
    whole &= CaseTally.day < last if last else True
    ragged = ([_periods(start, first, finer)] if start is not None and start != first else []) + \
        ([_periods(last, end, finer)] if end is not None and end != last else [])
    return reduce(operator.or_, [whole, *ragged])


def _next_month(day):
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


UNITS = (("Y", lambda d: d.replace(month=1, day=1), lambda d: dt.date(d.year + 1, 1, 1)),  # (period, floor, next)
         ("M", lambda d: d.replace(day=1), _next_month))


def _key_value(dim, text):
    """A tally key back to what the live query returns: an id for a table, text otherwise, None for ''."""
    if text == "":
        return None
    return int(text) if dim in LABELS else text


def _label(rows, by):
    model = LABELS.get(by)
    names = {}
    if model is not None:
        ids = [r["key"] for r in rows if r["key"] is not None]
        names = dict(model.select(model.id, model.name).where(model.id.in_(ids)).tuples()) if ids else {}
    for row in rows:
        k = row["key"]
        row["label"] = (names.get(k) if model is not None else CATEGORIES.get(k) if by == "category"
                        else STATES[k][0] if by == "state" and k in STATES else k) or "未交办"


# --- keeping the tally in step --------------------------------------------------------------------

def _rows_of(case):
    """The tally rows one case adds to and what it adds to each: ([(kind, dim, period, day, station, key)],
    {column: amount}), a day row, a month row (dated the 1st) and a year row (dated 1 January) for each
    dimension, every one by the same amounts. A merged duplicate (or no case) adds to none."""
    if case is None or case.state in UNCOUNTED:
        return [], {}
    day = calendar.local(case.submitted_at).date()
    station = case.station_id or 0
    amounts = {"total": 1, **{name: int(bool(test(case))) for name, test in TESTS.items()}}
    amounts["response_seconds"] = int((case.responded_at - case.submitted_at).total_seconds()
                                      if case.responded_at else 0)
    keys = {"station": case.station_id, "state": case.state, "department": case.lead_department_id,
            "deputy": case.deputy_id, "category": case.category, "project": case.project_id}
    return [(case.kind or "report", dim, period, when, station, "" if value is None else str(value))
            for dim, value in keys.items()
            for period, when in (("D", day), ("M", day.replace(day=1)), ("Y", day.replace(month=1, day=1)))], amounts


def record(before, after):
    """Move one case's counts from what it was (`before`, None for a new case) to what it is (`after`),
    inside the caller's transaction, in one statement that names only the columns that move (a new case moves
    `total` alone). Rows go in one fixed order, so writers never deadlock."""
    (old_rows, old), (new_rows, new) = _rows_of(before), _rows_of(after)
    kept = {name: new.get(name, 0) - old.get(name, 0) for name in SUMS}  # a row both add to moves by the difference
    gone = {name: -amount for name, amount in old.items()}
    changes = dict.fromkeys(old_rows, gone)
    for row in new_rows:
        changes[row] = kept if row in changes else new
    rows = [(row, amounts) for row, amounts in sorted(changes.items())
            if any(amounts.values())]
    if rows:
        distinct = {id(amounts): amounts for _, amounts in rows}.values()  # at most the three above
        moved = tuple(name for name in SUMS if any(amounts[name] for amounts in distinct))
        values = {}
        for i, (row, amounts) in enumerate(rows):
            values.update(zip((f"{column}{i}" for column in KEY_COLUMNS), row))
            values.update((f"{name}{i}", amounts[name]) for name in moved)
        _upsert(len(rows), moved).execute(**values)


KEY_COLUMNS = ("kind", "dim", "period", "day", "station", "key")  # a tally row's identity, its unique index
TALLY_COLUMNS = (*KEY_COLUMNS, *SUMS)
_UPSERTS = {}


def _upsert(count, moved):
    """The upsert of `count` tally rows adding to the columns `moved`, its SQL built once per row count, set of
    columns and kind of database (building it cost more than running it). A new row gets every column, 0 in the
    SQL text for those that do not move; a row already there gets only the moved columns added."""
    if (count, moved) not in _UPSERTS:
        def build():
            added = (lambda f: fn.VALUES(f)) if is_mysql() else (lambda f: getattr(EXCLUDED, f.name))  # noqa: E731
            return CaseTally.insert_many(
                [{column: Prepared.arg(f"{column}{i}") if column in KEY_COLUMNS or column in moved else 0
                  for column in TALLY_COLUMNS} for i in range(count)]
            ).on_conflict(
                conflict_target=None if is_mysql() else [getattr(CaseTally, name) for name in KEY_COLUMNS],
                update={getattr(CaseTally, name): getattr(CaseTally, name) + added(getattr(CaseTally, name))
                        for name in moved})
        _UPSERTS[count, moved] = Prepared(build)
    return _UPSERTS[count, moved]


def rebuild():
    """Recount the whole tally from `case` (after a migration, a bulk load or a repair); returns the rows: the day
    rows from the cases, the month and year rows summed from the day rows. Inside the caller's transaction when
    there is one (a migration: MariaDB's DDL ends savepoints)."""
    columns = [CaseTally.kind, CaseTally.dim, CaseTally.period, CaseTally.day, CaseTally.station, CaseTally.key,
               *(getattr(CaseTally, name) for name in SUMS)]
    with contextlib.nullcontext() if db.in_transaction() else db.atomic():
        CaseTally.delete().execute()
        sums = list(_summed().values())
        for dim, column in DIMENSIONS.items():
            key = fn.COALESCE(column.cast("CHAR" if is_mysql() else "TEXT"), "")
            day = day_expr()
            CaseTally.insert_from(Case.select(Case.kind, SQL(f"'{dim}'"), SQL("'D'"), day, fn.COALESCE(Case.station, 0),
                                              key, fn.COUNT(Case.id), *sums).where(Case.state.not_in(UNCOUNTED))
                                  .group_by(Case.kind, day, Case.station, key), columns).execute()
        for period, mysql_format, sqlite_modifier in (("M", "%Y-%m-01", "start of month"),
                                                       ("Y", "%Y-01-01", "start of year")):
            first = fn.DATE_FORMAT(CaseTally.day, mysql_format) if is_mysql() else fn.date(CaseTally.day,
                                                                                             sqlite_modifier)
            CaseTally.insert_from(CaseTally.select(
                CaseTally.kind, CaseTally.dim, SQL(f"'{period}'"), first, CaseTally.station, CaseTally.key,
                *(fn.SUM(getattr(CaseTally, name)) for name in SUMS)).where(CaseTally.period == "D").group_by(
                CaseTally.kind, CaseTally.dim, first, CaseTally.station, CaseTally.key), columns).execute()
    return CaseTally.select().count()


# --- 代表建议: the same counts and rates, by department, deputy, session or category, and 面商率 ------------

SUGGESTION_DIMENSIONS = {"department": Case.lead_department, "deputy": Case.deputy, "category": Case.category,
                         "state": Case.state, "session": None}  # session: Suggestion.session
SUGGESTION_RATES = {**RATES, "consult_rate": ("consulted", "handled")}
SUGGESTION_FIGURES = {"total": "建议总数", "handled": "已交办", "due": "应办结", "concluded": "已答复",
                      "on_time": "按期答复", "rated": "已测评", "satisfied": "满意（含基本满意）", "resolved": "办成（A类）",
                      "consulted": "已面商"}


def suggestion_figures(by=None, as_of=None, session=None, year=None, **scope):
    """The suggestions' figures, defined as the reports' (COUNTS, RATES: 办结率, 按期办结率, 满意率 by the lead
    deputy's 测评, 办成率 = A answers) plus 面商率 = consulted / handled (a 面商 recorded in any round). Counted
    live (a county has a few hundred suggestions a year); `session` and `year` pick the congress session."""
    from models import CaseEvent, Suggestion
    as_of = as_of or calendar.today()
    key = (Suggestion.session if by == "session" else SUGGESTION_DIMENSIONS[by]) if by else None
    consulted = COUNTS["handled"] & Case.id.in_(CaseEvent.select(CaseEvent.case).where(CaseEvent.action == "consult"))
    columns = [fn.COUNT(Case.id).alias("total")] + [_count(cond).alias(name) for name, cond in COUNTS.items()] + \
        [_count(consulted).alias("consulted"), _count(_not_yet_due(as_of)).alias("not_yet_due")]
    query = Case.select(*([key.alias("key")] if key is not None else []), *columns).join(
        Suggestion, on=Suggestion.case == Case.id)
    query = counted(scoped(query, kind="suggestion", **scope))
    if session not in (None, ""):
        query = query.where(Suggestion.session == session)
    if year:
        query = query.where(Suggestion.year == year)
    if key is not None:
        query = query.group_by(key).order_by(key)
    rows = []
    for row in query.dicts():
        row = _finish(row, int(row.pop("not_yet_due") or 0))
        row["consulted"] = int(row.get("consulted") or 0)
        if row["total"] or by is None:
            rows.append(row)
    for row in rows:
        for name, (top, bottom) in SUGGESTION_RATES.items():
            row[name] = row[top] / row[bottom] if row[bottom] else None
    if by is None:
        return rows[0]
    if by == "session":
        from services.vocab import session_label
        for row in rows:
            row["label"] = session_label(row["key"])
    else:
        _label(rows, by)
    return rows


def percent(rate):
    """A rate as the office writes it: 96.3% — or a dash when there is nothing to divide."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def response_hours():
    """响应率: the deputy's first answer within this many hours of the report (setting RESPONSE_HOURS)."""
    return setting("RESPONSE_HOURS", 24)


def figure_label(name):
    return FIGURES[name].format(hours=response_hours()) if name in FIGURES else None


def deputy_responsiveness(live=False, **scope):
    """Per deputy, for cases sent to them in the period: received, responded (accepted, declined or
    forwarded by the deputy themselves: Case.responded_at), response_rate = responded / received, avg_hours
    from submission to that first response, and in_time / in_time_rate: responded within response_hours()
    (响应率; from the tally when it has that window). Sorted best first."""
    scope.pop("as_of", None)
    scope["kind"] = "report"
    result = []
    for row in figures(by="deputy", live=live or _in_time_column() is None, **scope):
        if row["key"] is None:
            continue
        result.append({"key": row["key"], "label": row["label"], "received": row["total"],
                       "responded": row["responded"], "response_rate": row["responded"] / row["total"],
                       "in_time": row["responded_in_time"], "in_time_rate": row["responded_in_time"] / row["total"],
                       "avg_hours": row["response_seconds"] / 3600 / row["responded"] if row["responded"] else None})
    result.sort(key=lambda r: (-r["response_rate"], r["avg_hours"] if r["avg_hours"] is not None else float("inf"),
                               r["label"]))
    return result
