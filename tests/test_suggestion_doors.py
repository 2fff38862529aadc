"""One 代表建议 from the deputy's draft through 二次办理 to closed, through the three doors a county uses:
the mini-program API (drafting, co-signing, 测评), the phone workbench /m/ (co-signer's confirmation, the
department's steps, the second 测评) and the console (the office's steps, a department's steps, the 一览表)."""
import io
import re

from openpyxl import load_workbook

from models import Case, CaseEvent, Notification
from services import calendar
from tests.api_client import Api, error
from tests.factories import new_case, world
from tests.test_console import post, sign_in as console_sign_in
from tests.test_mobile import sign_in as phone_sign_in

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FORM = {"title": "关于改造城关镇老旧小区供水管网的建议", "cause": "老旧小区供水管网老化", "category": "construction",
        "reasons": "城关镇多个小区供水管网建于上世纪九十年代，爆管频繁，居民反映强烈。",
        "measures": "一是摸清底数；二是分年度纳入改造计划；三是落实资金。", "session": 3}


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def phone_act(client, number, action, **data):
    """Press an action's button on the phone page (the form must be shown there)."""
    html = client.get(f"/m/suggestions/{number}").get_data(as_text=True)
    assert f'id="act-{action}"' in html, action
    case = Case.get(Case.number == number)
    return client.post(f"/m/suggestions/{number}", data={"csrf_token": csrf(html), "action": action,
                                                         "seen_state": case.state, "seen_version": case.version,
                                                         **data}, content_type="multipart/form-data")


def console_act(client, number, action, **data):
    html = client.get(f"/console/suggestions/{number}").get_data(as_text=True)
    assert f'id="act-{action}"' in html, action
    case = Case.get(Case.number == number)
    return post(client, f"/console/suggestions/{number}/act/{action}",
                {"seen_state": case.state, "seen_version": case.version, **data}, content_type="multipart/form-data")


def state(number):
    return Case.get(Case.number == number).state


def test_a_suggestion_from_draft_through_second_handling_to_closed(app, client):
    w = world()
    report = new_case(w)
    deputy_api = Api(client, w.deputy_account)

    # the lead deputy drafts in the mini-program, from a citizen's report, inviting a co-signer
    made = deputy_api.post("/suggestions", json={**FORM, "cosigners": [w.other_deputy.code],
                                                "from_reports": [report.number]})
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["suggestion"]["number"]
    assert made.get_json()["suggestion"]["state_label"] == "草稿（未提交）"
    assert error(deputy_api.post(f"/suggestions/{number}/actions/register", json={})) == (404, "unknown_action")
    assert error(Api(client, w.citizen).get(f"/suggestions/{number}")) == (404, "case_not_found")

    # the co-signer hears of it in WeChat with a link to the phone workbench, and confirms there
    invite = Notification.get(Notification.kind == "sug_invited")
    assert invite.link == f"/m/suggestions/{number}"
    other = app.test_client()
    phone_sign_in(other, w.other_deputy_account)
    assert number in other.get("/m/suggestions").get_data(as_text=True)
    assert phone_act(other, number, "cosign").status_code == 303
    signers = deputy_api.get(f"/suggestions/{number}").get_json()["suggestion"]["signers"]
    assert [(s["name"], s["confirmed"]) for s in signers] == [("周建华", True), ("吴秀英", True)]

    # submitted through the API: the office hears, the reporter is told on their own report
    body = deputy_api.post(f"/suggestions/{number}/actions/submit", json={}).get_json()["suggestion"]
    assert body["state"] == "submitted"
    told = Notification.get(Notification.kind == "sug_from_report")
    assert told.account_id == w.citizen.id and "代表已就此提出建议" in told.title

    # the office: 登记 (第1号 of the 3rd session), 交办 in the console
    console_sign_in(client, w.staff)
    listing = client.get("/console/suggestions?session=3").get_data(as_text=True)
    assert number in listing and 'id="fig-completion"' in listing
    assert console_act(client, number, "register").status_code == 302
    page = client.get(f"/console/suggestions/{number}").get_data(as_text=True)
    assert "第3次会议第1号" in page
    assert console_act(client, number, "assign", lead="D1", assist="D2").status_code == 302
    assert state(number) == "assigned"
    sheet = load_workbook(io.BytesIO(client.get("/console/suggestions/list.xlsx?session=3").data)).active
    assert "建议一览表" in sheet["A1"].value and sheet["A3"].value == "第1号" and sheet["B3"].value == FORM["title"]

    # the department on the phone: 签收, 面商, then the answer with the signed letter (B, with a promise)
    dept = app.test_client()
    phone_sign_in(dept, w.lead)
    assert phone_act(dept, number, "sign").status_code == 303
    html = dept.get(f"/m/suggestions/{number}").get_data(as_text=True)
    assert 'id="act-answer"' not in html  # 面商 first
    assert phone_act(dept, number, "consult", how="visit", when=calendar.today().isoformat(),
                     who="交通运输局副局长、周建华代表").status_code == 303
    refused = phone_act(dept, number, "answer", answer_class="E", text="已列入计划。")
    assert refused.status_code == 400 and "答复类别只能是A、B、C、D类之一" in refused.get_data(as_text=True)
    assert phone_act(dept, number, "answer", answer_class="B", text="已列入2027年改造计划，详见答复函。",
                     promise="2027年6月底前完成一期改造", promise_due="2027-06-30",
                     letter=(io.BytesIO(PDF), "答复函.pdf")).status_code == 303
    assert state(number) == "answered"

    # 测评 through the API: the lead deputy is not satisfied
    body = deputy_api.post(f"/suggestions/{number}/actions/evaluate",
                           json={"contact": "basic", "attitude": "satisfied", "result": "unsatisfied",
                                 "comment": "资金没有落实"}).get_json()["suggestion"]
    assert body["state"] == "rated" and body["evaluations"][0]["result_label"] == "不满意"
    assert error(deputy_api.post(f"/suggestions/{number}/actions/evaluate",
                                 json={"contact": "basic", "attitude": "satisfied", "result": "basic"})) == \
        (409, "already_evaluated")

    # the office reopens in the console (重新办理); the department answers again from the console
    assert console_act(client, number, "reopen").status_code == 302
    assert Case.get(Case.number == number).round == 2
    console_sign_in(client, w.lead)
    assert console_act(client, number, "sign").status_code == 302
    assert console_act(client, number, "consult", how="site", when=calendar.today().isoformat(),
                       who="交通运输局局长、周建华代表").status_code == 302
    assert console_act(client, number, "answer", answer_class="A", text="资金已落实，一期改造已开工。",
                       letter=(io.BytesIO(PDF), "答复函.pdf")).status_code == 302

    # the second 测评 on the phone, then the office closes
    lead_phone = app.test_client()
    phone_sign_in(lead_phone, w.deputy_account)
    assert phone_act(lead_phone, number, "evaluate", contact="satisfied", attitude="satisfied",
                     result="satisfied").status_code == 303
    console_sign_in(client, w.staff)
    assert console_act(client, number, "close").status_code == 302
    assert state(number) == "closed"
    actions = [e.action for e in CaseEvent.select().join(Case).where(Case.number == number).order_by(CaseEvent.id)]
    assert actions == ["draft", "cosign", "submit", "register", "assign", "sign", "consult", "answer", "evaluate",
                       "reopen", "sign", "consult", "answer", "evaluate", "close"]
    figures = client.get("/console/suggestions").get_data(as_text=True)
    assert re.search(r'id="fig-satisfaction">100\.0%', figures) and re.search(r'id="fig-success">100\.0%', figures)
    stats_book = load_workbook(io.BytesIO(client.get("/console/suggestions/figures.xlsx").data))
    assert stats_book.sheetnames == ["总体", "按承办单位", "按领衔代表", "按会议", "按类别"]
    queue = load_workbook(io.BytesIO(client.get("/console/cases/export.xlsx?kind=suggestion").data)).active
    cells = [c.value for c in queue[3]]
    assert number in cells and "已办结" in cells and "A 已解决或基本解决" in cells


def test_staff_draft_on_a_deputys_behalf_in_the_console_and_drafts_stay_private(app, client):
    w = world()
    console_sign_in(client, w.staff)
    form = client.get("/console/suggestions/new").get_data(as_text=True)
    assert 'name="lead_deputy"' in form
    refused = post(client, "/console/suggestions/new", {**FORM, "lead_deputy": w.deputy.code, "measures": "短"},
                   content_type="multipart/form-data")
    assert refused.status_code == 400 and FORM["reasons"] in refused.get_data(as_text=True)
    done = post(client, "/console/suggestions/new", {**FORM, "lead_deputy": w.deputy.code},
                content_type="multipart/form-data")
    assert done.status_code == 302
    case = Case.get(Case.kind == "suggestion")
    assert case.entered_by_id == w.staff.id and case.state == "draft"
    other = app.test_client()
    console_sign_in(other, w.town_staff)
    assert other.get(f"/console/suggestions/{case.number}").status_code == 404  # a draft is private
    assert case.number not in other.get("/console/suggestions").get_data(as_text=True)
    assert console_act(client, case.number, "submit").status_code == 302
    assert other.get(f"/console/suggestions/{case.number}").status_code == 200
    # the report queue lists reports only; the suggestion is there under its kind, and its page redirects
    assert "共 0 件" in client.get("/console/cases").get_data(as_text=True)
    listed = client.get("/console/cases?kind=suggestion").get_data(as_text=True)
    assert "共 1 件" in listed and f">{case.number}<" in listed
    assert client.get(f"/console/cases/{case.number}").headers["Location"].endswith(f"/suggestions/{case.number}")


def test_a_deputy_drafts_from_a_report_on_the_phone_and_edits_one_field(app, client):
    w = world()
    report = new_case(w)
    phone_sign_in(client, w.deputy_account)
    html = client.get(f"/m/cases/{report.number}").get_data(as_text=True)
    assert 'id="to-suggestion"' in html
    form = client.get(f"/m/suggestions/new?from={report.number}").get_data(as_text=True)
    assert f'value="{report.number}"' in form
    refused = client.post("/m/suggestions/new", data={"csrf_token": csrf(form), **FORM, "measures": "短",
                                                      "from_reports": report.number}, content_type="multipart/form-data")
    assert refused.status_code == 400 and "建议至少10个字" in refused.get_data(as_text=True)
    made = client.post("/m/suggestions/new", data={"csrf_token": csrf(form), **FORM, "cosigners": w.other_deputy.code,
                                                   "from_reports": report.number}, content_type="multipart/form-data")
    assert made.status_code == 303
    case = Case.get(Case.kind == "suggestion")
    page = client.get(f"/m/suggestions/{case.number}").get_data(as_text=True)
    assert FORM["measures"] in page and "吴秀英（待确认）" in page
    # 修改草稿 shows the draft's values: changing the title keeps the rest and the invited co-signer
    assert re.search(r'<option value="DEP002" selected>', page)
    fields = dict(re.findall(r'name="(title|cause|reasons|measures|category|session)"[^>]*?(?:value="([^"]*)")?>',
                             page))
    assert fields["cause"] == FORM["cause"]
    edited = phone_act(client, case.number, "edit_draft", title="关于城关镇供水管网改造的建议", cause=FORM["cause"],
                       reasons=FORM["reasons"], measures=FORM["measures"], category="construction", session="3",
                       cosigners=w.other_deputy.code)
    assert edited.status_code == 303
    fresh = Case.get_by_id(case.id)
    assert fresh.title == "关于城关镇供水管网改造的建议" and "吴秀英（待确认）" in client.get(
        f"/m/suggestions/{case.number}").get_data(as_text=True)
