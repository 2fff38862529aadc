"""征集 on phones: /q/<code> is a consultation's H5 page (its QR code, or a station's with ?s=<station>): the text
article by article or the questions, one form to give an opinion on any of them, the visitor's own opinions
and, once published, every reply with its counts. Identity as for the H5 reports (handlers/public.py: WeChat
web OAuth, else the browser's web citizen); a deputies-only consultation takes the phone workbench's sign-in
(handlers/mobile.py). Every rule is services/consultations.py."""
from flask import Blueprint, redirect, render_template, request, url_for

from handlers import mobile, public, webauth
from handlers.security import csrf_token
from models import Account, Station
from services import consultations, ratelimit
from services.errors import ServiceError
from services.workflow import write_transaction

bp = Blueprint("consultations", __name__)
webauth.protect(bp, "page", on_identified=public.remember_citizen)
FIELDS = ("section", "text", "name", "anonymous", "station")


def _station():
    code = (request.args.get("s") or "").strip().upper()[:16]
    return Station.get_or_none(Station.code == code) if code else None


def _who(consultation):
    """The account this visitor comments as (None: not known yet; a web citizen is made on the first opinion)."""
    if consultation.audience == "deputies":
        account = mobile.signed_in()
        return account if account is not None and account.role == "deputy" else None
    return public.visitor()


def _page(consultation, status=200, **context):
    station = _station()
    account = _who(consultation)
    published = consultation.state == "published"
    context.setdefault("error", None)
    context.setdefault("form", {"section": request.args.get("section", "")})
    return render_template(
        "public/consultation.html", consultation=consultation, kind=consultations.KINDS[consultation.kind],
        sections=consultations.sections(consultation), station=station,
        choices=consultations.stations(consultation) if consultation.audience == "stations" and station is None else [],
        refusal=consultations.may_comment(consultation, account if consultation.audience == "deputies" else None,
                                          station),
        summary=consultations.summary(consultation) if published else None, published=published,
        mine=consultations.mine(consultation, account), decisions=consultations.DECISIONS,
        states=consultations.STATES, label=consultations.section_label, csrf=csrf_token(),
        done=request.args.get("done"), **context), status


@bp.route("/q/<code>", methods=["GET", "POST"])
def page(code):
    consultation = consultations.public(code)  # a forged or mistyped code, a draft: the Chinese 404 page
    if request.method == "GET":
        return _page(consultation)
    form = {k: request.form.get(k, "") for k in FIELDS}
    station = _station()
    if station is not None:
        form["station"] = station.code
    try:
        ratelimit.hit(f"h5-opinion:{request.remote_addr}", 60, 3600, "提交太频繁，请一小时后再试")
        account = _who(consultation)
        if account is None and consultation.audience == "deputies":
            consultations.comment(consultation, None, form, "h5")  # refused: deputies only
        data = {**form, "anonymous": form["anonymous"] or None}
        if account is None:
            with write_transaction():
                account = Account.create(role="citizen", display_name=form["name"].strip()[:20] or "网页访客")
                consultations.comment(consultation, account, data, "h5")
        else:
            consultations.comment(consultation, account, data, "h5")
    except ServiceError as err:
        return _page(consultation, err.status, error=err.message, form=form)
    if account.role == "citizen":
        public.remember(account)
    query = {"done": 1, **({"s": station.code} if station else {})}
    return redirect(url_for("consultations.page", code=consultation.code, **query) + "#mine", code=303)


def init_app(app):
    app.register_blueprint(bp)
