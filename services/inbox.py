"""The mini-program user's side of notifications: the in-app inbox and subscribe-message consents.

Each `accept` from wx.requestSubscribeMessage allows exactly one later send of that template
(WeChat's one-time subscription), so it adds one to SubscriptionQuota.remaining; the sender
(services/delivery.py) spends it. `template_key` is the WeChat template id the mini-program asked for.
"""
from models import Notification, SubscriptionQuota, db, utcnow
from services.errors import InvalidInput

VERDICTS = ("accept", "reject", "ban", "filter")


def record_consents(account, results):
    """results: {template id: accept|reject|ban|filter}. Returns {template id: remaining sends}."""
    if not isinstance(results, dict) or not results or len(results) > 10:
        raise InvalidInput("invalid_results", "订阅结果格式有误", field="results")
    for key, verdict in results.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64 or verdict not in VERDICTS:
            raise InvalidInput("invalid_results", "订阅结果格式有误", field="results")
    with db.atomic():
        for key, verdict in results.items():
            if verdict != "accept":
                continue
            SubscriptionQuota.insert(account=account, template_key=key, remaining=0).on_conflict_ignore().execute()
            SubscriptionQuota.update(remaining=SubscriptionQuota.remaining + 1, updated_at=utcnow()).where(
                SubscriptionQuota.account == account, SubscriptionQuota.template_key == key).execute()
    rows = SubscriptionQuota.select().where(SubscriptionQuota.account == account,
                                            SubscriptionQuota.template_key.in_(list(results)))
    return {row.template_key: row.remaining for row in rows}


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
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids) or len(ids) > 200:
            raise InvalidInput("invalid_ids", "请选择要标为已读的消息", field="ids")
        query = query.where(Notification.id.in_(ids))
    return query.execute()
