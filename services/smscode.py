"""查我的反映 from any browser: a citizen proves the phone number left on their reports with an SMS code.

A code is 6 digits, lives 5 minutes, is kept only as a keyed hash in shared storage, and dies after
MAX_WRONG wrong tries (a new code must be asked for). Asking is rate limited per number (once a minute,
five an hour) and per address; verifying is rate limited per address. A number with no report gets the
same answer as one with reports but no SMS, so the page tells nobody whose number is on file.
"""
import hashlib
import hmac
import re
import secrets
import time

from flask import current_app

import sms
from models import Case
from services import delivery, ratelimit
from services.errors import InvalidInput, ServiceError
from wechat import store

CODE_TTL = 300
MAX_WRONG = 5
MOBILE = re.compile(r"^1[3-9]\d{9}$")


class SmsFailed(ServiceError):
    status = 503


def mobile(value):
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if not MOBILE.match(phone):
        raise InvalidInput("invalid_phone", "请填写正确的11位手机号", field="phone")
    return phone


def _digest(phone, code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms-code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(value, address):
    """Send a code to this number if any report carries it; returns the cleaned number either way."""
    phone = mobile(value)
    ratelimit.hit(f"smscode-ip:{address}", 10, 3600, "获取验证码太频繁，请一小时后再试")
    ratelimit.hit(f"smscode-min:{phone}", 1, 60, "验证码已发送，请1分钟后再重新获取")
    ratelimit.hit(f"smscode-hour:{phone}", 5, 3600, "这个号码获取验证码太频繁，请一小时后再试")
    if not Case.select().where(Case.contact_phone == phone).exists():
        return phone
    if not sms.enabled("verify_code"):
        raise SmsFailed("sms_unavailable", "短信服务暂未开通，请在微信中查看，或拨打联络站电话查询")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    store.put(f"smscode:{phone}", {"digest": _digest(phone, code), "wrong": 0,
                                   "until": time.time() + CODE_TTL}, CODE_TTL)
    try:
        delivery.send_sms(phone, "verify_code", [code, str(CODE_TTL // 60)])
    except (sms.SmsError, sms.SmsUnavailable) as err:
        store.delete(f"smscode:{phone}")
        current_app.logger.warning("SMS code to %s*** failed: %s", phone[:3], err)
        raise SmsFailed("sms_failed", "短信发送失败，请稍后再试") from None
    return phone


def verify(value, code, address):
    """The proven number; raises InvalidInput (wrong, expired or used-up code) otherwise."""
    phone = mobile(value)
    ratelimit.hit(f"smscode-verify-ip:{address}", 30, 3600, "尝试次数太多，请一小时后再试")
    key = f"smscode:{phone}"
    entry = store.get(key)
    if entry is None:
        raise InvalidInput("code_expired", "验证码已失效，请重新获取", field="code")
    if not hmac.compare_digest(entry["digest"], _digest(phone, str(code or "").strip())):
        wrong = entry["wrong"] + 1
        if wrong >= MAX_WRONG:
            store.delete(key)
            raise InvalidInput("code_locked", f"验证码已输错{MAX_WRONG}次，已失效，请重新获取", field="code")
        store.put(key, {**entry, "wrong": wrong}, max(1, entry["until"] - time.time()))
        raise InvalidInput("wrong_code", f"验证码不正确，还可以再试{MAX_WRONG - wrong}次", field="code")
    store.delete(key)
    return phone


def cases_for(phone):
    """The cases this proven number was left on, newest first."""
    return list(Case.select().where(Case.contact_phone == phone).order_by(Case.submitted_at.desc(), Case.id.desc())
                .limit(50))
