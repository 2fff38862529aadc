"""The office's corrections as new timeline events (改派, 撤回交办, 二次办理 elsewhere, edits, review, merge,
转办, entering a report on a citizen's behalf), who did each step, and the audit entry of every case change."""
import pytest

from models import Account, AuditLog, Case, CaseEvent, Notification, Rating
from services import stats, workflow
from services.errors import Conflict, Forbidden, InvalidInput
from tests.factories import case_in, new_case, world


@pytest.fixture
def w(app):
    return world()


def last_event(case):
    return CaseEvent.select().where(CaseEvent.case == case.id).order_by(CaseEvent.id.desc()).first()


def kinds_for(account):
    return [n.kind for n in Notification.select().where(Notification.account == account).order_by(Notification.id)]


def test_reassign_after_signing_moves_the_case_to_the_new_department_with_the_reason(w):
    case = case_in(w, "in_progress")
    with pytest.raises(InvalidInput) as err:
        workflow.perform(case, "reassign", w.staff, {"lead": "D3", "days": 5})
    assert err.value.code == "missing_field" and err.value.details["field"] == "reason"
    case = workflow.perform(case, "reassign", w.staff, {"lead": "D3", "days": 5, "reason": "属教育局职责"})
    assert (case.state, case.lead_department.name) == ("assigned", "县教育局")
    event = last_event(case)
    assert event.data["reason"] == "属教育局职责" and event.data["previous"] == "县交通运输局"
    assert "sign" in workflow.allowed_actions(case, w.outsider_dept)  # the new lead signs
    assert workflow.allowed_actions(case, w.lead) == []                 # the old one can no longer act
    assert "dept_assigned" in kinds_for(w.outsider_dept)
    # nothing overwritten: the first assignment is still on record
    assert [(a.department.code, a.active) for a in case.assignments.order_by("id")] == \
        [("D1", False), ("D2", False), ("D3", True)]


def test_recall_returns_the_case_to_be_assigned_again(w):
    case = workflow.perform(case_in(w, "assigned"), "recall", w.staff, {"reason": "交办单位有误"})
    assert (case.state, case.lead_department_id, case.deadline) == ("accepted", None, None)
    assert not workflow.can_view(case, w.outsider_dept)
    case = workflow.perform(case, "assign", w.staff, {"lead": "D2", "days": 5})
    assert case.lead_department.code == "D2"


def test_second_round_can_go_to_another_department(w):
    case = workflow.perform(case_in(w, "rated"), "reopen", w.staff, {"lead": "D3", "days": 10})
    assert (case.state, case.round, case.lead_department.code) == ("assigned", 2, "D3")
    assert "sign" in workflow.allowed_actions(case, w.outsider_dept)
    assert "dept_reopened" in kinds_for(w.outsider_dept) and "dept_reopened" not in kinds_for(w.lead)


def test_edit_keeps_the_citizens_words_and_records_old_and_new(w):
    case = new_case(w, title="路灯坏了两个月，老人")
    content = case.content
    case = workflow.perform(case, "edit", w.staff, {"title": "路灯坏了两个月，老人夜间出行不便", "category": "construction",
                                                    "summary": "村口3盏路灯不亮", "reason": "标题被截断"})
    assert (case.title, case.category, case.summary, case.content) == (
        "路灯坏了两个月，老人夜间出行不便", "construction", "村口3盏路灯不亮", content)
    changes = last_event(case).data["changes"]
    assert changes["title"] == ["路灯坏了两个月，老人", "路灯坏了两个月，老人夜间出行不便"]
    assert changes["category"] == ["traffic", "construction"]
    with pytest.raises(InvalidInput) as err:
        workflow.perform(case, "edit", w.staff, {"title": case.title, "reason": "再改一次"})
    assert err.value.code == "nothing_changed"
    with pytest.raises(Forbidden):
        workflow.perform(case, "edit", w.lead, {"title": "部门改标题", "reason": "x"})


def test_flagged_content_is_reviewed_before_it_can_be_published(w):
    case = workflow.submit_case(w.citizen, {"deputy": w.deputy.code, "category": "traffic",
                                            "content": "村口道路坑洼严重，雨天积水。"}, flagged_reason="内容安全检查未通过")
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "publish", w.staff)
    assert err.value.code == "needs_review"
    passed = workflow.perform(case, "approve_content", w.staff)
    assert (passed.flagged, passed.review) == (False, "passed")
    assert workflow.perform(passed, "publish", w.staff).published
    other = workflow.submit_case(w.citizen, {"deputy": w.deputy.code, "category": "traffic",
                                             "content": "某某家的电话是13800000000。"}, flagged_reason="疑似隐私")
    withheld = workflow.perform(other, "withhold", w.staff, {"reason": "含他人隐私"})
    assert (withheld.flagged, withheld.review, withheld.published) == (False, "withheld", False)
    with pytest.raises(Conflict) as err:
        workflow.perform(withheld, "publish", w.staff)
    assert err.value.code == "withheld"


def test_merged_duplicate_follows_its_original_and_counts_once(w):
    original = case_in(w, "in_progress")
    duplicate = new_case(w, reporter=w.other_citizen, content="村口那条路坑很多，下雨全是水。")
    assert stats.figures(live=True)["total"] == 2
    with pytest.raises(InvalidInput) as err:
        workflow.perform(duplicate, "merge", w.staff, {"original": duplicate.number, "reason": "重复"})
    assert err.value.code == "same_case"
    merged = workflow.perform(duplicate, "merge", w.staff, {"original": original.number, "reason": "同一路段"})
    assert (merged.state, merged.merged_into_id) == ("merged", original.id)
    assert "case_merged" in kinds_for(w.other_citizen)
    assert stats.figures()["total"] == stats.figures(live=True)["total"] == 1
    workflow.perform(original, "answer", w.lead, {"answer_class": "A", "text": "路面已经修好。"})
    assert kinds_for(w.other_citizen)[-1] == "case_answered"  # the duplicate's reporter hears the answer too


def test_transfer_closes_with_where_it_went_and_tells_the_reporter(w):
    case = workflow.perform(new_case(w), "transfer", w.staff, {"to": "12345", "reason": "属政务热线受理范围"})
    assert (case.state, case.transfer_to) == ("transferred", "12345")
    body = Notification.get(Notification.account == w.citizen, Notification.kind == "case_transferred").body
    assert "12345政务服务便民热线" in body and "属政务热线受理范围" in body


def test_staff_enter_a_report_on_a_citizens_behalf_marked_as_such(w):
    case = workflow.submit_case(w.town_staff, {"station": w.town_a.code, "category": "social", "intake": "visit",
                                               "citizen_name": "王大爷", "contact_phone": "13900002222",
                                               "content": "低保申请三个月没有回音。"})
    assert (case.source, case.entered_by_id, case.reporter.display_name, case.reporter.role) == (
        "visit", w.town_staff.id, "王大爷", "citizen")
    assert case.reporter_id != w.town_staff.id
    assert "staff_new" in kinds_for(w.town_staff)  # a station report reaches the station's staff
    with pytest.raises(Forbidden) as err:
        workflow.submit_case(w.town_staff, {"station": w.town_b.code, "category": "social", "intake": "phone",
                                            "citizen_name": "李四", "content": "别的镇的事情要反映。"})
    assert err.value.code == "out_of_scope"
    with pytest.raises(InvalidInput):
        workflow.submit_case(w.staff, {"station": w.town_a.code, "category": "social", "content": "没有说明来源的代录。"})


def test_phone_rating_by_staff_is_marked(w):
    case = workflow.perform(case_in(w, "answered"), "callback", w.staff,
                            {"result": "resolved", "note": "电话回访，群众表示已修好"})
    case = workflow.perform(case, "rate_by_phone", w.staff, {"value": "satisfied"})
    rating = Rating.get(Rating.case == case.id)
    assert (case.state, rating.value, rating.by_phone, rating.rater_id) == ("rated", "satisfied", True, w.staff.id)


def test_timeline_names_the_person_and_their_department_or_station(w):
    case = case_in(w, "in_progress")
    workflow.perform(case, "progress", w.lead, {"note": "已派人查看"})
    staff_view = {i["action"]: i["actor_name"] for i in workflow.timeline(case, w.staff)}
    assert staff_view["accept"] == "人大代表 · 周建华"
    assert staff_view["assign"] == "县人大常委会 · staff"
    assert staff_view["progress"] == "县交通运输局 · lead"
    citizen_view = {i["action"]: i["actor_name"] for i in workflow.timeline(case, w.citizen, for_citizen=True)}
    assert citizen_view["sign"] == "县交通运输局" and citizen_view["submit"] == "群众"


def test_every_case_change_is_in_the_audit_log(w):
    case = case_in(w, "assigned")
    workflow.perform(case, "recall", w.town_staff, {"reason": "交办有误"})
    actions = [e.action for e in AuditLog.select().where(AuditLog.target_id == case.number).order_by(AuditLog.id)]
    assert actions == ["case.submit", "case.accept", "case.assign", "case.recall"]
    entry = AuditLog.select().where(AuditLog.action == "case.recall").get()
    assert (entry.actor_id, entry.detail["reason"], entry.detail["from"]) == (w.town_staff.id, "交办有误", "assigned")


def test_only_the_deputys_own_answer_counts_as_responding(w):
    by_office = workflow.perform(new_case(w), "accept", w.staff)
    by_deputy = workflow.perform(new_case(w), "accept", w.deputy_account)
    assert by_office.responded_at is None and by_deputy.responded_at is not None
    row = stats.deputy_responsiveness()[0]
    assert (row["received"], row["responded"]) == (2, 1)
    assert Account.select().count() > 0 and Case.select().count() == 2


def test_migration_0008_upgrades_an_existing_database(w):
    """A database from before 0008: the new columns arrive and 代表响应 is recounted from the deputy's own steps."""
    from playhouse.migrate import MySQLMigrator, SqliteMigrator
    from playhouse.migrate import migrate as run_ops

    from models import db, is_mysql
    from models.migrate import SchemaVersion, discover, migrate
    by_office = workflow.perform(new_case(w), "accept", w.staff)
    by_deputy = workflow.perform(new_case(w), "accept", w.deputy_account)
    Case.update(responded_at=by_office.submitted_at).where(Case.id == by_office.id).execute()  # the old rule
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    if is_mysql():
        run_ops(migrator.drop_foreign_key_constraint("case", "merged_into_id"),
                migrator.drop_foreign_key_constraint("case", "entered_by_id"))
    legacy = {} if is_mysql() else {"legacy": True}  # SQLite: rebuild the table (a foreign key column)
    db.execute_sql("SET FOREIGN_KEY_CHECKS=0" if is_mysql() else "PRAGMA foreign_keys=OFF")
    run_ops(*(migrator.drop_column("case", c, **legacy) for c in ("summary", "merged_into_id", "transfer_to",
                                                                  "entered_by_id", "review")),
            migrator.drop_column("rating", "by_phone"))
    db.execute_sql("SET FOREIGN_KEY_CHECKS=1" if is_mysql() else "PRAGMA foreign_keys=ON")
    SchemaVersion.delete().where(SchemaVersion.version == 8).execute()
    assert migrate(discover()) == [8]
    assert {"summary", "merged_into_id", "transfer_to", "entered_by_id", "review"} <= {
        c.name for c in db.get_columns("case")}
    assert Case.get_by_id(by_office.id).responded_at is None
    assert Case.get_by_id(by_deputy.id).responded_at == by_deputy.responded_at
    assert stats.figures()["responded"] == 1


def test_response_within_24_hours_is_counted_for_each_deputy(w):
    from freezegun import freeze_time
    with freeze_time("2026-03-02 02:00:00"):
        quick, slow, unanswered = new_case(w), new_case(w), new_case(w)
    with freeze_time("2026-03-02 20:00:00"):
        workflow.perform(quick, "accept", w.deputy_account)
    with freeze_time("2026-03-05 02:00:00"):
        workflow.perform(slow, "accept", w.deputy_account)
    row = stats.deputy_responsiveness()[0]
    assert (row["received"], row["responded"], row["in_time"]) == (3, 2, 1) and unanswered.responded_at is None
    listed = Case.select().where(stats.figure_condition("responded_in_time"))
    assert [c.id for c in listed] == [quick.id]


def test_a_station_report_reaches_the_stations_staff_and_member_deputies_who_may_accept_it(w):
    case = workflow.submit_case(w.citizen, {"station": w.town_a.code, "category": "social",
                                            "content": "社区活动室一直锁着，老人没地方去。"})
    pushed = {(n.account_id, n.kind) for n in Notification.select().where(Notification.case == case.id)}
    assert {(w.deputy_account.id, "case_new"), (w.town_staff.id, "staff_new"), (w.staff.id, "staff_new")} <= pushed
    assert (w.other_deputy_account.id, "case_new") not in pushed and (w.other_town_staff.id, "staff_new") not in pushed
    assert workflow.can_view(case, w.deputy_account) and not workflow.can_view(case, w.other_deputy_account)
    accepted = workflow.perform(case, "accept", w.deputy_account)
    assert accepted.state == "accepted" and accepted.responded_at is not None
