"""Sandbox mode as any person: pick a WeChat user on /dev/wechat, bind with a text or a scanned binding QR,
then open the phone workbench as them (web OAuth through the stand-in's authorize page)."""
from urllib.parse import urlsplit

import requests

from models import Account
from services import binding
from tests.factories import csrf_of, world
from tests.test_wechat_cli_sandbox import sandbox_app


def test_a_newcomer_binds_a_deputy_and_a_handler_and_opens_the_workbench_as_them(app, database_url, wechat_standin):
    wechat_standin.configure(apps={})
    sandbox = sandbox_app(database_url, wechat_standin.base_url)
    with sandbox.app_context():
        w = world()
        _, typed = binding.issue(w.deputy_account, w.staff)
        handler_code, _ = binding.issue(w.lead, w.admin)
        web = sandbox.test_client()
        page = web.get("/dev/wechat").get_data(as_text=True)
        assert "oa-wang" in page and "oa-alice" in page
        web.post("/dev/wechat/as", data={"openid": "oa-wang", "csrf_token": csrf_of(page)})
        page = web.get("/dev/wechat").get_data(as_text=True)
        assert 'id="who">oa-wang<' in page
        said = web.post("/dev/wechat/say", data={"text": f"绑定 {typed}", "csrf_token": csrf_of(page)},
                        follow_redirects=True).get_data(as_text=True)
        assert "您已绑定为 周建华 代表" in said and "oa-wang · 周建华 代表" in said  # now among the people
        # another person scans the handler's binding QR
        web.post("/dev/wechat/as", data={"openid": "oa-bob", "csrf_token": csrf_of(said)})
        scanned = web.post("/dev/wechat/scan", data={"token": f"http://daibiao.test/bind/{handler_code.token}",
                                                     "csrf_token": csrf_of(said)}, follow_redirects=True)
        assert "您已绑定为 县交通运输局 lead" in scanned.get_data(as_text=True)
        assert Account.get_by_id(w.lead.id).oa_openid == "oa-bob"
        # be 周建华 again and open the workbench "in WeChat": the stand-in's authorize page knows who he is
        web.post("/dev/wechat/as", data={"openid": "oa-wang", "csrf_token": csrf_of(said)})
        hop = requests.get(web.get("/dev/wechat/open?next=/m/").headers["Location"], allow_redirects=False,
                           timeout=5)
        assert hop.headers["Location"] == "http://daibiao.test/m/"
        authorize = web.get("/m/").headers["Location"]
        assert authorize.startswith(wechat_standin.base_url + "connect/oauth2/authorize")
        back = requests.get(authorize.split("#")[0], cookies=hop.cookies, allow_redirects=False, timeout=5)
        url = urlsplit(back.headers["Location"])
        home = web.get(f"{url.path}?{url.query}").get_data(as_text=True)
        assert "周建华 代表" in home and "待受理" in home
