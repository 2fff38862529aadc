"""REDIS_URL set: webhook de-duplication, the WeChat access token and rate limits live in a real redis-server
(started here on loopback, in a throwaway folder), shared by every process, and nothing of them in the database."""
import shutil
import subprocess
import time

import pytest
import redis

from models import KeyValue
from services import ratelimit
from services.errors import TooMany
from tests.mariadb import free_port
from tests.wechat_helpers import MP_IDS, event_xml, post_plain, read_reply, text_xml
from wechat import client


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server not found: install Debian's redis-server (make test does)")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    conn = redis.Redis.from_url(url)
    deadline = time.time() + 10
    while True:
        try:
            conn.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def shared(app, redis_server):
    """The app with REDIS_URL set; Redis emptied first. → a Redis connection to look inside."""
    conn = redis.Redis.from_url(redis_server, decode_responses=True)
    conn.flushdb()
    app.config["REDIS_URL"] = redis_server
    return conn


def test_a_retried_webhook_delivery_is_answered_once_from_redis(app, shared, wechat_standin):
    from models import Account
    delivery = event_xml("subscribe", openid="oa-union-rita", create_time=1700000300)
    replies = {read_reply(post_plain(app.test_client(), delivery).get_data(as_text=True)).content for _ in range(3)}
    assert len(replies) == 1 and "感谢关注" in replies.pop()
    assert len(wechat_standin.sent("user_info")) == 1          # the follower was looked up once
    assert Account.select().where(Account.oa_openid == "oa-union-rita").count() == 1
    assert shared.keys("kv:wx:evt:oa-union-rita*")
    assert not KeyValue.select().where(KeyValue.key.startswith("wx:")).exists()


def test_a_retried_text_message_gets_the_stored_answer(app, shared):
    delivery = text_xml("帮助", msgid=555000111)
    first, second = (read_reply(post_plain(app.test_client(), delivery).get_data(as_text=True)).content
                     for _ in range(2))
    assert first == second and shared.exists("kv:wx:msg:555000111")


def test_the_access_token_is_fetched_once_and_kept_in_redis_for_every_process(app, shared, wechat_standin):
    wechat_standin.opened("openid-alice")
    wechat_standin.consent("openid-alice", MP_IDS["case_progress"], 2)
    client.msg_sec_check("openid-alice", "路灯坏了")
    client.msg_sec_check("openid-alice", "井盖丢了")
    assert len(wechat_standin.sent("stable_token")) == 1
    assert shared.get(f"kv:wechat:token:{app.config['WECHAT_MP_APP_ID']}")
    assert not KeyValue.select().where(KeyValue.key.startswith("wechat:token")).exists()
    shared.flushdb()  # another node finds no token in the shared store: it fetches one, once
    client.msg_sec_check("openid-alice", "路灯坏了")
    assert len(wechat_standin.sent("stable_token")) == 2


def test_rate_limits_count_in_redis_with_a_window(app, shared):
    assert [ratelimit.hit("report:7", 3, 60) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(TooMany) as refused:
        ratelimit.hit("report:7", 3, 60, "您提交得太频繁了，请稍后再试")
    assert refused.value.code == "rate_limited" and "太频繁" in refused.value.message
    assert ratelimit.hit("report:8", 3, 60) == 1 and ratelimit.count("report:7") == 4
    assert 0 < shared.ttl("rl:report:7") <= 60
    assert not KeyValue.select().where(KeyValue.key.startswith("rl:")).exists()
    shared.expire("rl:report:7", 0)  # the window lapses: counting starts again
    assert ratelimit.count("report:7") == 0 and ratelimit.hit("report:7", 3, 60) == 1


def test_too_many_reports_through_the_api_are_refused_by_the_redis_count(app, shared):
    from models import Account
    from tests.api_client import Api, error
    from tests.factories import station
    station("ZZ", "城关镇联络站", level="town")
    api = Api(app.test_client(), Account.create(role="citizen", openid="openid-rl", display_name="王五"))
    app.config["REPORT_RATE_LIMIT"] = (2, 3600)
    replies = [api.post("/cases", {"category": "traffic", "title": f"路灯不亮{i}", "station": "ZZ",
                                   "content": "幸福路口的路灯坏了一个多月，晚上看不清路。"}) for i in range(3)]
    assert [r.status_code for r in replies] == [201, 201, 429]
    assert error(replies[2]) == (429, "rate_limited")
    assert shared.get(f"rl:report:{Account.get(Account.openid == 'openid-rl').id}") == "3"
