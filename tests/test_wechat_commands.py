"""What followers get from the official account: every command and event, through the real webhook."""
import datetime as dt

import pytest

from models import Account, DeliveryAttempt, Deputy, Notification, Project, ProjectUpdate
from services import accounts
from tests.factories import case_in, new_case, world
from tests.wechat_helpers import event_xml, post_plain, read_reply, text_xml


def say(client, content, openid="oa-alice"):
    return read_reply(post_plain(client, text_xml(content, openid=openid)).get_data(as_text=True))


def event(client, name, openid="oa-alice", key=None, extra=""):
    body = post_plain(client, event_xml(name, openid=openid, key=key, extra=extra)).get_data(as_text=True)
    return body if body == "success" else read_reply(body)


@pytest.fixture
def w(app):
    w = world()
    for account, openid in ((w.citizen, "oa-citizen"), (w.other_citizen, "oa-other"), (w.staff, "oa-staff"),
                            (w.deputy_account, "oa-deputy"), (w.other_deputy_account, "oa-deputy2"),
                            (w.lead, "oa-lead")):
        account.oa_openid = openid
        account.save()
    return w


# --- 查询 -----------------------------------------------------------------------------------------

def test_query_shows_state_last_step_and_deadline_to_the_reporter(client, w):
    case = case_in(w, "assigned")
    reply = say(client, f"查询 {case.number}", openid="oa-citizen")
    assert case.number in reply.content and case.title in reply.content
    assert "状态：" in reply.content and "最近一步：" in reply.content
    assert f"办理时限：{case.deadline:%Y-%m-%d}" in reply.content


def test_query_shows_a_citizen_the_last_step_meant_for_them_and_staff_the_internal_one(client, w):
    from services import workflow
    case = workflow.perform(case_in(w, "assigned"), "urge", w.staff, {"note": "请加快办理"})  # 督办: internal
    assert "最近一步：已交承办单位办理（" in say(client, f"查询 {case.number}", openid="oa-citizen").content
    assert "最近一步：督办（" in say(client, f"查询 {case.number}", openid="oa-staff").content


def test_a_status_asked_again_after_the_next_step_shows_that_step(client, w):
    """The answer is kept per case version: the next step of the case, taken anywhere, shows at once."""
    from services import workflow
    case = new_case(w)
    first = say(client, f"查询 {case.number}", openid="oa-citizen").content
    assert say(client, f"查询 {case.number}", openid="oa-citizen").content == first
    workflow.perform(case, "accept", w.deputy_account)
    again = say(client, f"查询 {case.number}", openid="oa-citizen").content
    assert f"最近一步：{workflow.CITIZEN_TEXT['accept']}（" in again and again != first


@pytest.mark.parametrize("who", ["oa-deputy", "oa-staff"])
def test_query_works_for_the_cases_deputy_and_staff(client, w, who):
    case = new_case(w)
    assert "状态：" in say(client, f"查询 {case.number}", openid=who).content


@pytest.mark.parametrize("who", ["oa-other", "oa-deputy2", "oa-lead", "oa-stranger"])
def test_anyone_else_gets_the_same_refusal_as_for_a_missing_case(client, w, who):
    case = new_case(w)
    refused = say(client, f"查询 {case.number}", openid=who).content
    year = case.number[:4]
    missing = say(client, f"查询 {year}-999999", openid=who).content
    assert refused == missing.replace(f"{year}-999999", case.number)
    assert case.title not in refused and "状态" not in refused and "无权" not in refused


def test_commands_tolerate_full_width_spaces_and_punctuation(client, w):
    case = new_case(w)
    year, serial = case.number.split("-")
    full = "".join(chr(ord(c) + 0xFEE0) for c in f"{year}-{serial}")    # ２０２６－０００００１
    for text in (f"查询：{full}", f"  查询　　{case.number} 。", f"查询{case.number}！", f"【查询】{year} {serial}"):
        assert "状态：" in say(client, text, openid="oa-citizen").content, text
    assert "周建华" in say(client, "代表，ＤＥＰ００１").articles[0]["title"]


def test_query_without_a_number_explains_the_format(client, w):
    assert "例如：查询 2026-000001" in say(client, "查询").content
    assert "例如：查询 2026-000001" in say(client, "查询 路灯").content


# --- 我的 -----------------------------------------------------------------------------------------

def test_mine_links_the_official_account_to_the_mini_program_account_through_unionid(client, w):
    reporter = accounts.citizen_for_openid("openid-union-amy", "unionid-union-amy")
    first = new_case(w, reporter=reporter, title="路灯不亮")
    new_case(w, reporter=reporter, title="井盖松动")
    new_case(w)   # someone else's
    reply = say(client, "我的", openid="oa-union-amy").content
    assert first.number in reply and "路灯不亮" in reply and "井盖松动" in reply
    assert reply.count("\n") == 3   # heading, two cases, hint
    account = Account.get(Account.oa_openid == "oa-union-amy")
    assert account.id == reporter.id


def test_mine_without_cases(client, w):
    assert "还没有提交过反映" in say(client, " 我的 ", openid="oa-nobody").content


# --- 代表 / 项目 / 帮助 ---------------------------------------------------------------------------

def test_deputy_by_code_is_a_card_linking_to_the_deputy_page(client, w):
    reply = say(client, "代表 dep001")
    assert reply.type == "news"
    card = reply.articles[0]
    assert "周建华" in card["title"] and card["url"] == "http://daibiao.test/d/DEP001"
    assert "城关镇联络站" in card["description"]


def test_deputy_by_name_with_several_matches_is_a_short_list(client, w):
    Deputy.create(code="DEP003", name="周建国", level="county", station=w.town_b)
    reply = say(client, "代表 周建").content
    assert "找到2位代表" in reply and "DEP001 周建华" in reply and "DEP003 周建国" in reply


def test_deputy_not_found_or_term_ended(client, w):
    Deputy.create(code="DEP009", name="钱卸任", level="county", term_end=dt.date(2020, 1, 1))
    assert "没有找到" in say(client, "代表 钱卸任").content
    assert "例如：代表 DB0001" in say(client, "代表").content


def test_project_shows_progress_and_links_to_its_page(client, w):
    Project.update(progress=60, status="in_progress").where(Project.id == w.project.id).execute()
    ProjectUpdate.create(project=w.project, text="路基已完成，开始铺设沥青。", progress=60)
    card = say(client, "项目 村道").articles[0]
    assert card["url"] == "http://daibiao.test/p/XM001" and "60%" in card["description"]
    assert "铺设沥青" in card["description"]
    assert "没有找到" in say(client, "项目 XM999").content


@pytest.mark.parametrize("text", ["帮助", "你好", "？", "help"])
def test_help_and_anything_else_gets_the_help_menu_with_links(client, w, text):
    reply = say(client, text).content
    assert "查询 案件号" in reply and 'href="http://daibiao.test/public/cases"' in reply


def test_a_picture_outside_a_conversation_says_how_to_report(client, w):
    xml = text_xml("x").replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[image]]>") \
        .replace("<Content><![CDATA[x]]></Content>", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId>m</MediaId>")
    assert "请先发送“我要反映”" in read_reply(post_plain(client, xml).get_data(as_text=True)).content


# --- events ---------------------------------------------------------------------------------------

def test_subscribe_welcomes_and_marks_the_follower(client, w):
    reply = event(client, "subscribe", openid="oa-new")
    assert "感谢关注" in reply.content
    assert Account.get(Account.oa_openid == "oa-new").oa_followed is True


@pytest.mark.parametrize("scene, title, url", [
    ("d:DEP001", "周建华", "/d/DEP001"), ("p:XM001", "村道提质改造", "/p/XM001"), ("s:TA", "城关镇联络站", "/s/TA")])
def test_subscribing_through_a_qr_code_shows_its_card(client, w, scene, title, url):
    reply = event(client, "subscribe", openid="oa-new", key=f"qrscene_{scene}", extra="<Ticket>t</Ticket>")
    assert title in reply.articles[0]["title"] and reply.articles[0]["url"].endswith(url)
    assert Account.get(Account.oa_openid == "oa-new").oa_followed is True


def test_scanning_as_a_follower_shows_the_card_and_unknown_scenes_get_help(client, w):
    reply = event(client, "SCAN", openid="oa-citizen", key="p:XM001", extra="<Ticket>t</Ticket>")
    assert reply.articles[0]["url"].endswith("/p/XM001")
    assert "查询 案件号" in event(client, "SCAN", openid="oa-citizen", key="d:NOPE").content


def test_unsubscribe_marks_the_follower_unfollowed(client, w):
    event(client, "subscribe", openid="oa-citizen")
    assert Account.get_by_id(w.citizen.id).oa_followed is True
    assert event(client, "unsubscribe", openid="oa-citizen") == "success"
    assert Account.get_by_id(w.citizen.id).oa_followed is False


@pytest.mark.parametrize("key, expected", [("MY_CASES", "还没有提交过反映"), ("QUERY_CASE", "例如：查询"),
                                           ("FIND_DEPUTY", "例如：代表"), ("FIND_PROJECT", "例如：项目"),
                                           ("HELP", "查询 案件号"), ("UNKNOWN_KEY", None)])
def test_menu_clicks(client, w, key, expected):
    reply = event(client, "CLICK", openid="oa-other", key=key)
    assert (reply == "success") if expected is None else (expected in reply.content)


def test_template_delivery_report_is_recorded_on_its_attempt(client, w):
    """The report lands on the template attempt it is about; why the subscribe message failed first stays."""
    note = Notification.create(account=w.citizen, kind="case_accepted", title="反映已受理", dedupe_key="k1",
                               state="sent", channel="template", wechat_msgid="200163836",
                               last_error="用户未订阅或订阅次数已用完")
    refused = DeliveryAttempt.create(notification=note, channel="subscribe", result="retry", errcode=43101)
    sent = DeliveryAttempt.create(notification=note, channel="template", result="ok")
    other = Notification.create(account=w.citizen, kind="case_accepted", title="反映已受理", dedupe_key="k2",
                                state="sent", channel="template", wechat_msgid="200163837")
    other_sent = DeliveryAttempt.create(notification=other, channel="template", result="ok")
    extra = "<MsgID>200163836</MsgID><Status><![CDATA[failed:user block]]></Status>"
    assert event(client, "TEMPLATESENDJOBFINISH", openid="oa-citizen", extra=extra) == "success"
    assert DeliveryAttempt.get_by_id(sent.id).detail == "TEMPLATESENDJOBFINISH:failed:user block"
    assert Notification.get_by_id(note.id).last_error == "用户未订阅或订阅次数已用完"
    assert DeliveryAttempt.get_by_id(refused.id).detail == DeliveryAttempt.get_by_id(other_sent.id).detail == ""


# --- passive replies as WeChat reads them ---------------------------------------------------------

@pytest.mark.parametrize("title", ["路灯]]><b>不亮", "井盖]]>]]>松动\x07", "末尾]]"])
def test_cdata_breaking_text_keeps_every_reply_valid_xml(client, w, title):
    import xml.etree.ElementTree as ET
    case = new_case(w, title=title)
    for text in ("我的", f"查询 {case.number}"):
        raw = post_plain(client, text_xml(text, openid="oa-citizen")).get_data(as_text=True)
        content = ET.fromstring(raw).findtext("Content")   # a strict XML parser, like WeChat's
        assert title.replace("\x07", "") in content, text


def test_two_menu_clicks_in_the_same_second_get_their_own_answers(client, w):
    same_second = 1764547200
    first = post_plain(client, event_xml("CLICK", openid="oa-other", key="QUERY_CASE", create_time=same_second))
    second = post_plain(client, event_xml("CLICK", openid="oa-other", key="FIND_DEPUTY", create_time=same_second))
    assert "例如：查询" in read_reply(first.get_data(as_text=True)).content
    assert "例如：代表" in read_reply(second.get_data(as_text=True)).content
    retry = post_plain(client, event_xml("CLICK", openid="oa-other", key="FIND_DEPUTY", create_time=same_second))
    assert read_reply(retry.get_data(as_text=True)).content == read_reply(second.get_data(as_text=True)).content


def test_the_inquiry_command_menu_key_and_qr_scene_open_the_ask_form_through_web_oauth(client, w):
    """问政: what is collecting now, each card opening the H5 ask form; inside WeChat the follower is the asker."""
    from models import Case
    from services import inquiries
    from tests.test_inquiries import event_form
    from tests.wechat_helpers import web_oauth
    assert "目前没有正在征集问题的问政活动" in say(client, "问政", openid="oa-citizen").content
    found = inquiries.advance(w.staff, inquiries.save(w.staff, event_form(w)), "preparation")
    card = say(client, "问政", openid="oa-citizen").articles[0]
    assert "城区停车难问题专题问政" in card["title"] and card["url"].endswith(f"/w/{found.code}/ask")
    assert event(client, "CLICK", openid="oa-citizen", key="INQUIRY").articles[0]["url"] == card["url"]
    scanned = event(client, "subscribe", openid="oa-new", key=f"qrscene_w:{found.code}", extra="<Ticket>t</Ticket>")
    assert scanned.articles[0]["url"] == card["url"]
    other = inquiries.advance(w.staff, inquiries.save(w.staff, event_form(w, topic="农村饮水安全专题问政")), "preparation")
    listed = say(client, "问政", openid="oa-citizen").content
    assert f"/w/{found.code}/ask" in listed and f"/w/{other.code}/ask" in listed and "农村饮水安全" in listed

    form = web_oauth(client, card["url"][card["url"].index("/w/"):], "wang")  # the card, opened in WeChat
    assert form.status_code == 200 and "我要提问题" in form.get_data(as_text=True)
    token = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(f"/w/{found.code}/ask", data={"csrf_token": token, "content": "人民路晚上车辆乱停，消防通道被堵。",
                                                      "location": "人民路口"}, headers={"User-Agent": "MicroMessenger"})
    assert done.status_code == 303
    asked = Case.get(Case.kind == "inquiry")
    assert asked.reporter.oa_openid == "oa-wang" and asked.location == "人民路口"
    answer = say(client, f"查询 {asked.number.lower()}", openid="oa-wang").content  # the question's number, as typed
    assert answer.startswith(f"问题 {asked.number}：") and "状态：已提交，等待筛选" in answer, answer
    assert "未找到" in say(client, f"查询 {asked.number}", openid="oa-citizen").content  # not another follower's
