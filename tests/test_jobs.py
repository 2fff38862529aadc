"""The scheduled jobs on a known dataset (frozen time), the leader lease, the CLI, and two real scheduler
processes of which only the leader fires."""
import datetime as dt
import signal
import threading
import time

from freezegun import freeze_time

import jobs
from jobs import tasks
from models import Case, CaseEvent, Follow, KeyValue, Notification, ProjectUpdate, StatsSnapshot, db, utcnow
from services import lease
from tests.factories import case_in, new_case, world
from tests.test_delivery import _env, _outbox

FRIDAY_9AM = "2026-11-20 01:00:00"  # Friday 20 November 2026, 09:00 in Asia/Shanghai


def kinds(account):
    return sorted(n.kind for n in Notification.select().where(Notification.account == account))


def with_deadline(case, day, **extra):
    Case.update(deadline=day, **extra).where(Case.id == case.id).execute()
    return Case.get_by_id(case.id)


@freeze_time(FRIDAY_9AM)
def test_escalation_yellow_at_two_working_days_red_when_overdue(app):
    w = world()
    monday = with_deadline(case_in(w, "in_progress"), dt.date(2026, 11, 23))    # 1 working day left → yellow
    tuesday = with_deadline(case_in(w, "assigned"), dt.date(2026, 11, 24))      # 2 left → yellow
    wednesday = with_deadline(case_in(w, "in_progress"), dt.date(2026, 11, 25))  # 3 left → nothing
    late = with_deadline(case_in(w, "in_progress"), dt.date(2026, 11, 19))      # overdue → red
    answered = with_deadline(case_in(w, "answered"), dt.date(2026, 11, 10))     # answered: not urged
    Notification.delete().execute()

    assert tasks.escalate_overdue() == {"urged": 4}
    levels = {c.id: Case.get_by_id(c.id).urge_level for c in (monday, tuesday, wednesday, late, answered)}
    assert levels == {monday.id: 1, tuesday.id: 1, wednesday.id: 0, late.id: 2, answered.id: 0}
    events = CaseEvent.select().where(CaseEvent.action == "urge").order_by(CaseEvent.id)
    assert all(e.actor_role == "system" and e.actor is None for e in events)
    assert [e.data["level"] for e in events if e.case_id == late.id] == [1, 2]
    assert "红色督办" in [e for e in events if e.case_id == late.id][-1].note
    # the departments (lead and assisting) and the staff in scope hear of it
    assert kinds(w.lead) == ["dept_due_soon"] * 3 + ["dept_overdue"]
    assert kinds(w.assist) == kinds(w.lead)
    assert kinds(w.staff) == ["staff_overdue"] and kinds(w.town_staff) == ["staff_overdue"]
    assert kinds(w.other_town_staff) == [] and kinds(w.citizen) == []
    overdue = Notification.get(Notification.account == w.lead, Notification.kind == "dept_overdue")
    assert overdue.urgent and late.number in overdue.body and "2026年11月19日" in overdue.body

    before = Notification.select().count()
    assert tasks.escalate_overdue() == {"urged": 0}  # the next day's run changes nothing already done
    assert Notification.select().count() == before


def test_auto_close_closes_only_answers_left_unrated_past_the_limit(app):
    w = world()
    stale = case_in(w, "answered")
    recent = case_in(w, "answered")
    rated = case_in(w, "rated")
    Case.update(answered_at=utcnow() - dt.timedelta(days=8)).where(Case.id.in_([stale.id, rated.id])).execute()
    Case.update(answered_at=utcnow() - dt.timedelta(days=6)).where(Case.id == recent.id).execute()
    Notification.delete().execute()
    assert tasks.auto_close() == {"closed": 1}
    stale = Case.get_by_id(stale.id)
    assert (stale.state, stale.close_reason, stale.rating) == ("closed", "unrated", "")
    assert Case.get_by_id(recent.id).state == "answered" and Case.get_by_id(rated.id).state == "rated"
    assert kinds(w.citizen) == ["case_closed"]
    app.config["AUTO_CLOSE_DAYS"] = 5
    assert tasks.auto_close() == {"closed": 1}  # configurable
    assert tasks.auto_close() == {"closed": 0}


@freeze_time(FRIDAY_9AM)
def test_daily_digest_tells_those_with_work_once_a_day(app):
    w = world()
    new_case(w)
    handling = with_deadline(case_in(w, "in_progress"), dt.date(2026, 11, 19))
    Notification.delete().execute()
    # the deputy, the lead and the assisting department, and the staff with 待办 (county-wide and town A)
    assert tasks.daily_digest() == {"written": 5}
    assert {n.account_id for n in Notification.select().where(Notification.kind == "digest_staff")} == {
        w.staff.id, w.town_staff.id}
    deputy = Notification.get(Notification.account == w.deputy_account)
    assert deputy.kind == "digest_deputy" and deputy.data["pending"] == 1
    lead = Notification.get(Notification.account == w.lead)
    assert lead.data == {**lead.data, "to_sign": 0, "handling": 1, "overdue": 1, "due_soon": 0}
    assert kinds(w.outsider_dept) == [] and kinds(w.other_deputy_account) == []
    assert tasks.daily_digest() == {"written": 0}
    assert handling.number  # (the case the departments are told about)


def test_weekly_project_digest_reaches_followers_of_updated_projects(app):
    w = world()
    Follow.create(account=w.citizen, project=w.project)
    ProjectUpdate.create(project=w.project, text="路基完成", progress=40)
    ProjectUpdate.create(project=w.project, text="开始铺设沥青", progress=60)
    ProjectUpdate.create(project=w.project, text="很久以前", progress=10, created_at=utcnow() - dt.timedelta(days=9))
    assert tasks.weekly_project_digest() == {"written": 1}
    row = Notification.get(Notification.account == w.citizen)
    assert row.kind == "project_digest" and row.data["updates"] == 2 and "村道提质改造" in row.data["names"]
    assert tasks.weekly_project_digest() == {"written": 0}


def test_stats_snapshot_and_the_satisfaction_alert(app):
    w = world()
    case_in(w, "rated")  # rated 不满意: the lead department's 满意率 is 0 %
    case_in(w, "closed")  # 满意: 50 %, still under 80 %
    Notification.delete().execute()
    result = tasks.stats_snapshot()
    assert result["alerts"] == 1
    snapshot = StatsSnapshot.get()
    assert snapshot.data["overall"]["rated"] == 2 and snapshot.data["overall"]["satisfied"] == 1
    [dept] = [d for d in snapshot.data["departments"] if d["label"] == "县交通运输局"]
    assert dept["flagged"] is True
    [alert] = Notification.select().where(Notification.kind == "staff_satisfaction")
    assert alert.account_id == w.staff.id  # county-wide staff only
    assert "县交通运输局" in alert.body and "50.0%" in alert.body
    tasks.stats_snapshot()
    assert StatsSnapshot.select().count() == 1  # replaced, not doubled
    assert Notification.select().where(Notification.kind == "staff_satisfaction").count() == 1  # once a week


def test_token_refresh_fetches_both_apps_tokens_into_shared_storage(app, wechat_standin):
    assert tasks.refresh_wechat_token() == {"official_account": "ok", "mini_program": "ok"}
    assert len(wechat_standin.sent("stable_token")) == 2
    assert KeyValue.select().where(KeyValue.key.startswith("wechat:token:")).count() == 2


# --- the lease and the scheduler ------------------------------------------------------------------

def test_only_one_holder_leads_until_its_lease_expires(app):
    assert lease.acquire("a") and lease.acquire("a")  # renewing is fine
    assert not lease.acquire("b")
    assert lease.holder() == "a"
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(seconds=lease.LEASE_TTL + 1)):
        assert lease.acquire("b")
        assert not lease.acquire("a")
    lease.release("a")  # not the holder: nothing happens
    assert lease.holder() == "b"
    lease.release("b")
    assert lease.holder() is None and lease.acquire("a")


def test_a_job_fires_only_in_the_leading_process(app):
    w = world()
    new_case(w)
    lease.acquire("other-node")
    job = jobs.BY_ID["daily_digest"]
    assert jobs.fire(app, job, "this-node") is None
    assert Notification.select().where(Notification.kind == "digest_deputy").count() == 0
    lease.release("other-node")
    assert jobs.fire(app, job, "this-node") == {"written": 3}  # the deputy and the two staff in scope


def test_jobs_are_declared_with_stable_ids_and_schedules(app):
    scheduler = jobs.build_scheduler(app, "test", blocking=False)
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {"drain_outbox", "escalate_overdue", "escalate_late_steps", "auto_close", "purge_audit_log",
                   "purge_expired_keys", "ask_if_resolved", "daily_digest", "weekly_project_digest", "stats_snapshot",
                   "refresh_wechat_token", "sweep_uploads", "purge_personal_data", "close_due_ballots", "train_routing",
                   "plan_receptions", "remind_bookings", "remind_inactive_deputies",
                   "lease_renew"}
    assert str(scheduler.get_job("escalate_overdue").trigger) == "cron[hour='9', minute='0']"
    assert str(scheduler.get_job("drain_outbox").trigger) == "interval[0:01:00]"


def test_expired_claims_and_windows_are_purged_and_live_keys_kept(app, client, wechat_standin):
    """Every official-account message leaves a de-duplication claim and a nonce: the nightly job removes them once
    expired, not before (a retry within their time must still find its claim), and keys without expiry stay."""
    from tests.wechat_helpers import post_plain, text_xml
    KeyValue.create(key="lease:kept", value="{}", expires_at=None)
    replies = [post_plain(client, text_xml("帮助", msgid=f"7000{n}")) for n in range(3)]
    assert [r.status_code for r in replies] == [200] * 3
    claims = KeyValue.select().where(KeyValue.expires_at.is_null(False)).count()
    assert claims >= 6   # a claim and a nonce for each message
    assert tasks.purge_expired_keys()["purged"] == 0   # nothing expired yet: a retry must still find its claim
    assert tasks.purge_expired_keys(now=utcnow() + dt.timedelta(days=2))["purged"] == claims
    assert [row.key for row in KeyValue.select()] == ["lease:kept"]


def test_run_jobs_once_from_the_command_line(app, runner):
    w = world()
    case = case_in(w, "answered")
    Case.update(answered_at=utcnow() - dt.timedelta(days=30)).where(Case.id == case.id).execute()
    result = runner.invoke(args=["run-jobs", "auto-close", "--once"])
    assert result.exit_code == 0, result.output
    assert "auto_close: {'closed': 1}" in result.output
    assert Case.get_by_id(case.id).state == "closed"
    bad = runner.invoke(args=["run-jobs", "nope", "--once"])
    assert bad.exit_code != 0 and "没有这个任务" in bad.output


def test_two_scheduler_processes_only_the_leader_drains(app, wechat_standin):
    import subprocess
    import sys

    from tests.test_delivery import ROOT
    total = _outbox(100, prefix="l")
    db.close()
    env = _env(app, wechat_standin)
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run-jobs", "drain_outbox"], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    lines = [[] for _ in procs]  # read as they come: the test ends only once both have said their role
    readers = [threading.Thread(target=lambda p=p, out=out: out.extend(p.stdout), daemon=True)
               for p, out in zip(procs, lines)]
    for r in readers:
        r.start()
    try:
        deadline = time.time() + 90
        while time.time() < deadline and (len(wechat_standin.sent("template")) < total or
                                          not all("调度器已启动" in "".join(out) for out in lines)):
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p, r in zip(procs, readers):
            p.wait(30)
            r.join(10)
        outputs = ["".join(out) for out in lines]
    db.connect(reuse_if_open=True)
    assert len(wechat_standin.sent("template")) == total, outputs
    workers = {n.claimed_by for n in Notification.select()}
    assert len(workers) == 1, outputs  # the standby fired nothing
    assert sum("主" in o for o in outputs) == 1 and sum("备" in o for o in outputs) == 1, outputs
    assert lease.holder() is None  # released on a clean shutdown
