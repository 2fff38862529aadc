"""What the scheduled jobs do. Each is safe to run twice: notifications carry dedupe keys, case changes go
through the workflow (whose guards refuse a second urge or close), and outbox rows are claimed."""
import datetime as dt
import logging

from flask import current_app

from models import (Account, Assignment, Case, CaseEvent, Department, Follow, Project, ProjectUpdate, Rating,
                    StatsSnapshot, db, retried, utcnow)
from services import calendar, delivery, notify, privacy, stats, todo, uploads, workflow
from services.errors import ServiceError

log = logging.getLogger(__name__)

DUE_SOON_DAYS = 2  # working days left at which a case turns yellow


def drain_outbox():
    """Deliver due notifications (WeChat channels, inbox)."""
    return delivery.drain()


def urge_target(case, today):
    """The 督办 level a handling case should have today: 2 red when overdue, 1 yellow at ≤ 2 working days left."""
    if case.deadline is None:
        return 0
    if case.deadline < today:
        return 2
    return 1 if calendar.working_days_between(today, case.deadline) <= DUE_SOON_DAYS else 0


def escalate_overdue(today=None):
    """Raise 督办 levels through the workflow (timeline event + the department's and staff's notifications)."""
    today = today or calendar.today()
    horizon = today + dt.timedelta(days=DUE_SOON_DAYS * 3 + 10)  # generous: holidays stretch working days
    urged = 0
    for case in Case.select().where(Case.state.in_(workflow.HANDLING_STATES), Case.deadline <= horizon,
                                    Case.urge_level < 2).order_by(Case.id):
        target = urge_target(case, today)
        while case.urge_level < target:
            note = ("已超过办理时限，系统自动红色督办" if case.urge_level + 1 == 2 else
                    f"距办理时限不足{DUE_SOON_DAYS}个工作日，系统自动黄色督办")
            try:
                case = workflow.perform(case, "urge", workflow.SYSTEM, {"note": note})
            except ServiceError as err:  # changed meanwhile (answered, reopened…): nothing to urge
                log.info("urge %s skipped: %s", case.number, err.code)
                break
            urged += 1
    from services import suggestions  # a B-class suggestion answer's 承诺事项 is chased like a deadline
    chased = suggestions.chase_commitments(today)["chased"]
    return {"urged": urged, **({"chased": chased} if chased else {})}


def escalate_late_steps(today=None):
    """受理 and 签收 time limits: a report not accepted within ACCEPT_DAYS working days (an assignment not signed
    within SIGN_DAYS) is escalated through the workflow — level 1 to the station's staff, level 2 (one more
    period late) to the county office. Each level once per step. 代表建议 have their own (chase_late_steps)."""
    today = today or calendar.today()
    raised = 0
    for state, setting, since in (("submitted", "ACCEPT_DAYS", Case.submitted_at),
                                  ("assigned", "SIGN_DAYS", Case.updated_at)):
        days = current_app.config.get(setting, 3 if state == "submitted" else 2)
        for case in Case.select().where(Case.kind == "report", Case.state == state,
                                        since < calendar.utc_start(today)).order_by(Case.id):
            entered = case.submitted_at if state == "submitted" else _entered(case)
            late = calendar.working_days_between(calendar.local(entered).date(), today)
            target = 2 if late > 2 * days else 1 if late > days else 0
            level = _escalated(case, entered)
            while level < target:
                level += 1
                try:
                    case = workflow.perform(case, "escalate", workflow.SYSTEM, {"level": level, "note": (
                        f"超过{'受理' if state == 'submitted' else '签收'}时限（{days}个工作日）")})
                    raised += 1
                except ServiceError as err:
                    log.info("escalate %s skipped: %s", case.number, err.code)
                    break
    from services import suggestions  # 代表建议: a late 签收, and 协办意见 past SUGGESTION_ASSIST_MONTHS
    raised += suggestions.chase_late_steps(today)["escalated"]
    return {"escalated": raised}


def _entered(case):
    """When the case entered its current state (its latest state-changing event)."""
    event = case.events.where(CaseEvent.to_state == case.state, CaseEvent.from_state != case.state).order_by(
        CaseEvent.id.desc()).first()
    return event.at if event else case.updated_at


def _escalated(case, since):
    levels = [e.data.get("level", 0) for e in case.events.where(CaseEvent.action == "escalate", CaseEvent.at >= since)]
    return max(levels, default=0)


def ask_if_resolved(now=None):
    """RESOLVED_CHECK_DAYS after closing, ask each reporter once: 问题是否真正解决了？ (the answer is the
    reporter's `resolution` action; 没有 puts the case on the office's 待办 to reopen)."""
    now = now or utcnow()
    days = current_app.config.get("RESOLVED_CHECK_DAYS", 15)
    due = now - dt.timedelta(days=days)
    asked = 0
    for case in Case.select().where(Case.state == "closed", Case.reporter.is_null(False), Case.closed_at <= due,
                                    Case.closed_at > due - dt.timedelta(days=7)).order_by(Case.id):
        asked += notify.write(case.reporter_id, "case_check", f"check:{case.id}:{case.round}",
                              {"number": case.number, "title": case.title, "days": days}, case=case) or 0
    return {"asked": asked}


def purge_audit_log(now=None):
    """Remove audit entries past AUDIT_RETENTION_DAYS (never less than 180)."""
    from services import audit
    return {"purged": audit.purge(current_app.config.get("AUDIT_RETENTION_DAYS", 365), now)}


def purge_expired_keys(now=None):
    """Remove expired shared-storage keys (webhook de-duplication, nonces, rate-limit windows)."""
    from wechat import store
    return {"purged": store.purge_expired(now)}


def close_due_ballots(now=None):
    """Close and count the ballots whose voting time has ended (services/ballots.py)."""
    from services import ballots
    return {"closed": ballots.close_due(now)}


def auto_close(now=None):
    """Close answered cases left unrated for AUTO_CLOSE_DAYS (close reason 'unrated', not 'satisfied')."""
    now = now or utcnow()
    days = current_app.config.get("AUTO_CLOSE_DAYS", 7)
    closed = 0
    for case in Case.select().where(Case.kind == "report", Case.state == "answered",
                                    Case.answered_at <= now - dt.timedelta(days=days)).order_by(Case.id):
        try:
            workflow.perform(case, "auto_close", workflow.SYSTEM)
            closed += 1
        except ServiceError as err:
            log.info("auto-close %s skipped: %s", case.number, err.code)
    return {"closed": closed}


def daily_digest(today=None):
    """One morning summary for each deputy and each department handler that has something to do."""
    today = today or calendar.today()
    since = utcnow() - dt.timedelta(days=1)
    written = 0
    for account in Account.select().where(Account.role == "deputy", Account.active == True,  # noqa: E712
                                          Account.deputy.is_null(False)):
        mine = Case.select(Case.id).where(Case.deputy == account.deputy_id, Case.kind == "report")
        values = {"pending": Case.select().where(Case.id.in_(mine), Case.state == "submitted").count(),
                  "answered": Case.select().where(Case.id.in_(mine), Case.answered_at >= since).count(),
                  "unsatisfied": Rating.select().where(Rating.case.in_(mine), Rating.value == "unsatisfied",
                                                       Rating.created_at >= since).count()}
        if any(values.values()):
            written += notify.write(account, "digest_deputy", f"digest:{today}:{account.id}", values) or 0
    soon = calendar.add_working_days(today, DUE_SOON_DAYS)
    for department in Department.select().where(Department.active == True):  # noqa: E712
        active = Case.select().join(Assignment, on=(Assignment.case == Case.id) & (Assignment.round == Case.round)).where(
            Assignment.department == department.id, Assignment.active == True,  # noqa: E712
            Case.state.in_(workflow.HANDLING_STATES)).distinct()
        values = {"to_sign": active.where(Case.state == "assigned").count(), "handling": active.count(),
                  "due_soon": active.where(Case.deadline >= today, Case.deadline <= soon).count(),
                  "overdue": active.where(Case.deadline < today).count()}
        if not values["handling"]:
            continue
        for account in Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                              Account.department == department.id):
            written += notify.write(account, "digest_department", f"digest:{today}:{account.id}", values) or 0
    for account in Account.select().where(Account.role == "staff", Account.active == True):  # noqa: E712
        values = todo.counts(account, todo.visible(account))
        values["total"] = sum(values.values())
        if values["total"]:
            written += notify.write(account, "digest_staff", f"digest:{today}:{account.id}", values) or 0
    return {"written": written}


def weekly_project_digest(today=None):
    """Followers hear, once a week, how many updates the projects they follow had in the past seven days."""
    today = today or calendar.today()
    since = utcnow() - dt.timedelta(days=7)
    week = "%d-W%02d" % today.isocalendar()[:2]
    recent = {}
    for update in ProjectUpdate.select().where(ProjectUpdate.created_at >= since):
        recent[update.project_id] = recent.get(update.project_id, 0) + 1
    if not recent:
        return {"written": 0}
    projects = {p.id: p for p in Project.select().where(Project.id.in_(list(recent)))}
    followed = {}
    for follow in Follow.select().where(Follow.project.in_(list(recent))).order_by(Follow.project):
        followed.setdefault(follow.account_id, []).append(projects[follow.project_id])
    written = 0
    for account_id, mine in followed.items():
        values = {"count": len(mine), "updates": sum(recent[p.id] for p in mine), "code": mine[0].code,
                  "names": "、".join(p.name for p in mine)}
        written += notify.write(account_id, "project_digest", f"pdigest:{week}:{account_id}", values) or 0
    return {"written": written}


@retried
def stats_snapshot(today=None):
    """The nightly statistics snapshot (overall and per department, this year), then the 满意率 alert:
    county-wide staff hear of each department under 80 % (at most once a week per department)."""
    today = today or calendar.today()
    scope = {"start": dt.date(today.year, 1, 1), "as_of": today}
    overall = stats.figures(**scope)
    departments = stats.figures(by="department", **scope)
    with db.atomic():
        StatsSnapshot.delete().where(StatsSnapshot.day == today, StatsSnapshot.scope == "all").execute()
        StatsSnapshot.create(day=today, scope="all", data={"overall": overall, "departments": departments})
    week = "%d-W%02d" % today.isocalendar()[:2]
    staff = notify.staff_for(None)
    alerts = 0
    for row in departments:
        if not row["flagged"] or row["key"] is None:
            continue
        values = {"department": row["label"], "rate": stats.percent(row["satisfaction_rate"]),
                  "unsatisfied": row["rated"] - row["satisfied"]}
        for account in staff:
            alerts += notify.write(account, "staff_satisfaction", f"sat:{week}:{row['key']}:{account.id}",
                                   values) or 0
    return {"day": today.isoformat(), "departments": len(departments), "alerts": alerts}


def train_routing():
    """民情分析: vectors for any report still without one, the words of closed reports out of the index (and a
    reopened one's back), then the routing suggestion (category and lead
    department) retrained on every assigned report, its accuracy measured on the newest held-out ones."""
    from services import analysis
    with db.atomic():
        indexed = analysis.reindex()
    with db.atomic():
        dropped, restored = analysis.prune()
    return {"indexed": indexed, "unindexed": dropped, "reindexed": restored, **analysis.train()}


def refresh_wechat_token():
    """Fetch the access tokens ahead of expiry (stable_token: refreshing never invalidates another's)."""
    from wechat import client
    from wechat.errors import WeChatError
    done = {}
    for name, build in (("official_account", client.official_account), ("mini_program", client.mini_program)):
        try:
            build().token(refresh=True)
            done[name] = "ok"
        except WeChatError as err:
            done[name] = f"skipped: {err}"
    return done


def sweep_uploads():
    """Remove uploaded images nothing refers to a day after they came (services/uploads.sweep_orphans)."""
    return uploads.sweep_orphans()


def purge_personal_data():
    """Remove reporters' personal details from cases ended PERSONAL_DATA_RETENTION_DAYS ago (services/privacy)."""
    return privacy.purge_expired()


def plan_receptions():
    """Keep every station's reception days planned ahead (services/activities.PLAN_DAYS)."""
    from services import activities
    return activities.plan_all()


def remind_bookings():
    """Remind citizens and deputies of the bookings of the next 24 hours."""
    from services import activities
    return activities.remind_bookings()


def remind_inactive_deputies():
    """A gentle monthly reminder to deputies with no activity for DUTY_INACTIVE_MONTHS."""
    from services import dutyrecord
    return dutyrecord.remind_inactive()
