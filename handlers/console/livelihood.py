"""民生实事项目票决制 in the console: the year's call (a 项目征集 on the 征集 engine) and its opinions turned into
proposals, the proposals (screened, merged, listed), the government's own candidates, the candidate list put to the deputies' vote, the year-end 测评 and the figures; and, on a ballot's
page, 按结果办理 — a linked ballot's result applied (projects made, 微实事 decided, 整改 notified).
Rules: services/livelihood.py, services/micro.py."""
from flask import flash, redirect, render_template, request, url_for

from models import Department, Deputy
from services import ballots, calendar, consultations, livelihood, micro
from services.errors import ServiceError
from services.money import yuan

from . import STAFF, actor, bp, fail, roles

APPLY = {"project_vote": livelihood.apply_result, "micro": micro.apply_ballot,
         "project_review": livelihood.apply_evaluation}


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["deputies"] = request.form.getlist("deputies")
    return data


def _year():
    try:
        return int(request.args.get("year") or livelihood.call_year())
    except ValueError:
        return livelihood.call_year()


@bp.route("/livelihood", methods=["GET", "POST"])
@roles(*STAFF)
def livelihood_year():
    year = _year()
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "call":
                found = livelihood.open_call(actor(), year, {**_form(), "stations": request.form.getlist("stations")})
                flash("已发布民生实事项目征集，请在征集页面开始征集", "ok")
                return redirect(url_for("console.consultation", code=found.code))
            elif action == "adopt":
                livelihood.adopt(actor(), consultations.opinion_of(None, request.form.get("opinion")), _form())
                flash("已转为项目建议", "ok")
            elif action == "propose":
                livelihood.propose(actor(), {**_form(), "year": str(year)})
                flash("已添加项目建议", "ok")
            elif action == "vote":
                ballot = livelihood.start_vote(actor(), year, _form())
                flash("已创建票决，请核对后开始投票", "ok")
                return redirect(url_for("console.ballot", code=ballot.code))
            elif action == "evaluate":
                ballot = livelihood.start_evaluation(actor(), year, _form())
                flash("已创建年终测评，请核对后开始投票", "ok")
                return redirect(url_for("console.ballot", code=ballot.code))
            else:
                livelihood.screen(actor(), livelihood.get(request.form.get("candidate")), _form())
                flash("已处理项目建议", "ok")
        except ServiceError as err:
            fail(err)
        return redirect(url_for("console.livelihood_year", year=year))
    return render_template("console/livelihood.html", year=year, rows=livelihood.proposals(year),
                           call=livelihood.call_of(year), waiting=livelihood.waiting_opinions(year),
                           signer=consultations.signer, call_states=consultations.STATES,
                           opinion_channels=consultations.CHANNELS,
                           listed=livelihood.candidate_list(year), figures=livelihood.figures(year),
                           sources=livelihood.SOURCES, channels=livelihood.CHANNELS, states=livelihood.STATES,
                           departments=Department.select().where(Department.active == True)  # noqa: E712
                           .order_by(Department.code), session=livelihood.session_deputies(),
                           deputies=Deputy.select().order_by(Deputy.code), yuan=yuan, percent=ballots.percent,
                           today=calendar.today())


@bp.post("/ballots/<code>/apply")
@roles(*STAFF)
def ballot_apply(code):
    found = ballots.get(code)
    try:
        if found.kind not in APPLY:
            flash("这类表决没有需要按结果办理的事项", "error")
        else:
            done = APPLY[found.kind](actor(), found)
            flash({"project_vote": lambda: f"已按票决结果确定{len(done)}个民生实事项目，已通知提议人",
                   "micro": lambda: f"已按表决结果批准{done[0]}个、不予批准{done[1]}个微实事",
                   "project_review": lambda: f"测评结果已办理：{len(done)}个项目须整改，已通知承办单位"}[found.kind](), "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.ballot", code=found.code))
