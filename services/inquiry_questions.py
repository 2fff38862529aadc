"""问政问题 — the questions of an inquiry, each a matter of kind "inquiry" on the case workflow engine.

A question is submitted while the inquiry collects them (citizens on the H5 page or the API, deputies taking part,
staff entering one heard in person, or a difficulty the government raises). Staff screen it: 列入问题清单 (one of
two lists, numbered in order), 合并 into another question of the same inquiry, or 不予采纳 with a reason. A listed
question is given to its object (交被问政对象); the object answers at the event (现场答复), commits itself with a
整改方案 and deadline (承诺整改), reports progress in public (with the reason when it is late), deputies inspect it
(代表督查, a visit with photos), and it is finished with evidence (整改完成). A 测评 after 整改 under the line
sends the object's finished questions round again (二次整改, services/inquiries.settle). The actions are a
kind's table on the one engine (services/workflow.py runs them: roles, states, compare-and-swap, timeline,
notifications, audit, all in one transaction).
"""
from peewee import fn

from models import (Assignment, Ballot, Case, CaseEvent, InquiryDeputy, InquiryObject, InquiryQuestion,
                    InquiryRating, Opinion, utcnow)
from services import calendar, notify, reports, workflow
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.vocab import DECLINE_REASONS, INQUIRY_SECTIONS, INQUIRY_STATES, LIMITS, setting
from services.workflow import (SYSTEM, Action, _coordinate as coordinate, as_actor, choice, next_case_number, number,
                               retried, text, uploads, write_transaction)

WAITING = ("submitted",)                       # not yet screened
IN_LIST = ("listed", "assigned", "answered", "rectifying", "rectified", "closed")
FINISHED = ("rectified", "closed")
HANDLING = ("listed", "assigned", "answered", "rectifying")  # in the list and not yet 整改完成


def link_of(case):
    return InquiryQuestion.get_or_none(InquiryQuestion.case == case.id)


# --- the kind's actions ----------------------------------------------------------------------------

def _list(case, actor, data):
    """列入问题清单: into one of the two lists, numbered after the last of that list."""
    section = choice(data, "section", INQUIRY_SECTIONS, "清单") if data.get("section") else link_of(case).section
    link = link_of(case)
    seq = (InquiryQuestion.select(fn.MAX(InquiryQuestion.seq)).where(
        InquiryQuestion.inquiry == link.inquiry_id, InquiryQuestion.section == section).scalar() or 0) + 1
    InquiryQuestion.update(section=section, seq=seq).where(InquiryQuestion.id == link.id).execute()
    return {}, {"section": section, "seq": seq}


def _decline(case, actor, data):
    reason = choice(data, "reason", DECLINE_REASONS, "不予采纳的原因")
    text(data, "note", "说明", required=reason == "other")
    return {"decline_reason": reason}, {"reason": reason}


def _merge(case, actor, data):
    """合并 into another question of the same inquiry (its asker then follows that one)."""
    link = link_of(case)
    original = Case.get_or_none(Case.number == str(data.get("original") or "").strip())
    other = link_of(original) if original is not None else None
    if other is None or other.inquiry_id != link.inquiry_id or original.id == case.id:
        raise InvalidInput("unknown_case", "请填写本次问政中另一个问题的编号", field="original")
    if original.state in ("merged", "declined"):
        raise InvalidInput("original_ended", f"问题{original.number}已{INQUIRY_STATES[original.state][0]}，不能合并到它",
                           field="original")
    return ({"merged_into": original.id, "closed_at": utcnow(), "close_reason": "merged"},
            {"original": original.number, "original_title": original.title})


def _assign(case, actor, data):
    """交被问政对象: the object answers for it; a department object's accounts act on it (as its lead)."""
    link = link_of(case)
    target = InquiryObject.get_or_none(InquiryObject.id == number(data, "target", "被问政对象", 1, 2 ** 31),
                                       InquiryObject.inquiry == link.inquiry_id)
    if target is None:
        raise InvalidInput("unknown_object", "请选择本次问政的被问政对象", field="target")
    InquiryQuestion.update(target=target).where(InquiryQuestion.id == link.id).execute()
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    held = link.inquiry.held_at
    deadline = calendar.local(held).date() if held else calendar.today()
    if target.department_id:
        Assignment.create(case=case.id, department=target.department_id, role="lead", round=case.round,
                          deadline=deadline)
    return {"lead_department": target.department_id}, {"object": target.name}


def _answer(case, actor, data):
    body = text(data, "text", "答复内容", limit=LIMITS["content"], minimum=5)
    return {"answered_at": utcnow()}, {"object": link_of(case).target.name, "text": body}


def _deadline(data):
    """整改时限: a date (YYYY-MM-DD) not in the past."""
    import datetime as dt
    raw = str(data.get("deadline") or "").strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("invalid_date", "请填写整改时限（日期）", field="deadline") from None
    if day < calendar.today():
        raise InvalidInput("invalid_date", "整改时限不能早于今天", field="deadline")
    return day


def _commit(case, actor, data):
    """承诺整改: the object's commitment and its 整改方案 with a deadline (both published)."""
    commitment = text(data, "commitment", "承诺", limit=1000, minimum=4)
    plan = text(data, "plan", "整改方案", limit=LIMITS["content"], minimum=5)
    deadline = _deadline(data)
    InquiryQuestion.update(commitment=commitment, plan=plan, plan_deadline=deadline).where(
        InquiryQuestion.case == case.id).execute()
    return {"deadline": deadline}, {"commitment": commitment, "plan": plan, "deadline": deadline.isoformat()}


def _progress(case, actor, data):
    """整改进展 (public): what was done; past the deadline, why it is late."""
    done = text(data, "note", "整改进展")
    late = case.deadline is not None and calendar.today() > case.deadline
    delay = text(data, "delay_reason", "延期原因", required=late, limit=500)
    return {}, {"text": done, **({"delay_reason": delay} if delay else {}),
                **({"photos": p} if (p := uploads(data, "photos", actor)) else {})}


def _supervise(case, actor, data):
    """代表督查: a deputy (or the office) visited and saw the 整改, with photos."""
    photos = uploads(data, "photos", actor)
    if not photos:
        raise InvalidInput("photos_required", "督查记录请上传现场照片", field="photos")
    finding = text(data, "note", "督查情况")
    who = actor.account.deputy.name if actor.role == "deputy" and actor.account.deputy_id else "人大工作人员"
    return {}, {"text": finding, "photos": photos, "by": who}


def _complete(case, actor, data):
    """整改完成, with the evidence (photos or PDF files)."""
    evidence = uploads(data, "photos", actor)
    if not evidence:
        raise InvalidInput("evidence_required", "整改完成请上传佐证材料（照片或文件）", field="photos")
    what = text(data, "note", "整改完成情况")
    on_time = case.deadline is None or calendar.today() <= case.deadline
    return {"answered_on_time": on_time}, {"text": what, "photos": evidence, "on_time": on_time}


def _second_round(case, actor, data):
    """二次整改: the object's 测评 fell under the line; a new round with a new deadline."""
    days = setting("INQUIRY_SECOND_DAYS", 20)
    deadline = calendar.add_working_days(calendar.today(), days)
    link = link_of(case)
    InquiryQuestion.update(plan_deadline=deadline).where(InquiryQuestion.id == link.id).execute()
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.active == True).execute()  # noqa
    if link.target_id and link.target.department_id:  # the object's department works the new round
        Assignment.create(case=case.id, department=link.target.department_id, role="lead", round=case.round + 1,
                          deadline=deadline)
    return {"round": case.round + 1, "deadline": deadline, "answered_on_time": None}, \
        {"round": case.round + 1, "deadline": deadline.isoformat(),
         "previous_deadline": case.deadline.isoformat() if case.deadline else None}


def _withdraw_second(case, actor, data):
    """撤销二次整改: a corrected 测评 puts the object at or above the line; the question is back as it was after
    its 整改完成 (the round and deadline before the 二次整改, the earlier round's department)."""
    import datetime as dt
    opened = case.events.where(CaseEvent.action == "second_round").order_by(CaseEvent.id.desc()).first()
    before = (opened.data.get("previous_deadline") if opened else None) or None
    deadline = dt.date.fromisoformat(before) if before else case.deadline
    InquiryQuestion.update(plan_deadline=deadline).where(InquiryQuestion.case == case.id).execute()
    Assignment.update(active=False).where(Assignment.case == case.id, Assignment.round == case.round).execute()
    earlier = Assignment.select(fn.MAX(Assignment.id)).where(Assignment.case == case.id,
                                                             Assignment.round == case.round - 1)
    Assignment.update(active=True).where(Assignment.id == earlier).execute()
    return {"round": case.round - 1, "deadline": deadline}, {"round": case.round - 1, "note": data.get("note", "")}


def _close(case, actor, data):
    return {"closed_at": utcnow(), "close_reason": "staff" if actor.role != "system" else "rated"}, {}


A = Action
ACTIONS = {a.name: a for a in [
    A("list", "列入问题清单", ("submitted",), "listed", ("office",), apply=_list, citizen_text="列入问题清单"),
    A("decline", "不予采纳", ("submitted",), "declined", ("office",), apply=_decline, note_field="note",
      citizen_text="未列入问题清单"),
    A("merge", "合并", ("submitted",), "merged", ("office",), apply=_merge,
      citizen_text="与相同的问题合并办理"),
    A("assign", "交被问政对象", ("listed", "assigned"), "assigned", ("office",), apply=_assign,
      citizen_text="交被问政对象"),
    A("answer", "现场答复", ("assigned",), "answered", ("office", "lead"), apply=_answer,
      citizen_text="被问政对象作了答复"),
    A("commit", "承诺整改", ("answered",), "rectifying", ("office", "lead"), apply=_commit,
      citizen_text="被问政对象作出承诺和整改方案"),
    A("progress", "整改进展", ("rectifying",), None, ("office", "lead"), apply=_progress,
      citizen_text="整改进展"),
    A("supervise", "代表督查", ("rectifying", "rectified"), None, ("office", "participant"), apply=_supervise,
      citizen_text="代表督查整改"),
    A("complete", "整改完成", ("rectifying",), "rectified", ("office", "lead"), apply=_complete,
      citizen_text="整改完成"),
    A("second_round", "二次整改", ("rectified",), "rectifying", ("system",), apply=_second_round,
      citizen_text="满意度测评未达标，启动二次整改"),
    A("withdraw_second", "撤销二次整改", ("rectifying",), "rectified", ("system",), apply=_withdraw_second,
      citizen_text="测评结果更正，撤销二次整改"),
    A("close", "办结", ("rectified",), "closed", ("office", "system"), apply=_close, citizen_text="办结"),
]}


def participant(case, actor):
    """The relation "participant": a deputy taking part in the question's inquiry."""
    return actor.role == "deputy" and actor.account.deputy_id is not None and InquiryDeputy.select().join(
        InquiryQuestion, on=(InquiryQuestion.inquiry == InquiryDeputy.inquiry)).where(
        InquiryQuestion.case == case.id, InquiryDeputy.deputy == actor.account.deputy_id).exists()


# --- submitting --------------------------------------------------------------------------------------

@retried
def submit(actor, inquiry, data, source="h5"):
    """A question for the inquiry: citizens and deputies taking part while it collects; staff enter one (a
    difficulty the government raises, or one heard in person) until the list is final. One transaction."""
    from services import inquiries
    actor = as_actor(actor)
    office = actor.role in ("staff", "admin")
    if office:
        inquiries.require_office(actor, inquiry)
        if inquiry.stage not in ("mobilisation", "sorting"):
            raise Conflict("not_collecting", "只有在动员部署和问题梳理阶段可以录入问题")
    else:
        if actor.role not in ("citizen", "deputy"):
            raise Forbidden("not_permitted", "只有群众和代表可以提交问政问题")
        if actor.role == "deputy" and not inquiries.takes_part(inquiry, actor.account.deputy):
            raise Forbidden("not_permitted", "您不是本次问政的参加代表")
        refusal = inquiries.window_refusal(inquiry)
        if refusal:
            raise Conflict("not_collecting", refusal)
    section = choice(data, "section", INQUIRY_SECTIONS, "清单") if office and data.get("section") else "question"
    content = text(data, "content", "问题内容", minimum=5)
    title = text(data, "title", "标题", required=False) or content.replace("\n", " ")[:20]
    location = text(data, "location", "位置", required=False)
    station = inquiries.ask_station(inquiry, data.get("station"))  # a station's printed code (?s=<station>)
    place = {"latitude": coordinate(data, "latitude", 90), "longitude": coordinate(data, "longitude", 180)}
    photos = uploads(data, "photos", actor)
    if actor.role == "citizen":
        limit, window = setting("REPORT_RATE_LIMIT", (10, 3600))
        from services import ratelimit
        ratelimit.hit(f"report:{actor.id}", limit, window, message="您提交得太频繁了，请稍后再试")
        flag = reports.check_text(actor.account, "\n".join(filter(None, [title, content, location])))
    else:
        flag = ""
    with write_transaction():
        return _file(actor, inquiry, actor.account, source, section, dict(
            title=title, content=content, photos=photos, location=location, flagged=bool(flag),
            flag_reason=flag[:100], entered_by=actor.account if office else None, **place), station=station)


def _file(actor, inquiry, asker, source, section, fields, opinion=None, station=None):
    """Write one question (its case, its link, its first event) inside the caller's transaction; its station is
    the one whose code it came through, else the inquiry's."""
    now = utcnow()
    case = Case.create(number=next_case_number(calendar.local(now).year, "inquiry"), kind="inquiry", reporter=asker,
                       station=station.id if station else inquiry.station_id, source=source, category="governance",
                       submitted_at=now, updated_at=now, **fields)
    InquiryQuestion.create(case=case, inquiry=inquiry, section=section, opinion=opinion)
    data = {"source": source, "inquiry": inquiry.code, **({"opinion": opinion.id} if opinion else {}),
            **({"station": station.code} if station else {})}
    event = CaseEvent.create(case=case, actor=actor.account, actor_role=actor.role, action="submit",
                             to_state="submitted", at=now, data=data)
    workflow.recorded(None, case, event, actor, data)
    return case


@retried
def import_opinions(actor, inquiry):
    """问政选题 through 征集: every opinion of the inquiry's consultation that its organiser adopted (采纳 or 部分采纳)
    becomes a question waiting to be screened, once; its commenter is the asker. Returns the new questions."""
    from services import inquiries
    actor = as_actor(actor)
    inquiries.require_office(actor, inquiry)
    if inquiry.consultation_id is None:
        raise Conflict("no_consultation", "本次问政没有关联问政选题征集")
    if inquiry.stage not in ("mobilisation", "sorting"):
        raise Conflict("not_collecting", "只有在动员部署和问题梳理阶段可以导入选题建议")
    taken = InquiryQuestion.select(InquiryQuestion.opinion).where(InquiryQuestion.opinion.is_null(False))
    adopted = (Opinion.select().where(Opinion.consultation == inquiry.consultation_id,
                                      Opinion.decision.in_(("adopted", "partly")), Opinion.id.not_in(taken))
               .order_by(Opinion.id))
    made = []
    with write_transaction():
        for opinion in adopted:
            made.append(_file(actor, inquiry, opinion.author, "consultation", "question",
                              dict(title=opinion.text.replace("\n", " ")[:20], content=opinion.text,
                                   flagged=bool(opinion.flagged_reason), flag_reason=opinion.flagged_reason[:100]),
                              opinion=opinion))
    return made


# --- what the stages need ----------------------------------------------------------------------------

def states_of(inquiry):
    """{case state: count} over the inquiry's questions."""
    rows = (Case.select(Case.state, fn.COUNT(Case.id).alias("n")).join(
        InquiryQuestion, on=(InquiryQuestion.case == Case.id)).where(InquiryQuestion.inquiry == inquiry)
            .group_by(Case.state))
    return {row.state: row.n for row in rows}


def unfinished(inquiry):
    counts = states_of(inquiry)
    return sum(counts.get(s, 0) for s in HANDLING)


def rating_held(inquiry, purpose):
    return InquiryRating.select().join(Ballot).where(
        InquiryRating.inquiry == inquiry, InquiryRating.purpose == purpose,
        Ballot.state.in_(("closed", "published"))).exists()


def stage_blockers(inquiry, stage):
    counts = states_of(inquiry)
    listed = sum(counts.get(s, 0) for s in IN_LIST)
    missing = []
    if stage == "mobilisation" and not counts:
        missing.append("还没有征集到问题")
    if stage == "sorting":
        if counts.get("submitted"):
            missing.append(f"还有 {counts['submitted']} 个问题没有筛选（列入清单、合并或不予采纳）")
        if not listed:
            missing.append("问题清单还是空的")
        if counts.get("listed"):
            missing.append(f"还有 {counts['listed']} 个清单问题没有交给被问政对象")
    if stage == "event":
        if counts.get("assigned"):
            missing.append(f"还有 {counts['assigned']} 个问题没有记录现场答复")
        if counts.get("answered"):
            missing.append(f"还有 {counts['answered']} 个问题没有承诺和整改方案")
        if not rating_held(inquiry, "event"):
            missing.append("还没有举行现场满意度测评")
    if stage == "review":
        if unfinished(inquiry):
            missing.append(f"还有 {unfinished(inquiry)} 个问题没有整改完成")
        if Ballot.select().join(InquiryRating).where(InquiryRating.inquiry == inquiry, Ballot.state == "open").exists():
            missing.append("还有测评没有结束")
        elif not rating_held(inquiry, "review"):
            missing.append("还没有举行整改后满意度测评")
    return missing


def second_round(target):
    """Every finished question of this object goes round again (二次整改); returns {number: its new round}."""
    rounds = {}
    for link in InquiryQuestion.select().join(Case).where(InquiryQuestion.target == target,
                                                          Case.state == "rectified"):
        workflow.perform(link.case, "second_round", SYSTEM, {})
        rounds[link.case.number] = link.case.round + 1
    return rounds


def withdraw_second_round(rounds, note):
    """The 二次整改 opened as {number: round} is withdrawn for the questions still in that round's 整改 (not one a
    later 测评 opened); returns the numbers withdrawn."""
    done = []
    for case in Case.select().where(Case.number.in_(list(rounds) or [""]), Case.kind == "inquiry",
                                    Case.state == "rectifying"):
        if rounds[case.number] in (None, case.round):
            workflow.perform(case, "withdraw_second", SYSTEM, {"note": note[:200]})
            done.append(case.number)
    return done


def askers(inquiry):
    """Ids of the accounts that asked in this inquiry (citizens and deputies; not staff entering a question)."""
    return {row.reporter_id for row in Case.select(Case.reporter).join(
        InquiryQuestion, on=(InquiryQuestion.case == Case.id)).where(
        InquiryQuestion.inquiry == inquiry, Case.reporter.is_null(False), Case.entered_by.is_null(True))}


def progress_counts(inquiry):
    """What a published progress report says: questions in the lists rectified, in 整改 (overdue among them),
    still to be answered or committed, and in a 二次整改."""
    rows = [case for _, case in questions(inquiry, listed_only=True)]
    return {"listed": len(rows), "rectified": sum(c.state in FINISHED for c in rows),
            "rectifying": sum(c.state == "rectifying" for c in rows), "overdue": sum(overdue(c) for c in rows),
            "waiting": sum(c.state in ("listed", "assigned", "answered") for c in rows),
            "second": sum(c.round > 1 and c.state == "rectifying" for c in rows)}


def close_all(inquiry):
    """At 已完成 every rectified question is closed (办结)."""
    for link in InquiryQuestion.select().join(Case).where(InquiryQuestion.inquiry == inquiry,
                                                          Case.state == "rectified"):
        workflow.perform(link.case, "close", SYSTEM, {})


# --- reading -----------------------------------------------------------------------------------------

def questions(inquiry, listed_only=False):
    """[(link, case)] of the inquiry: the two lists in their order, then (staff) those not listed."""
    query = (InquiryQuestion.select(InquiryQuestion, Case).join(Case).where(InquiryQuestion.inquiry == inquiry)
             .order_by(InquiryQuestion.section, InquiryQuestion.seq == 0, InquiryQuestion.seq, Case.submitted_at))
    if listed_only:
        query = query.where(Case.state.in_(IN_LIST))
    return [(link, link.case) for link in query]


def lists(inquiry):
    """{section: [(link, case)]} of the listed questions (the public 问题清单)."""
    found = {section: [] for section in INQUIRY_SECTIONS}
    for link, case in questions(inquiry, listed_only=True):
        found[link.section].append((link, case))
    return found


PUBLIC_STEPS = ("list", "assign", "answer", "commit", "progress", "supervise", "complete", "second_round",
                "withdraw_second", "close")


def public_steps(case):
    """A question's public progress (worded for everyone, `citizen_text`): what was answered, committed, done, late
    and inspected — never who asked (no names, phones or the asker's own photos)."""
    return [{"at": e.at, "action": e.action, "label": ACTIONS[e.action].citizen_text, "data": e.data,
             "by": _public_actor(e)} for e in case.events.where(CaseEvent.action.in_(PUBLIC_STEPS))
            .order_by(CaseEvent.at, CaseEvent.id)]


def _public_actor(event):
    if event.actor_role == "deputy" and event.actor and event.actor.deputy_id:
        return f"{event.actor.deputy.name}代表"
    if event.actor_role == "department" and event.actor and event.actor.department_id:
        return event.actor.department.name
    return {"system": "系统", "staff": "人大常委会", "admin": "人大常委会"}.get(event.actor_role, "")


def public_question(inquiry, number_):
    """A listed question of a published inquiry by its number, for the public page; 404 otherwise."""
    case = Case.get_or_none(Case.number == str(number_ or "").strip()[:16])
    link = link_of(case) if case is not None else None
    if link is None or link.inquiry_id != inquiry.id or case.state not in IN_LIST:
        raise NotFound("no_question", "没有找到这个问题")
    return link, case


def answer_of(case):
    event = case.events.where(CaseEvent.action == "answer").order_by(CaseEvent.id.desc()).first()
    return event.data.get("text", "") if event else ""


def latest_progress(case):
    event = case.events.where(CaseEvent.action.in_(("progress", "complete", "second_round"))).order_by(
        CaseEvent.at.desc(), CaseEvent.id.desc()).first()
    return event


def overdue(case):
    return case.state == "rectifying" and case.deadline is not None and calendar.today() > case.deadline


def state_label(case, for_citizen=True):
    return INQUIRY_STATES[case.state][1 if for_citizen else 0]


def to_supervise(deputy_id):
    """The questions in 整改 of the inquiries a deputy takes part in (the phone workbench lists them for 督查)."""
    if not deputy_id:
        return []
    return list(Case.select().join(InquiryQuestion, on=(InquiryQuestion.case == Case.id)).join(
        InquiryDeputy, on=(InquiryDeputy.inquiry == InquiryQuestion.inquiry)).where(
        InquiryDeputy.deputy == deputy_id, Case.state.in_(("rectifying", "rectified"))).order_by(Case.deadline))


def for_department(department_id):
    """The questions handed to a department (its console list)."""
    return list(Case.select().join(InquiryQuestion, on=(InquiryQuestion.case == Case.id)).join(
        InquiryObject, on=(InquiryObject.id == InquiryQuestion.target)).where(
        InquiryObject.department == department_id).order_by(Case.submitted_at.desc()))


# --- the Excel 问题清单 --------------------------------------------------------------------------------

def export_xlsx(inquiry):
    """The 问题清单 for the leaders: a sheet per list, a title row, one row per question with its object,
    answer, commitment, plan, deadline, latest progress and state; the asker never appears."""
    from services.exports import table_xlsx
    today = calendar.today()
    heads = ["序号", "编号", "问题", "被问政对象", "现场答复", "承诺", "整改方案", "整改时限", "最新进展", "延期原因",
             "状态", "轮次"]
    widths = [6, 13, 40, 20, 36, 30, 36, 11, 36, 24, 12, 6]
    sheets = []
    for section, rows in lists(inquiry).items():
        body = []
        for link, case in rows:
            last = latest_progress(case)
            body.append([link.seq, case.number, f"{case.title}\n{case.content}" if case.title not in case.content
                         else case.content, link.target.name if link.target_id else "", answer_of(case),
                         link.commitment, link.plan, link.plan_deadline, last.data.get("text", "") if last else "",
                         last.data.get("delay_reason", "") if last else "", state_label(case, False),
                         case.round])
        title = f"{inquiry.topic}{INQUIRY_SECTIONS[section]}（截至{today.year}年{today.month}月{today.day}日）"
        sheets.append((title, heads, widths, body))
    return table_xlsx(sheets)


# --- the kind on the engine, and who hears what ------------------------------------------------------

ASKER_STEPS = ("list", "decline", "merge", "answer", "commit", "progress", "supervise", "complete", "second_round",
               "withdraw_second", "close")
# who hears what: the asker (and those merged into their question) each public step; the object's department
# its question when it is handed over
AUDIENCE = {**{step: [("reporter", "inquiry_progress")] for step in ASKER_STEPS},
            "assign": [("reporter", "inquiry_progress"), ("departments", "inquiry_assigned")]}


def values(case, event):
    link = link_of(case)
    tip = (event.data.get("text") or event.data.get("commitment") or event.data.get("object")
           or DECLINE_REASONS.get(event.data.get("reason"), "") or event.data.get("original", ""))
    if event.action == "second_round":
        tip = f"新的整改时限{notify.date_text(case.deadline)}"
    status = {"second_round": "启动二次整改", "withdraw_second": "撤销二次整改"}.get(event.action) or state_label(case)
    if event.action == "withdraw_second":
        tip = "测评结果更正后满意率达标"
    held = link.inquiry.held_at
    return {"number": case.number, "title": case.title, "code": link.inquiry.code, "status": status,
            "tip": tip[:40] or status, "deadline_text": notify.date_text(calendar.local(held).date() if held else None)}


def can_view(case, actor):
    """Who reads a question in the console and the workbench: the system, its asker, the office in scope, the
    object's department, the deputies taking part (anyone reads it on the public page once it is listed)."""
    return actor.role == "system" or any(workflow.owns(case, actor, r) for r in ("reporter", "office", "handler")) \
        or participant(case, actor)


workflow.register_kind(workflow.Kind("inquiry", ACTIONS, number="{year}-WZ{n:04d}", created="提交问题",
                                     audit="inquiry", relations={"participant": participant}, can_view=can_view))
notify.KIND_AUDIENCE["inquiry"], notify.KIND_VALUES["inquiry"] = AUDIENCE, values
