"""表决 in the console: set up a ballot (items, electorate, window, counting rules), open it (the electors are
told), close it (the count is frozen), publish, correct with a reason, re-vote tied items, export, QR code."""
from flask import Response, current_app, flash, redirect, render_template, request, url_for

from models import Deputy, Department
from qr import codes
from services import ballots, exports
from services.errors import ServiceError

from . import STAFF, actor, bp, fail, roles

ACTIONS = {"open": ballots.open_ballot, "close": ballots.close, "publish": ballots.publish}


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["departments"] = request.form.getlist("departments")
    data["deputies"] = request.form.getlist("deputies")
    return data


@bp.get("/ballots")
@roles(*STAFF)
def ballots_list():
    rows = list(ballots.Ballot.select().order_by(ballots.Ballot.created_at.desc(), ballots.Ballot.id.desc()))
    return render_template("console/ballots.html", rows=rows, kinds=ballots.KINDS, states=ballots.STATES)


@bp.route("/ballots/new", methods=["GET", "POST"])
@roles(*STAFF)
def ballot_new():
    if request.method == "POST":
        try:
            ballot = ballots.create(actor(), _form())
            flash(f"已创建表决 {ballot.code}", "ok")
            return redirect(url_for("console.ballot", code=ballot.code))
        except ServiceError as err:
            fail(err)
    return render_template("console/ballot_form.html", form=request.form, kinds=ballots.KINDS,
                           methods=ballots.METHODS, electorates=ballots.ELECTORATES, rules=ballots.RULES,
                           bases=ballots.BASES, departments=Department.select().where(Department.active == True)  # noqa: E712
                           .order_by(Department.code), deputies=Deputy.select().order_by(Deputy.code))


@bp.get("/ballots/<code>")
@roles(*STAFF)
def ballot(code):
    found = ballots.get(code)
    base = current_app.config["PUBLIC_BASE_URL"]
    path = url_for("ballots.deputy_vote" if found.electorate == "deputies" else "ballots.public_vote", code=found.code)
    return render_template("console/ballot.html", ballot=found, items=ballots.items(found),
                           result=ballots.result(found), history=list(found.results.order_by(ballots.BallotResult.seq)),
                           turnout=ballots.turnout(found), electors=ballots.electorate_size(found),
                           electors_list=[e.deputy for e in found.electors], vote_url=base + path,
                           kinds=ballots.KINDS, methods=ballots.METHODS, states=ballots.STATES,
                           rules=ballots.RULES, bases=ballots.BASES, percent=ballots.percent)


@bp.post("/ballots/<code>/<action>")
@roles(*STAFF)
def ballot_action(code, action):
    found = ballots.get(code)
    try:
        if action in ACTIONS:
            ACTIONS[action](actor(), found)
            flash({"open": "投票已开始，已通知名单中的代表", "close": "投票已结束，结果已计票并冻结",
                   "publish": "结果已公布"}[action], "ok")
        elif action == "correct":
            ballots.correct(actor(), found, _form())
            flash("已记录更正后的结果", "ok")
        elif action == "revote":
            new = ballots.revote(actor(), found, _form())
            flash("已创建并列事项的再次投票", "ok")
            return redirect(url_for("console.ballot", code=new.code))
        else:
            flash("不支持的操作", "error")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.ballot", code=found.code))


@bp.get("/ballots/<code>/results.xlsx")
@roles(*STAFF)
def ballot_export(code):
    found = ballots.get(code)
    return Response(ballots.export_xlsx(found), mimetype=exports.XLSX_MIME,
                    headers=exports.attachment(f"{found.title}-表决结果.xlsx"))


@bp.get("/ballots/<code>/qr.png")
@roles(*STAFF)
def ballot_qr(code):
    found = ballots.get(code)
    path = url_for("ballots.deputy_vote" if found.electorate == "deputies" else "ballots.public_vote", code=found.code)
    return Response(codes.png(current_app.config["PUBLIC_BASE_URL"] + path), mimetype="image/png")
