"""The deputy workbench (inbox, case actions), the in-app inbox and subscribe-message consents."""
from models import Case, Notification, SubscriptionQuota
from services import workflow
from tests.api_client import Api, error
from tests.factories import case_in, new_case, world
from tests.wechat_helpers import MP_IDS, wire


def test_the_inbox_holds_only_the_deputys_cases_with_filters_and_counts(app, client):
    w = world()
    todo = new_case(w, content="路灯坏了两个月，晚上看不见")
    accepted = case_in(w, "accepted")
    closed = case_in(w, "closed")
    new_case(w, deputy=w.other_deputy.code)
    api = Api(client, w.deputy_account)
    body = api.get("/deputy/cases").get_json()
    assert {c["number"] for c in body["cases"]} == {todo.number, accepted.number, closed.number}
    assert body["counts"]["submitted"] == 1 and body["counts"]["closed"] == 1 and body["counts"]["declined"] == 0
    assert {c["number"]: c["state_label"] for c in body["cases"]}[todo.number] == "待受理"
    assert [c["number"] for c in api.get("/deputy/cases?state=todo").get_json()["cases"]] == [todo.number]
    assert {c["number"] for c in api.get("/deputy/cases?state=open").get_json()["cases"]} == {todo.number,
                                                                                              accepted.number}
    assert [c["number"] for c in api.get("/deputy/cases?state=closed").get_json()["cases"]] == [closed.number]
    assert [c["number"] for c in api.get("/deputy/cases?q=路灯").get_json()["cases"]] == [todo.number]
    assert api.get("/deputy/cases?category=education").get_json()["total"] == 0
    assert error(api.get("/deputy/cases?state=bogus")) == (400, "invalid_choice")
    assert error(Api(client, w.citizen).get("/deputy/cases")) == (403, "not_deputy")
    assert error(Api(client).get("/deputy/cases")) == (401, "login_required")


def test_the_deputy_sees_buttons_from_allowed_actions(app, client):
    w = world()
    case = new_case(w)
    body = Api(client, w.deputy_account).get(f"/cases/{case.number}").get_json()["case"]
    assert [(a["action"], a["label"]) for a in body["allowed_actions"]] == [
        ("accept", "受理"), ("decline", "不予受理"), ("forward", "转交人大办"), ("opinion", "代表意见"), ("reply", "回复群众")]


def test_decline_needs_a_reason_and_tells_the_citizen(app, client):
    w = world()
    case = new_case(w)
    api = Api(client, w.deputy_account)
    assert error(api.post(f"/cases/{case.number}/actions/decline", json={})) == (400, "invalid_choice")
    assert error(api.post(f"/cases/{case.number}/actions/decline", json={"reason": "other"})) == (400, "missing_field")
    body = api.post(f"/cases/{case.number}/actions/decline", json={"reason": "judicial", "note": "请通过法院起诉"}).get_json()
    assert body["case"]["state"] == "declined" and body["case"]["allowed_actions"] == []
    citizen_view = Api(client, w.citizen).get(f"/cases/{case.number}").get_json()["case"]
    assert citizen_view["state_label"] == "未予受理"
    assert citizen_view["timeline"][-1]["note"] == "请通过法院起诉"
    assert Notification.select().where(Notification.account == w.citizen, Notification.kind == "case_declined").exists()


def test_forward_and_opinion_and_the_refusals(app, client):
    w = world()
    case = new_case(w)
    api = Api(client, w.deputy_account)
    assert error(api.post(f"/cases/{case.number}/actions/forward", json={})) == (400, "missing_field")
    api.post(f"/cases/{case.number}/actions/opinion", json={"note": "建议交通局牵头"})
    body = api.post(f"/cases/{case.number}/actions/forward", json={"note": "请人大办交办"}).get_json()
    assert body["case"]["state"] == "accepted"
    assert error(api.post(f"/cases/{case.number}/actions/accept")) == (409, "invalid_state")
    assert error(api.post(f"/cases/{case.number}/actions/assign", json={"lead": "D1"})) == (403, "not_permitted")
    assert error(api.post(f"/cases/{case.number}/actions/fly")) == (400, "unknown_action")
    assert error(Api(client, w.other_deputy_account).post(f"/cases/{case.number}/actions/reply",
                                                          json={"note": "我也来回复"})) == (404, "case_not_found")
    assert error(Api(client, w.citizen).post(f"/cases/{case.number}/actions/accept")) == (403, "not_permitted")
    citizen_labels = [t["label"] for t in Api(client, w.citizen).get(f"/cases/{case.number}").get_json()["case"]["timeline"]]
    assert citizen_labels == ["您提交了反映", "代表已受理并提出意见，转人大常委会办理"]


def test_notifications_list_and_mark_read(app, client):
    w = world()
    case = new_case(w)
    workflow.perform(case, "accept", w.deputy_account, {})
    workflow.perform(Case.get_by_id(case.id), "reply", w.deputy_account, {"note": "我们会尽快处理"})
    new_case(w, reporter=w.other_citizen)
    api = Api(client, w.citizen)
    body = api.get("/me/notifications").get_json()
    assert [n["title"] for n in body["notifications"]] == ["代表回复了您", "反映已受理"]
    assert body["unread"] == 2 and body["notifications"][0]["link"] == f"pages/case/detail?number={case.number}"
    newest = body["notifications"][0]["id"]
    others = [n.id for n in Notification.select().where(Notification.account != w.citizen)]
    assert api.post("/me/notifications/read", json={"ids": [newest] + others}).get_json() == {"marked": 1, "unread": 1}
    assert Notification.select().where(Notification.account != w.citizen, Notification.read_at.is_null()).count() \
        == len(others)
    assert api.post("/me/notifications/read", json={"all": True}).get_json() == {"marked": 1, "unread": 0}
    assert error(api.post("/me/notifications/read", json={"ids": "all"})) == (400, "invalid_ids")
    assert Api(client, w.deputy_account).get("/me/notifications").get_json()["unread"] == 2


def test_each_subscribe_accept_adds_one_send(app, client):
    wire(app)
    TPL_CASE, TPL_PROJ = MP_IDS["case_progress"], MP_IDS["project_progress"]
    w = world()
    api = Api(client, w.citizen)
    assert api.get("/subscriptions").get_json() == {"templates": MP_IDS, "quotas": {}}
    body = api.post("/subscriptions", json={"results": {TPL_CASE: "accept", TPL_PROJ: "reject"}}).get_json()
    assert body == {"quotas": {"case_progress": 1}, "ignored": []}
    body = api.post("/subscriptions", json={"results": {TPL_CASE: "accept", TPL_PROJ: "accept",
                                                        "TPL_OLD": "accept"}}).get_json()
    assert body == {"quotas": {"case_progress": 2, "project_progress": 1}, "ignored": ["TPL_OLD"]}
    assert SubscriptionQuota.get(SubscriptionQuota.account == w.citizen,
                                 SubscriptionQuota.template_key == "case_progress").remaining == 2
    assert Api(client, w.other_citizen).get("/subscriptions").get_json()["quotas"] == {}
    for bad in [{}, {"results": []}, {"results": {TPL_CASE: "maybe"}}, {"results": {"x" * 65: "accept"}}]:
        assert error(api.post("/subscriptions", json=bad)) == (400, "invalid_results")
    assert SubscriptionQuota.select().count() == 2
