"""The office's week in Debian's Chromium: staff start from 待办, accept and assign, 改派 after a wrong
assignment, correct a title cut mid-phrase, merge a duplicate, record a phone 回访 with the rating given by
phone; the department works from its own 待办, phones the reporter (audited) and answers with a PDF letter;
the audit log shows every step and who did it."""
import re

import pytest

from models import AuditLog, Case
from services import accounts
from tests.factories import new_case, world
from tests.test_console_browser import PASSWORD, answer_with, sign_out, watch_errors

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def sign_in(page, base, username):
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(re.compile(r"/console/todo"))


def todo_count(page, key):
    return int(page.inner_text(f"[data-todo={key}] b"))


def test_a_staff_and_a_department_week_in_the_browser(live_server, page, tmp_path):
    w = world()
    for account in (w.staff, w.lead, w.outsider_dept, w.admin):
        accounts.set_password(account, PASSWORD)
        account.save()
    case = new_case(w, title="路灯坏了两个月，老人", content="村口路灯坏了两个月，老人晚上出门看不见路。")
    duplicate = new_case(w, reporter=w.other_citizen, content="村口那几盏路灯一直不亮，晚上很黑。")
    errors = watch_errors(page)

    # Monday: staff open on 待办 and go from the count to the case
    sign_in(page, live_server, "staff")
    assert todo_count(page, "new") == 2
    page.click("[data-todo=new]")
    assert "共 2 件" in page.inner_text("h1")
    page.click(f"text={case.number}")
    assert "staff" not in page.inner_text(".timeline")  # only the citizen so far
    page.click("#act-accept button")
    edit = page.locator("#act-edit")
    edit.locator("input[name=title]").fill("路灯坏了两个月，老人夜间出行不便")
    edit.locator("select[name=category]").select_option("construction")
    edit.locator("textarea[name=summary]").fill("村口3盏路灯不亮")
    edit.locator("input[name=reason]").fill("标题被截断")
    edit.locator("button").click()
    assert "已修改案件信息" in page.inner_text(".flash.ok")
    assert "路灯坏了两个月，老人夜间出行不便" in page.inner_text("h1")
    assert "村口路灯坏了两个月，老人晚上出门看不见路。" in page.inner_text("body")  # the citizen's words stay
    assign = page.locator("#act-assign")
    assign.locator("select[name=lead]").select_option("D1")  # the wrong department
    assign.locator("button").click()
    # the mistake: 改派 to the right one, with a reason
    reassign = page.locator("#act-reassign")
    reassign.locator("select[name=lead]").select_option("D3")
    reassign.locator("input[name=reason]").fill("路灯属住建部门职责")
    reassign.locator("button").click()
    assert "已改派" in page.inner_text(".flash.ok")
    timeline = page.inner_text(".timeline")
    assert "改派" in timeline and "原承办单位：县交通运输局" in timeline and "原因：路灯属住建部门职责" in timeline
    assert "县人大常委会 · staff" in timeline and "人大代表" not in timeline.split("改派")[1]

    # the duplicate: merged into the original, with a refusal first (the form keeps what was typed)
    page.goto(f"{live_server}/console/cases/{duplicate.number}")
    merge = page.locator("#act-merge")
    merge.locator("input[name=original]").fill("2026-999999")
    merge.locator("input[name=reason]").fill("同一处路灯")
    merge.locator("button").click()
    assert "未找到要合并到的原案件" in page.inner_text(".flash.error")
    assert page.locator("#act-merge input[name=reason]").input_value() == "同一处路灯"
    page.fill("#act-merge input[name=original]", case.number)
    page.click("#act-merge button")
    assert "已合并" in page.inner_text("h1")
    sign_out(page)

    # the department that got it by mistake sees nothing to do; the right one signs, phones, answers
    sign_in(page, live_server, "outsider")
    assert todo_count(page, "to_sign") == 1
    page.click("[data-todo=to_sign]")
    page.click(f"text={case.number}")
    page.click("#act-sign button")
    phone = page.inner_text("#phone")
    assert "138****1111" in phone
    page.click("#reveal-phone")
    assert "13800001111" in page.inner_text("#phone")
    page.fill("#act-contact textarea[name=note]", "已电话联系反映人，约定周三现场查看")
    page.click("#act-contact button")
    letter = tmp_path / "答复函.pdf"
    letter.write_bytes(PDF)
    answer_with(page, "A", "已更换3盏路灯，详见答复函。", letter)
    assert page.locator("a.attachment").count() == 1
    sign_out(page)

    # Friday: staff call the reporter back and enter the rating given by phone, then close
    sign_in(page, live_server, "staff")
    assert todo_count(page, "to_close") == 1
    page.click("[data-todo=to_close]")
    page.click(f"text={case.number}")
    callback = page.locator("#act-callback")
    callback.locator("select[name=result]").select_option("resolved")
    callback.locator("textarea[name=note]").fill("电话回访：路灯已亮，群众认可")
    callback.locator("button").click()
    page.locator("#act-rate_by_phone select[name=value]").select_option("satisfied")
    page.click("#act-rate_by_phone button")
    assert "电话回访中群众口头评价" in page.inner_text(".timeline")
    page.click("#act-close button")
    assert Case.get_by_id(case.id).state == "closed"
    sign_out(page)

    # the audit log: every case change, and the department's view of the phone, with who did it
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/console/audit?target={case.number}")
    rows = page.inner_text("#audit")
    for action in ("case.accept", "case.edit", "case.assign", "case.reassign", "case.sign", "view_phone",
                   "case.contact", "case.answer", "case.callback", "case.rate_by_phone", "case.close"):
        assert action in rows, action
    assert "outsider" in rows and "staff" in rows
    page.select_option("select[name=action]", "view_phone")
    page.click("button:has-text('筛选')")
    assert page.locator("#audit tbody tr").count() == 1
    assert AuditLog.select().where(AuditLog.action == "view_phone").count() == 1
    assert errors == [f"400 {live_server}/console/cases/{duplicate.number}/act/merge"]  # the refused merge only
