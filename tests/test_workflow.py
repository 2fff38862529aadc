"""The case workflow: the whole transition table, permissions, races, deadlines and the timeline."""
import datetime as dt
import threading

import pytest
from freezegun import freeze_time

from models import Assignment, Case, CaseEvent, Notification, db
from services import workflow
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import ORIGINAL, PATHS, case_in, new_case, with_original, world

# What each action needs, and who does it, when it is allowed.
VALID = {
    "accept": ("deputy_account", {}), "decline": ("deputy_account", {"reason": "duplicate"}),
    "forward": ("deputy_account", {"note": "请人大办交住建局办理"}), "opinion": ("deputy_account", {"note": "建议尽快"}),
    "reply": ("deputy_account", {"note": "已收到，会跟进"}), "supplement": ("citizen", {"note": "补充：坑有一米宽"}),
    "assign": ("staff", {"lead": "D1", "days": 5}), "sign": ("lead", {}),
    "return": ("lead", {"reason": "not_our_duty"}), "progress": ("lead", {"note": "已派人查看"}),
    "request_extension": ("lead", {"days": 5, "reason": "需要协调资金"}),
    "approve_extension": ("staff", {}), "refuse_extension": ("staff", {}), "urge": ("staff", {}),
    "answer": ("lead", {"answer_class": "B", "text": "已列入明年计划。"}), "rate": ("citizen", {"value": "satisfied"}),
    "reopen": ("staff", {"days": 10}), "close": ("staff", {}), "auto_close": (None, {}),
    "publish": ("staff", {}), "unpublish": ("staff", {}), "withdraw": ("citizen", {}),
    "reassign": ("staff", {"lead": "D3", "days": 5, "reason": "原单位职责不符"}),
    "recall": ("staff", {"reason": "交办有误"}),
    "edit": ("staff", {"title": "村口道路坑洼积水", "reason": "标题被截断"}),
    "approve_content": ("staff", {}), "withhold": ("staff", {"reason": "含他人隐私"}),
    "merge": ("staff", {"original": ORIGINAL, "reason": "重复反映"}),
    "transfer": ("staff", {"to": "12345", "reason": "属12345受理范围"}),
    "contact": ("lead", {"note": "已电话联系反映人"}),
    "callback": ("staff", {"result": "resolved", "note": "群众表示路已修好"}),
    "rate_by_phone": ("staff", {"value": "basic"}), "escalate": (None, {"level": 1}),
    "resolution": ("citizen", {"resolved": "no"}),
}
EXPECTED_TARGET = {  # (state, action) -> resulting state, for every allowed pair; every other pair is refused
    ("submitted", "accept"): "accepted", ("submitted", "decline"): "declined", ("submitted", "forward"): "accepted",
    ("accepted", "assign"): "assigned", ("assigned", "sign"): "in_progress", ("assigned", "return"): "accepted",
    ("in_progress", "answer"): "answered", ("answered", "rate"): "rated", ("answered", "close"): "closed",
    ("rated", "close"): "closed", ("rated", "reopen"): "assigned",
    ("submitted", "withdraw"): "withdrawn",
    ("assigned", "reassign"): "assigned", ("in_progress", "reassign"): "assigned",
    ("assigned", "recall"): "accepted", ("in_progress", "recall"): "accepted",
    **{(s, "merge"): "merged" for s in ("submitted", "accepted", "assigned", "in_progress")},
    ("submitted", "transfer"): "transferred", ("accepted", "transfer"): "transferred",
    ("answered", "rate_by_phone"): "rated",
}
STAYS = {
    "opinion": workflow.NOT_ENDED, "reply": workflow.NOT_ENDED,
    "supplement": ("submitted", "accepted", "assigned", "in_progress"), "progress": ("in_progress",),
    "request_extension": ("in_progress",), "urge": ("assigned", "in_progress"),
    "publish": tuple(s for s in workflow.STATES if s not in ("declined", "withdrawn", "merged", "transferred")),
    "edit": tuple(workflow.STATES), "contact": ("assigned", "in_progress"),
    "callback": ("answered", "rated", "closed"), "escalate": ("submitted", "assigned"),
    "resolution": ("closed",),
}


def actor_for(w, key):
    return workflow.SYSTEM if key is None else getattr(w, key)


@pytest.mark.parametrize("state", list(PATHS))
@pytest.mark.parametrize("action", list(VALID))
def test_transition_table(app, state, action):
    w = world()
    case = case_in(w, state)
    who, data = VALID[action]
    data = with_original(w, data)
    expected = EXPECTED_TARGET.get((state, action)) or (state if state in STAYS.get(action, ()) else None)
    if action in ("approve_extension", "refuse_extension") and state == "in_progress":
        workflow.perform(case, "request_extension", w.lead, {"days": 3, "reason": "天气原因"})
        case, expected = Case.get_by_id(case.id), state
    if expected is None:
        with pytest.raises((Conflict, Forbidden)) as err:
            workflow.perform(case, action, actor_for(w, who), data)
        assert err.value.code in ("invalid_state", "not_permitted", "no_pending_extension", "not_due",
                                  "not_published", "not_unsatisfied", "not_flagged",
                                  "not_unresolved")
        assert Case.get_by_id(case.id).state == state
        assert action not in workflow.allowed_actions(case, actor_for(w, who))
    else:
        events_before = CaseEvent.select().where(CaseEvent.case == case.id).count()
        assert action in workflow.allowed_actions(case, actor_for(w, who))
        fresh = workflow.perform(case, action, actor_for(w, who), data)
        assert fresh.state == expected
        assert fresh.version == case.version + 1
        last = CaseEvent.select().where(CaseEvent.case == case.id).order_by(CaseEvent.id.desc()).first()
        assert (last.action, last.from_state, last.to_state) == (action, state, expected)
        assert CaseEvent.select().where(CaseEvent.case == case.id).count() == events_before + 1


def test_auto_close_only_after_the_configured_days(app):
    w = world()
    with freeze_time("2026-03-02 02:00:00"):
        case = case_in(w, "answered")
    with freeze_time("2026-03-08 02:00:00"):
        with pytest.raises(Conflict) as err:
            workflow.perform(case, "auto_close", workflow.SYSTEM)
        assert err.value.code == "not_due"
    with freeze_time("2026-03-09 03:00:00"):
        closed = workflow.perform(case, "auto_close", workflow.SYSTEM)
    assert (closed.state, closed.close_reason, closed.rating) == ("closed", "unrated", "")


@pytest.mark.parametrize("action,who,allowed", [
    ("accept", "deputy_account", True), ("accept", "other_deputy_account", False),
    ("accept", "staff", True), ("accept", "town_staff", True), ("accept", "other_town_staff", False),
    ("accept", "admin", True), ("accept", "citizen", False), ("accept", "lead", False),
    ("supplement", "citizen", True), ("supplement", "other_citizen", False),
    ("assign", "deputy_account", False),
])
def test_permissions_by_role_and_ownership(app, action, who, allowed):
    w = world()
    case = new_case(w)
    if action == "assign":
        case = workflow.perform(case, "accept", w.deputy_account)
    data = {**VALID[action][1], "note": "补充说明"}
    if allowed:
        assert workflow.perform(case, action, getattr(w, who), data).version == case.version + 1
    else:
        with pytest.raises(Forbidden) as err:
            workflow.perform(case, action, getattr(w, who), data)
        assert err.value.code == "not_permitted" and "无权" in err.value.message


def test_department_acts_only_on_its_own_assignment(app):
    w = world()
    case = case_in(w, "assigned")
    with pytest.raises(Forbidden):
        workflow.perform(case, "sign", w.outsider_dept)
    with pytest.raises(Forbidden):  # an assisting department may not sign for the lead
        workflow.perform(case, "sign", w.assist)
    case = workflow.perform(case, "sign", w.lead)
    assert "progress" in workflow.allowed_actions(case, w.assist)
    assert "answer" not in workflow.allowed_actions(case, w.assist)
    assert workflow.allowed_actions(case, w.outsider_dept) == []


def test_unknown_action_and_bad_input_are_typed_and_write_nothing(app):
    w = world()
    case = case_in(w, "in_progress")
    events = CaseEvent.select().count()
    with pytest.raises(InvalidInput) as err:
        workflow.perform(case, "teleport", w.staff)
    assert err.value.code == "unknown_action"
    for data, code in [({"answer_class": "E", "text": "答复内容在此"}, "invalid_choice"),
                       ({"answer_class": "A"}, "missing_field"),
                       ({"answer_class": "A", "text": "长" * 2001}, "too_long"),
                       ({"answer_class": "A", "text": "好的", "attachments": ["nope"]}, "too_short")]:
        with pytest.raises(InvalidInput) as err:
            workflow.perform(case, "answer", w.lead, data)
        assert err.value.code == code and err.value.message
    fresh = Case.get_by_id(case.id)
    assert (fresh.state, fresh.version, fresh.answer_class) == ("in_progress", case.version, "")
    assert CaseEvent.select().count() == events


def test_failure_inside_the_transaction_leaves_nothing_half_written(app):
    w = world()
    case = case_in(w, "accepted")
    with pytest.raises(InvalidInput):  # assist department unknown: raised after nothing, or after the lead row
        workflow.perform(case, "assign", w.staff, {"lead": "D1", "assist": ["NOPE"]})
    assert Assignment.select().where(Assignment.case == case.id).count() == 0
    assert Case.get_by_id(case.id).state == "accepted"


def test_stale_object_is_refused_with_a_conflict(app):
    w = world()
    case = new_case(w)
    workflow.perform(case, "accept", w.deputy_account)
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "decline", w.staff, {"reason": "duplicate"})  # `case` still says submitted
    assert err.value.code in ("stale_state", "invalid_state")
    assert Case.get_by_id(case.id).state == "accepted"


def test_two_threads_racing_the_same_transition_exactly_one_wins(app):
    w = world()
    case = case_in(w, "assigned")
    db.close()  # each thread opens its own connection
    barrier, results = threading.Barrier(2), []

    def sign_and_return(action, data):
        with app.app_context():
            db.connect(reuse_if_open=True)
            barrier.wait()
            try:
                workflow.perform(case, action, w.lead, data)
                results.append(("won", action))
            except Conflict as err:
                results.append(("conflict", err.code))
            finally:
                db.close()

    threads = [threading.Thread(target=sign_and_return, args=a) for a in
               [("sign", {}), ("return", {"reason": "wrong_area"})]]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    db.connect(reuse_if_open=True)
    assert sorted(r[0] for r in results) == ["conflict", "won"]
    winner = next(a for r, a in results if r == "won")
    fresh = Case.get_by_id(case.id)
    assert fresh.state == {"sign": "in_progress", "return": "accepted"}[winner]
    assert fresh.version == case.version + 1
    assert CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action.in_(["sign", "return"])).count() == 1


def test_deadline_counts_working_days_across_national_day(app):
    w = world()
    case = case_in(w, "accepted")
    with freeze_time("2026-09-29 03:00:00"):  # 11:00 in Shanghai, a Tuesday
        case = workflow.perform(case, "assign", w.staff, {"lead": "D1", "days": 5})
    # 9-30 (1); 10-1..10-7 holiday; 10-8 (2), 10-9 (3), 10-10 Saturday worked (4), 10-12 Monday (5)
    assert case.deadline == dt.date(2026, 10, 12)
    assert Assignment.get(Assignment.case == case.id).deadline == dt.date(2026, 10, 12)


def test_extension_approval_moves_the_deadline_by_working_days(app):
    w = world()
    with freeze_time("2026-09-29 03:00:00"):
        case = case_in(w, "in_progress")
        case = workflow.perform(case, "request_extension", w.lead, {"days": 3, "reason": "需协调资金"})
        with pytest.raises(Conflict):
            workflow.perform(case, "request_extension", w.lead, {"days": 3, "reason": "再次申请"})
        case = workflow.perform(case, "approve_extension", w.staff)
    assert case.deadline == dt.date(2026, 10, 15)  # 10-12 + 3 working days (13, 14, 15)


def test_unsatisfied_rating_allows_a_second_round_with_a_new_deadline(app):
    w = world()
    case = case_in(w, "rated")  # rated unsatisfied
    assert "reopen" in workflow.allowed_actions(case, w.staff)
    case = workflow.perform(case, "reopen", w.staff, {"days": 10})
    assert (case.state, case.round, case.rating, case.answer_class) == ("assigned", 2, "", "")
    leads = Assignment.select().where(Assignment.case == case.id, Assignment.active == True)  # noqa: E712
    assert {(a.department.code, a.role, a.round) for a in leads} == {("D1", "lead", 2), ("D2", "assist", 2)}
    case = workflow.perform(case, "sign", w.lead)
    case = workflow.perform(case, "answer", w.lead, {"answer_class": "A", "text": "已重新铺设路面。"})
    case = workflow.perform(case, "rate", w.citizen, {"value": "unsatisfied"})
    with pytest.raises(Conflict) as err:  # two rounds at most
        workflow.perform(case, "reopen", w.staff)
    assert err.value.code == "max_rounds"


def test_satisfied_rating_cannot_be_reopened(app):
    w = world()
    case = case_in(w, "answered")
    case = workflow.perform(case, "rate", w.citizen, {"value": "basic"})
    with pytest.raises(Conflict) as err:
        workflow.perform(case, "reopen", w.staff)
    assert err.value.code == "not_unsatisfied"


def test_submit_is_idempotent_by_client_request_id(app):
    w = world()
    first = new_case(w, client_request_id="req-1")
    again = new_case(w, client_request_id="req-1")
    assert first.id == again.id and Case.select().count() == 1
    with pytest.raises(Conflict):
        new_case(w, reporter=w.other_citizen, client_request_id="req-1")


@pytest.mark.parametrize("data,code", [
    ({"content": ""}, "missing_field"), ({"content": "短"}, "too_short"), ({"content": "长" * 5000}, "too_long"),
    ({"category": "aliens"}, "invalid_choice"), ({"contact_phone": "12345"}, "invalid_phone"),
    ({"deputy": "NOPE99"}, "deputy_not_found"), ({"deputy": None}, "missing_target"),
    ({"photos": ["not-uploaded"]}, "unknown_upload"), ({"latitude": "north"}, "invalid_location"),
])
def test_submit_rejects_bad_input_with_a_code_and_writes_nothing(app, data, code):
    w = world()
    with pytest.raises((InvalidInput, NotFound)) as err:
        new_case(w, **data)
    assert err.value.code == code
    assert Case.select().count() == 0 and CaseEvent.select().count() == 0


def test_submit_keeps_emoji_and_markup_as_plain_text(app):
    w = world()
    case = new_case(w, content="路灯坏了😡 <script>alert(1)</script>'; DROP TABLE case;--")
    assert Case.get_by_id(case.id).content.startswith("路灯坏了😡 <script>")


def test_case_numbers_are_yearly_sequences(app):
    w = world()
    with freeze_time("2026-12-31 16:30:00"):  # 00:30 on 2027-01-01 in Shanghai
        a = new_case(w)
    with freeze_time("2026-06-01 01:00:00"):
        b, c = new_case(w), new_case(w)
    assert a.number == "2027-000001" and (b.number, c.number) == ("2026-000001", "2026-000002")


def test_project_report_goes_to_its_supervising_deputy(app):
    w = world()
    case = workflow.submit_case(w.citizen, {"project": "xm001", "category": "traffic", "content": "施工围挡占道太多。"})
    assert (case.project_id, case.deputy_id, case.station_id) == (w.project.id, w.deputy.id, w.town_a.id)


def test_ended_term_deputy_sends_citizen_to_station(app):
    w = world()
    w.other_deputy.term_end = dt.date(2020, 1, 1)
    w.other_deputy.save()
    with pytest.raises(InvalidInput) as err:
        new_case(w, deputy=w.other_deputy.code)
    assert err.value.code == "deputy_term_ended" and "联络站" in err.value.message


def test_visibility_anonymity_and_phone_masking(app):
    w = world()
    case = case_in(w, "assigned", anonymous=True)
    assert workflow.can_view(case, w.citizen) and not workflow.can_view(case, w.other_citizen)
    assert workflow.can_view(case, w.lead) and workflow.can_view(case, w.assist)
    assert not workflow.can_view(case, w.outsider_dept) and not workflow.can_view(case, w.other_town_staff)
    assert not workflow.reporter_visible(case, w.lead) and workflow.reporter_visible(case, w.deputy_account)
    assert workflow.mask_phone("13800001111") == "138****1111"  # for everyone: the full one only via reveal_phone
    with pytest.raises(NotFound):
        workflow.get_case(case.number, w.other_citizen)


def test_citizen_timeline_hides_internal_steps(app):
    w = world()
    case = case_in(w, "in_progress")
    workflow.perform(case, "opinion", w.deputy_account, {"note": "内部意见：请优先办理"})
    citizen_view = workflow.timeline(case, w.citizen, for_citizen=True)
    assert [i["action"] for i in citizen_view] == ["submit", "accept", "assign", "sign"]
    assert citizen_view[-1]["label"] == "承办单位已签收，正在办理"
    assert "opinion" in [i["action"] for i in workflow.timeline(case, w.staff)]


def test_notifications_are_written_with_the_change(app):
    w = world()
    case = new_case(w)
    assert [n.kind for n in Notification.select().where(Notification.account == w.deputy_account)] == ["case_new"]
    case = workflow.perform(case, "accept", w.deputy_account)
    case = workflow.perform(case, "assign", w.staff, {"lead": "D1", "assist": ["D2"]})
    kinds = {(n.account_id, n.kind) for n in Notification.select()}
    assert {(w.citizen.id, "case_accepted"), (w.citizen.id, "case_assigned"), (w.lead.id, "dept_assigned"),
            (w.assist.id, "dept_assigned")} <= kinds
    assert (w.outsider_dept.id, "dept_assigned") not in kinds
    body = Notification.get(Notification.account == w.citizen, Notification.kind == "case_assigned").body
    assert case.number in body and "县交通运输局" in body


def test_a_write_that_mysql_aborts_as_a_deadlock_is_run_again_whole(app):
    """MariaDB (and Galera at COMMIT) may abort any write transaction as a deadlock: the workflow runs it again."""
    from peewee import OperationalError
    calls = []

    @workflow.retried
    def write():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
        return "done"
    assert write() == "done" and len(calls) == 3

    @workflow.retried
    def broken():
        raise OperationalError(1054, "Unknown column")
    with pytest.raises(OperationalError):
        broken()
