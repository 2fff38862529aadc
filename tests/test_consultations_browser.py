"""法规草案征求意见 in Debian's Chromium: the office uploads a .docx draft in the console and sends it to two
stations; a citizen opens town A's link on a 390-px phone, picks article 2, is refused an empty opinion, sends
one, and sees it waiting; the office answers it and publishes; the phone shows the reply with the article's
counts. Fresh database, no seed."""
import datetime as dt
import re

import pytest

from models import Consultation, Opinion, utcnow
from services import accounts, consultations
from tests.factories import world
from tests.test_console_browser import PASSWORD, sign_in
from tests.test_consultations import draft_docx

pytestmark = pytest.mark.browser

def test_a_draft_regulation_commented_on_a_phone_and_answered_in_the_console(live_server, page, browser,
                                                                                tmp_path):
    w = world()
    accounts.set_password(w.staff, PASSWORD)
    w.staff.save()
    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/console/consultations/new")
    now = utcnow() + dt.timedelta(hours=8)
    page.fill("input[name=title]", "《青山县农村人居环境治理条例（草案）》征求意见")
    page.select_option("select[name=kind]", "law")
    page.select_option("select[name=mode]", "articles")
    page.select_option("select[name=audience]", "stations")
    page.fill("input[name=opens_at]", (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=closes_at]", (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    draft = tmp_path / "草案.docx"
    draft.write_bytes(draft_docx())
    page.set_input_files("input[name=draft]", str(draft))
    page.check(f"#stations input[value={w.town_a.code}]")
    page.check(f"#stations input[value={w.town_b.code}]")
    page.click("button:has-text('创建')")
    page.wait_for_url(re.compile(r"/console/consultations/Q"))
    assert "3个条文或问题" in page.inner_text(".flash.ok")
    code = page.url.rsplit("/", 1)[1]
    page.click("#open")
    assert "征求意见已开始" in page.inner_text(".flash.ok")

    phone_context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True, device_scale_factor=2)
    phone = phone_context.new_page()
    phone.goto(f"{live_server}/s/{w.town_a.code}")
    phone.click(f"#consultations a[href*='{code}']")
    phone.wait_for_url(re.compile(rf"/q/{code}\?s={w.town_a.code}"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    second = consultations.sections(Consultation.get())[1]
    phone.click(f"#section-{second.id} a.button")
    assert phone.input_value("#section") == str(second.id)
    phone.fill("#text", "好")
    phone.fill("#name", "王五")
    phone.evaluate("document.querySelector('#text').removeAttribute('minlength')")  # what an old browser sends
    phone.click("#submit-opinion")
    assert "意见内容至少5个字" in phone.inner_text("#error")
    assert Opinion.select().count() == 0
    phone.fill("#text", "建议写明乡镇人民政府的具体职责。")
    phone.click("#submit-opinion")
    assert "提交成功" in phone.inner_text("#done")
    assert "等待答复" in phone.inner_text("#mine")
    opinion = Opinion.get()
    assert (opinion.station_id, opinion.channel, opinion.section_id) == (w.town_a.id, "h5", second.id)

    page.reload()
    page.click("#close")
    form = page.locator(f"#opinion-{opinion.id} form.answer")
    form.locator("input[value=partly]").check()
    form.locator("input[name=reason]").fill("职责已在第三条中补充")
    form.locator("button").click()
    assert "已保存答复" in page.inner_text(".flash.ok")
    page.click("#publish")
    assert "答复已公布" in page.inner_text(".flash.ok")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")

    phone.goto(f"{live_server}/q/{code}?s={w.town_a.code}")
    assert "部分采纳：职责已在第三条中补充" in phone.inner_text("#mine")
    assert "意见 1 条：采纳 0，部分采纳 1，未采纳 0" in phone.inner_text(f"#part-{second.id}")
    assert "王五" not in phone.inner_text("main")
    phone_context.close()
