"""代表建议 on the workflow engine: the whole transition table, who may do what, bad input, notifications,
the 一览表 and the figures (hand-computed)."""
import datetime as dt
import io

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from models import (AuditLog, Case, CaseEvent, Commitment, Evaluation, Notification, Signer, Suggestion, Upload,
                    utcnow)
from services import calendar, exports, stats, suggestions, uploads, workflow
from services.errors import Conflict, Forbidden, InvalidInput
from tests.factories import new_case, world

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FORM = {"title": "关于改造城关镇老旧小区供水管网的建议", "cause": "老旧小区供水管网老化", "category": "construction",
        "reasons": "城关镇多个小区供水管网建于上世纪九十年代，爆管频繁，居民反映强烈。",
        "measures": "一是摸清底数；二是分年度纳入改造计划；三是落实资金。", "session": 3}
MARKS = {"contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}
UNSATISFIED = {"contact": "basic", "attitude": "satisfied", "result": "unsatisfied"}


def letter():
    return uploads.save_attachment(PDF).token


def consult_data():
    return {"how": "visit", "when": calendar.today().isoformat(), "who": "住建局副局长、领衔代表"}


def answer_data(klass="B"):
    return {"answer_class": klass, "text": "已列入2027年老旧小区改造计划，详见答复函。", "letter": letter(),
            **({"promise": "2027年6月底前完成一期改造", "promise_due": (calendar.today() + dt.timedelta(days=200))
                .isoformat()} if klass == "B" else {})}


ORIGINAL = "<another registered suggestion>"
PATHS = {
    "draft": [],
    "withdrawn": [("withdraw", "deputy", {})],
    "submitted": [("cosign", "cosigner", {}), ("submit", "deputy", {})],
}
PATHS["opinion"] = PATHS["submitted"] + [("not_register", "staff", {"reason": "unclear"})]
PATHS["merged"] = PATHS["submitted"] + [("merge", "staff", {"original": ORIGINAL, "reason": "同类建议并案"})]
PATHS["registered"] = PATHS["submitted"] + [("register", "staff", {})]
PATHS["assigned"] = PATHS["registered"] + [("assign", "staff", {"lead": "D1", "assist": ["D2"]})]
PATHS["in_progress"] = PATHS["assigned"] + [("sign", "lead", {})]
PATHS["answered"] = PATHS["in_progress"] + [("consult", "lead", "consult"), ("answer", "lead", "answer")]
PATHS["rated"] = PATHS["answered"] + [("evaluate", "deputy", UNSATISFIED)]
PATHS["closed"] = PATHS["answered"] + [("evaluate", "deputy", MARKS), ("close", "staff", {})]


def actor(w, key):
    return {"deputy": w.deputy_account, "cosigner": w.other_deputy_account, "staff": w.staff, "lead": w.lead,
            "assist": w.assist, "system": workflow.SYSTEM, "outsider": w.outsider_dept}[key]


def payload(w, data):
    if data == "consult":
        return consult_data()
    if data == "answer":
        return answer_data()
    if data.get("original") == ORIGINAL:
        return {**data, "original": suggestion_in(w, "registered", title="关于老旧小区加装电梯的建议").number}
    return data


def drafted(w, **data):
    return suggestions.draft(w.deputy_account, {**FORM, "cosigners": [w.other_deputy.code], **data})


def suggestion_in(w, state, **data):
    case = drafted(w, **data)
    for action, who, body in PATHS[state]:
        case = workflow.perform(case, action, actor(w, who), payload(w, body))
    assert case.state == state
    return Case.get_by_id(case.id)


VALID = {
    "edit_draft": ("deputy", {"title": "关于改造老旧小区供水管网的建议"}), "cosign": ("cosigner", {}),
    "decline_cosign": ("cosigner", {}), "submit": ("deputy", {}), "withdraw": ("deputy", {}),
    "register": ("staff", {}), "classify": ("staff", {"category": "social"}),
    "merge": ("staff", {"original": ORIGINAL, "reason": "同类建议并案"}),
    "not_register": ("staff", {"reason": "unclear"}), "mark_key": ("staff", {"leader": "县人大常委会副主任 王明"}),
    "assign": ("staff", {"lead": "D1", "joint": ["D3"]}), "sign": ("lead", {}),
    "return": ("lead", {"reason": "not_our_duty"}), "assist_opinion": ("assist", {"note": "建议同步改造排水"}),
    "consult": ("lead", "consult"), "progress": ("lead", {"note": "已完成摸底"}),
    "request_extension": ("lead", {"days": 10, "reason": "需等待年度预算"}), "approve_extension": ("staff", {}),
    "refuse_extension": ("staff", {}), "urge": ("staff", {}), "answer": ("lead", "answer"),
    "evaluate": ("deputy", MARKS), "co_evaluate": ("cosigner", MARKS), "reopen": ("staff", {}),
    "close": ("staff", {}), "commitment_done": ("lead", {"note": "一期改造已完工"}), "chase": ("system", {"level": 1}),
    "escalate": ("system", {"step": "sign", "level": 1, "departments": ["D1"], "note": "交办已超过2个工作日未签收"}),
}
EXPECTED = {  # (state, action) -> resulting state; every other pair is refused with nothing written
    ("draft", "edit_draft"): "draft", ("draft", "cosign"): "draft", ("draft", "decline_cosign"): "draft",
    ("draft", "submit"): "submitted", ("draft", "withdraw"): "withdrawn", ("submitted", "withdraw"): "withdrawn",
    ("submitted", "register"): "registered", ("submitted", "classify"): "submitted",
    ("registered", "classify"): "registered", ("submitted", "merge"): "merged", ("registered", "merge"): "merged",
    ("submitted", "not_register"): "opinion", ("registered", "assign"): "assigned",
    **{(s, "mark_key"): s for s in ("registered", "assigned", "in_progress")},
    ("assigned", "sign"): "in_progress", ("assigned", "return"): "registered", ("in_progress", "return"): "registered",
    ("in_progress", "assist_opinion"): "in_progress", ("in_progress", "consult"): "in_progress",
    ("in_progress", "progress"): "in_progress", ("in_progress", "request_extension"): "in_progress",
    ("assigned", "urge"): "assigned", ("in_progress", "urge"): "in_progress",
    ("answered", "evaluate"): "rated", ("answered", "co_evaluate"): "answered", ("rated", "co_evaluate"): "rated",
    ("rated", "reopen"): "assigned", ("answered", "close"): "closed",
    **{(s, "commitment_done"): s for s in ("answered", "rated", "closed")},
    **{(s, "chase"): s for s in ("answered", "rated", "closed")},
    ("assigned", "escalate"): "assigned", ("in_progress", "escalate"): "in_progress",
}
REFUSALS = ("invalid_state", "not_permitted", "no_pending_extension", "consult_required", "already_evaluated",
            "unsatisfied", "no_commitment", "not_unsatisfied")


@pytest.mark.parametrize("state", list(PATHS))
@pytest.mark.parametrize("action", list(VALID))
def test_transition_table(app, state, action):
    w = world()
    case = suggestion_in(w, state)
    who, data = VALID[action]
    data = payload(w, data)
    expected = EXPECTED.get((state, action))
    if action in ("approve_extension", "refuse_extension") and state == "in_progress":
        workflow.perform(case, "request_extension", w.lead, {"days": 5, "reason": "需等待年度预算"})
        case, expected = Case.get_by_id(case.id), state
    events = CaseEvent.select().where(CaseEvent.case == case.id).count()
    if expected is None:
        with pytest.raises((Conflict, Forbidden)) as err:
            workflow.perform(case, action, actor(w, who), data)
        assert err.value.code in REFUSALS and any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
        assert Case.get_by_id(case.id).state == state
        assert CaseEvent.select().where(CaseEvent.case == case.id).count() == events
    else:
        fresh = workflow.perform(case, action, actor(w, who), data)
        assert fresh.state == expected and fresh.version == case.version + 1
        event = CaseEvent.select().where(CaseEvent.case == case.id).order_by(CaseEvent.id.desc()).first()
        assert (event.action, event.from_state, event.to_state) == (action, state, expected)
        assert AuditLog.select().where(AuditLog.action == f"suggestion.{action}",
                                       AuditLog.target_id == case.number).exists()


def test_every_action_has_its_notifications_in_the_table():
    from services import notify
    assert set(notify.SUGGESTION_AUDIENCE) == set(suggestions.ACTIONS) | {"draft"}
    for plan in notify.SUGGESTION_AUDIENCE.values():
        assert all(kind in notify.MESSAGES for _, kind in plan)


def test_drafts_are_private_until_submitted_and_the_reporters_are_told(app):
    w = world()
    report = new_case(w)
    case = drafted(w, from_reports=[report.number])
    assert case.number.startswith("JY") and case.kind == "suggestion" and case.state == "draft"
    assert workflow.can_view(case, w.deputy_account) and workflow.can_view(case, w.other_deputy_account)
    assert not workflow.can_view(case, w.staff) and not workflow.can_view(case, w.lead)
    assert case not in list(suggestions.listed(w.staff))
    invite = Notification.get(Notification.kind == "sug_invited")
    assert invite.account.deputy_id == w.other_deputy.id and invite.link == f"/m/suggestions/{case.number}"
    assert not Notification.select().where(Notification.kind == "sug_from_report").exists()
    workflow.perform(case, "submit", w.deputy_account)
    assert workflow.can_view(Case.get_by_id(case.id), w.staff)
    told = Notification.get(Notification.kind == "sug_from_report")
    assert told.account_id == w.citizen.id and "代表已就此提出建议" in told.title and told.case_id == report.id
    # the unconfirmed co-signer does not count and can no longer sign
    assert [s.deputy_id for s in suggestions.signers(case)] == [w.deputy.id]
    with pytest.raises(Conflict) as err:
        workflow.perform(Case.get_by_id(case.id), "cosign", w.other_deputy_account)
    assert err.value.code == "invalid_state"


def test_staff_draft_on_a_deputys_behalf_and_see_only_their_own_drafts(app):
    w = world()
    case = suggestions.draft(w.town_staff, {**FORM, "lead_deputy": w.deputy.code})
    assert case.deputy_id == w.deputy.id and case.entered_by_id == w.town_staff.id
    assert workflow.can_view(case, w.town_staff) and not workflow.can_view(case, w.staff)
    assert list(suggestions.listed(w.town_staff)) == [case] and list(suggestions.listed(w.staff)) == []
    with pytest.raises(Forbidden):
        suggestions.draft(w.other_town_staff, {**FORM, "lead_deputy": w.deputy.code})  # not in their scope
    workflow.perform(case, "submit", w.town_staff)


def test_bad_input_is_refused_in_chinese_with_a_code_and_nothing_half_written(app):
    w = world()
    third = w.deputy.__class__.create(code="DEP003", name="郑国强", level="county", station=w.town_a)
    third_account = w.staff.__class__.create(role="deputy", username="dep3", deputy=third)
    case = drafted(w)
    before = (Case.select().count(), CaseEvent.select().count(), Signer.select().count())
    # co-signing a draft you were not invited to
    with pytest.raises(Forbidden) as err:
        workflow.perform(case, "cosign", third_account)
    assert err.value.code == "not_permitted" and "确认附议" in err.value.message
    # the form itself
    for bad, field_code in (({"title": ""}, "missing_field"), ({"measures": "短"}, "too_short"),
                            ({"category": "weather"}, "invalid_choice"), ({"session": 99}, "out_of_range"),
                            ({"cosigners": ["NOPE"]}, "unknown_deputy"), ({"from_reports": ["2026-999999"]},
                                                                       "unknown_case")):
        with pytest.raises(InvalidInput) as err:
            drafted(w, **bad)
        assert err.value.code == field_code
    assert (Case.select().count(), CaseEvent.select().count(), Signer.select().count()) == before
    # answering without 面商 when it is required; a class outside A–D; no signed letter
    case = suggestion_in(w, "in_progress")
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "answer", w.lead, answer_data("A"))
    assert err.value.code == "consult_required" and "面商" in err.value.message
    case = workflow.perform(case, "consult", w.lead, consult_data())
    for bad, field_code in (({"answer_class": "E"}, "invalid_class"), ({"letter": ""}, "letter_required"),
                            ({"promise": ""}, "missing_field"), ({"promise_due": "2020-01-01"}, "invalid_date")):
        with pytest.raises(InvalidInput) as err:
            workflow.perform(case, "answer", w.lead, {**answer_data("B"), **bad})
        assert err.value.code == field_code
    assert Case.get_by_id(case.id).state == "in_progress" and not Commitment.select().exists()
    case = workflow.perform(case, "answer", w.lead, answer_data("A"))
    # rating by a non-signer; a second 测评
    with pytest.raises(Forbidden) as err:
        workflow.perform(case, "co_evaluate", third_account, MARKS)
    assert err.value.code == "not_permitted"
    case = workflow.perform(case, "co_evaluate", w.other_deputy_account, MARKS)
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "co_evaluate", w.other_deputy_account, UNSATISFIED)
    assert err.value.code == "already_evaluated" and "不能重复测评" in err.value.message
    case = workflow.perform(case, "evaluate", w.deputy_account, MARKS)
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "evaluate", w.deputy_account, UNSATISFIED)
    assert err.value.code == "already_evaluated"
    assert Evaluation.select().count() == 2 and Case.get_by_id(case.id).rating == "satisfied"


def test_registration_numbers_count_per_session(app):
    w = world()
    first = suggestion_in(w, "registered")
    second = suggestion_in(w, "registered", title="关于增设城关镇公交线路的建议")
    recess = suggestion_in(w, "registered", session=0, title="关于整治河西镇农贸市场周边交通的建议")
    assert [suggestions.number_text(suggestions.form(c)) for c in (first, second, recess)] == \
        ["第1号", "第2号", "第1号"]


def test_return_only_within_seven_working_days_and_deadline_in_months(app):
    w = world()
    with freeze_time("2026-03-02 02:00"):  # a Monday
        case = suggestion_in(w, "assigned")
        assert case.deadline == dt.date(2026, 6, 2)  # 3 months, the next working day
    with freeze_time("2026-03-12 02:00"):  # the 8th working day
        with pytest.raises(Conflict) as err:
            workflow.perform(case, "return", w.lead, {"reason": "not_our_duty"})
        assert err.value.code == "return_too_late"
    with freeze_time("2026-03-11 02:00"):
        assert workflow.perform(case, "return", w.lead, {"reason": "not_our_duty"}).state == "registered"


def test_a_key_suggestion_gets_the_shorter_deadline(app):
    w = world()
    with freeze_time("2026-03-02 02:00"):
        case = suggestion_in(w, "registered")
        case = workflow.perform(case, "mark_key", w.staff, {"leader": "县人大常委会副主任 王明"})
        case = workflow.perform(case, "assign", w.staff, {"lead": "D1"})
        assert case.deadline == dt.date(2026, 5, 6)  # 2 months: 5月2日 is a holiday, 5月6日 the next working day
        key = Notification.get(Notification.kind == "sug_dept_assigned")
        assert key.account_id == w.lead.id


def test_unsatisfied_then_second_answer_and_the_promise_is_chased(app):
    w = world()
    case = suggestion_in(w, "rated")
    assert Notification.select().where(Notification.kind == "sug_unsatisfied").exists()
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "close", w.staff)
    assert err.value.code == "unsatisfied"
    case = workflow.perform(case, "reopen", w.staff)
    assert case.round == 2 and case.deadline == calendar.add_months(calendar.today(), 1)
    case = workflow.perform(case, "sign", w.lead)
    assert "answer" not in workflow.allowed_actions(case, w.lead)  # a new round needs its own 面商
    case = workflow.perform(case, "consult", w.lead, consult_data())
    case = workflow.perform(case, "answer", w.lead, answer_data("A"))
    case = workflow.perform(case, "evaluate", w.deputy_account, MARKS)
    assert workflow.perform(case, "close", w.staff).state == "closed"
    promise = Commitment.get()  # the first round's B answer promised something
    with freeze_time(promise.due + dt.timedelta(days=1)):
        assert suggestions.chase_commitments() == {"chased": 1}
        assert suggestions.chase_commitments() == {"chased": 0}  # once per level
    chased = Notification.select().where(Notification.kind == "sug_commitment_due")
    assert {n.account_id for n in chased} >= {w.lead.id, w.staff.id}
    workflow.perform(Case.get_by_id(case.id), "commitment_done", w.lead, {"note": "一期改造已完工"})
    assert Commitment.get().done_at is not None


def test_a_late_sign_and_a_late_assist_opinion_are_escalated_by_the_daily_job(app):
    from jobs import tasks
    w = world()

    def late(account):
        return [n.body for n in Notification.select().where(Notification.kind == "sug_step_late",
                                                            Notification.account == account).order_by(Notification.id)]

    with freeze_time("2026-03-02 02:00"):  # a Monday: 交办 to D1 (主办) and D2 (协办)
        case = suggestion_in(w, "assigned")
        answered = suggestion_in(w, "in_progress", title="关于城关镇增设公交站点的建议")
        workflow.perform(answered, "assist_opinion", w.assist, {"note": "建议同步优化公交线路"})
    with freeze_time("2026-03-04 02:00"):  # two working days: still in time
        assert tasks.escalate_late_steps() == {"escalated": 0}
    with freeze_time("2026-03-05 02:00"):  # the third working day: yellow, once
        assert tasks.escalate_late_steps() == {"escalated": 1}
        assert tasks.escalate_late_steps() == {"escalated": 0}
    assert late(w.lead) == late(w.staff) == [f"{case.number}：交办已超过2个工作日未签收，请尽快签收"]
    assert late(w.assist) == []  # its opinion can wait for the 签收
    with freeze_time("2026-03-09 02:00"):  # twice the time limit: red
        assert tasks.escalate_late_steps() == {"escalated": 1}
        case = workflow.perform(Case.get_by_id(case.id), "sign", w.lead)
    assert len(late(w.lead)) == 2
    with freeze_time("2026-04-02 02:00"):  # one month after 交办: the 协办意见 is still in time
        assert tasks.escalate_late_steps() == {"escalated": 0}
    with freeze_time("2026-04-03 02:00"):  # D2 gave no opinion on this one (but did on the other)
        assert tasks.escalate_late_steps() == {"escalated": 1}
        assert tasks.escalate_late_steps() == {"escalated": 0}
    assert late(w.assist) == [f"{case.number}：交办已满1个月，协办意见尚未提出，请尽快向主办单位提出"]
    assert len(late(w.lead)) == 2 and len(late(w.staff)) == 3
    event = CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action == "escalate").order_by(
        CaseEvent.id.desc()).first()
    assert event.data == {"step": "assist", "level": 1, "departments": ["D2"], "round": 1}


def test_the_list_is_an_excel_with_a_title_row(app):
    w = world()
    case = suggestion_in(w, "assigned")
    book = load_workbook(io.BytesIO(exports.suggestion_list_xlsx(suggestions.listed(w.staff, session=3),
                                                                 session=3)))
    sheet = book.active
    assert "第3次会议" in sheet["A1"].value and "建议一览表" in sheet["A1"].value
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["编号", "建议标题", "领衔代表", "附议代表"]
    row = [c.value for c in sheet[3]]
    assert row[0] == "第1号" and row[1] == case.title and row[2] == "周建华" and row[3] == "吴秀英"
    assert "县交通运输局" in row and "县住建局" in row


def test_figures_hand_computed(app):
    """Five suggestions of session 3: A answered on time, consulted, rated satisfied; B answered late (C class),
    rated unsatisfied; a third in hand and overdue; a fourth in hand, not yet due; one not registered.
    办结率 = 2 concluded / 3 due; 按期 = 1/3; 满意率 = 1/2; 办成率 (A) = 1/2; 面商率 = 2 consulted / 4 handled."""
    w = world()
    with freeze_time("2026-03-02 02:00"):
        a = suggestion_in(w, "in_progress", title="建议甲：供水管网改造")
        b = suggestion_in(w, "in_progress", title="建议乙：公交线路")
        c = suggestion_in(w, "in_progress", title="建议丙：农贸市场")
        suggestion_in(w, "opinion", title="建议戊：个案诉求")
        workflow.perform(a, "consult", w.lead, consult_data())
        workflow.perform(b, "consult", w.lead, consult_data())
        a = workflow.perform(Case.get_by_id(a.id), "answer", w.lead, answer_data("A"))
        workflow.perform(a, "evaluate", w.deputy_account, MARKS)
    with freeze_time("2026-07-01 02:00"):
        d = suggestion_in(w, "in_progress", title="建议丁：路灯")
        b = workflow.perform(Case.get_by_id(b.id), "answer", w.lead, answer_data("C"))
        workflow.perform(b, "evaluate", w.deputy_account, UNSATISFIED)
        row = stats.suggestion_figures(session=3)
        assert (row["total"], row["handled"], row["due"], row["concluded"], row["on_time"]) == (5, 4, 3, 2, 1)
        assert (row["rated"], row["satisfied"], row["resolved"], row["consulted"]) == (2, 1, 1, 2)
        assert row["completion_rate"] == pytest.approx(2 / 3) and row["on_time_rate"] == pytest.approx(1 / 3)
        assert row["satisfaction_rate"] == 0.5 and row["success_rate"] == 0.5 and row["consult_rate"] == 0.5
        by_department = {r["label"]: r for r in stats.suggestion_figures(by="department", session=3)}
        assert by_department["县交通运输局"]["handled"] == 4 and by_department["未交办"]["total"] == 1
        assert [r["label"] for r in stats.suggestion_figures(by="session")] == ["第3次会议"]
        assert stats.suggestion_figures(by="deputy")[0]["label"] == "周建华"
        # the report figures do not count suggestions, the suggestion tally agrees with the live count
        assert stats.figures()["total"] == 0
        assert stats.figures(kind="suggestion")["total"] == 5 == stats.figures(kind="suggestion", live=True)["total"]
    assert c.state == d.state == "in_progress"


def test_migration_0010_upgrades_an_existing_database(app):
    """A database from before 0010: every case becomes a report, the tally is recounted by kind (the figures
    unchanged) and the suggestion tables arrive."""
    from peewee import BigIntegerField, CharField, DateField, IntegerField
    from playhouse.migrate import MySQLMigrator, SqliteMigrator
    from playhouse.migrate import migrate as run_ops

    from models import CaseTally, db, is_mysql
    from models.base import BaseModel
    from models.migrate import SchemaVersion, discover, migrate
    from tests.factories import case_in
    w = world()
    for state in ("submitted", "assigned", "closed", "rated"):
        case_in(w, state)
    expected = {by: stats.figures(by=by, live=True) for by in (None, "department", "state")}

    meta = type("Meta", (), {"table_name": "case_tally", "indexes": ((("dim", "period", "day", "station", "key"),
                                                                       True),)})
    OldTally = type("OldTally", (BaseModel,), {  # case_tally as 0002 made it
        "dim": CharField(max_length=12), "period": CharField(max_length=1), "day": DateField(),
        "station": IntegerField(default=0), "key": CharField(max_length=32), "Meta": meta,
        "response_seconds": BigIntegerField(default=0), "__module__": __name__,
        **{name: IntegerField(default=0) for name in ("total", "handled", "open_handled", "concluded", "on_time",
                                                      "rated", "satisfied", "resolved", "responded")}})

    db.drop_tables([Commitment, Evaluation, Signer, Suggestion, CaseTally])
    db.create_tables([OldTally])
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    kind_indexes = [i.name for i in db.get_indexes("case") if "kind" in i.columns]  # 0010's and later ones
    run_ops(*(migrator.drop_index("case", name) for name in kind_indexes), migrator.drop_column("case", "kind"))
    SchemaVersion.delete().where(SchemaVersion.version == 10).execute()
    assert migrate(discover()) == [10]
    assert {c.kind for c in Case.select()} == {"report"}
    assert {by: stats.figures(by=by) for by in expected} == expected
    assert suggestion_in(w, "registered").kind == "suggestion"
