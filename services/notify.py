"""Who hears what: notification intents written to the outbox in the same transaction as the change.

`MESSAGES` is the one table of every message (title, body, link, urgency). `AUDIENCE` says which
action of the workflow tells whom. Delivery (WeChat channels, retries, quiet hours) is in
services/delivery.py and runs from the scheduler; this module only writes rows.
"""
from models import Account, Assignment, Follow, Notification, Station

# kind: (title, body format, mini-program page, urgent)
MESSAGES = {
    "case_new": ("新的群众反映", "{number}：{title}", "/pages/workbench/case?number={number}", False),
    "case_accepted": ("反映已受理", "您的反映 {number} 已受理", "/pages/case/detail?number={number}", False),
    "case_declined": ("反映未予受理", "您的反映 {number} 未予受理：{reason}", "/pages/case/detail?number={number}", False),
    "case_assigned": ("反映已交办", "您的反映 {number} 已交{department}办理", "/pages/case/detail?number={number}", False),
    "case_answered": ("反映已答复，请评价", "您的反映 {number} 已答复，请评价", "/pages/case/detail?number={number}", False),
    "case_reopened": ("反映进入二次办理", "您的反映 {number} 进入二次办理", "/pages/case/detail?number={number}", False),
    "case_closed": ("反映已办结", "您的反映 {number} 已办结", "/pages/case/detail?number={number}", False),
    "case_replied": ("代表回复了您", "{number}：{note}", "/pages/case/detail?number={number}", False),
    "deputy_answer": ("案件已答复", "{number} 已由{department}答复", "/pages/workbench/case?number={number}", False),
    "deputy_unsatisfied": ("群众不满意", "{number} 的答复被评为不满意", "/pages/workbench/case?number={number}", True),
    "dept_assigned": ("新交办案件", "{number}：{title}，请于{deadline}前办结", "/console/cases/{number}", False),
    "dept_reopened": ("案件二次办理", "{number} 群众不满意，请于{deadline}前重新办理", "/console/cases/{number}", True),
    "dept_urged": ("督办提醒", "{number} 被督办，时限{deadline}", "/console/cases/{number}", True),
    "staff_returned": ("案件被退回", "{number} 被{department}退回：{reason}", "/console/cases/{number}", False),
    "staff_unsatisfied": ("群众不满意", "{number} 的答复被评为不满意，可安排二次办理", "/console/cases/{number}", False),
    "project_update": ("项目有新进展", "{project}：{text}", "/pages/project/detail?code={code}", False),
}

# action: [(audience, kind)] — audiences: reporter, deputy, departments (current round), staff (in scope)
AUDIENCE = {
    "submit": [("deputy", "case_new")],
    "accept": [("reporter", "case_accepted")],
    "forward": [("reporter", "case_accepted")],
    "decline": [("reporter", "case_declined")],
    "assign": [("reporter", "case_assigned"), ("departments", "dept_assigned")],
    "return": [("staff", "staff_returned")],
    "answer": [("reporter", "case_answered"), ("deputy", "deputy_answer")],
    "reopen": [("reporter", "case_reopened"), ("departments", "dept_reopened")],
    "close": [("reporter", "case_closed")],
    "auto_close": [("reporter", "case_closed")],
    "reply": [("reporter", "case_replied")],
    "urge": [("departments", "dept_urged")],
}
RATING_AUDIENCE = {"unsatisfied": [("deputy", "deputy_unsatisfied"), ("staff", "staff_unsatisfied")]}


def recipients(case, audience):
    if audience == "reporter":
        return [case.reporter] if case.reporter_id else []
    if audience == "deputy":
        return list(Account.select().where(Account.deputy == case.deputy_id, Account.role == "deputy",
                                           Account.active == True)) if case.deputy_id else []  # noqa: E712
    if audience == "departments":
        departments = Assignment.select(Assignment.department).where(
            Assignment.case == case.id, Assignment.round == case.round, Assignment.active == True)  # noqa: E712
        return list(Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                           Account.department.in_(departments)))
    if audience == "staff":
        staff = Account.select().where(Account.role == "staff", Account.active == True)  # noqa: E712
        if case.station_id is None:
            return list(staff.where(Account.station.is_null()))
        station = Station.get_by_id(case.station_id)
        # staff whose scope contains the case's station: their station's path is a prefix of it
        return [a for a in staff if a.station_id is None or station.path.startswith(a.station.path)]
    raise ValueError(audience)


def write(account, kind, dedupe_key, values, case=None, project=None):
    title, body, link, urgent = MESSAGES[kind]
    Notification.insert(
        account=account, kind=kind, case=case, project=project, title=title,
        body=body.format_map(_Blank(values))[:500], link=link.format_map(_Blank(values)), data=values,
        urgent=urgent, dedupe_key=dedupe_key[:150],
    ).on_conflict_ignore().execute()


class _Blank(dict):
    def __missing__(self, key):
        return ""


def case_changed(case, event):
    """Write the notifications an event on a case causes (called inside the workflow's transaction)."""
    plan = list(AUDIENCE.get(event.action, []))
    if event.action == "rate":
        plan += RATING_AUDIENCE.get(event.data.get("value"), [])
    if not plan:
        return
    from services.workflow import DECLINE_REASONS, RETURN_REASONS  # the workflow owns the reason codes
    values = {"number": case.number, "title": case.title, "state": case.state, "note": event.note[:40],
              "deadline": case.deadline.isoformat() if case.deadline else "",
              "department": event.data.get("lead") or event.data.get("department")
              or (case.lead_department.name if case.lead_department_id else ""),
              "reason": DECLINE_REASONS.get(event.data.get("reason")) or RETURN_REASONS.get(
                  event.data.get("reason"), "")}
    for audience, kind in plan:
        for account in recipients(case, audience):
            write(account, kind, f"e{event.id}:{account.id}:{kind}", values, case=case)


def project_updated(project, update):
    """Every follower of a project hears of each update (called inside the update's transaction)."""
    values = {"project": project.name, "code": project.code, "text": update.text[:40],
              "progress": update.progress if update.progress is not None else project.progress}
    for follow in Follow.select().where(Follow.project == project):
        write(follow.account_id, "project_update", f"u{update.id}:{follow.account_id}", values, project=project)
