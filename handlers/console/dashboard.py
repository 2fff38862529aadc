"""The statistics dashboard (figures from services.stats, the one definition) and failed notifications."""
import datetime as dt

from flask import g, render_template, request

from models import Account, Notification
from services import calendar, charts, stats
from services.workflow import STATES

from . import STAFF, bp, roles


def _day(name):
    return calendar.parse_day(request.args.get(name, ""))


def _rate_order(rows, rate):
    return sorted(rows, key=lambda r: (r[rate] is None, -(r[rate] or 0), -r["total"]))


@bp.get("/stats")
@roles(*STAFF)
def dashboard():
    start, end = _day("start"), _day("end")
    scope = {"start": start, "end": end and end + dt.timedelta(days=1),
             "station": g.account.station if g.account.role == "staff" and g.account.station_id else None}
    overall = stats.figures(**scope)
    by = {name: stats.figures(by=name, **scope) for name in ("state", "department", "station", "category",
                                                             "month", "project")}
    departments = _rate_order([r for r in by["department"] if r["key"] is not None], "satisfaction_rate")
    by_state = {r["key"]: r["total"] for r in by["state"]}
    states = [{"key": k, "label": v[0], "total": by_state.get(k, 0)} for k, v in STATES.items()]
    responsiveness = stats.deputy_responsiveness(**scope)
    return render_template(
        "console/dashboard.html", overall=overall, states=states, departments=departments,
        stations=_rate_order(by["station"], "completion_rate"),
        categories=sorted(by["category"], key=lambda r: -r["total"]), months=by["month"],
        projects=[r for r in by["project"] if r["key"] is not None], responsiveness=responsiveness,
        flagged_departments=[r for r in departments if r["flagged"]],
        flagged_projects=[r for r in by["project"] if r["key"] is not None and r["flagged"]],
        start=request.args.get("start", ""), end=request.args.get("end", ""), percent=stats.percent,
        floor=stats.SATISFACTION_FLOOR, charts=charts, scope_station=scope["station"])


@bp.get("/notifications/failed")
@roles(*STAFF)
def failed_notifications():
    rows = list(Notification.select(Notification, Account).join(Account).where(Notification.state == "failed")
                .order_by(Notification.created_at.desc()).limit(500))
    return render_template("console/failed.html", rows=rows)
