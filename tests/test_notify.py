"""Who hears what, and how a message is rendered for WeChat (value limits per keyword type)."""
import re
from pathlib import Path

import pytest

from models import Account, Follow, Notification, ProjectUpdate
from services import delivery, notify, workflow, wxtemplates
from tests.factories import case_in, new_case, world
from tests.wechat_helpers import MAPPING, subscribe, value, wire

DOCS = Path(__file__).resolve().parent.parent / "docs" / "notifications.md"


def kinds_for(account):
    return sorted(n.kind for n in Notification.select().where(Notification.account == account))


# --- trimming to WeChat's per-type limits ---------------------------------------------------------

@pytest.mark.parametrize("keyword,value,expected", [
    ("thing2", "村口道路坑洼严重雨天积水电动车经常摔倒希望尽快修补", "村口道路坑洼严重雨天积水电动车经常摔倒…"),
    ("thing2", "短标题", "短标题"),
    ("thing4", "路灯🚧坏了👨‍👩‍👧两个月", "路灯坏了两个月"),             # emoji (and ZWJ sequences) dropped
    ("phrase3", "已受理（代表）", "已受理代表"),                     # phrase: pure Chinese, ≤ 5
    ("phrase3", "二次办理中了吗", "二次办理中"),
    ("character_string1", "2026-000123", "2026-000123"),
    ("character_string1", "编号 2026-000123" + "X" * 40, ("2026-000123" + "X" * 40)[:32]),  # no Chinese, ≤ 32
    ("number2", "共 12 件", "12"),
    ("number2", "", "0"),
    ("name1", "欧阳娜娜娜娜娜娜娜娜娜", "欧阳娜娜娜娜娜娜娜…"),          # name: 10 Chinese
    ("name1", "Alexander Hamilton-Smith", "Alexander Hamilton-S"),  # or 20 letters
    ("time5", "2026年11月21日 15:01", "2026年11月21日 15:01"),
])
def test_values_are_fitted_to_the_keyword_type(keyword, value, expected):
    assert notify.fit(keyword, value) == expected


def test_trimming_never_splits_a_character_from_its_marks():
    # "a" + 19 letters with a combining mark that has no precomposed form: cutting at 19 would orphan it
    value = "a" * 18 + "q\u0307" + "bbbb"
    fitted = notify.fit("thing1", value)
    assert fitted == "a" * 18 + "…"


# Another county's choice: the same four templates picked differently in WeChat's libraries, so each of our
# values lands in another rule (the number in a thing, the status in a thing, the time in a date…).
OTHER_COUNTY = {
    "mp-alt-progress": {"app": "mp", "title": "事项处理通知", "keywords": {
        "thing1": "事项编号", "thing2": "反映事项", "thing3": "处理结果", "thing4": "备注", "date5": "处理日期"}},
    "mp-alt-todo": {"app": "mp", "title": "待办提醒", "keywords": {
        "character_string1": "单号", "thing2": "事项名称", "thing3": "待办内容", "thing4": "办理时限"}},
    "mp-alt-project": {"app": "mp", "title": "项目进度提醒", "keywords": {
        "thing1": "项目名称", "thing2": "进展情况", "thing3": "完成比例", "date4": "更新日期"}},
    "mp-alt-digest": {"app": "mp", "title": "汇总提醒", "keywords": {
        "thing1": "提醒事项", "thing2": "件数", "thing3": "说明", "date4": "日期"}},
    "oa-alt-progress": {"app": "oa", "title": "事项处理通知", "keywords": {
        "character_string9": "事项编号", "thing7": "反映事项", "phrase2": "处理状态", "time11": "处理时间"}},
    "oa-alt-todo": {"app": "oa", "title": "待办提醒", "keywords": {
        "thing12": "事项编号", "thing3": "事项名称", "thing5": "待办事项", "date2": "截止日期"}},
    "oa-alt-project": {"app": "oa", "title": "项目进度提醒", "keywords": {
        "thing5": "项目名称", "thing6": "最新进展", "character_string3": "完成进度", "time8": "更新时间"}},
    "oa-alt-digest": {"app": "oa", "title": "汇总提醒", "keywords": {
        "thing2": "提醒事项", "number1": "数量", "thing4": "备注", "date3": "日期"}},
}
HOSTILE = "路灯]]><b>不亮</b>😀\n第二行\x07\u200b" + "超长的说明" * 10


def _mapping_of(templates, app):
    listed = [{"id": tid, "title": t["title"], "keywords": t["keywords"]} for tid, t in templates.items()
              if t["app"] == app]
    plan = wxtemplates.plan("subscribe" if app == "mp" else "template", listed)
    assert all(mapped for _, mapped in plan.values()), plan
    return {key: wxtemplates.entry(template, mapped) for key, (template, mapped) in plan.items()}


@pytest.mark.parametrize("county", ["stand-in", "other"])
def test_every_message_renders_data_wechat_accepts(app, wechat_standin, county):
    """Each message in the table, with hostile values, passes the strict stand-in on both channels — against
    the stand-in's templates and against another county's, mapped by the command's own proposal."""
    templates = wechat_standin.templates if county == "stand-in" else OTHER_COUNTY
    wechat_standin.configure(templates=templates)
    app.config.update(QUIET_HOURS="", WECHAT_MP_TEMPLATES=_mapping_of(templates, "mp"),
                      WECHAT_OA_TEMPLATES=_mapping_of(templates, "oa"))
    assert notify.template_problems(app.config) == []
    values = {name: HOSTILE for name in ("number", "title", "note", "department", "reason", "project", "text",
                                          "names", "rate")}
    values.update(deadline_text="", time="明天]]>")  # no deadline; a time that is none
    values.update(code="XM001", progress="45]]>", pending="3个", answered=1, unsatisfied="两", to_sign=1,
                  handling=4, due_soon=1, overdue=2, count=2, updates=5)
    person = Account.create(role="citizen", openid="openid-all", oa_openid="oa-all", oa_followed=True)
    pushed = [kind for kind, m in notify.MESSAGES.items() if m.template]
    for i, kind in enumerate(pushed):
        subscribe(person, notify.MESSAGES[kind].template)
        notify.write(person, kind, f"mp{i}", values)
    counts = delivery.drain()
    assert counts == {"sent": len(pushed)}, [(n.kind, n.last_error) for n in Notification.select()][:6]
    assert len(wechat_standin.sent("subscribe")) == len(pushed), [(n.kind, n.channel, n.last_error) for n in Notification.select()][:3]
    for body in wechat_standin.sent("subscribe"):
        assert all(len(item["value"]) <= 20 for k, item in body["data"].items() if k.startswith("thing"))
    # and the official-account channel once the consents are spent
    for i, kind in enumerate(pushed):
        notify.write(person, kind, f"oa{i}", values)
    assert delivery.drain()["sent"] == len(pushed)
    assert len(wechat_standin.sent("template")) == len(pushed)
    assert Notification.select().where(Notification.state != "sent").count() == 0
    assert not [c for c in wechat_standin.calls if c["errcode"] == 47003]


def test_a_real_case_number_and_title_survive_shaping(app, wechat_standin):
    wire(app, QUIET_HOURS="")
    person = Account.create(role="citizen", openid="openid-cn")
    subscribe(person)
    notify.write(person, "case_accepted", "k", {"number": "2026-000123", "title": "村道路面破损，雨天积水严重影响群众出行安全"})
    delivery.drain()
    [body] = wechat_standin.sent("subscribe")
    assert value(body, "number") == "2026-000123" and value(body, "status") == "已受理"
    assert value(body, "title") == "村道路面破损，雨天积水严重影响群众出行…"


def test_every_message_and_template_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for kind, message in notify.MESSAGES.items():
        assert f"`{kind}`" in text, kind
    for key, (_, values) in notify.TEMPLATES.items():
        assert f"`{key}`" in text
        for value in values:
            assert f"`{value}`" in text, (key, value)


def test_links_point_to_the_mini_program_page_and_the_h5_url(app):
    w = world()
    case = case_in(w, "accepted")
    row = Notification.get(Notification.account == w.citizen, Notification.kind == "case_accepted")
    page, url = notify.links(row, "https://daibiao.example")
    assert page == f"pages/case/detail?number={case.number}"
    assert url == f"https://daibiao.example/c/{case.number}"
    assert row.link == page


# --- who hears what -------------------------------------------------------------------------------

def test_a_case_through_its_life_reaches_the_right_people(app):
    w = world()
    case = new_case(w)
    assert kinds_for(w.deputy_account) == ["case_new"]
    case = workflow.perform(case, "accept", w.deputy_account)
    case = workflow.perform(case, "assign", w.staff, {"lead": "D1", "assist": ["D2"], "days": 5})
    assert kinds_for(w.lead) == ["dept_assigned"] and kinds_for(w.assist) == ["dept_assigned"]
    assert kinds_for(w.outsider_dept) == []
    case = workflow.perform(case, "sign", w.lead)
    case = workflow.perform(case, "urge", w.staff, {"note": "请加快"})
    assert "dept_urged" in kinds_for(w.lead)
    case = workflow.perform(case, "answer", w.lead, {"answer_class": "A", "text": "已经修好了路面。"})
    assert "deputy_answer" in kinds_for(w.deputy_account)
    case = workflow.perform(case, "rate", w.citizen, {"value": "unsatisfied"})
    assert "deputy_unsatisfied" in kinds_for(w.deputy_account)
    # staff in scope (county-wide and town A) hear of the 不满意; town B's staff do not
    assert "staff_unsatisfied" in kinds_for(w.staff) and "staff_unsatisfied" in kinds_for(w.town_staff)
    assert kinds_for(w.other_town_staff) == []
    case = workflow.perform(case, "reopen", w.staff, {"days": 5})
    assert "dept_reopened" in kinds_for(w.lead)
    assert kinds_for(w.citizen) == ["case_accepted", "case_answered", "case_assigned", "case_reopened"]
    assert kinds_for(w.other_citizen) == []
    body = Notification.get(Notification.account == w.citizen, Notification.kind == "case_assigned").body
    assert "县交通运输局" in body and case.number in body


def test_decline_close_and_return_are_told(app):
    w = world()
    case_in(w, "declined")
    assert kinds_for(w.citizen) == ["case_declined"]
    assert "重复反映" in Notification.get(Notification.kind == "case_declined").body
    case = case_in(w, "assigned")
    workflow.perform(case, "return", w.lead, {"reason": "not_our_duty"})
    returned = Notification.get(Notification.account == w.staff, Notification.kind == "staff_returned")
    assert "不属本单位职责" in returned.body and "县交通运输局" in returned.body
    case_in(w, "closed")
    assert Notification.select().where(Notification.account == w.citizen,
                                       Notification.kind == "case_closed").count() == 1


def test_project_followers_hear_each_update_and_the_completion(app):
    w = world()
    Follow.create(account=w.citizen, project=w.project)
    Follow.create(account=w.other_citizen, project=w.project)
    update = ProjectUpdate.create(project=w.project, text="路基已铺设完成", progress=60)
    notify.project_updated(w.project, update)
    done = ProjectUpdate.create(project=w.project, text="已竣工并通过验收", progress=100)
    notify.project_updated(w.project, done)
    assert kinds_for(w.citizen) == ["project_completed", "project_update"]
    assert kinds_for(w.other_citizen) == ["project_completed", "project_update"]
    assert kinds_for(w.deputy_account) == []
    row = Notification.get(Notification.account == w.citizen, Notification.kind == "project_update")
    assert row.link == "pages/project/detail?code=XM001" and "路基已铺设完成" in row.body


def test_the_same_event_never_writes_a_message_twice(app):
    w = world()
    case = new_case(w)
    event = case.events.get()
    notify.case_changed(case, event)
    notify.case_changed(case, event)
    assert Notification.select().where(Notification.kind == "case_new").count() == 1


def test_every_message_fills_every_value_of_its_template_and_each_value_names_known_rules():
    for key, (_, values) in notify.TEMPLATES.items():
        for value, (label, rules, hints) in values.items():
            assert label and hints and set(rules) <= set(notify.RULES), (key, value)
    for kind, message in notify.MESSAGES.items():
        if message.template:
            assert set(message.fields) == set(notify.TEMPLATES[message.template][1]), kind
        else:
            assert message.fields == {}, kind  # inbox only


@pytest.mark.parametrize("entry,problem", [
    ("kXzR1qPZl0c3", "只有模板 id"),
    ({"keywords": {"thing3": "title"}}, "缺少模板 id"),
    ({"id": "x", "keywords": {}}, "缺少关键词映射"),
    ({"id": "x", "keywords": {"title": "title"}}, "不是微信的关键词"),
    ({"id": "x", "keywords": {"thing3": "headline"}}, "不是本模板的内容"),
    ({"id": "x", "keywords": {"phrase3": "title"}}, "phrase 类关键词，放不下“反映事项”"),
])
def test_a_mismatched_mapping_stops_the_app_at_start_up(database_url, entry, problem):
    from app import create_app
    from tests.conftest import TEST_CONFIG
    mapping = {**MAPPING["mp"], "case_progress": entry}
    with pytest.raises(RuntimeError, match=problem):
        create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_MP_TEMPLATES": mapping})
    missing = {k: v for k, v in MAPPING["oa"].items() if k != "work_digest"}
    with pytest.raises(RuntimeError, match="WECHAT_OA_TEMPLATES work_digest：缺少映射"):
        create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_OA_TEMPLATES": missing})
    assert create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_MP_TEMPLATES": MAPPING["mp"],
                       "WECHAT_OA_TEMPLATES": MAPPING["oa"]})
