"""The mini-program user's side of notifications: the in-app inbox and subscribe-message consents.

Each `accept` from wx.requestSubscribeMessage allows exactly one later send of that template
(WeChat's one-time subscription): it adds one to the person's SubscriptionQuota for the template's
key (services/notify.py TEMPLATES), which services/delivery.py spends. The mini-program asks for
the WeChat template ids of the configured mapping (WECHAT_MP_TEMPLATES, docs/wechat.md); results name
ids or keys. In sandbox mode WeChat's side is the stand-in: it hears of each consent as WeChat would.
"""
from flask import current_app

from models import Notification, SubscriptionQuota, utcnow
from services import delivery
from services.errors import InvalidInput

VERDICTS = ("accept", "reject", "ban", "filter")


def templates():
    """{template key: WeChat template id} for the mini-program's subscribe messages."""
    return delivery.template_ids("subscribe")


def quotas(account):
    return {q.template_key: q.remaining for q in SubscriptionQuota.select().where(SubscriptionQuota.account == account)}


def record_consents(account, results):
    """results: {template id or key: accept|reject|ban|filter}. Returns (quotas, ignored unknown templates)."""
    if not isinstance(results, dict) or not results or len(results) > 10:
        raise InvalidInput("invalid_results", "订阅结果格式有误", field="results")
    if any(not isinstance(k, str) or not 0 < len(k) <= 64 or v not in VERDICTS for k, v in results.items()):
        raise InvalidInput("invalid_results", "订阅结果格式有误", field="results")
    known = templates()
    key_of = {**{v: k for k, v in known.items()}, **{k: k for k in known}}
    ignored = [t for t in results if t not in key_of]
    accepted = [t for t, verdict in results.items() if verdict == "accept" and t in key_of]
    for template in accepted:
        delivery.add_quota(account, key_of[template])
    if current_app.config.get("WECHAT_SANDBOX") and accepted and account.openid:
        from wechat import sandbox
        sandbox.tell_standin("consent", openid=account.openid, template_ids=[known[key_of[t]] for t in accepted])
    return quotas(account), ignored


def unread(account):
    return Notification.select().where(Notification.account == account, Notification.read_at.is_null()).count()


def list_for(account, page=1, per_page=20):
    """Newest first. Returns (rows, total, unread)."""
    query = Notification.select().where(Notification.account == account)
    rows = list(query.order_by(Notification.created_at.desc(), Notification.id.desc()).paginate(page, per_page))
    return rows, query.count(), unread(account)


def mark_read(account, ids=None, everything=False):
    """Marks the account's own notifications read (others' ids are ignored). Returns how many changed."""
    query = Notification.update(read_at=utcnow()).where(Notification.account == account,
                                                        Notification.read_at.is_null())
    if not everything:
        if not isinstance(ids, list) or not ids or len(ids) > 200 or \
                not all(type(i) is int and 0 < i < 2**63 for i in ids):
            raise InvalidInput("invalid_ids", "请选择要标为已读的消息", field="ids")
        query = query.where(Notification.id.in_(ids))
    return query.execute()


def lost(limit=500):
    """Pushes that fell back to an inbox the person cannot open (no mini-program and no console sign-in):
    nobody will read them, so the office sees them on 发送失败 beside the failed ones."""
    from models import Account
    return list(Notification.select(Notification, Account).join(Account).where(
        Notification.state == "inbox", Account.openid.is_null(), Account.username.is_null())
        .order_by(Notification.created_at.desc()).limit(limit))
