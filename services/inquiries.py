"""问政 — an inquiry event and its five stages; the ONE place for what each stage needs before moving on.

An inquiry has a topic, a form (会议 / 现场 / 网络), a date and place, the objects questioned (departments, or named
officials of a township government), the deputies taking part and a window for collecting questions. It moves
工作准备 → 动员部署 → 问题梳理 → 活动组织 → 工作评议 → 已完成, one stage at a time, and only when `blockers` is
empty (each blocker is a Chinese sentence the console shows). Every move is an InquiryEvent written in the same
transaction, with a compare-and-swap on the inquiry's version, and tells the followers.
"""
from models import (Ballot, Consultation, Deputy, Department, Inquiry, InquiryDeputy, InquiryEvent, InquiryFollow,
                    InquiryObject, InquiryRating, Station, utcnow)
from services import audit, ballots, calendar, notify
from services.window import moment, new_code
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.vocab import INQUIRY_FORMS, INQUIRY_RATING_PURPOSES, INQUIRY_STAGES, setting
from services.workflow import SYSTEM, as_actor, in_scope, retried, text, write_transaction

STAGE_ORDER = list(INQUIRY_STAGES)


def stage_label(stage):
    return INQUIRY_STAGES[stage][0]


def next_stage(stage):
    at = STAGE_ORDER.index(stage)
    return STAGE_ORDER[at + 1] if at + 1 < len(STAGE_ORDER) else None


# --- who may -------------------------------------------------------------------------------------

def require_office(actor, inquiry=None):
    """Staff (in the inquiry's scope) and admins organise an inquiry."""
    actor = as_actor(actor)
    if actor.role not in ("staff", "admin", "system"):
        raise Forbidden("not_permitted", "只有人大工作人员可以组织问政")
    if inquiry is not None and actor.role == "staff" and not in_scope(actor, inquiry.station_id):
        raise Forbidden("out_of_scope", "该问政活动不在您的辖区内")


def visible(actor):
    """The inquiries an office account sees (its subtree; county-wide staff and admins all)."""
    actor = as_actor(actor)
    rows = Inquiry.select().order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    return [i for i in rows if actor.role in ("admin", "system") or in_scope(actor, i.station_id)]


def get(code, actor=None):
    """An inquiry by its code: for office actors in scope, or (actor None) a published one for the public."""
    inquiry = Inquiry.get_or_none(Inquiry.code == str(code or "").strip().upper()[:16])
    if inquiry is None or (actor is None and not inquiry.published):
        raise NotFound("no_inquiry", "没有找到这次问政活动，请核对二维码或链接")
    if actor is not None:
        require_office(actor, inquiry)
    return inquiry


# --- setting up ----------------------------------------------------------------------------------

def _optional_moment(data, name, label):
    return moment(data.get(name), label) if str(data.get(name) or "").strip() else None


def _parse(data):
    fields = {"topic": text(data, "topic", "问政主题", limit=120, minimum=4),
              "description": text(data, "description", "活动说明", required=False, limit=2000),
              "place": text(data, "place", "地点", required=False, limit=200)}
    form = data.get("form")
    if form not in INQUIRY_FORMS:
        raise InvalidInput("invalid_choice", "请选择问政形式（会议问政、现场问政或网络问政）", field="form")
    fields.update(form=form, held_at=_optional_moment(data, "held_at", "问政时间"),
                  collect_opens=_optional_moment(data, "collect_opens", "征集开始时间"),
                  collect_closes=_optional_moment(data, "collect_closes", "征集截止时间"))
    if fields["collect_opens"] and fields["collect_closes"] and fields["collect_closes"] <= fields["collect_opens"]:
        raise InvalidInput("bad_window", "征集截止时间须晚于开始时间", field="collect_closes")
    if fields["held_at"] and fields["collect_closes"] and fields["held_at"] < fields["collect_closes"]:
        raise InvalidInput("bad_window", "问题征集须在问政活动之前截止", field="collect_closes")
    departments = []
    for code in data.get("departments") or []:
        department = Department.get_or_none(Department.code == str(code).strip().upper(),
                                            Department.active == True)  # noqa: E712
        if department is None:
            raise InvalidInput("bad_department", f"没有编码为 {code} 的承办单位", field="departments")
        departments.append(department)
    officials = [line.strip() for line in str(data.get("officials") or "").splitlines() if line.strip()]
    if any(len(line) > 120 for line in officials):
        raise InvalidInput("too_long", "每位被问政的负责人一行，不超过120个字", field="officials")
    objects = [(d.name, d) for d in departments] + [(line, None) for line in officials]
    if len({name for name, _ in objects}) != len(objects):
        raise InvalidInput("duplicate_object", "被问政对象有重复", field="officials")
    codes = [str(c).strip().upper() for c in data.get("deputies") or [] if str(c).strip()]
    deputies = list(Deputy.select().where(Deputy.code.in_(codes))) if codes else []
    if len(deputies) != len(set(codes)):
        raise InvalidInput("bad_deputy", "参加问政的代表有误", field="deputies")
    consultation = None
    if str(data.get("consultation") or "").strip():
        consultation = Consultation.get_or_none(Consultation.code == str(data["consultation"]).strip().upper(),
                                                Consultation.kind == "inquiry")
        if consultation is None:
            raise InvalidInput("bad_consultation", "没有这个问政选题征集（请填写征求意见的编码）", field="consultation")
    fields["consultation"] = consultation
    station = None
    if data.get("station"):
        station = Station.get_or_none(Station.code == str(data["station"]).strip().upper())
        if station is None:
            raise InvalidInput("bad_station", "组织单位（联络站）有误", field="station")
    return fields, objects, deputies, station


@retried
def save(actor, data, inquiry=None):
    """Create an inquiry (工作准备) or change it; objects and deputies can change only while it is being prepared."""
    actor = as_actor(actor)
    require_office(actor, inquiry)
    fields, objects, deputies, station = _parse(data)
    if station is None and actor.role == "staff" and actor.account.station_id:
        station = actor.account.station
    if station is not None and not in_scope(actor, station.id):
        raise Forbidden("out_of_scope", "该联络站不在您的辖区内")
    with write_transaction():
        if inquiry is None:
            inquiry = Inquiry.create(code=new_code("W"), station=station, created_by=actor.account, **fields)
            action = "create"
        else:
            current = Inquiry.get_by_id(inquiry.id)
            if current.stage != "preparation":
                raise Conflict("invalid_stage", "只有在“工作准备”阶段可以修改问政活动的设置")
            changed = Inquiry.update(station=station, version=Inquiry.version + 1, updated_at=utcnow(), **fields).where(
                Inquiry.id == inquiry.id, Inquiry.version == current.version).execute()
            if not changed:
                raise Conflict("stale_state", "问政活动已被他人修改，请刷新后重试")
            InquiryObject.delete().where(InquiryObject.inquiry == inquiry).execute()
            InquiryDeputy.delete().where(InquiryDeputy.inquiry == inquiry).execute()
            action = "edit"
        for sort, (name, department) in enumerate(objects):
            InquiryObject.create(inquiry=inquiry, sort=sort, name=name, department=department)
        for deputy in deputies:
            InquiryDeputy.create(inquiry=inquiry, deputy=deputy)
        record(inquiry, actor, action, public=False, data={"topic": fields["topic"]})
        audit.record(actor, f"inquiry.{action}", ("inquiry", inquiry.code), {"topic": fields["topic"]})
    return Inquiry.get_by_id(inquiry.id)


def objects(inquiry):
    return list(inquiry.objects.order_by(InquiryObject.sort, InquiryObject.id))


def deputies(inquiry):
    return list(Deputy.select().join(InquiryDeputy).where(InquiryDeputy.inquiry == inquiry).order_by(Deputy.code))


def takes_part(inquiry, deputy):
    return deputy is not None and InquiryDeputy.select().where(
        InquiryDeputy.inquiry == inquiry, InquiryDeputy.deputy == deputy).exists()


def record(inquiry, actor, action, note="", public=True, from_stage="", to_stage="", data=None):
    """Append one entry to the inquiry's record (inside the caller's transaction)."""
    actor = as_actor(actor)
    return InquiryEvent.create(inquiry=inquiry, actor=actor.account, actor_role=actor.role, action=action,
                               note=note, public=public, from_stage=from_stage, to_stage=to_stage, data=data or {})


# --- the collection window -------------------------------------------------------------------------

def collecting(inquiry, now=None):
    """Questions may be submitted: the event is in 动员部署 and now lies in its collection window."""
    now = now or utcnow()
    return (inquiry.stage == "mobilisation" and inquiry.collect_opens is not None and inquiry.collect_closes is not None
            and inquiry.collect_opens <= now < inquiry.collect_closes)


def window_refusal(inquiry, now=None):
    """Why a question cannot be submitted now (Chinese), or None."""
    now = now or utcnow()
    if inquiry.stage == "preparation" or (inquiry.collect_opens and now < inquiry.collect_opens):
        return "问题征集尚未开始"
    if not collecting(inquiry, now):
        return "问题征集已经结束"
    return None


def open_events(station=None, now=None):
    """The published inquiries collecting questions now, closing soonest first (the mini-program's list, the
    official account's 问政); through a station, those it may be asked in (county-wide ones and its branch's)."""
    now = now or utcnow()
    rows = Inquiry.select().where(Inquiry.published == True, Inquiry.stage == "mobilisation",  # noqa: E712
                                  Inquiry.collect_opens <= now, Inquiry.collect_closes > now) \
        .order_by(Inquiry.collect_closes, Inquiry.id)
    return [i for i in rows if station is None or _in_branch(i, station)]


def _in_branch(inquiry, station):
    return inquiry.station_id is None or station.path.startswith(inquiry.station.path)


def ask_stations(inquiry):
    """The stations that may print a code for asking in this inquiry (its branch; liaison stations and points)."""
    rows = Station.select().where(Station.kind != "congress").order_by(Station.path)
    if inquiry.station_id:
        rows = rows.where(Station.path.startswith(inquiry.station.path))
    return list(rows)


def ask_station(inquiry, code):
    """The station a station's printed code presets on the ask form (?s=<station>), or None without one; a
    station outside the inquiry's branch (or none of that code) is refused."""
    code = str(code or "").strip().upper()[:16]
    if not code:
        return None
    station = Station.get_or_none(Station.code == code)
    if station is None or not _in_branch(inquiry, station):
        raise InvalidInput("bad_station", "这个联络站不在本次问政的范围内，请核对二维码", field="station")
    return station


# --- stages ----------------------------------------------------------------------------------------

def blockers(inquiry, now=None):
    """What the inquiry still needs before it may move on to its next stage ([] when it may)."""
    now = now or utcnow()
    stage, missing = inquiry.stage, []
    if stage == "preparation":
        if not inquiry.held_at:
            missing.append("请填写问政时间")
        if inquiry.form != "online" and not inquiry.place:
            missing.append("请填写问政地点")
        if not inquiry.objects.count():
            missing.append("请确定被问政对象")
        if not inquiry.deputies.count():
            missing.append("请确定参加问政的代表")
        if not (inquiry.collect_opens and inquiry.collect_closes):
            missing.append("请设定问题征集的开始和截止时间")
    elif stage == "mobilisation":
        if inquiry.collect_closes and now < inquiry.collect_closes:
            missing.append(f"问题征集到 {calendar.local(inquiry.collect_closes):%Y-%m-%d %H:%M} 截止，截止后才能进入问题梳理")
        missing += _question_blockers(inquiry, stage)
    elif stage in ("sorting", "event", "review"):
        missing += _question_blockers(inquiry, stage)
    elif stage == "done":
        missing.append("问政工作已经完成")
    return missing


def _question_blockers(inquiry, stage):
    """The questions' part of a stage's needs (services/inquiry_questions.py decides what each state means)."""
    from services import inquiry_questions
    return inquiry_questions.stage_blockers(inquiry, stage)


@retried
def advance(actor, inquiry, expected):
    """Move the inquiry from stage `expected` to the next one, when nothing blocks it."""
    actor = as_actor(actor)
    require_office(actor, inquiry)
    with write_transaction():
        current = Inquiry.get_by_id(inquiry.id)
        if current.stage != expected:
            raise Conflict("stale_state", "问政活动的阶段已变化，请刷新页面")
        missing = blockers(current)
        if missing:
            raise Conflict("stage_not_ready", f"还不能进入下一阶段：{'；'.join(missing)}")
        target = next_stage(current.stage)
        changes = {"stage": target, "version": Inquiry.version + 1, "updated_at": utcnow()}
        if target == "mobilisation":
            changes["published"] = True
        moved = Inquiry.update(**changes).where(Inquiry.id == current.id, Inquiry.version == current.version).execute()
        if not moved:
            raise Conflict("stale_state", "问政活动已被他人修改，请刷新后重试")
        fresh = Inquiry.get_by_id(current.id)
        if target == "done":
            from services import inquiry_questions
            inquiry_questions.close_all(fresh)
        event = record(fresh, actor, "stage", note=INQUIRY_STAGES[target][1], from_stage=current.stage,
                       to_stage=target)
        if target == "event":  # the 问题清单 is final and published: followers and askers get it as one digest
            _publish_list(fresh, event)
        else:
            tell_followers(fresh, event, f"进入{stage_label(target)}阶段")
        audit.record(actor, "inquiry.stage", ("inquiry", fresh.code), {"from": current.stage, "to": target})
    return fresh


# --- following ---------------------------------------------------------------------------------------

def follow(account, inquiry):
    """关注 (idempotent): scanning the event's QR code and tapping 关注."""
    InquiryFollow.insert(account=account, inquiry=inquiry).on_conflict_ignore().execute()


def unfollow(account, inquiry):
    InquiryFollow.delete().where(InquiryFollow.account == account, InquiryFollow.inquiry == inquiry).execute()


def is_following(account, inquiry):
    return account is not None and InquiryFollow.select().where(
        InquiryFollow.account == account, InquiryFollow.inquiry == inquiry).exists()


def follower_count(inquiry):
    return InquiryFollow.select().where(InquiryFollow.inquiry == inquiry).count()


def tell_followers(inquiry, event, status, tip=""):
    """Every follower hears of a public step of the inquiry (inside its transaction)."""
    values = {"number": inquiry.code, "code": inquiry.code, "title": inquiry.topic[:40], "status": status[:20],
              "tip": (tip or event.note or status)[:40]}
    for row in InquiryFollow.select(InquiryFollow.account).where(InquiryFollow.inquiry == inquiry):
        notify.write(row.account_id, "inquiry_news", f"i{event.id}:{row.account_id}", values)


# --- publications pushed as one digest ----------------------------------------------------------------
# The published lists (问题清单, a progress report, 测评 results) go to the inquiry's followers and to everyone
# who asked in it: one message per person per publication (the InquiryEvent that publishes it), never one per
# question, written in the publication's own transaction.

def digest(inquiry, event, kind, values):
    """One `kind` message per follower and asker for this publication; returns how many were written."""
    from services import inquiry_questions
    people = {row.account_id for row in InquiryFollow.select(InquiryFollow.account).where(
        InquiryFollow.inquiry == inquiry)} | inquiry_questions.askers(inquiry)
    values = {"number": inquiry.code, "code": inquiry.code, "title": inquiry.topic[:40], **values}
    return sum(notify.write(account_id, kind, f"d{event.id}:{account_id}", values) for account_id in sorted(people))


def _publish_list(inquiry, event):
    from services import inquiry_questions
    lists = inquiry_questions.lists(inquiry)
    counts = {section: len(rows) for section, rows in lists.items()}
    event.data = {**event.data, "lists": counts}
    event.save()
    digest(inquiry, event, "inquiry_list", {"questions": counts["question"], "difficulties": counts["difficulty"],
                                            "count": counts["question"] + counts["difficulty"]})


@retried
def publish_progress(actor, inquiry):
    """整改进展公布: the office publishes where the listed questions stand (rectified, in 整改, overdue, in a
    二次整改) in the public record, and followers and askers get it as one digest."""
    from services import inquiry_questions
    actor = as_actor(actor)
    require_office(actor, inquiry)
    if inquiry.stage not in ("event", "review", "done"):
        raise Conflict("invalid_stage", "问题清单交被问政对象整改后才能公布整改进展")
    with write_transaction():
        counts = inquiry_questions.progress_counts(inquiry)
        note = (f"整改进展：清单问题{counts['listed']}个，已整改{counts['rectified']}个，整改中{counts['rectifying']}个"
                + (f"（其中逾期{counts['overdue']}个、二次整改{counts['second']}个）" if counts["overdue"] or counts["second"]
                   else "") + (f"，待答复或承诺{counts['waiting']}个" if counts["waiting"] else ""))
        event = record(inquiry, actor, "progress_report", note=note, data=counts)
        digest(inquiry, event, "inquiry_progress_report", counts)
        audit.record(actor, "inquiry.progress_report", ("inquiry", inquiry.code), counts)
    return event


# --- public ------------------------------------------------------------------------------------------

def public_record(inquiry):
    """The inquiry's public record, newest first (stage moves, 测评 results, 二次整改, 追责问责)."""
    return list(inquiry.events.where(InquiryEvent.public == True)  # noqa: E712
                .order_by(InquiryEvent.at.desc(), InquiryEvent.id.desc()))


def form_values(inquiry):
    """The inquiry as its console form shows it (local times as <input type=datetime-local> wants them)."""
    def local(moment_):
        return calendar.local(moment_).strftime("%Y-%m-%dT%H:%M") if moment_ else ""
    listed = objects(inquiry)
    return {"topic": inquiry.topic, "form": inquiry.form, "held_at": local(inquiry.held_at), "place": inquiry.place,
            "description": inquiry.description, "collect_opens": local(inquiry.collect_opens),
            "collect_closes": local(inquiry.collect_closes),
            "consultation": inquiry.consultation.code if inquiry.consultation_id else "",
            "departments": [o.department.code for o in listed if o.department_id],
            "officials": "\n".join(o.name for o in listed if not o.department_id),
            "deputies": [d.code for d in deputies(inquiry)]}


# --- 满意度测评 (a ballot of kind "inquiry" per rating) ----------------------------------------------

def pass_rate():
    """满意率 line under which an object's 整改 goes round again (INQUIRY_PASS_RATE, default 80 %)."""
    return float(setting("INQUIRY_PASS_RATE", 0.8))


@retried
def start_rating(actor, inquiry, data):
    """Open a 测评 of every object: at the event (活动组织) or after 整改 (工作评议); by the deputies taking part,
    or for a 网络问政 also by the public (one vote per WeChat identity). The ballot opens at once."""
    actor = as_actor(actor)
    require_office(actor, inquiry)
    purpose = data.get("purpose")
    if purpose not in INQUIRY_RATING_PURPOSES:
        raise InvalidInput("invalid_choice", "请选择测评类型（现场测评或整改后测评）", field="purpose")
    electorate = data.get("electorate") or "deputies"
    if electorate not in ("deputies", "public") or (electorate == "public" and inquiry.form != "online"):
        raise InvalidInput("invalid_choice", "公众测评只用于网络问政", field="electorate")
    if inquiry.stage != purpose:  # 现场测评 in 活动组织 (event), 整改后测评 in 工作评议 (review)
        raise Conflict("invalid_stage", f"{INQUIRY_RATING_PURPOSES[purpose]}在“{stage_label(purpose)}”阶段举行")
    from services import inquiry_questions
    waiting = inquiry_questions.unfinished(inquiry) if purpose == "review" else 0
    if waiting:
        raise Conflict("not_rectified", f"还有 {waiting} 个问题没有整改完成，整改完成后再测评")
    if InquiryRating.select().join(Ballot).where(
            InquiryRating.inquiry == inquiry, InquiryRating.purpose == purpose, Ballot.electorate == electorate,
            Ballot.state == "open").exists():
        raise Conflict("rating_open", "同类测评正在进行中")
    listed = objects(inquiry)
    title = f"{inquiry.topic} · {INQUIRY_RATING_PURPOSES[purpose]}" + ("（公众）" if electorate == "public" else "")
    with write_transaction():
        ballot = ballots.create(actor, {
            "title": title[:120], "kind": "inquiry", "method": "rate", "electorate": electorate,
            "opens_at": data.get("opens_at"), "closes_at": data.get("closes_at"), "pass_rate": str(pass_rate()),
            "entries": [(o.name[:120], f"o{o.id}") for o in listed], "deputies": [d.code for d in deputies(inquiry)]})
        InquiryRating.create(inquiry=inquiry, ballot=ballot, purpose=purpose)
        ballots.open_ballot(actor, ballot)
        event = record(inquiry, actor, "rating", note=f"{INQUIRY_RATING_PURPOSES[purpose]}开始："
                       f"{'群众可扫码参加' if electorate == 'public' else '参加问政的代表投票'}",
                       data={"ballot": ballot.code, "purpose": purpose, "electorate": electorate})
        tell_followers(inquiry, event, INQUIRY_RATING_PURPOSES[purpose])
    return ballot


def ratings(inquiry):
    """[(InquiryRating, Ballot, result entry or None)] of the inquiry, oldest first; results only when published
    for the public (use `published_results`)."""
    rows = InquiryRating.select(InquiryRating, Ballot).join(Ballot).where(InquiryRating.inquiry == inquiry) \
        .order_by(InquiryRating.id)
    return [(r, r.ballot, ballots.result(r.ballot)) for r in rows]


def published_results(inquiry):
    return [(r, b, found) for r, b, found in ratings(inquiry) if b.state == "published" and found]


def settle(ballot, entry):
    """A 测评 of an inquiry was counted — at closing (entry #1) or by a correction (#2 …; ballots.ON_COUNT, inside
    that transaction). The ONE place for the line: after 整改, an object under it (the count's `flagged`, pass_rate
    = INQUIRY_PASS_RATE; 79.9 % is under, 80 % is not) has its rectified questions opened for 二次整改 with a new
    deadline; an object a correction puts at or above it has the 二次整改 this 测评 opened withdrawn. Each is
    published in the record and told to the followers (the askers hear it on their own question)."""
    rating = InquiryRating.get_or_none(InquiryRating.ballot == ballot)
    if rating is None:
        return
    inquiry = rating.inquiry
    if entry.seq == 1:
        event = record(inquiry, SYSTEM, "rating_closed", data={"ballot": ballot.code},
                       note=f"{ballot.title}结束，共收回 {entry.data['papers']} 张测评票")
        tell_followers(inquiry, event, "测评结束")
    else:  # public; followers hear of what it changes (a 二次整改 opened or withdrawn), not of the entry itself
        record(inquiry, SYSTEM, "rating_corrected", data={"ballot": ballot.code, "seq": entry.seq},
               note=f"{ballot.title}结果更正：{entry.note}"[:1000])
    if rating.purpose != "review":
        return
    from services import inquiry_questions
    line = ballots.percent(entry.data["rules"]["pass_rate"])
    opened = _second_rounds(inquiry, ballot)  # object name -> {number: round} this 测评 sent round again
    refs = {i.id: i.ref for i in ballots.items(ballot)}  # item → "o<inquiry object id>"
    for row in entry.data["items"]:
        target = InquiryObject.get_by_id(int(refs[row["id"]][1:]))
        rate = ballots.percent(row["rate"])
        if row["flagged"] and target.name not in opened:
            reopened = inquiry_questions.second_round(target)
            event = record(inquiry, SYSTEM, "second_round", data={"object": target.name, "rate": row["rate"],
                                                                 "questions": list(reopened), "rounds": reopened,
                                                                 "ballot": ballot.code},
                           note=f"{target.name}满意率 {rate}，低于 {line}，已启动二次整改（{len(reopened)} 个问题）")
            tell_followers(inquiry, event, "启动二次整改", f"{target.name}二次整改")
        elif not row["flagged"] and target.name in opened:
            withdrawn = inquiry_questions.withdraw_second_round(opened[target.name], entry.note)
            event = record(inquiry, SYSTEM, "second_round_withdrawn",
                           data={"object": target.name, "rate": row["rate"], "questions": withdrawn,
                                 "ballot": ballot.code},
                           note=f"测评结果更正：{target.name}满意率 {rate}，不低于 {line}，撤销二次整改"
                                f"（{len(withdrawn)} 个问题）")
            tell_followers(inquiry, event, "撤销二次整改", f"{target.name}满意率达标")


def _second_rounds(inquiry, ballot):
    """{object name: {question number: round}} of the 二次整改 this ballot opened and no correction has withdrawn."""
    opened = {}
    for event in inquiry.events.where(InquiryEvent.action.in_(("second_round", "second_round_withdrawn")))\
            .order_by(InquiryEvent.id):
        if event.data.get("ballot") != ballot.code:
            continue
        if event.action == "second_round":
            opened[event.data["object"]] = event.data.get("rounds") or dict.fromkeys(event.data.get("questions") or [])
        else:
            opened.pop(event.data["object"], None)
    return opened


def results_published(ballot):
    """A 测评's results were published (ballots.ON_PUBLISH): in the record, and to followers and askers as one
    digest — how many objects reached the line and who did not."""
    rating = InquiryRating.get_or_none(InquiryRating.ballot == ballot)
    found = ballots.result(ballot)
    if rating is None or found is None:
        return
    rows = found.data["items"]
    under = [f"{row['name']}{ballots.percent(row['rate'])}" for row in rows if row["flagged"]]
    detail = f"{len(rows) - len(under)}个达标" + (f"，未达标：{'、'.join(under)}" if under else "，全部达标")
    event = record(rating.inquiry, SYSTEM, "rating_published", note=f"{ballot.title}结果公布：{detail}"[:1000],
                   data={"ballot": ballot.code})
    digest(rating.inquiry, event, "inquiry_results", {"purpose": INQUIRY_RATING_PURPOSES[rating.purpose],
                                                      "count": len(rows), "detail": detail[:60]})


ballots.ON_COUNT["inquiry"], ballots.ON_PUBLISH["inquiry"] = settle, results_published


# --- 追责问责 --------------------------------------------------------------------------------------------

@retried
def note_accountability(actor, inquiry, data):
    """An accountability note (追责问责): who was held responsible and how, as the office publishes it."""
    actor = as_actor(actor)
    require_office(actor, inquiry)
    note = text(data, "note", "追责问责情况", limit=1000, minimum=4)
    with write_transaction():
        event = record(inquiry, actor, "accountability", note=f"追责问责：{note}")
        tell_followers(inquiry, event, "追责问责")
        audit.record(actor, "inquiry.accountability", ("inquiry", inquiry.code), {"event": event.id})
    return event
