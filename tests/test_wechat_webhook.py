"""/wechat: verification, the three modes with WeChat's official encryption vectors, key rotation,
signature failures, bad input, de-duplicated retries and the time budget."""
import logging

import pytest

from models import KeyValue, db
from tests import wechat_helpers as helpers
from tests.wechat_helpers import event_xml, post_aes, post_plain, read_reply, sign, text_xml
from handlers.oa import webhook

VECTOR_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
VECTOR_C = dict(token="spamtest", appid="wx2c2769f8efd9abc2", timestamp="1409735669", nonce="1320562132",
                msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa", body=(
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    "</FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]>"
    "</Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655Hu"
    "D0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZk"
    "yyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZb"
    "Gpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSg"
    "M9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>"))
VECTOR_D = dict(token="spamtest", appid="wx2c2769f8efd9abc2", timestamp="1410349438", nonce="298025754",
                msg_signature="003fee52ecc56afb46c00b5c7721be87860ce785", body=(
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswC"
    "aeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrGqS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIF"
    "Q6SHwZuJBZC7mcJp7Cgr9cUhATQWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNy"
    "OODabs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu2ZkXCjicbP3xdr15Iq48"
    "ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4=]]></Encrypt></xml>"))
VECTOR_A2 = dict(token="pamtest", appid="wxb11529c136998cb6", timestamp="1409304348", nonce="xxxxxx",
                 msg_signature="ea88b765074e41eb8c7a75b449db34fa2fd560d5", body=(
    "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XT"
    "BOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5D"
    "YHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77"
    "bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50q"
    "E/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxq"
    "IeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P"
    "0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb]]></Encrypt></xml>"))
VECTOR_E = dict(token="AAAAA", appid="wx134c8103faa5a59e", timestamp="1715943329", nonce="1590219412", key="A" * 43,
                msg_signature="6c12a4205838198b8fa631b3220723bb07f1015c", body=(
    "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6"
    "C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+"
    "Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6o"
    "okXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxh"
    "fUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt></xml>"))


REAL_CLOCK = webhook.now


@pytest.fixture(autouse=True)
def _real_clock():
    yield
    webhook.now = REAL_CLOCK


def use_vector(app, v, key=VECTOR_KEY, previous=""):
    """Configure the vector's account, and set the server's clock to the moment WeChat signed it."""
    webhook.now = lambda: int(v["timestamp"]) + 30
    app.config.update(WECHAT_OA_TOKEN=v["token"], WECHAT_OA_APP_ID=v["appid"], WECHAT_OA_AES_KEY=key,
                      WECHAT_OA_AES_KEY_PREVIOUS=previous)


def post_vector(client, v, with_signature=True, **override):
    args = {**v, **override}
    return post_aes(client, args["body"], v["token"], args["msg_signature"], args["timestamp"], args["nonce"],
                    with_signature)


def open_reply(resp, v, key=VECTOR_KEY):
    return helpers.open_reply(resp, v["token"], key, v["appid"])


# --- verification and signatures ------------------------------------------------------------------

def test_url_verification_with_the_documented_example(app, client):
    app.config["WECHAT_OA_TOKEN"] = "AAAAA"
    ok = client.get("/wechat?signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059"
                    "&nonce=486452656&echostr=hello-wechat")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "hello-wechat"
    assert client.get("/wechat?signature=0000&timestamp=1714037059&nonce=486452656&echostr=x").status_code == 403
    assert client.get("/wechat?echostr=x").status_code == 403


def test_plaintext_message_with_bad_or_missing_signature_is_refused(app, client):
    body = text_xml("帮助").encode()
    assert client.post("/wechat?signature=bad&timestamp=1&nonce=2", data=body).status_code == 403
    assert client.post("/wechat", data=body).status_code == 403
    assert post_plain(client, text_xml("帮助"), token="wrong").status_code == 403


# --- the official encryption vectors --------------------------------------------------------------

VECTOR_D_LINES = {**VECTOR_D, "body": VECTOR_D["body"].replace("><", ">\n  <").replace("\n  <![CDATA[", "<![CDATA[")
                  .replace("]]>\n  </", "]]></")}   # the same envelope laid out on lines
VECTOR_D_BARE = {**VECTOR_D, "body": "<xml><Encrypt>" + VECTOR_D["body"].split("<Encrypt>")[1]}  # no ToUserName


@pytest.mark.parametrize("vector", [VECTOR_C, VECTOR_D, VECTOR_D_LINES, VECTOR_D_BARE],
                         ids=["C-compatible", "D-safe", "D-on-lines", "D-without-ToUserName"])
def test_official_vectors_decrypt_and_the_reply_round_trips(app, client, vector):
    use_vector(app, vector)
    resp = post_vector(client, vector, with_signature=False)
    assert resp.status_code == 200
    reply = open_reply(resp, vector)
    # "abcdteT" is not a command: the sender gets the help menu, addressed back to them
    assert reply.type == "text" and "查询 案件号" in reply.content
    assert reply.target == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and reply.source == "gh_10f6c3c3ac5a"


def test_official_java_vector_with_chinese_text_round_trips(app, client):
    use_vector(app, VECTOR_A2)
    reply = open_reply(post_vector(client, VECTOR_A2), VECTOR_A2)
    assert reply.target == "gh_7f083739789a" and reply.source == "oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw"
    assert "帮助" in reply.content


def test_documented_debug_event_decrypts_and_is_ignored_with_a_log_line(app, client, caplog):
    use_vector(app, VECTOR_E, key=VECTOR_E["key"])
    with caplog.at_level(logging.WARNING, "wechat"):
        resp = post_vector(client, VECTOR_E)
    assert resp.get_data(as_text=True) == "success"
    assert "unknown message type" in caplog.text and "debug_demo" in caplog.text


def test_key_rotation_tries_the_previous_key_and_replies_with_it(app, client, caplog):
    new_key = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
    use_vector(app, VECTOR_C, key=new_key, previous=VECTOR_KEY)
    with caplog.at_level(logging.WARNING, "wechat"):
        resp = post_vector(client, VECTOR_C)
    assert "帮助" in open_reply(resp, VECTOR_C, key=VECTOR_KEY).content
    with pytest.raises(Exception):
        open_reply(resp, VECTOR_C, key=new_key)
    assert "WECHAT_OA_AES_KEY_PREVIOUS" in caplog.text


def test_aes_signature_failures_are_refused(app, client):
    use_vector(app, VECTOR_D)
    assert post_vector(client, VECTOR_D, msg_signature="0" * 40).status_code == 403
    assert post_vector(client, VECTOR_D, msg_signature="").status_code == 403
    assert post_vector(client, VECTOR_D, timestamp="1410349439").status_code == 403  # signature covers it
    tampered = VECTOR_D["body"].replace("mfBCs65c", "mfBCs66c")
    assert post_vector(client, VECTOR_D, body=tampered).status_code == 403
    use_vector(app, VECTOR_D, key="B" * 43)   # a key that does not decrypt it
    assert post_vector(client, VECTOR_D).status_code == 403


# --- bad input ------------------------------------------------------------------------------------

BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><ToUserName>a</ToUserName>'
        '<FromUserName>oa-alice</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>'
        '<Content>&lol3;</Content><MsgId>1</MsgId></xml>')


@pytest.mark.parametrize("body, logged", [
    ("<xml><ToUserName>a</ToUserName><MsgType>text", "unreadable message"),
    ("", "empty message body"),
    (BOMB, "entities are disabled"),
    ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>text</MsgType><Content>&e;</Content></xml>',
     "entities are disabled"),
    ("<xml><ToUserName>a</ToUserName><FromUserName>oa-alice</FromUserName><CreateTime>1</CreateTime>"
     "<MsgType>hologram</MsgType></xml>", "unknown message type 'hologram'"),
    ("<xml><ToUserName>a</ToUserName></xml>", "unreadable message"),
    ("not xml at all 你好", "unreadable message"),
], ids=["malformed", "empty", "billion-laughs", "external-entity", "unknown-type", "no-msgtype", "not-xml"])
def test_bad_input_is_logged_and_answered_success(app, client, caplog, body, logged):
    with caplog.at_level(logging.WARNING, "wechat"):
        resp = post_plain(client, body)
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"
    assert logged in caplog.text


def test_bad_encrypted_envelope_is_logged_and_answered_success(app, client, caplog):
    use_vector(app, VECTOR_D)
    with caplog.at_level(logging.WARNING, "wechat"):
        resp = post_vector(client, VECTOR_D, body="<xml><ToUserName>gh</ToUserName></xml>")
    assert resp.get_data(as_text=True) == "success" and "unreadable encrypted envelope" in caplog.text


def test_a_one_megabyte_body_is_refused_with_413(app, client):
    big = text_xml("查询 " + "9" * (1024 * 1024))
    assert post_plain(client, big).status_code == 413


# --- retries and the time budget ------------------------------------------------------------------

def test_retries_of_a_message_get_the_same_answer_and_no_second_side_effect(app, client, wechat_standin):
    from models import Account
    delivery = event_xml("subscribe", openid="oa-union-alice", create_time=1700000100)
    replies = [post_plain(client, delivery).get_data(as_text=True) for _ in range(4)]
    strip = [read_reply(r).content for r in replies]
    assert len(set(strip)) == 1 and "感谢关注" in strip[0]
    assert len(wechat_standin.sent("user_info")) == 1          # the follower was looked up once
    assert Account.select().where(Account.oa_openid == "oa-union-alice").count() == 1
    assert KeyValue.select().where(KeyValue.key.startswith("wx:evt:oa-union-alice")).count() == 1


def test_simultaneous_deliveries_change_things_once(app, wechat_standin):
    """WeChat's retry can arrive while the first delivery is still being handled."""
    import threading
    from models import Account
    delivery = event_xml("subscribe", openid="oa-union-bea", key="qrscene_s:NOPE", create_time=1700000200)
    replies, gate = [], threading.Barrier(4)

    def deliver():
        with app.test_client() as web:
            gate.wait()
            replies.append(post_plain(web, delivery).get_data(as_text=True))
    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(replies) == 4 and len({read_reply(r).content for r in replies}) == 1
    assert len(wechat_standin.sent("user_info")) == 1
    assert Account.select().where(Account.oa_openid == "oa-union-bea").count() == 1


def test_retried_text_message_is_answered_from_storage(app, client, caplog):
    delivery = text_xml("帮助", msgid=987654321)
    first = post_plain(client, delivery)
    with caplog.at_level(logging.INFO, "wechat"):
        second = post_plain(client, delivery)
    assert read_reply(first.get_data(as_text=True)).content == \
        read_reply(second.get_data(as_text=True)).content
    assert "retry of wx:msg:987654321 answered from storage" in caplog.text


def _hold_database_lock(database_url, rows=False):
    """Another connection that takes the write lock on the dedup table (what a stuck migration or a
    long report would do); returns a function that releases it. rows: on MariaDB a writer's locks only —
    every row and gap of the table, in an open transaction — which leave plain reads alone."""
    if database_url.startswith("sqlite"):
        import sqlite3
        conn = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        from playhouse.db_url import parse
        from models.base import MySQLdbDatabase
        conn = MySQLdbDatabase(**parse(database_url))
        conn.connect()
        if rows:
            conn.execute_sql("BEGIN")
            conn.execute_sql("SELECT * FROM key_value FOR UPDATE")
        else:
            conn.execute_sql("LOCK TABLES key_value WRITE")
        conn.execute = conn.execute_sql
    def release():
        conn.execute("ROLLBACK" if database_url.startswith("sqlite") or rows else "UNLOCK TABLES")
        conn.close()
    return release


def test_a_locked_database_never_holds_the_reply_the_answer_follows_later(app, client, database_url,
                                                                         wechat_standin):
    app.config["WECHAT_REPLY_BUDGET"] = 0.3
    release = _hold_database_lock(database_url)
    try:
        resp = post_plain(client, text_xml("帮助", openid="oa-alice"))
    finally:
        release()
    # the budget ran out: an immediate holding answer instead of silence or a timeout…
    assert read_reply(resp.get_data(as_text=True)).content == webhook.LATE_TEXT
    webhook.wait_for_workers()
    # …and the real answer went out as a customer-service message once the database was free
    sent = wechat_standin.sent("custom")
    assert sent and sent[0]["touser"] == "oa-alice" and "查询 案件号" in sent[0]["text"]["content"]


def test_a_writer_holding_its_turn_never_holds_the_reply(app, client, database_url, wechat_standin):
    """SQLite: the webhook's claim waits in turn with the other writers (no polling), but only within the reply
    budget — a long write transaction elsewhere in the process means the holding answer, then the real one."""
    import threading
    from models import write_transaction
    app.config["WECHAT_REPLY_BUDGET"] = 0.3
    inside, done = threading.Event(), threading.Event()

    def long_write():
        with app.app_context(), db.connection_context(), write_transaction():
            inside.set()
            done.wait(5)
    writer = threading.Thread(target=long_write)
    writer.start()
    inside.wait(5)
    try:
        resp = post_plain(client, text_xml("帮助", openid="oa-alice"))
    finally:
        done.set()
        writer.join()
    expected = webhook.LATE_TEXT if database_url.startswith("sqlite") else None
    content = read_reply(resp.get_data(as_text=True)).content
    assert content == expected if expected else "查询 案件号" in content   # MariaDB: row locks, no turn
    webhook.wait_for_workers()
    if expected:
        sent = wechat_standin.sent("custom")
        assert sent and sent[0]["touser"] == "oa-alice" and "查询 案件号" in sent[0]["text"]["content"]


def test_a_locked_database_for_an_event_answers_success(app, client, database_url):
    app.config["WECHAT_REPLY_BUDGET"] = 0.3
    release = _hold_database_lock(database_url)
    try:
        resp = post_plain(client, event_xml("unsubscribe"))
    finally:
        release()
    assert resp.get_data(as_text=True) == "success"
    webhook.wait_for_workers()


def test_signature_helper_matches_wechat_doc():
    assert sign("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


@pytest.mark.parametrize("refusal", ["45047", "45015", "unreachable"])
def test_a_late_answer_wechat_will_not_carry_lands_in_the_inbox_and_on_the_failed_list(app, client, database_url,
                                                                                    wechat_standin, refusal):
    from models import Notification
    from services import accounts
    from tests.factories import world
    w = world()
    account = accounts.citizen_for_openid("oa-late", official_account=True)
    app.config["WECHAT_REPLY_BUDGET"] = 0.3
    if refusal == "45047":
        wechat_standin.inject("message/custom/send", errcode=45047)
    elif refusal == "45015":
        wechat_standin.unfollow("oa-late")
    else:
        wechat_standin.inject("message/custom/send", status=503)
    release = _hold_database_lock(database_url)
    try:
        resp = post_plain(client, text_xml("帮助", openid="oa-late"))
    finally:
        release()
    assert read_reply(resp.get_data(as_text=True)).content == webhook.LATE_TEXT
    webhook.wait_for_workers()
    assert wechat_standin.sent("custom") == []
    [row] = Notification.select().where(Notification.account == account)
    assert row.kind == "late_answer" and row.state == "failed" and "查询 案件号" in row.body
    assert "客服消息发送失败" in row.last_error and (refusal in row.last_error or refusal == "unreachable")
    from tests.test_console import sign_in
    page = sign_in(client, w.staff).get("/console/notifications/failed").get_data(as_text=True)
    assert "公众号的回复" in page and "客服消息发送失败" in page
