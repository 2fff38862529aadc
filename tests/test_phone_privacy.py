"""A citizen's phone outside the console: the mini-program API and the /m/ phone workbench show it masked to
everyone, staff included; the full number comes only on an explicit request, each one in the audit log."""
import pytest

from models import AuditLog
from tests.api_client import Api, error
from tests.factories import case_in, world
from tests.test_mobile import csrf, sign_in

FULL, MASKED = "13800001111", "138****1111"


@pytest.fixture
def w(app):
    return world()


def views():
    return list(AuditLog.select().where(AuditLog.action == "view_phone").order_by(AuditLog.id))


def test_the_api_masks_the_phone_for_staff_until_they_ask_and_audits_each_ask(client, w):
    case = case_in(w, "in_progress")
    api = Api(client, w.staff)
    detail = api.get(f"/cases/{case.number}").get_json()["case"]
    assert detail["contact_phone"] == MASKED and detail["can_reveal_phone"] is True
    assert FULL not in api.get(f"/cases/{case.number}").get_data(as_text=True) and views() == []
    assert api.post(f"/cases/{case.number}/phone").get_json() == {"phone": FULL}
    entry, = views()
    assert (entry.actor_id, entry.target_id) == (w.staff.id, case.number)
    # a deputy reads the case but may not ask for the number; nothing is recorded
    deputy = Api(client, w.deputy_account)
    assert deputy.get(f"/cases/{case.number}").get_json()["case"]["can_reveal_phone"] is False
    assert error(deputy.post(f"/cases/{case.number}/phone")) == (403, "not_permitted")
    assert len(views()) == 1


def test_the_phone_workbench_masks_the_phone_and_a_handler_reveals_it_on_request(client, w):
    case = case_in(w, "in_progress")
    sign_in(client, w.lead)
    page = client.get(f"/m/cases/{case.number}")
    text = page.get_data(as_text=True)
    assert MASKED in text and FULL not in text and "查看完整号码" in text and views() == []
    shown = client.post(f"/m/cases/{case.number}", data={"csrf_token": csrf(page), "action": "reveal_phone"})
    assert shown.status_code == 200 and FULL in shown.get_data(as_text=True)
    entry, = views()
    assert (entry.actor_id, entry.target_id) == (w.lead.id, case.number)


def test_on_the_phone_workbench_an_anonymous_reporter_has_no_number_to_reveal(client, w):
    case = case_in(w, "in_progress", anonymous=True)
    sign_in(client, w.lead)
    page = client.get(f"/m/cases/{case.number}")
    assert "查看完整号码" not in page.get_data(as_text=True)
    refused = client.post(f"/m/cases/{case.number}", data={"csrf_token": csrf(page), "action": "reveal_phone"})
    assert refused.status_code == 403 and FULL not in refused.get_data(as_text=True) and views() == []
