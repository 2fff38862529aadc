"""代表建议 — the suggestion kind on the workflow engine (docs/suggestions.md).

A deputy (领衔) drafts a suggestion — 标题, 案由, 理由/现状, 建议, category, attachments, the session — with
co-signers (附议) who each confirm in WeChat before they count; it may be made from citizens' reports (their
reporters are told on submission). Drafts are seen only by their signers and the staff member who entered
one on a deputy's behalf. The office registers it (第N号 per session), classifies, merges (并案), or does not
register it (转为意见), marks 重点建议 with the leader who 领衔督办, and assigns it to a 主办 department with
协办/会办 departments and a deadline in months. The department signs or returns it (within
SUGGESTION_RETURN_DAYS working days), hears the assisting departments' opinions, records the 面商 with the
lead deputy (required before the answer when SUGGESTION_CONSULT_REQUIRED), may ask for more time, and answers
with class A–D and the signed 答复函 (PDF); a B answer's promise (承诺事项) is chased like a deadline. The
signers then rate it (测评); the lead deputy's 不满意 opens 重新办理 (SUGGESTION_REDO_MONTHS).

Every step is an action of ACTIONS below, run by `workflow.perform` (the engine: relations, CAS, timeline,
outbox, tally, audit); only the creation of a draft (`draft`) is written here.
"""
from peewee import IntegrityError

from models import Account, Answer, Assignment, Case, CaseEvent, Commitment, Deputy, Department, Evaluation, \
    Signer, Suggestion, Upload, utcnow
from services import calendar, levels, workflow
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.vocab import (ASSIGN_ROLES, CATEGORIES, CONSULT_WAYS, EVALUATION_ITEMS, LIMITS,
                            NOT_REGISTERED_REASONS, RATINGS, SUGGESTION_CLASSES, SUGGESTION_STATES, session_label,
                            setting)
from services.workflow import A, choice, code, codes, number, text, uploads

KIND = "suggestion"
MAX_SESSION = 30
RANK = {"satisfied": 0, "basic": 1, "unsatisfied": 2}


# --- who stands where --------------------------------------------------------------------------------

def _deputy_id(actor):
    return actor.account.deputy_id if actor.role == "deputy" and actor.account.deputy_id else None


def _signer(case, actor):
    deputy = _deputy_id(actor)
    return Signer.get_or_none(Signer.case == case.id, Signer.deputy == deputy) if deputy else None


def is_lead_deputy(case, actor):
    return _deputy_id(actor) is not None and case.deputy_id == _deputy_id(actor)


def is_drafter(case, actor):
    """The lead deputy, or the staff member who entered the draft on the deputy's behalf."""
    return is_lead_deputy(case, actor) or (actor.role in ("staff", "admin") and case.entered_by_id == actor.id)


def is_invited(case, actor):
    row = _signer(case, actor)
    return row is not None and row.role == "co" and row.confirmed_at is None and row.declined_at is None


def is_cosigner(case, actor):
    row = _signer(case, actor)
    return row is not None and row.role == "co" and row.confirmed_at is not None


def is_assisting(case, actor):
    found = workflow.department_assignment(case, actor, lead_only=False)
    return found is not None and found.role != "lead"


RELATIONS = {"lead_deputy": is_lead_deputy, "drafter": is_drafter, "invited": is_invited,
             "cosigner": is_cosigner, "assist": is_assisting}


def can_view(case, actor):
    """Drafts: their drafter and the deputies asked to sign. Once submitted: also the office in scope and
    the departments it was ever assigned to."""
    if actor.role == "system" or is_drafter(case, actor) or _signer(case, actor) is not None:
        return True
    if case.state == "draft":
        return False
    if workflow.owns(case, actor, "office"):
        return True
    return actor.role == "department" and Assignment.select().where(
        Assignment.case == case.id, Assignment.department == actor.account.department_id).exists()


def form(case):
    return Suggestion.get(Suggestion.case == case.id)


def signers(case, confirmed_only=True):
    query = Signer.select().where(Signer.case == case.id)
    if confirmed_only:
        query = query.where(Signer.confirmed_at.is_null(False))
    return list(query.order_by(Signer.role.desc(), Signer.id))  # lead first


def number_text(suggestion):
    """第12号 (within its session), or '' before 登记."""
    return f"第{suggestion.seq}号" if suggestion.seq else ""


# --- drafting ----------------------------------------------------------------------------------------

def _form_fields(data, actor, partial=False):
    """The standard form's fields from `data` (all required unless `partial`, for an edit)."""
    fields, case_fields = {}, {}
    rules = [("title", "标题", None), ("cause", "案由", None), ("reasons", "理由和现状", 10), ("measures", "建议", 10)]
    for name, label, minimum in rules:
        if partial and name not in data:
            continue
        value = text(data, name, label, limit=LIMITS[name], minimum=minimum or 1)
        (case_fields if name == "title" else fields)[name] = value
    if not partial or "category" in data:
        case_fields["category"] = choice(data, "category", CATEGORIES, "建议类别")
    if not partial or "session" in data:
        fields["session"] = number(data, "session", "会议（0为闭会期间）", 0, MAX_SESSION, default=0)
    if not partial or "attachments" in data:
        case_fields["photos"] = uploads(data, "attachments", actor)
    return fields, case_fields


def _cosigners(data, lead):
    found = codes(data, "cosigners", "附议代表")
    deputies = list(Deputy.select().where(Deputy.code.in_(found))) if found else []
    if len(deputies) != len(set(found)):
        raise InvalidInput("unknown_deputy", "附议代表有误，请核对代表码", field="cosigners")
    return [d for d in deputies if d.id != lead.id]


def _reports(data, actor):
    """The citizens' reports a suggestion is made from: reports the actor may see."""
    numbers = data.get("from_reports") or []
    numbers = [numbers] if isinstance(numbers, str) else numbers
    if not isinstance(numbers, list) or len(numbers) > 50 or not all(isinstance(n, str) for n in numbers):
        raise InvalidInput("unknown_case", "所依据的群众反映有误", field="from_reports")
    result = []
    for value in dict.fromkeys(n.strip() for n in numbers if n.strip()):
        report = Case.get_or_none(Case.number == value, Case.kind == "report")
        if report is None or not workflow.can_view(report, actor):
            raise InvalidInput("unknown_case", f"未找到群众反映{value}，或您无权查看", field="from_reports")
        result.append(report.number)
    return result


@workflow.retried
def draft(actor, data, source="console"):
    """A new draft: by the lead deputy themselves, or by staff on a deputy's behalf (data["lead_deputy"])."""
    actor = workflow.as_actor(actor)
    if actor.role == "deputy" and actor.account.deputy_id:
        lead = actor.account.deputy
        entered_by = None
    elif actor.role in ("staff", "admin"):
        lead = Deputy.get_or_none(Deputy.code == code(data, "lead_deputy", "领衔代表"))
        if lead is None:
            raise NotFound("deputy_not_found", "未找到领衔代表，请核对代表码")
        workflow.require_scope(actor, lead.station, "代表")
        entered_by = actor.account
    else:
        raise Forbidden("not_permitted", "只有人大代表或工作人员（代代表录入）可以起草建议")
    fields, case_fields = _form_fields(data, actor)
    cosigners = _cosigners(data, lead)
    from_reports = _reports(data, actor)
    with workflow.write_transaction():
        now = utcnow()
        year = calendar.local(now).year
        case = Case.create(kind=KIND, number=workflow.next_case_number(year, KIND), deputy=lead, station=lead.station,
                           entered_by=entered_by, source=source, state="draft", content=fields["reasons"],
                           submitted_at=now, updated_at=now, **case_fields)
        Suggestion.create(case=case, year=year, from_reports=from_reports, **fields)
        Signer.create(case=case, deputy=lead, role="lead", confirmed_at=now)
        for deputy in cosigners:
            Signer.create(case=case, deputy=deputy, role="co")
        event = CaseEvent.create(case=case, actor=actor.account, actor_role=actor.role, action="draft",
                                 to_state="draft", at=now,
                                 data={"invited": [d.code for d in cosigners], "source": source})
        workflow.recorded(None, case, event, actor, {"source": source, **({"on_behalf": True} if entered_by else {})})
    return case


def _edit_draft(case, actor, data):
    fields, case_fields = _form_fields(data, actor, partial=True)
    invited = []
    if "cosigners" in data:
        wanted = {d.id: d for d in _cosigners(data, case.deputy)}
        for row in Signer.select().where(Signer.case == case.id, Signer.role == "co"):
            if row.deputy_id not in wanted:
                row.delete_instance()
        known = {s.deputy_id for s in Signer.select().where(Signer.case == case.id)}
        for deputy_id, deputy in wanted.items():
            if deputy_id not in known:
                Signer.create(case=case.id, deputy=deputy_id, role="co")
                invited.append(deputy.code)
    if "from_reports" in data:
        fields["from_reports"] = _reports(data, actor)
    if not fields and not case_fields and "cosigners" not in data:
        raise InvalidInput("nothing_changed", "没有修改任何内容", field="title")
    if fields:
        Suggestion.update(**fields).where(Suggestion.case == case.id).execute()
    if "reasons" in fields:
        case_fields["content"] = fields["reasons"]
    return case_fields, {"changed": sorted(set(fields) | set(case_fields)), "invited": invited}


def _cosign(case, actor, data):
    Signer.update(confirmed_at=utcnow()).where(Signer.case == case.id, Signer.deputy == _deputy_id(actor)).execute()
    return {}, {"deputy": actor.account.deputy.name}


def _decline_cosign(case, actor, data):
    Signer.update(declined_at=utcnow()).where(Signer.case == case.id, Signer.deputy == _deputy_id(actor)).execute()
    return {}, {"deputy": actor.account.deputy.name}


def _submit(case, actor, data):
    waiting = [s.deputy.name for s in Signer.select().where(Signer.case == case.id, Signer.role == "co",
                                                             Signer.confirmed_at.is_null(),
                                                             Signer.declined_at.is_null())]
    return {"submitted_at": utcnow()}, {"unconfirmed": waiting}  # the unconfirmed do not count (nor sign later)


# --- the office ----------------------------------------------------------------------------------------

def _register(case, actor, data):
    suggestion = form(case)
    changes = {}
    if data.get("category"):
        changes["category"] = choice(data, "category", CATEGORIES, "建议类别")
    seq = workflow.next_count(f"suggestion-seq-{suggestion.year}-{suggestion.session}")
    Suggestion.update(seq=seq, registered_at=utcnow()).where(Suggestion.id == suggestion.id).execute()
    return changes, {"seq": seq, "number": f"第{seq}号", "session": session_label(suggestion.session)}


def _classify(case, actor, data):
    category = choice(data, "category", CATEGORIES, "建议类别")
    if category == case.category:
        raise InvalidInput("nothing_changed", "类别没有变化", field="category")
    return {"category": category}, {"changes": {"category": [case.category, category]}}


def _merge(case, actor, data):
    """并案: this suggestion is handled with another (its signers hear the other's news)."""
    other = Case.get_or_none(Case.number == str(data.get("original") or "").strip(), Case.kind == KIND)
    if other is None or not can_view(other, actor) or other.state in ("draft", "withdrawn", "opinion", "merged"):
        raise InvalidInput("unknown_case", "未找到可并入的建议，请核对编号", field="original")
    if other.id == case.id:
        raise InvalidInput("same_case", "不能并入建议自身", field="original")
    return ({"merged_into": other.id, "closed_at": utcnow(), "close_reason": "merged"},
            {"original": other.number, "original_title": other.title})


def _not_register(case, actor, data):
    reason = choice(data, "reason", NOT_REGISTERED_REASONS, "不予立案的原因")
    text(data, "note", "说明", required=reason == "other")
    return {"decline_reason": reason, "closed_at": utcnow(), "close_reason": "opinion"}, {"reason": reason}


def _mark_key(case, actor, data):
    leader = text(data, "leader", "领衔督办领导", limit=LIMITS["leader"])
    Suggestion.update(key_leader=leader).where(Suggestion.case == case.id).execute()
    return {}, {"leader": leader}


def deadline_months(case):
    key = bool(form(case).key_leader)
    return setting("SUGGESTION_KEY_DEADLINE_MONTHS", 2) if key else setting("SUGGESTION_DEADLINE_MONTHS", 3)


def _departments(case, data):
    lead = Department.get_or_none(Department.code == code(data, "lead", "主办单位", required=False),
                                  Department.active == True)  # noqa: E712
    if lead is None:
        raise InvalidInput("unknown_department", "请选择主办单位", field="lead")
    others = []
    for role, name, label in (("assist", "assist", "协办单位"), ("joint", "joint", "会办单位")):
        wanted = [c for c in codes(data, name, label) if c != lead.code]
        found = list(Department.select().where(Department.code.in_(wanted))) if wanted else []
        if len(found) != len(set(wanted)):
            raise InvalidInput("unknown_department", f"{label}有误", field=name)
        others += [(d, role) for d in found]
    for dept in [lead] + [d for d, _ in others]:  # a department takes matters of its own area (levels)
        levels.require_department(dept, case.station)
    return lead, others


def _assign(case, actor, data):
    """交办: 主办 + 协办/会办 departments, deadline in months (3, or 2 for a 重点建议; settings)."""
    lead, others = _departments(case, data)
    months = number(data, "months", "办理时限（月）", 1, 12, deadline_months(case))
    deadline = calendar.add_months(calendar.today(), months)
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    for dept, role in [(lead, "lead")] + others:
        Assignment.create(case=case.id, department=dept, role=role, round=case.round, deadline=deadline)
    return ({"deadline": deadline, "lead_department": lead.id},
            {"lead": lead.name, "assist": [d.name for d, r in others if r == "assist"],
             "joint": [d.name for d, r in others if r == "joint"], "months": months, "deadline": deadline.isoformat()})


# --- the department ------------------------------------------------------------------------------------

def _lead_assignment(case):
    return Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                     Assignment.active == True, Assignment.role == "lead").first()  # noqa: E712


def _return_guard(case):
    found = _lead_assignment(case)
    days = setting("SUGGESTION_RETURN_DAYS", 7)
    if found and calendar.working_days_between(calendar.local(found.assigned_at).date(), calendar.today()) > days:
        return "return_too_late", f"交办已超过{days}个工作日，不能退回；如确属交办有误，请联系人大工作人员改派"
    return None


def _consult(case, actor, data):
    way = choice(data, "how", CONSULT_WAYS, "面商方式")
    day = calendar.parse_day(str(data.get("when") or ""))
    if day is None or day > calendar.today():
        raise InvalidInput("invalid_date", "请填写面商日期（不晚于今天）", field="when")
    who = text(data, "who", "参加人员", limit=LIMITS["who"])
    Suggestion.update(consulted=True).where(Suggestion.case == case.id).execute()
    return {}, {"how": way, "when": day.isoformat(), "who": who, "department": actor.account.department.name,
                "round": case.round}


def _consult_guard(case):
    if setting("SUGGESTION_CONSULT_REQUIRED", True) and not form(case).consulted:
        return "consult_required", "答复前须先与领衔代表面商，并记录面商的方式、时间和人员"
    return None


def _answer(case, actor, data):
    klass = data.get("answer_class")
    if klass not in SUGGESTION_CLASSES:
        raise InvalidInput("invalid_class", "答复类别只能是A、B、C、D类之一", field="answer_class",
                           options=list(SUGGESTION_CLASSES))
    body = text(data, "text", "答复内容", limit=LIMITS["content"], minimum=5)
    letter = data.get("letter")
    if not isinstance(letter, str) or not Upload.select().where(Upload.token == letter,
                                                               Upload.mime == "application/pdf").exists():
        raise InvalidInput("letter_required", "请上传加盖公章的答复函（PDF）", field="letter")
    promise = None
    if klass == "B":
        promise = text(data, "promise", "承诺事项", limit=LIMITS["promise"])
        due = calendar.parse_day(str(data.get("promise_due") or ""))
        if due is None or due < calendar.today():
            raise InvalidInput("invalid_date", "请填写承诺办结日期（不早于今天）", field="promise_due")
        Commitment.create(case=case.id, round=case.round, text=promise, due=due)
    Answer.create(case=case.id, round=case.round, department=actor.account.department_id, author=actor.account,
                  answer_class=klass, text=body, attachments=[letter])
    on_time = case.deadline is None or calendar.today() <= case.deadline
    return ({"answer_class": klass, "answered_at": utcnow(), "answered_on_time": on_time},
            {"answer_class": klass, "text": body, "letter": letter,
             **({"promise": promise, "promise_due": due.isoformat()} if promise else {})})


# --- the deputies' 测评 --------------------------------------------------------------------------------

def _evaluate(case, actor, data):
    """测评 by a signer, once per round: three marks and a comment. The lead deputy's marks are the case's
    rating (its worst mark: 满意率 counts it; 不满意 opens 重新办理)."""
    marks = {name: choice(data, name, RATINGS, label) for name, label in EVALUATION_ITEMS.items()}
    comment = text(data, "comment", "意见", required=False)
    deputy = _deputy_id(actor)
    if Evaluation.select().where(Evaluation.case == case.id, Evaluation.round == case.round,
                                 Evaluation.deputy == deputy).exists():
        raise Conflict("already_evaluated", "您已对本轮答复进行过测评，不能重复测评")
    try:
        Evaluation.create(case=case.id, round=case.round, deputy=deputy, comment=comment, **marks)
    except IntegrityError:  # a racing double tap: the unique key keeps one
        raise Conflict("already_evaluated", "您已对本轮答复进行过测评，不能重复测评") from None
    worst = max(marks.values(), key=RANK.get)
    changes = {"rating": worst} if case.deputy_id == deputy else {}
    return changes, {**marks, "round": case.round, "deputy": actor.account.deputy.name}


def _reopen_guard(case):
    if case.rating != "unsatisfied":
        return "not_unsatisfied", "只有领衔代表测评“不满意”的建议才能重新办理"
    if case.round >= setting("MAX_ROUNDS", 2):
        return "max_rounds", "已达到最多办理轮次"
    return None


def _reopen(case, actor, data):
    """重新办理: a new round by the same departments, SUGGESTION_REDO_MONTHS to answer again."""
    months = number(data, "months", "办理时限（月）", 1, 12, setting("SUGGESTION_REDO_MONTHS", 1))
    deadline = calendar.add_months(calendar.today(), months)
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    for old in Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round,
                                         Assignment.returned_at.is_null()):
        Assignment.create(case=case.id, department=old.department_id, role=old.role, round=case.round + 1,
                          deadline=deadline)
    Suggestion.update(consulted=False).where(Suggestion.case == case.id).execute()
    return ({"round": case.round + 1, "deadline": deadline, "answer_class": "", "rating": "", "answered_at": None,
             "answered_on_time": None, "urge_level": 0}, {"round": case.round + 1, "deadline": deadline.isoformat()})


def _close_guard(case):
    if case.rating == "unsatisfied" and _reopen_guard(case) is None:
        return "unsatisfied", "领衔代表测评不满意，请先安排重新办理"
    return None


def _close(case, actor, data):
    return {"closed_at": utcnow(), "close_reason": "rated" if case.rating else "staff"}, {}


def open_commitment(case):
    return Commitment.select().where(Commitment.case == case.id, Commitment.done_at.is_null()).order_by(
        Commitment.due).first()


def _commitment_guard(case):
    return None if open_commitment(case) else ("no_commitment", "没有未兑现的承诺事项")


def _commitment_done(case, actor, data):
    found = open_commitment(case)
    text(data, "note", "兑现情况")
    Commitment.update(done_at=utcnow()).where(Commitment.id == found.id).execute()
    return {}, {"promise": found.text}


def _chase(case, actor, data):
    found = open_commitment(case)
    level = number(data, "level", "提醒级别", 1, 2)
    Commitment.update(chased_level=level).where(Commitment.id == found.id).execute()
    return {}, {"level": level, "promise": found.text, "due": found.due.isoformat()}


LATE_STEPS = ("sign", "assist")  # 签收 by the lead department; 协办意见 by an assisting (协办/会办) department


def _escalate(case, actor, data):
    step = choice(data, "step", LATE_STEPS, "超时环节")
    level = number(data, "level", "提醒级别", 1, 2)
    return {}, {"step": step, "level": level, "departments": codes(data, "departments", "承办单位"),
                "round": case.round}


def _note(label):
    def apply(case, actor, data):
        text(data, "note", label)
        return {}, {"department": actor.account.department.name} if actor.role == "department" else {}
    return apply


HANDLING = ("assigned", "in_progress")
ANSWERED = ("answered", "rated", "closed")
ACTIONS = {a.name: a for a in [
    A("edit_draft", "修改草稿", ("draft",), None, ("drafter",), apply=_edit_draft, public=False),
    A("cosign", "确认附议", ("draft",), None, ("invited",), apply=_cosign),
    A("decline_cosign", "不附议", ("draft",), None, ("invited",), apply=_decline_cosign, note_field="note"),
    A("submit", "提交建议", ("draft",), "submitted", ("drafter",), apply=_submit),
    A("withdraw", "撤回", ("draft", "submitted"), "withdrawn", ("drafter",), note_field="note"),
    A("register", "登记", ("submitted",), "registered", ("office",), apply=_register),
    A("classify", "分类", ("submitted", "registered"), None, ("office",), apply=_classify),
    A("merge", "并案", ("submitted", "registered"), "merged", ("office",), apply=workflow._reason(_merge)),
    # 转办 between levels (services/levels.py): to a congress above, or into the office's own subtree, before 交办
    A("hand_over", "转办（上下级）", ("submitted", "registered"), None, ("office",),
      apply=workflow._reason(workflow._hand_over)),
    A("not_register", "不予立案，转为意见", ("submitted",), "opinion", ("office",), apply=_not_register,
      note_field="note"),
    A("mark_key", "列为重点建议", ("registered",) + HANDLING, None, ("office",), apply=_mark_key),
    A("assign", "交办", ("registered",), "assigned", ("office",), apply=_assign, note_field="note"),
    A("sign", "签收", ("assigned",), "in_progress", ("lead",), apply=workflow._sign),
    A("return", "退回", HANDLING, "registered", ("lead",), guard=_return_guard, apply=workflow._return,
      note_field="note"),
    A("assist_opinion", "协办意见", ("in_progress",), None, ("assist",), apply=_note("协办意见"), note_field="note"),
    A("consult", "面商", ("in_progress",), None, ("lead",), apply=_consult, note_field="note"),
    A("progress", "办理进展", ("in_progress",), None, ("handler",), apply=_note("办理进展"), note_field="note"),
    A("request_extension", "申请延期", ("in_progress",), None, ("lead",), guard=workflow._extension_guard(False),
      apply=workflow._request_extension),
    A("approve_extension", "同意延期", ("in_progress",), None, ("office",), guard=workflow._extension_guard(True),
      apply=workflow._decide_extension(True)),
    A("refuse_extension", "不同意延期", ("in_progress",), None, ("office",), guard=workflow._extension_guard(True),
      apply=workflow._decide_extension(False), note_field="note"),
    A("urge", "督办", HANDLING, None, ("office", "system"), guard=workflow._urge_guard, apply=workflow._urge,
      note_field="note"),
    A("answer", "答复", ("in_progress",), "answered", ("lead",), guard=_consult_guard, apply=_answer),
    A("evaluate", "测评", ("answered", "rated"), "rated", ("lead_deputy",), apply=_evaluate, note_field="comment"),
    A("co_evaluate", "附议代表测评", ("answered", "rated"), None, ("cosigner",), apply=_evaluate,
      note_field="comment"),
    A("reopen", "重新办理", ("rated",), "assigned", ("office",), guard=_reopen_guard, apply=_reopen,
      note_field="note"),
    A("close", "办结", ("answered", "rated"), "closed", ("office",), guard=_close_guard, apply=_close,
      note_field="note"),
    A("commitment_done", "承诺事项已兑现", ANSWERED, None, ("lead", "office"), guard=_commitment_guard,
      apply=_commitment_done, note_field="note"),
    A("chase", "承诺事项催办", ANSWERED, None, ("system",), guard=_commitment_guard, apply=_chase),
    A("escalate", "超时提醒", HANDLING, None, ("system",), apply=_escalate, note_field="note", public=False),
]}
assert set(s for a in ACTIONS.values() for s in a.sources) <= set(SUGGESTION_STATES)

workflow.register_kind(workflow.Kind(KIND, ACTIONS, number="JY{year}-{n:05d}", created="起草建议",
                                     audit="suggestion", relations=RELATIONS, can_view=can_view))


# --- reading -----------------------------------------------------------------------------------------

def listed(actor, session=None, year=None, state="", category="", department=""):
    """The suggestions this actor may list (drafts only their own), newest first."""
    actor = workflow.as_actor(actor)
    query = Case.select(Case, Suggestion).join(Suggestion, on=Suggestion.case == Case.id).where(Case.kind == KIND)
    if actor.role == "deputy":
        mine = Signer.select(Signer.case).where(Signer.deputy == actor.account.deputy_id)
        query = query.where(Case.id.in_(mine))
    elif actor.role == "department":
        query = query.where(Case.state != "draft", Case.id.in_(Assignment.select(Assignment.case).where(
            Assignment.department == actor.account.department_id)))
    elif actor.role in ("staff", "admin"):
        query = workflow_scope(query, actor).where((Case.state != "draft") | (Case.entered_by == actor.id))
    else:
        return query.where(False)
    if session not in (None, ""):
        query = query.where(Suggestion.session == session)
    if year:
        query = query.where(Suggestion.year == year)
    if state:
        query = query.where(Case.state == state)
    if category:
        query = query.where(Case.category == category)
    if department:
        query = query.where(Case.lead_department.in_(Department.select(Department.id).where(
            Department.code == department)))
    return query.order_by(Suggestion.session, Suggestion.seq.is_null(), Suggestion.seq, Case.id.desc())


def workflow_scope(query, actor):
    from services.stats import scoped
    station = actor.account.station if actor.role == "staff" and actor.account.station_id else None
    return scoped(query, station=station) if station is not None else query


def detail(case):
    """What the pages show of a suggestion beyond the Case: its form, signers, assignments, answers, 测评."""
    suggestion = form(case)
    return {
        "form": suggestion, "number_text": number_text(suggestion), "session": session_label(suggestion.session),
        "signers": list(Signer.select().where(Signer.case == case.id).order_by(Signer.role.desc(), Signer.id)),
        "assignments": list(Assignment.select().where(Assignment.case == case.id, Assignment.round == case.round)
                            .order_by(Assignment.role.desc(), Assignment.id)),
        "answers": list(Answer.select().where(Answer.case == case.id).order_by(Answer.round, Answer.id)),
        "evaluations": list(Evaluation.select().where(Evaluation.case == case.id).order_by(Evaluation.round,
                                                                                           Evaluation.id)),
        "commitments": list(Commitment.select().where(Commitment.case == case.id).order_by(Commitment.id)),
        "reports": list(Case.select().where(Case.number.in_(suggestion.from_reports))) if suggestion.from_reports
        else [],
        "key": bool(suggestion.key_leader),
    }


def role_names(assignments):
    return {role: "、".join(a.department.name for a in assignments if a.role == role) for role in ASSIGN_ROLES}


# --- the scheduler: 承诺事项 chased like a deadline -------------------------------------------------

def chase_commitments(today=None):
    """承诺事项 whose date is near (level 1, DUE_SOON working days) or passed (level 2) are chased once per level
    through the workflow (the departments, staff and lead deputy are told)."""
    from services.errors import ServiceError
    today = today or calendar.today()
    soon = calendar.add_working_days(today, setting("DUE_SOON_DAYS", 2))
    chased = 0
    for item in Commitment.select().where(Commitment.done_at.is_null(), Commitment.due <= soon,
                                          Commitment.chased_level < 2).order_by(Commitment.id):
        level = 2 if item.due < today else 1
        if level <= item.chased_level:
            continue
        try:
            workflow.perform(Case.get_by_id(item.case_id), "chase", workflow.SYSTEM, {"level": level})
            chased += 1
        except ServiceError:
            continue
    return {"chased": chased}


def chase_late_steps(today=None):
    """交办's own time limits: the lead department's 签收 within SIGN_DAYS working days (level 1, level 2 at twice
    that) and each 协办/会办 department's 协办意见 within SUGGESTION_ASSIST_MONTHS months (level 1), raised once
    per level and assignment through `escalate` (the late department and staff are told)."""
    from services.errors import ServiceError
    today = today or calendar.today()
    sign_days, months = setting("SIGN_DAYS", 2), setting("SUGGESTION_ASSIST_MONTHS", 1)
    raised = 0
    rows = (Assignment.select(Assignment, Case).join(Case).where(
        Case.kind == KIND, Case.state.in_(HANDLING), Assignment.round == Case.round,
        Assignment.active == True).order_by(Assignment.id))  # noqa: E712
    for row in rows:
        case, assigned = row.case, calendar.local(row.assigned_at).date()
        if row.role == "lead":
            late = calendar.working_days_between(assigned, today) if case.state == "assigned" else 0
            step, target = "sign", 2 if late > 2 * sign_days else 1 if late > sign_days else 0
            note = f"交办已超过{sign_days}个工作日未签收，请尽快签收"
        else:
            staff = Account.select(Account.id).where(Account.department == row.department_id)
            given = CaseEvent.select().where(CaseEvent.case == case.id, CaseEvent.action == "assist_opinion",
                                             CaseEvent.at >= row.assigned_at, CaseEvent.actor.in_(staff))
            late = case.state == "in_progress" and calendar.add_months(assigned, months) < today and not given.exists()
            step, target = "assist", 1 if late else 0
            note = f"交办已满{months}个月，协办意见尚未提出，请尽快向主办单位提出"
        code_ = row.department.code
        done = max([e.data.get("level", 0) for e in CaseEvent.select().where(
            CaseEvent.case == case.id, CaseEvent.action == "escalate", CaseEvent.at >= row.assigned_at)
            if e.data.get("step") == step and code_ in e.data.get("departments", [])], default=0)
        for level in range(done + 1, target + 1):
            try:
                case = workflow.perform(case, "escalate", workflow.SYSTEM,
                                        {"step": step, "level": level, "departments": [code_], "note": note})
                raised += 1
            except ServiceError:
                break
    return {"escalated": raised}
