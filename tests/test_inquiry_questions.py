"""问政 questions — a kind of matter ("inquiry") on the case workflow engine: collected in the window, screened into
the two lists, answered, committed, rectified in public, inspected, finished; 测评 through the ballot engine with
the < 80 % line opening 二次整改 (at the boundary 79.9 % / 80 %); public pages free of personal data; the Excel
问题清单. Fresh database, no seed."""
import datetime as dt
import io
import re
import secrets

import openpyxl
import pytest
from freezegun import freeze_time
from PIL import Image

from models import Case, CaseEvent, InquiryEvent, InquiryQuestion, Notification, Paper, Participation, utcnow
from services import ballots, calendar, inquiries, inquiry_questions, uploads, workflow
from services.errors import Conflict, Forbidden, InvalidInput
from tests.factories import world
from tests.test_console import sign_in
from tests.test_inquiries import event_form, local


@pytest.fixture
def w(app):
    return world()


def photo():
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buf, "JPEG")
    return uploads.save_image(buf.getvalue()).token


def collecting(w, **extra):
    """An online inquiry in 动员部署, collecting questions now."""
    found = inquiries.save(w.staff, event_form(w, **extra))
    return inquiries.advance(w.staff, found, "preparation")


def close_collection(found):
    """Time passes: the collection window is over."""
    inquiries.Inquiry.update(collect_closes=utcnow() - dt.timedelta(minutes=1),
                             collect_opens=utcnow() - dt.timedelta(days=2)).where(
        inquiries.Inquiry.id == found.id).execute()
    return inquiries.Inquiry.get_by_id(found.id)


def ask(w, found, content="城区老旧小区停车位严重不足，晚上车辆乱停乱放。", who=None):
    return inquiry_questions.submit(who or w.citizen, found, {"content": content, "contact_phone": "13800001111"})


def act(case, action, who, **data):
    return workflow.perform(Case.get_by_id(case.id), action, who, data)


def sorted_out(w):
    """An inquiry in 活动组织 with two listed questions, one to each department."""
    found = collecting(w)
    first, second = ask(w, found), ask(w, found, "学校门口上下学时段交通拥堵，缺少交警疏导。")
    found = inquiries.advance(w.staff, close_collection(found), "mobilisation")
    objects = inquiries.objects(found)
    for case, target in ((first, objects[0]), (second, objects[1])):
        act(case, "list", w.staff, section="question")
        act(case, "assign", w.staff, target=str(target.id))
    return inquiries.advance(w.staff, found, "sorting"), first, second


def open_now():
    """A 测评 window open from a minute ago for an hour (as the console form sends it)."""
    return {"opens_at": local(utcnow() - dt.timedelta(minutes=1)), "closes_at": local(utcnow() + dt.timedelta(hours=1))}


# --- collection and screening -------------------------------------------------------------------------

def test_questions_are_taken_only_in_the_window_and_only_from_citizens_and_the_deputies_taking_part(w):
    found = inquiries.save(w.staff, event_form(w))
    with pytest.raises(Conflict) as err:
        ask(w, found)
    assert err.value.message == "问题征集尚未开始"
    found = inquiries.advance(w.staff, found, "preparation")
    case = ask(w, found)
    assert (case.kind, case.state, case.number) == ("inquiry", "submitted", f"{calendar.today().year}-WZ0001")
    assert InquiryQuestion.get(InquiryQuestion.case == case).section == "question"
    deputy_case = ask(w, found, "村级道路缺少路灯，夜间出行不安全。", who=w.deputy_account)
    assert deputy_case.reporter_id == w.deputy_account.id
    outsider = workflow.Account.create(role="deputy", username="d9", deputy=workflow.Deputy.create(
        code="DEP009", name="外人", level="county"))
    with pytest.raises(Forbidden):
        ask(w, found, who=outsider)
    with pytest.raises(Forbidden):
        ask(w, found, who=w.lead)
    with pytest.raises(InvalidInput):
        ask(w, found, "短")
    found = close_collection(found)
    with pytest.raises(Conflict) as err:
        ask(w, found)
    assert err.value.message == "问题征集已经结束"
    # staff still enter a difficulty the government raises (困难清单) while the list is being made
    difficulty = inquiry_questions.submit(w.staff, found, {"content": "老旧小区改造资金缺口较大，需县级财政支持。",
                                                           "section": "difficulty"}, source="console")
    assert InquiryQuestion.get(InquiryQuestion.case == difficulty).section == "difficulty"


def test_screening_lists_merges_and_declines_and_the_stage_waits_for_all_of_it(w):
    found = collecting(w)
    first, same, off_topic = ask(w, found), ask(w, found, "小区停车难，车位太少。"), ask(w, found, "想咨询离婚诉讼。")
    assert inquiries.blockers(found)[0].startswith("问题征集到")
    found = inquiries.advance(w.staff, close_collection(found), "mobilisation")
    assert inquiries.blockers(found) == ["还有 3 个问题没有筛选（列入清单、合并或不予采纳）", "问题清单还是空的"]
    act(first, "list", w.staff, section="question")
    with pytest.raises(InvalidInput):
        act(same, "merge", w.staff, original="2026-000001")  # not a question of this inquiry
    act(same, "merge", w.staff, original=first.number)
    with pytest.raises(InvalidInput):
        act(off_topic, "decline", w.staff, reason="other")  # "other" needs its explanation
    act(off_topic, "decline", w.staff, reason="judicial")
    assert inquiries.blockers(found) == ["还有 1 个清单问题没有交给被问政对象"]
    with pytest.raises(Forbidden):
        act(first, "assign", w.deputy_account, target=str(inquiries.objects(found)[0].id))
    act(first, "assign", w.staff, target=str(inquiries.objects(found)[2].id))  # the township official
    assert inquiries.blockers(found) == []
    assert [(l.seq, c.number) for l, c in inquiry_questions.lists(found)["question"]] == [(1, first.number)]
    # the asker of the merged question hears of the one it joined; the declined one hears why
    told = {n.kind for n in Notification.select().where(Notification.account == w.citizen)}
    assert told == {"inquiry_progress"}
    bodies = [n.body for n in Notification.select().where(Notification.account == w.citizen)]
    assert any("未列入问题清单" in b and "诉讼" in b for b in bodies)


# --- the event, 整改 and 测评 ------------------------------------------------------------------------------

def test_answer_commitment_progress_inspection_and_completion_each_need_what_they_say(w):
    found, first, second = sorted_out(w)
    assert found.stage == "event"
    assert inquiries.blockers(found) == ["还有 2 个问题没有记录现场答复", "还没有举行现场满意度测评"]
    act(first, "answer", w.lead, text="我局将在三个月内新增公共停车位500个。")  # the object's own department
    with pytest.raises(Forbidden):
        act(second, "answer", w.lead, text="不是我们的问题，但我们来答。")  # another department's question
    act(second, "answer", w.staff, text="县住建局：已纳入明年城市更新计划。")
    tomorrow = (calendar.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as err:
        act(first, "commit", w.lead, commitment="三个月内完成", plan="新建停车场两处", deadline="2020-01-01")
    assert err.value.message == "整改时限不能早于今天"
    act(first, "commit", w.lead, commitment="三个月内新增车位", plan="新建停车场两处，施划路边车位", deadline=tomorrow)
    act(second, "commit", w.staff, commitment="年底前完成", plan="增设护学岗，错峰放学", deadline=tomorrow)
    with pytest.raises(InvalidInput) as err:
        act(first, "supervise", w.deputy_account, note="到现场看了")
    assert err.value.code == "photos_required"
    act(first, "supervise", w.deputy_account, note="代表到现场查看，新车位正在施划。", photos=[photo()])
    with pytest.raises(Forbidden):
        act(first, "supervise", w.other_town_staff, note="不在辖区", photos=[photo()])
    act(first, "progress", w.lead, note="第一处停车场已开工。")
    with freeze_time(dt.datetime.utcnow() + dt.timedelta(days=3)):  # past the deadline: the delay must be explained
        with pytest.raises(InvalidInput) as err:
            act(first, "progress", w.lead, note="第二处停车场正在选址。")
        assert err.value.message == "请填写延期原因"
        act(first, "progress", w.lead, note="第二处停车场正在选址。", delay_reason="用地手续尚在审批")
        assert inquiry_questions.overdue(Case.get_by_id(first.id))
    with pytest.raises(InvalidInput) as err:
        act(first, "complete", w.lead, note="已完成")
    assert err.value.code == "evidence_required"
    act(first, "complete", w.lead, note="两处停车场建成，新增车位520个。", photos=[photo()])
    assert Case.get_by_id(first.id).state == "rectified"
    steps = [s["action"] for s in inquiry_questions.public_steps(Case.get_by_id(first.id))]
    # (the late update was written three days ahead, under freeze_time, so it is listed last)
    assert steps == ["list", "assign", "answer", "commit", "supervise", "progress", "complete", "progress"]


def _to_review(w):
    """An inquiry in 工作评议 whose two questions are rectified, its 现场测评 held."""
    found, first, second = sorted_out(w)
    tomorrow = (calendar.today() + dt.timedelta(days=1)).isoformat()
    for case in (first, second):
        act(case, "answer", w.staff, text="现场答复：马上整改。")
        act(case, "commit", w.staff, commitment="按期整改", plan="制定整改方案并落实", deadline=tomorrow)
    window = open_now()
    with pytest.raises(InvalidInput):  # the public rates only a 网络问政 — this one is, but not for "event" twice
        inquiries.start_rating(w.staff, found, {**window, "purpose": "nope"})
    ballot = inquiries.start_rating(w.staff, found, {**window, "purpose": "event"})
    assert ballot.kind == "inquiry" and ballot.rules["pass_rate"] == inquiries.pass_rate()
    for account in (w.deputy_account, w.other_deputy_account):
        ballots.cast(ballot, {str(i.id): "good" for i in ballots.items(ballot)}, deputy=account.deputy)
    ballots.close(w.staff, ballot)
    found = inquiries.advance(w.staff, found, "event")
    with pytest.raises(Conflict) as err:
        inquiries.start_rating(w.staff, found, {**window, "purpose": "review"})
    assert err.value.code == "not_rectified"
    for case in (first, second):
        act(case, "complete", w.staff, note="整改完成", photos=[photo()])
    return found, first, second, window


def test_under_80_percent_after_rectification_opens_a_second_round_at_the_boundary(w):
    found, first, second, window = _to_review(w)
    ballot = inquiries.start_rating(w.staff, found, {**window, "purpose": "review", "electorate": "public"})
    a, b, c = ballots.items(ballot)  # 县交通运输局 (first), 县住建局 (second), the township official (no questions)
    # 1,000 public papers: a 799 satisfied + 201 not = 79.9 %; b 800 + 200 = 80.0 %; c all satisfied
    Paper.insert_many([{"id": secrets.token_hex(8), "ballot": ballot.id,
                        "marks": {str(a.id): "fair" if n < 799 else "poor", str(b.id): "good" if n < 800 else "poor",
                                  str(c.id): "good"}} for n in range(1000)]).execute()
    Participation.insert_many([{"ballot": ballot.id, "voter": f"v{n}"} for n in range(1000)]).execute()
    ballots.close(w.staff, ballot)
    rates = {row["name"]: (row["rate"], row["flagged"]) for row in ballots.result(ballot).data["items"]}
    assert rates["县交通运输局"] == (0.799, True) and rates["县住建局"] == (0.8, False)
    first, second = Case.get_by_id(first.id), Case.get_by_id(second.id)
    assert (first.state, first.round) == ("rectifying", 2) and first.deadline > calendar.today()
    assert (second.state, second.round) == ("rectified", 1)
    act(first, "progress", w.lead, note="二次整改：增设临时停车点。")  # the department works the new round
    news = InquiryEvent.get(InquiryEvent.action == "second_round")
    assert news.public and "县交通运输局满意率 79.9%，低于 80.0%，已启动二次整改（1 个问题）" == news.note
    asker = Notification.select().where(Notification.account == w.citizen, Notification.kind == "inquiry_progress") \
        .order_by(Notification.id.desc()).first()
    assert "二次整改" in asker.body
    assert inquiries.blockers(inquiries.Inquiry.get_by_id(found.id)) == ["还有 1 个问题没有整改完成"]


def test_the_line_is_a_setting(w, app):
    app.config["INQUIRY_PASS_RATE"] = 0.9
    found, first, second, window = _to_review(w)
    ballot = inquiries.start_rating(w.staff, found, {**window, "purpose": "review"})
    assert ballot.rules["pass_rate"] == 0.9
    marks = {str(i.id): ("good", "good", "good") for i in ballots.items(ballot)}
    for n, account in enumerate((w.deputy_account, w.other_deputy_account)):
        ballots.cast(ballot, {i: ("good", "poor")[n] if i == str(ballots.items(ballot)[1].id) else "good"
                              for i in marks}, deputy=account.deputy)
    ballots.close(w.staff, ballot)
    assert Case.get_by_id(second.id).state == "rectifying" and Case.get_by_id(first.id).state == "rectified"


def test_an_event_is_done_when_every_question_is_rectified_and_rated_and_accountability_is_published(w):
    found, first, second, window = _to_review(w)
    ballot = inquiries.start_rating(w.staff, found, {**window, "purpose": "review"})
    assert inquiries.blockers(found) == ["还有测评没有结束"]
    for account in (w.deputy_account, w.other_deputy_account):
        ballots.cast(ballot, {str(i.id): "good" for i in ballots.items(ballot)}, deputy=account.deputy)
    ballots.close(w.staff, ballot)
    ballots.publish(w.staff, ballot)
    inquiries.note_accountability(w.staff, found, {"note": "对整改迟缓的单位负责人进行约谈。"})
    with pytest.raises(InvalidInput):
        inquiries.note_accountability(w.staff, found, {"note": ""})
    done = inquiries.advance(w.staff, found, "review")
    assert done.stage == "done" and {Case.get_by_id(c.id).state for c in (first, second)} == {"closed"}
    assert "追责问责：对整改迟缓的单位负责人进行约谈。" in [e.note for e in inquiries.public_record(done)]


# --- public pages and the export -------------------------------------------------------------------

def test_public_pages_show_the_lists_progress_and_results_but_nobody_who_asked(w, client):
    found, first, second, window = _to_review(w)
    workflow.Account.update(display_name="张三").where(workflow.Account.id == w.citizen.id).execute()
    pages = [client.get(f"/w/{found.code}"), client.get(f"/w/{found.code}/q/{first.number}"),
             client.get(f"/w/{found.code}/live")]
    for page in pages:
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        for secret in ("张三", "13800001111", "openid-citizen", w.staff.username, w.lead.username):
            assert secret not in body, secret
    event_page, question_page, live = (p.get_data(as_text=True) for p in pages)
    assert "问政问题清单" in event_page and "城区老旧小区停车位严重不足" in event_page and "县交通运输局" in event_page
    assert "按期整改" in question_page and "整改完成" in question_page
    assert "现场答复：马上整改。" in live
    assert client.get(f"/w/{found.code}/q/2026-WZ9999").status_code == 404


def test_the_h5_form_files_a_question_and_its_page_shows_the_asker_its_state(w, client):
    found = collecting(w)
    with client.session_transaction() as s:
        s["csrf"] = "t"
    page = client.post(f"/w/{found.code}/ask", data={"csrf_token": "t", "content": "短"})
    assert page.status_code == 400 and "问题内容至少5个字" in page.get_data(as_text=True)
    done = client.post(f"/w/{found.code}/ask", data={"csrf_token": "t", "content": "河道垃圾长期无人清理，气味难闻。"})
    assert done.status_code == 303
    number = re.search(r"/q/([\w-]+)", done.headers["Location"]).group(1)
    mine = client.get(done.headers["Location"]).get_data(as_text=True)
    assert number in mine and "已提交，等待筛选" in mine
    assert client.application.test_client().get(f"/w/{found.code}/q/{number}").status_code == 404  # not listed yet
    found = close_collection(found)
    closed = client.post(f"/w/{found.code}/ask", data={"csrf_token": "t", "content": "河道垃圾长期无人清理。"})
    assert closed.status_code == 409 and "问题征集已经结束" in closed.get_data(as_text=True)


def test_the_excel_question_list_has_a_title_row_and_both_lists(w, client):
    found, first, second, window = _to_review(w)
    sign_in(client, w.staff)
    response = client.get(f"/console/inquiries/{found.code}/questions.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert sheet["A1"].value.startswith("城区停车难问题专题问政问政问题清单（截至")
    assert [c.value for c in sheet[2]][:4] == ["序号", "编号", "问题", "被问政对象"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert [r[1] for r in rows] == [first.number, second.number] and rows[0][3] == "县交通运输局"
    assert "张三" not in str(rows) and "13800001111" not in str(rows)
    assert "政府需协调解决的困难清单" in book.worksheets[1]["A1"].value
    sign_in(client, w.lead)
    assert client.get(f"/console/inquiries/{found.code}/questions.xlsx").status_code == 403


def test_a_meeting_inquiry_big_screen_shows_the_list_in_order_answers_and_live_turnout(w, client):
    found, first, second = sorted_out(w)
    inquiries.Inquiry.update(form="meeting", place="县人大常委会会议室").where(
        inquiries.Inquiry.id == found.id).execute()
    act(first, "answer", w.staff, text="三个月内新增车位五百个。")
    ballot = inquiries.start_rating(w.staff, found, {"purpose": "event", **open_now()})
    with pytest.raises(InvalidInput):  # the public rates only a 网络问政
        inquiries.start_rating(w.staff, inquiries.Inquiry.get_by_id(found.id), {"purpose": "event",
                                                                                "electorate": "public"})
    ballots.cast(ballot, {str(i.id): "good" for i in ballots.items(ballot)}, deputy=w.deputy)
    page = client.get(f"/w/{found.code}/live").get_data(as_text=True)
    assert page.index(first.title) < page.index(second.title)
    assert "三个月内新增车位五百个。" in page and "已投票 1 / 应投 2" in page and 'http-equiv="refresh"' in page
    ballots.close(w.staff, ballot)
    ballots.publish(w.staff, ballot)
    page = client.get(f"/w/{found.code}/live").get_data(as_text=True)
    assert "100.0%" in page and "已投票" not in page


def test_the_api_takes_questions_in_the_window_and_shows_the_lists_without_personal_data(w, client):
    from tests.api_client import Api
    found = collecting(w)
    api = Api(client, w.citizen)
    made = api.post(f"/inquiries/{found.code}/questions", json={"content": "公交车班次太少，等车要一个小时。"})
    assert made.status_code == 201 and made.get_json()["question"]["state"] == "submitted"
    assert api.post(f"/inquiries/{found.code}/questions", json={"content": 5}).status_code == 400
    assert Api(client).post(f"/inquiries/{found.code}/questions", json={"content": "没有登录的人提问"}).status_code == 401
    assert api.get("/inquiries/WNOPE").status_code == 404
    number = made.get_json()["question"]["number"]
    act(Case.get(Case.number == number), "list", w.staff, section="question")
    shown = client.get(f"/api/v1/inquiries/{found.code}").get_json()["inquiry"]
    assert [q["number"] for q in shown["lists"]["question"]["questions"]] == [number]
    assert "张三" not in str(shown) and "13800001111" not in str(shown) and "openid" not in str(shown)
    found = close_collection(found)
    late = api.post(f"/inquiries/{found.code}/questions", json={"content": "征集结束以后再提的问题"})
    assert late.status_code == 409 and late.get_json()["error"]["message"] == "问题征集已经结束"


def test_a_station_code_presets_its_station_on_the_h5_form_and_in_the_mini_program(w, client):
    """A station's printed code opens the ask form with the station preset; the mini-program lists what may be asked
    through a station and sends the station, photos and place."""
    from tests.api_client import Api
    from tests.test_qr import decode
    found = collecting(w)
    town_b_only = collecting(w, topic="河西镇集镇环境整治问政", station=w.town_b.code)
    sign_in(client, w.staff)
    page = client.get(f"/console/inquiries/{found.code}").get_data(as_text=True)
    assert 'id="station-qr"' in page and f'<option value="{w.town_a.code}">' in page
    [(link, _)] = decode(client.get(f"/console/inquiries/{found.code}/qr.png?s={w.town_a.code}").data)
    assert link.endswith(f"/w/{found.code}/ask?s={w.town_a.code}")
    assert client.get(f"/console/inquiries/{town_b_only.code}/qr.png?s={w.town_a.code}").status_code == 400

    visitor = client.application.test_client()
    path = link[link.index("/w/"):]
    assert "提问地点：城关镇联络站" in visitor.get(path).get_data(as_text=True)
    with visitor.session_transaction() as session:
        session["csrf"] = "t"
    done = visitor.post(path, data={"csrf_token": "t", "content": "城关镇农贸市场周边停车难。", "location": "农贸市场",
                                    "photos": [jpeg_file()]}, content_type="multipart/form-data")
    assert done.status_code == 303
    by_code = Case.get(Case.kind == "inquiry")
    assert (by_code.station_id, by_code.location, len(by_code.photos)) == (w.town_a.id, "农贸市场", 1)
    wrong = visitor.get(f"/w/{town_b_only.code}/ask?s={w.town_a.code}")
    assert wrong.status_code == 400 and "这个联络站不在本次问政的范围内" in wrong.get_data(as_text=True)

    api = Api(client, w.citizen)
    assert [i["code"] for i in api.get(f"/inquiries?station={w.town_a.code}").get_json()["inquiries"]] == [found.code]
    assert {i["code"] for i in api.get("/inquiries").get_json()["inquiries"]} == {found.code, town_b_only.code}
    made = api.post(f"/inquiries/{found.code}/questions", json={
        "content": "人民路晚上车辆乱停，消防通道被堵。", "location": "人民路口", "latitude": 28.1, "longitude": 112.9,
        "station": w.town_a.code, "photos": [photo()]})
    assert made.status_code == 201
    case = Case.get(Case.number == made.get_json()["question"]["number"])
    assert (case.station_id, case.latitude, case.longitude, case.source, len(case.photos)) == (
        w.town_a.id, 28.1, 112.9, "miniprogram", 1)
    refused = api.post(f"/inquiries/{town_b_only.code}/questions", json={"content": "人民路晚上车辆乱停。",
                                                                         "station": w.town_a.code})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_station"
    assert api.post(f"/inquiries/{found.code}/questions", json={"content": "人民路晚上车辆乱停。",
                                                                "latitude": 91}).status_code == 400
    assert Case.select().where(Case.kind == "inquiry").count() == 2  # nothing half-written


def jpeg_file():
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buf, "JPEG")
    buf.seek(0)
    return buf, "现场.jpg"


def test_a_deputy_taking_part_records_a_visit_with_photos_on_the_phone_workbench(w, client):
    found, first, second = sorted_out(w)
    act(first, "answer", w.staff, text="现场答复：马上整改。")
    act(first, "commit", w.staff, commitment="按期整改", plan="制定整改方案并落实",
        deadline=(calendar.today() + dt.timedelta(days=9)).isoformat())
    with client.session_transaction() as s:
        s.update({"m_account": w.deputy_account.id, "m_via": "password", "m_v": w.deputy_account.session_version,
                  "csrf": "t"})
    home = client.get("/m/").get_data(as_text=True)
    assert f"/m/inquiry-questions/{first.number}" in home and second.number not in home  # second not yet in 整改
    refused = client.post(f"/m/inquiry-questions/{first.number}", data={"csrf_token": "t", "note": "去看了"})
    assert refused.status_code == 400 and "督查记录请上传现场照片" in refused.get_data(as_text=True)
    done = client.post(f"/m/inquiry-questions/{first.number}", data={"csrf_token": "t", "note": "代表到现场查看。",
                                                                    "photos": [jpeg_file()]},
                       content_type="multipart/form-data")
    assert done.status_code == 303
    event = CaseEvent.get(CaseEvent.case == first.id, CaseEvent.action == "supervise")
    assert event.data["by"] == "周建华" and len(event.data["photos"]) == 1
    public = client.get(f"/w/{found.code}/q/{first.number}").get_data(as_text=True)
    assert "代表督查整改" in public and "周建华代表" in public
    # a deputy not taking part sees no such page
    with client.session_transaction() as s:
        s.update({"m_account": w.other_deputy_account.id, "m_v": w.other_deputy_account.session_version})
    inquiries.InquiryDeputy.delete().where(inquiries.InquiryDeputy.deputy == w.other_deputy.id).execute()
    assert client.get(f"/m/inquiry-questions/{first.number}").status_code == 404


def test_a_department_finds_the_questions_handed_to_it_in_its_console(w, client):
    found, first, second = sorted_out(w)
    sign_in(client, w.lead)
    page = client.get("/console/inquiry-questions").get_data(as_text=True)
    assert first.number in page and second.number not in page
    page = client.get(f"/console/inquiry-questions/{first.number}").get_data(as_text=True)
    assert 'id="do-answer"' in page and 'id="do-list"' not in page
    assert client.get(f"/console/inquiry-questions/{second.number}").status_code == 404
    assert client.get(f"/console/cases/{first.number}").headers["Location"].endswith(
        f"/console/inquiry-questions/{first.number}")  # the case queue's page sends a question to its own


def test_questions_collected_through_the_inquiry_topic_consultation_are_imported_once_when_adopted(w, client):
    from services import consultations
    window = open_now()
    topics = consultations.open_consultation(w.staff, consultations.create(w.staff, {
        "title": "城区停车难问政选题征集", "kind": "inquiry", "mode": "questions", "audience": "public",
        "questions": "您希望就停车难问题向政府问什么？", **window}))
    with pytest.raises(InvalidInput) as err:
        inquiries.save(w.staff, event_form(w, consultation="QNOPE"))
    assert err.value.code == "bad_consultation"
    found = collecting(w, consultation=topics.code)
    assert inquiry_questions.import_opinions(w.staff, found) == []  # nothing answered yet
    for text_, decision in (("新建小区为什么配建车位那么少？", "adopted"), ("路边停车收费太贵了。", "partly"),
                            ("我想投诉邻居。", "rejected")):
        opinion = consultations.comment(topics, w.citizen, {"text": text_, "anonymous": "1"}, "h5")
        consultations.answer(w.staff, opinion, {"decision": decision, "reason": "" if decision == "adopted"
                                                else "部分内容不属于问政范围"})
    made = inquiry_questions.import_opinions(w.staff, found)
    assert [c.content for c in made] == ["新建小区为什么配建车位那么少？", "路边停车收费太贵了。"]
    assert {(c.kind, c.state, c.source, c.reporter_id) for c in made} == {("inquiry", "submitted", "consultation",
                                                                           w.citizen.id)}
    assert inquiry_questions.import_opinions(w.staff, found) == []  # once
    with pytest.raises(Conflict):
        inquiry_questions.import_opinions(w.staff, collecting(w))  # an inquiry with no 征集 of its own
    with pytest.raises(Forbidden):
        inquiry_questions.import_opinions(w.lead, found)
    sign_in(client, w.staff)
    page = client.get(f"/console/inquiries/{found.code}").get_data(as_text=True)
    assert f"导入征集 {topics.code} 中采纳的选题建议" in page and made[0].number in page
    assert f"/q/{topics.code}" in client.get(f"/w/{found.code}").get_data(as_text=True)


# --- publications pushed as one digest; a correction redoes the 二次整改 ------------------------------------

def test_the_published_lists_reach_followers_and_askers_once_each_at_the_wechat_standin(w, app, client,
                                                                                        wechat_standin):
    from models import Account
    from services import delivery
    from tests.factories import csrf_of
    from tests.wechat_helpers import value, wire
    wire(app, QUIET_HOURS="")
    for account, openid in ((w.citizen, "oa-citizen"), (w.other_citizen, "oa-other")):
        Account.update(oa_openid=openid, oa_followed=True).where(Account.id == account.id).execute()
    fan = Account.create(role="citizen", oa_openid="oa-fan", oa_followed=True)  # follows, asked nothing
    found = collecting(w)
    asked = [ask(w, found), ask(w, found, "学校门口上下学时段交通拥堵，缺少交警疏导。"),  # two from one person
             ask(w, found, "公交车班次太少，等车要一个小时。", who=w.other_citizen)]
    for account in (w.other_citizen, fan):  # one asker also follows: still one message
        inquiries.follow(account, found)
    found = inquiries.advance(w.staff, close_collection(found), "mobilisation")
    objects = inquiries.objects(found)
    for case, target in zip(asked, objects):
        act(case, "list", w.staff, section="question")
        act(case, "assign", w.staff, target=str(target.id))
    with pytest.raises(Conflict):
        inquiries.publish_progress(w.staff, found)  # nothing handed over to 整改 yet
    delivery.drain()
    before = len(wechat_standin.sent("template"))

    found = inquiries.advance(w.staff, found, "sorting")  # the 问题清单 is published
    delivery.drain()
    sent = wechat_standin.sent("template")[before:]
    assert sorted(b["touser"] for b in sent) == ["oa-citizen", "oa-fan", "oa-other"]
    assert {value(b, "subject") for b in sent} == {"问政问题清单公布"} and {value(b, "count") for b in sent} == {"3"}

    tomorrow = (calendar.today() + dt.timedelta(days=1)).isoformat()
    for case in asked:
        act(case, "answer", w.staff, text="现场答复：马上整改。")
        act(case, "commit", w.staff, commitment="按期整改", plan="制定整改方案并落实", deadline=tomorrow)
    act(asked[0], "complete", w.staff, note="整改完成", photos=[photo()])
    delivery.drain()
    before = len(wechat_standin.sent("template"))
    sign_in(client, w.staff)
    page = client.get(f"/console/inquiries/{found.code}")
    assert 'id="publish-progress"' in page.get_data(as_text=True)
    client.post(f"/console/inquiries/{found.code}/progress-report", data={"csrf_token": csrf_of(page)})
    assert "整改进展：清单问题3个，已整改1个，整改中2个" in [e.note for e in inquiries.public_record(found)]
    delivery.drain()
    sent = wechat_standin.sent("template")[before:]
    assert sorted(b["touser"] for b in sent) == ["oa-citizen", "oa-fan", "oa-other"]
    assert {(value(b, "status"), value(b, "tip")) for b in sent} == {("进展公布", "已整改1个，整改中2个")}

    ballot = inquiries.start_rating(w.staff, found, {**open_now(), "purpose": "event"})
    for account in (w.deputy_account, w.other_deputy_account):
        ballots.cast(ballot, {str(i.id): "good" for i in ballots.items(ballot)}, deputy=account.deputy)
    ballots.close(w.staff, ballot)
    delivery.drain()
    before = len(wechat_standin.sent("template"))
    ballots.publish(w.staff, ballot)
    delivery.drain()
    sent = wechat_standin.sent("template")[before:]
    assert sorted(b["touser"] for b in sent) == ["oa-citizen", "oa-fan", "oa-other"]
    assert {(value(b, "subject"), value(b, "detail")) for b in sent} == {("现场测评结果公布", "3个达标，全部达标")}
    assert Notification.select().where(Notification.kind.in_(
        ("inquiry_list", "inquiry_progress_report", "inquiry_results"))).count() == 9  # 3 people × 3 publications


def test_a_correction_at_the_boundary_withdraws_the_second_round_and_another_opens_it_again(w):
    from models import Account
    found, first, second, window = _to_review(w)
    fan = Account.create(role="citizen", oa_openid="oa-fan", oa_followed=True)
    inquiries.follow(fan, found)
    deadline = Case.get_by_id(first.id).deadline
    ballot = inquiries.start_rating(w.staff, found, {**window, "purpose": "review", "electorate": "public"})
    a, b, c = ballots.items(ballot)  # a 79.9 %, b 80.0 %, c 100 %
    Paper.insert_many([{"id": secrets.token_hex(8), "ballot": ballot.id,
                        "marks": {str(a.id): "fair" if n < 799 else "poor", str(b.id): "good" if n < 800 else "poor",
                                  str(c.id): "good"}} for n in range(1000)]).execute()
    Participation.insert_many([{"ballot": ballot.id, "voter": f"v{n}"} for n in range(1000)]).execute()
    ballots.close(w.staff, ballot)
    assert (Case.get_by_id(first.id).state, Case.get_by_id(first.id).round) == ("rectifying", 2)

    ballots.correct(w.staff, ballot, {"note": "本次测评的整改线应为79.9%", "pass_rate": "79.9%"})
    first_now, second_now = Case.get_by_id(first.id), Case.get_by_id(second.id)
    assert (first_now.state, first_now.round, first_now.deadline) == ("rectified", 1, deadline)
    assert (second_now.state, second_now.round) == ("rectified", 1)
    assert ballots.result(ballot).data["rules"]["quorum"] == ballot.rules["quorum"]  # the other rules as they were
    record = [e.note for e in inquiries.public_record(found)]
    assert "测评结果更正：县交通运输局满意率 79.9%，不低于 79.9%，撤销二次整改（1 个问题）" in record
    assert any(n.startswith("城区停车难问题专题问政 · 整改后测评（公众）结果更正：本次测评的整改线应为79.9%") for n in record)
    told = Notification.select().where(Notification.account == fan).order_by(Notification.id.desc()).first()
    assert "撤销二次整改" in told.body
    asker = Notification.select().where(Notification.account == w.citizen, Notification.kind == "inquiry_progress") \
        .order_by(Notification.id.desc()).first()
    assert "撤销二次整改" in asker.body
    assert inquiries.blockers(inquiries.Inquiry.get_by_id(found.id)) == []

    ballots.correct(w.staff, ballot, {"note": "恢复80%的整改线", "pass_rate": "80%"})
    first_now = Case.get_by_id(first.id)
    assert (first_now.state, first_now.round) == ("rectifying", 2) and first_now.deadline > calendar.today()
    assert Case.get_by_id(second.id).state == "rectified"
    assert [e.action for e in inquiries.public_record(found)][:2] == ["second_round", "rating_corrected"]
