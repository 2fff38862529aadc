"""The statistics tally: what the dashboard reads equals counting the cases themselves, whatever happened."""
import datetime as dt
import random

from freezegun import freeze_time
from playhouse.migrate import MySQLMigrator, SqliteMigrator
from playhouse.migrate import migrate as run_ops

from models import Case, CaseEvent, CaseTally, db, is_mysql
from models.migrate import SchemaVersion, discover, migrate
from services import stats, workflow
from services.errors import ServiceError
from tests.factories import new_case, world

DIMENSIONS = [None, "state", "department", "deputy", "station", "category", "month", "project"]
DATA = {"lead": "D1", "assist": ["D2"], "days": 5, "text": "已经修好了路面。", "reason": "duplicate",
        "note": "请尽快处理此事。", "content": "补充一张照片说明情况。", "opinion": "建议尽快办理。"}


CORRECTIONS = ("merge", "transfer", "recall", "reassign", "edit", "contact", "callback", "rate_by_phone", "resolution")


def busy_month(w, seed=7):
    """Forty cases for two deputies over five weeks, each pushed at random through whatever its people may
    do next (answered early or late, rated any way, reopened, closed), with the days moving on."""
    rng = random.Random(seed)
    people = [w.citizen, w.deputy_account, w.other_deputy_account, w.staff, w.lead, w.assist]
    cases = []
    for day in range(35):
        with freeze_time(dt.datetime(2026, 3, 2, 1) + dt.timedelta(days=day, hours=rng.randint(0, 20))):
            if day < 25:
                for _ in range(rng.randint(1, 2)):
                    deputy = rng.choice([w.deputy, w.other_deputy])
                    target = {"deputy": "", "project": w.project.code} if rng.random() < 0.3 else \
                        {"deputy": deputy.code}
                    cases.append(new_case(w, category=rng.choice(["traffic", "education"]), **target))
            for case in rng.sample(cases, min(len(cases), 10)):
                case = Case.get_by_id(case.id)
                rare = () if rng.random() < 0.08 else CORRECTIONS  # corrections now and then
                choices = [(a, p) for p in people for a in workflow.allowed_actions(case, p)
                           if a not in ("opinion", "reply", "progress", "publish", "unpublish", "withdraw", "hand_over") + rare]
                if not choices:
                    continue
                action, person = rng.choice(choices)
                data = dict(DATA, answer_class=rng.choice("ABCD"), original=rng.choice(cases).number,
                            value=rng.choice(["satisfied", "basic", "unsatisfied"]), to="12345")
                try:
                    workflow.perform(case, action, person, data)
                except ServiceError:
                    pass  # an action this random data does not suit: nothing written, as for a person
    return cases


def scopes(w):
    return [{}, {"start": dt.date(2026, 3, 10), "end": dt.date(2026, 3, 20)}, {"station": w.town_b},
            {"start": dt.date(2026, 3, 20), "end": dt.date(2026, 4, 3)}, {"end": dt.date(2026, 3, 25)},
            {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 4, 1)}, {"start": dt.date(2026, 4, 1)},
            {"station": w.town_a, "start": dt.date(2026, 3, 16)}, {"as_of": dt.date(2026, 3, 12)},
            {"as_of": dt.date(2026, 5, 1)}]


def assert_tally_matches(w):
    for scope in scopes(w):
        for by in DIMENSIONS:
            assert stats.figures(by=by, **scope) == stats.figures(by=by, live=True, **scope), (by, scope)
        assert stats.figures(project=w.project.id, **scope) == stats.figures(project=w.project.id, live=True,
                                                                              **scope)
        assert stats.deputy_responsiveness(**scope) == stats.deputy_responsiveness(live=True, **scope)


def test_tally_equals_counting_the_cases_after_every_kind_of_step(app):
    w = world()
    cases = busy_month(w)
    reached = {e.to_state for e in CaseEvent.select()} | {e.action for e in CaseEvent.select()}
    assert len(cases) >= 30 and {"declined", "in_progress", "answered", "rated", "closed", "reopen"} <= reached
    overall = stats.figures(as_of=dt.date(2026, 4, 10))
    merged = Case.select().where(Case.state == "merged").count()  # a merged duplicate counts once
    assert merged and overall["total"] == len(cases) - merged and 0 < overall["due"] < overall["handled"] + 1
    assert 0 < stats.figures(project=w.project.id)["total"] < len(cases)
    assert_tally_matches(w)
    order = (CaseTally.dim, CaseTally.period, CaseTally.day, CaseTally.station, CaseTally.key)
    before = list(CaseTally.select().where(CaseTally.total != 0).order_by(*order).tuples())
    stats.rebuild()
    after = list(CaseTally.select().order_by(*order).tuples())
    assert [r[1:] for r in before] == [r[1:] for r in after]  # ids differ


def test_deputy_responsiveness_counts_the_first_response(app):
    w = world()
    with freeze_time("2026-03-02 01:00:00"):
        quick, slow, waiting = (new_case(w) for _ in range(3))
    with freeze_time("2026-03-02 03:00:00"):
        workflow.perform(quick, "accept", w.deputy_account)
    with freeze_time("2026-03-03 01:00:00"):
        workflow.perform(slow, "forward", w.deputy_account, {"note": "请人大办协调。"})
    row, = stats.deputy_responsiveness()
    assert (row["label"], row["received"], row["responded"]) == ("周建华", 3, 2)
    assert row["avg_hours"] == 13  # (2 h + 24 h) / 2
    assert Case.get_by_id(waiting.id).responded_at is None


def test_quick_responses_come_from_the_tally_for_its_windows_and_from_the_cases_for_another(app):
    """响应率 within 12/24/48/72 hours is tallied like the other counts; RESPONSE_HOURS=36 (no window) is counted
    from the cases — and for every window the tally's figure equals the recount, after every kind of step."""
    w = world()
    busy_month(w, seed=5)
    counts = {}
    for hours in (12, 24, 36, 48, 72):
        app.config["RESPONSE_HOURS"] = hours
        rows = stats.deputy_responsiveness()
        assert rows == stats.deputy_responsiveness(live=True)
        counts[hours] = sum(r["in_time"] for r in rows)
        assert counts[hours] == Case.select().where(stats.figure_condition("responded_in_time")).count()
    assert list(counts.values()) == sorted(counts.values()) and counts[12] < counts[72]  # wider windows, more
    assert stats.figures(by="deputy")[0]["responded_48h"] == stats.figures(by="deputy", live=True)[0]["responded_48h"]


def test_the_page_lists_deputies_only_when_the_scope_holds_few_enough(app, client, monkeypatch):
    """A county's page lists its deputies; where the scope holds more than DEPUTY_ROWS (a province's 100,000), it
    says how many, their overall response rate, and how to narrow it — the export still lists every one."""
    import io
    import openpyxl
    from handlers.console import dashboard
    from tests.test_console import sign_in
    w = world()
    busy_month(w, seed=5)
    everyone = stats.deputy_responsiveness()
    staff = sign_in(client, w.staff)
    page = staff.get("/console/stats").get_data(as_text=True)
    assert 'id="by-deputy"' in page and all(r["label"] in page for r in everyone)
    monkeypatch.setattr(dashboard, "DEPUTY_ROWS", 1)
    page = staff.get("/console/stats").get_data(as_text=True)
    overall = stats.figures()
    assert 'id="by-deputy"' not in page and "本范围内有 2 位代表" in page
    assert f"已响应 {overall['responded']} 件" in page and "选择联络站或下级人大" in page
    narrowed = staff.get(f"/console/stats?station={w.town_a.code}").get_data(as_text=True)
    assert 'id="by-deputy"' in narrowed  # one deputy's township: listed again
    book = openpyxl.load_workbook(io.BytesIO(staff.get("/console/stats/export.xlsx").data))
    listed = [row[0] for row in book["代表响应"].iter_rows(values_only=True)]
    assert listed[listed.index("代表") + 1:] == [r["label"] for r in everyone]


def test_year_month_and_day_rows_add_up_across_years(app):
    """Periods crossing New Year read whole years, months and days from the tally: equal to counting the cases."""
    w = world()
    for moment in ("2025-11-20 03:00", "2025-12-31 15:00", "2026-01-01 02:00", "2026-02-10 05:00", "2027-01-05 01:00"):
        with freeze_time(moment):
            new_case(w)
    for start, end in ((None, None), (dt.date(2025, 12, 15), dt.date(2026, 1, 10)), (dt.date(2025, 1, 1), None),
                       (dt.date(2025, 11, 1), dt.date(2027, 1, 1)), (None, dt.date(2026, 2, 11)),
                       (dt.date(2026, 1, 1), dt.date(2027, 2, 1))):
        for by in DIMENSIONS:
            assert stats.figures(by=by, start=start, end=end) == stats.figures(by=by, live=True, start=start,
                                                                               end=end), (by, start, end)
    assert stats.figures(start=dt.date(2025, 12, 15), end=dt.date(2026, 1, 10))["total"] == 2


def test_figures_with_a_filter_and_a_dimension_count_live(app):
    """The tally answers one filter or one dimension; both together fall back to counting cases."""
    w = world()
    new_case(w, deputy="", project=w.project.code)
    new_case(w, category="education")
    rows = stats.figures(by="category", project=w.project.id)
    assert [(r["key"], r["total"]) for r in rows] == [("traffic", 1)]
    assert stats.figures(project=w.project.id)["total"] == 1


def test_migration_fills_responded_at_and_the_tally_for_an_existing_database(app):
    """A database from before 0002: the migration adds Case.responded_at from the timeline and counts the tally."""
    w = world()
    busy_month(w, seed=3)
    expected = {by: stats.figures(by=by, live=True) for by in DIMENSIONS}
    responded = dict(Case.select(Case.id, Case.responded_at).tuples())
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    db.drop_tables([CaseTally])
    wide = [i.name for i in db.get_indexes("case") if i.columns[:2] == ["state", "deadline"]]
    run_ops(migrator.drop_column("case", "responded_at"), migrator.drop_index("case", wide[0]),
            migrator.add_index("case", ("state", "deadline")))  # the schema as 0001 left it
    SchemaVersion.delete().where(SchemaVersion.version == 2).execute()  # only 0002 was undone
    assert 2 in migrate(discover())
    assert dict(Case.select(Case.id, Case.responded_at).tuples()) == responded
    indexes = [i.columns for i in db.get_indexes("case")]
    assert ["state", "deadline"] not in indexes and ["state", "deadline", "submitted_at"] in [c[:3] for c in indexes]
    assert {by: stats.figures(by=by) for by in DIMENSIONS} == expected


def test_rebuild_tally_command_repairs_figures_after_sql_by_hand(app, runner):
    w = world()
    case = new_case(w)
    Case.update(category="education").where(Case.id == case.id).execute()  # behind the workflow's back
    assert [r["key"] for r in stats.figures(by="category")] == ["traffic"]
    result = runner.invoke(args=["rebuild-tally"])
    assert result.exit_code == 0 and "统计汇总已重算" in result.output
    assert [r["key"] for r in stats.figures(by="category")] == ["education"]


def test_migration_0020_adds_the_response_windows_and_counts_them(app):
    """A database from before 0020: the tally gets its 12–72-hour response columns, counted from the cases."""
    w = world()
    busy_month(w, seed=4)
    expected = stats.deputy_responsiveness(live=True)
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    run_ops(*(migrator.drop_column("case_tally", name) for name in stats.WINDOWS))
    SchemaVersion.delete().where(SchemaVersion.version == 20).execute()
    assert migrate(discover()) == [20]
    assert stats.deputy_responsiveness() == expected and any(r["in_time"] for r in expected)


def test_migration_0022_reads_the_cases_in_hand_from_an_index_that_holds_their_kind(app):
    """A database from before 0022: the (state, deadline, …) index gains `kind`; the figures stay what they were."""
    w = world()
    busy_month(w, seed=5)
    expected = {by: stats.figures(by=by) for by in DIMENSIONS}
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    [wide] = [i.name for i in db.get_indexes("case") if i.columns[:2] == ["state", "deadline"]]
    old = ("state", "deadline", "submitted_at", "station_id", "lead_department_id", "deputy_id", "category",
           "project_id")
    run_ops(migrator.drop_index("case", wide), migrator.add_index("case", old))
    SchemaVersion.delete().where(SchemaVersion.version == 22).execute()
    assert migrate(discover()) == [22]
    assert [i.columns for i in db.get_indexes("case") if i.columns[:2] == ["state", "deadline"]] == [
        ["state", "deadline", "kind", *old[2:]]]
    assert {by: stats.figures(by=by) for by in DIMENSIONS} == expected
