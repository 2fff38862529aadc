"""The H5 pages behind the QR codes: / (home), /d/<deputy>, /p/<project>, /s/<station>, /c/<case number>.

Mobile-first, server-rendered, no JavaScript needed. They work in any browser and inside WeChat.

Who reports: inside WeChat the official account's silent OAuth (handlers/webauth.py) gives the visitor's
openid, and the report belongs to that citizen's account (so 查询/我的 in the official account and the
push links work for it). Anywhere
else the visitor has no account: the first report creates an anonymous web citizen, remembered by the
signed session cookie and by a long-lived signed claim cookie (H5_CLAIM_DAYS), so later reports from the
same browser go to the same account and /c/<number> shows their progress there. From any other browser
"查我的反映" (/lookup) proves the phone number left on the report with an SMS code (services/smscode.py).
Nobody else can open a case page: a forged or expired claim proves nothing and says so.

The case page is the reporter's whole loop: the answer, the rating (不满意 opens the next round), supplements
with photos, withdrawal before acceptance, the decline reason with where to go instead, the deadline.
"""
import os
import re
import secrets
import time

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from handlers import webauth
from handlers.security import csrf_token
from models import Account, Case, Deputy, Project, Rating, Station, retried
from services import (analysis, ballots, calendar, consultations, directory, follows, livelihood, micro, money, privacy,
                      ratelimit, reports, smscode, uploads, workflow)
from services.errors import InvalidInput, NotFound, ServiceError
from services.uploads import save_image, url_for_upload

bp = Blueprint("public", __name__)
H5_PHOTOS = 3
FORM_FIELDS = ("category", "content", "location", "name", "contact_phone", "anonymous", "sms_notify")
CLAIM_COOKIE = "h5_claim"
LARGE_COOKIE = "h5_large"
PHONE_PROOF_SECONDS = 2 * 3600  # how long an SMS-proven phone opens its cases in this browser session


# --- who is visiting ------------------------------------------------------------------------------

def _claims():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="h5-claim")


def read_claim():
    """(account id, problem) from the claim cookie: problem is "" (none sent or good), "forged" or "expired"."""
    raw = request.cookies.get(CLAIM_COOKIE)
    if not raw:
        return None, ""
    try:
        return int(_claims().loads(raw, max_age=current_app.config["H5_CLAIM_DAYS"] * 86400)), ""
    except SignatureExpired:
        return None, "expired"
    except (BadSignature, TypeError, ValueError):
        return None, "forged"


def visitor():
    """The citizen account this browser reports as (session, else its signed claim), or None."""
    account_id = session.get("h5_citizen") or read_claim()[0]
    return Account.get_or_none(Account.id == account_id, Account.role == "citizen") if account_id else None


def remember(account):
    """This browser is this citizen from now on: the session, and the long-lived claim (set after the request)."""
    session["h5_citizen"] = account.id
    session.permanent = True
    request.environ["h5.remember"] = account.id


@bp.after_request
def keep_claim(response):
    account_id = request.environ.get("h5.remember")
    if account_id:
        days = current_app.config["H5_CLAIM_DAYS"]
        response.set_cookie(CLAIM_COOKIE, _claims().dumps(account_id), max_age=days * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


def proven_phone():
    """The phone this browser proved with an SMS code in the last PHONE_PROOF_SECONDS, or ''."""
    proof = session.get("h5_phone") or {}
    return proof.get("phone", "") if time.time() - proof.get("at", 0) < PHONE_PROOF_SECONDS else ""


def reporter_of(case):
    """The reporter's account when this browser may act for them (their claim, or their proven phone)."""
    account = visitor()
    if account is not None and case.reporter_id == account.id:
        return account
    phone = proven_phone()
    if phone and case.contact_phone == phone and case.reporter_id:
        return case.reporter
    return None


def remember_citizen(openid):
    """Web OAuth identified the visitor: their reports belong to the citizen account of that openid."""
    from services.accounts import oa_citizen
    remember(oa_citizen(openid))


webauth.protect(bp, "deputy", "project", "station", "case", "lookup", "support", on_identified=remember_citizen)


# --- reporting ------------------------------------------------------------------------------------

def handle_report(target, code):
    """Validate and file the report of the form on a public page; returns (redirect or None, error, form)."""
    form = {k: request.form.get(k, "") for k in FORM_FIELDS}
    try:
        per_ip = current_app.config.get("H5_REPORTS_PER_IP_HOUR", 30)
        ratelimit.hit(f"h5-report:{request.remote_addr}", per_ip, 3600, "提交太频繁，请一小时后再试")
        account = visitor()
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        if len(files) > H5_PHOTOS:
            raise InvalidInput("too_many_photos", f"最多上传{H5_PHOTOS}张照片", field="photos")
        photos = [save_image(f, account).token for f in files]
        data = {target: code, "category": form["category"], "content": form["content"],
                "location": form["location"], "contact_phone": form["contact_phone"],
                "anonymous": form["anonymous"], "sms_notify": form["sms_notify"], "photos": photos,
                "client_request_id": request.form.get("client_request_id", "")[:64] or None}
        account = account or reports.web_reporter_of(data)
        name = form["name"].strip()[:20]
        if account is None:
            account, case = _file_as_new_visitor(name, data)
        else:  # its own transactions: WeChat's content check runs outside any write (an identity may have an openid)
            if name and not account.display_name.strip():
                Account.update(display_name=name).where(Account.id == account.id).execute()
            case, _ = reports.submit(account, data, source="h5")
    except ServiceError as err:
        return None, err, form
    remember(account)
    return redirect(url_for("public.case", number=case.number, new=1), code=303), None, form


@retried
def _file_as_new_visitor(name, data):
    """A browser visitor's first report: their account and the case commit together, or neither (no openid yet,
    so the content check asks nobody while the write lock is held)."""
    with workflow.write_transaction():
        account = Account.create(role="citizen", display_name=name or "网页访客")
        case, _ = reports.submit(account, data, source="h5")
    return account, case


def page(template, status=200, **context):
    context.setdefault("error", None)
    context.setdefault("form", {})
    context.setdefault("request_id", secrets.token_urlsafe(16))
    return render_template(template, categories=workflow.CATEGORIES, levels=directory.DEPUTY_LEVELS,
                           csrf=csrf_token(), **context), status


def not_found(what="页面"):
    return page("public/notfound.html", 404, what=what)


def with_form(template, target, code, **context):
    """GET shows the page; POST files the report and redirects, or shows the page again with the error."""
    context.update(report_target=target, report_code=code)
    if request.method == "POST":
        done, error, form = handle_report(target, code)
        if done:
            return done
        return page(template, error.status, error=error.message, form=form, **context)
    return page(template, **context)


# --- 附近有相同的反映 / 我也遇到 (services/analysis.py) ----------------------------------------------------

@bp.get("/similar")
def similar():
    """Open reports near the one being written (deputy/station/project code, text, optional coordinates), as
    JSON for the report form's script: {"similar": [{number, title, location, submitted, state, supporters,
    score}]}. Never who reported them."""
    per_ip = current_app.config["H5_SIMILAR_PER_IP_HOUR"]
    ratelimit.hit(f"h5-similar:{request.remote_addr}", per_ip, 3600, "查询太频繁，请稍后再试")
    return jsonify({"similar": analysis.offers_for_report(request.args)})


@bp.post("/c/<number>/support")
def support(number):
    """我也遇到: this visitor met the same problem; counted once per person on the original (identity as for
    reports: WeChat, else this browser's web citizen)."""
    found = Case.get_or_none(Case.number == number)
    if found is None:
        return not_found("这条反映")
    account = visitor()
    with workflow.write_transaction():
        if account is None:
            account = Account.create(role="citizen", display_name="网页访客")
        count, added = analysis.support(found, account)
    remember(account)
    return page("public/supported.html", case=analysis.offered(found, count), added=added, back=back_to())


def back_to():
    target = request.form.get("back") or ""
    return target if re.fullmatch(r"/[dps]/[A-Za-z0-9_-]{1,32}", target) else "/"


# --- pages ----------------------------------------------------------------------------------------

def home_lists():
    stations = list(Station.select().where(Station.level.in_(("county", "town"))).order_by(Station.path))
    projects = list(Project.select().where(Project.published == True)  # noqa: E712
                    .order_by(Project.year.desc(), Project.code).limit(20))
    return stations, projects


@bp.get("/")
def home():
    stations, projects = home_lists()
    return page("public/home.html", stations=stations, projects=projects)


@bp.get("/go")
def go():
    """The home page's boxes: a deputy, project or station code → its page; a case number → the case page.
    A code that matches nothing is said so on the home page (not a 404)."""
    code = request.args.get("code", "").strip().upper()
    for kind, model in (("d", Deputy), ("p", Project), ("s", Station)):
        if code and model.select().where(model.code == code).exists():
            return redirect(f"/{kind}/{code}")
    number = case_number(request.args.get("number") or code)
    if number and Case.select().where(Case.number == number).exists():
        return redirect(url_for("public.case", number=number))
    field = "number" if request.args.get("number") is not None else "code"
    message = (f"没有找到案件号 {request.args.get('number', '').strip()[:20]}，请核对后重新输入（例如 2026-000123）"
               if field == "number" else f"没有找到编号 {code[:20]}，请核对代表码、项目编号或站点编号")
    stations, projects = home_lists()
    return page("public/home.html", 404, stations=stations, projects=projects, error=message, error_field=field)


def case_number(text):
    """"2026-123", "2026 000123", "2026000123" → "2026-000123"; '' when it is not a case number."""
    found = re.fullmatch(r"(\d{4})\s*[-－—]?\s*(\d{1,6})", (text or "").strip())
    return f"{found.group(1)}-{int(found.group(2)):06d}" if found else ""


@bp.get("/large")
def large():
    """长辈版: one tap switches large text on (or off); remembered for a year in this browser."""
    back = request.args.get("next") or "/"
    response = redirect(back if back.startswith("/") and not back.startswith("//") else "/")
    response.set_cookie(LARGE_COOKIE, "1" if request.args.get("on", "1") == "1" else "0", max_age=365 * 86400,
                        samesite="Lax", secure=request.is_secure)
    return response


@bp.route("/d/<code>", methods=["GET", "POST"])
def deputy(code):
    try:
        found = directory.deputy_by_code(code)
    except NotFound:
        return not_found("这位代表")
    ended = directory.term_ended(found)
    if ended and request.method == "POST":
        return redirect(url_for("public.deputy", code=found.code), code=303)
    return with_form("public/deputy.html", "deputy", found.code, deputy=found, ended=ended,
                     level=directory.DEPUTY_LEVELS.get(found.level, found.level),
                     photo=photo_url(found.photo), projects=directory.supervised_projects(found))


@bp.route("/p/<code>", methods=["GET", "POST"])
def project(code):
    try:
        found = follows.project_by_code(code)
    except NotFound:
        return not_found("这个项目")
    account = visitor()
    return with_form("public/project.html", "project", found.code, project=found,
                     status_label=directory.PROJECT_STATUS.get(found.status, found.status),
                     milestones=directory.project_milestones(found), updates=directory.project_updates(found),
                     deputies=directory.project_deputies(found), following=follows.is_following(account, found),
                     can_follow=bool(account and account.oa_openid), followers=follows.follower_count(found),
                     origin=livelihood.origin(found), evaluation=livelihood.evaluation(found),
                     micro=micro.of_project(found), yuan=money.yuan, percent=ballots.percent)


@bp.post("/p/<code>/follow")
def follow(code):
    """关注 / 取消关注 — for visitors WeChat identified (they can be told of updates)."""
    try:
        found = follows.project_by_code(code)
    except NotFound:
        return not_found("这个项目")
    account = visitor()
    if account is None or not account.oa_openid:
        raise InvalidInput("wechat_required", "请在微信中打开本页后再关注")
    (follows.unfollow if request.form.get("action") == "unfollow" else follows.follow)(account, found)
    return redirect(url_for("public.project", code=found.code) + "#follow", code=303)


@bp.route("/s/<code>", methods=["GET", "POST"])
def station(code):
    try:
        found = directory.station_by_code(code)
    except NotFound:
        return not_found("这个联络站")
    return with_form("public/station.html", "station", found.code, station=found,
                     kind=directory.STATION_KINDS.get(found.kind, ""), deputies=directory.station_deputies(found),
                     children=directory.station_children(found),
                     parent=found.parent if found.parent_id else None,
                     consultations=consultations.open_for(found), projects=directory.station_projects(found),
                     funds=micro.funds(station=found))


@bp.get("/c/<number>")
def case(number):
    """The reporter's own case: on the browser (or WeChat identity) that filed it, or after an SMS code."""
    found = Case.get_or_none(Case.number == number.strip())
    return show_case(found, number) if found is not None else not_mine(number)


def not_mine(number, status=404):
    """Nobody learns whether a case exists unless it is theirs; a bad claim is named as such."""
    problem = {"forged": "这部手机保存的查看凭证无效。", "expired": "这部手机保存的查看凭证已过期。"}.get(
        read_claim()[1], "")
    return page("public/case_locked.html", 403 if problem else status, number=number.strip()[:20], problem=problem)


def show_case(found, number, error=None, status=200, form=None):
    reporter, follower = reporter_of(found), False
    if reporter is None:  # the reporter of a duplicate merged into this case follows it, read-only
        duplicate = next((d for d in found.duplicates if reporter_of(d) is not None), None)
        reporter, follower = (reporter_of(duplicate), True) if duplicate else (None, False)
    if reporter is None:
        return not_mine(number)
    allowed = [] if follower else workflow.allowed_actions(found, reporter)
    station = found.station if found.station_id else None
    rating = found.ratings.order_by(Rating.id.desc()).first() if found.rating or found.round > 1 else None
    original = found.merged_into if found.state == "merged" and found.merged_into_id else None
    return page("public/case.html", status, case=found, new=bool(request.args.get("new")), error=error,
                follower=follower, original=original, unresolved=workflow.said_unresolved(found),
                request_id=secrets.token_urlsafe(16),
                form=form or {}, allowed=allowed, station=station, rating=rating,
                state=workflow.state_label(found.state, for_citizen=True),
                category=workflow.CATEGORIES.get(found.category, ""),
                timeline=workflow.timeline(found, reporter, for_citizen=True),
                answers=reports.answers(found), ratings=workflow.RATINGS,
                decline_reason=workflow.DECLINE_REASONS.get(found.decline_reason, ""),
                decline_advice=workflow.DECLINE_ADVICE.get(found.decline_reason, ""),
                promise=found.deadline if found.state in workflow.HANDLING_STATES else None,
                last_round=found.round >= current_app.config.get("MAX_ROUNDS", 2),
                photos=[url_for_upload(t) for t in found.photos or []])


@bp.route("/me/delete", methods=["GET", "POST"])
def delete_account():
    """注销: the visitor's own web or WeChat citizen account and personal details (services/privacy)."""
    account = visitor()
    if request.method == "POST" and account is not None:
        privacy.delete_account(account)
        session.clear()
        return page("public/delete_account.html", done=True, signed_in=False)
    return page("public/delete_account.html", done=False, signed_in=account is not None)


@bp.post("/c/<number>/<action>")
def case_action(number, action):
    """The reporter's buttons: rate (评价), supplement (补充材料 with photos), withdraw (撤回), and the answer to
    "问题是否真正解决了？" after closing (resolution, as the API's actions/resolution)."""
    found = Case.get_or_none(Case.number == number.strip())
    if found is None or action not in ("rate", "supplement", "withdraw", "resolution"):
        return not_mine(number)
    reporter = reporter_of(found)
    if reporter is None:
        return not_mine(number)
    form = {k: request.form.get(k, "") for k in ("value", "comment", "note")}
    try:
        if action == "rate":
            reports.rate(found, reporter, form)
        elif action == "supplement":
            files = [f for f in request.files.getlist("photos") if f and f.filename]
            if len(files) > H5_PHOTOS:
                raise InvalidInput("too_many_photos", f"最多上传{H5_PHOTOS}张照片", field="photos")
            if not files and not form["note"].strip():
                raise InvalidInput("missing_field", "请填写补充内容或选择照片", field="note")
            reports.vet(reporter, form["note"])
            photos = [save_image(f, reporter).token for f in files]
            workflow.perform(found, "supplement", reporter, {"note": form["note"], "photos": photos,
                                                             "client_request_id": request.form.get("client_request_id")})
        elif action == "resolution":
            workflow.perform(found, "resolution", reporter, {"resolved": request.form.get("resolved", "")})
        else:
            workflow.perform(found, "withdraw", reporter, {"note": form["note"]})
    except ServiceError as err:
        return show_case(Case.get_by_id(found.id), number, error=err.message, status=err.status, form=form)
    return redirect(url_for("public.case", number=found.number, done=action) + "#top", code=303)


# --- 查我的反映: a phone number and an SMS code --------------------------------------------------------

@bp.route("/lookup", methods=["GET", "POST"])
def lookup():
    """GET: this browser's own reports, or (after a code) the proven phone's; POST step=send|verify."""
    phone, error, sent, status = request.form.get("phone", ""), None, False, 200
    if request.method == "POST":
        try:
            if request.form.get("step") == "verify":
                proven = smscode.verify(phone, request.form.get("code"), request.remote_addr)
                session["h5_phone"] = {"phone": proven, "at": time.time()}
                return redirect(url_for("public.lookup"), code=303)
            phone = smscode.request_code(phone, request.remote_addr)
            sent = True
        except ServiceError as err:
            error, status, sent = err.message, err.status, request.form.get("step") == "verify"
    account = visitor()
    own = reports.mine(account, per_page=20)[0] if account is not None else []
    proven = proven_phone()
    by_phone = [c for c in smscode.cases_for(proven) if c.id not in {o.id for o in own}] if proven else []
    return page("public/lookup.html", status, phone=phone, sent=sent, error=error, own=own, proven=proven,
                by_phone=by_phone, label=lambda c: workflow.state_label(c.state, for_citizen=True))


def photo_url(value):
    value = (value or "").strip()
    if not value:
        return ""
    return value if value.startswith(("/", "http://", "https://")) else url_for_upload(value)


def local_date(value, with_time=False):
    """A date (or a stored UTC datetime, shown in local time) as 2026年3月1日 [09:30]."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = calendar.local(value)
        text = f"{value.year}年{value.month}月{value.day}日"
        return f"{text} {value:%H:%M}" if with_time else text
    return f"{value.year}年{value.month}月{value.day}日"


# --- WeChat's verification file (扫普通链接二维码打开小程序) -----------------------------------------

def verification_file(app):
    """Serve the file WeChat asks for at the site root and under /d/, /p/, /s/, /q/, /w/ (the rules' directories)."""
    path = app.config.get("WECHAT_VERIFY_FILE")
    if not path:
        return
    name = os.path.basename(path)

    def serve():
        if not os.path.exists(path):
            raise NotFound("not_found", "页面不存在")
        with open(path, "rb") as fh:
            return Response(fh.read(), mimetype="text/plain")

    for prefix in ("", "/d", "/p", "/s", "/q", "/w"):
        app.add_url_rule(f"{prefix}/{name}", f"wechat_verify{prefix.replace('/', '_')}", serve)


def large_text():
    """长辈版 for every page built on public/base.html (the H5 pages and the public list)."""
    return {"large": request.cookies.get(LARGE_COOKIE) == "1"}


def init_app(app):
    app.register_blueprint(bp)
    app.context_processor(large_text)
    app.add_template_filter(local_date, "h5_date")
    app.add_template_global(url_for_upload, "upload_url")
    app.add_template_global(uploads.described, "upload_files")
    verification_file(app)
