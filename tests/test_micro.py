"""微实事: a deputy's proposal through the 主席团's decision (direct or by ballot), spending and completion, with
the fund's ledger exact to the fen and overspend refused (fresh database, no seed)."""
import datetime as dt

import pytest

from models import MicroProject, MicroSpend, Notification, Project, ProjectDeputy, utcnow
from services import ballots, micro
from tests.test_foundation import scratch_database_url  # noqa: F401  (fixture)
from services.errors import ServiceError
from tests.factories import new_case, world


def fund_of(w, budget="50000.00", cap="20000"):
    return micro.create_fund(w.staff, {"station": "TA", "year": "2026", "budget": budget, "cap": cap})


def proposal(w, fund, **data):
    return micro.propose(w.deputy_account, fund, {"title": "村口路灯修复", "location": "城关镇东街村村口",
                                                  "estimate": "12,345.67", "department": "D1", **data})


def refused(code, call, *args, **kwargs):
    with pytest.raises(ServiceError) as err:
        call(*args, **kwargs)
    assert err.value.code == code, err.value.message
    return err.value.message


def test_a_micro_project_from_proposal_through_approval_and_spending_to_done_exact_to_the_fen(app):
    w = world()
    fund = fund_of(w)
    report = new_case(w)
    item = proposal(w, fund, cases=report.number, description="路灯坏了半年，群众多次反映")
    assert item.cases == [report.number] and item.estimate == 1234567 and item.state == "proposed"
    assert Notification.select().where(Notification.account == w.staff, Notification.kind == "micro_proposed").exists()
    assert micro.ledger(fund) == {"allocated": 5000000, "committed": 0, "spent": 0, "remaining": 5000000,
                                  "pending": 1234567}

    micro.decide(w.staff, item, {"decision": "approve", "note": "城关镇人大主席团第3次会议决定"})
    item = MicroProject.get_by_id(item.id)
    project = Project.get(Project.code == item.code)
    assert item.state == "approved" and item.amount == 1234567 and item.project == project
    assert project.station == w.town_a and project.budget == 12346 and project.department == w.depts[0]
    assert ProjectDeputy.select().where(ProjectDeputy.project == project, ProjectDeputy.deputy == w.deputy).exists()
    assert Notification.get(Notification.account == w.deputy_account, Notification.kind == "micro_decided").body \
        == "您提出的微实事“村口路灯修复”批准：批准12,345.67元"
    assert micro.ledger(fund)["remaining"] == 5000000 - 1234567

    micro.spend(w.lead, item, {"amount": "5000.01", "note": "采购灯具", "spent_on": "2026-03-02"})
    micro.spend(w.staff, item, {"amount": "7000.50", "note": "安装施工"})
    message = refused("overspend", micro.spend, w.lead, item, {"amount": "345.17", "note": "尾款"})
    assert "最多还能支出345.16元" in message and MicroSpend.select().count() == 2
    refused("not_permitted", micro.spend, w.outsider_dept, item, {"amount": "1", "note": "不是实施单位"})
    micro.spend(w.lead, item, {"amount": "345.16", "note": "尾款"})
    assert micro.ledger(fund) == {"allocated": 5000000, "committed": 1234567, "spent": 1234567,
                                  "remaining": 3765433, "pending": 0}
    refused("overspend", micro.spend, w.lead, item, {"amount": "0.01", "note": "多付一分"})

    micro.finish(w.lead, item, {"note": "路灯已全部亮起"})
    project = Project.get_by_id(project.id)
    assert MicroProject.get_by_id(item.id).state == "done" and project.progress == 100
    assert project.status == "completed" and "实际支出12,345.67元" in project.updates.first().text
    refused("not_approved", micro.spend, w.lead, MicroProject.get_by_id(item.id), {"amount": "1", "note": "完工后"})


def test_approval_beyond_the_fund_or_the_cap_is_refused_and_what_a_finished_project_did_not_spend_returns(app):
    w = world()
    fund = fund_of(w, budget="30000", cap="20000")
    refused("over_cap", proposal, w, fund, estimate="20000.01")
    refused("invalid_amount", proposal, w, fund, estimate="12.345")
    first, second = proposal(w, fund, estimate="20000"), proposal(w, fund, title="小游园座椅", estimate="10000.01")
    micro.decide(w.staff, first, {"decision": "approve", "note": "主席团会议决定"})
    message = refused("overspend", micro.decide, w.staff, second, {"decision": "approve", "note": "主席团会议决定"})
    assert message == "微实事资金余额不足：可用10,000.00元，本项目需10,000.01元"
    assert MicroProject.get_by_id(second.id).state == "proposed" and not Project.select().where(
        Project.code == second.code).exists()
    first = MicroProject.get_by_id(first.id)
    micro.spend(w.lead, first, {"amount": "19000", "note": "施工"})
    micro.finish(w.staff, first, {"note": "已完工"})  # 1,000.00 unspent goes back to the fund
    assert micro.ledger(fund)["remaining"] == 1100000
    micro.decide(w.staff, second, {"decision": "approve", "note": "主席团会议决定"})
    assert micro.ledger(fund)["remaining"] == 99999
    third = proposal(w, fund, title="健身器材")
    refused("missing_field", micro.decide, w.staff, third, {"decision": "reject"})
    micro.decide(w.staff, third, {"decision": "reject", "note": "已列入县级项目，不再重复安排"})
    assert MicroProject.get_by_id(third.id).state == "rejected"
    refused("state_changed", micro.decide, w.staff, third, {"decision": "approve", "note": "再批一次"})


def test_who_may_propose_and_decide(app):
    w = world()
    fund = fund_of(w)
    refused("not_here", micro.propose, w.other_deputy_account, fund, {"title": "河西的事", "location": "河西镇",
                                                                      "estimate": "100"})
    refused("not_permitted", micro.propose, w.citizen, fund, {"title": "路灯", "location": "村口", "estimate": "100"})
    refused("unknown_case", proposal, w, fund, cases="2026-999999")
    item = proposal(w, fund)
    refused("not_permitted", micro.decide, w.other_town_staff, item, {"decision": "approve", "note": "越权决定"})
    refused("fund_exists", fund_of, w)
    staff_entered = micro.propose(w.town_staff, fund, {"deputy": "DEP001", "title": "代录的微实事", "location": "东街",
                                                       "estimate": "100"})
    assert staff_entered.deputy == w.deputy


def test_the_presidium_decides_by_ballot(app):
    w = world()
    fund = fund_of(w)
    passed, failed = proposal(w, fund), proposal(w, fund, title="村史馆展板", estimate="3000")
    now = utcnow() + dt.timedelta(hours=8)
    ballot = micro.put_to_vote(w.staff, fund, {
        "opens_at": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "deputies": ["DEP001", "DEP002"]})
    assert ballot.kind == "micro" and ballot.places == 2 and ballot.rules["base"] == "all"
    ballots.open_ballot(w.staff, ballot)
    refs = {i.ref: i.id for i in ballots.items(ballot)}
    ballots.cast(ballot, [refs[f"m{passed.id}"], refs[f"m{failed.id}"]], deputy=w.deputy)
    ballots.cast(ballot, [refs[f"m{passed.id}"]], deputy=w.other_deputy)
    refused("not_closed", micro.apply_ballot, w.staff, ballot)
    ballots.close(w.staff, ballot)
    assert micro.apply_ballot(w.staff, ballot) == (1, 1)
    passed, failed = MicroProject.get_by_id(passed.id), MicroProject.get_by_id(failed.id)
    assert passed.state == "approved" and passed.ballot == ballot and "得票2，应到2人" in passed.decision_note
    assert failed.state == "rejected" and "主席团表决未通过（得票1，应到2人）" == failed.decision_note
    assert micro.apply_ballot(w.staff, ballot) == (0, 0)  # safe to run again


def test_the_console_runs_the_fund_and_the_public_page_publishes_its_ledger(app, client):
    from tests.test_console import flashes, post, sign_in
    w = world()
    sign_in(client, w.staff)
    assert post(client, "/console/micro", {"station": "TA", "year": "2026", "budget": "1,000,000.00",
                                           "cap": "50000"}).status_code == 302
    assert post(client, "/console/micro", {"station": "TA", "year": "2026"}).status_code == 200  # shown again
    sign_in(client, w.deputy_account)
    response = post(client, "/console/micro/2026/TA", {"title": "东街下水道疏通", "location": "东街", "estimate": "8888.88",
                                                       "department": "D1"})
    item = MicroProject.get()
    assert response.headers["Location"].endswith(f"/console/micro/{item.code}") and item.deputy == w.deputy
    assert "待主席团审议" in client.get(f"/console/micro/{item.code}").get_data(as_text=True)
    assert item.code in client.get("/console/micro").get_data(as_text=True)  # 我提出的微实事
    sign_in(client, w.other_town_staff)  # another township's staff cannot see it
    assert client.get(f"/console/micro/{item.code}").status_code == 404
    sign_in(client, w.staff)
    fund_page = client.get("/console/micro/2026/TA").get_data(as_text=True)
    assert "东街下水道疏通" in fund_page and "8,888.88" in fund_page and "提交主席团表决" in fund_page
    post(client, f"/console/micro/{item.code}", {"action": "decide", "decision": "approve", "note": "主席团第2次会议"})
    sign_in(client, w.lead)
    post(client, f"/console/micro/{item.code}", {"action": "spend", "amount": "8000", "note": "施工费"})
    post(client, f"/console/micro/{item.code}", {"action": "spend", "amount": "888.89", "note": "尾款"})  # 1 fen over
    assert ("error", "超出批准金额：批准8,888.88元，已支出8,000.00元，本次888.89元，最多还能支出888.88元") in flashes(
        client, f"/console/micro/{item.code}")
    assert MicroSpend.select().count() == 1
    public = client.get("/micro/2026/TA").get_data(as_text=True)
    for figure in ("1,000,000.00 元", "8,888.88 元", "8,000.00 元", "991,111.12 元", "东街下水道疏通"):
        assert figure in public, figure
    assert client.get("/micro/2026/ZZ").status_code == 404
    station = client.get("/s/TA").get_data(as_text=True)  # the station's page lists it and the ledger
    assert f'href="/p/{item.code}"' in station and 'href="/micro/2026/TA"' in station


def test_migration_0012_adds_the_tables_and_the_item_ref_to_an_existing_database(scratch_database_url):
    """A database as of 0011 (ballot items without `ref`, none of the new tables) gets them, keeping its items."""
    from playhouse.migrate import MySQLMigrator, SqliteMigrator
    from playhouse.migrate import migrate as run_ops

    from app import create_app
    from models import (Ballot, BallotItem, MicroFund, MicroProject, MicroSpend, ProjectCandidate, Station, db,
                        is_mysql)
    from models.migrate import SchemaVersion, migrate
    create_app({"DATABASE_URL": scratch_database_url, "SECRET_KEY": "k"})
    with db.connection_context():
        migrate()
        db.drop_tables([MicroSpend, MicroProject, MicroFund, ProjectCandidate])
        migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
        run_ops(migrator.drop_index("ballot_item", "ballot_item_ref"), migrator.drop_column("ballot_item", "ref"))
        SchemaVersion.delete().where(SchemaVersion.version == 12).execute()
        now = utcnow()
        ballot = Ballot.create(code="BOLD0001", title="旧的表决", kind="review", method="rate", electorate="public",
                               opens_at=now, closes_at=now)
        db.execute_sql("INSERT INTO ballot_item (ballot_id, sort, name) VALUES (%s, 0, '旧事项')" % ballot.id)
        assert migrate() == [12]
        assert BallotItem.get().ref == "" and BallotItem.get().name == "旧事项"
        station = Station.create(code="TA", name="城关镇", level="town", kind="station")
        MicroFund.create(station=station, year=2026, budget=1, cap=1)
        assert MicroFund.select().count() == 1 and ProjectCandidate.select().count() == 0


def test_the_department_reaches_its_micro_project_from_the_project_page(app, client):
    from tests.test_console import sign_in
    w = world()
    item = proposal(w, fund_of(w))
    micro.decide(w.staff, item, {"decision": "approve", "note": "主席团会议决定"})
    sign_in(client, w.lead)
    page = client.get(f"/console/projects/{item.code}").get_data(as_text=True)
    assert f'href="/console/micro/{item.code}"' in page and "批准 12,345.67 元，已支出 0.00 元" in page
    assert "登记支出" in client.get(f"/console/micro/{item.code}").get_data(as_text=True)


def test_a_deputy_proposes_on_the_phone_and_sees_the_decision(app, client):
    from services import calendar
    from tests.test_mobile import csrf, sign_in
    w = world()
    sign_in(client, w.deputy_account)
    assert "还没有设立微实事资金" in client.get("/m/micro").get_data(as_text=True)
    micro.create_fund(w.staff, {"station": "C1", "year": str(calendar.today().year), "budget": "900000"})
    town = micro.create_fund(w.staff, {"station": "TA", "year": str(calendar.today().year), "budget": "100000"})
    page = client.get("/m/micro")
    assert "城关镇联络站" in page.get_data(as_text=True)  # the nearest fund above the deputy's station
    too_much = client.post("/m/micro", data={"csrf_token": csrf(page), "title": "修桥", "location": "河边",
                                             "estimate": "100000.01"})
    assert too_much.status_code == 400 and "不超过单个项目上限100,000.00元" in too_much.get_data(as_text=True)
    done = client.post("/m/micro", data={"csrf_token": csrf(page), "title": "修桥", "location": "河边",
                                         "estimate": "3000"})
    item = MicroProject.get()
    assert done.status_code == 303 and item.fund == town and item.deputy == w.deputy
    micro.decide(w.staff, item, {"decision": "reject", "note": "已列入交通部门计划"})
    page = client.get("/m/micro").get_data(as_text=True)
    assert "未批准 · 已列入交通部门计划" in page
    other = app.test_client()
    sign_in(other, w.lead)  # a department handler has no micro-projects to propose
    assert other.get("/m/micro").status_code == 302


def test_racing_spending_and_approvals_never_overspend(app):
    """Both backends: six simultaneous entries of 3,000 against 10,000 approved → three are written; four
    simultaneous approvals of 12,000 against the 30,000 left of the fund → two are approved."""
    import threading
    from tests.test_console import post, sign_in
    w = world()
    fund = fund_of(w, budget="40000", cap="20000")
    first = proposal(w, fund, estimate="10000")
    micro.decide(w.staff, first, {"decision": "approve", "note": "主席团会议决定"})
    others = [proposal(w, fund, title=f"第{n}件微实事", estimate="12000") for n in range(4)]

    def race(requests):
        gate = threading.Barrier(len(requests))

        def run(path, data):
            with app.test_client() as web:
                sign_in(web, w.staff)
                gate.wait()
                post(web, path, data)
        threads = [threading.Thread(target=run, args=r) for r in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    race([(f"/console/micro/{first.code}", {"action": "spend", "amount": "3000", "note": f"第{n}笔"})
          for n in range(6)])
    assert MicroSpend.select().count() == 3 and micro.spent_by(first) == 900000
    race([(f"/console/micro/{m.code}", {"action": "decide", "decision": "approve", "note": "主席团会议决定"})
          for m in others])
    assert MicroProject.select().where(MicroProject.state == "approved").count() == 1 + 2
    assert micro.ledger(fund)["remaining"] == 4000000 - 1000000 - 2 * 1200000
