"""征集: a draft regulation (.docx made here with python-docx) sent to two stations, commented through the H5 page,
the mini-program API and entered from a 座谈会 on paper, answered per article by the office, published with its
counts (commenters told), exported as .docx and .xlsx and read back; the audience, window and bad-input rules.
Fresh database, no demo seed."""
import datetime as dt
import io

import docx
import openpyxl
import pytest

from models import Account, Consultation, Notification, Opinion, utcnow
from services import consultations
from services.errors import ServiceError
from tests.api_client import Api, error
from tests.factories import csrf_of, station, world
from tests.test_ballots import _login
from tests.test_qr import decode
from tests.wechat_helpers import event_xml, post_plain, read_reply, text_xml

ARTICLES = ["第一章 总则", "第一条 为了改善农村人居环境，制定本条例。", "第二条 本条例适用于本县行政区域。",
            "县人民政府负责组织实施。", "第二章 垃圾治理", "第三条 村民应当分类投放生活垃圾。"]


def draft_docx(lines=ARTICLES):
    document = docx.Document()
    document.add_heading("青山县农村人居环境治理条例（草案）", 0)
    document.add_paragraph("目录")
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def local(delta):
    return (utcnow() + dt.timedelta(hours=8) + delta).strftime("%Y-%m-%dT%H:%M")


def law_form(w, **extra):
    return {"title": "《青山县农村人居环境治理条例（草案）》征求意见", "kind": "law", "mode": "articles",
            "audience": "stations", "stations": [w.town_a.code, w.town_b.code],
            "opens_at": local(-dt.timedelta(minutes=5)), "closes_at": local(dt.timedelta(days=7)), **extra}


def open_law(w, **extra):
    return consultations.open_consultation(w.staff, consultations.create(w.staff, law_form(w, **extra), draft_docx()))


def h5_post(client, consultation, data, station=None):
    with client.session_transaction() as s:
        s["csrf"] = "t"
    path = f"/q/{consultation.code}" + (f"?s={station}" if station else "")
    return client.post(path, data={"csrf_token": "t", **data})


# --- the draft -------------------------------------------------------------------------------------

def test_a_docx_draft_is_split_at_chapters_and_articles_with_following_paragraphs_kept(app):
    assert consultations.split_articles(consultations.read_docx(draft_docx())) == [
        ("第一章 总则", "第一条", "为了改善农村人居环境，制定本条例。"),
        ("第一章 总则", "第二条", "本条例适用于本县行政区域。\n县人民政府负责组织实施。"),
        ("第二章 垃圾治理", "第三条", "村民应当分类投放生活垃圾。")]


def test_an_uploaded_draft_that_is_not_a_docx_or_has_no_articles_is_refused_and_nothing_written(app):
    w = world()
    with pytest.raises(ServiceError, match="无法读取该文件"):
        consultations.create(w.staff, law_form(w), b"PK\x03\x04 not really a zip")
    with pytest.raises(ServiceError, match="没有找到"):
        consultations.create(w.staff, law_form(w), draft_docx(["本草案没有条文。"]))
    with pytest.raises(ServiceError, match="只有县人大常委会工作人员"):
        consultations.create(w.town_staff, law_form(w), draft_docx())
    with pytest.raises(ServiceError, match="截止时间须晚于开始时间"):
        consultations.create(w.staff, law_form(w, closes_at=local(-dt.timedelta(days=1))), draft_docx())
    assert Consultation.select().count() == 0


# --- the whole run -----------------------------------------------------------------------------------

def test_a_draft_regulation_through_two_stations_from_h5_api_and_paper_to_published_counts_and_exports(
        app, client, wechat_standin):
    w = world()
    _login(client, "staff")
    form = client.get("/console/consultations/new")
    response = client.post("/console/consultations/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(form), **law_form(w), "draft": (io.BytesIO(draft_docx()), "草案.docx")})
    assert response.status_code == 302
    consultation = Consultation.get()
    first, second, third = consultations.sections(consultation)
    assert (first.label, second.chapter, third.chapter) == ("第一条", "第一章 总则", "第二章 垃圾治理")
    page = client.get(f"/console/consultations/{consultation.code}")
    html = page.get_data(as_text=True)
    assert f"/q/{consultation.code}?s={w.town_a.code}" in html and "二维码" in html
    qr = client.get(f"/console/consultations/{consultation.code}/qr.png?s={w.town_a.code}")
    station_link = decode(qr.data)[0][0]
    assert station_link.endswith(f"/q/{consultation.code}?s={w.town_a.code}")
    client.post(f"/console/consultations/{consultation.code}/open", data={"csrf_token": csrf_of(page)})
    assert Consultation.get().state == "open"
    organisers = Notification.select().where(Notification.kind == "consultation_station")
    assert sorted(n.account_id for n in organisers) == sorted([w.town_staff.id, w.other_town_staff.id])

    # H5, through town A's station QR code: an opinion on article 2
    visitor = app.test_client()
    path = station_link[station_link.index("/q/"):]  # what the scanned code opens
    assert "征求意见中" in visitor.get(path).get_data(as_text=True)
    response = h5_post(visitor, consultation, {"section": str(second.id), "text": "建议写明乡镇人民政府的职责。",
                                               "name": "王五"}, station=w.town_a.code)
    assert response.status_code == 303
    assert "建议写明乡镇人民政府的职责" in visitor.get(response.headers["Location"]).get_data(as_text=True)
    # the station's own page lists the consultation, linking with its code
    assert f"/q/{consultation.code}?s={w.town_a.code}" in visitor.get(f"/s/{w.town_a.code}").get_data(as_text=True)

    # the mini-program, through town B
    api = Api(client, w.citizen)
    listed = api.get(f"/consultations?station={w.town_b.code}").get_json()["consultations"]
    assert [c["code"] for c in listed] == [consultation.code]
    detail = api.get(f"/consultations/{consultation.code}?station={w.town_b.code}").get_json()["consultation"]
    assert detail["refusal"] is None and not detail["anonymous_allowed"] and len(detail["sections"]) == 3
    taken = api.post(f"/consultations/{consultation.code}/opinions",
                     json={"section": third.id, "text": "建议村里统一发放分类垃圾桶。", "name": "张三",
                           "station": w.town_b.code})
    assert taken.status_code == 201 and taken.get_json()["opinion"]["decision"] is None

    # paper: town A's staff enter a 座谈会 of 18 people on article 2
    _login(client, "town_a_staff")
    assert consultation.code in client.get("/console/consultations").get_data(as_text=True)
    page = client.get(f"/console/consultations/{consultation.code}")
    assert 'id="open"' not in page.get_data(as_text=True)  # station staff do not organise
    client.post(f"/console/consultations/{consultation.code}/paper", data={
        "csrf_token": csrf_of(page), "station": w.town_a.code, "name": "城关镇立法座谈会", "people": "18",
        "section": str(second.id), "text": "与会群众认为应明确经费保障。"})
    paper = Opinion.get(Opinion.channel == "paper")
    assert (paper.people, paper.station_id, paper.author_id, paper.entered_by_id) == (18, w.town_a.id, None,
                                                                                     w.town_staff.id)

    # the office closes, answers each opinion, publishes
    _login(client, "staff")
    page = client.get(f"/console/consultations/{consultation.code}")
    token = csrf_of(page)
    client.post(f"/console/consultations/{consultation.code}/close", data={"csrf_token": token})
    opinions = {o.text[:4]: o for o in Opinion.select()}
    answers = {"建议写明": ("adopted", ""), "建议村里": ("partly", "垃圾桶由乡镇统一配置"),
               "与会群众": ("rejected", "经费保障已在第十条另行规定")}
    client.post(f"/console/consultations/{consultation.code}/publish", data={"csrf_token": token})
    assert Consultation.get().state == "closed"  # two opinions still unanswered: not published
    for key, (decision, reason) in answers.items():
        client.post(f"/console/consultations/{consultation.code}/opinions/{opinions[key].id}",
                    data={"csrf_token": token, "decision": decision, "reason": reason})
    assert Opinion.get_by_id(opinions["与会群众"].id).decision == "rejected"
    client.post(f"/console/consultations/{consultation.code}/publish", data={"csrf_token": token})
    assert Consultation.get().state == "published"

    # published per article with counts; each commenter told once
    told = Notification.select().where(Notification.kind == "consultation_replied")
    assert sorted(n.account_id for n in told) == sorted([w.citizen.id, Opinion.get(
        Opinion.channel == "h5").author_id])
    public = visitor.get(f"/q/{consultation.code}").get_data(as_text=True)
    assert "意见 2 条：采纳 1，部分采纳 0，未采纳 1" in public  # article 2: the H5 opinion and the meeting
    assert "意见 1 条：采纳 0，部分采纳 1，未采纳 0" in public and "经费保障已在第十条另行规定" in public
    assert "王五" not in public and "张三" not in public
    replies = api.get(f"/consultations/{consultation.code}").get_json()["consultation"]
    assert replies["totals"] == {"opinions": 3, "people": 20, "adopted": 1, "partly": 1, "rejected": 1, "waiting": 0}
    mine = api.get(f"/consultations/{consultation.code}/opinions/mine").get_json()["opinions"]
    assert [(o["decision_label"], o["reason"]) for o in mine] == [("部分采纳", "垃圾桶由乡镇统一配置")]

    # exports for the legislative office
    xlsx = client.get(f"/console/consultations/{consultation.code}/summary.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    per = [[c.value for c in row] for row in book["逐条汇总"].iter_rows(min_row=2)]
    per = [row for row in per if row[0]]
    assert ["第一章 总则 第二条", 2, 19, 1, 0, 1, 0] in per and ["第二章 垃圾治理 第三条", 1, 1, 0, 1, 0, 0] in per
    every = [[c.value for c in row] for row in book["全部意见"].iter_rows(min_row=2) if row[0].value]
    every = [row for row in every if isinstance(row[0], int)]
    assert {(row[3], row[4], row[8]) for row in every} == {
        (w.town_a.name, "网页", "采纳"), (w.town_a.name, "座谈会（书面）", "未采纳"), (w.town_b.name, "小程序", "部分采纳")}
    assert "张三" not in str(every) and "张*" in str(every)  # names masked, as everywhere staff export people
    word = client.get(f"/console/consultations/{consultation.code}/summary.docx")
    assert word.mimetype == consultations.DOCX_MIME
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word.data)).paragraphs)
    assert "共收到意见3条（涉及20人），采纳1条，部分采纳1条，未采纳1条" in text
    assert "意见2条（19人）：采纳1，部分采纳0，未采纳1" in text and "城关镇立法座谈会（18人）" in text
    assert "处理：未采纳：经费保障已在第十条另行规定" in text


# --- who may comment, and when -------------------------------------------------------------------------

def test_outside_the_chosen_stations_or_the_window_or_a_deputies_only_consultation_nothing_is_written(
        app, client):
    w = world()
    consultation = open_law(w, stations=[w.town_a.code])
    elsewhere = station("TC", "石桥乡联络站", w.county)
    village = station("TA1", "东门社区联络点", w.town_a, level="village")
    api = Api(client, w.citizen)
    body = {"section": None, "text": "建议增加村民监督的条款。", "name": "张三"}
    assert error(api.post(f"/consultations/{consultation.code}/opinions", json={**body, "station": "TC"})) == \
        (403, "not_in_audience")
    assert error(api.post(f"/consultations/{consultation.code}/opinions", json=body)) == (403, "not_in_audience")
    page = h5_post(client, consultation, {"text": body["text"], "name": "赵六"}, station=elsewhere.code)
    assert page.status_code == 403 and "只通过指定的联络站收集" in page.get_data(as_text=True)
    assert Opinion.select().count() == 0 and Account.select().where(Account.display_name == "赵六").count() == 0
    # a point under a chosen station belongs to it
    assert api.post(f"/consultations/{consultation.code}/opinions",
                    json={**body, "station": village.code}).status_code == 201

    later = open_law(w, opens_at=local(dt.timedelta(days=1)), closes_at=local(dt.timedelta(days=2)))
    assert error(api.post(f"/consultations/{later.code}/opinions", json={**body, "station": "TA"})) == \
        (403, "may_not_comment")
    consultations.close(w.staff, consultation)
    closed = api.post(f"/consultations/{consultation.code}/opinions", json={**body, "station": "TA"})
    assert error(closed) == (403, "may_not_comment") and "已经截止" in closed.get_json()["error"]["message"]
    page = h5_post(client, consultation, {"text": body["text"], "name": "赵六"}, station="TA")
    assert page.status_code == 403 and "征求意见已经截止" in page.get_data(as_text=True)
    with pytest.raises(ServiceError, match="已经截止"):
        consultations.enter_paper(w.town_staff, Consultation.get_by_id(consultation.id),
                                  {"station": "TA", "name": "座谈会", "people": 3, "text": "会上提出的意见。"})
    assert Opinion.select().count() == 1

    deputies = consultations.open_consultation(w.staff, consultations.create(w.staff, {
        **law_form(w), "kind": "decision", "mode": "questions", "audience": "deputies",
        "questions": "您对县城停车难有何建议？"}))
    refused = api.post(f"/consultations/{deputies.code}/opinions", json=body)
    assert error(refused) == (403, "may_not_comment") and "仅限人大代表" in refused.get_json()["error"]["message"]
    page = h5_post(client, deputies, {"text": body["text"], "name": "赵六"})
    assert page.status_code == 403 and "仅限人大代表" in page.get_data(as_text=True)
    assert Opinion.select().count() == 1 and Account.select().where(Account.display_name == "赵六").count() == 0
    told = Notification.select().where(Notification.kind == "consultation_deputy")
    assert sorted(n.account_id for n in told) == sorted([w.deputy_account.id, w.other_deputy_account.id])
    deputy_api = Api(client, w.deputy_account)
    assert deputy_api.post(f"/consultations/{deputies.code}/opinions",
                           json={**body, "anonymous": True}).status_code == 201
    # on the phone workbench the deputy finds it under 请提意见 and comments on H5 as the signed-in deputy
    with client.session_transaction() as s:
        s.update({"m_account": w.other_deputy_account.id, "m_via": "password",
                  "m_v": w.other_deputy_account.session_version, "csrf": "t"})
    assert f"/q/{deputies.code}" in client.get("/m/").get_data(as_text=True)
    assert h5_post(client, deputies, {"text": "建议新建立体停车场。", "name": "吴秀英"}).status_code == 303
    assert Opinion.get(Opinion.channel == "h5").author_id == w.other_deputy_account.id


def test_bad_opinions_get_a_chinese_message_and_nothing_is_written(app, client, wechat_standin):
    w = world()
    consultation = open_law(w)
    api = Api(client, w.citizen)
    path = f"/consultations/{consultation.code}/opinions"
    good = {"text": "建议增加村民监督的条款。", "name": "张三", "station": "TA"}
    assert error(api.post(path, json={**good, "text": "  "})) == (400, "missing_field")
    assert error(api.post(path, json={**good, "text": "好"})) == (400, "too_short")
    assert error(api.post(path, json={**good, "text": "长" * 2001})) == (400, "too_long")
    assert error(api.post(path, json={**good, "section": 999999})) == (400, "bad_section")
    assert error(api.post(path, json={**good, "section": "第一条"})) == (400, "invalid_number")
    assert error(api.post(path, json={**good, "anonymous": True})) == (400, "name_required")  # 法规草案: signed
    assert error(api.post(path, json={**good, "text": "这里有违禁内容需要处理"})) == (400, "content_risky")
    assert error(api.post(path, json={**good, "station": "NOPE"})) == (400, "bad_station")
    assert error(api.post("/consultations/QFORGED1/opinions", json=good)) == (404, "no_consultation")
    assert error(Api(client).post(path, json=good)) == (401, "login_required")
    page = h5_post(client, consultation, {"text": "好", "name": "赵六"}, station="TA")
    assert page.status_code == 400 and "意见内容至少5个字" in page.get_data(as_text=True)
    assert client.get("/q/QFORGED1").status_code == 404
    draft = consultations.create(w.staff, law_form(w), draft_docx())  # not opened yet: not public at all
    assert client.get(f"/q/{draft.code}").status_code == 404
    assert error(api.get(f"/consultations/{draft.code}")) == (404, "no_consultation")
    assert "没有找到这次征求意见" in client.get("/q/QFORGED1").get_data(as_text=True)
    assert Opinion.select().count() == 0 and Account.select().where(Account.display_name == "赵六").count() == 0
    # a doubtful text is taken, flagged for staff
    assert api.post(path, json={**good, "text": "这条意见待审一下"}).status_code == 201
    assert Opinion.get().flagged_reason
    # deleting the account unlinks the opinion and clears the name; the text stays
    from services import privacy
    privacy.delete_account(Account.get_by_id(w.citizen.id))
    kept = Opinion.get()
    assert (kept.author_id, kept.name, kept.anonymous, kept.text) == (None, "", True, "这条意见待审一下")


def test_answers_need_a_reason_unless_adopted_and_are_fixed_once_published(app):
    w = world()
    consultation = open_law(w)
    opinion = consultations.enter_paper(w.staff, consultation, {"station": "TB", "name": "河西镇座谈会", "people": 5,
                                                                "text": "建议放宽实施时间。"})
    with pytest.raises(ServiceError, match="请填写理由"):
        consultations.answer(w.staff, opinion, {"decision": "rejected"})
    with pytest.raises(ServiceError, match="采纳、部分采纳或未采纳"):
        consultations.answer(w.staff, opinion, {"decision": "maybe"})
    with pytest.raises(ServiceError, match="只有县人大常委会工作人员"):
        consultations.answer(w.town_staff, opinion, {"decision": "adopted"})
    only_b = consultations.create(w.staff, law_form(w, stations=[w.town_b.code]), draft_docx())
    assert only_b not in consultations.for_staff(w.town_staff) and only_b in consultations.for_staff(w.staff)
    with pytest.raises(ServiceError, match="只能录入本联络站"):
        consultations.enter_paper(w.town_staff, consultation, {"station": "TB", "name": "座谈会", "people": 2,
                                                              "text": "不在本站范围的会议。"})
    with pytest.raises(ServiceError, match="请先截止"):
        consultations.publish(w.staff, consultation)
    consultations.answer(w.staff, opinion, {"decision": "adopted"})
    consultations.close(w.staff, consultation)
    consultations.publish(w.staff, Consultation.get_by_id(consultation.id))
    with pytest.raises(ServiceError, match="答复已经公布"):
        consultations.answer(w.staff, Opinion.get_by_id(opinion.id), {"decision": "rejected", "reason": "改主意"})
    assert Opinion.get_by_id(opinion.id).decision == "adopted"
    assert Notification.select().where(Notification.kind == "consultation_replied").count() == 0  # paper: no one


def test_the_official_account_lists_open_public_consultations_and_a_scene_opens_one(app, client):
    w = world()
    assert "目前没有正在征求意见" in read_reply(post_plain(client, text_xml("征求意见", openid="oa-x"))
                                          .get_data(as_text=True)).content
    public = consultations.open_consultation(w.staff, consultations.create(w.staff, {
        **law_form(w), "kind": "project", "mode": "questions", "audience": "public",
        "questions": "您希望明年办理哪些民生实事？"}))
    open_law(w)  # through stations only: not listed to everyone
    reply = read_reply(post_plain(client, text_xml("征求意见", openid="oa-x")).get_data(as_text=True))
    assert [a["url"].rsplit("/", 1)[1] for a in reply.articles] == [public.code]
    assert "民生实事项目征集" in reply.articles[0]["title"]
    scanned = read_reply(post_plain(client, event_xml("SCAN", openid="oa-x", key=f"q:{public.code}"))
                         .get_data(as_text=True))
    assert scanned.articles[0]["url"].endswith(f"/q/{public.code}")
