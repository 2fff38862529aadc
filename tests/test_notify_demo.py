"""Done-when: every state change in the demo county reaches the right people through the stand-in
(sandbox mode: the stand-in plays WeChat with its realistic templates, mapped as the command maps them)."""
import datetime as dt

from models import Account, Case, Deputy, Follow, Notification, Project, ProjectUpdate, SubscriptionQuota
from services import delivery, notify, seed, workflow
from jobs import tasks
from tests.wechat_helpers import MAPPING, subscribe as consent, wire


def user(name):
    return Account.get(Account.username == name)


def test_every_state_change_in_the_demo_county_reaches_the_right_people(app, wechat_standin):
    seed.seed_demo(log=lambda *_: None)
    wire(app, WECHAT_SANDBOX=True, QUIET_HOURS="")
    # everyone follows the official account (as people who bound WeChat would); citizen 2 also gave consents
    for account in Account.select():
        Account.update(oa_openid=f"oa-{account.id}", oa_followed=True, openid=f"openid-{account.id}").where(
            Account.id == account.id).execute()
    citizen = Account.get(Account.display_name == "群众2")
    consent(citizen, "case_progress", 10)
    daibiao, staff, jiaotong = user("daibiao"), user("staff"), user("jiaotong")
    before = Notification.select(Notification.id).order_by(Notification.id.desc()).first().id

    case = workflow.submit_case(citizen, {"deputy": "DB0001", "category": "traffic", "title": "桥面裂缝",
                                          "content": "河西村小桥桥面出现裂缝，车辆通行有隐患。"})
    case = workflow.perform(case, "accept", daibiao)
    case = workflow.perform(case, "assign", staff, {"lead": "JTJ", "days": 1})
    case = workflow.perform(case, "sign", jiaotong)
    case = workflow.perform(case, "urge", staff, {"note": "请尽快处理"})
    case = workflow.perform(case, "answer", jiaotong, {"answer_class": "A", "text": "已完成桥面修补并设置警示。"})
    case = workflow.perform(case, "rate", citizen, {"value": "unsatisfied"})
    case = workflow.perform(case, "reopen", staff, {"days": 5})
    Case.update(deadline=dt.date(2020, 1, 1)).where(Case.id == case.id).execute()
    tasks.escalate_overdue()
    other = workflow.submit_case(citizen, {"deputy": "DB0001", "category": "other", "content": "建议增设公交站台。"})
    workflow.perform(other, "decline", daibiao, {"reason": "duplicate"})
    project = Project.get(Project.code == "XM002")
    Follow.get_or_create(account=citizen, project=project)
    update = ProjectUpdate.create(project=project, text="全线贯通", progress=100)
    notify.project_updated(project, update)

    rows = list(Notification.select().where(Notification.id > before).order_by(Notification.id))
    delivery.drain()
    told = {}
    for row in Notification.select().where(Notification.id > before):
        assert row.state == "sent", (row.kind, row.state, row.last_error)
        if row.case_id in (case.id, other.id) or row.project_id == project.id:
            told.setdefault(row.kind, set()).add(row.account_id)

    deputies = {a.id for a in Account.select().where(Account.deputy == Deputy.get(Deputy.code == "DB0001"))}
    county_staff = {a.id for a in Account.select().where(Account.role == "staff", Account.station.is_null())}
    jtj = {a.id for a in Account.select().where(Account.role == "department", Account.department == jiaotong.department)}
    followers = {f.account_id for f in Follow.select().where(Follow.project == project)}
    me = {citizen.id}
    assert told["case_new"] == deputies
    for kind in ("case_accepted", "case_assigned", "case_answered", "case_reopened", "case_declined"):
        assert told[kind] == me, kind
    assert told["dept_assigned"] == told["dept_urged"] == told["dept_reopened"] == told["dept_overdue"] == jtj
    assert told["deputy_answer"] == told["deputy_unsatisfied"] == deputies
    assert county_staff <= told["staff_unsatisfied"] and county_staff <= told["staff_overdue"]
    assert told["project_completed"] == followers and citizen.id in followers

    # through the stand-in: the citizen's case messages as subscribe messages (they gave consents), the rest
    # as official-account template messages, each to the right person's openid
    subscribe = wechat_standin.sent("subscribe")
    template = wechat_standin.sent("template")
    assert len(subscribe) + len(template) == len(rows)
    assert {b["touser"] for b in subscribe} == {f"openid-{citizen.id}"}
    progress = [r for r in rows if r.account_id == citizen.id and notify.MESSAGES[r.kind].template == "case_progress"]
    assert len(subscribe) == len(progress) == 5 and SubscriptionQuota.get(account=citizen).remaining == 5
    sent_to = sorted(b["touser"] for b in template)
    expected = sorted(f"oa-{r.account_id}" for r in Notification.select().where(
        Notification.id > before, Notification.channel == "template"))
    assert sent_to == expected
    ids = {entry["id"] for channel in MAPPING.values() for entry in channel.values()}
    assert {b["template_id"] for b in subscribe + template} <= ids
    assert not [c for c in wechat_standin.calls if c["errcode"] not in (0, None)]  # nothing refused
