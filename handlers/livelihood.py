"""Public pages of 微实事 and 票决制: the fund's published ledger (/micro/<year>/<station>) with every decided
micro-project and what it spent."""
from flask import Blueprint

from handlers.public import not_found, page
from services import micro
from services.errors import NotFound
from services.money import yuan

bp = Blueprint("livelihood", __name__)


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
