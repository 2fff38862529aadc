"""问政 in the console: set up an event (topic, form, date and place, objects, deputies, collection window), move
it through its five stages (each with what it still needs), its 问题清单, 测评 and record, the QR code and the
Excel 问题清单. Every rule is services/inquiries.py (the event) and services/inquiry_questions.py (questions)."""
from flask import Response, current_app, flash, redirect, render_template, request, url_for

from models import Deputy, Department
from qr import codes
from services import inquiries
from services.errors import ServiceError
from services.vocab import INQUIRY_FORMS, INQUIRY_STAGES

from . import STAFF, actor, bp, fail, roles


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["departments"] = request.form.getlist("departments")
    data["deputies"] = request.form.getlist("deputies")
    return data


def _choices():
    return dict(forms=INQUIRY_FORMS, departments=Department.select().where(Department.active == True)  # noqa: E712
                .order_by(Department.code), all_deputies=Deputy.select().order_by(Deputy.code))


def public_url(inquiry):
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
                           **question_context(found))


def question_context(found):
    """What the event page shows of its questions and 测评 (services/inquiry_questions.py), when built."""
    return {}


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
    return Response(codes.png(public_url(found)), mimetype="image/png")
