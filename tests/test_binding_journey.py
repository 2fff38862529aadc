"""The issue's "done when", in Chromium on a fresh database without the demo seed, in sandbox mode: the office
creates a deputy and a department account in the console and hands each a binding code; each binds through
the sandbox (a text to the official account, a scanned QR); from then on each receives their pushes and
works their part of a case from a 390-px phone through the /m/ workbench."""
import os
import socket
import threading

import pytest
from PIL import Image
from werkzeug.serving import make_server

from models import Case, Notification, db
from services import accounts, delivery, workflow
from tests.test_wechat_cli_sandbox import sandbox_app

pytestmark = pytest.mark.browser
PASSWORD = "Qingshan-county-2026"


@pytest.fixture
def sandbox_server(app, database_url, wechat_standin):
    """The app in sandbox mode (WeChat played by the stand-in) served on 127.0.0.1."""
    wechat_standin.configure(apps={})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    sandbox = sandbox_app(database_url, wechat_standin.base_url, PUBLIC_BASE_URL=base,
                          UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], QUIET_HOURS="")
    server = make_server("127.0.0.1", port, sandbox, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with sandbox.app_context():
        yield sandbox, base
    server.shutdown()
    thread.join(10)


def phone(browser):
    return browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                               has_touch=True).new_page()


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def be(page, base, openid):
    """On the sandbox page: become this WeChat user, then open the phone workbench "in WeChat" as them."""
    page.goto(f"{base}/dev/wechat")
    page.select_option("#act-as select", openid)
    page.click("#act-as button")
    page.click("#open-m")
    page.wait_for_url(f"{base}/m/**")


def act(page, name, **fields):
    """Open an action's form on the case page (it is folded when there are several), fill it, send it."""
    if page.get_attribute(f"#act-{name}", "open") is None:
        page.click(f"#act-{name} summary")
    for selector, value in fields.items():
        page.fill(f"#{selector}", value)
    page.click(f"#act-{name} button")


def pushes_to(standin, openid):
    delivery.drain()
    return [m for m in standin.sent("template") if m["touser"] == openid]


def test_a_new_county_binds_a_deputy_and_a_handler_who_then_work_a_case_from_their_phones(
        sandbox_server, browser, wechat_standin, tmp_path):
    sandbox, base = sandbox_server
    accounts.create_user("admin", "office", PASSWORD, "县人大办")  # the one account made on the command line
    db.close()
    desk = browser.new_context(locale="zh-CN").new_page()
    desk.goto(f"{base}/console/login")
    desk.fill("input[name=username]", "office")
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button.primary")
    # the office creates a department, a handler's account and a deputy
    desk.goto(f"{base}/console/departments")
    desk.fill("form.card input[name=code]", "JT")
    desk.fill("form.card input[name=name]", "县交通运输局")
    desk.click("form.card button.primary")
    desk.goto(f"{base}/console/accounts")
    desk.fill("form.card input[name=username]", "lichao")
    desk.fill("form.card input[name=display_name]", "李超")
    desk.fill("form.card input[name=password]", PASSWORD)
    desk.select_option("form.card select[name=role]", "department")
    desk.select_option("form.card select[name=department]", "JT")
    desk.click("form.card button.primary")
    desk.goto(f"{base}/console/deputies/new")
    desk.fill("input[name=code]", "DB0001")
    desk.fill("input[name=name]", "王建华")
    desk.select_option("select[name=level]", "county")
    desk.click("form.card button.primary")
    # … and hands each a binding code: the deputy's typed code, the handler's QR link
    desk.click("#binding button.primary")
    deputy_code = desk.inner_text("#bind-code")
    desk.goto(f"{base}/console/accounts")
    desk.click("text=lichao")
    desk.click("#binding button.primary")
    handler_link = desk.inner_text("#bind-link")
    # each binds through the sandbox
    desk.goto(f"{base}/dev/wechat")
    desk.select_option("#act-as select", "oa-wang")
    desk.click("#act-as button")
    desk.fill("#say input[name=text]", f"绑定 {deputy_code}")
    desk.click("#say button")
    assert "您已绑定为 王建华 代表" in desk.inner_text("#reply")
    desk.select_option("#act-as select", "oa-bob")
    desk.click("#act-as button")
    desk.fill("#scan input[name=token]", handler_link)
    desk.click("#scan button")
    assert "您已绑定为 县交通运输局 李超" in desk.inner_text("#reply")
    assert len(pushes_to(wechat_standin, "oa-wang")) == 1 and len(pushes_to(wechat_standin, "oa-bob")) == 1

    # a citizen reports to the deputy from the H5 page; the deputy's push links to his phone workbench
    citizen = phone(browser)
    citizen.goto(f"{base}/d/DB0001")
    citizen.select_option("#category", "traffic")
    citizen.fill("#content", "村口的路灯坏了两个月，晚上很黑，老人出门不方便。")
    citizen.click("text=提交反映")
    number = citizen.inner_text("#case-number")
    push = pushes_to(wechat_standin, "oa-wang")[-1]
    assert push["url"] == f"{base}/m/cases/{number}" and push["data"]["character_string1"]["value"] == number

    deputy = phone(browser)
    be(deputy, base, "oa-wang")
    assert "王建华 代表" in deputy.inner_text("body") and deputy.inner_text("#tab-todo strong") == "1"
    deputy.goto(push["url"])
    assert no_sideways_scroll(deputy)
    act(deputy, "accept")
    assert "已受理" in deputy.inner_text("[role=status]") and deputy.inner_text("#case-state") == "已受理"
    act(deputy, "reply", **{"reply-note": "已转县交通运输局，请耐心等待。"})
    assert "已回复群众" in deputy.inner_text("[role=status]")

    # the office assigns it; the handler's push links to the department's phone workbench
    case = Case.get(Case.number == number)
    office = accounts.login("office", PASSWORD)
    workflow.perform(case, "assign", office, {"lead": "JT", "days": 5})
    push = pushes_to(wechat_standin, "oa-bob")[-1]
    assert push["url"] == f"{base}/m/cases/{number}"
    handler = phone(browser)
    be(handler, base, "oa-bob")
    assert "县交通运输局 李超" in handler.inner_text("body") and handler.inner_text("#tab-todo strong") == "1"
    handler.goto(push["url"])
    act(handler, "sign")
    assert handler.inner_text("#case-state") == "办理中"
    photo = tmp_path / "lamp.jpg"
    Image.new("RGB", (64, 48), (200, 180, 40)).save(photo)
    handler.set_input_files("#progress-photos", str(photo))
    act(handler, "progress", **{"progress-note": "已派人到现场查看，正在更换灯具。"})
    assert handler.locator("ol.timeline img").count() == 1
    if handler.get_attribute("#act-answer", "open") is None:
        handler.click("#act-answer summary")
    handler.select_option("#answer-class", "A")
    act(handler, "answer", **{"answer-text": "路灯已于本周更换完毕，恢复照明。"})
    assert handler.inner_text("#case-state") == "已答复" and no_sideways_scroll(handler)
    if os.environ.get("H5_SCREENSHOTS"):
        handler.screenshot(path=os.path.join(os.environ["H5_SCREENSHOTS"], "m-answered.png"), full_page=True)
    assert Case.get(Case.number == number).state == "answered"
    # the deputy hears of the answer on his phone too
    kinds = [n.kind for n in Notification.select().where(Notification.case == case.id)
             .where(Notification.account.in_([a.id for a in accounts.Account.select().where(
                 accounts.Account.oa_openid == "oa-wang")]))]
    assert kinds == ["case_new", "deputy_answer"]
    assert pushes_to(wechat_standin, "oa-wang")[-1]["url"] == f"{base}/m/cases/{number}"
