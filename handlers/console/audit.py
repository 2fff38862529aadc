"""审计日志: the append-only log (services/audit.py), filtered and exported. Admins and county-wide staff."""
import datetime as dt
from urllib.parse import urlencode

from flask import Response, g, render_template, request

from services import audit, exports
from services.errors import Forbidden

from . import STAFF, bp, roles

FILTERS = ("start", "end", "actor", "action", "target", "ip")
ACTIONS = {"case.": "案件操作（全部）", "suggestion.": "代表建议操作（全部）", "view_phone": "查看群众电话", "login": "登录", "bind": "绑定微信",
           "unbind": "解除绑定"}


def _day(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _search():
    if g.account.role == "staff" and g.account.station_id is not None:
        raise Forbidden("not_permitted", "审计日志仅限管理员和县级工作人员查看")
    f = {name: (request.args.get(name) or "").strip()[:64] for name in FILTERS}
    return audit.search(start=_day(f["start"]), end=_day(f["end"]), actor=f["actor"], action=f["action"],
                        target=f["target"], ip=f["ip"]), f


@bp.get("/audit")
@roles(*STAFF)
def audit_log():
    query, f = _search()
    page = max(1, request.args.get("page", 1, type=int))
    total = query.count()
    return render_template("console/audit.html", rows=list(query.paginate(page, 100)), f=f, total=total,
                           page=page, pages=max(1, -(-total // 100)), actions=ACTIONS,
                           query_string=urlencode({k: v for k, v in f.items() if v}))


@bp.get("/audit/export.xlsx")
@roles(*STAFF)
def audit_export():
    query, _ = _search()
    return Response(exports.audit_xlsx(query.limit(50000)),
                    mimetype=exports.XLSX_MIME,
                    headers=exports.attachment("审计日志.xlsx"))
