"""民情 — the analysis dashboard (topics, clusters, the map, category × township), the monthly 每月一题 report
(.docx) and retraining the routing suggestion now. Suggestions only: every figure links to its cases."""
import datetime as dt

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from models import Deputy, Station
from services import analysis, calendar, exports, suggestions
from services.errors import ServiceError

from . import STAFF, actor, bp, fail, roles

PERIODS = {7: "近7天", 30: "近30天", 90: "近90天"}


def _station():
    """The chosen station, never wider than a station-scoped staff member's own subtree."""
    own = g.account.station if g.account.station_id else None
    station = Station.get_or_none(Station.code == request.args.get("station", "")) or own
    if own is not None and not station.path.startswith(own.path):
        station = own
    return station


@bp.get("/minqing")
@roles(*STAFF)
def minqing():
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else 30
    station = _station()
    data = analysis.dashboard(days=days, station=station)
    points = [{k: p[k] for k in ("lat", "lng", "title", "number")} for p in data["points"]]
    chart = {"topics": [{"word": t["word"], "count": t["count"], "previous": t["previous"]} for t in data["topics"]],
             "points": points, "tiles": current_app.config.get("MAP_TILE_URL", ""),
             "tile_key": current_app.config.get("MAP_TILE_KEY", ""),
             "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION", "")}
    this_month = calendar.today().strftime("%Y-%m")
    last_month = (calendar.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    stations = Station.select().where(Station.level.in_(("county", "town"))).order_by(Station.path)
    deputies = list(Deputy.select().order_by(Deputy.code))
    return render_template("console/minqing.html", d=data, chart=chart, periods=PERIODS, days=days, station=station,
                           stations=stations, model=analysis.routing_model(), months=[this_month, last_month],
                           deputies=deputies)


@bp.get("/minqing/report.docx")
@roles(*STAFF)
def minqing_report():
    month = request.args.get("month") or calendar.today().strftime("%Y-%m")
    body = analysis.monthly_report(month, station=_station())
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers=exports.attachment(f"民情分析-每月一题-{month}.docx"))


@bp.post("/minqing/suggest")
@roles(*STAFF)
def minqing_suggest():
    """民意转化: a cluster's reports become a 代表建议 draft of the chosen lead deputy, the reports attached; the
    deputy (or staff) then writes the measures and submits it as any draft."""
    try:
        data = analysis.suggestion_from(request.form.getlist("numbers"), actor())
        found = suggestions.draft(actor(), {**data, "lead_deputy": request.form.get("lead_deputy")}, source="console")
    except ServiceError as err:
        fail(err)
        return redirect(url_for("console.minqing"))
    flash(f"已生成代表建议草稿：{found.number}，请补充建议内容后提交", "ok")
    return redirect(url_for("console.suggestion", number=found.number))


@bp.post("/minqing/train")
@roles(*STAFF)
def minqing_train():
    accuracy = analysis.train()
    flash(f"已用 {accuracy['train'] + accuracy['test']} 件已交办案件重新训练建议模型", "ok")
    return redirect(url_for("console.minqing"))
