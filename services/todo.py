"""待办 — what waits on *me*: one definition per to-do list, used by the console's home page (counts and the
oldest items with their ages), by the queue's `todo=` filter (so a count and its list always agree) and by
the morning digest for staff. Staff see their station's subtree; a department sees its own assignments.

Time limits on the steps before the department's: a new report should be accepted within ACCEPT_DAYS
working days and an assignment signed within SIGN_DAYS; past that a case is late (受理超时 / 签收超时),
shown and counted here, and escalated by the scheduler (jobs.tasks.escalate_late_steps).
"""
import datetime as dt
from dataclasses import dataclass

from peewee import SQL

from models import Assignment, Case, CaseEvent
from services import calendar
from services.stats import scoped
from services.vocab import HANDLING_STATES, KIND_STATES, setting
from services.workflow import NOT_ENDED, UNRESOLVED, deputy_cases, last_resolution

PROBED_ABOVE = 20_000  # a department's queue with more assignments than this probes them per case (visible)
DUE_SOON_DAYS = 2  # working days left at which a case is "due soon" (the scheduler's yellow card)


@dataclass(frozen=True)
class Todo:
    key: str
    label: str
    hint: str    # what to do, shown beside the count
    since: str   # which moment the age counts from: submitted | updated
    kind: str = "report"  # the kind of matter it lists (services/workflow.py KINDS)


def _late_before(days):
    """The UTC moment before which a step started `days` working days ago is late today."""
    start = calendar.today()
    for _ in range(days):
        start -= dt.timedelta(days=1)
        while not calendar.is_workday(start):
            start -= dt.timedelta(days=1)
    return calendar.utc_start(start)


def _due_soon_until():
    return calendar.add_working_days(calendar.today(), DUE_SOON_DAYS)


def _last_event_is(action):
    """The case's latest timeline entry is `action` (nobody has acted on it since)."""
    latest = CaseEvent.select(CaseEvent.action).where(CaseEvent.case == Case.id).order_by(
        CaseEvent.id.desc()).limit(1)
    return latest == action


def _unsigned(department_id=None):
    query = Assignment.select(Assignment.case).where(Assignment.active == True,  # noqa: E712
                                                     Assignment.signed_at.is_null())
    return query.where(Assignment.department == department_id) if department_id else query


STAFF_TODOS = [
    Todo("new", "新反映待受理", "受理、不予受理、转办或合并", "submitted"),
    Todo("accept_late", "受理超时", "超过受理时限仍未受理", "submitted"),
    Todo("to_assign", "待交办", "代表转交、已受理或被退回的案件，请交办", "updated"),
    Todo("returned", "被退回", "承办单位退回，请改派或重新交办", "updated"),
    Todo("sign_late", "签收超时", "交办后超过签收时限未签收，可催办或改派", "updated"),
    Todo("extension", "延期申请待审批", "同意或不同意延期", "updated"),
    Todo("supplement", "群众补充材料", "群众补充了材料，请查看", "updated"),
    Todo("flagged", "待人工审核", "审核通过或不予公开", "submitted"),
    Todo("overdue", "已超期", "督办或改派", "updated"),
    Todo("due_soon", "即将到期", f"距时限不足{DUE_SOON_DAYS}个工作日", "updated"),
    Todo("to_close", "已答复待办结", "回访、办结", "updated"),
    Todo("unsatisfied", "群众不满意", "回访、二次办理或办结", "updated"),
    Todo("unresolved", "群众反馈未解决", "办结后回访时群众说“没有解决”，可重新办理", "updated"),
    Todo("s_register", "代表建议待登记", "登记、分类、并案或不予立案", "submitted", "suggestion"),
    Todo("s_assign", "代表建议待交办", "已登记或被退回的建议，请交办", "updated", "suggestion"),
    Todo("s_extension", "建议延期待审批", "同意或不同意延期", "updated", "suggestion"),
    Todo("s_overdue", "代表建议已超期", "督办", "updated", "suggestion"),
    Todo("s_unsatisfied", "代表测评不满意", "安排重新办理", "updated", "suggestion"),
    Todo("s_close", "代表已测评待办结", "办结", "updated", "suggestion"),
]
DEPARTMENT_TODOS = [
    Todo("to_sign", "待签收", "签收或退回", "updated"),
    Todo("handling", "办理中", "更新进展、联系群众、答复", "updated"),
    Todo("reopened", "二次办理", "群众不满意，请重新办理", "updated"),
    Todo("supplement", "群众补充材料", "群众补充了材料，请查看", "updated"),
    Todo("overdue", "已超期", "请立即办理", "updated"),
    Todo("due_soon", "即将到期", f"距时限不足{DUE_SOON_DAYS}个工作日", "updated"),
    Todo("s_sign", "代表建议待签收", "签收或退回（交办有误）", "updated", "suggestion"),
    Todo("s_handling", "代表建议办理中", "面商、协办意见、答复", "updated", "suggestion"),
]


def visible(who, kind=None):
    """The cases an account may list (of one kind, when given): staff within their station scope, a department what
    was ever assigned to it, a deputy the cases sent to them (the same rule as workflow.can_view)."""
    query = Case.select() if kind is None else Case.select().where(Case.kind == kind)
    if who.role != "deputy" and "draft" in KIND_STATES.get(kind, ("draft",)):
        # a suggestion's draft is private to its drafter (services/suggestions.can_view); a kind without drafts
        # needs no test, which lets a capped count read the kind's index alone
        query = query.where(~((Case.state == "draft") & (Case.entered_by.is_null() | (Case.entered_by != who.id))))
    if who.role == "admin" or (who.role == "staff" and who.station_id is None):
        return query
    if who.role == "staff":
        return scoped(query, station=who.station)
    if who.role == "department":
        mine = Assignment.select(Assignment.case).where(Assignment.department == who.department_id)
        if mine.limit(PROBED_ABOVE + 1).count() <= PROBED_ABOVE:
            return query.where(Case.id.in_(mine))  # a few: gathered from assignment (department, case) and sorted
        # many (a department with 100 k cases, which MariaDB gathered and sorted for one page): each case probed in
        # assignment (department, case) as the queue reads newest first, a page found within a few thousand cases
        return query.where(Assignment.select(SQL("1")).where(
            Assignment.department == who.department_id, Assignment.case == Case.id).limit(1) == 1)
    if who.role == "deputy":
        return query.where(deputy_cases(who.deputy)) if who.deputy_id else query.where(False)
    return query.where(False)


def todos_for(account):
    return STAFF_TODOS if account.role in ("staff", "admin") else DEPARTMENT_TODOS \
        if account.role == "department" else []


def condition(key, account):
    """The `where` that picks the cases of to-do `key` for this account (on top of what it may see)."""
    today = calendar.today()
    handling = Case.state.in_(HANDLING_STATES)
    mine = None
    if account.role == "department":
        mine = Case.id.in_(Assignment.select(Assignment.case).where(
            Assignment.department == account.department_id, Assignment.active == True,  # noqa: E712
            Assignment.round == Case.round))
    conditions = {
        "new": Case.state == "submitted",
        "accept_late": (Case.state == "submitted") & (Case.submitted_at < _late_before(
            setting("ACCEPT_DAYS", 3))),
        "to_assign": Case.state == "accepted",
        "returned": (Case.state == "accepted") & Case.id.in_(Assignment.select(Assignment.case).where(
            Assignment.round == Case.round, Assignment.returned_at.is_null(False))),
        "sign_late": (Case.state == "assigned") & Case.id.in_(_unsigned().where(
            Assignment.role == "lead", Assignment.assigned_at < _late_before(setting("SIGN_DAYS", 2)))),
        "extension": (Case.state == "in_progress") & Case.id.in_(Assignment.select(Assignment.case).where(
            Assignment.active == True, Assignment.extension_state == "requested")),  # noqa: E712
        "supplement": Case.state.in_(NOT_ENDED) & _last_event_is("supplement"),
        "flagged": Case.flagged == True,  # noqa: E712
        "overdue": handling & (Case.deadline < today),
        "due_soon": handling & (Case.deadline >= today) & (Case.deadline <= _due_soon_until()),
        "to_close": Case.state.in_(("answered", "rated")) & (Case.rating != "unsatisfied"),
        "unsatisfied": (Case.state == "rated") & (Case.rating == "unsatisfied"),
        "unresolved": (Case.state == "closed") & (last_resolution() == UNRESOLVED),
        "to_sign": (Case.state == "assigned") & Case.id.in_(_unsigned(account.department_id)),
        "handling": Case.state == "in_progress",
        "reopened": handling & (Case.round > 1),
        "s_register": Case.state == "submitted", "s_assign": Case.state == "registered",
        "s_close": (Case.state == "rated") & (Case.rating != "unsatisfied"),
    }
    # the suggestion's to-dos that read as the report's (each list is filtered to its own kind below)
    conditions.update({f"s_{key}": conditions[key] for key in ("extension", "overdue", "unsatisfied")},
                      s_sign=Case.state == "assigned", s_handling=conditions["handling"])
    if key not in conditions or key not in {t.key for t in todos_for(account)}:
        return None
    found = conditions[key] & (Case.kind == next(t.kind for t in todos_for(account) if t.key == key))
    return found & mine if mine is not None else found


def overview(account, visible, limit=8):
    """[(todo, count, oldest cases)] for the account; `visible` is the query of the cases it may see."""
    result = []
    for todo in todos_for(account):
        query = visible.where(condition(todo.key, account))
        since = Case.submitted_at if todo.since == "submitted" else Case.updated_at
        result.append((todo, query.count(), list(query.order_by(since, Case.id).limit(limit))))
    return result


def waiting_since(case, todo):
    """When the wait began: submission, the supplement, or the step that put the case in its state (later
    reminders, edits and views do not restart the clock)."""
    if todo.since == "submitted":
        return case.submitted_at
    events = CaseEvent.select(CaseEvent.at).where(CaseEvent.case == case.id)
    if todo.key == "supplement":
        event = events.where(CaseEvent.action == "supplement")
    else:
        event = events.where(CaseEvent.to_state == case.state, CaseEvent.from_state != case.state)
    found = event.order_by(CaseEvent.id.desc()).first()
    return found.at if found else case.updated_at


def age(case, todo):
    """How long it has waited, in words: 今天 / 3天 / 2个月."""
    days = (calendar.today() - calendar.local(waiting_since(case, todo)).date()).days
    return "今天" if days <= 0 else f"{days}天" if days < 60 else f"{days // 30}个月"


def counts(account, visible):
    """{key: count} (the morning digest)."""
    return {todo.key: visible.where(condition(todo.key, account)).count() for todo in todos_for(account)}
