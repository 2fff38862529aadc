"""The WeChat clients against the stand-in: every call goes to WECHAT_API_BASE, the token is shared and
fetched through stable_token, token errors are retried a bounded number of times, failures are typed."""
import io

import pytest
import zxingcpp
from PIL import Image

from models import KeyValue
from tests.wechat_helpers import MP_IDS, OA_IDS
from wechat import client
from wechat.errors import WeChatAPIError, WeChatUnavailable

PROGRESS = MP_IDS["case_progress"]   # 受理编号 character_string12, 事项名称 thing3, 办理状态 phrase7, 温馨提示 thing9, 更新时间 time2
GOOD = {"character_string12": "2026-000001", "thing3": "路灯坏了", "phrase7": "已受理", "thing9": "请耐心等待",
        "time2": "2026年1月2日 15:01"}


@pytest.fixture(autouse=True)
def in_use(app, wechat_standin):
    """alice has the mini-program open and has ticked the progress template a few times."""
    wechat_standin.opened("openid-alice")
    wechat_standin.consent("openid-alice", PROGRESS, 5)


def test_login_code_gives_openid_and_unionid_only_for_union_codes(app, wechat_standin):
    plain = client.code_to_session("code-alice")
    assert plain["openid"] == "openid-alice" and plain["session_key"] and "unionid" not in plain
    assert client.code_to_session("code-union-bob")["unionid"] == "unionid-union-bob"
    with pytest.raises(WeChatAPIError) as err:
        client.code_to_session("forged")
    assert err.value.errcode == 40029


def test_token_is_fetched_once_through_stable_token_and_kept_in_shared_storage(app, wechat_standin):
    client.msg_sec_check("openid-alice", "路灯坏了")
    client.send_subscribe_message("openid-alice", PROGRESS, GOOD, "/pages/index/index")
    assert len(wechat_standin.sent("stable_token")) == 1 and not wechat_standin.sent("token")
    assert KeyValue.get_by_id(f"wechat:token:{app.config['WECHAT_MP_APP_ID']}").value
    assert wechat_standin.sent("subscribe")[0]["page"] == "pages/index/index"


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_token_error_is_retried_with_a_fresh_token(app, wechat_standin, errcode):
    client.msg_sec_check("openid-alice", "你好")
    wechat_standin.expire_tokens() if errcode == 42001 else wechat_standin.inject("wxa/msg_sec_check", errcode=40001)
    assert client.msg_sec_check("openid-alice", "你好") == "pass"
    assert len(wechat_standin.sent("msg_sec_check")) == 2


def test_token_retries_are_bounded(app, wechat_standin):
    wechat_standin.inject("wxa/msg_sec_check", errcode=40001, times=100)
    with pytest.raises(WeChatAPIError) as err:
        client.msg_sec_check("openid-alice", "你好")
    assert err.value.errcode == 40001
    assert len([c for c in wechat_standin.calls if c["path"] == "/wxa/msg_sec_check"]) == client.TOKEN_RETRIES + 1


def test_content_check_verdicts(app, wechat_standin):
    assert client.msg_sec_check("openid-alice", "小区路灯坏了") == "pass"
    assert client.msg_sec_check("openid-alice", "这是待审内容") == "review"
    assert client.msg_sec_check("openid-alice", "这是违禁内容") == "risky"
    wechat_standin.inject("wxa/msg_sec_check", errcode=87014)
    assert client.msg_sec_check("openid-alice", "小区路灯坏了") == "risky"


@pytest.mark.parametrize("injection", [{"status": 502}, {"errcode": -1}, {"delay": 1.5}])
def test_outages_are_typed(app, wechat_standin, injection):
    app.config["WECHAT_TIMEOUT"] = 0.5
    client.msg_sec_check("openid-alice", "你好")
    wechat_standin.inject("message/subscribe/send", **injection)
    expected = WeChatAPIError if "errcode" in injection else WeChatUnavailable
    with pytest.raises(expected):
        client.send_subscribe_message("openid-alice", PROGRESS, GOOD)


def test_template_message_returns_msgid(app, wechat_standin):
    data = {"character_string2": "2026-000001", "thing5": "路灯坏了", "phrase3": "已受理", "thing8": "请耐心等待",
            "time4": "15:01"}
    msgid = client.send_template_message("oa-alice", OA_IDS["case_progress"], data, url="http://x/y",
                                         miniprogram="/pages/case/detail?number=1")
    assert msgid
    body = wechat_standin.sent("template")[0]
    assert body["miniprogram"] == {"appid": app.config["WECHAT_MP_APP_ID"], "pagepath": "pages/case/detail?number=1"}


def test_mini_program_code_is_a_jpeg_and_scene_rules_apply(app, wechat_standin):
    jpeg = client.get_wxacode_unlimited("d=DB0001", page="/pages/deputy/index")
    assert client.image_type(jpeg) == "image/jpeg"      # as WeChat sends it (PNG only when is_hyaline)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(jpeg)))
    assert decoded[0].text == "wxacode:pages/deputy/index?scene=d=DB0001"
    with pytest.raises(WeChatAPIError) as err:
        client.get_wxacode_unlimited("x" * 33)
    assert err.value.errcode == 40169


def test_official_account_qrcode(app, wechat_standin):
    code = client.create_oa_qrcode("d:DB0001")
    assert code["url"].startswith("http://weixin.qq.com/q/") and code["ticket"]
    assert wechat_standin.sent("qrcode")[0]["action_info"]["scene"]["scene_str"] == "d:DB0001"


def test_missing_credentials_count_as_unavailable(app):
    app.config["WECHAT_MP_APP_SECRET"] = ""
    with pytest.raises(WeChatUnavailable):
        client.msg_sec_check("openid-alice", "你好")
