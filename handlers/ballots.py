"""表决 on phones and screens: deputies vote at /m/ballots/<code> (signed in as on the phone workbench,
handlers/mobile.py), the public at /v/<code> (one vote per WeChat identity, handlers/webauth.py), and
/v/<code>/live is the big screen at the meeting (turnout while the vote runs, every count once published).
Every rule is services/ballots.py."""
from flask import Blueprint, redirect, render_template, request, url_for

from handlers import mobile, webauth
from handlers.security import csrf_token
from services import ballots
from services.errors import ServiceError

bp = Blueprint("ballots", __name__)
webauth.protect(bp, "public_vote", "deputy_vote")


def _page(ballot, status=200, **context):
    context.setdefault("error", None)
    found = ballots.result(ballot) if ballot.state == "published" else None
    return render_template("public/ballot.html", ballot=ballot, items=ballots.items(ballot),
                           marks=ballots.MARKS, result=found, percent=ballots.percent, kinds=ballots.KINDS,
                           csrf=csrf_token(), **context), status


def _vote(ballot, deputy=None, openid=None, account=None):
    if request.method == "GET":
        return _page(ballot, refusal=ballots.may_vote(ballot, deputy, openid), voted=request.args.get("voted"))
    try:
        ballots.cast(ballot, ballots.parse_marks(ballot, request.form), deputy, openid,
                     ballots.clean_comment(ballot, request.form.get("comment"), account))
    except ServiceError as err:
        return _page(ballot, err.status, error=err.message, refusal=ballots.may_vote(ballot, deputy, openid))
    return redirect(request.path + "?voted=1", code=303)


@bp.route("/m/ballots/<code>", methods=["GET", "POST"])
def deputy_vote(code):
    account = mobile.signed_in()
    if account is None:
        return redirect(url_for("mobile.home"))
    ballot = ballots.get(code)  # a forged or mistyped code: the Chinese 404 page
    if ballot.electorate != "deputies":
        return redirect(url_for("ballots.public_vote", code=ballot.code))
    return _vote(ballot, deputy=account.deputy if account.role == "deputy" else None, account=account)


@bp.route("/v/<code>", methods=["GET", "POST"])
def public_vote(code):
    ballot = ballots.get(code)  # a forged or mistyped code: the Chinese 404 page
    if ballot.electorate == "deputies" and ballot.state != "published":
        return redirect(url_for("ballots.deputy_vote", code=ballot.code))
    return _vote(ballot, openid=webauth.oa_openid())


@bp.get("/v/<code>/live")
def live(code):
    ballot = ballots.get(code)  # a forged or mistyped code: the Chinese 404 page
    found = ballots.result(ballot) if ballot.state == "published" else None
    return render_template("public/ballot_live.html", ballot=ballot, result=found, turnout=ballots.turnout(ballot),
                           electors=ballots.electorate_size(ballot), percent=ballots.percent,
                           states=ballots.STATES, kinds=ballots.KINDS)


def init_app(app):
    app.register_blueprint(bp)
