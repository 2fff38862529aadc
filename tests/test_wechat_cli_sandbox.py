"""`flask --app app wechat …` and sandbox mode (/dev/wechat) against the stand-in."""
import pytest

from app import create_app
from models import Account
from services import delivery, inbox, notify
from tests.conftest import TEST_CONFIG
from wechat.cli import load_menu
from wechat.sandbox import standin_setup


def test_create_menu_publishes_the_repository_menu(app, runner, wechat_standin):
    result = runner.invoke(args=["wechat", "create-menu"])
    assert result.exit_code == 0, result.output
    assert "菜单已发布（3 个一级菜单）" in result.output
    menu = wechat_standin.sent("menu")[0]
    assert menu == load_menu()
    buttons = [b for top in menu["button"] for b in top.get("sub_button", [top])]
    keys = {b["key"] for b in buttons if b["type"] == "click"}
    from wechat.router import router
    assert keys <= set(router.clicks)          # every menu key has a handler
    links = [b["url"] for b in buttons if b["type"] in ("view", "miniprogram")]
    assert links and all(u.startswith("http://daibiao.test/") for u in links)


def test_create_menu_reports_wechat_errors_in_chinese(app, runner, wechat_standin):
    wechat_standin.inject("menu/create", errcode=-1)
    result = runner.invoke(args=["wechat", "create-menu"])
    assert result.exit_code != 0 and "微信返回错误 -1" in result.output


def test_qrcode_prints_the_url_and_saves_a_decodable_png(app, runner, wechat_standin, tmp_path):
    import zxingcpp
    from PIL import Image
    png = tmp_path / "d.png"
    result = runner.invoke(args=["wechat", "qrcode", "d:DB0001", "--png", str(png)])
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    assert url.startswith("http://weixin.qq.com/q/")
    assert zxingcpp.read_barcodes(Image.open(png))[0].text == url
    sent = wechat_standin.sent("qrcode")[0]
    assert sent["action_name"] == "QR_LIMIT_STR_SCENE" and sent["action_info"]["scene"]["scene_str"] == "d:DB0001"


def sandbox_app(database_url, base, **extra):
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WECHAT_OA_APP_SECRET": "",
                       "WECHAT_MP_APP_SECRET": "", "WECHAT_SANDBOX": True, "WECHAT_API_BASE": base, **extra})


def test_sandbox_page_shows_what_was_sent_to_wechat(app, database_url, wechat_standin):
    sandbox = sandbox_app(database_url, wechat_standin.base_url)
    wechat_standin.configure(**standin_setup(sandbox.config))  # as `flask wechat standin` starts it
    with sandbox.app_context():
        # out of the box: a consent given in the mini-program reaches WeChat's side, and the push goes out
        citizen = Account.create(role="citizen", openid="openid-alice", display_name="alice")
        inbox.record_consents(citizen, {inbox.templates()["case_progress"]: "accept"})
        notify.write(citizen, "case_accepted", "sb1", {"number": "2026-000001", "title": "路灯坏了"})
        sandbox.config["QUIET_HOURS"] = ""
        assert delivery.drain() == {"sent": 1}
        web = sandbox.test_client()
        page = web.get("/dev/wechat").get_data(as_text=True)
        assert "小程序订阅消息" in page and "openid-alice" in page and "已受理" in page
        # a newcomer can talk to the official account from the page, through the real webhook
        said = web.post("/dev/wechat/say", data={"text": "帮助"}, follow_redirects=True).get_data(as_text=True)
        assert "查询 案件号" in said


def test_sandbox_refuses_real_credentials_and_is_absent_otherwise(app, client, database_url, wechat_standin):
    with pytest.raises(RuntimeError, match="不能与真实的微信凭据同时开启"):
        sandbox_app(database_url, wechat_standin.base_url, WECHAT_MP_APP_SECRET="real-secret")
    with pytest.raises(RuntimeError, match="WECHAT_API_BASE"):
        sandbox_app(database_url, "https://api.weixin.qq.com/")
    assert client.get("/dev/wechat").status_code == 404
