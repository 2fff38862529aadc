"""问政 on phones and screens: /w/<code> is the event's public page behind its QR code (the 问题清单 in two lists,
each question's progress, the 测评 results, the public record; follow it), /w/<code>/ask the H5 form for
questions while they are collected (a station's printed code adds ?s=<station>), /w/<code>/q/<number> one
question's progress, /w/<code>/live the big screen at a 会议问政. Nothing on these pages names a citizen. Every
rule is services/inquiries.py and services/inquiry_questions.py."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from handlers import mobile, public, webauth
from handlers.security import csrf_token
from models import Account
from services import ballots, inquiries, inquiry_questions, ratelimit, uploads, workflow
from services.errors import Conflict, InvalidInput, NotFound, ServiceError
from services.vocab import INQUIRY_FORMS, INQUIRY_RATING_PURPOSES, INQUIRY_SECTIONS, INQUIRY_STAGES, INQUIRY_STATES

bp = Blueprint("inquiries", __name__)
webauth.protect(bp, "event", "ask", "question", on_identified=public.remember_citizen)
webauth.protect(bp, "supervise")


def _found(code):
    try:
        return inquiries.get(code)
    except NotFound:
        return None


def _render(template, inquiry, status=200, **context):
    context.setdefault("error", None)
    return render_template(template, inquiry=inquiry, forms=INQUIRY_FORMS, stages=INQUIRY_STAGES,
                           sections=INQUIRY_SECTIONS, csrf=csrf_token(), **public_context(inquiry),
                           **context), status


def public_context(inquiry):
    """The 问题清单 and the published 测评 results, as every public page of the event shows them."""
    return dict(lists=inquiry_questions.lists(inquiry), qstates=INQUIRY_STATES, overdue=inquiry_questions.overdue,
                results=inquiries.published_results(inquiry), purposes=INQUIRY_RATING_PURPOSES,
                percent=ballots.percent, pass_rate=inquiries.pass_rate(), answer_of=inquiry_questions.answer_of,
                latest=inquiry_questions.latest_progress, open_ratings=[
                    b for _, b, _ in inquiries.ratings(inquiry) if b.state == "open" and b.electorate == "public"])


ASK_FIELDS = ("title", "content", "location")


@bp.route("/w/<code>/ask", methods=["GET", "POST"])
def ask(code):
    """The H5 form for a question while the event collects them (any browser; inside WeChat the visitor's
    official-account identity is the asker)."""
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    form = {k: request.form.get(k, "") for k in ASK_FIELDS}
    try:  # a station's printed code opens the form with the station preset (?s=<station>)
        station = inquiries.ask_station(found, request.args.get("s"))
    except InvalidInput as err:
        return _render("public/inquiry_ask.html", found, err.status, form=form, error=err.message, station=None,
                       refusal=inquiries.window_refusal(found))
    if request.method == "GET":
        return _render("public/inquiry_ask.html", found, form=form, station=station,
                       refusal=inquiries.window_refusal(found))
    try:
        ratelimit.hit(f"h5-report:{request.remote_addr}", current_app.config.get("H5_REPORTS_PER_IP_HOUR", 30),
                      3600, "提交太频繁，请一小时后再试")
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if len(files) > public.H5_PHOTOS:
            raise InvalidInput("too_many_photos", f"最多上传{public.H5_PHOTOS}张照片", field="photos")
        account = public.visitor()
        if inquiries.window_refusal(found):
            raise Conflict("not_collecting", inquiries.window_refusal(found))
        photos = [uploads.save_image(f, account).token for f in files]
        with workflow.write_transaction():  # a browser-only visitor's account stands only with their question
            account = account or Account.create(role="citizen", display_name="网页访客")
            case = inquiry_questions.submit(account, found, {**form, "photos": photos,
                                                             "station": station.code if station else ""}, source="h5")
    except ServiceError as err:
        return _render("public/inquiry_ask.html", found, err.status, form=form, error=err.message, station=station,
                       refusal=inquiries.window_refusal(found))
    public.remember(account)
    return redirect(url_for("inquiries.question", code=found.code, number=case.number, new=1), code=303)


@bp.get("/w/<code>/q/<number>")
def question(code, number):
    """One question's progress. A listed question is public; before screening only its asker sees it here."""
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    case = inquiry_questions.Case.get_or_none(inquiry_questions.Case.number == number.strip()[:16])
    link = inquiry_questions.link_of(case) if case is not None else None
    visitor = public.visitor()
    mine = case is not None and visitor is not None and case.reporter_id == visitor.id
    if link is None or link.inquiry_id != found.id or not (case.state in inquiry_questions.IN_LIST or mine):
        return public.not_found("这个问题")
    return _render("public/inquiry_question.html", found, link=link, case=case, mine=mine,
                   steps=inquiry_questions.public_steps(case), new=request.args.get("new"))


@bp.get("/w/<code>")
def event(code):
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    account = public.visitor()
    return _render("public/inquiry.html", found, objects=inquiries.objects(found),
                   deputies=inquiries.deputies(found), record=inquiries.public_record(found),
                   following=inquiries.is_following(account, found), can_follow=bool(account and account.oa_openid),
                   followers=inquiries.follower_count(found), refusal=inquiries.window_refusal(found))


@bp.post("/w/<code>/follow")
def follow(code):
    """关注 / 取消关注 — for visitors WeChat identified (they can be told of the event's news)."""
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    account = public.visitor()
    if account is None or not account.oa_openid:
        raise InvalidInput("wechat_required", "请在微信中打开本页后再关注")
    (inquiries.unfollow if request.form.get("action") == "unfollow" else inquiries.follow)(account, found)
    return redirect(url_for("inquiries.event", code=found.code) + "#follow", code=303)


@bp.get("/w/<code>/live")
def live(code):
    found = _found(code)
    if found is None:
        return public.not_found("这次问政活动")
    return _render("public/inquiry_live.html", found, objects=inquiries.objects(found),
                   turnout=[(b, ballots.turnout(b), ballots.electorate_size(b)) for _, b, _ in inquiries.ratings(found)
                            if b.state == "open"])


@bp.route("/m/inquiry-questions/<number>", methods=["GET", "POST"])
def supervise(number):
    """代表督查 on the phone workbench: a deputy taking part records a visit to a question's 整改, with photos."""
    account = mobile.signed_in()
    if account is None:
        return redirect(url_for("mobile.home"))
    case = workflow.get_case(number, account)  # 404 for anyone who may not see it
    link = inquiry_questions.link_of(case)
    if link is None:
        raise NotFound("case_not_found", "问题不存在或无权查看")
    error = None
    if request.method == "POST":
        try:
            files = [f for f in request.files.getlist("photos") if f and f.filename][:mobile.PHOTOS]
            workflow.perform(case, "supervise", account, {"note": request.form.get("note"),
                                                          "photos": [uploads.save_image(f, account).token
                                                                     for f in files]})
            return redirect(url_for("inquiries.supervise", number=case.number, done=1), code=303)
        except ServiceError as err:
            error = err
    return render_template("mobile/inquiry_question.html", case=case, link=link, inquiry=link.inquiry,
                           qstates=INQUIRY_STATES, csrf=csrf_token(), error=error.message if error else None,
                           can_supervise="supervise" in workflow.allowed_actions(case, account),
                           steps=inquiry_questions.public_steps(case), done=request.args.get("done")), \
        error.status if error else 200


def init_app(app):
    app.register_blueprint(bp)
