"""Mini-program sign-in: wx.login's code → code2Session → our own signed bearer token.

The token is an itsdangerous signature over the account id (salted, time-stamped); WeChat's
session_key never leaves the server and is not even kept. Who the person is:

an account bound to this mini-program openid (services/binding.py: a deputy's or a console account's)
acts in its own role, in the workbench; anyone else is a citizen (`accounts.citizen_for_openid`, joined
through unionid — which also finds a person bound on the official account with the same unionid).
"""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from models import Account, row_where, utcnow
from services import accounts
from services.errors import Forbidden, ServiceError, Unauthorized

SALT = "api-bearer-token"
DEFAULT_MAX_AGE = 7 * 24 * 3600


def max_age():
    return int(current_app.config.get("API_TOKEN_MAX_AGE") or DEFAULT_MAX_AGE)


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(account):
    """A bearer token for this account, valid for API_TOKEN_MAX_AGE seconds (default 7 days)."""
    return _serializer().dumps({"a": account.id, "v": account.session_version or 0})


def account_for_token(token):
    """The account a bearer token stands for; Unauthorized (401) when missing, forged or expired."""
    if not token:
        raise Unauthorized("login_required", "请先登录")
    try:
        payload = _serializer().loads(token, max_age=max_age())
    except SignatureExpired:
        raise Unauthorized("token_expired", "登录已过期，请重新登录") from None
    except BadSignature:
        raise Unauthorized("token_invalid", "登录信息无效，请重新登录") from None
    account = row_where(Account.id, payload.get("a")) if isinstance(payload, dict) else None
    if account is None or not account.active or payload.get("v", 0) != (account.session_version or 0):
        raise Unauthorized("token_invalid", "登录信息无效，请重新登录")
    return account


def login(code):
    """Exchange a wx.login code for (account, token). WeChat's session_key is dropped on the spot."""
    from wechat import client
    from wechat.errors import WeChatAPIError, WeChatUnavailable
    code = str(code or "").strip()
    if not code or len(code) > 128:
        raise Unauthorized("invalid_code", "登录凭证无效，请重新进入小程序")
    try:
        session = client.code_to_session(code)
    except WeChatAPIError as err:
        if err.errcode == 45011:
            raise ServiceError("rate_limited", "登录太频繁，请稍后再试", status=429) from None
        raise Unauthorized("invalid_code", "登录凭证无效，请重新进入小程序", errcode=err.errcode) from None
    except WeChatUnavailable:
        raise ServiceError("wechat_unavailable", "微信服务暂时不可用，请稍后再试", status=503) from None
    account = accounts.citizen_for_openid(session["openid"], session.get("unionid"))
    if not account.active:
        raise Forbidden("account_disabled", "账号已停用，请联系人大常委会办公室")
    Account.update(last_login_at=utcnow()).where(Account.id == account.id).execute()
    return account, issue_token(account)
