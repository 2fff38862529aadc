"""WeChat web OAuth (handlers/webauth.py) through the stand-in's authorize page, as a phone in WeChat does it."""
import re

import requests

from handlers import webauth
from models import Case
from tests.factories import world
from tests.wechat_helpers import WECHAT_UA, web_oauth


def test_a_round_trip_through_the_authorize_page_identifies_the_visitor(app, client, wechat_standin):
    world()
    page = web_oauth(client, "/d/DEP001?from=card", "alice")
    assert page.status_code == 200 and "向周建华代表反映问题" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session[webauth.SESSION_KEY] == "oa-alice"
    authorize = [c for c in wechat_standin.calls if c["path"] == "/connect/oauth2/authorize"][0]["query"]
    assert authorize["scope"] == "snsapi_base" and authorize["redirect_uri"] == "http://daibiao.test/d/DEP001?from=card"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/d/DEP001", data={"csrf_token": token, "category": "traffic", "content": "路灯坏了两个月。"},
                headers={"User-Agent": WECHAT_UA})
    assert Case.get().reporter.oa_openid == "oa-alice"
    # the other pages of the visit need no second round trip
    assert client.get("/p/XM001", headers={"User-Agent": WECHAT_UA}).status_code == 200


def test_the_stand_in_authorize_page_checks_what_wechat_checks(app, client, wechat_standin):
    world()
    location = client.get("/d/DEP001", headers={"User-Agent": WECHAT_UA}).headers["Location"].split("#")[0]
    chooser = requests.get(location, timeout=5)  # nobody named: the visitor is asked who they are
    assert chooser.status_code == 200 and "你是哪位微信用户" in chooser.text
    wrong_app = requests.get(location.replace("wxoatest0000000001", "wxunknown"), allow_redirects=False, timeout=5)
    assert wrong_app.status_code == 400
    bad_code = client.get("/d/DEP001?code=forged&state=h5", headers={"User-Agent": WECHAT_UA})
    assert bad_code.status_code == 200  # the exchange fails (40029): the page is shown, nobody identified
    with client.session_transaction() as session:
        assert webauth.SESSION_KEY not in session
