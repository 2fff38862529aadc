"""The H5 pages in Debian's Chromium: a phone-sized screen, a real form submit, no sideways scrolling."""
import datetime as dt
import os

import pytest

from models import Case, ProjectUpdate
from tests.factories import world

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("H5_SCREENSHOTS")  # a folder: keep screenshots to look at


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_reports_from_a_phone_and_sees_the_case_number(live_server, phone_page, app):
    w = world()
    w.town_a.name = "城关镇东门社区第三网格人大代表联络站暨党群服务中心代表接待室"  # long names must wrap
    w.town_a.save()
    page = phone_page
    page.goto(f"{live_server}/d/DEP001")
    assert page.inner_text("h1") == "周建华"
    assert no_sideways_scroll(page)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "h5-deputy.png"), full_page=True)
    page.select_option("#category", "traffic")
    page.fill("#content", "村口的路灯坏了两个月，晚上很黑，老人出门不方便。")
    page.fill("#contact_phone", "13912345678")
    page.click("text=提交反映")
    page.wait_for_selector("#case-number")
    number = page.inner_text("#case-number")
    assert Case.get(Case.number == number).deputy.code == "DEP001"
    assert "提交成功" in page.inner_text("body") and f"查询 {number}" in page.inner_text("body")
    assert no_sideways_scroll(page)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "h5-done.png"), full_page=True)
    for path in ("/s/TA", "/", "/d/NOPE"):
        page.goto(f"{live_server}{path}")
        assert no_sideways_scroll(page), path


def test_project_page_shows_the_latest_update(live_server, phone_page, app):
    w = world()
    w.project.progress = 60
    w.project.save()
    ProjectUpdate.create(project=w.project, text="路基已完成", progress=30, created_at=dt.datetime(2026, 6, 1, 2))
    ProjectUpdate.create(project=w.project, text="沥青路面铺设完成，正在画标线", progress=60,
                         created_at=dt.datetime(2026, 7, 1, 2))
    page = phone_page
    page.goto(f"{live_server}/p/XM001")
    first = page.locator("#updates .update").first
    assert "沥青路面铺设完成，正在画标线" in first.inner_text() and "2026年7月1日" in first.inner_text()
    assert "60%" in page.inner_text(".percent")
    assert no_sideways_scroll(page)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "h5-project.png"), full_page=True)
