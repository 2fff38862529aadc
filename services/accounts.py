"""Accounts: console users with hashed passwords, and citizens known by their WeChat openid/unionid."""
from werkzeug.security import check_password_hash, generate_password_hash

from models import Account, Department, Deputy, Station, db, utcnow
from services.errors import InvalidInput, NotFound

WEB_ROLES = ("staff", "department", "admin", "deputy")
MIN_PASSWORD = 8


def set_password(account, password):
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput("weak_password", f"密码至少{MIN_PASSWORD}位", field="password")
    account.password_hash = generate_password_hash(password)
    account.password_changed_at = utcnow()


def password_ok(account, password):
    return bool(account.password_hash) and check_password_hash(account.password_hash, password or "")


def _by_code(model, code, label):
    if not code:
        return None
    found = model.get_or_none(model.code == code)
    if found is None:
        raise NotFound(f"{model.__name__.lower()}_not_found", f"未找到{label}：{code}")
    return found


def create_user(role, username, password=None, display_name="", department=None, station=None, deputy=None):
    """Create or update a console account (idempotent by username). Returns (account, created)."""
    if role not in WEB_ROLES:
        raise InvalidInput("invalid_role", "角色应为 staff、department、admin 或 deputy", field="role")
    dept = _by_code(Department, department, "承办单位")
    if role == "department" and dept is None:
        raise InvalidInput("missing_department", "承办单位账号须指定单位", field="department")
    dep = _by_code(Deputy, deputy, "代表")
    if role == "deputy" and dep is None:
        raise InvalidInput("missing_deputy", "代表账号须指定代表码", field="deputy")
    with db.atomic():
        account = Account.get_or_none(Account.username == username)
        created = account is None
        if created:
            account = Account(username=username)
            if not password:
                raise InvalidInput("missing_field", "请设置密码", field="password")
        account.role = role
        account.display_name = display_name or account.display_name or username
        account.department = dept
        account.station = _by_code(Station, station, "联络站")
        account.deputy = dep
        if password:
            set_password(account, password)
        account.save()
    return account, created


def citizen_for_openid(openid, unionid=None, official_account=False):
    """The account behind a WeChat identity, created on first sight. The mini-program openid and the
    official-account openid of one person are joined through unionid when WeChat gives one."""
    column = Account.oa_openid if official_account else Account.openid
    with db.atomic():
        account = Account.get_or_none(column == openid)
        if account is None and unionid:
            account = Account.get_or_none(Account.unionid == unionid)
        if account is None:
            account = Account(role="citizen")
        setattr(account, "oa_openid" if official_account else "openid", openid)
        if unionid:
            account.unionid = unionid
        account.save()
    return account
