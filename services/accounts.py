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
            # a deputy has one account, which carries their WeChat identities too: it gets the login
            person = person_account(dep) if role == "deputy" else None
            account = person if person is not None and not person.username else Account()
            account.username = username
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


def person_account(deputy):
    """The deputy's own account (role deputy): their inbox and WeChat identities, with or without a console
    login. Every deputy has one (made with the deputy record, or here when missing)."""
    found = Account.select().where(Account.deputy == deputy, Account.role == "deputy").order_by(Account.id).first()
    return found or Account.create(role="deputy", deputy=deputy, display_name=deputy.name)


def citizen_for_openid(openid, unionid=None, official_account=False):
    """The account behind a WeChat identity (a bound deputy's or staff member's, or a citizen's), a citizen
    created on first sight. The mini-program openid and the
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


# --- console login: lock-out after repeated failures ------------------------------------------------

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


def login(username, password):
    """The console account for these credentials. Five wrong passwords in a row lock it for 15 minutes.
    Raises Unauthorized (bad_credentials) or Forbidden (account_locked / account_inactive)."""
    import datetime as dt

    from services.errors import Forbidden, Unauthorized
    account = Account.get_or_none(Account.username == (username or "").strip())
    if account is None or account.role not in WEB_ROLES or not account.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")  # same work whether or not the name exists
        raise Unauthorized("bad_credentials", "用户名或密码错误")
    now = utcnow()
    if account.locked_until and account.locked_until > now:
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        raise Forbidden("account_locked", f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试")
    if not password_ok(account, password):
        failed = (account.failed_logins or 0) + 1
        locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILED_LOGINS else None
        Account.update(failed_logins=0 if locked else failed, locked_until=locked).where(
            Account.id == account.id).execute()
        if locked:
            raise Forbidden("account_locked", f"密码错误次数过多，账号已锁定{LOCK_MINUTES}分钟")
        raise Unauthorized("bad_credentials", f"用户名或密码错误（还可尝试{MAX_FAILED_LOGINS - failed}次）")
    if not account.active:
        raise Forbidden("account_inactive", "账号已停用，请联系管理员")
    Account.update(failed_logins=0, locked_until=None, last_login_at=now).where(Account.id == account.id).execute()
    return Account.get_by_id(account.id)


def change_password(account, old, new):
    if not password_ok(account, old):
        raise InvalidInput("bad_password", "原密码不正确", field="old")
    set_password(account, new)
    account.save()


_DUMMY_HASH = generate_password_hash("not-a-real-password")
