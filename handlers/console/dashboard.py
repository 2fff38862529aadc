"""The statistics dashboard (figures from services.stats, the one definition) and failed notifications.

Every number links to the queue filtered to exactly the cases it counts (`figure=` plus the same scope),
and the tables export to Excel."""
import datetime as dt
from urllib.parse import urlencode

from flask import Response, g, render_template, request, url_for

from models import Account, Department, Deputy, Notification, Project, Station
from services import calendar, charts, exports, inbox, levels, stats
from services.workflow import CATEGORIES, SOURCES, STATES

from . import STAFF, bp, roles
from .cases import deputy_menu

# the dashboard's filters: (query name, Case field for stats, model looked up by code)
FILTERS = {"department": ("lead_department", Department), "deputy": ("deputy", Deputy), "category": ("category", None),
           "source": ("source", None)}


DEPUTY_ROWS = 300  # deputies listed on the page at most (a province has 100,000: choose a station, or export)
NONE = "-"  # a queue filter value meaning "none" (未交办, no station, no project)


def _day(name):
    return calendar.parse_day(request.args.get(name, ""))


def _rate_order(rows, rate):
    return sorted(rows, key=lambda r: (r[rate] is None, -(r[rate] or 0), -r["total"]))


def _scope():
    """(scope for stats.figures, the same filters as queue parameters, the chosen values for the form)."""
    start, end = _day("start"), _day("end")
    own = g.account.station if g.account.role == "staff" and g.account.station_id else None
    station = Station.get_or_none(Station.code == request.args.get("station", "")) or own
    if own is not None and not station.path.startswith(own.path):
        station = own  # never wider than the staff member's own scope
    scope = {"start": start, "end": end and end + dt.timedelta(days=1), "station": station}
    params = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else "",
              "station": station.code if station is not None and station != own else ""}
    for name, (field, model) in FILTERS.items():
        value = (request.args.get(name) or "").strip()
        if not value:
            continue
        found = model.get_or_none(model.code == value) if model else value
        scope[field] = found.id if model and found else found if model is None else -1
        params[name] = value
    return scope, {k: v for k, v in params.items() if v}, own


def _months(month, scope):
    """A month row's queue parameters: its first and last day, clipped to the chosen period."""
    first = dt.date.fromisoformat(month + "-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    if scope["start"]:
        first = max(first, scope["start"])
    if scope["end"]:
        last = min(last, scope["end"] - dt.timedelta(days=1))
    return {"start": first.isoformat(), "end": last.isoformat()}


def _row_params(by, rows, scope):
    """Each row's extra queue parameters (by code, never by id)."""
    model = {"department": Department, "station": Station, "project": Project, "deputy": Deputy}.get(by)
    keys = [row["key"] for row in rows if row["key"] is not None]
    codes = dict(model.select(model.id, model.code).where(model.id.in_(keys)).tuples()) if model and keys else {}
    name = {"department": "department", "station": "at_station", "project": "project", "deputy": "deputy"}.get(by)
    for row in rows:
        if by == "month":
            row["params"] = _months(row["key"], scope)
        elif by in ("category", "state"):
            row["params"] = {by: row["key"]}
        else:
            row["params"] = {name: codes.get(row["key"], "") if row["key"] is not None else NONE}
    return rows


def _figures(scope):
    overall = stats.figures(**scope)
    by = {name: _row_params(name, stats.figures(by=name, **scope), scope)
          for name in ("state", "department", "station", "category", "month", "project")}
    departments = _rate_order([r for r in by["department"] if r["key"] is not None], "satisfaction_rate")
    return overall, by, departments


def _deputies_in(scope):
    """How many deputies the page would list: those of the chosen station's subtree (one with the deputy filter).
    Ranking a province's 100,000 reads a row per deputy and year: not on a page a person waits for."""
    if scope.get("deputy"):
        return 1
    deputies = Deputy.select()
    if scope["station"] is not None:
        deputies = deputies.where(Deputy.station.in_(stats.subtree(scope["station"])))
    return deputies.count()


@bp.get("/stats")
@roles(*STAFF)
@stats.one_reading()  # the cases still ahead of their deadline counted once for the page's every table
def dashboard():
    scope, params, own = _scope()
    overall, by, departments = _figures(scope)
    deputies = _deputies_in(scope)
    responsiveness = stats.deputy_responsiveness(**scope) if deputies <= DEPUTY_ROWS else []
    by_state = {r["key"]: r for r in by["state"]}
    states = [{"key": k, "label": v[0], "total": by_state[k]["total"] if k in by_state else 0, "params": {"state": k}}
              for k, v in STATES.items() if k != "merged"]

    def link(figure, **extra):
        return url_for("console.cases") + "?" + urlencode({**params, **extra, "figure": figure})
    top = scope["station"] or levels.root_congress()  # 下级汇总: only in a tree of congresses (services/levels.py)
    lower = [dict(r, params={**params, "station": r["key"]}) for r in stats.rolled_up(
        top, **{k: v for k, v in scope.items() if k != "station"})] if levels.root_congress() else []
    stations = Station.select().order_by(Station.path)
    if own is not None:
        stations = stations.where(Station.path.startswith(own.path))
    return render_template(
        "console/dashboard.html", overall=overall, states=states, departments=departments,
        stations=_rate_order(by["station"], "completion_rate"), lower=lower,
        categories=sorted(by["category"], key=lambda r: -r["total"]), months=by["month"],
        projects=[r for r in by["project"] if r["key"] is not None],
        responsiveness=_row_params("deputy", responsiveness, {}),
        deputies_in_scope=deputies, deputy_rows=DEPUTY_ROWS,
        response_hours=stats.response_hours(),
        flagged_departments=[r for r in departments if r["flagged"]],
        flagged_projects=[r for r in by["project"] if r["key"] is not None and r["flagged"]],
        f=request.args, percent=stats.percent, floor=stats.SATISFACTION_FLOOR, charts=charts,
        scope_station=scope["station"], link=link, export_query=urlencode(params),
        all_departments=Department.select().order_by(Department.code), all_stations=stations,
        all_deputies=deputy_menu(), categories_labels=CATEGORIES, sources=SOURCES)


FIGURE_HEADINGS = ["件数", "应办结", "已办结", "办结率", "按期办结率", "已评价", "满意率", "办成率"]


def _figure_row(label, r):
    p = stats.percent
    return [label, r["total"], r["due"], r["concluded"], p(r["completion_rate"]), p(r["on_time_rate"]), r["rated"],
            p(r["satisfaction_rate"]), p(r["success_rate"])]


@bp.get("/stats/export.xlsx")
@roles(*STAFF)
@stats.one_reading()
def stats_export():
    scope, _, _ = _scope()
    overall, by, departments = _figures(scope)
    responsiveness = stats.deputy_responsiveness(**scope)
    widths = [24] + [10] * 8
    sheets = [("总体", ["范围"] + FIGURE_HEADINGS, widths, [_figure_row("全部", overall)])]
    for title, head, rows in [("承办单位", "承办单位", departments), ("联络站", "联络站", by["station"]),
                              ("问题类别", "类别", by["category"]), ("按月", "月份", by["month"]),
                              ("民生实事项目", "项目", [r for r in by["project"] if r["key"] is not None])]:
        sheets.append((title, [head] + FIGURE_HEADINGS, widths, [_figure_row(r["label"], r) for r in rows]))
    hours = stats.response_hours()
    sheets.append(("代表响应", ["代表", "收到", "已响应", "响应率", f"{hours}小时内响应", f"{hours}小时响应率",
                               "平均响应时长（小时）"],
                   [16, 10, 10, 10, 12, 12, 20],
                   [[r["label"], r["received"], r["responded"], stats.percent(r["response_rate"]), r["in_time"],
                     stats.percent(r["in_time_rate"]), round(r["avg_hours"], 1) if r["avg_hours"] is not None
                     else "—"] for r in responsiveness]))
    return Response(exports.table_xlsx(sheets), mimetype=exports.XLSX_MIME,
                    headers=exports.attachment("办理统计.xlsx"))


@bp.get("/notifications/failed")
@roles(*STAFF)
def failed_notifications():
    rows = list(Notification.select(Notification, Account).join(Account).where(Notification.state == "failed")
                .order_by(Notification.created_at.desc()).limit(500))
    return render_template("console/failed.html", rows=rows, lost=inbox.lost())
