"""个人信息保护 — what the system keeps about citizens, and how it lets go of it.

- Retention: PERSONAL_DATA_RETENTION_DAYS after a case ended (closed or declined), its reporter's personal
  details are removed from it: the contact phone is cleared and the case, its timeline entries, ratings and
  photos no longer point at the person. The case itself — what happened, to whom it went, the answer and the
  rating — stays, so every figure stays the same (the tally never read the reporter).
- Deletion on request: a citizen can delete their account (API DELETE /api/v1/me, H5 /me/delete). Every case
  of theirs is detached the same way, their inbox, follows and consents go, and the account row is kept
  only as an empty, disabled shell ("已注销用户") so the records that counted on it stay whole.
- Bookings of reception days (预约) lose their name and phone the same way: on deletion, and once the day ended
  more than the retention period ago (the booking itself stays, for the station's figures).
Both run in one transaction per person or batch, write an audit entry, and are safe to run again.
"""
import datetime as dt

from flask import current_app

from models import (Account, Activity, Booking, Case, CaseEvent, Follow, Notification, Opinion, Rating,
                    SubscriptionQuota, Upload, retried, utcnow)
from services import audit
from services.errors import Forbidden
from services.workflow import write_transaction

ENDED = ("closed", "declined")
BATCH = 200
DELETED_NAME = "已注销用户"


def _kept(in_years, in_days):
    """How long personal data is kept (PERSONAL_DATA_RETENTION_DAYS) in a notice's words; '' when kept for good."""
    days = int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS") or 0)
    if not days:
        return ""
    return in_years.format(n=days // 365) if days % 365 == 0 else in_days.format(n=days)


def notice():
    """个人信息收集说明 — shown on every form that takes a citizen's details (templates/_privacy_notice.html)."""
    kept = _kept("案件办结{n}年后", "案件办结{n}天后")
    return ("个人信息收集说明：您填写的反映内容、照片、位置和联系电话（选填）仅用于人大代表、人大常委会办公室和"
            "承办单位办理并答复您的反映。电话号码加密保存，只有人大工作人员能看到完整号码；选择匿名时承办单位看不到"
            f"您的身份。{kept + '将删除您的联系方式和身份信息；' if kept else ''}您可以随时注销账号并删除个人信息。")


def booking_notice():
    """个人信息收集说明 of the reception-day booking form (templates/public/reception_book.html)."""
    kept = _kept("接待日过后{n}年", "接待日过后{n}天")
    return ("个人信息收集说明：您填写的称呼、联系电话和约见事由仅用于安排接待、提醒您和联系您。电话号码加密保存，"
            "只有您约见的代表和人大工作人员能看到完整号码。"
            f"{kept + '将删除您的称呼和电话；' if kept else ''}您可以随时取消预约，或注销账号并删除个人信息。")


def _detach(case_ids, account_ids=None):
    """Remove the reporters' personal details from these cases (and, for account_ids, from all they wrote)."""
    if not case_ids:
        return 0
    reporters = account_ids or [r for (r,) in Case.select(Case.reporter).where(
        Case.id.in_(case_ids), Case.reporter.is_null(False)).tuples()]
    photos = [t for (p,) in Case.select(Case.photos).where(Case.id.in_(case_ids)).tuples() for t in p or []]
    Case.update(contact_phone="", reporter=None).where(Case.id.in_(case_ids)).execute()
    if photos:
        Upload.update(account=None).where(Upload.token.in_(photos)).execute()
    if reporters:
        CaseEvent.update(actor=None).where(CaseEvent.case.in_(case_ids), CaseEvent.actor.in_(reporters)).execute()
        Rating.update(rater=None).where(Rating.case.in_(case_ids), Rating.rater.in_(reporters)).execute()
    return len(case_ids)


@retried
def purge_expired(now=None):
    """Apply the retention period to ended cases; returns how many cases lost their personal details."""
    days = int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    ended = Case.closed_at.is_null(False) & (Case.closed_at <= cutoff) | \
        (Case.state == "declined") & (Case.updated_at <= cutoff)
    personal = Case.reporter.is_null(False) | (Case.contact_phone != "")
    with write_transaction():  # bookings (预约) of reception days past the period: the name and phone go
        Booking.update(name="", phone="", account=None).where(
            Booking.activity.in_(Activity.select(Activity.id).where(Activity.ends_at <= cutoff)),
            (Booking.phone != "") | Booking.account.is_null(False)).execute()
    done = 0
    while True:
        with write_transaction():
            ids = [c for (c,) in Case.select(Case.id).where(Case.state.in_(ENDED), ended, personal)
                   .order_by(Case.id).limit(BATCH).tuples()]
            if not ids:
                return done
            done += _detach(ids)
            audit.record(None, "privacy.retention", ("case", f"{len(ids)} cases"), {"cases": ids[:50],
                                                                                  "retention_days": days})


@retried
def delete_account(account):
    """A citizen's own request: detach every case of theirs, drop their inbox, follows and consents, and
    empty the account. Returns the number of cases detached."""
    if account.role != "citizen":
        raise Forbidden("not_citizen", "工作人员和代表的账号请联系管理员注销")
    with write_transaction():
        ids = [c for (c,) in Case.select(Case.id).where(Case.reporter == account.id).tuples()]
        _detach(ids, [account.id])
        CaseEvent.update(actor=None).where(CaseEvent.actor == account.id).execute()
        Rating.update(rater=None).where(Rating.rater == account.id).execute()
        Upload.update(account=None).where(Upload.account == account.id).execute()
        Booking.update(name=DELETED_NAME, phone="", account=None).where(Booking.account == account.id).execute()
        Opinion.update(author=None, name="", anonymous=True).where(Opinion.author == account.id).execute()
        for model in (Notification, Follow, SubscriptionQuota):
            model.delete().where(model.account == account.id).execute()
        Account.update(display_name=DELETED_NAME, phone="", openid=None, oa_openid=None, unionid=None,
                       oa_followed=False, active=False,
                       session_version=Account.session_version + 1).where(Account.id == account.id).execute()
        audit.record(None, "privacy.delete_account", ("account", account.id), {"cases": len(ids)})
    return len(ids)
