"""The web console under /console for the congress office, the departments, deputies and admins.

Thin handlers: parse the form, call a service, render. This module holds what every page shares:
the session login (with idle expiry and lock-out in services.accounts), the CSRF token every form
carries, and the role check each route declares with @roles(...).
"""
import functools
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from models import Account
from handlers.security import new_csrf_token
from services import accounts, calendar, levels
from services.errors import Forbidden, ServiceError
from services.workflow import ROLES, Actor

bp = Blueprint("console", __name__, url_prefix="/console")

STAFF = ("staff", "admin")
EVERYONE = ("staff", "admin", "department", "deputy")
IDLE_MINUTES = 60  # a console session ends after this long without a request (CONSOLE_IDLE_MINUTES)


password_mark = accounts.session_mark   # the session's tie to the account's session version


@bp.before_request
def _load_account():
    g.account = None
    uid = session.get("uid")
    if uid is None:
        return None
    idle = current_app.config.get("CONSOLE_IDLE_MINUTES", IDLE_MINUTES) * 60
    account = Account.get_or_none(Account.id == uid)
    if account is None or not account.active or time.time() - session.get("seen", 0) > idle \
            or session.get("pw") != password_mark(account):
        session.clear()
        flash("登录已过期，请重新登录", "error")
        return None
    session["seen"] = time.time()
    g.account = account
    return None


def roles(*allowed):
    """Route decorator: sign-in required (else to the login form), then one of these roles (else 403)."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if g.account is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if g.account.role not in allowed:
                raise Forbidden("not_permitted", "您的账号无权访问此页面")
            return view(*args, **kwargs)
        return inner
    return wrap


def actor():
    return Actor.of(g.account)


def back(default):
    """Where to go after a form: the page it came from when that is ours, else `default`."""
    target = request.form.get("next") or request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return default
    return (parts.path + ("?" + parts.query if parts.query else "")) if parts.path.startswith("/console") else default


def fail(err):
    """Show a service error as a Chinese flash message (permission and not-found errors become pages)."""
    if err.status in (403, 404):
        raise err
    flash(err.message, "error")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        try:
            account = accounts.login(request.form.get("username"), request.form.get("password"),
                                     request.remote_addr or "")
        except ServiceError as err:
            flash(err.message, "error")
            return render_template("console/login.html", username=request.form.get("username", "")), err.status
        if accounts.needs_wechat_confirm(account):   # 扫码确认登录: the password alone is not enough
            session.clear()
            session["login_confirm"] = accounts.start_wechat_confirm(account)
            session["login_next"] = request.args.get("next", "")
            return redirect(url_for("console.login_confirm"))
        return signed_in(account, request.args.get("next", ""))
    return render_template("console/login.html", username="")


def signed_in(account, target):
    session.clear()
    session.permanent = True
    session.update(uid=account.id, seen=time.time(), pw=password_mark(account))
    new_csrf_token()
    return redirect(target if target.startswith("/console") else url_for("console.home"))


@bp.route("/login/confirm", methods=["GET", "POST"])
def login_confirm():
    """The QR code the staff member scans with their bound WeChat; then 继续 finishes the login."""
    from qr import codes
    token = session.get("login_confirm")
    if not token:
        return redirect(url_for("console.login"))
    if request.method == "POST":
        account = accounts.finish_wechat_login(token)
        if account is not None:
            return signed_in(account, session.get("login_next", ""))
        flash("还没有收到手机上的确认，请用绑定的微信扫码并点“确认登录”", "error")
    url = f"{current_app.config['PUBLIC_BASE_URL']}/m/confirm/{token}"
    return render_template("console/login_confirm.html", qr=codes.svg(url, 240).decode(), url=url)


@bp.post("/logout")
def logout():
    if g.account is not None:
        accounts.end_sessions(g.account)
    session.clear()
    flash("您已退出登录", "ok")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@roles(*EVERYONE)
def password():
    if request.method == "POST":
        if request.form.get("new") != request.form.get("confirm"):
            flash("两次输入的新密码不一致", "error")
        else:
            try:
                accounts.change_password(g.account, request.form.get("old"), request.form.get("new"))
                session["pw"] = password_mark(Account.get_by_id(g.account.id))
                flash("密码已修改", "ok")
                return redirect(url_for("console.home"))
            except ServiceError as err:
                fail(err)
    return render_template("console/password.html")


@bp.get("/")
@roles(*EVERYONE)
def home():
    """The console opens on 待办 for staff and departments; deputies on their cases."""
    return redirect(url_for("console.cases" if g.account.role == "deputy" else "console.todo_home"))


def office_congress():
    """The congress the signed-in office works for (its level in the tree), for page titles."""
    account = g.get("account")
    return levels.congress_name(account.station if account is not None and account.station_id else None)


def init_app(app):
    from . import (activities, analysis, audit, ballots, batches, binding, cases, consultations, dashboard,  # noqa: F401
                   holidays, inquiries, livelihood, micro, people, projects, suggestions)  # (routes register on bp)
    app.add_template_global(lambda: g.get("account"), "current_account")
    app.add_template_global(office_congress, "office_congress")
    app.add_template_filter(lambda m: calendar.local(m).strftime("%Y-%m-%d %H:%M") if m else "", "local")
    app.add_template_global(ROLES, "ROLE_LABELS")
    app.add_template_global(lambda x: "—" if x is None else f"{x * 100:.0f}%", "pct")
    app.register_blueprint(bp)
