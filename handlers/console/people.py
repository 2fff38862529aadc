"""People and places: deputies (photo, term, station, card), the station tree, departments, accounts (admin)."""
import datetime as dt
import re

from flask import flash, g, redirect, render_template, request, url_for
from peewee import IntegrityError

from models import Account, Deputy, Department, Station, db
from services import accounts, levels, uploads
from services.directory import DEPUTY_LEVELS, STATION_KINDS, STATION_LEVELS
from services.errors import Forbidden, InvalidInput, NotFound, ServiceError
from services.workflow import ROLES, in_scope, require_scope, text

from . import STAFF, actor, bp, fail, roles
from .binding import panel as binding_panel

CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def _code(data):
    code = (data.get("code") or "").strip().upper()
    if not CODE.match(code):
        raise InvalidInput("invalid_code", "编码应为2到16位大写字母或数字", field="code")
    return code


def _date(data, name, label):
    value = (data.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput("invalid_date", f"{label}格式应为 年-月-日", field=name) from None


def _station(code):
    if not code:
        return None
    found = Station.get_or_none(Station.code == code)
    if found is None:
        raise InvalidInput("unknown_station", f"未找到联络站：{code}", field="station")
    return found


def _get(model, code, label):
    found = model.get_or_none(model.code == code)
    if found is None:
        raise NotFound(f"{model.__name__.lower()}_not_found", f"未找到{label}")
    return found


def keep_typed(row, form, names):
    """After a refusal the form shows what was typed (the row itself is not saved)."""
    for name in names:
        if name in form:
            setattr(row, name, form.get(name))


def _save(row, what):
    try:
        with db.atomic():
            row.save()
    except IntegrityError:
        raise InvalidInput("duplicate", f"{what}的编码或名称已存在") from None
    return row


# --- deputies -------------------------------------------------------------------------------------

@bp.get("/deputies")
@roles(*STAFF)
def deputies():
    q = request.args.get("q", "").strip()[:20]
    query = Deputy.select().order_by(Deputy.code)
    if q:
        query = query.where(Deputy.name.contains(q) | (Deputy.code == q.upper()))
    return render_template("console/deputies.html", rows=list(query), q=q, levels=DEPUTY_LEVELS,
                           today=dt.date.today())


def save_deputy(deputy, data, photo):
    if deputy.id is None:
        deputy.code = _code(data)
    else:
        require_scope(actor(), deputy.station, "代表")
    deputy.name = text(data, "name", "姓名", limit=50)
    if data.get("level") not in DEPUTY_LEVELS:
        raise InvalidInput("invalid_choice", "请选择代表层级", field="level")
    deputy.level = data["level"]
    deputy.station = _station(data.get("station"))
    require_scope(actor(), deputy.station, "代表")
    deputy.constituency = text(data, "constituency", "选区", required=False, limit=100)
    deputy.public_contact = text(data, "public_contact", "公开联系方式", required=False, limit=100)
    deputy.bio = text(data, "bio", "简介", required=False, limit=1000)
    deputy.term_start, deputy.term_end = _date(data, "term_start", "任期开始"), _date(data, "term_end", "任期结束")
    if deputy.term_start and deputy.term_end and deputy.term_end < deputy.term_start:
        raise InvalidInput("invalid_dates", "任期结束不能早于开始", field="term_end")
    if photo is not None and photo.filename:
        deputy.photo = uploads.url_for_upload(uploads.save_image(photo, g.account).token)
    with db.atomic():
        _save(deputy, "代表")
        person = accounts.person_account(deputy)  # the deputy's inbox and WeChat identities
        if person.display_name != deputy.name:
            Account.update(display_name=deputy.name).where(Account.id == person.id).execute()
    return deputy


@bp.route("/deputies/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/deputies/<code>", methods=["GET", "POST"])
@roles(*STAFF)
def deputy(code):
    found = _get(Deputy, code, "代表") if code else Deputy()
    if request.method == "POST":
        try:
            save_deputy(found, request.form, request.files.get("photo"))
            flash(f"已保存代表 {found.name}（{found.code}）", "ok")
            return redirect(url_for("console.deputy", code=found.code))
        except ServiceError as err:
            fail(err)
            keep_typed(found, request.form, ("name", "level", "constituency", "public_contact", "bio",
                                             "term_start", "term_end"))
    return render_template("console/deputy.html", deputy=found, levels=DEPUTY_LEVELS,
                           stations=Station.select().order_by(Station.path),
                           binding=binding_panel(accounts.person_account(found)) if found.id else None)


# --- stations -------------------------------------------------------------------------------------

@bp.get("/stations")
@roles(*STAFF)
def stations():
    rows = list(Station.select().order_by(Station.path))
    counts = {s.id: s.deputies.count() for s in rows}
    return render_template("console/stations.html", rows=rows, counts=counts, levels=STATION_LEVELS,
                           kinds=STATION_KINDS)


@bp.route("/stations/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/stations/<code>", methods=["GET", "POST"])
@roles(*STAFF)
def station(code):
    found = _get(Station, code, "联络站") if code else Station()
    if request.method == "POST":
        try:
            data = request.form
            if found.id is None:
                found.code = _code(data)
                found.parent = _station(data.get("parent"))
            require_scope(actor(), found.parent if found.id is None else found, "联络站")
            found.name = text(data, "name", "名称", limit=100)
            if data.get("level") not in STATION_LEVELS or data.get("kind") not in STATION_KINDS:
                raise InvalidInput("invalid_choice", "请选择层级和类型", field="level")
            found.level, found.kind = data["level"], data["kind"]
            found.address = text(data, "address", "地址", required=False, limit=200)
            found.reception_hours = text(data, "reception_hours", "接待时间", required=False, limit=200)
            found.phone = text(data, "phone", "电话", required=False, limit=32)
            with db.atomic():
                _save(found, "联络站")
                found.path = (found.parent.path if found.parent_id else "/") + f"{found.id}/"
                found.save()
            flash(f"已保存联络站 {found.name}", "ok")
            return redirect(url_for("console.stations"))
        except ServiceError as err:
            fail(err)
            keep_typed(found, request.form, ("name", "level", "kind", "address", "reception_hours", "phone"))
    return render_template("console/station.html", station=found, levels=STATION_LEVELS, kinds=STATION_KINDS,
                           stations=Station.select().order_by(Station.path))


# --- departments ----------------------------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
@roles(*STAFF)
def departments():
    """The departments and who handles for them; an office adds or changes its own level's and those below
    (services/levels.save_department: the level, name, phone, in use — audited)."""
    status = 200
    if request.method == "POST":
        try:
            found = levels.save_department(actor(), request.form)
            flash(f"已保存承办单位 {found.name}", "ok")
            return redirect(url_for("console.departments"))
        except ServiceError as err:
            fail(err)
            status = err.status
    handlers = {}
    for a in Account.select().where(Account.role == "department", Account.active == True).order_by(  # noqa: E712
            Account.username):
        handlers.setdefault(a.department_id, []).append(a)
    who = actor()
    return render_template("console/departments.html", rows=list(Department.select().order_by(Department.code)),
                           handlers=handlers, nodes=list(levels.department_nodes(who)), levels=STATION_LEVELS,
                           whole=in_scope(who, None), mine=lambda d: in_scope(who, d.station_id),
                           typed=request.form if status != 200 else {}), status


# --- accounts (admin) -----------------------------------------------------------------------------

@bp.route("/accounts", methods=["GET", "POST"])
@roles("admin")
def accounts_page():
    if request.method == "POST":
        f = request.form
        try:
            if not (f.get("username") or "").strip():
                raise InvalidInput("missing_field", "请填写用户名", field="username")
            account, created = accounts.create_user(
                f.get("role"), (f.get("username") or "").strip(), f.get("password") or None,
                f.get("display_name", "").strip(), f.get("department") or None, f.get("station") or None,
                (f.get("deputy") or "").strip().upper() or None)
            flash(f"{'已创建' if created else '已更新'}账号 {account.username}", "ok")
            return redirect(url_for("console.accounts_page"))
        except ServiceError as err:
            fail(err)
    rows = list(Account.select().where(Account.username.is_null(False)).order_by(Account.role, Account.username))
    return render_template("console/accounts.html", rows=rows, roles=accounts.WEB_ROLES, role_labels=ROLES,
                           departments=Department.select().order_by(Department.code),
                           stations=Station.select().order_by(Station.path), now=dt.datetime.utcnow())


@bp.post("/accounts/<int:account_id>/<op>")
@roles("admin")
def account_op(account_id, op):
    found = Account.get_or_none(Account.id == account_id, Account.username.is_null(False))
    if found is None or op not in ("unlock", "disable", "enable"):
        raise NotFound("account_not_found", "账号不存在")
    if op == "unlock":
        found.failed_logins, found.locked_until = 0, None
    elif found.id == g.account.id:
        flash("不能停用自己的账号", "error")
        return redirect(url_for("console.accounts_page"))
    else:
        found.active = op == "enable"
    found.save()
    flash({"unlock": "已解锁", "disable": "已停用", "enable": "已启用"}[op] + f"账号 {found.username}", "ok")
    return redirect(url_for("console.accounts_page"))
