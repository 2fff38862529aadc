"""微实事 in the console: the funds and their ledgers, a deputy's proposal, the 主席团's decision (direct or put to
a ballot, then applied), spending entries and completion. Rules: services/micro.py."""
from flask import abort, flash, redirect, render_template, request, url_for

from models import Deputy, Department, MicroProject, Station
from services import micro
from services.errors import ServiceError
from services.money import yuan
from services.workflow import in_scope

from . import EVERYONE, STAFF, actor, bp, fail, roles


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["deputies"] = request.form.getlist("deputies")
    data["micro"] = request.form.getlist("micro")
    return data


@bp.route("/micro", methods=["GET", "POST"])
@roles(*EVERYONE)
def micro_funds():
    if request.method == "POST":
        try:
            fund = micro.create_fund(actor(), _form())
            flash(f"已设立{fund.station.name}{fund.year}年微实事资金", "ok")
            return redirect(url_for("console.micro_fund", year=fund.year, station=fund.station.code))
        except ServiceError as err:
            fail(err)
    who = actor()
    funds = [f for f in micro.funds() if who.role not in STAFF or in_scope(who, f.station_id)]
    mine = list(MicroProject.select().where(MicroProject.deputy == who.account.deputy_id).order_by(
        MicroProject.id.desc())) if who.role == "deputy" else []
    return render_template("console/micro_funds.html", funds=[(f, micro.ledger(f)) for f in funds], mine=mine,
                           yuan=yuan, states=micro.STATES, form=request.form, defaults=micro.defaults(),
                           stations=Station.select().where(Station.level.in_(("county", "town")))
                           .order_by(Station.path))


@bp.route("/micro/<int:year>/<station>", methods=["GET", "POST"])
@roles(*EVERYONE)
def micro_fund(year, station):
    fund = micro.fund_of(station, year)
    who = actor()
    if who.role in STAFF and not in_scope(who, fund.station_id) or who.role == "department":
        abort(403)
    if request.method == "POST":
        try:
            if request.form.get("action") == "vote":
                ballot = micro.put_to_vote(who, fund, _form())
                flash("已创建主席团表决，请核对后开始投票", "ok")
                return redirect(url_for("console.ballot", code=ballot.code))
            item = micro.propose(who, fund, _form())
            flash(f"已提出微实事 {item.code}，等待主席团审议", "ok")
            return redirect(url_for("console.micro_project", code=item.code))
        except ServiceError as err:
            fail(err)
    rows = micro.listing(fund)
    if who.role == "deputy":
        rows = [m for m in rows if m.deputy_id == who.account.deputy_id]
    return render_template("console/micro_fund.html", fund=fund, ledger=micro.ledger(fund), rows=rows, yuan=yuan,
                           states=micro.STATES, who=who, form=request.form,
                           departments=Department.select().where(Department.active == True)  # noqa: E712
                           .order_by(Department.code), deputies=Deputy.select().order_by(Deputy.code))


@bp.route("/micro/<code>", methods=["GET", "POST"])
@roles(*EVERYONE)
def micro_project(code):
    item = micro.get(code)
    if not micro.can_view(item, actor()):
        abort(404)
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "decide":
                micro.decide(actor(), item, _form())
                flash("已记录主席团的决定", "ok")
            elif action == "spend":
                micro.spend(actor(), item, _form())
                flash("已登记支出", "ok")
            elif action == "finish":
                micro.finish(actor(), item, _form())
                flash("已标记完成，关注者将收到通知", "ok")
            else:
                flash("不支持的操作", "error")
        except ServiceError as err:
            fail(err)
        return redirect(url_for("console.micro_project", code=item.code))
    item = micro.get(code)
    return render_template("console/micro.html", item=item, fund=item.fund, ledger=micro.ledger(item.fund),
                           spends=list(item.spends.order_by(micro.MicroSpend.id)), spent=micro.spent_by(item),
                           yuan=yuan, states=micro.STATES, decisions=micro.DECISIONS, who=actor(),
                           departments=Department.select().where(Department.active == True)  # noqa: E712
                           .order_by(Department.code))
