"""Shared pieces of the API: the blueprint, sign-in, request parsing and JSON shapes."""
import functools
import json
import math
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request

from services import apiauth, calendar, directory, workflow
from services.errors import InvalidInput, ServiceError
from services.uploads import url_for_upload

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__)
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@docs_bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(json.loads(OPENAPI.read_text(encoding="utf-8")))


def bearer():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def login_required(view):
    """The view runs with g.account set from the bearer token; 401 otherwise."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.account = apiauth.account_for_token(bearer())
        return view(*args, **kwargs)
    return wrapper


def optional_account():
    """The signed-in account when a valid token came with the request, else None (public pages)."""
    token = bearer()
    return apiauth.account_for_token(token) if token else None


MAX_DEPTH = 8  # objects and lists inside each other: the API's own shapes need 3


def body():
    """The JSON object sent with the request ({} for an empty body): at most API_MAX_JSON bytes, finite
    numbers only, no lone surrogates, at most MAX_DEPTH levels deep — else a 400 (413 when too large).
    The field rules (services/workflow.py: text, choice, number, boolean, code…) check each value."""
    limit = current_app.config.get("API_MAX_JSON", 64 * 1024)
    if (request.content_length or 0) > limit:
        raise ServiceError("too_large", "内容太大，请精简后再试", status=413)
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if len(raw) > limit:
        raise ServiceError("too_large", "内容太大，请精简后再试", status=413)
    try:
        data = json.loads(raw, parse_constant=_refuse, parse_float=_finite)
        _check(data, 0)
    except (ValueError, RecursionError):   # UnicodeError is a ValueError
        raise InvalidInput("invalid_json", "请求内容格式有误") from None
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json", "请求内容格式有误")
    return data


def _refuse(constant):
    raise ValueError(constant)   # NaN, Infinity, -Infinity


def _finite(literal):
    value = float(literal)
    if not math.isfinite(value):   # 1e999
        raise ValueError(literal)
    return value


def _check(value, depth):
    if depth > MAX_DEPTH:
        raise ValueError("too deep")
    if isinstance(value, str):
        value.encode("utf-8")      # a lone surrogate ("\ud800") raises UnicodeEncodeError
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def paging(default=20, most=50):
    """?page= (workflow.page) and ?per_page= (a larger one gets `most`); anything else is a 400."""
    return workflow.page(request.args), min(most, workflow.number(request.args, "per_page", "每页条数", 1, 10**6,
                                                                   default))


def when(moment):
    """A stored UTC time as local ISO 8601 with its offset."""
    return calendar.local(moment).isoformat() if moment else None


def day(value):
    return value.isoformat() if value else None


def photos(tokens):
    return [{"id": t, "url": url_for_upload(t)} for t in tokens or []]


def station_brief(station):
    return {"code": station.code, "name": station.name} if station else None


def deputy_brief(deputy):
    if deputy is None:
        return None
    return {"code": deputy.code, "name": deputy.name, "level": deputy.level,
            "level_label": directory.DEPUTY_LEVELS.get(deputy.level, deputy.level), "photo": deputy.photo,
            "station": station_brief(deputy.station) if deputy.station_id else None}


def account_json(account):
    return {"role": account.role, "role_label": workflow.ROLES.get(account.role, account.role),
            "display_name": account.display_name,
            "deputy": deputy_brief(account.deputy) if account.deputy_id else None,
            "department": ({"code": account.department.code, "name": account.department.name}
                           if account.department_id else None)}
