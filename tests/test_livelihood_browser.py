"""微实事 in Debian's Chromium: a deputy proposes on a 360-px phone (phone workbench → 微实事), the office approves
it in the console, the department enters spending (one fen too much refused), and the public ledger page reads
exactly on the phone. Fresh database, no seed."""
import pytest

from models import MicroProject
from services import accounts, calendar, micro
from tests.factories import world
from tests.test_console_browser import PASSWORD
from tests.test_console_browser import sign_in as console_sign_in

pytestmark = pytest.mark.browser


def test_a_micro_project_from_the_deputys_phone_to_the_public_ledger(live_server, page, phone_page, browser):
    w = world()
    for account in (w.staff, w.deputy_account, w.lead):
        accounts.set_password(account, PASSWORD)
        account.save()
    year = calendar.today().year
    micro.create_fund(w.staff, {"station": "TA", "year": str(year), "budget": "200000", "cap": "50000"})

    phone_page.goto(f"{live_server}/m/")
    phone_page.fill("input[name=username]", "deputy")
    phone_page.fill("input[name=password]", PASSWORD)
    phone_page.click("button:has-text('登录')")
    phone_page.click("#micro")
    phone_page.fill("input[name=title]", "东街口安装减速带")
    phone_page.fill("input[name=location]", "城关镇东街口")
    phone_page.fill("input[name=estimate]", "50000.01")
    phone_page.click("button:has-text('提交')")
    assert "不超过单个项目上限50,000.00元" in phone_page.inner_text("[role=alert]")
    phone_page.fill("input[name=estimate]", "4321.09")
    phone_page.click("button:has-text('提交')")
    assert "等待主席团审议" in phone_page.inner_text("[role=status]")
    code = MicroProject.get().code

    console_sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/console/micro/{code}")
    page.check("input[name=decision][value=approve]")
    page.fill("input[name=note]", "城关镇人大主席团第4次会议决定")
    page.click("button:has-text('记录决定')")
    assert "请选择实施单位" in page.inner_text(".flash.error")
    page.check("input[name=decision][value=approve]")
    page.select_option("form:has(input[value=decide]) select[name=department]", "D1")
    page.fill("input[name=note]", "城关镇人大主席团第4次会议决定")
    page.click("button:has-text('记录决定')")
    assert "已记录主席团的决定" in page.inner_text(".flash.ok")

    lead = browser.new_page(locale="zh-CN")
    console_sign_in(lead, live_server, "lead")
    lead.goto(f"{live_server}/console/micro/{code}")
    lead.fill("form:has(input[value=spend]) input[name=amount]", "4321.10")
    lead.fill("form:has(input[value=spend]) input[name=note]", "材料与安装")
    lead.click("button:has-text('登记支出')")
    assert "最多还能支出4,321.09元" in lead.inner_text(".flash.error")
    lead.fill("form:has(input[value=spend]) input[name=amount]", "4321.09")
    lead.fill("form:has(input[value=spend]) input[name=note]", "材料与安装")
    lead.click("button:has-text('登记支出')")
    assert "已登记支出" in lead.inner_text(".flash.ok")
    lead.close()

    phone_page.goto(f"{live_server}/micro/{year}/TA")
    ledger = phone_page.inner_text("#ledger")
    for figure in ("200,000.00 元", "4,321.09 元", "195,678.91 元"):
        assert figure in ledger, figure
    assert "东街口安装减速带" in phone_page.inner_text("main")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.click(f"a[href='/p/{code}']")
    assert "城关镇联络站人大主席团批准 4,321.09 元，已支出 4,321.09 元" in phone_page.inner_text("#origin")
