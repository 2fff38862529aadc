"""征集 in the console: the office sets up a consultation (a .docx draft split into articles, or questions; the
stations it goes to; the window), opens, closes, answers every opinion, publishes the replies and exports the
summary for the legislative office; station staff enter their 座谈会's opinions from paper. Rules:
services/consultations.py."""
from flask import Response, current_app, flash, redirect, render_template, request, url_for

from models import Station
from qr import codes
from services import consultations, exports
from services.errors import ServiceError

from . import STAFF, actor, bp, fail, roles

MOVES = {"open": (consultations.open_consultation, "征求意见已开始"),
         "close": (consultations.close, "征求意见已截止，可以继续答复"),
         "publish": (consultations.publish, "答复已公布，已通知提出意见的群众")}


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["stations"] = request.form.getlist("stations")
    return data


def _link(consultation, station=None):
    path = url_for("consultations.page", code=consultation.code, **({"s": station.code} if station else {}))
    return current_app.config["PUBLIC_BASE_URL"] + path


@bp.get("/consultations")
@roles(*STAFF)
def consultations_list():
    return render_template("console/consultations.html", rows=consultations.for_staff(actor().account),
                           kinds=consultations.KINDS, states=consultations.STATES, audiences=consultations.AUDIENCES)


@bp.route("/consultations/new", methods=["GET", "POST"])
@roles(*STAFF)
def consultation_new():
    if request.method == "POST":
        try:
            draft = request.files.get("draft")
            found = consultations.create(actor(), _form(), draft.read() if draft and draft.filename else None)
            flash(f"已创建征求意见 {found.code}（{len(consultations.sections(found))}个条文或问题）", "ok")
            return redirect(url_for("console.consultation", code=found.code))
        except ServiceError as err:
            fail(err)
    return render_template("console/consultation_form.html", form=request.form, kinds=consultations.KINDS,
                           modes=consultations.MODES, audiences=consultations.AUDIENCES,
                           stations=Station.select().order_by(Station.path))


@bp.get("/consultations/<code>")
@roles(*STAFF)
def consultation(code):
    found = consultations.get(code)
    chosen = consultations.stations(found)
    scope = actor().account.station
    paper_stations = [s for s in (chosen or Station.select().order_by(Station.path))
                      if scope is None or s.path.startswith(scope.path)]
    return render_template("console/consultation.html", consultation=found, summary=consultations.summary(found),
                           sections=consultations.sections(found), chosen=chosen, paper_stations=paper_stations,
                           links=[(None, _link(found))] + [(s, _link(found, s)) for s in chosen],
                           kind=consultations.KINDS[found.kind], states=consultations.STATES,
                           audiences=consultations.AUDIENCES, channels=consultations.CHANNELS,
                           decisions=consultations.DECISIONS, label=consultations.section_label,
                           signer=consultations.signer, organiser=scope is None)


@bp.post("/consultations/<code>/<any(open,close,publish):action>")
@roles(*STAFF)
def consultation_move(code, action):
    found = consultations.get(code)
    move, done = MOVES[action]
    try:
        move(actor(), found)
        flash(done, "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.consultation", code=found.code))


@bp.post("/consultations/<code>/paper")
@roles(*STAFF)
def consultation_paper(code):
    found = consultations.get(code)
    try:
        consultations.enter_paper(actor(), found, _form())
        flash("已录入座谈会意见", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.consultation", code=found.code) + "#paper")


@bp.post("/consultations/<code>/opinions/<int:opinion_id>")
@roles(*STAFF)
def consultation_answer(code, opinion_id):
    found = consultations.get(code)
    try:
        consultations.answer(actor(), consultations.opinion_of(found, opinion_id), _form())
        flash("已保存答复", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.consultation", code=found.code) + f"#opinion-{opinion_id}")


@bp.get("/consultations/<code>/summary.<any(xlsx,docx):fmt>")
@roles(*STAFF)
def consultation_export(code, fmt):
    found = consultations.get(code)
    if fmt == "xlsx":
        return Response(consultations.export_xlsx(found), mimetype=exports.XLSX_MIME,
                        headers=exports.attachment(f"{found.title}-意见汇总.xlsx"))
    return Response(consultations.export_docx(found), mimetype=consultations.DOCX_MIME,
                    headers=exports.attachment(f"{found.title}-意见汇总.docx"))


@bp.get("/consultations/<code>/qr.png")
@roles(*STAFF)
def consultation_qr(code):
    found = consultations.get(code)
    station = Station.get_or_none(Station.code == (request.args.get("s") or "").upper()[:16])
    return Response(codes.png(_link(found, station)), mimetype="image/png")
