"""Delivering the outbox through the WeChat stand-in: channels and fallbacks, quota, errors, back-off,
quiet hours, crash recovery, and two real processes draining the same outbox."""
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from freezegun import freeze_time

from models import Account, DeliveryAttempt, Notification, SubscriptionQuota, db, utcnow
from services import delivery, notify
from tests.conftest import TEST_CONFIG
from tests.wechat_helpers import MAPPING, MP_IDS, OA_IDS, subscribe as consent, value, wire

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def wired(app):
    """Both channels mapped to the stand-in's templates; no quiet hours unless a test sets them."""
    return wire(app, QUIET_HOURS="", WECHAT_TIMEOUT=1.5)  # a loaded machine answers a plain send within it


def person(name, subscribe=0, follows=False, **extra):
    """A citizen; `subscribe`: consents to the progress template (WeChat and we both know of them)."""
    account = Account.create(role="citizen", openid=f"openid-{name}", display_name=name,
                             oa_openid=f"oa-{name}" if follows else None, oa_followed=follows, **extra)
    if subscribe:
        consent(account, "case_progress", subscribe)
    return account


def message(account, key="n1", number="2026-000001", kind="case_accepted"):
    notify.write(account, kind, key, {"number": number, "title": "村道路面破损"})
    return Notification.get(Notification.dedupe_key == key)


def fresh(row):
    return Notification.get_by_id(row.id)


def quota(account):
    return SubscriptionQuota.get(SubscriptionQuota.account == account, SubscriptionQuota.template_key ==
                                 "case_progress").remaining


# --- channels, best first -------------------------------------------------------------------------

def test_subscribe_message_first_and_it_spends_one_consent(wired, wechat_standin):
    a = person("a", subscribe=2, follows=True)
    row = message(a)
    assert delivery.drain() == {"sent": 1}
    row = fresh(row)
    assert (row.state, row.channel, row.attempts) == ("sent", "subscribe", 1)
    [body] = wechat_standin.sent("subscribe")
    assert body["touser"] == "openid-a" and body["template_id"] == MP_IDS["case_progress"]
    assert body["page"] == "pages/case/detail?number=2026-000001"
    assert body["data"]["character_string12"]["value"] == "2026-000001"   # WeChat's keys, from the mapping
    assert body["data"]["phrase7"]["value"] == "已受理"
    assert wechat_standin.sent("template") == []
    assert quota(a) == 1
    assert DeliveryAttempt.get(DeliveryAttempt.notification == row.id).result == "ok"


def test_without_quota_a_follower_gets_a_template_message_with_both_links(wired, wechat_standin):
    a = person("b", follows=True)
    row = message(a)
    delivery.drain()
    row = fresh(row)
    assert (row.state, row.channel) == ("sent", "template")
    [body] = wechat_standin.sent("template")
    assert body["touser"] == "oa-b" and body["template_id"] == OA_IDS["case_progress"]
    assert body["client_msg_id"] == f"notification-{row.id}"
    assert set(body["data"]) == set(MAPPING["oa"]["case_progress"]["keywords"])  # no first / remark
    assert body["url"] == "http://daibiao.test/c/2026-000001"
    assert body["miniprogram"] == {"appid": TEST_CONFIG["WECHAT_MP_APP_ID"],
                                   "pagepath": "pages/case/detail?number=2026-000001"}
    assert row.wechat_msgid and int(row.wechat_msgid) > 0


def test_nobody_on_wechat_still_has_the_inbox_copy(wired, wechat_standin):
    a = person("c")
    row = message(a)
    assert delivery.drain() == {"inbox": 1}
    row = fresh(row)
    assert (row.state, row.channel, row.last_error) == ("inbox", "inbox", "")
    assert row.title == "反映已受理" and "2026-000001" in row.body
    assert wechat_standin.sent("subscribe") == wechat_standin.sent("template") == []


def test_unionid_links_the_mini_program_account_to_the_followed_official_account(wired, wechat_standin):
    mini = Account.create(role="citizen", openid="openid-u", unionid="unionid-u")
    Account.create(role="citizen", oa_openid="oa-u", unionid="unionid-u", oa_followed=True)
    message(mini)
    delivery.drain()
    assert [b["touser"] for b in wechat_standin.sent("template")] == ["oa-u"]


def test_unconfigured_template_ids_mean_inbox_only(app, wechat_standin):
    app.config.update(QUIET_HOURS="", WECHAT_MP_TEMPLATES={}, WECHAT_OA_TEMPLATES={})
    a = person("d", subscribe=1, follows=True)
    row = message(a)
    delivery.drain()
    assert fresh(row).state == "inbox" and quota(a) == 1
    assert wechat_standin.calls == []


# --- errors and fallbacks -------------------------------------------------------------------------

def test_43101_sets_the_quota_to_zero_and_falls_back_to_the_template_message(wired, wechat_standin):
    a = person("e", subscribe=3, follows=True)
    row = message(a)
    wechat_standin.inject("message/subscribe/send", errcode=43101)
    assert delivery.drain() == {"sent": 1}
    row = fresh(row)
    assert (row.state, row.channel) == ("sent", "template")
    assert "43101" in row.last_error
    assert quota(a) == 0
    results = [(x.channel, x.result, x.errcode) for x in DeliveryAttempt.select().order_by(DeliveryAttempt.id)]
    assert results == [("subscribe", "failed", 43101), ("template", "ok", None)]


def test_43101_without_official_account_leaves_it_in_the_inbox_not_failed(wired, wechat_standin):
    a = person("f", subscribe=1)
    row = message(a)
    wechat_standin.inject("message/subscribe/send", errcode=43101)
    assert delivery.drain() == {"inbox": 1}
    assert "用户未订阅" in fresh(row).last_error


def test_45015_marks_the_person_unfollowed(wired, wechat_standin):
    a = person("g", follows=True)
    row = message(a)
    wechat_standin.inject("message/template/send", errcode=45015)
    delivery.drain()
    row = fresh(row)
    assert row.state == "inbox" and "45015" in row.last_error
    assert Account.get_by_id(a.id).oa_followed is False
    message(a, key="n2")
    delivery.drain()
    assert len([c for c in wechat_standin.calls if c["path"].endswith("template/send")]) == 1  # no second try


def test_a_permanent_error_is_kept_with_its_reason_for_staff(wired, wechat_standin):
    a = person("h", follows=True)
    row = message(a)
    wechat_standin.inject("message/template/send", errcode=40037)
    assert delivery.drain() == {"failed": 1}
    row = fresh(row)
    assert row.state == "failed" and row.channel == "inbox"
    assert "40037" in row.last_error and "模板" in row.last_error
    assert row.read_at is None and row.title == "反映已受理"  # still in the inbox


def test_40001_that_survives_the_clients_token_retries_is_retried_later(wired, wechat_standin):
    a = person("i", subscribe=1)
    row = message(a)
    wechat_standin.inject("message/subscribe/send", errcode=40001, times=3)  # first try + 2 token retries
    assert delivery.drain() == {"retry": 1}
    row = fresh(row)
    assert row.state == "pending" and row.attempts == 1 and "40001" in row.last_error
    assert row.next_attempt_at >= utcnow() + dt.timedelta(seconds=55)
    assert quota(a) == 1  # the consent was given back: WeChat did not send
    assert delivery.drain() == {}  # not due yet
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(minutes=2)):
        assert delivery.drain() == {"sent": 1}
    assert fresh(row).state == "sent" and quota(a) == 0
    assert len(wechat_standin.sent("subscribe")) == 1


def test_40003_is_failed_for_staff_to_see(wired, wechat_standin):
    a = person("bad", follows=True)
    Account.update(oa_openid="openid-of-the-mini-program").where(Account.id == a.id).execute()  # wrong app's openid
    row = message(a)
    assert delivery.drain() == {"failed": 1}
    assert "40003" in fresh(row).last_error and fresh(row).state == "failed"


def test_a_consent_wechat_does_not_know_is_43101_from_the_stand_in_and_the_quota_drops_to_zero(wired, wechat_standin):
    a = person("ghost", follows=True)
    delivery.add_quota(a, "case_progress", 2)  # we think so; WeChat has no consent (no accept ever reached it)
    row = message(a)
    assert delivery.drain() == {"sent": 1}
    assert (fresh(row).channel, quota(a)) == ("template", 0)
    assert [c["errcode"] for c in wechat_standin.calls if c["path"].endswith("subscribe/send")] == [43101]


def test_47003_does_not_spend_the_consent(wired, wechat_standin):
    a = person("p47", subscribe=1, follows=True)
    row = message(a)
    wechat_standin.inject("message/subscribe/send", errcode=47003)
    assert delivery.drain() == {"sent": 1}
    assert fresh(row).channel == "template" and "47003" in fresh(row).last_error
    assert quota(a) == 1 and wechat_standin.consents("openid-p47", MP_IDS["case_progress"]) == 1
    message(a, key="n2")
    assert delivery.drain() == {"sent": 1}   # the consent is still good for the next message
    assert quota(a) == 0 and len(wechat_standin.sent("subscribe")) == 1


def test_a_template_send_that_timed_out_is_retried_with_the_same_client_msg_id_and_arrives_once(wired, wechat_standin):
    a = person("slow", follows=True)
    row = message(a)
    wechat_standin.inject("message/template/send", delay=2.5)  # WeChat takes it, but answers after our timeout
    assert delivery.drain() == {"retry": 1}
    first = next(c for c in wechat_standin.calls if c["path"].endswith("template/send"))
    deadline = time.time() + 10
    while first["errcode"] is None and time.time() < deadline:  # the stand-in finishes the first send
        time.sleep(0.05)
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(minutes=2)):
        assert delivery.drain() == {"sent": 1}
    sends = [c for c in wechat_standin.calls if c["path"].endswith("template/send")]
    assert len(sends) == 2 and {c["json"]["client_msg_id"] for c in sends} == {f"notification-{row.id}"}
    assert len(wechat_standin.sent("template")) == 1   # one message reached the person


def test_a_follower_who_left_gets_43004_and_is_marked_unfollowed(wired, wechat_standin):
    a = person("gone", follows=True)
    wechat_standin.unfollow("oa-gone")
    row = message(a)
    assert delivery.drain() == {"inbox": 1}
    assert "43004" in fresh(row).last_error and Account.get_by_id(a.id).oa_followed is False


def test_a_long_term_subscription_is_not_used_up(wired, wechat_standin):
    long_term = {**MAPPING["mp"]["case_progress"], "long_term": True}
    wired.config["WECHAT_MP_TEMPLATES"] = {**MAPPING["mp"], "case_progress": long_term}
    wechat_standin.configure(templates={**wechat_standin.templates, MP_IDS["case_progress"]: {
        **wechat_standin.templates[MP_IDS["case_progress"]], "type": 3}})
    a = person("lt", subscribe=1)
    for i in range(3):
        message(a, key=f"lt{i}")
    assert delivery.drain() == {"sent": 3}
    assert quota(a) == 1 and len(wechat_standin.sent("subscribe")) == 3


@pytest.mark.parametrize("failure", [{"status": 502}, {"errcode": -1}, {"delay": 2.5}], ids=["5xx", "-1", "timeout"])
def test_network_trouble_retries_with_exponential_back_off(wired, wechat_standin, failure):
    a = person("j", follows=True)
    row = message(a)
    start = utcnow()
    waits = []
    for attempt in range(1, 4):
        wechat_standin.inject("message/template/send", **failure)
        with freeze_time(start + sum(waits, dt.timedelta()) + dt.timedelta(seconds=attempt)):
            assert delivery.drain() == {"retry": 1}
        row = fresh(row)
        assert row.attempts == attempt and row.state == "pending"
        waits.append(row.next_attempt_at - (start + sum(waits, dt.timedelta()) + dt.timedelta(seconds=attempt)))
    assert [w.total_seconds() for w in waits] == [60, 120, 240]
    with freeze_time(row.next_attempt_at + dt.timedelta(seconds=1)):
        assert delivery.drain() == {"sent": 1}
    assert [x.result for x in DeliveryAttempt.select().order_by(DeliveryAttempt.id)] == ["retry"] * 3 + ["ok"]


def test_after_the_last_retry_the_row_fails_with_the_reason(wired, wechat_standin, monkeypatch):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 2)
    a = person("k", follows=True)
    row = message(a)
    wechat_standin.inject("message/template/send", status=503, times=2)
    delivery.drain()
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(hours=2)):
        assert delivery.drain() == {"failed": 1}
    row = fresh(row)
    assert row.state == "failed" and "多次重试仍失败" in row.last_error and "HTTP 503" in row.last_error


# --- quiet hours ----------------------------------------------------------------------------------

def test_quiet_hours_hold_non_urgent_pushes_until_morning(wired, wechat_standin):
    wired.config["QUIET_HOURS"] = "22:00-08:00"
    a = person("q", follows=True)
    dept = Account.create(role="department", username="d", oa_openid="oa-dept", oa_followed=True)
    with freeze_time("2026-11-20 15:30:00"):  # 23:30 in Asia/Shanghai
        calm = message(a)
        urgent = message(dept, key="n2", kind="dept_overdue")
        assert delivery.drain() == {"sent": 1}
    assert fresh(calm).state == "pending" and fresh(urgent).state == "sent"
    with freeze_time("2026-11-20 23:59:00"):  # 07:59
        assert delivery.drain() == {}
    with freeze_time("2026-11-21 00:00:00"):  # 08:00
        assert delivery.drain() == {"sent": 1}
    assert fresh(calm).state == "sent"
    assert delivery.is_quiet(dt.datetime(2026, 11, 20, 13, 59), "22:00-08:00") is False  # 21:59
    assert delivery.is_quiet(dt.datetime(2026, 11, 20, 14, 0), "22:00-08:00") is True    # 22:00
    assert delivery.is_quiet(dt.datetime(2026, 11, 20, 5, 0), "12:00-14:00") is True     # 13:00, same-day window
    with pytest.raises(ValueError, match="QUIET_HOURS"):
        delivery.is_quiet(spec="late")


# --- claiming and crash recovery ------------------------------------------------------------------

def test_claims_never_overlap(wired):
    for i in range(30):
        message(person(f"r{i}"), key=f"c{i}")
    first = delivery.claim("one", limit=20)
    second = delivery.claim("two", limit=20)
    assert len(first) == 20 and len(second) == 10
    assert not {n.id for n in first} & {n.id for n in second}
    assert delivery.claim("three") == []


def test_one_persons_due_messages_go_to_one_sender_in_order(wired):
    """Small batches must not split one person's messages between senders (they would arrive out of order)."""
    x, y = person("x"), person("y")
    rows = [message(x, key="x1"), message(x, key="x2"), message(y, key="y1"), message(x, key="x3")]
    first = delivery.claim("one", limit=1)
    assert [n.id for n in first] == [rows[0].id, rows[1].id, rows[3].id]
    assert [n.id for n in delivery.claim("two", limit=1)] == [rows[2].id]


def test_a_drain_out_of_time_hands_back_what_it_has_not_started(wired, wechat_standin):
    a = person("t", follows=True)
    for i in range(5):
        message(a, key=f"t{i}")
    wechat_standin.inject("message/template/send", delay=1.0)  # the first send outlasts the budget; the budget
    assert delivery.drain(budget_seconds=0.5, concurrency=1) == {"sent": 1}  # is long enough to start it at load
    left = Notification.select().where(Notification.state == "pending")
    assert left.count() == 4 and {n.claimed_by for n in left} == {""}
    assert delivery.drain() == {"sent": 4}


def test_a_row_left_sending_by_a_crash_is_sent_again_and_its_attempt_marked_unknown(wired, wechat_standin):
    a = person("s", follows=True)
    row = message(a)
    delivery.hold_lease("dead-worker")
    [claimed] = delivery.claim("dead-worker")
    attempt = delivery._begin(claimed, "template")      # the crashed process got this far
    assert delivery.drain() == {}                        # its lease still runs: the row is still its own
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(seconds=delivery.lease_seconds() + 5)):
        assert delivery.drain() == {"sent": 1}           # the lease ran out long before the claim timeout
    assert delivery.lease_seconds() + 5 < delivery.claim_timeout()
    assert DeliveryAttempt.get_by_id(attempt.id).result == "unknown"
    assert fresh(row).state == "sent" and len(wechat_standin.sent("template")) == 1


def test_a_live_sender_keeps_its_rows_until_the_claim_timeout(wired, wechat_standin):
    row = message(person("l", follows=True))
    delivery.claim("slow-worker")
    later = dt.datetime.utcnow() + dt.timedelta(seconds=delivery.claim_timeout() + 5)
    with freeze_time(later):
        delivery.hold_lease("slow-worker", now=later)   # still renewing, but stuck on this batch too long
        assert delivery.drain() == {"sent": 1}
    assert fresh(row).state == "sent"


def test_the_claim_timeout_follows_the_send_timeout(wired):
    wired.config["WECHAT_TIMEOUT"] = 5
    five = delivery.claim_timeout()
    wired.config["WECHAT_TIMEOUT"] = 20
    assert delivery.claim_timeout() > five and delivery.send_seconds() >= 2 * 20
    assert delivery.lease_seconds() < delivery.claim_timeout() / 5


def test_few_rows_are_shared_out_in_small_batches(wired):
    for i in range(64):
        message(person(f"b{i}", follows=True), key=f"b{i}")
    assert delivery.small_batch(16) == 4 and delivery.small_batch(1) == delivery.BATCH
    assert delivery.small_batch(100) == 1


# --- concurrent senders ---------------------------------------------------------------------------

def _crowd(n):
    """n people, even ones with one subscribe consent, odd ones following the official account; one message each."""
    people = [person(f"m{i}", subscribe=1) if i % 2 == 0 else person(f"m{i}", follows=True) for i in range(n)]
    return [message(a, key=f"m{i}", number=f"M{i:05d}") for i, a in enumerate(people)]


def _numbers(wechat_standin):
    return [value(b, "number") for kind in ("subscribe", "template") for b in wechat_standin.sent(kind)]


def test_concurrent_senders_deliver_every_row_exactly_once(wired, wechat_standin, monkeypatch):
    rows = _crowd(60)
    monkeypatch.setattr(wechat_standin, "latency", 0.01)  # sends overlap
    threads = set()
    deliver = delivery.deliver
    monkeypatch.setattr(delivery, "deliver", lambda *a: threads.add(threading.get_ident()) or deliver(*a))
    assert delivery.drain(limit=25, concurrency=8) == {"sent": 25}
    assert delivery.drain(concurrency=8) == {"sent": 35}
    assert len(threads) > 1
    numbers = _numbers(wechat_standin)
    assert sorted(numbers) == [f"M{i:05d}" for i in range(60)]  # each once
    assert {(r.state, r.attempts) for r in map(fresh, rows)} == {("sent", 1)}
    assert [fresh(r).channel for r in rows] == ["subscribe", "template"] * 30
    assert [a.result for a in DeliveryAttempt.select()] == ["ok"] * 60
    assert {q.remaining for q in SubscriptionQuota.select()} == {0}  # one consent spent per subscriber
    assert len(wechat_standin.sent("stable_token")) <= 2 * 8  # the stored token is shared, not fetched per send


def test_before_each_send_every_earlier_success_is_recorded_so_a_crash_repeats_at_most_the_send_in_flight(
        wired, wechat_standin, monkeypatch):
    """A sender writes a success with its next attempt (one transaction a message), yet before any send all
    it sent before is recorded — attempt ok, row sent —, and the last one is at the end of the drain."""
    rows = _crowd(6)
    checks = []
    send = delivery._send

    def observed(notification, account, channel):
        recorded = {n.data["number"] for n in Notification.select().where(Notification.state == "sent")}
        checks.append(set(_numbers(wechat_standin)) == recorded and DeliveryAttempt.select().where(
            DeliveryAttempt.result == "ok").count() == len(recorded))
        return send(notification, account, channel)
    monkeypatch.setattr(delivery, "_send", observed)
    assert delivery.drain(concurrency=1) == {"sent": 6}
    assert checks == [True] * 6
    assert {(r.state, r.attempts) for r in map(fresh, rows)} == {("sent", 1)}
    assert [a.result for a in DeliveryAttempt.select()] == ["ok"] * 6


def test_concurrent_failures_back_off_and_are_sent_later(wired, wechat_standin):
    rows = _crowd(20)
    wechat_standin.inject("message/subscribe/send", errcode=-1, times=3)
    wechat_standin.inject("message/template/send", status=502, times=2)
    assert delivery.drain(concurrency=4) == {"retry": 5, "sent": 15}
    retried = [r for r in map(fresh, rows) if r.state == "pending"]
    assert len(retried) == 5 and {r.attempts for r in retried} == {1}
    assert all(r.next_attempt_at >= utcnow() + dt.timedelta(seconds=55) for r in retried)
    assert {q.remaining for q in SubscriptionQuota.select()} == {0, 1}  # consents of failed tries given back
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(minutes=2)):
        assert delivery.drain(concurrency=4) == {"sent": 5}
    assert sorted(_numbers(wechat_standin)) == [f"M{i:05d}" for i in range(20)]
    assert {q.remaining for q in SubscriptionQuota.select()} == {0}


def test_a_wechat_rate_limit_stops_the_run_and_hands_back_the_rest(wired, wechat_standin, monkeypatch):
    code = 45011
    rows = [message(person(f"l{i}", follows=True), key=f"l{i}", number=f"L{i:05d}") for i in range(40)]
    monkeypatch.setattr(wechat_standin, "latency", 0.01)
    wechat_standin.inject("message/template/send", errcode=code)
    counts = delivery.drain(concurrency=4)
    assert counts["limited"] == 1
    limited = [r for r in map(fresh, rows) if r.attempts == 1 and r.state == "pending"]
    assert len(limited) == 1 and str(code) in limited[0].last_error
    untouched = [r for r in map(fresh, rows) if r.attempts == 0]
    assert len(untouched) >= 20 and {(r.state, r.claimed_by) for r in untouched} == {("pending", "")}  # handed back
    assert delivery.drain(concurrency=4) == {"sent": 39 - counts.get("sent", 0)}  # the limited row waits
    assert fresh(limited[0]).state == "pending" and len(_numbers(wechat_standin)) == 39


def test_45009_the_daily_quota_waits_for_wechats_reset_at_midnight_beijing_time(wired, wechat_standin):
    """One sender, so the rows meet the spent quota one after the other."""
    with freeze_time("2026-11-20 06:00:00"):  # 14:00 in Beijing
        rows = [message(person(f"y{i}", follows=True), key=f"y{i}", number=f"Y{i:05d}") for i in range(3)]
        wechat_standin.inject("message/template/send", errcode=45009)
        assert delivery.drain(concurrency=1) == {"limited": 1}
        hit = [r for r in map(fresh, rows) if r.last_error][0]
        reset = dt.datetime(2026, 11, 20, 16, 1)  # 00:01 Beijing time, in UTC
        assert (hit.state, hit.attempts, hit.next_attempt_at) == ("pending", 0, reset)  # the try is not counted
        assert "45009" in hit.last_error
    calls = len(wechat_standin.calls)
    with freeze_time("2026-11-20 12:00:00"):  # later that day: the others wait too, without asking WeChat
        assert delivery.drain(concurrency=1) == {"limited": 1}
        assert delivery.drain(concurrency=1) == {"limited": 1}
        assert delivery.drain(concurrency=1) == {}
    assert len(wechat_standin.calls) == calls
    assert {fresh(r).next_attempt_at for r in rows} == {reset} and {fresh(r).attempts for r in rows} == {0}
    with freeze_time("2026-11-20 16:02:00"):  # the next day in Beijing
        assert delivery.drain(concurrency=1) == {"sent": 3}


# --- real processes -------------------------------------------------------------------------------

def _env(app, wechat_standin):
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "WECHAT_API_BASE": wechat_standin.base_url,
           "WECHAT_OA_TEMPLATES": json.dumps(MAPPING["oa"]), "WECHAT_MP_TEMPLATES": json.dumps(MAPPING["mp"]),
           "WECHAT_TEMPLATES_FILE": "", "QUIET_HOURS": "",
           "PUBLIC_BASE_URL": "http://daibiao.test", "SECRET_KEY": "x"}
    for name in ("WECHAT_OA_APP_ID", "WECHAT_OA_APP_SECRET", "WECHAT_MP_APP_ID", "WECHAT_MP_APP_SECRET"):
        env[name] = TEST_CONFIG[name]
    return env


def _drainer(env):
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run-jobs", "drain_outbox", "--once"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _outbox(n, prefix="p"):
    accounts = [Account(role="citizen", oa_openid=f"oa-{prefix}{i}", oa_followed=True) for i in range(n)]
    with db.atomic():
        Account.bulk_create(accounts, batch_size=200)
    ids = [a.id for a in Account.select(Account.id).where(Account.oa_openid.startswith(f"oa-{prefix}"))]
    with db.atomic():
        for i, account_id in enumerate(ids):
            notify.write(account_id, "case_accepted", f"{prefix}{i}", {"number": f"N{i:05d}", "title": "测试"})
    return n


def _delivered(wechat_standin):
    return [value(b, "number") for b in wechat_standin.sent("template")]


def test_two_processes_drain_a_thousand_notifications_each_exactly_once(wired, wechat_standin):
    total = _outbox(1000)
    db.close()  # let the children have the database (SQLite) to themselves while they work
    env = _env(wired, wechat_standin)
    procs = [_drainer(env), _drainer(env)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    db.connect(reuse_if_open=True)
    numbers = _delivered(wechat_standin)
    assert len(numbers) == total and len(set(numbers)) == total
    assert Notification.select().where(Notification.state == "sent").count() == total
    workers = {n.claimed_by for n in Notification.select(Notification.claimed_by)}
    assert len(workers) == 2, outputs  # both processes really took part


def test_a_drainer_killed_mid_batch_loses_nothing_and_duplicates_only_the_messages_in_flight(wired, wechat_standin):
    total = _outbox(150, prefix="k")
    wechat_standin.inject("message/template/send", delay=0.05, times=60)  # slow enough to kill mid-batch
    db.close()
    env = {**_env(wired, wechat_standin), "DELIVERY_CONCURRENCY": "4", "WECHAT_TIMEOUT": "1"}
    proc = _drainer(env)
    deadline = time.time() + 60
    while len(wechat_standin.sent("template")) < 20 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    killed_at = utcnow()
    db.connect(reuse_if_open=True)
    assert Notification.select().where(Notification.state == "sending").count() > 0  # it died holding a batch
    # the restart re-claims them as soon as the dead sender's lease has run out (WECHAT_TIMEOUT=1: 16 s),
    # long before the claim timeout — no clock is turned here
    wired.config["WECHAT_TIMEOUT"] = 1
    lapse = delivery.lease_seconds()
    assert lapse < delivery.claim_timeout() / 10
    while delivery.live_senders():
        time.sleep(0.5)
    assert (utcnow() - killed_at).total_seconds() <= lapse + 2
    db.close()
    restarted = _drainer(env)
    output = restarted.communicate(timeout=120)[0]
    assert restarted.returncode == 0, output
    db.connect(reuse_if_open=True)
    numbers = _delivered(wechat_standin)
    assert set(numbers) == {f"N{i:05d}" for i in range(total)}                   # nothing lost
    in_flight = {a.notification_id for a in DeliveryAttempt.select().where(DeliveryAttempt.result == "unknown")}
    assert len(in_flight) <= 4                                                    # one send per sender
    duplicated = {n for n in numbers if numbers.count(n) > 1}
    allowed = {Notification.get_by_id(i).data["number"] for i in in_flight}
    assert duplicated <= allowed                                                  # the documented rule
    assert Notification.select().where(Notification.state == "sent").count() == total
