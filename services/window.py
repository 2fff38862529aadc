"""What the engines that open something to people for a while share (表决 ballots, 征集 consultations): the
window in local time from a form, the state moved on by compare-and-swap, the refusal outside the window,
and the short public code. One place for each, so a ballot and a consultation open and close alike.

A windowed thing has `state` (draft → open → closed → published) and `opens_at` / `closes_at` (naive UTC).
"""
import datetime as dt
import secrets

from models import utcnow
from services import calendar
from services.errors import Conflict, InvalidInput, NotFound

CODE_LETTERS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def moment(value, label):
    """A local 'YYYY-MM-DDTHH:MM' (as <input type=datetime-local> sends it) → naive UTC."""
    try:
        local = dt.datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput("bad_time", f"请填写正确的{label}")
    return local.replace(tzinfo=calendar.tz()).astimezone(dt.timezone.utc).replace(tzinfo=None, second=0)


def window(data, opens="opens_at", closes="closes_at"):
    """(opens_at, closes_at) from a form; the end must come after the start."""
    opens_at, closes_at = moment(data.get(opens), "开始时间"), moment(data.get(closes), "截止时间")
    if closes_at <= opens_at:
        raise InvalidInput("bad_window", "截止时间须晚于开始时间")
    return opens_at, closes_at


def refusal(thing, not_yet, over, now=None):
    """Why nothing may be handed in now (`not_yet` before the start or in draft, `over` after), or None."""
    now = now or utcnow()
    if thing.state == "draft" or now < thing.opens_at:
        return not_yet
    if thing.state != "open" or now >= thing.closes_at:
        return over
    return None


def cas(thing, expected, **changes):
    """Move `thing` on from state `expected` (compare-and-swap, so two clicks cannot both act)."""
    model = type(thing)
    done = model.update(**changes).where(model.id == thing.id, model.state == expected).execute()
    if not done:
        raise Conflict("state_changed", "状态已变化，请刷新页面")
    for key, value in changes.items():
        setattr(thing, key, value)


def new_code(prefix, length=7):
    return prefix + "".join(secrets.choice(CODE_LETTERS) for _ in range(length))


def by_code(model, code, error, message):
    """The row of `model` with this public code; NotFound (the Chinese 404 page) for a forged or mistyped one."""
    found = model.get_or_none(model.code == str(code or "").strip().upper()[:16])
    if found is None:
        raise NotFound(error, message)
    return found
