"""Accounts: console users with hashed passwords, and citizens known by their WeChat openid/unionid."""
import functools
import logging
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from models import Account, Department, Deputy, Station, db, retried, utcnow
from services.errors import InvalidInput, NotFound
from services.vocab import setting

log = logging.getLogger(__name__)
WEB_ROLES = ("staff", "department", "admin", "deputy")
MIN_PASSWORD = 10
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def common_passwords():
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_policy(password, username=""):
    """At least MIN_PASSWORD characters, not a well-known password, not the username (either way round)."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("weak_password", f"密码至少{MIN_PASSWORD}位", field="password")
    lowered, name = password.lower(), (username or "").strip().lower()
    if lowered in common_passwords() or len(set(lowered)) < 4:
        raise InvalidInput("weak_password", "密码太常见，容易被猜中，请换一个", field="password")
    if name and (name in lowered or lowered in name):
        raise InvalidInput("weak_password", "密码不能包含用户名", field="password")


def set_password(account, password):
    """A new password (checked against the policy); every session and token issued before it ends."""
    check_password_policy(password, account.username)
    account.password_hash = generate_password_hash(password, method=hash_method())
    account.password_changed_at = utcnow()
    account.session_version = (account.session_version or 0) + 1


def session_mark(account):
    """What a signed-in session keeps to prove it is still current: it changes with the server-side
    session version (logout, end_sessions) and with the password, so every older session — a copied
    cookie too — ends."""
    import hashlib
    return hashlib.sha256(f"{account.session_version or 0}:{account.password_hash or ''}".encode()).hexdigest()[:16]


def end_sessions(account):
    """Every console session and API token of this account stops working (logout, deletion)."""
    Account.update(session_version=Account.session_version + 1).where(Account.id == account.id).execute()


def password_ok(account, password):
    return bool(account.password_hash) and check_password_hash(account.password_hash, password or "")


def _by_code(model, code, label):
    if not code:
        return None
    found = model.get_or_none(model.code == code)
    if found is None:
        raise NotFound(f"{model.__name__.lower()}_not_found", f"未找到{label}：{code}")
    return found


@retried
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


@retried
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


def oa_citizen(openid):
    """The citizen behind an official-account openid (a follower, or a visitor WeChat's web OAuth named),
    created on first sight and joined to their mini-program account through the unionid WeChat gives for
    an official account bound to an Open Platform account."""
    account = Account.get_or_none(Account.oa_openid == openid)
    if account is not None:
        return account
    from wechat import client
    from wechat.errors import WeChatError
    unionid = None
    try:
        unionid = client.oa_user_info(openid).get("unionid")
    except WeChatError as err:
        log.warning("no profile for %s (%s); not linked to a mini-program account", openid, err)
    return citizen_for_openid(openid, unionid, official_account=True)


# --- console login: lock-out after repeated failures ------------------------------------------------

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
FAILURES_PER_ADDRESS = (30, 600)   # failed logins one client address may make per 10 minutes
BAD_CREDENTIALS = "用户名或密码错误"


def login(username, password, address=""):
    """The console account for these credentials. Five wrong passwords in a row lock it for 15 minutes;
    every attempt takes its turn with one UPDATE that counts it and checks the lock in the same
    statement, so a parallel burst is checked at most five times and the right password inside a locked
    burst is refused too. A correct login resets the count. Unknown user and wrong password get the same
    message. Failures (only failures) also count against the client address. Raises Unauthorized
    (bad_credentials), Forbidden (account_locked / account_inactive) or TooMany (rate_limited)."""
    import datetime as dt

    from services import audit, ratelimit
    from services.errors import Forbidden, Unauthorized
    limit, window = FAILURES_PER_ADDRESS
    per_address = f"login-failed:{address}"
    if address and ratelimit.count(per_address) >= limit:
        raise ratelimit.too_many(window, "登录失败次数太多，请稍后再试")

    def failed(error):
        audit.record(None, "login_failed", ("account", name[:64]), {"reason": error.code})
        if address:
            ratelimit.hit(per_address, limit, window, "登录失败次数太多，请稍后再试")
        raise error

    name = (username or "").strip() if isinstance(username, str) else ""
    account = Account.get_or_none(Account.username == name) if name else None
    if account is None or account.role not in WEB_ROLES or not account.password_hash:
        check_password_hash(_dummy_hash(hash_method()), password or "")  # same work whether or not the name exists
        failed(Unauthorized("bad_credentials", BAD_CREDENTIALS))
    now = utcnow()
    lock = now + dt.timedelta(minutes=LOCK_MINUTES)
    # a lock that has run out starts a fresh count
    Account.update(failed_logins=0, locked_until=None).where(Account.id == account.id,
                                                              Account.locked_until <= now).execute()
    # take a turn: counted before the password is checked, refused once the count is full; the fifth turn
    # sets the lock in its own statement (no SET term reads another: MySQL and SQLite order them differently)
    open_turn = (Account.id == account.id) & Account.locked_until.is_null()
    turn = Account.update(failed_logins=Account.failed_logins + 1).where(
        open_turn, Account.failed_logins < MAX_FAILED_LOGINS - 1).execute() or \
        Account.update(failed_logins=Account.failed_logins + 1, locked_until=lock).where(
            open_turn, Account.failed_logins == MAX_FAILED_LOGINS - 1).execute()
    if not turn:
        until = Account.select(Account.locked_until).where(Account.id == account.id).scalar() or lock
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        failed(Forbidden("account_locked", f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试"))
    if not password_ok(account, password if isinstance(password, str) else ""):
        if Account.select(Account.locked_until).where(Account.id == account.id).scalar():
            failed(Forbidden("account_locked", f"密码错误次数过多，账号已锁定，请{LOCK_MINUTES}分钟后再试"))
        failed(Unauthorized("bad_credentials", BAD_CREDENTIALS))
    if not account.active:
        raise Forbidden("account_inactive", "账号已停用，请联系管理员")
    Account.update(failed_logins=0, locked_until=None, last_login_at=now).where(Account.id == account.id).execute()
    audit.record(account, "login", account)
    return Account.get_by_id(account.id)


# --- 扫码确认登录: the second factor for staff with a bound WeChat -------------------------------------

CONFIRM_TTL = 180   # seconds a login waits for its confirmation from the phone


def needs_wechat_confirm(account):
    """LOGIN_WECHAT_CONFIRM on, and the account has a bound official-account identity to confirm with."""
    from flask import current_app
    return bool(current_app.config.get("LOGIN_WECHAT_CONFIRM")) and bool(account.oa_openid)


def start_wechat_confirm(account):
    """A login whose password was right waits for the account's own WeChat: returns the token the
    confirmation QR code carries (kept in shared storage, CONFIRM_TTL seconds)."""
    import secrets

    from wechat import store
    token = secrets.token_urlsafe(24)
    store.put(f"login-confirm:{token}", {"uid": account.id, "ok": False}, CONFIRM_TTL)
    return token


def confirm_wechat_login(token, openid):
    """The phone that scanned the code confirms — only the WeChat identity bound to that account can.
    Raises NotFound (expired or unknown) or Forbidden (another WeChat)."""
    from services import audit
    from services.errors import Forbidden
    from wechat import store
    entry = store.get(f"login-confirm:{token}") if isinstance(token, str) else None
    if not entry:
        raise NotFound("confirm_expired", "登录确认已过期，请在电脑上重新登录")
    account = Account.get_or_none(Account.id == entry["uid"])
    if account is None or not openid or account.oa_openid != openid:
        raise Forbidden("confirm_not_yours", "请用绑定了该账号的微信扫码确认")
    store.put(f"login-confirm:{token}", {"uid": account.id, "ok": True}, CONFIRM_TTL)
    audit.record(account, "login_confirmed", account)
    return account


def finish_wechat_login(token):
    """The account once its phone confirmed (the confirmation is used up), else None."""
    from wechat import store
    entry = store.get(f"login-confirm:{token}") if token else None
    if not entry or not entry.get("ok"):
        return None
    store.delete(f"login-confirm:{token}")
    return Account.get_or_none(Account.id == entry["uid"], Account.active == True)  # noqa: E712


def change_password(account, old, new):
    if not password_ok(account, old):
        raise InvalidInput("bad_password", "原密码不正确", field="old")
    set_password(account, new)
    account.save()


def hash_method():
    """werkzeug's method string (PASSWORD_HASH_METHOD; scrypt at werkzeug's cost by default). A stored hash names
    its own method, so changing the setting affects only passwords set afterwards."""
    return setting("PASSWORD_HASH_METHOD", "scrypt")


@functools.lru_cache(maxsize=4)
def _dummy_hash(method):
    return generate_password_hash("not-a-real-password", method=method)
