"""Sign-in, the signed-in person, subscribe-message consents and the in-app inbox."""
from flask import g, jsonify, request

from services import apiauth, binding, inbox, privacy, workflow
from services.errors import InvalidInput

from .common import account_json, body, bp, login_required, paging, when


@bp.post("/auth/login")
def login():
    """{code} from wx.login → {token, expires_in, account}. The token goes in `Authorization: Bearer`."""
    account, token = apiauth.login(body().get("code"))
    return jsonify({"token": token, "expires_in": apiauth.max_age(), "account": account_json(account)})


@bp.get("/me")
@login_required
def me():
    return jsonify({"account": account_json(g.account)})


@bp.delete("/me")
@login_required
def delete_me():
    """注销: {"confirm": true} deletes the citizen's account and personal details (services/privacy)."""
    if not workflow.boolean(body(), "confirm", "确认"):
        raise InvalidInput("confirm_required", "请确认注销账号", field="confirm")
    cases = privacy.delete_account(g.account)
    return jsonify({"deleted": True, "cases_detached": cases})


@bp.get("/privacy")
def privacy_notice():
    """The collection notice every form shows (个人信息收集说明)."""
    return jsonify({"notice": privacy.notice()})


@bp.get("/subscriptions")
@login_required
def subscription_templates():
    """The template ids to pass to wx.requestSubscribeMessage, by key, and the sends each still allows."""
    return jsonify({"templates": inbox.templates(), "quotas": inbox.quotas(g.account)})


@bp.post("/subscriptions")
@login_required
def subscriptions():
    """The result of wx.requestSubscribeMessage: {"results": {template id: accept|reject|ban|filter}}."""
    quotas, ignored = inbox.record_consents(g.account, body().get("results"))
    return jsonify({"quotas": quotas, "ignored": ignored})


@bp.get("/me/notifications")
@login_required
def notifications():
    page, per_page = paging()
    rows, total, unread = inbox.list_for(g.account, page, per_page)
    return jsonify({"notifications": [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body,
                                       "link": n.link, "at": when(n.created_at), "read": n.read_at is not None}
                                      for n in rows], "total": total, "unread": unread, "page": page,
                    "per_page": per_page})


@bp.post("/me/notifications/read")
@login_required
def mark_read():
    """{"ids": [..]} marks those read; {"all": true} marks every one read."""
    data = body()
    marked = inbox.mark_read(g.account, data.get("ids"), workflow.boolean(data, "all", "全部"))
    return jsonify({"marked": marked, "unread": inbox.unread(g.account)})


@bp.post("/bind")
@login_required
def bind():
    """{"token": …} (from pages/bind/index?t=…) or {"code": "ABCD2345"}: bind this mini-program identity to the
    person the binding code names; → {token, expires_in, account, bound} signed in as that person."""
    data = body()
    account, bound = binding.redeem(data.get("token") or data.get("code"), "miniprogram", g.account.openid,
                                    g.account.unionid, address=request.remote_addr)
    return jsonify({"token": apiauth.issue_token(account), "expires_in": apiauth.max_age(),
                    "account": account_json(account), "bound": bound,
                    "message": f"您已绑定为 {binding.describe(account)}"})
