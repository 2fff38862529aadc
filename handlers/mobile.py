"""Phone pages for the people the office works with: the binding link /bind/<token> and the phone workbench
/m/… for deputies and department handlers (server-rendered, mobile-first, no JavaScript needed).

Who is signed in: inside WeChat, the identity web OAuth gives (handlers/webauth.py) when it is bound to a
deputy or a console account (services/binding.py); anywhere else, username and password (the console's
login rules, services/accounts.login). Every action goes through services.workflow.perform, and the
buttons shown are workflow.allowed_actions — no rule lives here.
"""
from flask import Blueprint, redirect, render_template, request, session, url_for

from handlers import suggestion_forms, webauth
from handlers.security import csrf_token, new_csrf_token
from models import Account, Answer
from services import accounts, ballots, binding, consultations, inquiry_questions, reports, suggestions, workflow
from services.errors import NotFound, ServiceError
from services.uploads import save_image, url_for_upload
from services.vocab import RATINGS, state_label

bp = Blueprint("mobile", __name__)
SESSION_KEY = "m_account"
WORKERS = ("deputy", "department")
ACTIONS = {"deputy": ("accept", "decline", "forward", "opinion", "reply"),
           "department": ("sign", "return", "progress", "request_extension", "answer")}
PHOTOS = 6
TABS = {"deputy": (("todo", "待受理"), ("open", "未办结"), ("closed", "已结束")),
        "department": (("todo", "待签收"), ("open", "办理中"), ("closed", "已答复"))}

webauth.protect(bp)


def signed_in():
    """The deputy or console account this phone works as, or None. A session signed in by the WeChat identity
    lasts while that identity stays bound; one signed in by password, until the account's sessions end
    (logout elsewhere, a new password: Account.session_version)."""
    account = Account.get_or_none(Account.id == session.get(SESSION_KEY)) if session.get(SESSION_KEY) else None
    if account is not None and (session.get("m_v") != account.session_version if session.get("m_via") == "password"
                                else account.oa_openid != webauth.oa_openid()):
        account = None
    if account is None:
        account = binding.bound_account("official_account", webauth.oa_openid())
        if account is not None:
            sign_in(account, "wechat")
    if account is None or not account.active:
        session.pop(SESSION_KEY, None)
        return None
    return account


def sign_in(account, via):
    session.update({SESSION_KEY: account.id, "m_via": via, "m_v": account.session_version})
    session.permanent = True


def page(template, status=200, **context):
    context.setdefault("error", None)
    return render_template(template, csrf=csrf_token(), in_wechat=webauth.in_wechat(), **context), status


# --- the binding link -----------------------------------------------------------------------------

@bp.route("/bind/<token>", methods=["GET", "POST"])
def bind(token):
    try:
        code = binding.code_by_token(token)
    except NotFound as err:
        return page("mobile/bind.html", 404, code=None, error=err.message)
    person, openid = Account.get_by_id(code.account_id), webauth.oa_openid()
    context = {"code": code, "who": binding.describe(person), "openid": openid,
               "mini_path": f"pages/bind/index?t={code.token}"}
    if request.method == "GET":
        return page("mobile/bind.html", **context)
    try:
        unionid, followed = binding.oa_profile(openid) if openid else (None, False)
        person, _ = binding.redeem(token, "official_account", openid, unionid, followed,
                                   address=request.remote_addr)
    except ServiceError as err:
        return page("mobile/bind.html", err.status, error=err.message, **context)
    sign_in(person, "wechat")
    return page("mobile/bound.html", who=binding.describe(person), person=person)


# --- signing in -----------------------------------------------------------------------------------

@bp.route("/m/login", methods=["POST"])
def login():
    try:
        account = accounts.login(request.form.get("username"), request.form.get("password"),
                                 request.remote_addr or "")
        if accounts.needs_wechat_confirm(account):   # 扫码确认登录 is on: its bound WeChat signs it in here
            raise ServiceError("wechat_required", "该账号已绑定微信，请在微信中打开手机工作台", status=403)
    except ServiceError as err:
        return page("mobile/login.html", err.status, error=err.message, username=request.form.get("username", ""))
    sign_in(account, "password")
    new_csrf_token()
    return redirect(url_for("mobile.home"), code=303)


@bp.post("/m/logout")
def logout():
    account = signed_in()
    if account is not None:
        accounts.end_sessions(account)   # like the console: a copied password session of this account ends too
    for key in (SESSION_KEY, "m_via", "m_v"):
        session.pop(key, None)
    webauth.forget()
    return redirect(url_for("mobile.home"), code=303)


# --- the workbench --------------------------------------------------------------------------------

@bp.get("/m/")
def home():
    account = signed_in()
    if account is None:
        return page("mobile/login.html", username="", unbound=bool(webauth.oa_openid()))
    if account.role not in WORKERS:
        return page("mobile/desk.html", account=account, who=binding.describe(account))
    tab = request.args.get("tab") or "todo"
    tab = tab if tab in dict(TABS[account.role]) else "todo"
    if account.role == "deputy":
        rows, total, by_state = reports.deputy_inbox(account, tab, per_page=50)
        counts = {name: sum(by_state[s] for s in reports.INBOX_FILTERS[name]) for name, _ in TABS["deputy"]}
    else:
        rows, total, counts = reports.department_inbox(account, tab, per_page=50)
    return page("mobile/home.html", account=account, who=binding.describe(account), rows=rows, total=total,
                counts=counts, tab=tab, tabs=TABS[account.role], state_label=workflow.state_label,
                categories=workflow.CATEGORIES,
                ballots=ballots.open_for(account.deputy_id) if account.role == "deputy" and account.deputy_id else [],
                consultations=consultations.open_for_deputies() if account.role == "deputy" else [],
                inquiry_questions=inquiry_questions.to_supervise(account.deputy_id) if account.role == "deputy" else [])


def worker():
    account = signed_in()
    if account is None or account.role not in WORKERS:
        return None
    return account


@bp.route("/m/cases/<number>", methods=["GET", "POST"])
def case(number):
    account = worker()
    if account is None:
        return redirect(url_for("mobile.home"))
    found = workflow.get_case(number, account)
    if found.kind == "suggestion":
        return redirect(url_for("mobile.suggestion", number=number))
    error, reveal = None, False
    if request.method == "POST" and request.form.get("action") == "reveal_phone":
        try:
            reveal = bool(workflow.reveal_phone(found, account))
        except ServiceError as err:
            error = err
    elif request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action not in ACTIONS[account.role]:
                raise NotFound("unknown_action", "不支持的操作")
            if request.form.get("seen_version", type=int) is not None:  # a form shown before a change fails
                found.version = request.form.get("seen_version", type=int)
                found.state = request.form.get("seen_state")
            data = {key: request.form.get(key) for key in request.form
                    if key not in ("csrf_token", "action", "seen_state", "seen_version")}
            files = [f for f in request.files.getlist("photos") if f and f.filename][:PHOTOS]
            data["photos" if action == "progress" else "attachments"] = [save_image(f, account).token
                                                                          for f in files]
            workflow.perform(found, action, account, data)
            return redirect(url_for("mobile.case", number=found.number, done=action), code=303)
        except ServiceError as err:
            error = err
            found = workflow.get_case(number, account)
    allowed = [a for a in workflow.allowed_actions(found, account) if a in ACTIONS[account.role]]
    done = workflow.ACTIONS.get(request.args.get("done", ""))
    return page("mobile/case.html", error.status if error else 200, error=error.message if error else None,
                account=account, case=found, allowed=allowed, actions=workflow.ACTIONS, done=done,
                state=workflow.state_label(found.state), category=workflow.CATEGORIES.get(found.category, ""),
                timeline=workflow.timeline(found, account), show_reporter=workflow.reporter_visible(found, account),
                phone=found.contact_phone if reveal else workflow.mask_phone(found.contact_phone),
                can_reveal=not reveal and bool(found.contact_phone) and workflow.may_see_phone(found, account),
                photos=[url_for_upload(t) for t in found.photos or []],
                answers=list(found.answers.order_by(Answer.id)),
                assignment=workflow.department_assignment(found, workflow.as_actor(account), lead_only=False),
                decline_reasons=workflow.DECLINE_REASONS, return_reasons=workflow.RETURN_REASONS,
                answer_classes=workflow.ANSWER_CLASSES)


# --- 代表建议 on the phone: deputies draft, confirm co-signing and rate; departments take their steps ------

SUGGESTION_ACTIONS = {"deputy": ("edit_draft", "cosign", "decline_cosign", "submit", "withdraw", "evaluate",
                                 "co_evaluate"),
                      "department": ("sign", "return", "assist_opinion", "consult", "progress", "request_extension",
                                     "answer", "commitment_done")}


@bp.get("/m/suggestions")
def suggestion_list():
    account = worker()
    if account is None:
        return redirect(url_for("mobile.home"))
    return page("mobile/suggestions.html", account=account, rows=list(suggestions.listed(account)),
                label=lambda c: state_label(c.state, for_citizen=True, kind="suggestion"),
                number_text=suggestions.number_text)


@bp.route("/m/suggestions/new", methods=["GET", "POST"])
def suggestion_new():
    """A deputy drafts a suggestion (from reports: ?from=<report number>)."""
    account = worker()
    if account is None or account.role != "deputy":
        return redirect(url_for("mobile.home"))
    typed, error, status = {"from_reports": request.args.get("from", "")}, None, 200
    if request.method == "POST":
        try:
            typed = suggestion_forms.posted("draft", account)
            found = suggestions.draft(account, typed, source="h5")
            return redirect(url_for("mobile.suggestion", number=found.number, done="draft"), code=303)
        except ServiceError as err:
            error, status = err.message, err.status
    return page("mobile/suggestion_new.html", status, error=error, account=account, typed=typed,
                fields=suggestion_forms.fields("edit_draft") + [("attachments", "附件（图片）", "file", None)])


@bp.route("/m/suggestions/<number>", methods=["GET", "POST"])
def suggestion(number):
    account = worker()
    if account is None:
        return redirect(url_for("mobile.home"))
    found = workflow.get_case(number, account)
    if found.kind != "suggestion":
        raise NotFound("case_not_found", "建议不存在或无权查看")
    error, status, typed, failed = None, 200, {}, None
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action not in SUGGESTION_ACTIONS[account.role]:
                raise NotFound("unknown_action", "不支持的操作")
            if request.form.get("seen_version", type=int) is not None:  # a form shown before a change fails
                found.version, found.state = request.form.get("seen_version", type=int), request.form.get("seen_state")
            typed, failed = {}, action
            typed = suggestion_forms.posted(action, account)
            workflow.perform(found, action, account, typed)
            return redirect(url_for("mobile.suggestion", number=found.number, done=action), code=303)
        except ServiceError as err:
            error, status = err.message, err.status
            found = workflow.get_case(number, account)
    allowed = [a for a in workflow.allowed_actions(found, account) if a in SUGGESTION_ACTIONS[account.role]]
    done = request.args.get("done", "")
    d = suggestions.detail(found)
    return page("mobile/suggestion.html", status, error=error, account=account, case=found,
                d=d, defaults=suggestion_forms.defaults(found, d), allowed=allowed, actions=suggestions.ACTIONS,
                fields_of=suggestion_forms.fields, typed=typed, failed=failed, ratings=RATINGS,
                done="已保存草稿" if done == "draft" else f"已{suggestions.ACTIONS[done].label}"
                if done in suggestions.ACTIONS else None,
                kind_state=state_label(found.state, for_citizen=True, kind="suggestion"),
                timeline=workflow.timeline(found, account), upload_url=url_for_upload,
                post_url=lambda name: url_for("mobile.suggestion", number=found.number))


@bp.route("/m/confirm/<token>", methods=["GET", "POST"])
def confirm_login(token):
    """扫码确认登录: the staff member's own WeChat confirms the login waiting on the computer."""
    done, error, status = False, None, 200
    if request.method == "POST":
        try:
            accounts.confirm_wechat_login(token, webauth.oa_openid())
            done = True
        except ServiceError as err:
            error, status = err.message, err.status
    return page("mobile/confirm_login.html", status, done=done, error=error, in_wechat_now=webauth.in_wechat())


def init_app(app):
    app.register_blueprint(bp)
