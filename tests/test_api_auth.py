"""Signing in from the mini-program: wx.login code → code2Session (the WeChat stand-in) → bearer token."""
from freezegun import freeze_time

from models import Account
from tests.api_client import Api, error
from tests.factories import world


def login(client, code):
    return client.post("/api/v1/auth/login", json={"code": code})


def test_login_creates_a_citizen_and_returns_a_token_never_the_session_key(app, client, wechat_standin):
    resp = login(client, "code-alice")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["account"]["role"] == "citizen"
    assert "session_key" not in resp.get_data(as_text=True)
    account = Account.get(Account.openid == "openid-alice")
    assert account.role == "citizen" and account.unionid is None
    me = Api(client, token=body["token"]).get("/me").get_json()["account"]
    assert me["role"] == "citizen" and me["role_label"] == "群众"
    assert any("jscode2session" in c["path"] for c in wechat_standin.calls)
    # A login code works once; the next wx.login gives a new one, and it is the same person.
    assert error(login(client, "code-alice")) == (401, "invalid_code")
    again = login(client, "code-alice~2").get_json()
    assert Account.select().where(Account.openid == "openid-alice").count() == 1
    assert Api(client, token=again["token"]).get("/me").status_code == 200


def test_unionid_is_kept_and_joins_the_official_account_identity(app, client, wechat_standin):
    follower = Account.create(role="citizen", oa_openid="oa-bob", unionid="unionid-union-bob")
    body = login(client, "code-union-bob").get_json()
    assert body["account"]["role"] == "citizen"
    joined = Account.get_by_id(follower.id)
    assert joined.openid == "openid-union-bob" and joined.unionid == "unionid-union-bob"
    assert Account.select().count() == 1


def test_an_openid_bound_to_a_deputy_signs_in_as_that_deputy(app, client, wechat_standin):
    w = world()
    Account.update(openid="openid-zhou").where(Account.id == w.deputy_account.id).execute()  # bound earlier
    body = login(client, "code-zhou").get_json()
    assert body["account"]["role"] == "deputy"
    assert body["account"]["deputy"]["code"] == "DEP001"
    inbox = Api(client, token=body["token"]).get("/deputy/cases")
    assert inbox.status_code == 200


def test_bad_codes_and_wechat_outages_are_clear_errors(app, client, wechat_standin):
    assert error(client.post("/api/v1/auth/login", json={})) == (401, "invalid_code")
    assert error(client.post("/api/v1/auth/login", data="not json", content_type="application/json")) \
        == (400, "invalid_json")
    wechat_standin.inject("/sns/jscode2session", errcode=40029)
    assert error(login(client, "code-carol")) == (401, "invalid_code")
    wechat_standin.inject("/sns/jscode2session", status=502)
    assert error(login(client, "code-carol")) == (503, "wechat_unavailable")
    assert Account.select().count() == 0


def test_wrong_forged_and_expired_tokens_are_refused(app, client, wechat_standin):
    with freeze_time("2026-05-01 08:00:00"):
        token = login(client, "code-dave").get_json()["token"]
        assert Api(client, token=token).get("/cases/mine").status_code == 200
    assert error(Api(client).get("/cases/mine")) == (401, "login_required")
    assert error(Api(client, token="garbage").get("/cases/mine")) == (401, "token_invalid")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert error(Api(client, token=forged).get("/cases/mine")) == (401, "token_invalid")
    app.config["SECRET_KEY"] = "another-secret"
    assert error(Api(client, token=token).get("/cases/mine")) == (401, "token_invalid")
    app.config["SECRET_KEY"] = "test-secret"
    with freeze_time("2026-05-08 08:00:01"):
        assert error(Api(client, token=token).get("/cases/mine")) == (401, "token_expired")
    with freeze_time("2026-05-07 08:00:00"):
        assert Api(client, token=token).get("/cases/mine").status_code == 200


def test_a_disabled_account_loses_its_token(app, client, wechat_standin):
    token = login(client, "code-erin").get_json()["token"]
    Account.update(active=False).where(Account.openid == "openid-erin").execute()
    assert error(Api(client, token=token).get("/me")) == (401, "token_invalid")
    assert error(login(client, "code-erin~2")) == (403, "account_disabled")
