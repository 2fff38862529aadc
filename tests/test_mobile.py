"""The phone workbench /m/ through the test client: password sign-in outside WeChat, every action a deputy
and a department handler has there, refusals shown on the page, and who may not use it."""
import re

import pytest

from models import Account, Assignment, Case, CaseEvent
from services import accounts
from tests.factories import case_in, new_case, world
from tests.wechat_helpers import web_oauth

PASSWORD = "Qingshan-county-2026"


@pytest.fixture
def w(app):
    return world()


def csrf(response):
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sign_in(client, account):
    accounts.set_password(account, PASSWORD)
    account.save()
    page = client.get("/m/")
    assert "用户名" in page.get_data(as_text=True)
    done = client.post("/m/login", data={"csrf_token": csrf(page), "username": account.username,
                                         "password": PASSWORD})
    assert done.status_code == 303, done.get_data(as_text=True)


def act(client, number, action, **data):
    page = client.get(f"/m/cases/{number}")
    assert f'id="act-{action}"' in page.get_data(as_text=True), action
    return client.post(f"/m/cases/{number}", data={"csrf_token": csrf(page), "action": action,
                                                   "seen_state": Case.get(Case.number == number).state,
                                                   "seen_version": Case.get(Case.number == number).version, **data})


def test_a_deputy_declines_forwards_and_gives_an_opinion_from_the_phone(client, w):
    sign_in(client, w.deputy_account)
    first, second = new_case(w), new_case(w, content="小区门口的垃圾桶满了没人清。")
    home = client.get("/m/").get_data(as_text=True)
    assert "周建华 代表" in home and re.search(r'id="tab-todo"><strong>2</strong>', home)
    refused = act(client, first.number, "decline")
    assert refused.status_code == 400 and "请选择有效的不予受理的原因" in refused.get_data(as_text=True)
    assert act(client, first.number, "decline", reason="duplicate").status_code == 303
    assert act(client, second.number, "forward", note="建议交住建局。").status_code == 303
    assert act(client, second.number, "opinion", note="已到现场看过。").status_code == 303
    assert [e.action for e in CaseEvent.select().where(CaseEvent.case == second.id).order_by(CaseEvent.id)] \
        == ["submit", "forward", "opinion"]
    assert Case.get_by_id(first.id).state == "declined"
    # another deputy's case is not there for him
    other = new_case(w, deputy="DEP002")
    assert client.get(f"/m/cases/{other.number}").status_code == 404


def test_a_handler_returns_one_case_and_asks_for_more_time_on_another(client, w):
    sign_in(client, w.lead)
    to_return, to_extend = case_in(w, "assigned"), case_in(w, "in_progress")
    home = client.get("/m/").get_data(as_text=True)
    assert "县交通运输局 lead" in home and to_return.number in home
    assert act(client, to_return.number, "return", reason="not_our_duty").status_code == 303
    assert Case.get_by_id(to_return.id).state == "accepted"
    assert act(client, to_extend.number, "request_extension", days="5", reason="需要协调电力部门。").status_code == 303
    lead = Assignment.get(Assignment.case == to_extend.id, Assignment.role == "lead")
    assert (lead.extension_state, lead.extension_days) == ("requested", 5)
    # the assisting department may report progress, not answer
    helper = client.application.test_client()
    sign_in(helper, w.assist)
    html = helper.get(f"/m/cases/{to_extend.number}").get_data(as_text=True)
    assert 'id="act-progress"' in html and 'id="act-answer"' not in html and 'id="act-sign"' not in html


def test_a_stale_form_is_refused_and_staff_are_sent_to_the_console(client, w):
    sign_in(client, w.deputy_account)
    case = new_case(w)
    page = client.get(f"/m/cases/{case.number}")
    version = Case.get_by_id(case.id).version
    from services import workflow
    workflow.perform(case, "accept", w.staff)  # the office accepted it meanwhile
    stale = client.post(f"/m/cases/{case.number}", data={"csrf_token": csrf(page), "action": "decline",
                                                         "reason": "duplicate", "seen_state": "submitted",
                                                         "seen_version": version})
    assert stale.status_code == 409 and "案件状态已变化" in stale.get_data(as_text=True)
    staff = client.application.test_client()
    sign_in(staff, w.staff)
    assert "请在电脑上使用" in staff.get("/m/").get_data(as_text=True)
    assert staff.get(f"/m/cases/{case.number}").status_code == 302


def test_in_wechat_an_unbound_visitor_is_told_how_to_bind_and_unbinding_ends_the_phone_session(client, w):
    page = web_oauth(client, "/m/", "stranger").get_data(as_text=True)
    assert "还没有绑定" in page
    Account.update(oa_openid="oa-zhou").where(Account.id == w.deputy_account.id).execute()
    phone = client.application.test_client()
    assert "周建华 代表" in web_oauth(phone, "/m/", "zhou").get_data(as_text=True)
    Account.update(oa_openid=None).where(Account.id == w.deputy_account.id).execute()  # unbound by the office
    assert "周建华" not in phone.get("/m/").get_data(as_text=True)
