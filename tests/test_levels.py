"""Levels: a city, two counties and their townships in one deployment, one tree (services/levels.py). Each office
sees and acts on its subtree only; a deputy's report goes to the office of the deputy's own level; cases are
handed up or down (转办) with a reason; departments take cases of their own area; figures roll up; pages and
exports carry the office's congress. Built here on a fresh database (SQLite, and MariaDB in its pass)."""
from types import SimpleNamespace

import pytest

from models import Account, Case, CaseEvent, Department, Deputy, Station
from services import accounts, exports, levels, seed, stats, todo, workflow
from services.errors import Forbidden, InvalidInput, NotFound

REPORT = {"category": "traffic", "content": "村口道路坑洼严重，雨天积水，老人孩子出行不便。"}


def node(code, name, parent, level, kind="congress"):
    s = Station.create(code=code, name=name, parent=parent, level=level, kind=kind)
    s.path = (parent.path if parent else "/") + f"{s.id}/"
    s.save()
    return s


def staff(name, station):
    return Account.create(role="staff", username=name, display_name=name, station=station)


@pytest.fixture
def city(app):
    """江州市 → 青山县 (城关镇, 河西镇), 白水县 (白沙镇); each town a congress with one station."""
    c = SimpleNamespace()
    c.city = node("JZ", "江州市人大常委会", None, "city")
    c.qs = node("QS", "青山县人大常委会", c.city, "county")
    c.bs = node("BS", "白水县人大常委会", c.city, "county")
    c.cg = node("CG", "城关镇人大", c.qs, "town")
    c.hx = node("HX", "河西镇人大", c.qs, "town")
    c.bsz = node("BSZ", "白沙镇人大", c.bs, "town")
    c.cg_station = node("CGZ", "城关镇人大代表联络站", c.cg, "town", "station")
    c.hx_station = node("HXZ", "河西镇人大代表联络站", c.hx, "town", "station")
    c.bs_station = node("BSZZ", "白沙镇人大代表联络站", c.bsz, "town", "station")
    c.cg_deputy = Deputy.create(code="CG01", name="城关代表", level="township", station=c.cg_station)
    c.hx_deputy = Deputy.create(code="HX01", name="河西代表", level="township", station=c.hx_station)
    c.bs_deputy = Deputy.create(code="BS01", name="白沙代表", level="township", station=c.bs_station)
    c.county_deputy = Deputy.create(code="QS01", name="县代表", level="county", station=c.cg_station)
    c.city_office, c.qs_office, c.bs_office = staff("jz", c.city), staff("qs", c.qs), staff("bs", c.bs)
    c.cg_office, c.hx_office = staff("cg", c.cg), staff("hx", c.hx)
    c.citizen = Account.create(role="citizen", openid="openid-levels", display_name="张三")
    c.qs_bureau = Department.create(code="QSZJ", name="青山县住建局", station=c.qs)
    c.bs_bureau = Department.create(code="BSZJ", name="白水县住建局", station=c.bs)
    c.city_bureau = Department.create(code="JZJT", name="江州市交通运输局", station=c.city)
    return c


def report(c, deputy, title="道路坑洼"):
    return workflow.submit_case(c.citizen, {**REPORT, "deputy": deputy.code, "title": title})


def test_a_township_office_never_sees_a_neighbours_cases_and_the_city_sees_all(city, client):
    mine, neighbour, other_county = report(city, city.cg_deputy), report(city, city.hx_deputy), \
        report(city, city.bs_deputy)
    assert {c.number for c in todo.visible(city.cg_office)} == {mine.number}
    with pytest.raises(NotFound):
        workflow.get_case(neighbour.number, city.cg_office)
    with pytest.raises(Forbidden):
        workflow.perform(neighbour, "accept", city.cg_office)
    assert {c.number for c in todo.visible(city.qs_office)} == {mine.number, neighbour.number}
    assert {c.number for c in todo.visible(city.city_office)} == {mine.number, neighbour.number, other_county.number}
    assert workflow.get_case(other_county.number, city.city_office).number == other_county.number
    assert workflow.perform(mine, "accept", city.cg_office).state == "accepted"
    # and on the console page the township office's list holds its own case only
    _login(client, "cg")
    page = client.get("/console/cases").get_data(as_text=True)
    assert mine.number in page and neighbour.number not in page and other_county.number not in page
    assert "城关镇人大" in page
    assert client.get(f"/console/cases/{neighbour.number}").status_code == 404


def test_a_county_deputys_report_goes_to_the_county_office_not_the_townships(city):
    case = report(city, city.county_deputy)
    assert case.station_id == city.qs.id
    assert case.number not in {c.number for c in todo.visible(city.cg_office)}
    assert case.number in {c.number for c in todo.visible(city.qs_office)}
    assert report(city, city.cg_deputy).station_id == city.cg_station.id  # a township deputy's stays at the station


def test_cases_are_handed_up_and_down_with_a_reason_never_sideways(city):
    case = report(city, city.cg_deputy)
    with pytest.raises(InvalidInput) as no_reason:
        workflow.perform(case, "hand_over", city.cg_office, {"to_station": "QS"})
    assert no_reason.value.code == "missing_field"
    with pytest.raises(Forbidden) as sideways:
        workflow.perform(case, "hand_over", city.cg_office, {"to_station": "HX", "reason": "属河西镇"})
    assert sideways.value.code == "out_of_scope"
    up = workflow.perform(case, "hand_over", city.cg_office, {"to_station": "QS", "reason": "涉及全县道路规划"})
    assert up.station_id == city.qs.id and up.state == "submitted"
    event = CaseEvent.get(CaseEvent.case == case.id, CaseEvent.action == "hand_over")
    assert event.data == {"from": "城关镇人大代表联络站", "to": "青山县人大常委会", "to_station": "QS",
                          "reason": "涉及全县道路规划"}
    with pytest.raises(NotFound):  # once handed up, the township office no longer has it
        workflow.get_case(case.number, city.cg_office)
    down = workflow.perform(up, "hand_over", city.qs_office, {"to_station": "HXZ", "reason": "属河西镇辖区"})
    assert down.station_id == city.hx_station.id
    assert workflow.get_case(case.number, city.hx_office).number == case.number
    assert stats.figures(by="station") == stats.figures(by="station", live=True)  # the tally moved with it


def test_departments_take_cases_of_their_own_area_only(city):
    case = workflow.perform(report(city, city.cg_deputy), "accept", city.qs_office)
    with pytest.raises(InvalidInput) as refused:
        workflow.perform(case, "assign", city.qs_office, {"lead": "BSZJ", "days": 5})
    assert refused.value.code == "department_out_of_area" and "白水县住建局" in refused.value.message
    assert [d.code for d in levels.departments_for(case.station)] == ["JZJT", "QSZJ"]
    assigned = workflow.perform(case, "assign", city.qs_office, {"lead": "QSZJ", "assist": ["JZJT"], "days": 5})
    assert assigned.state == "assigned"


def test_figures_roll_up_the_tree(city, client):
    report(city, city.cg_deputy), report(city, city.hx_deputy), report(city, city.bs_deputy)
    rows = {r["label"]: r["total"] for r in stats.rolled_up(city.city)}
    assert rows == {"青山县人大常委会": 2, "白水县人大常委会": 1}
    assert {r["label"]: r["total"] for r in stats.rolled_up(city.qs)} == {"城关镇人大": 1, "河西镇人大": 1}
    assert stats.figures(station=city.city)["total"] == 3
    for parent in (None, city.city, city.qs):  # summed from one reading by station: each child's own figures
        for row in stats.rolled_up(parent):
            child = Station.get(Station.code == row["key"])
            assert row == {**stats.figures(station=child), "key": child.code, "label": child.name}
    _login(client, "jz")  # the city office's dashboard: one row per county, each counting its townships
    table = client.get("/console/stats").get_data(as_text=True).split('id="by-level"')[1].split("</table>")[0]
    assert 'data-key="QS"><td>青山县人大常委会</td>' in table and 'data-key="BS"><td>白水县人大常委会</td>' in table
    assert 'data-figure="total">2<' in table and 'data-figure="total">1<' in table


def test_exports_and_pages_carry_the_offices_congress(city, client):
    assert exports.list_title(station=city.bs).startswith("白水县人大常委会群众意见建议办理情况一览表")
    assert levels.congress_name(city.cg_station) == "城关镇人大"
    _login(client, "bs")
    page = client.get("/console/cases").get_data(as_text=True)
    assert "白水县人大常委会" in page.split("</title>")[0]


def test_a_deputys_card_names_the_deputys_own_congress(city):
    from qr import printables
    texts = lambda d: {t["label"]: t["text"] for t in printables.deputy_card(d).texts}  # noqa: E731
    assert texts(city.county_deputy)["level"] == "青山县人大代表"
    assert texts(city.cg_deputy)["level"] == "城关镇人大代表"


def test_the_demo_city_seeds_two_counties_and_their_townships(app):
    assert seed.seed_city(log=lambda *_: None)
    counties = Station.select().where(Station.level == "county", Station.kind == "congress")
    assert sorted(c.name for c in counties) == ["白水县人大常委会", "青山县人大常委会"]
    for county in counties:
        assert Station.select().where(Station.parent == county, Station.level == "town").count() == 2
    township = Account.get(Account.username == "qs1")
    other = Deputy.get(Deputy.code == "QS201")  # 青山县 河西镇's township deputy
    case = workflow.submit_case(Account.create(role="citizen", openid="openid-demo"),
                                {**REPORT, "deputy": other.code, "title": "路灯"})
    assert case.number not in {c.number for c in todo.visible(township)}
    assert case.number in {c.number for c in todo.visible(Account.get(Account.username == "jiangzhou"))}
    assert not seed.seed_city(log=lambda *_: None)


def _login(client, username):
    client.get("/console/login")
    with client.session_transaction() as s:
        token = s.get("csrf")
    account = Account.get(Account.username == username)
    accounts.set_password(account, "Jiangzhou#2026pw")
    account.save()
    reply = client.post("/console/login", data={"username": username, "password": "Jiangzhou#2026pw",
                                                "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:500]


def test_a_suggestion_is_handed_up_from_the_console_with_a_reason_and_both_sides_told(city, client):
    from models import Notification
    from services import suggestions
    from tests.test_console import post
    from tests.test_suggestions import FORM
    lead = Account.create(role="deputy", username="cg01", display_name="城关代表", deputy=city.cg_deputy)
    case = workflow.perform(suggestions.draft(lead, FORM), "submit", lead)
    assert case.station_id == city.cg_station.id
    _login(client, "cg")
    page = client.get(f"/console/suggestions/{case.number}").get_data(as_text=True)
    form = page.split('id="act-hand_over"')[1].split("</details>")[0]
    assert '<option value="QS" >青山县人大常委会</option>' in form and "HXZ" not in form  # up, or inside: never sideways
    refused = post(client, f"/console/suggestions/{case.number}/act/hand_over", {"to_station": "QS", "reason": ""})
    assert refused.status_code == 400 and Case.get_by_id(case.id).station_id == city.cg_station.id
    done = post(client, f"/console/suggestions/{case.number}/act/hand_over",
                {"to_station": "QS", "reason": "涉及全县供水规划", "seen_state": "submitted",
                 "seen_version": str(case.version)})
    assert done.status_code == 302
    moved = Case.get_by_id(case.id)
    assert moved.station_id == city.qs.id and moved.state == "submitted"
    with pytest.raises(NotFound):  # the township office no longer has it; the county's does, with its timeline
        workflow.get_case(case.number, city.cg_office)
    _login(client, "qs")
    timeline = client.get(f"/console/suggestions/{case.number}").get_data(as_text=True)
    assert "城关镇人大代表联络站 → 青山县人大常委会：涉及全县供水规划" in timeline
    told = {(n.account_id, n.kind): n.body for n in Notification.select().where(Notification.case == case.id,
                                                                                 Notification.kind.startswith("sug_hand"))}
    assert told[(lead.id, "sug_handed_over")] == f"{case.number}：{case.title} 已转交青山县人大常委会办理：涉及全县供水规划"
    assert (city.qs_office.id, "sug_handed_in") in told and (city.bs_office.id, "sug_handed_in") not in told
    registered = workflow.perform(moved, "register", city.qs_office)  # the county office takes it on from here
    assert registered.state == "registered"


def test_an_office_edits_the_level_of_its_own_departments_only_and_it_is_audited(city, client):
    from models import AuditLog
    from tests.test_console import post
    _login(client, "qs")
    page = client.get("/console/departments").get_data(as_text=True)
    levels_offered = page.split('name="station">')[1].split("</select>")[0]
    assert levels_offered.count("<option") == 3 and 'value="CG"' in levels_offered and 'value="BS"' not in levels_offered
    moved = post(client, "/console/departments", {"code": "QSZJ", "name": "青山县住建局", "station": "CG", "active": "1"})
    assert moved.status_code == 302 and Department.get(Department.code == "QSZJ").station_id == city.cg.id
    entry = AuditLog.get(AuditLog.action == "department.edit")
    assert (entry.actor_id, entry.target_id) == (city.qs_office.id, "QSZJ")
    assert (entry.detail["before"]["station"], entry.detail["after"]["station"]) == ("QS", "CG")
    assert [d.code for d in levels.departments_for(city.hx_station)] == ["JZJT"]  # no longer on 河西镇's path
    # a neighbour's department, a node outside the subtree, a station that is not a level: refused, nothing saved
    for data, code in (({"code": "BSZJ", "name": "白水县住建局", "station": "QS"}, "out_of_scope"),
                       ({"code": "QSZJ", "name": "青山县住建局", "station": "BS"}, "out_of_scope"),
                       ({"code": "QSZJ", "name": "青山县住建局", "station": "CGZ"}, "not_a_level"),
                       ({"code": "QSJT", "name": "青山县交通局", "station": ""}, "out_of_scope")):
        with pytest.raises((Forbidden, InvalidInput)) as refused:
            levels.save_department(city.qs_office, data)
        assert refused.value.code == code
    again = post(client, "/console/departments", {"code": "BSZJ", "name": "白水县住建局", "station": "QS"})
    assert again.status_code == 403 and "不在您的辖区" in again.get_data(as_text=True)
    assert Department.get(Department.code == "BSZJ").station_id == city.bs.id
    assert AuditLog.select().where(AuditLog.action.startswith("department.")).count() == 1
    added = levels.save_department(city.qs_office, {"code": "QSJT", "name": "青山县交通局", "station": "QS", "active": "1"})
    assert added.station_id == city.qs.id and AuditLog.get(AuditLog.action == "department.create").target_id == "QSJT"
