"""部门评议 in Debian's Chromium: the office sets it up and opens it in the console, two deputies vote on
their phones (signed in on the phone workbench, opened from its 请参加表决 box), a third is refused, the office
closes, publishes and exports; the big screen shows the published ranking. Fresh database, no seed."""
import datetime as dt
import io
import re

import openpyxl
import pytest

from models import Account, Deputy, Paper, Participation, utcnow
from services import accounts
from tests.factories import world

pytestmark = pytest.mark.browser
PASSWORD = "secret-pass-1"


def phone_sign_in(phone, base, username):
    phone.goto(f"{base}/m/")
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('登录')")
    phone.wait_for_url(re.compile(r"/m/"))


def test_department_review_from_set_up_to_exported_results(live_server, page, phone_page, browser):
    w = world()
    third = Deputy.create(code="DEP003", name="郑一", level="county", station=w.town_a)
    third_account = Account.create(role="deputy", username="deputy3", deputy=third)
    for account in (w.staff, w.deputy_account, w.other_deputy_account, third_account):
        accounts.set_password(account, PASSWORD)
        account.save()

    page.goto(f"{live_server}/console/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.goto(f"{live_server}/console/ballots/new")
    now = utcnow() + dt.timedelta(hours=8)
    page.fill("input[name=title]", "2026年度部门工作评议")
    page.select_option("select[name=kind]", "review")
    page.select_option("select[name=method]", "rate")
    page.select_option("select[name=electorate]", "deputies")
    page.fill("input[name=opens_at]", (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=closes_at]", (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=base]", "voting")
    for d in w.depts:
        page.check(f"#departments input[value={d.code}]")
    for code in (w.deputy.code, w.other_deputy.code):
        page.check(f"#deputies input[value={code}]")
    page.click("button:has-text('创建')")
    page.wait_for_url(re.compile(r"/console/ballots/B"))
    code = page.url.rsplit("/", 1)[1]
    page.click("#open")
    assert "投票已开始" in page.inner_text(".flash.ok")

    votes = {"deputy": ["good", "fair", "poor"], "deputy2": ["good", "poor", "poor"]}
    for username, marks in votes.items():
        context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True)
        phone = context.new_page()
        phone_sign_in(phone, live_server, username)
        phone.click("#ballots a:has-text('2026年度部门工作评议')")
        for d, mark in zip(w.depts, marks):
            phone.check(f"fieldset:has(legend:text-is('{d.name}')) input[value={mark}]")
        if username == "deputy":
            phone.fill("#comment", "建议县住建局加快老旧小区改造进度")
        phone.click("#submit-vote")
        assert "投票成功" in phone.inner_text("#voted")
        phone.goto(f"{live_server}/m/ballots/{code}")
        assert "已经投过票" in phone.inner_text("#refusal")
        context.close()

    phone_sign_in(phone_page, live_server, "deputy3")  # not on the list
    phone_page.goto(f"{live_server}/m/ballots/{code}")
    assert "不在本次表决的投票人名单" in phone_page.inner_text("#refusal")
    assert Paper.select().count() == 2 and Participation.select().count() == 2

    page.goto(f"{live_server}/console/ballots/{code}")
    assert "已投票 2 / 应投 2" in page.inner_text("#turnout")
    page.click("#close")
    page.click("#publish")
    assert "结果已公布" in page.inner_text(".flash.ok")
    with page.expect_download() as download:
        page.click("#export")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    sheet = book["测评结果"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert [r[1] for r in rows] == ["县交通运输局", "县住建局", "县教育局"]
    assert [r[6] for r in rows] == ["100.0%", "50.0%", "0.0%"] and [r[7] for r in rows] == [None, "是", "是"]

    assert [c.value for c in book["意见建议"]["A"]][2:] == ["建议县住建局加快老旧小区改造进度"]
    phone_page.goto(f"{live_server}/v/{code}/live")
    screen = phone_page.inner_text("#results")
    assert "县交通运输局" in screen and screen.count("须整改") == 2
