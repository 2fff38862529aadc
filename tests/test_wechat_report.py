"""Reporting in the official account, for people who only chat: the guided 我要反映 conversation files a real
case by text, by voice (WeChat's Recognition) with a location and photos; spoken commands; 代表 <place>."""
import io
import itertools
import time

import pytest
from freezegun import freeze_time
from PIL import Image

from models import Account, Case, CaseEvent, Notification
from services import delivery, workflow
from services.uploads import save_image
from tests.factories import world
from tests.wechat_helpers import post_plain, read_reply, text_xml, wire

_ids = itertools.count(int(time.time()) * 1000 + 500_000)
HEAD = "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>" \
       "<CreateTime>{now}</CreateTime>"


def xml(kind, body, openid, msgid=None):
    return (HEAD.format(openid=openid, now=int(time.time())) + f"<MsgType><![CDATA[{kind}]]></MsgType>{body}"
            f"<MsgId>{msgid or next(_ids)}</MsgId></xml>")


def send(client, raw):
    body = post_plain(client, raw).get_data(as_text=True)
    return "" if body == "success" else read_reply(body).content


def say(client, text, openid="oa-wang", msgid=None):
    return send(client, text_xml(text, openid=openid, msgid=msgid or next(_ids)))


def speak(client, recognition, openid="oa-wang"):
    return send(client, xml("voice", f"<MediaId><![CDATA[media-1]]></MediaId><Format><![CDATA[amr]]></Format>"
                                     f"<Recognition><![CDATA[{recognition}]]></Recognition>", openid))


def locate(client, label, openid="oa-wang"):
    return send(client, xml("location", "<Location_X>28.194</Location_X><Location_Y>112.972</Location_Y>"
                                        f"<Scale>16</Scale><Label><![CDATA[{label}]]></Label>", openid))


def picture(client, url, openid="oa-wang"):
    return send(client, xml("image", f"<PicUrl><![CDATA[{url}]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>", openid))


@pytest.fixture
def w(app):
    app.config.update(QUIET_HOURS="")
    return world()


def test_a_text_conversation_files_a_case_at_the_place_named(client, w):
    assert "第1步" in say(client, "我要反映")
    assert "至少5个字" in say(client, "路坏")
    assert "第2步" in say(client, "我的家门口路灯坏了两个月，晚上很黑")  # "我的…" is not the 我的 command here
    assert "第3步" in say(client, "城关镇东门村口")
    assert "第4步" in say(client, "跳过")
    assert "手机号好像不对" in say(client, "12345")
    summary = say(client, "139 1234 5678")
    assert "请确认您的反映" in summary and "城关镇东门村口" in summary and "照片：0张" in summary
    done = say(client, "确认")
    case = Case.get()
    assert f"案件号 {case.number}" in done and f"/c/{case.number}" in done
    assert (case.source, case.station.code, case.deputy_id, case.category) == ("official_account", "TA", None, "other")
    assert (case.content, case.location, case.contact_phone) == ("我的家门口路灯坏了两个月，晚上很黑", "城关镇东门村口",
                                                                 "13912345678")
    reporter = Account.get(Account.oa_openid == "oa-wang")
    assert case.reporter_id == reporter.id and reporter.oa_followed
    assert case.number in say(client, f"查询 {case.number}")  # the conversation is over: commands again
    assert case.number in say(client, "我的")


def test_by_voice_with_a_location_and_photos_to_a_deputy(client, live_server, w):
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photo, format="JPEG")
    token = save_image(photo.getvalue()).token
    assert "周建华代表" in say(client, "我要反映 DEP001")
    assert "没有听清" in speak(client, "")
    assert "第2步" in speak(client, "村口的水渠堵了，下雨就淹到田里。")
    assert "第3步" in locate(client, "南塘村村委会")
    assert "第1张" in picture(client, f"{live_server}/uploads/{token}")
    assert "没有收到" in picture(client, f"{live_server}/uploads/no-such-photo")
    assert "第4步" in speak(client, "好了。")
    assert "电话：未留" in speak(client, "跳过。")
    done = speak(client, "确认。")
    case = Case.get()
    assert case.number in done and case.deputy.code == "DEP001" and len(case.photos) == 1
    assert (case.location, round(case.latitude, 3), round(case.longitude, 3)) == ("南塘村村委会", 28.194, 112.972)
    assert case.content == "村口的水渠堵了，下雨就淹到田里。"
    number = case.number.replace("-", "")
    assert case.title in speak(client, f"查询{number}。")  # a spoken command, as WeChat recognises it


def test_the_reporter_hears_every_step_by_template_message(app, client, w, wechat_standin):
    wire(app)
    say(client, "我要反映 路灯坏了两个月，晚上很黑")
    say(client, "城关镇")
    say(client, "跳过")
    say(client, "跳过")
    say(client, "确认")
    case = workflow.perform(Case.get(), "accept", w.staff)
    delivery.drain()
    delivery.drain()
    pushes = [m for m in wechat_standin.sent("template") if m["touser"] == "oa-wang"]
    assert len(pushes) == 1 and pushes[0]["url"].endswith(f"/c/{case.number}")


def test_cancel_expiry_and_a_retried_confirmation(client, w):
    say(client, "我要反映")
    assert "已取消" in say(client, "取消")
    assert "您还没有提交过反映" in say(client, "我的")
    with freeze_time() as clock:
        say(client, "我要反映")
        clock.tick(11 * 60)  # the conversation is kept 10 minutes after the last message
        assert "我要反映" in say(client, "村口路灯坏了好久了")  # the help menu, not step 2
    say(client, "我要反映 村口路灯坏了好久了")
    say(client, "城关镇")
    say(client, "跳过")
    say(client, "跳过")
    first = say(client, "确认", msgid=987654321)
    again = say(client, "确认", msgid=987654321)  # WeChat re-sends when the answer is slow
    assert first == again and Case.select().count() == 1
    assert CaseEvent.select().where(CaseEvent.action == "submit").count() == 1


def test_read_only_commands_answer_during_a_conversation_and_it_can_start_again(client, w):
    from tests.factories import new_case
    mine = new_case(w, reporter=Account.create(role="citizen", oa_openid="oa-wang"))
    say(client, "我要反映")
    say(client, "村口的桥栏杆断了一截，很危险")
    assert mine.number in say(client, f"查询 {mine.number}")  # answered; the conversation stays open
    assert "第3步" in say(client, "南塘村桥头")
    assert "第1步" in say(client, "我要反映")  # from the start again
    assert "第2步" in say(client, "桥栏杆断了一截，很危险")


def test_deputies_by_town_or_village(client, w):
    reply = say(client, "代表 城关镇")
    assert "城关镇联络站的代表" in reply and "DEP001 周建华" in reply and "周二 9:00-11:30" in reply
    assert "吴秀英" in say(client, "代表 河西镇") and "没有找到" in say(client, "代表 火星村")


def test_a_voice_without_recognition_asks_kindly_to_type(client, w):
    assert "没有听清您的语音" in speak(client, "") and "打字" in speak(client, "")
    assert "一步一步" in speak(client, "我要反映。")
    assert Notification.select().count() == 0
