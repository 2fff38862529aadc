"""The H5 case page as its reporter uses it, from a plain phone browser (test client, both databases):
the answer, the rating and the second round, supplements, withdrawal, declines, claims, the SMS-code lookup."""
import io
import re

import pytest
from freezegun import freeze_time
from itsdangerous import URLSafeTimedSerializer
from PIL import Image

from models import Assignment, Case, CaseEvent, Notification, Rating, Upload
from services import workflow
from services.uploads import save_image
from tests.factories import world
from tests.test_h5 import case_number, report, token_of

PHONE = "13912345678"


@pytest.fixture
def w(app):
    return world()


def jpeg(color=(120, 80, 20)):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    out.seek(0)
    return out


def filed(client, **fields):
    """A report through /d/DEP001 from this browser; returns the case."""
    return Case.get(Case.number == case_number(report(client, "/d/DEP001", contact_phone=PHONE, **fields)))


def move(w, case, *steps):
    actors = {"accept": w.deputy_account, "decline": w.deputy_account, "assign": w.staff, "sign": w.lead,
              "answer": w.lead}
    data = {"assign": {"lead": "D1", "days": 5}, "decline": {"reason": "out_of_scope"},
            "answer": {"answer_class": "B", "text": "已列入明年村道维修计划，预计三月施工。"}}
    for step in steps:
        case = workflow.perform(Case.get_by_id(case.id), step, actors[step], data.get(step, {}))
    return Case.get_by_id(case.id)


def post(client, number, action, **fields):
    page = client.get("/lookup")  # any page with a form gives this browser's CSRF token
    return client.post(f"/c/{number}/{action}", data={"csrf_token": token_of(page), **fields},
                       content_type="multipart/form-data")


def html(response):
    return response.get_data(as_text=True)


def test_reporter_sees_the_promise_then_the_answer_and_rates_it_once(client, w):
    case = filed(client)
    case = move(w, case, "accept", "assign", "sign")
    page = html(client.get(f"/c/{case.number}"))
    assert f"承办单位应在 {case.deadline.month}月{case.deadline.day}日 前答复" in page
    assert 'id="rate"' not in page
    attachment = save_image(jpeg((10, 200, 10)), w.lead).token
    workflow.perform(case, "answer", w.lead, {"answer_class": "B", "text": "已列入明年村道维修计划，预计三月施工。",
                                               "attachments": [attachment]})
    page = html(client.get(f"/c/{case.number}"))
    answer = page[page.index('id="answer-1"'):]
    assert "县交通运输局" in answer and "列入年度计划解决" in answer and "预计三月施工" in answer
    assert f"/uploads/{attachment}" in answer and "答复时间" in answer
    assert 'id="rate"' in page and "满意" in page and "基本满意" in page and "不满意" in page
    done = post(client, case.number, "rate", value="satisfied", comment="谢谢")
    assert done.status_code == 303
    page = html(client.get(done.headers["Location"]))
    assert "感谢您的评价" in page and "您的评价" in page and "谢谢" in page and 'id="rate"' not in page
    assert Case.get_by_id(case.id).state == "rated"
    again = post(client, case.number, "rate", value="unsatisfied", comment="再看看")
    assert again.status_code == 409 and "不能“评价”" in html(again)
    assert Rating.select().count() == 1 and Case.get_by_id(case.id).round == 1


def test_unsatisfied_asks_why_then_opens_the_second_round_until_the_last(client, w):
    case = move(w, filed(client), "accept", "assign", "sign", "answer")
    events = CaseEvent.select().count()
    refused = post(client, case.number, "rate", value="unsatisfied", comment="")
    assert refused.status_code == 400 and "请写一写哪里不满意" in html(refused)
    assert Rating.select().count() == 0 and CaseEvent.select().count() == events
    assert Case.get_by_id(case.id).state == "answered"
    post(client, case.number, "rate", value="unsatisfied", comment="路面还是有坑")
    fresh = Case.get_by_id(case.id)
    assert (fresh.state, fresh.round, fresh.rating) == ("assigned", 2, "")
    assert Assignment.select().where(Assignment.case == case.id, Assignment.round == 2,
                                     Assignment.active == True).count() == 1  # noqa: E712
    kinds = {n.kind for n in Notification.select().where(Notification.case == case.id)}
    assert {"case_reopened", "dept_reopened"} <= kinds
    page = html(client.get(f"/c/{case.number}"))
    assert "第2轮办理" in page and "案件进入二次办理" in page
    # the second answer, rated 不满意 again: the last round allowed, so it stays rated for the office
    move(w, fresh, "sign", "answer")
    post(client, case.number, "rate", value="unsatisfied", comment="还是没修好")
    last = Case.get_by_id(case.id)
    assert (last.state, last.round, last.rating) == ("rated", 2, "unsatisfied")
    assert Assignment.select().where(Assignment.case == case.id, Assignment.round == 3).count() == 0
    page = html(client.get(f"/c/{case.number}"))
    assert "已达到最多办理轮次" in page and "第1轮办理答复" in page and "第2轮办理答复" in page


def test_withdraw_before_acceptance_and_nothing_after(client, w):
    case = filed(client)
    assert 'id="withdraw"' in html(client.get(f"/c/{case.number}"))
    assert post(client, case.number, "withdraw", note="已经自己解决了").status_code == 303
    fresh = Case.get_by_id(case.id)
    assert fresh.state == "withdrawn"
    told = Notification.get(Notification.case == case.id, Notification.kind == "deputy_withdrawn")
    assert told.account_id == w.deputy_account.id and "无需再受理" in told.body
    assert "您已撤回" in html(client.get(f"/c/{case.number}"))
    rated = post(client, case.number, "rate", value="satisfied")
    assert rated.status_code == 409 and "不能“评价”" in html(rated) and Rating.select().count() == 0
    other = move(w, filed(client, content="路灯坏了两个月，晚上很黑。"), "accept")
    late = post(client, other.number, "withdraw")
    assert late.status_code == 409 and "不能“撤回”" in html(late) and Case.get_by_id(other.id).state == "accepted"


def test_supplement_with_a_photo(client, w):
    case = filed(client)
    response = post(client, case.number, "supplement", note="坑在村口第二根电线杆旁边",
                    photos=[(jpeg(), "hole.jpg")])
    assert response.status_code == 303
    event = CaseEvent.get(CaseEvent.case == case.id, CaseEvent.action == "supplement")
    assert event.note == "坑在村口第二根电线杆旁边" and len(event.data["photos"]) == 1
    assert Upload.select().where(Upload.token == event.data["photos"][0]).exists()
    assert "您补充了材料：坑在村口第二根电线杆旁边" in html(client.get(f"/c/{case.number}"))
    empty = post(client, case.number, "supplement", note="")
    assert empty.status_code == 400 and "请填写补充内容或选择照片" in html(empty)


def test_a_declined_citizen_learns_why_and_where_to_go(client, w):
    case = move(w, filed(client), "decline")
    page = html(client.get(f"/c/{case.number}"))
    section = page[page.index('id="declined"'):]
    assert "不属于人大代表工作范围" in section and "12345" in section
    assert "城关镇联络站" in section and "周二 9:00-11:30" in section


def test_the_claim_opens_the_case_in_a_later_session_and_a_bad_claim_is_named(app, client, w):
    case = filed(client)
    claim = client.get_cookie("h5_claim")
    assert claim is not None and claim.http_only and claim.max_age == 365 * 86400
    later = app.test_client()  # the session is gone (browser restarted), the claim is kept
    later.set_cookie("h5_claim", claim.value)
    assert later.get(f"/c/{case.number}").status_code == 200
    forged = app.test_client()
    forged.set_cookie("h5_claim", URLSafeTimedSerializer("another-key", salt="h5-claim").dumps(case.reporter_id))
    response = forged.get(f"/c/{case.number}")
    assert response.status_code == 403 and "查看凭证无效" in html(response) and case.content not in html(response)
    assert post(forged, case.number, "withdraw").status_code == 403
    with freeze_time("2025-01-01"):
        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="h5-claim").dumps(case.reporter_id)
    expired = app.test_client()
    expired.set_cookie("h5_claim", old)
    response = expired.get(f"/c/{case.number}")
    assert response.status_code == 403 and "查看凭证已过期" in html(response)
    assert Case.get_by_id(case.id).state == "submitted"


def lookup(client, step, **fields):
    page = client.get("/lookup")
    return client.post("/lookup", data={"csrf_token": token_of(page), "step": step, **fields})


def test_any_browser_proves_the_phone_with_an_sms_code_and_rates(app, client, w, sms_standin):
    case = move(w, filed(client), "accept", "assign", "sign", "answer")
    phone = app.test_client()  # a different phone browser
    assert phone.get(f"/c/{case.number}").status_code == 404
    sent = lookup(phone, "send", phone="139 1234 5678")
    assert sent.status_code == 200 and "验证码已经发到这个号码" in html(sent)
    texts = sms_standin.sent(PHONE)
    assert len(texts) == 1 and texts[0]["text"].startswith("【代表连心】您的验证码为")
    code = sms_standin.last_code(PHONE)
    wrong = lookup(phone, "verify", phone=PHONE, code=f"{(int(code) + 1) % 10 ** 6:06d}")
    assert wrong.status_code == 400 and "验证码不正确，还可以再试4次" in html(wrong)
    done = lookup(phone, "verify", phone=PHONE, code=code)
    assert done.status_code == 303
    listing = html(phone.get("/lookup"))
    assert case.number in listing and "139****5678" in listing
    assert post(phone, case.number, "rate", value="basic").status_code == 303
    assert Case.get_by_id(case.id).rating == "basic"
    used = lookup(app.test_client(), "verify", phone=PHONE, code=code)  # a code works once
    assert used.status_code == 400 and "验证码已失效" in html(used)


def test_code_guessing_locks_after_five_wrong_codes(app, client, w, sms_standin):
    filed(client)
    guesser = app.test_client()
    lookup(guesser, "send", phone=PHONE)
    code = sms_standin.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for left in (4, 3, 2, 1):
        assert f"还可以再试{left}次" in html(lookup(guesser, "verify", phone=PHONE, code=wrong))
    assert "已输错5次" in html(lookup(guesser, "verify", phone=PHONE, code=wrong))
    late = lookup(guesser, "verify", phone=PHONE, code=code)
    assert late.status_code == 400 and "验证码已失效" in html(late)
    assert case_number_list(guesser) == []
    again = lookup(guesser, "send", phone=PHONE)  # asking again within the minute
    assert again.status_code == 429 and "1分钟后" in html(again) and len(sms_standin.sent(PHONE)) == 1


def case_number_list(client):
    return re.findall(r'href="/c/([\d-]+)"', html(client.get("/lookup")))


def test_a_number_without_reports_gets_the_same_answer_and_no_sms(app, client, w, sms_standin):
    filed(client)
    stranger = app.test_client()
    response = lookup(stranger, "send", phone="13700000000")
    assert response.status_code == 200 and "如果这个号码留在过反映上" in html(response)
    assert sms_standin.sent() == []
    bad = lookup(stranger, "send", phone="12345")
    assert bad.status_code == 400 and "请填写正确的11位手机号" in html(bad)
    refused = lookup(stranger, "verify", phone="13700000000", code="123456")
    assert refused.status_code == 400 and "验证码已失效" in html(refused) and case_number_list(stranger) == []


def test_home_page_case_number_box(client, w):
    case = filed(client)
    short = case.number.split("-")[0] + "-" + str(int(case.number.split("-")[1]))
    response = client.get(f"/go?number={short}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{case.number}")
    wrong = client.get("/go?number=2026-abc")
    assert wrong.status_code == 404 and "没有找到案件号 2026-abc" in html(wrong) and 'id="my-case"' in html(wrong)
    assert 'href="/lookup"' in html(client.get("/"))


def test_large_text_mode_is_one_tap_and_remembered(client, w):
    assert 'class="large"' not in html(client.get("/d/DEP001"))
    response = client.get("/large?on=1&next=/d/DEP001")
    assert response.status_code == 302 and response.headers["Location"].endswith("/d/DEP001")
    page = html(client.get("/d/DEP001"))
    assert '<body class="large">' in page and 'id="large-off"' in page
    assert client.get("/large?on=1&next=//evil.example").headers["Location"].endswith("/")
    client.get("/large?on=0")
    assert 'class="large"' not in html(client.get("/"))


def test_inside_wechat_one_citizen_across_h5_official_account_and_mini_program(client, w, wechat_standin):
    from models import Account
    from tests.wechat_helpers import WECHAT_UA, post_plain, read_reply, text_xml, web_oauth
    mini = Account.create(role="citizen", openid="openid-unionwang", unionid="unionid-unionwang")
    web_oauth(client, "/d/DEP001", "unionwang")
    case = Case.get(Case.number == case_number(report(client, "/d/DEP001", headers={"User-Agent": WECHAT_UA})))
    assert case.reporter_id == mini.id and Account.get_by_id(mini.id).oa_openid == "oa-unionwang"
    chat = lambda text: read_reply(post_plain(client, text_xml(text, openid="oa-unionwang"))  # noqa: E731
                                   .get_data(as_text=True)).content
    assert "状态：已提交，等待代表受理" in chat(f"查询 {case.number}")
    assert case.number in chat("我的")
    assert Account.select().where(Account.role == "citizen").count() == 3  # the world's two and this one


def test_a_merged_duplicate_links_to_its_original_which_its_reporter_may_follow(app, client, w):
    from tests.factories import new_case
    original = new_case(w, content="村口道路坑洼严重，雨天积水，已经很久了。")
    duplicate = filed(client)
    workflow.perform(duplicate, "merge", w.staff, {"original": original.number, "reason": "重复反映"})
    page = html(client.get(f"/c/{duplicate.number}"))
    assert f'href="/c/{original.number}"' in page and "合并办理" in page
    followed = client.get(f"/c/{original.number}")
    assert followed.status_code == 200 and "已合并在这里一起办理" in html(followed)
    assert 'id="withdraw"' not in html(followed) and 'id="supplement"' not in html(followed)  # read-only
    assert post(client, original.number, "withdraw").status_code == 404  # acting is for its own reporter
    assert Case.get_by_id(original.id).state == "submitted"
    assert app.test_client().get(f"/c/{original.number}").status_code == 404
