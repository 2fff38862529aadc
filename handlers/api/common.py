"""Shared pieces of the API: the blueprint, sign-in, request parsing and JSON shapes."""
import functools
import json
from pathlib import Path

from flask import Blueprint, g, jsonify, request

from services import apiauth, calendar, directory, workflow
from services.errors import InvalidInput
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


def body():
    """The JSON object sent with the request ({} for an empty body)."""
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json", "请求内容格式有误")
    return data


def paging(default=20, most=50):
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(most, max(1, int(request.args.get("per_page", default))))
    except ValueError:
        raise InvalidInput("invalid_number", "分页参数应为数字") from None
    return page, per_page


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
