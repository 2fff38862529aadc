"""The stand-in refuses what WeChat refuses (WECHAT.md §11): each strict rule, by name, refuses a request
WeChat would refuse and lets it through only when a test relaxes that rule by name; every keyword rule
as published; the customer-service windows, stable_token's limits, template messages' client_msg_id."""
import datetime as dt

import pytest
from freezegun import freeze_time

from tests.wechat_helpers import MP_IDS, OA_IDS
from wechat import client
from wechat.errors import WeChatAPIError
from wechat.standin import RULES

PROGRESS = MP_IDS["case_progress"]
MP_DATA = {"character_string12": "2026-000001", "thing3": "路灯坏了", "phrase7": "已受理", "thing9": "请耐心等待",
           "time2": "2026年1月2日 15:01"}
OA_DATA = {"character_string2": "2026-000001", "thing5": "路灯坏了", "phrase3": "已受理", "thing8": "请耐心等待",
           "time4": "15:01"}


def errcode(call):
    try:
        call()
    except WeChatAPIError as err:
        return err.errcode
    return 0


def _subscribe(openid="openid-alice", template=PROGRESS, data=None):
    return lambda: client.send_subscribe_message(openid, template, data or MP_DATA)


def _template(openid="oa-alice", template=OA_IDS["case_progress"], data=None, miniprogram=None):
    return lambda: client.send_template_message(openid, template, data or OA_DATA, miniprogram=miniprogram)


def _twice(call):
    def both():
        call()
        call()
    return both


# rule: (what to prepare on the stand-in, a request WeChat refuses, its errcode)
CASES = {
    "app_openid": (None, _template(openid="openid-alice"), 40003),          # a mini-program openid on the OA
    "template": (None, _template(template="tpl-we-made-up"), 40037),
    "values": (None, _subscribe(data={**MP_DATA, "thing3": "一" * 21}), 47003),
    "consent": ("no_consent", _subscribe(), 43101),
    "follower": ("unfollow", _template(), 43004),
    "cs_window": (None, lambda: client.send_custom_message("oa-alice", content="您好"), 45015),
    "linked": (None, _template(miniprogram={"appid": "wxnotlinked0000001", "pagepath": "pages/index/index"}),
               40166),
    "login_once": (None, _twice(lambda: client.code_to_session("code-once")), 40163),
    "force_refresh": (None, _twice(lambda: client.mini_program().token(refresh=True, force=True)), 45011),
    "recent_use": ("not_open", lambda: client.msg_sec_check("openid-alice", "路灯坏了"), 61010),
}


@pytest.fixture
def alice(app, wechat_standin):
    """alice has the mini-program open and consented to the progress template; she follows the account."""
    wechat_standin.opened("openid-alice")
    wechat_standin.consent("openid-alice", PROGRESS, 3)
    return wechat_standin


def _prepare(standin, what):
    if what == "no_consent":
        standin.reset()
        standin.opened("openid-alice")
    elif what == "unfollow":
        standin.unfollow("oa-alice")
    elif what == "not_open":
        standin.reset()


def test_every_rule_has_a_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_strict_rule_refuses_what_wechat_refuses_until_a_test_relaxes_it_by_name(alice, rule):
    prepare, call, code = CASES[rule]
    _prepare(alice, prepare)
    assert errcode(call) == code
    _prepare(alice, prepare)
    alice.relax(rule)
    assert errcode(call) == 0


def test_relaxing_an_unknown_rule_is_an_error(alice):
    with pytest.raises(ValueError, match="unknown stand-in rules"):
        alice.relax("lenient")


# --- keyword values, as published ---------------------------------------------------------------

VALUES = [
    ("thing", ["路灯坏了", "Road 12 坏了!", "一" * 20], ["一" * 21, "路灯\n坏了", "路灯😀", "路灯\x07"]),
    ("number", ["12", "3.5", "0"], ["-1", "12件", "1" * 33, "1."]),
    ("letter", ["abc", "ABC"], ["ab1", "a" * 33, "中文"]),
    ("symbol", ["%", "#-+"], ["abc", "%%%%%%"]),
    ("character_string", ["2026-000001", "A_b.9"], ["案件2026", "a" * 33, "a b"]),
    ("time", ["15:01", "2019年10月1日 15:01", "2019年10月1日 15:01 ~ 2019年10月2日 16:00"], ["明天", "2019年10月1日"]),
    ("date", ["2019年10月1日", "2019年10月1日 15:01", "2019-10-01"], ["15:01", "十月一日"]),
    ("amount", ["¥100.50", "100元"], ["100.505", "一百元"]),
    ("phone_number", ["0731-88888888", "+86 138"], ["电话123", "1" * 18]),
    ("car_number", ["粤A12345", "A12345"], ["粤A123456789", "粤-A12"]),
    ("name", ["欧阳娜娜", "Alexander Hamilton"], ["欧阳娜娜娜娜娜娜娜娜娜", "A" * 21]),
    ("phrase", ["配送中", "已受理"], ["配送中了吗啊", "ok", "已 受理"]),
    ("enum", ["同意"], ["随便"]),
]


@pytest.mark.parametrize("rule,good,bad", VALUES, ids=[v[0] for v in VALUES])
def test_each_keyword_rule_is_checked_as_published(alice, rule, good, bad):
    key = f"{rule}4"
    alice.configure(templates={"tpl-rule": {"app": "mp", "title": "规则", "keywords": {key: "字段"},
                                            "values": {key: ["同意", "不同意"]}}})
    alice.consent("openid-alice", "tpl-rule", 100)
    for value in good:
        assert errcode(_subscribe(template="tpl-rule", data={key: value})) == 0, value
    for value in bad:
        assert errcode(_subscribe(template="tpl-rule", data={key: value})) == 47003, value


def test_template_data_must_be_exactly_the_templates_keywords(alice):
    assert errcode(_template(data={**OA_DATA, "first": "您好"})) == 47003       # since 2023: no first / remark
    assert errcode(_template(data={k: v for k, v in OA_DATA.items() if k != "time4"})) == 47003
    assert errcode(_subscribe(template=OA_IDS["case_progress"], data=OA_DATA)) == 40037  # the other app's template


def test_47003_does_not_use_the_consent_and_a_send_does(alice):
    assert errcode(_subscribe(data={**MP_DATA, "phrase7": "已受理了吗啊"})) == 47003
    assert alice.consents("openid-alice", PROGRESS) == 3
    assert errcode(_subscribe()) == 0 and alice.consents("openid-alice", PROGRESS) == 2


# --- customer-service windows ---------------------------------------------------------------------

def test_a_message_opens_48_hours_for_five_answers_and_a_click_one_minute_for_three(alice):
    send = lambda: errcode(lambda: client.send_custom_message("oa-alice", content="您好"))  # noqa: E731
    start = dt.datetime(2026, 11, 20, 8, 0)
    with freeze_time(start) as clock:
        alice.user_wrote("oa-alice")
        assert [send() for _ in range(6)] == [0] * 5 + [45047]
        alice.user_wrote("oa-alice", "click")
        assert [send() for _ in range(4)] == [0] * 3 + [45047]
        clock.tick(dt.timedelta(hours=48, seconds=1))
        assert send() == 45015


# --- stable_token ---------------------------------------------------------------------------------

def test_stable_token_forced_refresh_limits_and_the_old_token_keeps_working_for_five_minutes(alice):
    mp = client.mini_program()
    with freeze_time(dt.datetime(2026, 11, 20, 8, 0)) as clock:
        old = mp.token(refresh=True)
        assert mp.token(refresh=True) == old                    # normal mode: the same token, nothing revoked
        new = mp.token(refresh=True, force=True)
        assert new != old
        assert errcode(lambda: mp.request("POST", "wxa/msg_sec_check", {"access_token": old}, {
            "content": "你好", "version": 2, "openid": "openid-alice", "scene": 2})) == 0
        clock.tick(dt.timedelta(seconds=10))
        assert errcode(lambda: mp.token(refresh=True, force=True)) == 45011   # under 30 s apart
        clock.tick(dt.timedelta(seconds=301))
        assert errcode(lambda: mp.request("POST", "wxa/msg_sec_check", {"access_token": old}, {
            "content": "你好", "version": 2, "openid": "openid-alice", "scene": 2})) == 42001
        for _ in range(19):
            clock.tick(dt.timedelta(seconds=31))
            mp.token(refresh=True, force=True)
        clock.tick(dt.timedelta(seconds=31))
        assert errcode(lambda: mp.token(refresh=True, force=True)) == 45009   # 20 a day


# --- template messages and codes ------------------------------------------------------------------

def test_a_template_message_repeated_with_its_client_msg_id_is_sent_once(alice):
    first = client.send_template_message("oa-alice", OA_IDS["case_progress"], OA_DATA, client_msg_id="n-1")
    again = client.send_template_message("oa-alice", OA_IDS["case_progress"], OA_DATA, client_msg_id="n-1")
    other = client.send_template_message("oa-alice", OA_IDS["case_progress"], OA_DATA, client_msg_id="n-2")
    assert first == again != other and len(alice.sent("template")) == 2


def test_a_transparent_mini_program_code_is_a_png(alice):
    mp = client.mini_program()
    png = mp.call("POST", "wxa/getwxacodeunlimit", json_body={"scene": "d=DB0001", "is_hyaline": True}, raw=True)
    assert client.image_type(png) == "image/png"


def test_the_stand_in_keeps_a_connection_alive_between_calls_as_wechat_does(alice):
    """HTTP/1.1 keep-alive, as WeChat's servers answer: a POST with a body and the calls after it are answered
    on the one connection (werkzeug's server closed each one, and kept alive it would read the next request
    as the rest of the last one, and both sides would wait: the timeout makes such a hang fail here)."""
    import http.client
    import json
    from urllib.parse import urlsplit
    from tests.conftest import TEST_CONFIG
    where = urlsplit(alice.base_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=5)

    def call(path, body):
        conn.request("POST", path, body=json.dumps(body, ensure_ascii=False).encode(),
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        assert answer.status == 200 and not answer.will_close
        return json.loads(answer.read())
    token = call("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": TEST_CONFIG["WECHAT_MP_APP_ID"],
                                           "secret": TEST_CONFIG["WECHAT_MP_APP_SECRET"]})["access_token"]
    connection = conn.sock
    for _ in range(2):
        sent = call(f"/cgi-bin/message/subscribe/send?access_token={token}",
                    {"touser": "openid-alice", "template_id": PROGRESS, "data": {k: {"value": v} for k, v in MP_DATA.items()}})
        assert sent["errcode"] == 0
    assert conn.sock is connection and len(alice.sent("subscribe")) == 2
    conn.close()
