"""The H5 pages behind the QR codes: / (home), /d/<deputy>, /p/<project>, /s/<station>, /c/<case number>.

Mobile-first, server-rendered, no JavaScript needed. They work in any browser and inside WeChat.

Who reports: inside WeChat the official account's silent OAuth (handlers/webauth.py) gives the visitor's
openid, and the report belongs to that citizen's account. Anywhere else the visitor has no account: the first
report creates an anonymous web citizen, remembered by the signed session cookie, so later reports from the
same browser go to the same account and /c/<number> shows their progress there. Without the cookie nobody else can open the case page.
"""
import os
import secrets

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for

from handlers import webauth
from handlers.security import csrf_token
from models import Account, Case, Deputy, Project, Station
from services import calendar, directory, follows, privacy, ratelimit, reports, workflow
from services.errors import InvalidInput, NotFound, ServiceError
from services.uploads import save_image, url_for_upload

bp = Blueprint("public", __name__)
H5_PHOTOS = 3
FORM_FIELDS = ("category", "content", "location", "name", "contact_phone", "anonymous")


# --- who is visiting ------------------------------------------------------------------------------

def visitor():
    """The citizen account this browser reports as, or None."""
    account_id = session.get("h5_citizen")
    return Account.get_or_none(Account.id == account_id, Account.role == "citizen") if account_id else None


def remember_citizen(openid):
    """Web OAuth identified the visitor: their reports belong to the citizen account of that openid."""
    from services.accounts import citizen_for_openid
    session["h5_citizen"] = citizen_for_openid(openid, official_account=True).id


webauth.protect(bp, "deputy", "project", "station", "case", on_identified=remember_citizen)


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
                "anonymous": form["anonymous"], "photos": photos,
                "client_request_id": request.form.get("client_request_id", "")[:64] or None}
        account = account or reports.web_reporter_of(data)
        with workflow.write_transaction():
            if account is None:
                account = Account.create(role="citizen", display_name=form["name"].strip()[:20] or "网页访客")
            elif form["name"].strip() and not account.display_name.strip():
                account.display_name = form["name"].strip()[:20]
                account.save()
            case, _ = reports.submit(account, data, source="h5")
    except ServiceError as err:
        return None, err, form
    session["h5_citizen"] = account.id
    session.permanent = True
    return redirect(url_for("public.case", number=case.number, new=1), code=303), None, form


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
    if request.method == "POST":
        done, error, form = handle_report(target, code)
        if done:
            return done
        return page(template, error.status, error=error.message, form=form, **context)
    return page(template, **context)


# --- pages ----------------------------------------------------------------------------------------

@bp.get("/")
def home():
    stations = list(Station.select().where(Station.level.in_(("county", "town"))).order_by(Station.path))
    projects = list(Project.select().where(Project.published == True)  # noqa: E712
                    .order_by(Project.year.desc(), Project.code).limit(20))
    return page("public/home.html", stations=stations, projects=projects)


@bp.get("/go")
def go():
    """The home page's "enter a code" box: a deputy, project or station code → its page."""
    code = request.args.get("code", "").strip().upper()
    for kind, model in (("d", Deputy), ("p", Project), ("s", Station)):
        if code and model.select().where(model.code == code).exists():
            return redirect(f"/{kind}/{code}")
    return not_found("这个编号")


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
                     can_follow=bool(account and account.oa_openid), followers=follows.follower_count(found))


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
                     parent=found.parent if found.parent_id else None)


@bp.get("/c/<number>")
def case(number):
    """The reporter's own case, on the browser (or WeChat identity) that filed it."""
    account = visitor()
    found = Case.get_or_none(Case.number == number.strip())
    if found is None or account is None or found.reporter_id != account.id:
        return not_found("这件反映")
    return page("public/case.html", case=found, new=bool(request.args.get("new")),
                state=workflow.state_label(found.state, for_citizen=True),
                category=workflow.CATEGORIES.get(found.category, ""),
                timeline=workflow.timeline(found, account, for_citizen=True),
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
    """Serve the file WeChat asks for at the site root and under /d/, /p/, /s/ (the rules' directories)."""
    path = app.config.get("WECHAT_VERIFY_FILE")
    if not path:
        return
    name = os.path.basename(path)

    def serve():
        if not os.path.exists(path):
            raise NotFound("not_found", "页面不存在")
        with open(path, "rb") as fh:
            return Response(fh.read(), mimetype="text/plain")

    for prefix in ("", "/d", "/p", "/s"):
        app.add_url_rule(f"{prefix}/{name}", f"wechat_verify{prefix.replace('/', '_')}", serve)


def init_app(app):
    app.register_blueprint(bp)
    app.add_template_filter(local_date, "h5_date")
    app.add_template_global(url_for_upload, "upload_url")
    verification_file(app)
