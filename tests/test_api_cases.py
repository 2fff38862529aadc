"""Reporting and reading cases through /api/v1: uploads, submit (content check, idempotency, rate limit),
"mine", the detail as each role sees it, supplements and rating — and every kind of bad input."""
import io
import os

import pytest
from PIL import Image

from models import Case, CaseEvent, Notification, Upload
from services import workflow
from tests.api_client import Api, error, jpeg
from tests.factories import case_in, new_case, world


def report(w, **extra):
    return {"deputy": w.deputy.code, "category": "traffic", "content": "村口道路坑洼严重，雨天积水。",
            "location": "城关镇东门村村口", "latitude": 28.1, "longitude": 112.9, "contact_phone": "13800001111",
            "client_request_id": "req-1", **extra}


def sec_checks(standin):
    return [c for c in standin.calls if "msg_sec_check" in c["path"]]


# --- uploads ----------------------------------------------------------------------------------------

def test_upload_a_photo_strips_its_metadata_and_serves_it(app, client):
    w = world()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"      # Make
    exif[0x0132] = "2026:05:01 10:00:00"
    resp = Api(client, w.citizen).upload(jpeg(exif=exif.tobytes()))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["url"] == f"/uploads/{body['id']}" and body["width"] == 64
    served = client.get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert dict(Image.open(io.BytesIO(served.data)).getexif()) == {}
    assert Upload.get(Upload.token == body["id"]).account_id == w.citizen.id


def test_uploads_refuse_a_pdf_named_jpg_a_10mb_image_and_no_file(app, client):
    w = world()
    api = Api(client, w.citizen)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    assert error(api.upload(pdf, filename="photo.jpg")) == (400, "not_an_image")
    noise = Image.frombytes("RGB", (1900, 1900), os.urandom(1900 * 1900 * 3))
    big = io.BytesIO()
    noise.save(big, format="PNG", compress_level=0)
    assert big.tell() > 10 * 1024 * 1024
    assert error(api.upload(big.getvalue(), filename="big.png", mimetype="image/png")) == (413, "too_large")
    assert error(api.post("/uploads", data={}, content_type="multipart/form-data")) == (400, "missing_file")
    assert error(Api(client).upload(jpeg())) == (401, "login_required")
    assert Upload.select().count() == 0


# --- submitting -------------------------------------------------------------------------------------

def test_submit_to_a_deputy_code_files_a_case_and_tells_the_deputy(app, client, wechat_standin):
    w = world()
    api = Api(client, w.citizen)
    photo = api.upload(jpeg()).get_json()["id"]
    resp = api.post("/cases", json=report(w, photos=[photo], anonymous=True))
    assert resp.status_code == 201
    case = resp.get_json()["case"]
    assert case["state"] == "submitted" and case["state_label"] == "已提交，等待代表受理"
    assert case["deputy"]["code"] == "DEP001" and case["station"]["code"] == "TA"
    assert case["photos"] == [{"id": photo, "url": f"/uploads/{photo}"}]
    assert case["anonymous"] is True and case["contact_phone"] == "138****1111"
    assert [t["label"] for t in case["timeline"]] == ["您提交了反映"]
    assert "flag_reason" not in case and "flagged" not in case
    assert {a["action"] for a in case["allowed_actions"]} == {"supplement", "withdraw"}
    stored = Case.get(Case.number == case["number"])
    assert stored.reporter_id == w.citizen.id and stored.source == "miniprogram" and not stored.flagged
    assert Notification.select().where(Notification.account == w.deputy_account, Notification.kind == "case_new").exists()
    [check] = sec_checks(wechat_standin)
    assert check["json"]["openid"] == "openid-citizen" and check["json"]["version"] == 2
    assert "村口道路坑洼严重" in check["json"]["content"]


@pytest.mark.parametrize("target,expect", [({"station": "tb"}, ("TB", None, None)),
                                           ({"project": "XM001"}, ("TA", "DEP001", "XM001"))])
def test_submit_to_a_station_or_a_project_code(app, client, wechat_standin, target, expect):
    w = world()
    data = {k: v for k, v in report(w).items() if k != "deputy"}
    case = Api(client, w.citizen).post("/cases", json={**data, **target}).get_json()["case"]
    assert (case["station"]["code"], (case["deputy"] or {}).get("code"), (case["project"] or {}).get("code")) == expect


def test_a_replayed_request_id_returns_the_same_case(app, client, wechat_standin):
    w = world()
    api = Api(client, w.citizen)
    first = api.post("/cases", json=report(w))
    again = api.post("/cases", json=report(w, content="网络重试时内容可能不同了"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["created"] is False
    assert again.get_json()["case"]["number"] == first.get_json()["case"]["number"]
    assert Case.select().count() == 1 and len(sec_checks(wechat_standin)) == 1
    assert error(Api(client, w.other_citizen).post("/cases", json=report(w))) == (409, "request_id_taken")
    assert Case.select().count() == 1


def test_risky_content_is_refused_and_nothing_is_filed(app, client, wechat_standin):
    w = world()
    resp = Api(client, w.citizen).post("/cases", json=report(w, content="这里有违禁内容需要处理"))
    assert error(resp) == (400, "content_risky")
    assert "修改" in resp.get_json()["error"]["message"]
    assert Case.select().count() == 0 and CaseEvent.select().count() == 0


def test_content_under_review_is_accepted_and_flagged_for_staff(app, client, wechat_standin):
    w = world()
    case = Api(client, w.citizen).post("/cases", json=report(w, content="此内容待审，请工作人员看看")).get_json()["case"]
    assert "flag_reason" not in case
    stored = Case.get(Case.number == case["number"])
    assert stored.flagged and "复核" in stored.flag_reason
    staff_view = Api(client, w.staff).get(f"/cases/{case['number']}").get_json()["case"]
    assert staff_view["flagged"] is True and staff_view["flag_reason"] == stored.flag_reason


@pytest.mark.parametrize("failure", [{"status": 503}, {"errcode": -1}])
def test_when_wechat_cannot_check_the_report_is_kept_and_flagged(app, client, wechat_standin, failure):
    w = world()
    wechat_standin.inject("/wxa/msg_sec_check", times=5, **failure)
    resp = Api(client, w.citizen).post("/cases", json=report(w))
    assert resp.status_code == 201
    stored = Case.get(Case.number == resp.get_json()["case"]["number"])
    assert stored.flagged and "不可用" in stored.flag_reason


def test_a_citizen_reporting_too_often_is_asked_to_wait(app, client, wechat_standin):
    app.config["REPORT_RATE_LIMIT"] = (2, 3600)
    w = world()
    api = Api(client, w.citizen)
    for i in range(2):
        assert api.post("/cases", json=report(w, client_request_id=f"r{i}")).status_code == 201
    assert api.post("/cases", json=report(w, client_request_id="r0")).status_code == 200  # a replay is free
    resp = api.post("/cases", json=report(w, client_request_id="r2"))
    assert error(resp) == (429, "rate_limited") and "频繁" in resp.get_json()["error"]["message"]
    assert Case.select().count() == 2
    assert Api(client, w.other_citizen).post("/cases", json=report(w, client_request_id="o1")).status_code == 201


@pytest.mark.parametrize("change,expected", [
    ({"deputy": None}, (400, "missing_target")),
    ({"category": None}, (400, "invalid_choice")),
    ({"category": "<script>"}, (400, "invalid_choice")),
    ({"content": None}, (400, "missing_field")),
    ({"content": "   "}, (400, "missing_field")),
    ({"content": "太短"}, (400, "too_short")),
    ({"content": "长" * 5000}, (400, "too_long")),
    ({"deputy": "NOPE"}, (404, "deputy_not_found")),
    ({"photos": ["no-such-upload"]}, (400, "unknown_upload")),
    ({"photos": "abc"}, (400, "invalid_photos")),
    ({"contact_phone": "12345"}, (400, "invalid_phone")),
    ({"latitude": "north"}, (400, "invalid_location")),
])
def test_bad_reports_are_refused_with_a_precise_code(app, client, wechat_standin, change, expected):
    w = world()
    data = {k: v for k, v in {**report(w), **change}.items() if v is not None}
    assert error(Api(client, w.citizen).post("/cases", json=data)) == expected
    assert Case.select().count() == 0 and CaseEvent.select().count() == 0


def test_a_body_that_is_not_a_json_object_is_refused(app, client):
    w = world()
    api = Api(client, w.citizen)
    assert error(api.post("/cases", json=["not", "an", "object"])) == (400, "invalid_json")
    assert error(api.post("/cases", data="{broken", content_type="application/json")) == (400, "invalid_json")


def test_emoji_html_and_sql_come_back_exactly_as_typed(app, client, wechat_standin):
    w = world()
    content = "路灯坏了😭🔦 <script>alert('x')</script> '; DROP TABLE case; -- \" OR 1=1"
    api = Api(client, w.citizen)
    case = api.post("/cases", json=report(w, content=content, location="东门<b>村</b>🏠")).get_json()["case"]
    assert case["content"] == content and case["location"] == "东门<b>村</b>🏠"
    again = api.get(f"/cases/{case['number']}").get_json()["case"]
    assert again["content"] == content and again["title"] == content[:20]
    assert Case.select().count() == 1


def test_a_deputy_whose_term_ended_cannot_receive_reports(app, client, wechat_standin):
    import datetime as dt
    w = world()
    w.deputy.term_end = dt.date(2020, 1, 1)
    w.deputy.save()
    assert error(Api(client, w.citizen).post("/cases", json=report(w))) == (400, "deputy_term_ended")


# --- reading ----------------------------------------------------------------------------------------

def test_mine_lists_only_my_cases_newest_first(app, client):
    w = world()
    first, second = new_case(w), new_case(w, content="第二件反映的内容")
    new_case(w, reporter=w.other_citizen)
    body = Api(client, w.citizen).get("/cases/mine").get_json()
    assert [c["number"] for c in body["cases"]] == [second.number, first.number] and body["total"] == 2
    assert body["cases"][0]["state_label"] == "已提交，等待代表受理"
    assert Api(client, w.other_citizen).get("/cases/mine").get_json()["total"] == 1


def test_a_citizen_never_sees_another_citizens_case(app, client):
    w = world()
    theirs = new_case(w, reporter=w.other_citizen)
    api = Api(client, w.citizen)
    assert error(api.get(f"/cases/{theirs.number}")) == (404, "case_not_found")
    assert error(api.post(f"/cases/{theirs.number}/supplements", json={"note": "我来补充"})) == (404, "case_not_found")
    assert error(api.post(f"/cases/{theirs.number}/rating", json={"value": "satisfied"})) == (404, "case_not_found")
    assert error(Api(client, w.other_deputy_account).get(f"/cases/{theirs.number}")) == (404, "case_not_found")
    assert error(api.get("/cases/2026-999999")) == (404, "case_not_found")


def test_each_role_sees_the_reporter_as_the_rules_say(app, client):
    w = world()
    case = case_in(w, "in_progress", anonymous=True)
    deputy_view = Api(client, w.deputy_account).get(f"/cases/{case.number}").get_json()["case"]
    assert deputy_view["reporter"] == {"anonymous": True, "display_name": "张三", "phone": "138****1111"}
    assert deputy_view["contact_phone"] == "138****1111"
    staff_view = Api(client, w.staff).get(f"/cases/{case.number}").get_json()["case"]
    assert staff_view["reporter"]["phone"] == "138****1111" and staff_view["contact_phone"] == "138****1111"
    dept = Api(client, w.lead).get(f"/cases/{case.number}")
    dept_view = dept.get_json()["case"]
    assert dept_view["reporter"] == {"anonymous": True, "display_name": "匿名群众"}
    assert dept_view["contact_phone"] == ""
    assert "张三" not in dept.get_data(as_text=True) and "1111" not in dept.get_data(as_text=True)
    assert error(Api(client, w.outsider_dept).get(f"/cases/{case.number}")) == (404, "case_not_found")
    named = case_in(w, "in_progress")
    assert Api(client, w.lead).get(f"/cases/{named.number}").get_json()["case"]["reporter"]["display_name"] == "张三"


def test_the_citizen_timeline_is_worded_for_citizens_and_hides_internal_steps(app, client):
    w = world()
    case = new_case(w)
    workflow.perform(case, "opinion", w.deputy_account, {"note": "内部意见：建议交通局牵头"})
    case = workflow.perform(Case.get_by_id(case.id), "accept", w.deputy_account, {})
    body = Api(client, w.citizen).get(f"/cases/{case.number}").get_json()["case"]
    assert [t["label"] for t in body["timeline"]] == ["您提交了反映", "代表已受理您的反映"]
    assert "内部意见" not in str(body)
    deputy_body = Api(client, w.deputy_account).get(f"/cases/{case.number}").get_json()["case"]
    assert [t["label"] for t in deputy_body["timeline"]] == ["提交反映", "代表意见", "受理"]


# --- follow-ups -------------------------------------------------------------------------------------

def test_supplement_with_a_photo_and_refusals(app, client, wechat_standin):
    w = world()
    case = new_case(w)
    api = Api(client, w.citizen)
    photo = api.upload(jpeg()).get_json()["id"]
    body = api.post(f"/cases/{case.number}/supplements", json={"note": "坑有一米宽", "photos": [photo]}).get_json()
    last = body["case"]["timeline"][-1]
    assert last["label"] == "您补充了材料" and last["note"] == "坑有一米宽"
    assert error(api.post(f"/cases/{case.number}/supplements", json={})) == (400, "missing_field")
    assert error(api.post(f"/cases/{case.number}/supplements", json={"note": "违禁的补充"})) == (400, "content_risky")
    assert error(Api(client, w.deputy_account).post(f"/cases/{case.number}/supplements", json={"note": "代表补充"})) \
        == (403, "not_permitted")
    assert CaseEvent.select().where(CaseEvent.action == "supplement").count() == 1
    for _ in range(2):  # a retried request with the same client_request_id adds nothing
        assert api.post(f"/cases/{case.number}/supplements",
                        json={"note": "又补充一句", "client_request_id": "sup-1"}).status_code == 200
    assert CaseEvent.select().where(CaseEvent.action == "supplement").count() == 2


def test_rating_an_answer(app, client, wechat_standin):
    w = world()
    early = new_case(w)
    api = Api(client, w.citizen)
    assert error(api.post(f"/cases/{early.number}/rating", json={"value": "satisfied"})) == (409, "invalid_state")
    case = case_in(w, "answered")
    detail = api.get(f"/cases/{case.number}").get_json()["case"]
    assert detail["answers"][0]["answer_class_label"] == "已解决" and detail["answers"][0]["department"] == "县交通运输局"
    assert [a["action"] for a in detail["allowed_actions"]] == ["rate"]
    assert error(api.post(f"/cases/{case.number}/rating", json={"value": "great"})) == (400, "invalid_choice")
    body = api.post(f"/cases/{case.number}/rating", json={"value": "basic", "comment": "修得不错👍"}).get_json()
    assert body["case"]["state"] == "rated" and body["case"]["rating_label"] == "基本满意"
    assert error(api.post(f"/cases/{case.number}/rating", json={"value": "satisfied"})) == (409, "invalid_state")
