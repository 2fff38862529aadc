"""Who hears what, and how a message is rendered for WeChat (value limits per keyword type)."""
import re
from pathlib import Path

import pytest

from models import Account, Follow, Notification, ProjectUpdate
from services import delivery, notify, workflow
from tests.factories import case_in, new_case, world

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


@pytest.fixture
def strict_standin(wechat_standin):
    """The stand-in knows our template ids and their keywords, so it rejects missing or over-long values."""
    saved = (wechat_standin.apps, wechat_standin.templates, wechat_standin.openids)
    templates = {}
    for key, (_, fields) in notify.TEMPLATES.items():
        templates[f"mp-{key}"] = list(fields)
        templates[f"oa-{key}"] = list(fields)
    wechat_standin.configure(apps=saved[0], templates=templates, openids=saved[2])
    yield wechat_standin
    wechat_standin.configure(*saved)


def test_every_message_renders_data_wechat_accepts(app, strict_standin):
    """Each message in the table, with long and awkward values, passes the stand-in's checks on both channels."""
    app.config.update(QUIET_HOURS="", WECHAT_MP_TEMPLATES={k: f"mp-{k}" for k in notify.TEMPLATES},
                      WECHAT_OA_TEMPLATES={k: f"oa-{k}" for k in notify.TEMPLATES})
    awkward = "超长的说明😀" * 10
    values = {name: awkward for name in ("number", "title", "note", "department", "reason", "project", "text",
                                          "names", "rate")}
    values.update(number="2026-000001", code="XM001", progress=45, deadline_text="2026年12月1日", pending=3,
                  answered=1, unsatisfied=2, to_sign=1, handling=4, due_soon=1, overdue=2, count=2, updates=5)
    person = Account.create(role="citizen", openid="openid-all", oa_openid="oa-all", oa_followed=True)
    for i, kind in enumerate(notify.MESSAGES):
        delivery.add_quota(person, notify.MESSAGES[kind].template)
        notify.write(person, kind, f"mp{i}", values)
    assert delivery.drain()["sent"] == len(notify.MESSAGES)
    assert len(strict_standin.sent("subscribe")) == len(notify.MESSAGES)
    for body in strict_standin.sent("subscribe"):
        assert all(len(item["value"]) <= 20 for k, item in body["data"].items() if k.startswith("thing"))
    # and the official-account channel once the consents are spent
    for i, kind in enumerate(notify.MESSAGES):
        notify.write(person, kind, f"oa{i}", values)
    assert delivery.drain()["sent"] == len(notify.MESSAGES)
    assert len(strict_standin.sent("template")) == len(notify.MESSAGES)
    assert Notification.select().where(Notification.state != "sent").count() == 0


def test_every_message_and_template_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for kind, message in notify.MESSAGES.items():
        assert f"`{kind}`" in text, kind
    for key, (_, fields) in notify.TEMPLATES.items():
        assert f"`{key}`" in text
        for keyword in fields:
            assert keyword in text, (key, keyword)


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


def test_every_template_keyword_has_a_known_type():
    for key, (_, fields) in notify.TEMPLATES.items():
        for keyword in fields:
            assert re.fullmatch(r"(thing|number|character_string|phrase|time|date|name)\d+", keyword), keyword
    for kind, message in notify.MESSAGES.items():
        assert set(message.fields) == set(notify.TEMPLATES[message.template][1]), kind
