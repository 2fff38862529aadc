"""`flask --app app wechat …` and sandbox mode (/dev/wechat) against the stand-in."""
import pytest

from app import create_app
from models import Account
from services import delivery, inbox, notify
from tests.conftest import TEST_CONFIG
from tests.factories import csrf_of
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
    from handlers.oa.router import router
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
        said = web.post("/dev/wechat/say", data={"text": "帮助", "csrf_token": csrf_of(page)},
                        follow_redirects=True).get_data(as_text=True)
        assert "查询 案件号" in said


def test_sandbox_refuses_real_credentials_and_is_absent_otherwise(app, client, database_url, wechat_standin):
    with pytest.raises(RuntimeError, match="不能与真实的微信凭据同时开启"):
        sandbox_app(database_url, wechat_standin.base_url, WECHAT_MP_APP_SECRET="real-secret")
    with pytest.raises(RuntimeError, match="WECHAT_API_BASE"):
        sandbox_app(database_url, "https://api.weixin.qq.com/")
    assert client.get("/dev/wechat").status_code == 404


# --- flask wechat templates -------------------------------------------------------------------------

def test_templates_command_reads_the_accounts_and_writes_the_mapping_the_sandbox_uses(app, runner, tmp_path):
    import json
    from wechat.sandbox import TEMPLATES_FILE
    out = tmp_path / "wechat_templates.json"
    app.config.update(WECHAT_TEMPLATES_FILE=str(out))
    result = runner.invoke(args=["wechat", "templates", "--write"])
    assert result.exit_code == 0, result.output
    assert "case_progress「办理进度通知」需要：案件编号（number：character_string/thing）" in result.output
    assert "character_string12（受理编号）= number" in result.output          # the mini-program's own keys
    assert "character_string2（案件编号）= number" in result.output            # the official account's
    assert json.loads(out.read_text("utf-8")) == json.loads(TEMPLATES_FILE.read_text("utf-8"))


def test_templates_check_compares_the_configured_mapping_with_the_accounts(app, runner):
    from tests.wechat_helpers import MAPPING, wire
    wire(app)
    result = runner.invoke(args=["wechat", "templates", "--check"])
    assert result.exit_code == 0 and "映射与账号中的模板一致" in result.output
    progress = MAPPING["oa"]["case_progress"]
    app.config["WECHAT_OA_TEMPLATES"] = {**MAPPING["oa"], "case_progress": {
        **progress, "keywords": {**{k: v for k, v in progress["keywords"].items() if k != "time4"}, "time9": "time"}},
        "case_todo": {**MAPPING["oa"]["case_todo"], "id": "deleted-template"}}
    result = runner.invoke(args=["wechat", "templates", "--check"])
    assert result.exit_code == 1
    assert "没有关键词 time9" in result.output and "time4（更新时间） 没有对应内容" in result.output
    assert "账号中没有模板 deleted-template" in result.output


def test_templates_command_says_what_it_cannot_match_and_lists_library_keywords(app, runner, wechat_standin):
    from tests.wechat_helpers import OA_IDS
    result = runner.invoke(args=["wechat", "templates", "--pick", f"case_progress={OA_IDS['work_digest']}"])
    assert result.exit_code == 1 and "case_progress：账号中没有合适的模板（指定的" in result.output
    wechat_standin.configure(templates={})
    result = runner.invoke(args=["wechat", "templates"])
    assert result.exit_code == 1 and "账号中没有合适的模板，请在后台选用一个" in result.output
    wechat_standin.reset()
    result = runner.invoke(args=["wechat", "templates", "--library", "1832"])
    assert "kid 12：受理编号（character_string12）" in result.output
