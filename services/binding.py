"""绑定 — binding a person's WeChat identities to their account: the one place for binding codes.

The office issues a one-time binding code (`issue`) for a deputy (their own account,
`accounts.person_account`) or
for any console account. One code gives a token for links and QR scenes (`/bind/<token>`, `bind:<token>`)
and an 8-character code a person can type (from an alphabet without 0/O, 1/I/L). `redeem` binds the
WeChat identity that presents it — the official-account openid (`oa_openid`) or the mini-program openid
(`openid`), and the unionid when WeChat gives one — to the code's account, in one transaction with its
audit entry and a confirmation through the outbox. Codes are single use, expire after BIND_CODE_TTL hours
(default 72) and can be revoked; issuing a new code revokes the person's earlier unused ones.

Rules:
- An identity already bound to another person is refused (`identity_taken`), never moved — except an
  account the system made by itself for that identity (a citizen with no username, no cases and no
  followed projects, e.g. the follower account the official account creates on a first message): its
  identity is taken over, the audit entry says from which account, and that empty account is retired.
- Presenting a code for an identity already bound to that same person is harmless: it says so again.
- A person re-binding (a deputy who changed phone) gets the new identity in place of the old one.
- Guessing is rate limited per WeChat identity and per address (TooMany, 429).
"""
import datetime as dt
import hashlib
import hmac
import re
import secrets

from flask import current_app, has_app_context

from models import Account, BindCode, Case, Follow, retried, utcnow
from services import audit, notify, ratelimit
from services.errors import Conflict, InvalidInput, NotFound

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CHANNELS = {"official_account": ("oa_openid", "公众号"), "miniprogram": ("openid", "小程序")}
TRIES_PER_IDENTITY = 10   # redeem attempts per WeChat identity per hour
TRIES_PER_ADDRESS = 30    # … and per client address (HTTP doors) per hour
DEFAULT_TTL_HOURS = 72


def ttl_hours():
    return int(current_app.config.get("BIND_CODE_TTL") or DEFAULT_TTL_HOURS) if has_app_context() \
        else DEFAULT_TTL_HOURS


def _hash(code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"bind:{code}".encode(), hashlib.sha256).hexdigest()


def normalize(text):
    """What a person typed → the code as issued: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-_]", "", str(text or "")).upper()


def pretty(code):
    return f"{code[:4]}-{code[4:]}"


def describe(account):
    """Who an account is, as people say it: 王建华 代表, 县交通运输局 李明, 人大工作人员 张敏."""
    if account.role == "deputy" and account.deputy_id:
        return f"{account.deputy.name} 代表"
    if account.role == "department" and account.department_id:
        return f"{account.department.name} {account.display_name}".strip()
    from services.workflow import ROLES
    return f"{ROLES.get(account.role, account.role)} {account.display_name or account.username or ''}".strip()


# --- whose identities ------------------------------------------------------------------------------

def bindable(account):
    """Deputies' accounts and console accounts can be bound; citizens bind themselves by using WeChat."""
    return account.role == "deputy" and account.deputy_id or (account.role != "citizen" and account.username)


def can_manage(actor, account):
    """Who may issue codes for and unbind a person: admins anyone bindable; staff deputies and departments."""
    role = getattr(actor, "role", None)
    return bool(bindable(account)) and (role == "admin" or (role == "staff" and account.role in
                                                            ("deputy", "department")))


def link(row):
    return f"{current_app.config['PUBLIC_BASE_URL']}/bind/{row.token}"


def qr_target(row):
    """What the slip's QR code holds: the official account's temporary QR (scene bind:<token>: scanning it
    follows the account and binds) where WeChat is configured, else the /bind/<token> link."""
    from wechat import client
    from wechat.errors import WeChatError
    if current_app.config.get("WECHAT_OA_APP_ID") and current_app.config.get("WECHAT_OA_APP_SECRET"):
        try:
            return client.create_oa_qrcode(f"bind:{row.token}", permanent=False)["url"]
        except WeChatError as err:
            import logging
            logging.getLogger(__name__).warning("binding: no official-account QR (%s); the slip has the link", err)
    return link(row)


def state(account):
    """Per channel: whether bound, since when and by which code (for the console pages)."""
    used = {c.used_channel: c for c in account.bind_codes.where(BindCode.used_at.is_null(False))
            .order_by(BindCode.used_at)}
    return {channel: {"label": label, "bound": bool(getattr(account, column)),
                      "at": used[channel].used_at if channel in used and getattr(account, column) else None,
                      "code": used[channel].token[:6] if channel in used and getattr(account, column) else ""}
            for channel, (column, label) in CHANNELS.items()}


def open_codes(account):
    now = utcnow()
    return list(account.bind_codes.where(BindCode.used_at.is_null(), BindCode.revoked_at.is_null(),
                                         BindCode.expires_at > now).order_by(BindCode.created_at.desc()))


# --- issue / revoke --------------------------------------------------------------------------------

@retried
def issue(account, actor):
    """A new binding code for `account`; returns (BindCode, the typeable code — shown once, kept hashed)."""
    from services.workflow import write_transaction
    if not bindable(account):
        raise InvalidInput("not_bindable", "只能为代表或后台账号生成绑定码")
    if not account.active:
        raise Conflict("account_inactive", "账号已停用，不能生成绑定码")
    now = utcnow()
    with write_transaction():
        BindCode.update(revoked_at=now).where(BindCode.account == account, BindCode.used_at.is_null(),
                                              BindCode.revoked_at.is_null()).execute()
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        row = BindCode.create(token=secrets.token_urlsafe(18)[:24], code_hash=_hash(code), account=account,
                              created_by=getattr(actor, "account", actor), created_at=now,
                              expires_at=now + dt.timedelta(hours=ttl_hours()))
        audit.record(actor, "bind_code.issue", account, {"code": row.token[:6],
                                                          "expires_at": row.expires_at.isoformat()})
    return row, code


@retried
def revoke(row, actor):
    from services.workflow import write_transaction
    with write_transaction():
        if BindCode.update(revoked_at=utcnow()).where(BindCode.id == row.id, BindCode.used_at.is_null(),
                                                      BindCode.revoked_at.is_null()).execute():
            audit.record(actor, "bind_code.revoke", row.account, {"code": row.token[:6]})


def code_by_token(token):
    found = BindCode.get_or_none(BindCode.token == str(token or "")[:32])
    if found is None:
        raise NotFound("bind_code_not_found", "绑定链接无效，请向人大常委会办公室索取新的绑定码")
    return found


# --- redeem / unbind -------------------------------------------------------------------------------

def _find(secret):
    secret = str(secret or "").strip()
    found = BindCode.get_or_none(BindCode.token == secret[:32]) if len(secret) > CODE_LENGTH + 1 else None
    code = normalize(secret)
    if found is None and len(code) == CODE_LENGTH and set(code) <= set(ALPHABET):
        found = BindCode.get_or_none(BindCode.code_hash == _hash(code))
    return found


def _disposable(account):
    """An account the system made by itself for a WeChat identity and nobody has used yet."""
    return (account.role == "citizen" and not account.username
            and not Case.select().where(Case.reporter == account).exists()
            and not Follow.select().where(Follow.account == account).exists())


@retried
def redeem(secret, channel, openid, unionid=None, followed=False, address=None):
    """Bind this WeChat identity (channel official_account | miniprogram) with a code or token; returns
    (account, newly bound?). Raises InvalidInput / Conflict / TooMany with a Chinese message; nothing is
    bound then."""
    from services.workflow import write_transaction
    column, label = CHANNELS[channel]
    if not openid:
        raise InvalidInput("wechat_required", "请在微信中打开后再绑定")
    ratelimit.hit(f"bind:{channel}:{openid}", TRIES_PER_IDENTITY, 3600, "尝试次数过多，请一小时后再试")
    if address:
        ratelimit.hit(f"bind-ip:{address}", TRIES_PER_ADDRESS, 3600, "尝试次数过多，请一小时后再试")
    with write_transaction():
        row = _find(secret)
        if row is None:
            raise InvalidInput("bind_code_invalid", "绑定码不正确，请核对后重新输入（8位字母和数字）")
        person = Account.get_by_id(row.account_id)
        if getattr(person, column) == openid:
            return person, False  # binding twice is harmless
        if row.revoked_at:
            raise Conflict("bind_code_revoked", "这个绑定码已作废，请向人大常委会办公室索取新的绑定码")
        if row.used_at:
            raise Conflict("bind_code_used", "这个绑定码已经使用过，请向人大常委会办公室索取新的绑定码")
        if row.expires_at <= utcnow():
            raise Conflict("bind_code_expired", "这个绑定码已过期，请向人大常委会办公室索取新的绑定码")
        if not person.active:
            raise Conflict("account_inactive", "该账号已停用，请联系人大常委会办公室")
        holder = Account.get_or_none(getattr(Account, column) == openid)
        detail = {"channel": channel, "code": row.token[:6]}
        if holder is not None:
            if not _disposable(holder):
                raise Conflict("identity_taken", f"这个微信号已绑定为“{describe(holder)}”，不能再绑定为"
                               f"“{describe(person)}”。如需更换，请联系人大常委会办公室先解除原绑定")
            Account.update(openid=None, oa_openid=None, unionid=None, oa_followed=False, active=False).where(
                Account.id == holder.id).execute()
            detail["taken_over_from"] = holder.id
        if getattr(person, column):
            detail["replaced"] = True
        now = utcnow()
        changes = {column: openid, **({"oa_followed": bool(followed)} if channel == "official_account" else {}),
                   **({"unionid": unionid} if unionid else {})}
        Account.update(**changes).where(Account.id == person.id).execute()
        BindCode.update(used_at=now, used_channel=channel).where(BindCode.id == row.id).execute()
        person = Account.get_by_id(person.id)
        audit.record(person, "bind", person, detail)
        notify.write(person, "bind_confirmed", f"bind:{row.id}", {"who": describe(person), "channel": label})
    return person, True


@retried
def unbind(account, channel, actor):
    """Remove one bound identity (or both, channel None); audited. Returns the channels unbound."""
    from services.workflow import write_transaction
    channels = [channel] if channel else list(CHANNELS)
    if any(c not in CHANNELS for c in channels):
        raise InvalidInput("invalid_channel", "请选择要解除的绑定")
    with write_transaction():
        fresh = Account.get_by_id(account.id)
        done = [c for c in channels if getattr(fresh, CHANNELS[c][0])]
        if not done:
            return []
        changes = {CHANNELS[c][0]: None for c in done}
        if "official_account" in done:
            changes["oa_followed"] = False
        if all(c in done or not getattr(fresh, CHANNELS[c][0]) for c in CHANNELS):
            changes["unionid"] = None  # no identity left that the unionid could join
        Account.update(**changes).where(Account.id == fresh.id).execute()
        audit.record(actor, "unbind", fresh, {"channels": done})
    return done


def oa_profile(openid):
    """(unionid, follows the official account?) from WeChat's follower profile; (None, False) when WeChat
    cannot say — binding goes ahead without them."""
    import logging

    from wechat import client
    from wechat.errors import WeChatError
    try:
        info = client.oa_user_info(openid)
    except WeChatError as err:
        logging.getLogger(__name__).warning("binding: no profile for %s (%s)", openid, err)
        return None, False
    return info.get("unionid"), bool(info.get("subscribe"))


def bound_account(channel, openid):
    """The deputy or console account bound to this identity (None for citizens and strangers)."""
    if not openid:
        return None
    column = CHANNELS[channel][0]
    found = Account.get_or_none(getattr(Account, column) == openid, Account.active == True)  # noqa: E712
    return found if found is not None and found.role != "citizen" else None
