"""Reception days in Debian's Chromium on 390-px phones: a citizen finds the next reception day on the station's
page, books a slot with the deputy on duty and cancels it; a deputy signed in on the phone workbench opens the
station's check-in page and checks in, the phone giving its place. Fresh database, no seed."""
import datetime as dt
import re

import pytest

from models import Attendance, Booking, utcnow
from services import accounts, activities
from tests.factories import world

pytestmark = pytest.mark.browser
PASSWORD = "secret-pass-1"
PHONE = {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def fits(page):
    """Nothing on the page is wider than the phone's screen."""
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_citizen_books_a_reception_day_from_the_station_page_and_cancels(live_server, browser):
    w = world()
    activities.add_rule(w.staff, w.town_a, {"repeat": "monthly", "monthday": "15", "start_time": "09:00",
                                            "end_time": "11:30", "slots": "3", "deputies": [w.deputy.code]})
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(f"{live_server}/s/TA")
    days = phone.locator("#reception-days li a")
    assert days.count() >= 3 and "周建华" in days.first.inner_text() and "可预约 3 人" in days.first.inner_text()
    assert fits(phone)
    days.first.click()
    phone.wait_for_url(re.compile(r"/r/A"))
    phone.click("button:has-text('确认预约')")  # the browser's own checks stop an empty form
    assert "/r/A" in phone.url and not Booking.select().exists()
    phone.select_option("select[name=deputy]", w.deputy.code)
    phone.fill("textarea[name=topic]", "小区加装电梯的问题")
    phone.fill("input[name=name]", "张大爷")
    phone.fill("input[name=phone]", "12345")
    phone.click("button:has-text('确认预约')")
    assert "请填写正确的手机号" in phone.inner_text(".error")
    phone.fill("input[name=phone]", "13800001111")
    phone.click("button:has-text('确认预约')")
    phone.wait_for_url(re.compile(r"/r/b/Y"))
    assert "预约成功" in phone.inner_text("#booked") and "138****1111" in phone.inner_text("dl")
    assert fits(phone)
    booking = Booking.get()
    assert (booking.deputy_id, booking.topic, booking.state) == (w.deputy.id, "小区加装电梯的问题", "booked")
    phone.goto(f"{live_server}/s/TA")
    assert "可预约 2 人" in phone.locator("#reception-days li a").first.inner_text()
    phone.goto(f"{live_server}/r/b/{booking.code}")
    phone.click("#cancel-booking")
    phone.wait_for_url(re.compile(r"done=cancelled"))
    assert "预约已取消" in phone.inner_text("#cancelled") and phone.inner_text("#state") == "已取消"
    assert Booking.get_by_id(booking.id).state == "cancelled"
    stranger = browser.new_context(**PHONE).new_page()  # another phone cannot open (or cancel) the booking
    stranger.goto(f"{live_server}/r/b/{booking.code}")
    assert "没有找到" in stranger.inner_text("main")
    context.close()


def test_a_deputy_checks_in_at_the_station_on_their_phone_with_its_place(live_server, browser):
    w = world()
    accounts.set_password(w.deputy_account, PASSWORD)
    w.deputy_account.save()
    now = utcnow() + dt.timedelta(hours=8)
    day = activities.add_day(w.staff, w.town_a, {
        "starts_at": (now + dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "deputies": [w.deputy.code]})
    context = browser.new_context(**PHONE, geolocation={"latitude": 30.25, "longitude": 120.17},
                                  permissions=["geolocation"])
    phone = context.new_page()
    phone.goto(f"{live_server}/m/checkin/TA")
    assert "已绑定代表身份的微信" in phone.inner_text("main")
    phone.goto(f"{live_server}/m/")
    phone.fill("input[name=username]", "deputy")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button:has-text('登录')")
    phone.wait_for_url(re.compile(r"/m/"))
    phone.goto(f"{live_server}/m/checkin/TA")
    assert day.title in phone.inner_text("main") and fits(phone)
    phone.wait_for_function("document.querySelector('form.checkin [name=latitude]').value !== ''")
    phone.click("form.checkin button")
    assert "签到成功" in phone.inner_text("#checked-in")
    row = Attendance.get(Attendance.activity == day, Attendance.deputy == w.deputy)
    assert row.checked_in_at is not None and (row.latitude, row.longitude) == (30.25, 120.17)
    assert "已于" in phone.inner_text("main")  # the day now shows the check-in instead of the button
    phone.click("text=我的履职档案")
    assert "到站签到 1 次" in phone.inner_text("#record") and fits(phone)
    context.close()
