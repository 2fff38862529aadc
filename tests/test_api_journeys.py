"""The whole journeys, through the API as the mini-program drives it (WeChat is the stand-in)."""
from models import Case, Notification
from services import binding, workflow
from tests.api_client import Api, jpeg
from tests.factories import world
from tests.wechat_helpers import wire


def test_citizen_journey_login_report_and_rate(app, client, wechat_standin):
    wire(app)
    w = world()
    # Log in with wx.login's code.
    token = client.post("/api/v1/auth/login", json={"code": "code-wang"}).get_json()["token"]
    me = Api(client, token=token)
    # Open a deputy by the code in the scanned QR, and the form's choices.
    deputy = me.get("/deputies/DEP001").get_json()["deputy"]
    assert deputy["name"] == "周建华"
    category = me.get("/categories").get_json()["categories"][1]["code"]
    # Upload a photo, then submit.
    photo = me.upload(jpeg()).get_json()["id"]
    created = me.post("/cases", json={"deputy": deputy["code"], "category": category, "photos": [photo],
                                      "content": "小学门口车辆车速很快，建议设置减速带。", "client_request_id": "wang-1"})
    assert created.status_code == 201
    number = created.get_json()["case"]["number"]
    # Consent to the progress messages right after submitting.
    template = me.get("/subscriptions").get_json()["templates"]["case_progress"]
    assert me.post("/subscriptions", json={"results": {template: "accept"}}).get_json()["quotas"] == {"case_progress": 1}
    # See it in "mine".
    mine = me.get("/cases/mine").get_json()["cases"]
    assert [c["number"] for c in mine] == [number] and mine[0]["state_label"] == "已提交，等待代表受理"
    # The deputy, the office and the department do their part (through the workflow).
    case = Case.get(Case.number == number)
    for action, actor, data in [("accept", w.deputy_account, {}), ("assign", w.staff, {"lead": "D1", "days": 10}),
                                ("sign", w.lead, {}),
                                ("answer", w.lead, {"answer_class": "A", "text": "已在校门口设置减速带和斑马线。"})]:
        case = workflow.perform(case, action, actor, data)
    # The citizen is told, reads the answer and rates it.
    titles = [n["title"] for n in me.get("/me/notifications").get_json()["notifications"]]
    assert "反映已答复，请评价" in titles
    detail = me.get(f"/cases/{number}").get_json()["case"]
    assert detail["state_label"] == "已答复，请您评价" and detail["answers"][0]["text"].startswith("已在校门口")
    assert [a["action"] for a in detail["allowed_actions"]] == ["rate"]
    rated = me.post(f"/cases/{number}/rating", json={"value": "satisfied", "comment": "谢谢！"}).get_json()["case"]
    assert rated["state"] == "rated" and rated["rating_label"] == "满意"
    assert rated["timeline"][-1]["label"] == "您评价了办理结果"


def test_deputy_journey_inbox_accept_reply(app, client, wechat_standin):
    w = world()
    # A citizen reports to the deputy.
    citizen = Api(client, token=client.post("/api/v1/auth/login", json={"code": "code-li"}).get_json()["token"])
    number = citizen.post("/cases", json={"deputy": "DEP001", "category": "construction",
                                          "content": "西街后巷路灯坏了两个多月。"}).get_json()["case"]["number"]
    # The deputy opens the mini-program, binds it with the office's binding code and opens the inbox.
    _, code = binding.issue(w.deputy_account, w.staff)
    first = Api(client, token=client.post("/api/v1/auth/login", json={"code": "code-zhou"}).get_json()["token"])
    bound = first.post("/bind", json={"code": code}).get_json()
    assert bound["account"]["role"] == "deputy" and bound["message"] == "您已绑定为 周建华 代表"
    login = client.post("/api/v1/auth/login", json={"code": "code-zhou~2"}).get_json()  # the next wx.login
    assert login["account"]["role"] == "deputy"
    deputy = Api(client, token=login["token"])
    titles = [n["title"] for n in deputy.get("/me/notifications").get_json()["notifications"]]
    assert titles == ["微信绑定成功", "新的群众反映"]
    inbox = deputy.get("/deputy/cases?state=todo").get_json()
    assert [c["number"] for c in inbox["cases"]] == [number]
    detail = deputy.get(f"/cases/{number}").get_json()["case"]
    assert "accept" in [a["action"] for a in detail["allowed_actions"]]
    # Accept, then reply to the citizen.
    accepted = deputy.post(f"/cases/{number}/actions/accept").get_json()["case"]
    assert accepted["state"] == "accepted"
    replied = deputy.post(f"/cases/{number}/actions/reply", json={"note": "已联系城管局，本周内修复。"}).get_json()["case"]
    assert replied["timeline"][-1]["label"] == "回复群众"
    assert deputy.get("/deputy/cases?state=todo").get_json()["total"] == 0
    # The citizen sees both, in citizen words, and got the messages.
    seen = citizen.get(f"/cases/{number}").get_json()["case"]
    assert [t["label"] for t in seen["timeline"]] == ["您提交了反映", "代表已受理您的反映", "代表回复了您"]
    assert seen["timeline"][-1]["note"] == "已联系城管局，本周内修复。"
    kinds = {n.kind for n in Notification.select().where(Notification.account == Case.get(Case.number == number).reporter)}
    assert kinds == {"case_accepted", "case_replied"}
