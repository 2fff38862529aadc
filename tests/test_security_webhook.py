"""/wechat refuses forged and replayed messages: the mode is the server's, timestamps must be fresh, a
nonce goes with one message only, and hostile MsgId/CreateTime values never cause a 500."""
import time

import pytest

from models import Account, KeyValue
from tests.factories import csrf_of
from tests.wechat_helpers import (encrypt_for, event_xml, fresh, open_reply, post_aes, post_plain, read_reply, sign,
                                  text_xml)

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def follower(openid="oa-victim"):
    return Account.create(role="citizen", oa_openid=openid, oa_followed=True)


def followed(openid="oa-victim"):
    return Account.get(Account.oa_openid == openid).oa_followed


def signed_url(timestamp, nonce, token="testtoken"):
    return f"/wechat?signature={sign(token, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}&openid=x"


def test_a_captured_signed_url_cannot_carry_a_forged_body(app, client):
    """Plaintext mode: the signature covers only token/timestamp/nonce, so the nonce binds the URL to the
    message it first came with; the same URL with another body is refused and changes nothing."""
    follower()
    timestamp, nonce = fresh()
    genuine = client.post(signed_url(timestamp, nonce), data=text_xml("帮助", openid="oa-other").encode())
    assert genuine.status_code == 200
    forged = client.post(signed_url(timestamp, nonce), data=event_xml("unsubscribe", openid="oa-victim").encode())
    assert forged.status_code == 403
    assert followed() is True


def test_a_forged_question_on_a_captured_nonce_leaves_nothing_under_its_msgid(app, client):
    """A read-only command (查询, 帮助) stores its answer and the nonce's claim in one statement; when the nonce
    turns out to be another message's, the forgery is refused and the answer it stored under its MsgId taken
    back: the genuine message with that MsgId still gets its own answer, not the forger's."""
    follower()
    timestamp, nonce = fresh()
    assert client.post(signed_url(timestamp, nonce), data=text_xml("帮助", openid="oa-other").encode()).status_code == 200
    forged = client.post(signed_url(timestamp, nonce),
                         data=text_xml("查询 2026-000001", openid="oa-victim", msgid=770001).encode())
    assert forged.status_code == 403
    genuine = post_plain(client, text_xml("帮助", openid="oa-victim", msgid=770001))
    assert "您可以发送" in read_reply(genuine.get_data(as_text=True)).content


def test_an_exact_redelivery_gets_the_same_answer_and_no_second_side_effect(app, client):
    timestamp, nonce = fresh()
    delivery = event_xml("subscribe", openid="oa-newcomer").encode()
    first = client.post(signed_url(timestamp, nonce), data=delivery)
    again = client.post(signed_url(timestamp, nonce), data=delivery)
    assert first.status_code == again.status_code == 200
    assert read_reply(first.get_data(as_text=True)).content == read_reply(again.get_data(as_text=True)).content
    assert Account.select().where(Account.oa_openid == "oa-newcomer").count() == 1


@pytest.mark.parametrize("skew", [-301, 301, -3600 * 24 * 365 * 16])
def test_timestamps_more_than_five_minutes_off_are_refused(app, client, skew):
    follower()
    timestamp = str(int(time.time()) + skew)
    resp = post_plain(client, event_xml("unsubscribe", openid="oa-victim"), timestamp=timestamp)
    assert resp.status_code == 403 and followed() is True


@pytest.mark.parametrize("timestamp", ["", "abc", "1e9", "-5", "9" * 40])
def test_malformed_timestamps_are_refused(app, client, timestamp):
    assert post_plain(client, text_xml("帮助"), timestamp=timestamp).status_code == 403


def test_with_an_aes_key_configured_plaintext_messages_are_refused(app, client):
    app.config["WECHAT_OA_AES_KEY"] = AES_KEY
    follower()
    resp = post_plain(client, event_xml("unsubscribe", openid="oa-victim"))   # a valid plaintext signature
    assert resp.status_code == 403 and followed() is True


def test_without_an_aes_key_encrypted_messages_are_refused(app, client):
    timestamp, nonce = fresh()
    url = f"/wechat?encrypt_type=aes&msg_signature=0&timestamp={timestamp}&nonce={nonce}"
    assert client.post(url, data=b"<xml><Encrypt>x</Encrypt></xml>").status_code == 403


def test_safe_mode_accepts_a_fresh_message_and_refuses_its_nonce_with_another(app, client):
    app.config["WECHAT_OA_AES_KEY"] = AES_KEY
    follower()
    timestamp, nonce = fresh()
    envelope, signature = encrypt_for(app, event_xml("subscribe", openid="oa-victim"), timestamp, nonce)
    assert post_aes(client, envelope, "testtoken", signature, timestamp, nonce).status_code == 200
    forged, forged_signature = encrypt_for(app, event_xml("unsubscribe", openid="oa-victim"), timestamp, nonce)
    assert post_aes(client, forged, "testtoken", forged_signature, timestamp, nonce).status_code == 403
    assert followed() is True
    # the body is covered by msg_signature: another body under the first signature is refused too
    assert post_aes(client, forged, "testtoken", signature, *fresh()).status_code == 403


def test_safe_mode_answers_a_question_without_waiting_for_a_locked_database(app, client, database_url):
    """In safe mode msg_signature covers the body, so a read-only command (查询, 帮助) stores no claim: it is
    answered at once while another writer holds the database, and a re-delivery is simply answered again."""
    from tests.test_wechat_webhook import _hold_database_lock
    app.config.update(WECHAT_OA_AES_KEY=AES_KEY, WECHAT_REPLY_BUDGET=0.5)
    follower()
    timestamp, nonce = fresh()
    envelope, signature = encrypt_for(app, text_xml("帮助", openid="oa-victim", msgid=880001), timestamp, nonce)
    release = _hold_database_lock(database_url, rows=True)
    try:
        first, again = (post_aes(client, envelope, "testtoken", signature, timestamp, nonce) for _ in range(2))
    finally:
        release()
    for resp in (first, again):
        assert resp.status_code == 200
        cfg = app.config
        reply = open_reply(resp, cfg["WECHAT_OA_TOKEN"], AES_KEY, cfg["WECHAT_OA_APP_ID"])
        assert "查询 案件号" in reply.content


def test_nonces_live_in_shared_storage_for_the_whole_window(app, client):
    timestamp, nonce = fresh()
    post_plain(client, text_xml("帮助"), timestamp=timestamp, nonce=nonce)
    from models import utcnow
    row = KeyValue.get(KeyValue.key == f"wx:nonce:{timestamp}:{nonce}")
    assert (row.expires_at - utcnow()).total_seconds() > 590


@pytest.mark.parametrize("msgid, create_time", [("abc", "1700000000"), ("1e5", "1700000000"), ("", "1700000000"),
                                                ("9" * 60, "1700000000"), ("12", "abc"), ("12", "9" * 30)],
                         ids=["letters", "float", "absent", "huge", "bad-time", "huge-time"])
def test_hostile_msgid_or_createtime_never_causes_a_500(app, client, msgid, create_time):
    xml = (f"<xml><ToUserName>gh</ToUserName><FromUserName>oa-alice</FromUserName><CreateTime>{create_time}"
           f"</CreateTime><MsgType>text</MsgType><Content>帮助</Content><MsgId>{msgid}</MsgId></xml>")
    resp = post_plain(client, xml)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert body == "success" or "查询 案件号" in read_reply(body).content


def test_the_sandbox_page_talks_to_a_safe_mode_server(app, database_url, wechat_standin):
    from app import create_app
    from tests.conftest import TEST_CONFIG
    wechat_standin.configure(apps={})
    sandbox = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_OA_APP_SECRET": "",
                          "WECHAT_MP_APP_SECRET": "", "WECHAT_SANDBOX": True, "WECHAT_OA_AES_KEY": AES_KEY,
                          "WECHAT_API_BASE": wechat_standin.base_url})
    with sandbox.app_context():
        web = sandbox.test_client()
        csrf = csrf_of(web.get("/dev/wechat"))
        said = web.post("/dev/wechat/say", data={"text": "帮助", "csrf_token": csrf}, follow_redirects=True)
        assert "查询 案件号" in said.get_data(as_text=True)
