"""Phone and public pages of 微实事 and 票决制: the fund's published ledger (/micro/<year>/<station>) with every
decided micro-project and what it spent; a deputy's micro-projects and proposal form on the phone (/m/micro)."""
from flask import Blueprint, redirect, request, url_for

from handlers import mobile, webauth
from handlers.public import not_found, page
from services import calendar, micro
from services.errors import NotFound, ServiceError
from services.money import yuan

bp = Blueprint("livelihood", __name__)
webauth.protect(bp, "deputy_micro")


@bp.route("/m/micro", methods=["GET", "POST"])
def deputy_micro():
    """代表提 on the phone: the deputy's own micro-projects, and a proposal to their township's fund this year."""
    account = mobile.worker()
    if account is None or account.role != "deputy":
        return redirect(url_for("mobile.home"))
    fund = micro.fund_for(account.deputy, calendar.today().year)
    error = None
    if request.method == "POST" and fund is not None:
        try:
            item = micro.propose(account, fund, request.form)
            return redirect(url_for("livelihood.deputy_micro", done=item.code), code=303)
        except ServiceError as err:
            error = err
    rows = micro.of_deputy(account.deputy)
    return mobile.page("mobile/micro.html", error.status if error else 200, error=error.message if error else None,
                       fund=fund, rows=rows, form=request.form, done=request.args.get("done"), yuan=yuan,
                       states=micro.STATES, ledger=micro.ledger(fund) if fund else None)


@bp.get("/micro/<int:year>/<station>")
def micro_ledger(year, station):
    try:
        fund = micro.fund_of(station, year)
    except NotFound:
        return not_found("这笔微实事资金")
    return page("public/micro.html", fund=fund, ledger=micro.ledger(fund), rows=micro.listing(fund, public=True),
                yuan=yuan, states=micro.STATES)


def init_app(app):
    app.register_blueprint(bp)
