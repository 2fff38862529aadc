"""The whole loop without the mini-program, in Debian's Chromium on a phone-sized screen: from the printed
代表码 (/d/DB0001) to a rated and reopened case — from a plain phone browser (SMS from the stand-in) and
inside WeChat's browser (web OAuth through the stand-in, the push link opening the case)."""
import re

import pytest

from models import Account, Case
from services import delivery, workflow
from tests.factories import world
from tests.wechat_helpers import WECHAT_UA, event_xml, post_plain, wire

pytestmark = pytest.mark.browser
PHONE = "13912345678"


@pytest.fixture
def w(app, live_server):
    app.config.update(QUIET_HOURS="", PUBLIC_BASE_URL=live_server)
    w = world()
    w.deputy.code = "DB0001"
    w.deputy.save()
    return w


def handle(w, number, *steps):
    """The deputy, the office and the department do their part (through the workflow, as their doors do)."""
    actors = {"accept": (w.deputy_account, {}), "assign": (w.staff, {"lead": "D1", "days": 5}),
              "sign": (w.lead, {}), "answer": (w.lead, {"answer_class": "A", "text": "路灯已全部更换，恢复照明。"})}
    for step in steps:
        who, data = actors[step]
        workflow.perform(Case.get(Case.number == number), step, who, data)
    delivery.drain()


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def file_report(page, base, sms=False):
    page.goto(f"{base}/d/DB0001")
    page.select_option("#category", "safety")
    page.fill("#content", "村口的路灯坏了两个月，晚上很黑，老人出门不方便。")
    page.fill("#contact_phone", PHONE)
    if sms:
        page.check("input[name=sms_notify]")
    page.click("text=提交反映")
    page.wait_for_selector("#case-number")
    return page.inner_text("#case-number")


def rate_unsatisfied(page):
    page.check("input[name=value][value=unsatisfied]")
    page.click("#rate button[type=submit]")
    assert "请写一写哪里不满意" in page.inner_text("#error")  # nothing written without the reason
    page.check("input[name=value][value=unsatisfied]")
    page.fill("#comment", "只换了一半，东头还是黑的")
    page.click("#rate button[type=submit]")
    page.wait_for_selector("text=感谢您的评价")


def test_from_a_plain_phone_browser_with_sms(w, live_server, browser, phone_page, sms_standin):
    number = file_report(phone_page, live_server, sms=True)
    handle(w, number, "accept", "assign", "sign")
    handle(w, number, "answer")
    texts = [m["text"] for m in sms_standin.sent(PHONE)]
    assert len(texts) == 3 and all(number in t for t in texts)
    for step in ("反映已受理", "反映已交办", "反映已答复"):  # each once (senders work side by side: any order)
        assert sum(step in t for t in texts) == 1, step
    # a different phone (the browser's claim is not there): 查我的反映 with the SMS code
    other = browser.new_context(locale="zh-CN", viewport={"width": 320, "height": 640}, is_mobile=True,
                                has_touch=True)
    page = other.new_page()
    page.goto(f"{live_server}/")
    page.fill("#number", number)
    page.click("#my-case button")
    assert "没有找到您可以查看的反映" in page.inner_text("h1")
    page.click("text=查我的反映")
    page.fill("#phone", PHONE)
    page.click("text=获取验证码")
    page.wait_for_selector("#code")
    page.fill("#code", sms_standin.last_code(PHONE))
    page.click("button[value=verify]")
    page.click(f"text={number}")
    assert "县交通运输局" in page.inner_text("#answer-1") and "已解决" in page.inner_text("#answer-1")
    assert no_sideways_scroll(page)
    rate_unsatisfied(page)
    assert "第2轮" in page.inner_text("body") and "已交承办单位" in page.inner_text("#state")
    case = Case.get(Case.number == number)
    assert (case.state, case.round) == ("assigned", 2)
    delivery.drain()
    texts = [m["text"] for m in sms_standin.sent(PHONE)]
    assert len(texts) == 5 and "二次办理" in texts[-1]  # 3 steps, the code, the second round: each once
    page.goto(f"{live_server}/public/cases")
    assert no_sideways_scroll(page)
    other.close()


def test_inside_wechat_the_push_link_opens_the_case_for_its_reporter(app, w, live_server, browser, client,
                                                                     wechat_standin):
    wire(app)
    standin = wechat_standin.base_url.rstrip("/")
    context = browser.new_context(locale="zh-CN", user_agent=WECHAT_UA, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{standin}/_standin/as?name=wang&next={live_server}/")  # this phone is WeChat user "wang"
    number = file_report(page, live_server)
    case = Case.get(Case.number == number)
    assert case.reporter.oa_openid == "oa-wang"
    post_plain(client, event_xml("subscribe", openid="oa-wang"))  # wang follows the official account
    handle(w, number, "accept", "assign", "sign", "answer")
    pushes = [m for m in wechat_standin.sent("template") if m["touser"] == "oa-wang"]
    assert len(pushes) == 3 and all(p["url"] == f"{live_server}/c/{number}" for p in pushes)
    context.close()
    # the push opens in WeChat's browser, a fresh session: OAuth identifies wang, the case is theirs
    context = browser.new_context(locale="zh-CN", user_agent=WECHAT_UA, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{standin}/_standin/as?name=wang&next={pushes[-1]['url']}")
    assert page.inner_text("#case-number") == number and "路灯已全部更换" in page.inner_text("#answer-1")
    rate_unsatisfied(page)
    assert Case.get(Case.number == number).round == 2
    delivery.drain()
    pushes = [m for m in wechat_standin.sent("template") if m["touser"] == "oa-wang"]
    assert len(pushes) == 4 and re.search("二次办理", str(pushes[-1]["data"]))
    assert Account.select().where(Account.oa_openid == "oa-wang").count() == 1
    # a stranger's WeChat opens the same link: nothing shown
    stranger = browser.new_context(locale="zh-CN", user_agent=WECHAT_UA)
    spage = stranger.new_page()
    spage.goto(f"{standin}/_standin/as?name=li&next={live_server}/c/{number}")
    assert "没有找到您可以查看的反映" in spage.inner_text("h1") and "路灯" not in spage.inner_text("body")
    stranger.close()
    context.close()
