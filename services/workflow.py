"""The case workflow — an engine over kinds of matter, and the ONE place for case states, transitions and who
may do them.

A Case has a `kind` (report: a citizen's report; suggestion: a deputy's 代表建议, services/suggestions.py;
inquiry: a question of a 问政, services/inquiry_questions.py). Each kind has its own ACTIONS table
(`KINDS[kind].actions`) and states (vocab.KIND_STATES); the engine is shared: the same actor relations (`owns`), compare-and-swap on the
version, the append-only timeline, notification intents in the outbox, deadlines in working days, the
statistics tally and the audit log, all keyed by kind (docs/workflow.md "Kinds").

Every change to a case goes through `submit_case` (or a kind's own creation) or `perform`: each checks the
actor's role and ownership, runs pure guards, validates the input, updates the case with a compare-and-swap
on its version, appends the timeline event and writes the notification intents — all in one transaction.
`allowed_actions(case, actor)` tells the UIs which buttons to show.
"""
import importlib
import datetime as dt
import re
from dataclasses import dataclass, field

from peewee import JOIN, IntegrityError, fn

from models import (Account, Answer, Assignment, Case, CaseEvent, Counter, Department, Deputy, Project,  # noqa: F401
                    ProjectDeputy, Rating, Station, Upload, create_row, db, is_mysql, retried, row_where, utcnow,
                    write_transaction)
from services import analysis, audit, calendar, levels, notify, search, stats
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from wechat.prepared import Prepared
from services.vocab import (  # noqa: F401  (the vocabulary, re-exported for the doors)
    STATES, OPEN_STATES, HANDLING_STATES, CONCLUDED_STATES, RESPONSES, ROLES, CATEGORIES, DECLINE_REASONS,
    RETURN_REASONS, ANSWER_CLASSES, RATINGS, DECLINE_ADVICE, TRANSFER_TARGETS, CALLBACK_RESULTS, INTAKE_SOURCES,
    SOURCES, LIMITS, PUBLIC_STATES, state_label, setting)
from services.vocab import KINDS as KIND_LABELS  # noqa: F401


# --- who is acting --------------------------------------------------------------------------------

@dataclass
class Actor:
    """Who does something: an account, or the system itself (scheduled jobs)."""
    account: Account = None
    role: str = "system"

    @classmethod
    def of(cls, account):
        return cls(account, account.role) if account is not None else cls()

    @property
    def id(self):
        return self.account.id if self.account else None


SYSTEM = Actor()


def as_actor(who):
    return who if isinstance(who, Actor) else Actor.of(who)


def in_scope(actor, station_id):
    """Staff see their station's subtree; staff without a station and admins see the whole county."""
    if actor.role == "admin" or (actor.role == "staff" and actor.account.station_id is None):
        return True
    if actor.role != "staff" or station_id is None:
        return False
    scope = Station.get_by_id(actor.account.station_id)
    return Station.select().where(Station.id == station_id, Station.path.startswith(scope.path)).exists()


def require_scope(actor, station, what):
    """403 unless `station` (None: county-wide) lies in the actor's scope: station staff change only their
    subtree's deputies, stations, projects and cases."""
    if not in_scope(as_actor(actor), station.id if station is not None else None):
        raise Forbidden("out_of_scope", f"该{what}不在您的辖区内，您不能修改")


def department_assignment(case, actor, lead_only=True):
    """The actor's department's active assignment on this case's current round, if any."""
    if actor.role != "department" or not actor.account.department_id:
        return None
    query = Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                      Assignment.active == True,  # noqa: E712
                                      Assignment.department == actor.account.department_id)
    if lead_only:
        query = query.where(Assignment.role == "lead")
    return query.first()


def owns(case, actor, relation):
    """Does the actor stand in `relation` to the case? (reporter, deputy, office, lead, handler, system)"""
    if relation == "reporter":
        return actor.role == "citizen" and case.reporter_id is not None and case.reporter_id == actor.id
    if relation == "deputy":
        if actor.role != "deputy" or not actor.account.deputy_id:
            return False
        if case.deputy_id is not None:
            return case.deputy_id == actor.account.deputy_id
        return case.station_id is not None and case.station_id == actor.account.deputy.station_id  # a station report
    if relation == "office":
        return actor.role in ("staff", "admin") and in_scope(actor, case.station_id)
    if relation == "lead":
        return department_assignment(case, actor) is not None
    if relation == "handler":
        return department_assignment(case, actor, lead_only=False) is not None
    if relation == "system":
        return actor.role == "system"
    own = kind_of(kind_name(case)).relations.get(relation)  # a kind's own relations (e.g. a suggestion's signers)
    if own is None:
        raise ValueError(relation)
    return own(case, actor)


def deputy_cases(deputy):
    """The cases a deputy answers for: those sent through their code (or projects they lead), and reports made
    to their own station without choosing a deputy (the station's member deputies share those)."""
    mine = Case.deputy == deputy.id
    return mine | (Case.deputy.is_null() & (Case.station == deputy.station_id)) if deputy.station_id else mine


def can_view(case, actor):
    """Reporter, the case's deputy, staff in scope, and departments it was ever assigned to may read a case."""
    actor = as_actor(actor)
    if kind_of(kind_name(case)).can_view is not None:
        return kind_of(kind_name(case)).can_view(case, actor)
    if actor.role == "system" or owns(case, actor, "reporter") or owns(case, actor, "deputy") \
            or owns(case, actor, "office"):
        return True
    return actor.role == "department" and Assignment.select().where(
        Assignment.case == case.id, Assignment.department == actor.account.department_id).exists()


def reporter_visible(case, actor):
    """Anonymous reports: departments never learn who reported; the deputy and the office may."""
    return not (case.anonymous and as_actor(actor).role == "department")


def mask_phone(phone):
    """A citizen's phone as every page and API shows it: masked. The full number is only given by
    `reveal_phone`, which records the view in the audit log."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def may_see_phone(case, actor):
    """Who may see the reporter's full phone to call them (回访): the office in scope, and a department the
    case is assigned to unless the report is anonymous."""
    actor = as_actor(actor)
    if owns(case, actor, "office"):
        return True
    return actor.role == "department" and not case.anonymous and owns(case, actor, "handler")


def reveal_phone(case, actor):
    """The reporter's full phone, recorded in the audit log (every view)."""
    if not may_see_phone(case, actor):
        raise Forbidden("not_permitted", "您无权查看反映人的完整电话")
    audit.record(as_actor(actor), "view_phone", case, {"purpose": "回访"})
    return case.contact_phone


# --- input cleaning (one place for field rules) ---------------------------------------------------
# Every value a person or program sends goes through one of these (JSON bodies are first parsed by
# handlers/api/common.body, which refuses non-finite numbers, lone surrogates and deep nesting). A value
# of the wrong type is a 400 with a code, never str()-ed into something else.

# zero-width and direction marks, soft hyphen, BOM, and control characters other than tab and newline
INVISIBLE = re.compile("[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
                       "\ufe00-\ufe0f\ufeff\uffa0\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(value, name, label):
    """A string as stored: invisible characters removed, outer white space stripped ('' for None)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("invalid_type", f"{label}应为文字", field=name)
    return INVISIBLE.sub("", value.replace("\r\n", "\n")).strip()


def text(data, name, label, required=True, limit=None, minimum=1):
    value = clean(data.get(name), name, label)
    if not value:
        if required:
            raise InvalidInput("missing_field", f"请填写{label}", field=name)
        return ""
    limit = limit or LIMITS.get(name, LIMITS["note"])
    if len(value) > limit:
        raise InvalidInput("too_long", f"{label}不能超过{limit}个字", field=name)
    if len(value) < minimum:
        raise InvalidInput("too_short", f"{label}至少{minimum}个字", field=name)
    return value


def choice(data, name, options, label):
    value = data.get(name)
    if not isinstance(value, str) or value not in options:
        raise InvalidInput("invalid_choice", f"请选择有效的{label}", field=name, options=list(options))
    return value


INTEGER = re.compile(r"\s*[+-]?[0-9]{1,15}\s*")


def number(data, name, label, low, high, default=None):
    """A whole number in [low, high]: an int, an integral float, or (forms, query strings) its digits."""
    value = data.get(name, default)
    if isinstance(value, str) and INTEGER.fullmatch(value):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("invalid_number", f"{label}应为数字", field=name)
    if not low <= value <= high:
        raise InvalidInput("out_of_range", f"{label}应在{low}到{high}之间", field=name)
    return value


MAX_PAGE = 10000


def page(args):
    """?page= on any list (API, console, public pages): 1–MAX_PAGE, else a 400 with a code."""
    return number(args, "page", "页码", 1, MAX_PAGE, default=1)


TRUE, FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no", "")


def boolean(data, name, label):
    """True or False: JSON booleans, or a form's checkbox / query-string spelling; anything else is a 400."""
    value = data.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise InvalidInput("invalid_boolean", f"{label}应为“是”或“否”", field=name)


def code(data, name, label, required=True):
    """A public code (deputy, station, project, department): letters and digits, upper-cased."""
    value = clean(data.get(name), name, label).upper()
    if not value:
        if required:
            raise InvalidInput("missing_field", f"请选择{label}", field=name)
        return ""
    if len(value) > 32:
        raise InvalidInput("invalid_code", f"{label}有误", field=name)
    return value


def codes(data, name, label):
    """A list of codes (a single code counts as a list of one)."""
    value = data.get(name) or []
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or len(value) > 20:
        raise InvalidInput("invalid_code", f"{label}有误", field=name)
    return [code({"c": v}, "c", label) for v in value if v not in (None, "")]


PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def phone(data, name="contact_phone"):
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    value = re.sub(r"[\s-]", "", clean(value, name, "电话"))
    if value and not PHONE.match(value):
        raise InvalidInput("invalid_phone", "请填写正确的手机号或座机号", field=name)
    return value


def uploads(data, name, actor):
    tokens = data.get(name) or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise InvalidInput("invalid_photos", "图片参数有误", field=name)
    if len(tokens) > LIMITS["photos"]:
        raise InvalidInput("too_many_photos", f"最多上传{LIMITS['photos']}张图片", field=name)
    found = {u.token for u in Upload.select(Upload.token).where(Upload.token.in_(tokens))} if tokens else set()
    if set(tokens) - found:
        raise InvalidInput("unknown_upload", "有图片未上传成功，请重新选择", field=name)
    return tokens


# --- transitions as data --------------------------------------------------------------------------

def _no_data(case, actor, data):
    return {}, {}


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: tuple
    target: str = None                     # None: the state stays
    who: tuple = ()                        # relations (see owns) allowed to act
    guard: object = None                   # pure: (case) -> None or (code, message)
    apply: object = _no_data               # (case, actor, data) -> (case field changes, event data)
    note_field: str = ""                   # which input is the event's note
    public: bool = True                    # shown on the citizen's timeline
    citizen_text: str = ""                 # how the citizen's timeline words it
    extra: dict = field(default_factory=dict)


def _decline(case, actor, data):
    reason = choice(data, "reason", DECLINE_REASONS, "不予受理的原因")
    text(data, "note", "说明", required=reason == "other")
    return {"decline_reason": reason}, {"reason": reason}


def _assign(case, actor, data):
    """交办 (and 改派): the lead and assisting departments of the current round, with a deadline."""
    before = case.lead_department.name if case.lead_department_id else ""
    lead = Department.get_or_none(Department.code == code(data, "lead", "主办单位", required=False),
                                  Department.active == True)  # noqa: E712
    if lead is None:
        raise InvalidInput("unknown_department", "请选择主办单位", field="lead")
    assist_codes = [c for c in codes(data, "assist", "协办单位") if c != lead.code]
    assists = list(Department.select().where(Department.code.in_(assist_codes))) if assist_codes else []
    if len(assists) != len(set(assist_codes)):
        raise InvalidInput("unknown_department", "协办单位有误", field="assist")
    for dept in [lead] + assists:
        levels.require_department(dept, case.station)
    days = number(data, "days", "办理时限（工作日）", 1, 90, setting("DEFAULT_DEADLINE_DAYS", 15))
    deadline = calendar.add_working_days(calendar.today(), days)
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    for dept, role in [(lead, "lead")] + [(d, "assist") for d in assists]:
        Assignment.create(case=case.id, department=dept, role=role, round=case.round, deadline=deadline)
    return ({"deadline": deadline, "lead_department": lead.id},
            {"lead": lead.name, "assist": [d.name for d in assists], "days": days, "deadline": deadline.isoformat(),
             **({"previous": before} if before else {})})


def _reason(apply=None):
    """Corrections need a reason (stored as the event's `reason`), then do `apply`'s work."""
    def wrapped(case, actor, data):
        why = text(data, "reason", "原因")
        changes, event = apply(case, actor, data) if apply else ({}, {})
        return changes, {**event, "reason": why}
    return wrapped


def _recall(case, actor, data):
    """撤回交办: the current round's assignments end; the case waits to be assigned again."""
    before = case.lead_department.name if case.lead_department_id else ""
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    return {"deadline": None, "lead_department": None}, {"previous": before}


EDITABLE = {"title": "标题", "category": "类别", "summary": "工作摘要"}


def _edit(case, actor, data):
    """Staff correct the title, category or their summary; the citizen's own words (content) never change."""
    changed = {}
    for name, label in EDITABLE.items():
        if name not in data:
            continue
        value = choice(data, name, CATEGORIES, label) if name == "category" else \
            text(data, name, label, required=name == "title")
        if value != getattr(case, name):
            changed[name] = value
    if not changed:
        raise InvalidInput("nothing_changed", "没有修改任何内容", field="title")
    return changed, {"changes": {k: [getattr(case, k), v] for k, v in changed.items()}}


def _review(verdict):
    def apply(case, actor, data):
        changes = {"flagged": False, "review": verdict}
        if verdict == "withheld":
            changes["published"] = False
        return changes, {"flag": case.flag_reason}
    return apply


def _merge(case, actor, data):
    """合并: this duplicate follows its original (the reporter hears the original's news; figures count it once)."""
    number = str(data.get("original") or "").strip()
    original = Case.get_or_none(Case.number == number)
    if original is None or not can_view(original, actor):
        raise InvalidInput("unknown_case", "未找到要合并到的原案件，请核对编号", field="original")
    if original.id == case.id:
        raise InvalidInput("same_case", "不能合并到案件自身", field="original")
    if original.state in ("merged", "declined", "transferred"):
        raise InvalidInput("original_ended", f"原案件{original.number}已{state_label(original.state)}，不能合并到它",
                           field="original")
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    return ({"merged_into": original.id, "closed_at": utcnow(), "close_reason": "merged", "deadline": None},
            {"original": original.number, "original_title": original.title})


def _transfer(case, actor, data):
    to = choice(data, "to", TRANSFER_TARGETS, "转办去向")
    return {"transfer_to": to, "closed_at": utcnow(), "close_reason": "transferred"}, {"to": to}


def _hand_over(case, actor, data):
    """转办 between levels: the case moves to a congress above or to a node inside the office's own subtree."""
    target = levels.hand_over_target(case, actor, data)
    here = case.station.name if case.station_id else ""
    return {"station": target.id}, {"from": here, "to": target.name, "to_station": target.code}


def _escalate(case, actor, data):
    level = number(data, "level", "提醒级别", 1, 2)
    return {}, {"level": level, "step": "受理" if case.state == "submitted" else "签收"}


def _callback(case, actor, data):
    result = choice(data, "result", CALLBACK_RESULTS, "回访结果")
    text(data, "note", "回访情况")
    return {}, {"result": result}


def _contact(case, actor, data):
    text(data, "note", "联系情况")
    return {}, {"department": actor.account.department.name}


def _sign(case, actor, data):
    Assignment.update(signed_at=utcnow()).where(Assignment.id == department_assignment(case, actor).id).execute()
    return {}, {"department": actor.account.department.name}


def _return(case, actor, data):
    reason = choice(data, "reason", RETURN_REASONS, "退回原因")
    text(data, "note", "退回说明", required=reason == "other")
    Assignment.update(active=False, returned_at=utcnow(), return_reason=reason).where(
        Assignment.case == case.id, Assignment.round == case.round, Assignment.active == True).execute()  # noqa
    return {"deadline": None, "lead_department": None}, {"reason": reason,
                                                          "department": actor.account.department.name}


def _progress(case, actor, data):
    text(data, "note", "办理进展")
    photos = uploads(data, "photos", actor)
    return {}, {"department": actor.account.department.name, **({"photos": photos} if photos else {})}


def _pending_extension(case):
    return Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                     Assignment.active == True, Assignment.role == "lead",  # noqa: E712
                                     Assignment.extension_state == "requested").first()


def _request_extension(case, actor, data):
    days = number(data, "days", "延期天数（工作日）", 1, 30)
    reason = text(data, "reason", "延期理由", limit=500)
    Assignment.update(extension_days=days, extension_reason=reason, extension_state="requested").where(
        Assignment.id == department_assignment(case, actor).id).execute()
    return {}, {"days": days, "reason": reason}


def _decide_extension(approved):
    def apply(case, actor, data):
        pending = _pending_extension(case)
        changes = {}
        if approved:
            deadline = calendar.add_working_days(case.deadline, pending.extension_days)
            Assignment.update(deadline=deadline).where(Assignment.case == case.id, Assignment.round == case.round,
                                                       Assignment.active == True).execute()  # noqa: E712
            changes = {"deadline": deadline}
        Assignment.update(extension_state="approved" if approved else "refused").where(
            Assignment.id == pending.id).execute()
        return changes, {"days": pending.extension_days, **({"deadline": changes["deadline"].isoformat()}
                                                           if approved else {})}
    return apply


def _supplement(case, actor, data):
    photos = uploads(data, "photos", actor)
    text(data, "note", "补充内容", required=not photos)
    request_id = request_id_of(data)
    return {}, {**({"photos": photos} if photos else {}), **({"request_id": request_id} if request_id else {})}


REPLAYABLE = ("supplement",)  # actions a client may send twice with one client_request_id: the second adds nothing


def _already_done(case, action_name, actor, data):
    """The same client_request_id sent again (a double tap, a retried request) for an action that adds an entry."""
    request_id = request_id_of(data) if action_name in REPLAYABLE else None
    return bool(request_id) and any(
        e.data.get("request_id") == request_id for e in CaseEvent.select(CaseEvent.data).where(
            CaseEvent.case == case.id, CaseEvent.action == action_name, CaseEvent.actor == actor.account))


def _urge(case, actor, data):
    """督办: each urge raises the level one step (1 yellow, 2 red)."""
    level = case.urge_level + 1
    return {"urge_level": level}, {"level": level}


def _answer(case, actor, data):
    klass = choice(data, "answer_class", ANSWER_CLASSES, "答复类别")
    body = text(data, "text", "答复内容", limit=LIMITS["content"], minimum=5)
    files = uploads(data, "attachments", actor)
    Answer.create(case=case.id, round=case.round, department=actor.account.department_id, author=actor.account,
                  answer_class=klass, text=body, attachments=files)
    on_time = case.deadline is None or calendar.today() <= case.deadline
    return ({"answer_class": klass, "answered_at": utcnow(), "answered_on_time": on_time},
            {"answer_class": klass, "text": body})


def _rate(case, actor, data):
    value = choice(data, "value", RATINGS, "评价")
    comment = text(data, "comment", "评价意见", required=False)
    by_phone = actor.role in ("staff", "admin")  # 电话回访: staff enter the rating the citizen gave by phone
    Rating.create(case=case.id, round=case.round, value=value, comment=comment, rater=actor.account,
                  by_phone=by_phone)
    return {"rating": value}, {"value": value, **({"by_phone": True} if by_phone else {})}


def _reopen(case, actor, data):
    """二次办理: a new round, by the same departments, or by others when staff choose a new lead."""
    if data.get("lead"):
        case.round += 1  # the new round's assignments, by the same rule as 交办
        changes, event = _assign(case, actor, data)
        return ({**changes, "round": case.round, "answer_class": "", "rating": "", "answered_at": None,
                 "answered_on_time": None, "urge_level": 0, "closed_at": None, "close_reason": ""},
                {**event, "round": case.round})
    lead = Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                     Assignment.role == "lead").order_by(Assignment.id.desc()).first()
    days = number(data, "days", "办理时限（工作日）", 1, 90, setting("DEFAULT_DEADLINE_DAYS", 15))
    deadline = calendar.add_working_days(calendar.today(), days)
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    for old in Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                         Assignment.returned_at.is_null()):
        Assignment.create(case=case.id, department=old.department_id, role=old.role, round=case.round + 1,
                          deadline=deadline)
    return ({"round": case.round + 1, "deadline": deadline, "answer_class": "", "rating": "", "answered_at": None,
             "answered_on_time": None, "urge_level": 0, "lead_department": lead.department_id, "closed_at": None,
             "close_reason": ""}, {"round": case.round + 1, "deadline": deadline.isoformat()})


def _reopen_guard(case):
    if case.state == "closed" and not said_unresolved(case):
        return "not_unresolved", "只有群众反馈“没有解决”的已办结案件才能重新办理"
    if case.state == "rated" and case.rating != "unsatisfied":
        return "not_unsatisfied", "只有评价为“不满意”的案件才能二次办理"
    if case.round >= setting("MAX_ROUNDS", 2):
        return "max_rounds", "已达到最多办理轮次"
    return None


RESOLVED = {"yes": "已经解决", "no": "没有解决"}
UNRESOLVED = '{"resolved": "no"}'  # the event data of a 没有解决 answer, as stored


def last_resolution(case_id=None):
    """The latest 问题是否真正解决 answer of a case (a correlated subquery when case_id is None)."""
    query = CaseEvent.select(CaseEvent.data).where(CaseEvent.action == "resolution")
    query = query.where(CaseEvent.case == (case_id if case_id is not None else Case.id))
    return query.order_by(CaseEvent.id.desc()).limit(1)


def said_unresolved(case):
    latest = last_resolution(case.id).first()
    return latest is not None and latest.data.get("resolved") == "no"


def _resolution_guard(case):
    answered = CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action == "resolution",
                                        CaseEvent.at >= case.closed_at).exists() if case.closed_at else False
    return ("already_answered", "您已反馈过，谢谢") if answered else None


def _resolution(case, actor, data):
    return {}, {"resolved": choice(data, "resolved", RESOLVED, "问题是否解决")}


def _close(reason):
    def apply(case, actor, data):
        closing = reason or ("rated" if case.state == "rated" else "staff")
        return {"closed_at": utcnow(), "close_reason": closing}, {"close_reason": closing}
    return apply


def _flag(name, value):
    def apply(case, actor, data):
        return {name: value}, {}
    return apply


def _auto_close_guard(case):
    days = setting("AUTO_CLOSE_DAYS", 7)
    if case.answered_at is None or utcnow() - case.answered_at < dt.timedelta(days=days):
        return "not_due", f"答复未满{days}天"
    return None


def _extension_guard(pending):
    def guard(case):
        has = _pending_extension(case) is not None
        if has != pending:
            return ("no_pending_extension", "没有待审批的延期申请") if pending else \
                ("extension_pending", "已有延期申请待审批")
        return None
    return guard


def _urge_guard(case):
    return ("max_urge", "已是最高督办级别") if case.urge_level >= 2 else None


def _flagged_guard(case):
    return None if case.flagged else ("not_flagged", "该案件无需审核")


def _publish_guard(case):
    if case.published:
        return "already_published", "已公开"
    if case.flagged:
        return "needs_review", "内容待人工审核，审核通过后才能公开"
    if case.review == "withheld":
        return "withheld", "该案件已审核为不予公开"
    return None


def _require(*fields_):
    def apply(case, actor, data):
        for name in fields_:
            text(data, name, {"note": "内容"}.get(name, name))
        return {}, {}
    return apply


NOT_ENDED = ("submitted", "accepted", "assigned", "in_progress", "answered", "rated")
ANY = tuple(STATES)
A = Action
ACTIONS = {a.name: a for a in [
    A("accept", "受理", ("submitted",), "accepted", ("deputy", "office"), citizen_text="代表已受理您的反映"),
    A("decline", "不予受理", ("submitted",), "declined", ("deputy", "office"), apply=_decline, note_field="note",
      citizen_text="您的反映未予受理"),
    A("forward", "转交人大办", ("submitted",), "accepted", ("deputy",), apply=_require("note"), note_field="note",
      citizen_text="代表已受理并提出意见，转人大常委会办理"),
    A("opinion", "代表意见", NOT_ENDED, None, ("deputy",), apply=_require("note"), note_field="note", public=False),
    A("reply", "回复群众", NOT_ENDED, None, ("deputy",), apply=_require("note"), note_field="note",
      citizen_text="代表回复了您"),
    A("withdraw", "撤回", ("submitted",), "withdrawn", ("reporter",), note_field="note",
      citizen_text="您撤回了反映"),
    A("supplement", "补充材料", ("submitted", "accepted", "assigned", "in_progress"), None, ("reporter",),
      apply=_supplement, note_field="note", citizen_text="您补充了材料"),
    A("assign", "交办", ("accepted",), "assigned", ("office",), apply=_assign, note_field="note",
      citizen_text="已交承办单位办理"),
    A("sign", "签收", ("assigned",), "in_progress", ("lead",), apply=_sign, citizen_text="承办单位已签收，正在办理"),
    A("return", "退回", ("assigned",), "accepted", ("lead",), apply=_return, note_field="note", public=False),
    A("progress", "办理进展", ("in_progress",), None, ("handler",), apply=_progress, note_field="note",
      citizen_text="承办单位更新了办理进展"),
    A("request_extension", "申请延期", ("in_progress",), None, ("lead",), guard=_extension_guard(False),
      apply=_request_extension, public=False),
    A("approve_extension", "同意延期", ("in_progress",), None, ("office",), guard=_extension_guard(True),
      apply=_decide_extension(True), citizen_text="办理时限已延长"),
    A("refuse_extension", "不同意延期", ("in_progress",), None, ("office",), guard=_extension_guard(True),
      apply=_decide_extension(False), note_field="note", public=False),
    A("urge", "督办", HANDLING_STATES, None, ("office", "system"), guard=_urge_guard, apply=_urge,
      note_field="note", public=False),
    A("answer", "答复", ("in_progress",), "answered", ("lead",), apply=_answer, citizen_text="承办单位已答复，请您评价"),
    A("rate", "评价", ("answered",), "rated", ("reporter",), apply=_rate, note_field="comment",
      citizen_text="您评价了办理结果"),
    A("reopen", "二次办理", ("rated", "closed"), "assigned", ("office", "system"), guard=_reopen_guard,
      apply=_reopen, note_field="note", citizen_text="案件进入二次办理"),
    # N days after closing the reporter is asked once whether the problem is really solved (jobs: ask_if_resolved)
    A("resolution", "群众反馈是否解决", ("closed",), None, ("reporter",), guard=_resolution_guard, apply=_resolution,
      note_field="note", citizen_text="您反馈了问题是否真正解决"),
    # corrections: each a new event with a reason; nothing is overwritten
    A("reassign", "改派", HANDLING_STATES, "assigned", ("office",), apply=_reason(_assign), note_field="note",
      citizen_text="已改交其他承办单位办理"),
    A("recall", "撤回交办", HANDLING_STATES, "accepted", ("office",), apply=_reason(_recall), public=False),
    A("edit", "修改案件信息", ANY, None, ("office",), apply=_reason(_edit), public=False),
    A("approve_content", "审核通过", ANY, None, ("office",), guard=_flagged_guard, apply=_review("passed"),
      note_field="note", public=False),
    A("withhold", "不予公开", ANY, None, ("office",), guard=_flagged_guard, apply=_reason(_review("withheld")),
      public=False),
    A("merge", "合并重复反映", ("submitted", "accepted", "assigned", "in_progress"), "merged", ("office",),
      apply=_reason(_merge), citizen_text="您的反映与相同问题合并办理"),
    A("transfer", "转办", ("submitted", "accepted"), "transferred", ("office",), apply=_reason(_transfer),
      citizen_text="您的反映已转交其他渠道办理"),
    A("hand_over", "转办（上下级）", ("submitted", "accepted"), None, ("office",), apply=_reason(_hand_over),
      citizen_text="您的反映已转交相应的人大办理"),
    # time limits before the department's: a late 受理 or 签收 goes to the station's staff, then the county's
    A("escalate", "超时提醒", ("submitted", "assigned"), None, ("system",), apply=_escalate, note_field="note",
      public=False),
    # 回访: departments contact the reporter, staff call back after the answer and may enter a phone rating
    A("contact", "联系群众", HANDLING_STATES, None, ("handler",), apply=_contact, note_field="note", public=False),
    A("callback", "电话回访", CONCLUDED_STATES, None, ("office",), apply=_callback, note_field="note",
      public=False),
    A("rate_by_phone", "录入电话评价", ("answered",), "rated", ("office",), apply=_rate, note_field="comment",
      citizen_text="工作人员电话回访，记录了您的评价"),
    A("close", "办结", ("answered", "rated"), "closed", ("office",), apply=_close(None), note_field="note",
      citizen_text="案件已办结"),
    A("auto_close", "逾期未评价自动办结", ("answered",), "closed", ("system",), guard=_auto_close_guard,
      apply=_close("unrated"), citizen_text="答复后未评价，案件自动办结"),
    A("publish", "公开", tuple(s for s in STATES if s not in ("declined", "withdrawn", "merged", "transferred")),
      None, ("office",), guard=_publish_guard, apply=_flag("published", True), public=False),
    A("unpublish", "取消公开", tuple(STATES), None, ("office",),
      guard=lambda c: None if c.published else ("not_published", "尚未公开"),
      apply=_flag("published", False), public=False),
]}
CITIZEN_TEXT = {"submit": "您提交了反映", **{a.name: a.citizen_text for a in ACTIONS.values()}}
HIDDEN_FROM_CITIZENS = tuple(name for name, a in ACTIONS.items() if not a.public)  # internal steps


# --- kinds of matter ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """One kind of matter on the engine: its ACTIONS table, how its public numbers read, what its first
    event is called, and the audit log's prefix for its changes."""
    name: str
    actions: dict
    number: str = "{year}-{n:06d}"      # the public number, counted per kind and year
    created: str = "提交反映"            # the label of the first event (submit)
    audit: str = "case"                # audit actions are "<audit>.<action>"
    relations: dict = field(default_factory=dict)  # its own actor relations: name -> (case, actor) -> bool
    can_view: object = None            # (case, actor) -> bool, when it differs from a report's rule


KINDS = {"report": Kind("report", ACTIONS)}
# modules that register a kind when first needed
KIND_MODULES = {"suggestion": "services.suggestions", "inquiry": "services.inquiry_questions"}


def register_kind(kind):
    KINDS[kind.name] = kind
    return kind


def kind_of(name):
    """The Kind for a kind name (its module is imported, and so registered, on first use)."""
    if name not in KINDS and name in KIND_MODULES:
        importlib.import_module(KIND_MODULES[name])
    if name not in KINDS:
        raise InvalidInput("unknown_kind", "不支持的事项类型", kind=name)
    return KINDS[name]


def kind_name(case):
    """A case's kind; a case read with only some columns (no `kind`) is a report, as every case was before kinds."""
    return case.kind or "report"


def actions_of(case):
    return kind_of(kind_name(case)).actions


def event_label(name, for_citizen, kind="report"):
    """How a timeline entry for action `name` is titled: citizens get their own wording."""
    spec = kind_of(kind)
    action = spec.actions.get(name)
    if for_citizen and kind == "report":
        return CITIZEN_TEXT.get(name)
    return action.label if action else spec.created


def _refusal(case, action, actor):
    """Why this actor may not do this now, as (error class, code, message); None when allowed."""
    if not any(owns(case, actor, who) for who in action.who):
        return Forbidden, "not_permitted", f"您无权对此{KIND_WORDS.get(kind_name(case), '案件')}进行“{action.label}”操作"
    if case.state not in action.sources:
        return Conflict, "invalid_state", \
            f"{KIND_WORDS.get(kind_name(case), '案件')}当前状态为“{state_label(case.state, kind=kind_name(case))}”，不能“{action.label}”"
    problem = action.guard(case) if action.guard else None
    if problem:
        return (Conflict, *problem)
    return None


KIND_WORDS = {"report": "案件", "suggestion": "建议", "inquiry": "问题"}  # how refusals name the matter


def allowed_actions(case, actor):
    """The actions this actor may take on this case now (for buttons in the UIs)."""
    actor = as_actor(actor)  # the state first: no ownership query for an action this state does not have
    return [name for name, action in actions_of(case).items()
            if case.state in action.sources and _refusal(case, action, actor) is None]


# retried and write_transaction live beside the database proxy (models/base.py), for every service's writes


@retried
def perform(case, action_name, actor, data=None):
    """Carry out one action on a case; returns the fresh case. Raises ServiceError subclasses."""
    actor = as_actor(actor)
    data = data or {}
    action = actions_of(case).get(action_name)
    if action is None:
        raise InvalidInput("unknown_action", "不支持的操作", action=action_name)
    with write_transaction():
        query = Case.select().where(Case.id == case.id)
        if is_mysql() and action_name in REPLAYABLE and request_id_of(data):
            query = query.for_update()  # a racing repeat waits here, then sees the first one's event
        current = query.first()
        if current is None:
            raise NotFound("case_not_found", "案件不存在")
        if _already_done(current, action_name, actor, data):
            return current
        if case.version != current.version and case.state != current.state:
            raise Conflict("stale_state", "案件状态已变化，请刷新后重试")
        refusal = _refusal(current, action, actor)
        if refusal:
            error, code, message = refusal
            raise error(code, message, action=action_name)
        changes, event_data = action.apply(current, actor, data)
        if action_name in RESPONSES and current.responded_at is None and actor.role == "deputy":
            changes["responded_at"] = utcnow()  # 代表响应: only the deputy's own first answer counts
        note = text(data, action.note_field, "说明", required=False) if action.note_field else ""
        target = action.target or current.state
        updated = Case.update(state=target, version=Case.version + 1, updated_at=utcnow(), **changes).where(
            Case.id == current.id, Case.version == current.version).execute()
        if updated != 1:
            raise Conflict("stale_state", "案件已被他人处理，请刷新后重试")
        event = CaseEvent.create(case=current.id, actor=actor.account, actor_role=actor.role, action=action_name,
                                 from_state=current.state, to_state=target, note=note, data=event_data)
        fresh = Case.get_by_id(current.id)
        recorded(current, fresh, event, actor, {"from": current.state, "to": target,
                                                **({"reason": event_data["reason"]} if "reason" in event_data else {})})
        return fresh


def recorded(before, case, event, actor, detail):
    """What every write of every kind does after its change, in its transaction: the search index follows the
    text, the notifications are written, the audit log gets "<kind's prefix>.<action>", and the tally moves —
    last, just before COMMIT: its rows are the ones every writer shares (on MySQL/MariaDB each is locked from
    its upsert to COMMIT, so they are held for one round trip instead of four)."""
    search.index(before, case)
    notify.case_changed(case, event)
    audit.record(actor, f"{kind_of(kind_name(case)).audit}.{event.action}", case,
                 {**detail, "event": event.id, **({"kind": case.kind} if kind_name(case) != "report" else {})})
    stats.record(before, case)


# --- submitting a case ----------------------------------------------------------------------------

def next_count(name):
    """The next value of a named sequence, counted with one upsert that also answers the value: an UPDATE that
    finds no row and then an INSERT take gap locks on MySQL/MariaDB, and the first numbers of a year racing
    each other then deadlock. MySQL/MariaDB hand the value back as the statement's LAST_INSERT_ID(expr),
    SQLite with RETURNING."""
    if is_mysql():
        return _COUNT.execute(name=name).lastrowid
    return _COUNT.execute(name=name).fetchone()[0]


_COUNT = Prepared(lambda: Counter.insert(
    name=Prepared.arg("name"), value=fn.LAST_INSERT_ID(1) if is_mysql() else 1).on_conflict(
    conflict_target=None if is_mysql() else [Counter.name],
    update={Counter.value: fn.LAST_INSERT_ID(Counter.value + 1) if is_mysql() else Counter.value + 1})
    .returning(*(() if is_mysql() else (Counter.value,))))


def next_case_number(year, kind="report"):
    """The year's next public number of a kind (reports 2026-000123; each kind its own sequence)."""
    name = f"case-{year}" if kind == "report" else f"{kind}-{year}"
    return kind_of(kind).number.format(year=year, n=next_count(name))


_DEPUTY_BY_CODE = Prepared(lambda: Deputy.select(Deputy, Station).join(Station, JOIN.LEFT_OUTER)  # its station too
                           .where(Deputy.code == Prepared.arg("code")).limit(1))


def resolve_target(data):
    """The deputy, station and project a report goes to, from one of deputy/station/project codes."""
    deputy = station = project = None
    if data.get("deputy"):
        deputy = next(iter(_DEPUTY_BY_CODE.rows(code=code(data, "deputy", "代表"))), None)
        if deputy is None:
            raise NotFound("deputy_not_found", "未找到这位代表，请核对代表码")
        if deputy.term_end and deputy.term_end < calendar.today():
            raise InvalidInput("deputy_term_ended", "该代表任期已满，请向所在联络站反映", station=(
                deputy.station.code if deputy.station else None))
        station = levels.home_station(deputy, deputy.station)  # the office of the deputy's own level
    elif data.get("project"):
        project = Project.get_or_none(Project.code == code(data, "project", "项目"))
        if project is None:
            raise NotFound("project_not_found", "未找到该项目")
        lead = (Deputy.select().join(ProjectDeputy).where(ProjectDeputy.project == project)
                .order_by(ProjectDeputy.id).first())
        deputy, station = lead, project.station or (lead.station if lead else None)
    elif data.get("station"):
        station = Station.get_or_none(Station.code == code(data, "station", "联络站"))
        if station is None:
            raise NotFound("station_not_found", "未找到该联络站")
    else:
        raise InvalidInput("missing_target", "请选择要反映给的代表、联络站或项目", field="deputy")
    return deputy, station, project


def submit_case(actor, data, source="miniprogram", flagged_reason="", vet=None):
    """A citizen reports a problem. The same client_request_id twice — one after the other or racing —
    returns the first case, marked `replayed`. `vet(fields)`, when given, runs once after every check of the
    form and before the write (the rate limit and the content check of reports.submit): '' or the reason to
    flag the case (in place of `flagged_reason`), or it raises."""
    actor = as_actor(actor)
    if actor.role not in ("citizen", "staff", "admin"):
        raise Forbidden("not_permitted", "只有群众可以提交反映")
    request_id = request_id_of(data)
    if request_id and (existing := row_where(Case.client_request_id, request_id)):
        return _replayed(existing, actor)
    deputy, station, project = resolve_target(data)
    entered_by = None
    if actor.role in ("staff", "admin"):  # 代录: staff enter what a citizen said at a reception day or by phone
        source = choice(data, "intake", INTAKE_SOURCES, "反映方式")
        if not in_scope(actor, station.id if station else None):
            raise Forbidden("out_of_scope", "该代表或联络站不在您的辖区内")
        entered_by = actor.account
    content = text(data, "content", "反映内容", minimum=5)
    title = text(data, "title", "标题", required=False) or content.replace("\n", " ")[:20]
    fields = dict(
        category=choice(data, "category", CATEGORIES, "问题类别"), title=title, content=content,
        photos=uploads(data, "photos", actor), location=text(data, "location", "位置", required=False),
        latitude=_coordinate(data, "latitude", 90), longitude=_coordinate(data, "longitude", 180),
        contact_phone=phone(data), anonymous=boolean(data, "anonymous", "匿名"),
    )
    fields["sms_notify"] = boolean(data, "sms_notify", "短信提醒")
    if fields["sms_notify"] and not fields["contact_phone"].startswith("1"):
        raise InvalidInput("mobile_required", "接收短信提醒请填写手机号", field="contact_phone")
    citizen_name = text(data, "citizen_name", "群众姓名", limit=50) if entered_by is not None else ""
    flagged_reason = vet(fields) if vet is not None else flagged_reason
    # MySQL/MariaDB: the year's counter is counted in a statement of its own, before the write. Inside the write its
    # row would stay locked until COMMIT, and every report would wait for the one before it (2 cores: 156 reports/s
    # against 233, docs/performance.md). A report whose write then fails (a racing duplicate, a crash) leaves its
    # number unused; numbers never repeat. SQLite writes one transaction at a time anyway: there it stays inside.
    number = next_case_number(calendar.local(utcnow()).year) if is_mysql() and not db.in_transaction() else None
    return _file_case(actor, request_id, dict(deputy=deputy, station=station, project=project, source=source,
                                              entered_by=entered_by, **fields), citizen_name, flagged_reason, number)


@retried
def _file_case(actor, request_id, fields, citizen_name, flagged_reason, number=None):
    """submit_case's write: the case with its number (taken here unless given), timeline event, index, tally,
    notifications and audit entry in one transaction (run whole again after a MariaDB deadlock). A racing
    request with the same client_request_id meets the unique key and gets the first case."""
    vec = analysis.vector(analysis.text_of(fields["title"], fields["content"], fields["location"]))
    try:
        with write_transaction():
            now = utcnow()
            reporter = actor.account
            if fields["entered_by"] is not None:  # the citizen gets an account of their own (no WeChat identity yet)
                reporter = Account.create(role="citizen", phone=fields["contact_phone"], display_name=citizen_name)
            case = create_row(Case, number=number or next_case_number(calendar.local(now).year), reporter=reporter,
                               client_request_id=request_id, flagged=bool(flagged_reason),
                               flag_reason=flagged_reason[:100], submitted_at=now, updated_at=now, **fields)
            source = fields["source"]
            event = create_row(CaseEvent, case=case, actor=actor.account, actor_role=actor.role, action="submit",
                                     to_state="submitted", at=now,
                                     data={"source": source, **({"flag": flagged_reason} if flagged_reason else {})})
            analysis.index(case, new=True, vec=vec)
            recorded(None, case, event, actor,
                     {"source": source, **({"on_behalf": True} if fields["entered_by"] else {})})
    except IntegrityError:
        # a retry raced the first request: its insert waited for the first one's row, then hit the unique key
        # (MySQL 1062). The first case is committed by now; a locking read sees it even inside an outer
        # transaction's older snapshot.
        query = Case.select().where(Case.client_request_id == request_id)
        existing = (query.for_update() if is_mysql() else query).first() if request_id else None
        if existing is None:
            raise
        return _replayed(existing, actor)
    return case


def _replayed(existing, actor):
    """The first case of a repeated client_request_id (case.replayed is True), when it is this actor's."""
    if actor.id is None or actor.id not in (existing.reporter_id, existing.entered_by_id):
        raise Conflict("request_id_taken", "请求编号重复，请重新提交")
    existing.replayed = True
    return existing


def request_id_of(data):
    """The client's idempotency key (client_request_id), or None."""
    return clean(data.get("client_request_id"), "client_request_id", "请求编号")[:64] or None


def _coordinate(data, name, bound):
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput("invalid_location", "位置坐标有误", field=name)
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):   # OverflowError: an int like 10**400
        raise InvalidInput("invalid_location", "位置坐标有误", field=name) from None
    if not -bound <= value <= bound:
        raise InvalidInput("invalid_location", "位置坐标有误", field=name)
    return value


def get_case(number, actor):
    """Load a case for reading: 404 when it does not exist or the actor may not see it (reveals nothing)."""
    case = Case.get_or_none(Case.number == str(number).strip())
    if case is None or not can_view(case, actor):
        raise NotFound("case_not_found", "案件不存在或无权查看")
    return case


def actor_name(account, role, for_citizen=False):
    """Who did a step, as the timeline names them: the person and their department or station. Citizens see
    the office or department, not the names of the staff."""
    if account is None:
        return ROLES.get(role, "系统") if role != "citizen" else "群众"
    if role == "department":
        unit = account.department.name if account.department_id else "承办单位"
    elif role in ("staff", "admin"):
        unit = account.station.name if account.station_id else levels.congress_name()  # 县人大常委会
    elif role == "deputy":
        unit = "人大代表"
    else:
        return "群众" if for_citizen or role == "citizen" else ROLES.get(role, role)
    person = account.deputy.name if role == "deputy" and account.deputy_id else account.display_name
    return unit if for_citizen and role != "deputy" else f"{unit} · {person}" if person else unit


_TIMELINE = Prepared(lambda: CaseEvent.select(CaseEvent, Account).join(  # who did it, in the same query
    Account, JOIN.LEFT_OUTER, on=CaseEvent.actor).where(CaseEvent.case == Prepared.arg("case"))
    .order_by(CaseEvent.at, CaseEvent.id))


def timeline(case, actor, for_citizen=False):
    """The case's events as the actor may see them; citizens get their own wording and no internal steps."""
    actor = as_actor(actor)
    items = []
    for event in _TIMELINE.rows(case=case.id):
        if for_citizen and event.action in HIDDEN_FROM_CITIZENS:
            continue
        items.append({
            "at": event.at, "action": event.action, "label": event_label(event.action, for_citizen, kind_name(case)),
            "state": event.to_state, "note": event.note if (not for_citizen or event.action in (
                "reply", "decline", "forward", "progress", "supplement", "reopen", "close")) else "",
            "actor_role": ROLES.get(event.actor_role, event.actor_role),
            "actor_name": actor_name(event.actor, event.actor_role, for_citizen),
            "data": {} if for_citizen and event.action not in ("answer", "rate", "assign", "reassign", "merge",
                                                                "transfer") else event.data,
        })
    return items


