"""The app factory, configuration, health check, migrations, demo data, CLI and statistics."""
import datetime as dt
import types

import pytest
from freezegun import freeze_time
from peewee import CharField
from playhouse.migrate import migrate as run_ops

import config
from app import create_app
from models import Account, Case, Deputy, Department, Inquiry, Project, Station, db
from models.migrate import SchemaVersion, discover, migrate
from services import stats, workflow
from services.seed import DEV_PASSWORDS, PLAN
from tests.factories import case_in, new_case, world


def test_create_app_reads_defaults_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://10.0.0.8:5000/")
    monkeypatch.setenv("DEFAULT_DEADLINE_DAYS", "20")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.db", "SECRET_KEY": "k"})
    assert app.config["PUBLIC_BASE_URL"] == "http://10.0.0.8:5000"
    assert app.config["DEFAULT_DEADLINE_DAYS"] == 20
    assert app.config["WECHAT_API_BASE"] == "https://api.weixin.qq.com/"
    assert app.config["TIMEZONE"] == "Asia/Shanghai" and not app.testing


def test_dev_secret_key_is_generated_once(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "INSTANCE", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.finish(config.load())["SECRET_KEY"]
    assert len(first) == 64 and config.finish(config.load())["SECRET_KEY"] == first


def test_healthz_reports_the_database(app, client):
    world()
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["database"]["stations"] == 3 and body["database"]["deputies"] == 2
    assert body["database"]["schema_version"] == max(v for v, _, _ in discover())


def test_healthz_says_503_when_the_database_is_broken(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db", "SECRET_KEY": "k", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "error"


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """A second, empty database on the same backend (SQLite file or a new MariaDB database)."""
    if not database_url.startswith("mysql"):
        yield f"sqlite:///{tmp_path}/old.db"
        return
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "k"})
    with db.connection_context():
        db.execute_sql("DROP DATABASE IF EXISTS scratch")
        db.execute_sql("CREATE DATABASE scratch CHARACTER SET utf8mb4")
    yield database_url.replace("/app?", "/scratch?")


def test_migrations_upgrade_an_existing_database_once(scratch_database_url):
    """An older database gets each new migration once, recorded in schema_version; fresh ones get all."""
    create_app({"DATABASE_URL": scratch_database_url, "SECRET_KEY": "k"})
    with db.connection_context():
        migrate()
        before = [r.version for r in SchemaVersion.select()]

        def up(database, migrator):
            run_ops(migrator.add_column("station", "map_note", CharField(default="")))
        extra = (9999, "9999_station_map_note", types.SimpleNamespace(up=up))
        assert migrate(discover() + [extra]) == [9999]
        assert "map_note" in [c.name for c in db.get_columns("station")]
        assert migrate(discover() + [extra]) == []  # idempotent
        assert [r.version for r in SchemaVersion.select()] == before + [9999]


def test_seed_demo_makes_a_believable_county_and_is_idempotent(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "演示数据已生成" in result.output
    assert Station.select().count() >= 10 and 25 <= Deputy.select().count() <= 35
    assert 8 <= Department.select().count() <= 12 and Project.select().count() == 8
    reports = Case.select().where(Case.kind == "report")
    assert reports.count() == len(PLAN)
    assert {c.state for c in reports} == set(workflow.STATES)
    [inquiry] = Inquiry.select()  # the demo 网络问政, past 问题梳理, its questions in different states
    assert inquiry.stage == "event" and inquiry.published
    assert {c.state for c in Case.select().where(Case.kind == "inquiry")} == {
        "assigned", "answered", "rectifying", "merged", "declined"}
    months = {c.submitted_at.strftime("%Y-%m") for c in Case.select()}
    assert len(months) >= 4
    assert {s.level for s in Station.select()} == {"county", "town", "village"}
    # the routing suggestion is trained on the demo's assignments: a new report is offered a department
    from services import analysis
    assert "分办建议模型已按" in result.output and "留出" in result.output
    assert analysis.suggest(Case.select().where(Case.state == "submitted").first())["department"]
    for username, (role, password, *_rest) in DEV_PASSWORDS.items():
        account = Account.get(Account.username == username)
        assert account.role == role
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "跳过" in again.output
    assert reports.count() == len(PLAN)


def test_create_user_command_is_idempotent(app, runner):
    world()
    args = ["create-user", "--role", "department", "--username", "wang", "--password", "longenough1",
            "--department", "D1", "--name", "王科长"]
    assert "已创建" in runner.invoke(args=args).output
    assert "已更新" in runner.invoke(args=args).output
    assert Account.select().where(Account.username == "wang").count() == 1
    bad = runner.invoke(args=["create-user", "--role", "department", "--username", "x", "--password", "longenough1"])
    assert bad.exit_code != 0 and "须指定单位" in bad.output
    short = runner.invoke(args=["create-user", "--role", "staff", "--username", "y", "--password", "123"])
    assert short.exit_code != 0 and "密码至少" in short.output


def test_statistics_match_figures_computed_by_hand(app):
    """Six cases, figures worked out on paper:
    c1 closed, answered on time, A, satisfied;   c2 rated basic, answered late, B
    c3 rated unsatisfied, on time, A;             c4 in progress, deadline passed (due, not concluded)
    c5 in progress, deadline not yet passed;      c6 submitted (not handled)
    handled 5; concluded 3 (c1-c3); due 4 (c1-c4); on time 2 (c1, c3); rated 3, satisfied 2; resolved 2.
    办结率 3/4, 按期办结率 2/4, 满意率 2/3, 办成率 2/3.
    """
    w = world()
    with freeze_time("2026-03-02 02:00:00"):  # Monday; deadlines 5 working days on: 2026-03-09
        c1, c2, c3, c4, c5 = (case_in(w, "in_progress") for _ in range(5))
        new_case(w)
        workflow.perform(c1, "answer", w.lead, {"answer_class": "A", "text": "已经解决了。"})
        workflow.perform(c3, "answer", w.lead, {"answer_class": "A", "text": "已经解决了。"})
    with freeze_time("2026-03-12 02:00:00"):  # after the deadline
        workflow.perform(c2, "answer", w.lead, {"answer_class": "B", "text": "列入年度计划。"})
    Case.update(deadline=dt.date(2026, 4, 30)).where(Case.id == c5.id).execute()
    with freeze_time("2026-03-13 02:00:00"):
        workflow.perform(Case.get_by_id(c1.id), "rate", w.citizen, {"value": "satisfied"})
        workflow.perform(Case.get_by_id(c1.id), "close", w.staff)
        workflow.perform(Case.get_by_id(c2.id), "rate", w.citizen, {"value": "basic"})
        workflow.perform(Case.get_by_id(c3.id), "rate", w.citizen, {"value": "unsatisfied"})
        overall = stats.figures(as_of=dt.date(2026, 3, 13))
    assert (overall["total"], overall["handled"], overall["due"], overall["concluded"]) == (6, 5, 4, 3)
    assert (overall["on_time"], overall["rated"], overall["satisfied"], overall["resolved"]) == (2, 3, 2, 2)
    assert overall["completion_rate"] == pytest.approx(3 / 4)
    assert overall["on_time_rate"] == pytest.approx(2 / 4)
    assert overall["satisfaction_rate"] == pytest.approx(2 / 3)
    assert overall["success_rate"] == pytest.approx(2 / 3)
    assert overall["flagged"] and stats.percent(overall["satisfaction_rate"]) == "66.7%"
    by_dept = {r["label"]: r for r in stats.figures(by="department", as_of=dt.date(2026, 3, 13))}
    assert by_dept["县交通运输局"]["handled"] == 5 and by_dept["未交办"]["total"] == 1
    by_state = {r["key"]: r["total"] for r in stats.figures(by="state")}
    assert by_state == {"closed": 1, "rated": 2, "in_progress": 2, "submitted": 1}
    assert [r["key"] for r in stats.figures(by="month")] == ["2026-03"]
    scoped = stats.figures(station=w.town_b, as_of=dt.date(2026, 3, 13))
    assert scoped["total"] == 0 and scoped["completion_rate"] is None and stats.percent(None) == "—"


def test_statistics_period_uses_local_dates(app):
    w = world()
    with freeze_time("2026-03-31 17:00:00"):  # 01:00 on 1 April in Shanghai
        new_case(w)
    assert stats.figures(start=dt.date(2026, 4, 1), end=dt.date(2026, 5, 1))["total"] == 1
    assert stats.figures(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))["total"] == 0
    assert [r["key"] for r in stats.figures(by="month")] == ["2026-04"]
