"""Binding from the console and the command line: codes on the deputy, account and department pages, the
printable slip (decoded by a real QR reader), unbinding, and who may do it."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from models import Account, AuditLog, BindCode, Deputy
from services import accounts, binding
from tests.factories import world
from tests.test_console import post, sign_in


@pytest.fixture
def w(app):
    return world()


def issue_from_page(client, path):
    page = client.get(path).get_data(as_text=True)
    action = re.search(r'action="(/console/people/\d+/bind-code)"', page).group(1)
    shown = client.get(post(client, action).headers["Location"])
    return shown.get_data(as_text=True)


def test_staff_issue_a_code_on_the_deputy_page_and_print_its_slip(client, w, wechat_standin):
    sign_in(client, w.staff)
    html = issue_from_page(client, "/console/deputies/DEP001")
    code = re.search(r'id="bind-code"[^>]*>([A-Z0-9-]+)<', html).group(1)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code) and "周建华 代表" in html
    row = BindCode.get()
    assert row.account_id == w.deputy_account.id and f"/bind/{row.token}" in html
    assert BindCode.get().code_hash != code.replace("-", "")  # only a keyed hash is kept
    slip = client.get(f"/console/bind-codes/{row.token}/slip.png")
    assert slip.status_code == 200 and slip.mimetype == "image/png"
    url = zxingcpp.read_barcodes(Image.open(io.BytesIO(slip.data)))[0].text
    assert url.startswith("http://weixin.qq.com/q/")  # the official account's QR: scanning follows and binds
    scene = wechat_standin.sent("qrcode")[0]
    assert scene["action_name"] == "QR_STR_SCENE" and scene["action_info"]["scene"]["scene_str"] == f"bind:{row.token}"
    assert client.get(f"/console/bind-codes/{row.token}/slip.pdf").data.startswith(b"%PDF")
    # another browser never sees the code
    other = client.application.test_client()
    sign_in(other, w.staff)
    assert code not in other.get(f"/console/bind-codes/{row.token}").get_data(as_text=True)
    assert other.get(f"/console/bind-codes/{row.token}/slip.png").status_code == 404
    assert AuditLog.get(AuditLog.action == "bind_code.issue").actor_id == w.staff.id


def test_the_pages_show_binding_state_and_unbind_is_audited(client, w):
    Account.update(oa_openid="oa-lead", oa_followed=True).where(Account.id == w.lead.id).execute()
    sign_in(client, w.staff)
    departments = client.get("/console/departments").get_data(as_text=True)
    assert "lead（公众号）" in departments and "assist（未绑定）" in departments
    page = client.get(f"/console/people/{w.lead.id}").get_data(as_text=True)
    assert "县交通运输局 lead" in page and "已绑定" in page
    response = post(client, f"/console/people/{w.lead.id}/unbind", {"channel": "official_account"})
    assert response.status_code == 302
    assert Account.get_by_id(w.lead.id).oa_openid is None
    entry = AuditLog.get(AuditLog.action == "unbind")
    assert entry.actor_id == w.staff.id and entry.target_id == "lead"


def test_who_may_manage_bindings(client, w):
    sign_in(client, w.staff)
    assert client.get(f"/console/people/{w.admin.id}").status_code == 403   # staff: not other office accounts
    assert post(client, f"/console/people/{w.admin.id}/bind-code").status_code == 403
    assert client.get(f"/console/people/{w.citizen.id}").status_code == 403  # citizens bind themselves
    sign_in(client, w.admin)
    assert client.get(f"/console/people/{w.town_staff.id}").status_code == 200
    sign_in(client, w.lead)
    assert client.get(f"/console/people/{w.lead.id}").status_code == 403   # departments: not at all


def test_a_new_deputy_gets_an_account_for_their_wechat_without_a_console_login(client, w):
    sign_in(client, w.staff)
    post(client, "/console/deputies/new", {"code": "DEP010", "name": "王建华", "level": "county", "station": "TA"})
    deputy = Deputy.get(Deputy.code == "DEP010")
    person = Account.get(Account.deputy == deputy)
    assert person.role == "deputy" and person.username is None and person.display_name == "王建华"
    # a console login made for the deputy later is the same account
    account, created = accounts.create_user("deputy", "wangjh", "longenough1", deputy="DEP010")
    assert created and account.id == person.id


def test_bind_code_command_prints_the_code_link_and_slip(app, runner, w, tmp_path):
    out = tmp_path / "slip.png"
    result = runner.invoke(args=["bind-code", "--deputy", "dep001", "--out", str(out)])
    assert result.exit_code == 0, result.output
    code = re.search(r"绑定码：([A-Z0-9]{4}-[A-Z0-9]{4})", result.output).group(1)
    row = BindCode.get()
    assert f"http://daibiao.test/bind/{row.token}" in result.output and f"pages/bind/index?t={row.token}" in result.output
    assert binding.redeem(code, "miniprogram", "openid-zhou")[0].id == w.deputy_account.id
    assert zxingcpp.read_barcodes(Image.open(out))[0].text.startswith("http://weixin.qq.com/q/")
    assert runner.invoke(args=["bind-code", "--username", "nobody"]).exit_code != 0
    assert "之一" in runner.invoke(args=["bind-code"]).output
