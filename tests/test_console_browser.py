"""The console in Debian's Chromium: a case from submitted to closed entirely in the browser (the citizen
rates through the mini-program API), the dashboard following along, bulk assign, and every page on the
demo county with screenshots."""
import io
import re

import pytest
from PIL import Image

from models import Case
from services import accounts, calendar, seed
from tests.factories import case_in, new_case, world

pytestmark = pytest.mark.browser
PASSWORD = "secret-pass-1"


def sign_in(page, base, username, password=PASSWORD):
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('登录')")
    page.wait_for_url(re.compile(r"/console/(todo|cases)"))  # staff and departments open on 待办


def sign_out(page):
    page.click("button:has-text('退出')")
    page.wait_for_url(re.compile(r"/console/login"))


def kpi(page, key):
    return page.inner_text(f"[data-kpi={key}] b")


def answer_with(page, klass, text, attachment):
    """The department's 正式答复 form filled in and sent, with one attachment file."""
    answer = page.locator("#act-answer")
    answer.locator("select[name=answer_class]").select_option(klass)
    answer.locator("textarea[name=text]").fill(text)
    answer.locator("input[type=file]").set_input_files(str(attachment))
    answer.locator("button").click()
    assert "已答复" in page.inner_text(".flash.ok")


def watch_errors(page):
    errors = []  # script errors and failed requests (the browser's own favicon probe aside)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors


def test_a_case_from_submitted_to_closed_in_the_browser(live_server, page, tmp_path):
    w = world()
    for account in (w.staff, w.lead):
        accounts.set_password(account, PASSWORD)
        account.save()
    case = new_case(w, title="村口道路坑洼", latitude=28.1, longitude=112.9)
    errors = watch_errors(page)

    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/console/stats")
    assert kpi(page, "total") == "1" and kpi(page, "completion_rate") == "—"

    page.goto(f"{live_server}/console/cases")
    page.click(f"text={case.number}")
    assert "28.10000, 112.90000" in page.inner_text("body")
    page.click("#act-accept button")
    assert "已受理：" in page.inner_text(".flash.ok")
    form = page.locator("#act-assign")
    form.locator("select[name=lead]").select_option("D1")
    form.locator("summary").click()
    form.locator("input[name=assist][value=D2]").check()
    form.locator("input[name=days]").fill("5")
    expected = calendar.add_working_days(calendar.today(), 5).isoformat()
    assert form.locator(".deadline").inner_text() == f"办理时限：{expected}"
    form.locator("button").click()
    assert "已交办" in page.inner_text(".flash.ok")
    assert expected in page.inner_text("body")
    sign_out(page)

    sign_in(page, live_server, "lead")
    assert page.inner_text("h1").startswith("待办")
    page.click("nav >> text=收件箱")
    assert page.inner_text("h1").startswith("收件箱")
    page.click(f"text={case.number}")
    page.click("#act-sign button")
    page.fill("#act-progress textarea[name=note]", "已安排施工队进场")
    page.click("#act-progress button")
    photo = tmp_path / "repaired.jpg"
    Image.new("RGB", (64, 48), "green").save(photo)
    answer_with(page, "A", "路面已全部修复，欢迎监督。", photo)
    assert page.locator(".photos img[alt=附件]").count() == 1
    sign_out(page)

    # the citizen rates through the mini-program API (sign-in with a wx.login code via the WeChat stand-in)
    login = page.request.post(f"{live_server}/api/v1/auth/login", data={"code": "code-citizen"})
    assert login.ok, login.text()
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    rated = page.request.post(f"{live_server}/api/v1/cases/{case.number}/rating", headers=bearer,
                              data={"value": "satisfied", "comment": "修得很好"})
    assert rated.ok, rated.text()

    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/console/cases/{case.number}")
    assert "满意" in page.inner_text("body")
    page.click("#act-close button")
    page.click("#act-publish button")
    assert Case.get_by_id(case.id).state == "closed"
    page.goto(f"{live_server}/console/stats")
    assert [kpi(page, k) for k in ("completion_rate", "on_time_rate", "satisfaction_rate", "success_rate")] == \
        ["100.0%", "100.0%", "100.0%", "100.0%"]
    page.goto(f"{live_server}/public/cases")
    assert case.number in page.inner_text("#public-cases") and "已办结" in page.inner_text("#public-cases")
    assert errors == []


def test_bulk_assign_from_the_queue(live_server, page):
    w = world()
    accounts.set_password(w.staff, PASSWORD)
    w.staff.save()
    ready = [case_in(w, "accepted") for _ in range(3)]
    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/console/cases")
    page.select_option("select[name=state]", "accepted")
    page.click("button:has-text('筛选')")
    page.check("#select-all")
    bulk = page.locator("#bulk")
    bulk.locator("select[name=lead]").select_option("D2")
    bulk.locator("input[name=days]").fill("10")
    bulk.locator("button:has-text('批量交办')").click()
    assert "已交办 3 件" in page.inner_text(".flash.ok")
    assert {Case.get_by_id(c.id).state for c in ready} == {"assigned"}


def test_every_staff_page_on_the_demo_county_with_dashboard_screenshot(live_server, page, tmp_path):
    import os
    seed.seed_demo(log=lambda msg: None)
    errors = watch_errors(page)
    sign_in(page, live_server, "admin", "guanli-2026!")
    page.goto(f"{live_server}/console/stats")
    assert re.match(r"^\d+\.\d%$", kpi(page, "completion_rate")) and int(kpi(page, "total")) == len(seed.PLAN) - 1  # the merged duplicate counts once
    assert page.locator("svg.chart").count() >= 6
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)  # set it to keep the picture for a look
    os.makedirs(shots, exist_ok=True)
    shot = os.path.join(shots, "console-dashboard.png")
    page.screenshot(path=shot, full_page=True)
    image = Image.open(shot)
    assert image.width == 1280 and image.height > 1500
    colors = image.convert("RGB").resize((64, 64)).getcolors(4096)
    assert len(colors) > 8  # a real page, not a blank or an error screen
    text = page.inner_text("body")
    assert "服务器开小差" not in text and "页面不存在" not in text
    nav = page.locator("header nav a")
    for i in range(nav.count()):
        link = nav.nth(i)
        label = link.inner_text()
        link.click()
        page.wait_for_load_state()
        assert page.locator("h1").count() == 1, label
    for path in ("/console/projects/XM001", "/console/deputies/DB0001", "/console/stations/ZCG",
                 "/console/projects/new", "/console/password", "/public/cases"):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
    page.goto(f"{live_server}/console/cases")
    page.locator("#queue tbody a").first.click()
    assert re.search(r"\d{4}-\d{6}", page.inner_text("h1"))
    assert errors == []
