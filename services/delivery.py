"""Delivering the outbox: claim rows, pick the best channel per person, send through WeChat or SMS, record it.

Channels, best first: a mini-program subscribe message (when the person holds quota for the template),
an official-account template message (when they follow the account), an SMS (a reporter's case news,
when they ticked 接收短信提醒 on the report and left a mobile number), and always the in-app inbox —
the Notification row itself, readable whatever WeChat says. The delivery rules (claiming, back-off,
crash reconciliation, quiet hours, what each channel guarantees) are written in docs/notifications.md.
"""
import datetime as dt
import logging
import os
import socket
import threading
import time
import zoneinfo
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from peewee import IntegrityError

import sms
from models import Account, Case, DeliveryAttempt, Notification, SubscriptionQuota, db, is_mysql, retried, utcnow
from services import calendar, notify, ratelimit
from services.errors import TooMany
from wechat import store
from wechat.prepared import Prepared

log = logging.getLogger(__name__)

BATCH = 25                     # rows a sender claims at a time (fewer when there are few: small_batch)
MAX_ATTEMPTS = 8               # tries of one channel before the row is failed
BACKOFF_BASE = 60              # seconds: 1, 2, 4, 8 … minutes
BACKOFF_CAP = 3600
SENDING_TIMEOUT = 600          # the longest a claimed batch may take when WECHAT_TIMEOUT is unknown (no app)
LEASE_KEY = "lease:delivery:"  # + worker id: a live sender's lease; its rows are not taken from it
RETRY_CODES = {-1, 40001, 40014, 42001, 45009, 45011,   # WeChat busy / token trouble / rate limits
               "InternalError.Timeout", "RequestLimitExceeded",  # SMS: the provider busy,
               "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit"}  # or paced
LIMIT_CODES = {45009, 45011}   # daily quota / per-minute frequency reached: the drain run stops
DAILY_QUOTA = 45009            # the channel's daily quota is spent: wait for WeChat's reset at 00:00 Beijing time
GONE_CODES = {43101, 43004, 45015,  # the person cannot receive on this channel (refused, unfollowed…)
              "LimitExceeded.PhoneNumberDailyLimit", "FailedOperation.PhoneNumberInBlacklist",
              "InvalidParameterValue.IncorrectPhoneNumber", "DailyCap"}
CHANNELS = ("subscribe", "template", "sms")
CHANNEL_LABELS = {"subscribe": "订阅消息", "template": "模板消息", "sms": "短信"}
ERRORS = {  # errcode -> what staff read in the console
    43101: "用户未订阅或订阅次数已用完", 43004: "用户未关注公众号", 45015: "用户已取消关注或超出回复时限",
    40003: "openid 无效（不是本应用的用户）", 40037: "模板 id 无效（请运行 flask wechat templates --check）",
    47003: "模板参数不正确（请运行 flask wechat templates --check）", 41030: "小程序页面路径无效",
    40165: "小程序页面路径无效", 40166: "小程序未关联公众号", 40001: "access_token 无效", 42001: "access_token 已过期",
    45009: "今日发送次数已用完，零点后重发", -1: "微信系统繁忙",
    # Tencent Cloud SMS codes (SendStatusSet[].Code or Error.Code)
    "LimitExceeded.PhoneNumberDailyLimit": "该号码今日短信已达运营商上限", "DailyCap": "该号码今日短信已达本系统上限",
    "LimitExceeded.PhoneNumberOneHourLimit": "该号码一小时内短信已达上限", "InternalError.Timeout": "短信平台超时",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "30秒内已向该号码发过相同短信",
    "FailedOperation.PhoneNumberInBlacklist": "号码在免打扰名单中", "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误",
    "FailedOperation.TemplateIncorrectOrUnapproved": "短信模板未审核通过（请检查 SMS_TEMPLATES 配置）",
    "FailedOperation.SignatureIncorrectOrUnapproved": "短信签名未审核通过（请检查 SMS_SIGN_NAME 配置）",
    "AuthFailure.SignatureFailure": "短信接口签名错误（请检查 SMS_SECRET_ID / SMS_SECRET_KEY）",
}


def worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"


# --- quiet hours ----------------------------------------------------------------------------------

def quiet_window(spec=None):
    """(start, end) local times from QUIET_HOURS "22:00-08:00"; None when empty or start == end."""
    spec = (spec if spec is not None else current_app.config.get("QUIET_HOURS", "22:00-08:00")).strip()
    if not spec:
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise ValueError(f"QUIET_HOURS should look like 22:00-08:00, not {spec!r}") from None
    return None if start == end else (start, end)


def is_quiet(moment=None, spec=None):
    window = quiet_window(spec)
    if window is None:
        return False
    now = calendar.local(moment or utcnow()).time()
    start, end = window
    return start <= now < end if start < end else (now >= start or now < end)


# --- claiming -------------------------------------------------------------------------------------

def _exclusive():
    """The transaction claims and recovery run in: READ COMMITTED on MySQL/MariaDB (only the rows found are
    locked, no gaps, so concurrent claims never deadlock), the database write lock up front on SQLite."""
    if not is_mysql():
        return db.atomic("IMMEDIATE")
    db.execute_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # the next transaction only
    return db.atomic()


@retried
def claim(worker, limit=BATCH, now=None):
    """Mark up to `limit` due rows 'sending' for this worker and return them, with the other due rows of
    the same people (up to BATCH more: one person's messages go out in order, from one sender — so a run's
    `limit` may be passed by those). Two workers never get the same row: MySQL/MariaDB lock rows with SKIP
    LOCKED; SQLite takes the write lock up front."""
    now = now or utcnow()
    due = (Notification.state == "pending") & (Notification.next_attempt_at <= now)
    if is_quiet(now):
        due &= Notification.urgent == True  # noqa: E712  (non-urgent rows wait for the morning)
    query = Notification.select(Notification.id).where(due).order_by(Notification.next_attempt_at,
                                                                     Notification.id).limit(limit)
    with _exclusive():
        lock = (lambda q: q.for_update(skip_locked=True)) if is_mysql() else (lambda q: q)
        ids = [row.id for row in lock(query)]
        if not ids:
            return []
        # the people as a list, not a subquery of the same table: MariaDB kept the lock of every row that subquery
        # scanned until COMMIT, and every other sender's claim found all rows locked, skipped them and gave up
        people = {row.account_id for row in Notification.select(Notification.account).where(Notification.id.in_(ids))}
        ids += [row.id for row in lock(Notification.select(Notification.id).where(
            due, Notification.account.in_(people), Notification.id.not_in(ids))
            .order_by(Notification.id).limit(BATCH))]
        Notification.update(state="sending", claimed_by=worker, claimed_at=now).where(
            Notification.id.in_(ids), Notification.state == "pending").execute()
    return list(Notification.select().where(Notification.id.in_(ids), Notification.claimed_by == worker,
                                            Notification.state == "sending").order_by(Notification.id))


def send_seconds():
    """The longest one row can take to send: each channel's call may wait WECHAT_TIMEOUT, plus a token fetch."""
    timeout = current_app.config.get("WECHAT_TIMEOUT", 5) if current_app else 5
    return (len(CHANNELS) + 1) * (timeout + 1)


def claim_timeout():
    """A row 'sending' longer than a whole batch of sends takes was left by a stuck or crashed process."""
    return BATCH * send_seconds() + 30


def lease_seconds():
    """How long a sender's lease lasts without renewal: two row sends. It is renewed before a row once a
    third of it has passed, so a live sender's gap between renewals (a third plus one send) stays inside."""
    return 2 * send_seconds()


def hold_lease(worker, now=None):
    """Take or renew this sender's lease (a KeyValue row with an expiry, services/lease.py)."""
    from services import lease
    return lease.acquire(worker, ttl=lease_seconds(), now=now, key=LEASE_KEY + worker)


def drop_lease(worker):
    from services import lease
    lease.release(worker, key=LEASE_KEY + worker)


def live_senders(now=None):
    """Worker ids whose lease has not run out."""
    from models import KeyValue
    return [row.value for row in KeyValue.select(KeyValue.value).where(
        KeyValue.key.startswith(LEASE_KEY), KeyValue.expires_at > (now or utcnow()))]


def reconcile(now=None, timeout=None):
    """Rows left 'sending' go back to 'pending', their open attempts become 'unknown': at once when the
    sender that claimed them holds no lease any more (it crashed: kill -9, power loss), else after
    `timeout` (claim_timeout: a whole batch's sends). They are sent again (at-least-once:
    docs/notifications.md). Returns how many rows were recovered."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=claim_timeout() if timeout is None else timeout)
    stuck_rows = (Notification.state == "sending") & (
        (Notification.claimed_at <= cutoff) | Notification.claimed_by.not_in(live_senders(now) or [""]))
    query = Notification.select(Notification.id).where(stuck_rows)
    # rows locked (MySQL) or the write lock held (SQLite): two reconcilers never recover the same row twice
    with _exclusive():
        stuck = [n.id for n in (query.for_update() if is_mysql() else query)]
        if not stuck:
            return 0
        DeliveryAttempt.update(result="unknown", finished_at=now, detail="进程中断，发送结果未知，将重新发送").where(
            DeliveryAttempt.notification.in_(stuck), DeliveryAttempt.result == "started").execute()
        recovered = Notification.update(state="pending", claimed_by="", claimed_at=None, next_attempt_at=now).where(
            Notification.id.in_(stuck)).execute()
    log.warning("recovered %d notifications left in 'sending'", recovered)
    return recovered


def small_batch(senders, now=None):
    """Rows per claim: the due rows shared out among the senders (so 64 rows and 16 senders give each 4),
    at most BATCH."""
    due = Notification.select().where(Notification.state == "pending",
                                      Notification.next_attempt_at <= (now or utcnow())).count()
    return max(1, min(BATCH, -(-due // senders)))


def release(ids, worker):
    """Give claimed rows back (unsent) so any worker may take them now."""
    Notification.update(state="pending", claimed_by="", claimed_at=None).where(
        Notification.id.in_(ids), Notification.state == "sending", Notification.claimed_by == worker).execute()


def drain(worker=None, limit=None, budget_seconds=240, now=None, concurrency=None):
    """Deliver due rows batch by batch until none is left (or the time budget is spent). Returns counts.
    DELIVERY_CONCURRENCY senders work side by side, each claiming its own batches on its own database
    connection; claims never overlap, so every row is still sent by one sender. WeChat's rate-limit
    answers (45009, 45011) stop the whole run: the next one tries again a minute later."""
    worker = worker or worker_id()
    hold_lease(worker, now)          # before any claim: rows claimed by a worker without a lease are taken back
    reconcile(now)
    senders = max(1, concurrency or current_app.config.get("DELIVERY_CONCURRENCY", 1))
    batch_size = small_batch(senders, now)
    deadline = time.monotonic() + budget_seconds
    counts = Counter()
    lock = threading.Lock()
    left = [limit]  # rows this run may still take (None: any number)
    stop = threading.Event()

    def take(n):  # reserve up to n rows of the limit; give back with a negative n
        with lock:
            if left[0] is None:
                return n
            n = min(n, left[0])
            left[0] -= n
            return n

    renewed = [time.monotonic()]

    def renew():  # before each row: the lease outlives any one send
        if time.monotonic() - renewed[0] > lease_seconds() / 3:
            renewed[0] = time.monotonic()
            hold_lease(worker)

    def send():
        while not stop.is_set() and time.monotonic() < deadline:
            wanted = take(batch_size)
            batch = claim(worker, wanted, now) if wanted > 0 else []
            take(len(batch) - wanted)
            if not batch:
                return
            people = {a.id: a for a in Account.select().where(Account.id.in_({n.account_id for n in batch}))}
            holders = consent_holders(people)
            carried = Carried()
            try:
                for i, notification in enumerate(batch):
                    if stop.is_set() or time.monotonic() > deadline:  # hand the rest back at once
                        release([n.id for n in batch[i:]], worker)
                        return
                    renew()
                    outcome = deliver(notification, people.get(notification.account_id), carried, holders)
                    with lock:
                        counts[outcome] += 1
                    if outcome == "limited":
                        stop.set()
            finally:
                carried.flush()

    try:
        with store.memo("wechat:token:", "wechat:quota-spent:"):  # read once a few seconds, not per send
            if senders == 1:
                send()
            else:
                app = current_app._get_current_object()

                def sender():
                    with app.app_context(), db.connection_context():
                        send()

                with ThreadPoolExecutor(senders, thread_name_prefix="delivery") as pool:
                    for future in [pool.submit(sender) for _ in range(senders)]:
                        future.result()
    finally:
        drop_lease(worker)
    if counts["limited"]:
        log.warning("WeChat rate limit reached: the drain stopped early")
    return {k: v for k, v in counts.items() if v}


# --- channels -------------------------------------------------------------------------------------

def template_id(channel, key):
    """The configured WeChat template id ("" when the template is not mapped on that channel)."""
    entry = notify.mapping(channel, key)
    return entry["id"] if entry else ""


def long_term(key):
    """A long-term subscription (政务民生 and similar mini-programs): one consent, many sends."""
    return bool((notify.mapping("subscribe", key) or {}).get("long_term"))


def quota_reset(now=None):
    """When WeChat's daily quotas start again: the next midnight in Beijing (UTC, naive)."""
    beijing = zoneinfo.ZoneInfo("Asia/Shanghai")
    today = (now or utcnow()).replace(tzinfo=dt.timezone.utc).astimezone(beijing).date()
    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 1), beijing)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _quota_key(channel):
    return f"wechat:quota-spent:{channel}"


def quota_spent(channel):
    """Until when a channel's daily quota is spent (None: it is not)."""
    until = store.get(_quota_key(channel))
    return dt.datetime.fromisoformat(until) if until else None


def template_ids(channel="subscribe"):
    """{template key: WeChat template id} in effect for a channel (sandbox ids included)."""
    return {key: template_id(channel, key) for key in notify.TEMPLATES if template_id(channel, key)}


def oa_recipient(account):
    """The official-account openid to push to: the account's own, or (through unionid) a linked account's."""
    if account.oa_openid and account.oa_followed:
        return account
    if account.unionid:
        return Account.get_or_none(Account.unionid == account.unionid, Account.oa_openid.is_null(False),
                                   Account.oa_followed == True)  # noqa: E712
    return None


# The statements every send runs, their SQL built once (wechat/prepared.py): building it costs more than
# running it, and with many senders that CPU is the drain's limit.
_ARG = Prepared.arg


def _quota_left():  # this person's consents for this template, if any are left
    return ((SubscriptionQuota.account == _ARG("account")) & (SubscriptionQuota.template_key == _ARG("key"))
            & (SubscriptionQuota.remaining > 0))


_HAS_QUOTA = Prepared(lambda: SubscriptionQuota.select(SubscriptionQuota.id).where(_quota_left()).limit(1))
_SPEND = Prepared(lambda: SubscriptionQuota.update(remaining=SubscriptionQuota.remaining - 1,
                                                   updated_at=_ARG("now")).where(_quota_left()))
_TRY = Prepared(lambda: Notification.update(attempts=Notification.attempts + 1, channel=_ARG("channel")).where(
    Notification.id == _ARG("id")))
_ATTEMPT = Prepared(lambda: DeliveryAttempt.insert(notification=_ARG("id"), channel=_ARG("channel"),
                                                   started_at=_ARG("now"), result="started", detail=""))
_FINISH = Prepared(lambda: DeliveryAttempt.update(result=_ARG("result"), finished_at=_ARG("now"),
                                                  errcode=_ARG("errcode"), detail=_ARG("detail")).where(
    DeliveryAttempt.id == _ARG("id")))
_CLOSE = Prepared(lambda: Notification.update(state=_ARG("state"), channel=_ARG("channel"), sent_at=_ARG("now"),
                                              last_error=_ARG("error"), wechat_msgid=_ARG("msgid")).where(
    Notification.id == _ARG("id")))


def consent_holders(accounts):
    """{(account id, template key)} of these people's unused subscribe consents, read once for a batch: a
    consent spent meanwhile is found out when the send spends it (_SPEND), one given meanwhile serves the
    person's next message."""
    return set(SubscriptionQuota.select(SubscriptionQuota.account, SubscriptionQuota.template_key).where(
        SubscriptionQuota.account.in_(list(accounts)), SubscriptionQuota.remaining > 0).tuples()) if accounts else set()


def channels(account, key, notification=None, holders=None):
    """The channels this person can be reached on for this template (and notification), best first;
    `holders`: consent_holders read for a batch (else the person's consent is looked up)."""
    found = []
    if account.openid and template_id("subscribe", key) and (
            (account.id, key) in holders if holders is not None else
            _HAS_QUOTA.first(account=account.id, key=key) is not None):
        found.append("subscribe")
    if template_id("template", key) and oa_recipient(account) is not None:
        found.append("template")
    if notification is not None and sms_phone(notification, account) and not is_quiet():
        found.append("sms")
    return found


def sms_phone(notification, account):
    """The mobile number to text: a reporter's news about their case, when they ticked 接收短信提醒."""
    if not notification.case_id or notify.MESSAGES[notification.kind].template != "case_progress" \
            or not sms.enabled("case_progress"):
        return ""
    case = Case.get_or_none(Case.id == notification.case_id)
    if case is not None and case.reporter_id != account.id:  # news of the original a duplicate was merged into
        case = Case.get_or_none(Case.merged_into == case.id, Case.reporter == account.id)
    return case.contact_phone if case is not None and case.sms_notify else ""


def send_sms(phone, key, params):
    """One SMS, counted against SMS_DAILY_CAP for the number (codes and notices together)."""
    try:
        ratelimit.hit(f"sms-day:{phone}", current_app.config.get("SMS_DAILY_CAP", 10), 86400)
    except TooMany:
        raise sms.SmsError("DailyCap", "daily cap of this number reached") from None
    return sms.send(phone, key, params)


def add_quota(account, key, count=1):
    """A subscribe consent (wx.requestSubscribeMessage → accept) allows one more send of that template."""
    def bump():
        return SubscriptionQuota.update(remaining=SubscriptionQuota.remaining + count, updated_at=utcnow()).where(
            SubscriptionQuota.account == account, SubscriptionQuota.template_key == key).execute()
    if bump():
        return
    try:
        with db.atomic():
            SubscriptionQuota.create(account=account, template_key=key, remaining=count)
    except IntegrityError:  # another request created it first
        bump()


class Carried:
    """A sender's last successful send, whose result — the attempt 'ok' and the row 'sent', together — is
    written in the transaction that records the sender's next attempt, before that next send: one
    transaction per message instead of two, and still at most one message per sender sent but not yet
    recorded (what a crash can repeat: docs/notifications.md). The sender flushes it at the end of a batch."""

    def __init__(self):
        self.result = None  # (attempt id, notification id, channel, problems, msgid, answered at)

    def write(self):
        """Inside the caller's transaction; forget it only once that commits (done)."""
        if self.result:
            attempt, notification, channel, error, msgid, now = self.result
            _FINISH.execute(result="ok", now=now, errcode=None, detail=msgid or "", id=attempt)
            _CLOSE.execute(state="sent", channel=channel, now=now, error=error[:255], msgid=msgid, id=notification)

    def done(self):
        self.result = None

    def flush(self):
        if self.result:
            _write_carried(self)


@retried
def _write_carried(carried):
    with db.atomic():
        carried.write()
    carried.done()


@retried
def _begin(notification, channel, carried=None):
    """Record the attempt (and spend one subscribe consent) before sending — with the sender's carried
    result, in one transaction; None when no quota is left."""
    now = utcnow()
    key = notify.MESSAGES[notification.kind].template
    with db.atomic():
        if carried is not None:
            carried.write()
        if channel == "subscribe" and not long_term(key) and not _SPEND.execute(
                now=now, account=notification.account_id, key=key).rowcount:
            attempt = None
        else:
            _TRY.execute(channel=channel, id=notification.id)
            attempt = DeliveryAttempt(id=_ATTEMPT.execute(id=notification.id, channel=channel, now=now).lastrowid,
                                      notification=notification.id, channel=channel, started_at=now)
    if carried is not None:
        carried.done()
    return attempt


def _send(notification, account, channel):
    """Send through one channel; returns WeChat's msgid (template messages) or None."""
    from wechat import client as wx
    key = notify.MESSAGES[notification.kind].template
    page, url = notify.links(notification, current_app.config["PUBLIC_BASE_URL"])
    if channel == "sms":
        serial = send_sms(sms_phone(notification, account), key, [notification.data.get("number", ""),
                                                                   notification.title[:20]])
        return str(serial)[:32] or None  # the provider's SerialNo, kept like WeChat's msgid
    data = notify.template_data(notification, channel)
    if channel == "subscribe":
        wx.send_subscribe_message(account.openid, template_id(channel, key), data, page or None)
        return None
    appid = current_app.config.get("WECHAT_MP_APP_ID")
    mini = {"appid": appid, "pagepath": page} if page and appid else None
    msgid = wx.send_template_message(oa_recipient(account).oa_openid, template_id(channel, key), data,
                                     url=url or None, miniprogram=mini,
                                     client_msg_id=f"notification-{notification.id}")  # a retry is not sent twice
    return str(msgid) if msgid is not None else None


def _finish(attempt, result, errcode=None, detail=""):
    _FINISH.execute(result=result, now=utcnow(), errcode=errcode if isinstance(errcode, int) else None,
                    detail=detail[:255], id=attempt.id)  # SMS codes are words: they are in the detail


def _reason(err):
    """The errcode, what it means in Chinese, and WeChat's own words (47003 names the keyword)."""
    code = getattr(err, "errcode", None)
    if code is None:
        return f"网络错误：{err}"[:255]
    said = (getattr(err, "errmsg", "") or "").split(" rid:")[0].strip()
    known = ERRORS.get(code)
    return (f"{code} {known}（{said}）" if known and said else f"{code} {known or said}")[:255]


def backoff(attempts):
    return dt.timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def deliver(notification, account=None, carried=None, holders=None):
    """Try each channel in order; the outcome is 'sent', 'inbox', 'retry' or 'failed' (the row's new state,
    with 'retry' meaning back to 'pending' later), or 'limited': a retry because of WeChat's rate limits.
    With `carried` (a sender's Carried), the previous success is written with this row's first attempt and
    this row's success is left to be written with the next one; without, everything is written at once.
    `holders`: the batch's consent_holders."""
    from wechat.errors import WeChatAPIError, WeChatUnavailable
    account = account or Account.get_by_id(notification.account_id)
    message = notify.MESSAGES.get(notification.kind)
    problems = []
    permanent = False
    for channel in channels(account, message.template, notification, holders) if message and account.active else []:
        spent = quota_spent(channel)
        if spent is not None:  # today's quota is gone: wait for it, as WeChat would refuse anyway
            _postpone(notification, spent)
            return "limited"
        attempt = _begin(notification, channel, carried)
        if attempt is None:
            continue
        try:
            msgid = _send(notification, account, channel)
        except (WeChatUnavailable, WeChatAPIError, sms.SmsUnavailable, sms.SmsError) as err:
            code = getattr(err, "errcode", None)
            reason = _reason(err)
            if isinstance(err, (WeChatUnavailable, sms.SmsUnavailable)) or code in RETRY_CODES:
                outcome = _retry(notification, attempt, channel, code, reason)
                return "limited" if outcome == "retry" and code in LIMIT_CODES else outcome
            with db.atomic():
                _finish(attempt, "failed", code, reason)
                _channel_gone(account, channel, code, message.template)
            problems.append(f"{CHANNEL_LABELS[channel]}：{reason}")
            permanent = permanent or code not in GONE_CODES
            continue
        except Exception as err:  # a bug must not leave the row 'sending' forever
            log.exception("delivering notification %s", notification.id)
            _finish(attempt, "failed", None, f"内部错误：{err}")
            problems.append(f"内部错误：{err}")
            permanent = True
            continue
        # an 'ok' attempt always has its row 'sent' (one transaction): else a crash between them would resend it
        finished = carried or Carried()
        finished.result = (attempt.id, notification.id, channel, "；".join(problems), msgid, utcnow())
        if carried is None:
            finished.flush()
        return "sent"
    state = "failed" if permanent else "inbox"
    _close(notification, state, "inbox", "；".join(problems))
    return state


def _retry(notification, attempt, channel, code, reason):
    """A transient error: give the consent back, try again later with exponential back-off — or, when the
    channel's daily quota is spent (45009), at WeChat's reset, without counting the try."""
    with db.atomic():
        _finish(attempt, "retry", code, reason)
        _unspend(notification.account_id, notify.MESSAGES[notification.kind].template, channel)
        if code == DAILY_QUOTA:
            reset = quota_reset()
            store.put(_quota_key(channel), reset.isoformat(), max(60, (reset - utcnow()).total_seconds()))
            _postpone(notification, reset, reason, tried=True)
            return "retry"
        fresh = Notification.get_by_id(notification.id)
        if fresh.attempts >= MAX_ATTEMPTS:
            _close(notification, "failed", channel, f"多次重试仍失败：{reason}")
            return "failed"
        Notification.update(state="pending", claimed_by="", claimed_at=None, last_error=reason,
                            next_attempt_at=utcnow() + backoff(fresh.attempts)).where(
            Notification.id == notification.id).execute()
    return "retry"


def _unspend(account_id, key, channel):
    """Give back the subscribe consent spent on a try WeChat did not send (it uses one only when it sends)."""
    if channel == "subscribe" and not long_term(key):
        add_quota(account_id, key)


def _postpone(notification, until, reason="", tried=False):
    """Back to 'pending' until `until`; a try that WeChat refused for its quota does not count."""
    Notification.update(state="pending", claimed_by="", claimed_at=None, next_attempt_at=until,
                        attempts=Notification.attempts - (1 if tried else 0),
                        last_error=reason or ERRORS[DAILY_QUOTA]).where(Notification.id == notification.id).execute()


def _channel_gone(account, channel, code, key):
    """What WeChat told us about the person: 43101 on subscribe → no quota left (any other refusal: the
    consent was not used, so it is given back); unfollowed → no OA pushes."""
    if code != 43101:
        _unspend(account.id, key, channel)
    elif channel == "subscribe":
        SubscriptionQuota.update(remaining=0, updated_at=utcnow()).where(
            SubscriptionQuota.account == account.id, SubscriptionQuota.template_key == key).execute()
    if channel == "template" and code in (43004, 45015):
        target = oa_recipient(account)
        if target is not None:
            Account.update(oa_followed=False).where(Account.id == target.id).execute()


def _close(notification, state, channel, error="", msgid=None):
    _CLOSE.execute(state=state, channel=channel, now=utcnow(), error=error[:255], msgid=msgid, id=notification.id)
