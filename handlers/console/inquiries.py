"""问政 in the console: set up an event (topic, form, date and place, objects, deputies, collection window), move
it through its five stages (each with what it still needs), its 问题清单, 测评 and record, the QR code and the
Excel 问题清单. Every rule is services/inquiries.py (the event) and services/inquiry_questions.py (questions)."""
from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from models import Deputy, Department
from qr import codes
from services import ballots, exports, inquiries, inquiry_questions, uploads, workflow
from services.errors import NotFound, ServiceError
from services.vocab import (DECLINE_REASONS, INQUIRY_FORMS, INQUIRY_RATING_PURPOSES, INQUIRY_SECTIONS,
                            INQUIRY_STAGES, INQUIRY_STATES)

from . import EVERYONE, STAFF, actor, bp, fail, roles


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["departments"] = request.form.getlist("departments")
    data["deputies"] = request.form.getlist("deputies")
    return data


def _choices():
    return dict(forms=INQUIRY_FORMS, departments=Department.select().where(Department.active == True)  # noqa: E712
                .order_by(Department.code), all_deputies=Deputy.select().order_by(Deputy.code))


def public_url(inquiry, station=None):
    """The event's public page; with a station, its ask form with the station preset (the station's printed code)."""
    if station is not None:
        return current_app.config["PUBLIC_BASE_URL"] + url_for("inquiries.ask", code=inquiry.code, s=station.code)
    return current_app.config["PUBLIC_BASE_URL"] + url_for("inquiries.event", code=inquiry.code)


@bp.get("/inquiries")
@roles(*STAFF)
def inquiries_list():
    return render_template("console/inquiries.html", rows=inquiries.visible(actor()), forms=INQUIRY_FORMS,
                           stages=INQUIRY_STAGES)


@bp.route("/inquiries/new", methods=["GET", "POST"])
@roles(*STAFF)
def inquiry_new():
    if request.method == "POST":
        try:
            found = inquiries.save(actor(), _form())
            flash(f"已创建问政活动 {found.code}", "ok")
            return redirect(url_for("console.inquiry", code=found.code))
        except ServiceError as err:
            fail(err)
    return render_template("console/inquiry_form.html", inquiry=None, values=_form() if request.method == "POST"
                           else {}, **_choices())


@bp.route("/inquiries/<code>/edit", methods=["GET", "POST"])
@roles(*STAFF)
def inquiry_edit(code):
    found = inquiries.get(code, actor())
    if request.method == "POST":
        try:
            inquiries.save(actor(), _form(), found)
            flash("问政活动已保存", "ok")
            return redirect(url_for("console.inquiry", code=found.code))
        except ServiceError as err:
            fail(err)
        values = _form()
    else:
        values = inquiries.form_values(found)
    return render_template("console/inquiry_form.html", inquiry=found, values=values, **_choices())


@bp.get("/inquiries/<code>")
@roles(*STAFF)
def inquiry(code):
    found = inquiries.get(code, actor())
    return render_template("console/inquiry.html", inquiry=found, forms=INQUIRY_FORMS, stages=INQUIRY_STAGES,
                           order=inquiries.STAGE_ORDER, blockers=inquiries.blockers(found),
                           next_stage=inquiries.next_stage(found.stage), objects=inquiries.objects(found),
                           deputies=inquiries.deputies(found), record=list(found.events.order_by(
                               inquiries.InquiryEvent.at, inquiries.InquiryEvent.id)),
                           followers=inquiries.follower_count(found), public_url=public_url(found),
                           stations=inquiries.ask_stations(found),
                           ask_url=current_app.config["PUBLIC_BASE_URL"] + url_for("inquiries.ask", code=found.code),
                           **question_context(found))


def question_context(found):
    """What the event page shows of its questions and 测评."""
    rows = inquiry_questions.questions(found)
    return dict(waiting=[(link, case) for link, case in rows if case.state not in inquiry_questions.IN_LIST],
                lists=inquiry_questions.lists(found), sections=INQUIRY_SECTIONS, qstates=INQUIRY_STATES,
                ratings=inquiries.ratings(found), purposes=INQUIRY_RATING_PURPOSES, percent=ballots.percent,
                bstates=ballots.STATES, pass_rate=inquiries.pass_rate(), overdue=inquiry_questions.overdue)


@bp.post("/inquiries/<code>/questions")
@roles(*STAFF)
def inquiry_question_new(code):
    """Staff enter a question heard in person, or a difficulty the government raises."""
    found = inquiries.get(code, actor())
    try:
        case = inquiry_questions.submit(actor(), found, {**_form(), "photos": _photos()}, source="console")
        flash(f"已录入问题 {case.number}", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code) + "#questions")


@bp.post("/inquiries/<code>/import")
@roles(*STAFF)
def inquiry_import(code):
    """问政选题 through 征集: the adopted opinions become questions to screen."""
    found = inquiries.get(code, actor())
    try:
        made = inquiry_questions.import_opinions(actor(), found)
        flash(f"已导入 {len(made)} 条采纳的选题建议", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code) + "#questions")


@bp.post("/inquiries/<code>/ratings")
@roles(*STAFF)
def inquiry_rating_new(code):
    found = inquiries.get(code, actor())
    try:
        ballot = inquiries.start_rating(actor(), found, _form())
        flash(f"测评已开始（{ballot.code}）", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code) + "#ratings")


@bp.post("/inquiries/<code>/accountability")
@roles(*STAFF)
def inquiry_accountability(code):
    found = inquiries.get(code, actor())
    try:
        inquiries.note_accountability(actor(), found, _form())
        flash("已公布追责问责情况", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code) + "#record")


@bp.post("/inquiries/<code>/progress-report")
@roles(*STAFF)
def inquiry_progress_report(code):
    found = inquiries.get(code, actor())
    try:
        inquiries.publish_progress(actor(), found)
        flash("已公布整改进展，并推送给关注者和提问人", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code) + "#record")


@bp.get("/inquiries/<code>/questions.xlsx")
@roles(*STAFF)
def inquiry_export(code):
    found = inquiries.get(code, actor())
    return Response(inquiry_questions.export_xlsx(found), mimetype=exports.XLSX_MIME,
                    headers=exports.attachment(f"{found.topic}-问题清单.xlsx"))


def _photos():
    return [uploads.save_attachment(f, g.account).token for f in request.files.getlist("photos") if f and f.filename]


def _question(number):
    case = workflow.get_case(number, actor())
    if case.kind != "inquiry":
        raise NotFound("case_not_found", "问题不存在或无权查看")
    return case, inquiry_questions.link_of(case)


@bp.get("/inquiry-questions")
@roles("department", "deputy")
def inquiry_questions_mine():
    """A department's questions handed to it; a deputy's questions to inspect."""
    rows = (inquiry_questions.for_department(g.account.department_id) if g.account.role == "department"
            else inquiry_questions.to_supervise(g.account.deputy_id))
    return render_template("console/inquiry_questions.html", rows=rows, qstates=INQUIRY_STATES,
                           link_of=inquiry_questions.link_of)


@bp.get("/inquiry-questions/<number>")
@roles(*EVERYONE)
def inquiry_question(number):
    case, link = _question(number)
    return render_template("console/inquiry_question.html", case=case, link=link, inquiry=link.inquiry,
                           allowed=workflow.allowed_actions(case, actor()), actions=inquiry_questions.ACTIONS,
                           timeline=workflow.timeline(case, actor()), qstates=INQUIRY_STATES,
                           sections=INQUIRY_SECTIONS, reasons=DECLINE_REASONS,
                           objects=inquiries.objects(link.inquiry), overdue=inquiry_questions.overdue(case),
                           answer=inquiry_questions.answer_of(case), upload_url=uploads.url_for_upload)


@bp.post("/inquiry-questions/<number>/<action>")
@roles(*EVERYONE)
def inquiry_question_action(number, action):
    case, link = _question(number)
    try:
        data = {**_form(), "photos": _photos()}
        workflow.perform(case, action, actor(), data)
        flash(f"已{inquiry_questions.ACTIONS[action].label}" if action in inquiry_questions.ACTIONS else "已完成", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry_question", number=case.number))


@bp.post("/inquiries/<code>/advance")
@roles(*STAFF)
def inquiry_advance(code):
    found = inquiries.get(code, actor())
    try:
        moved = inquiries.advance(actor(), found, request.form.get("stage", ""))
        flash(f"已进入“{inquiries.stage_label(moved.stage)}”阶段", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.inquiry", code=found.code))


@bp.get("/inquiries/<code>/qr.png")
@roles(*STAFF)
def inquiry_qr(code):
    found = inquiries.get(code, actor())
    station = inquiries.ask_station(found, request.args.get("s"))  # a station's printed code: the ask form, preset
    return Response(codes.png(public_url(found, station)), mimetype="image/png")
