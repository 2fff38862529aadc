"""履职档案 — the duty record: computed from what deputies did (never typed in afterwards), per deputy and year;
and 述职, the yearly report to the voters built from it. One place for each rule:

- What counts (`record`): reports received through the deputy's code and how they were handled (services/stats
  figures: responded, response time, concluded, classes, 满意率), the deputy's own steps on cases (accepted /
  declined / forwarded / replied, from the timeline), 代表建议 led and co-signed (`suggestions`: Case.kind
  "suggestion" when the case workflow has kinds), reception days on duty and attended (checked in),
  activities invited to and attended by kind, bookings received, ballots taken part in (from `participation`,
  never `paper`: how anyone voted is not known here), projects supervised, 双联系 contacts, the 述职 and its
  评议 result.
- League table (`league`): only deputies of the same level are compared, and a level with fewer than
  DUTY_LEAGUE_MIN deputies is not shown (too few to compare without pointing at a person).
- Inactivity (`inactive`): no check-in, no step on a case and no 双联系 contact for DUTY_INACTIVE_MONTHS.
- 述职 (`schedule`): a third of the serving deputies each year (rounded up), everyone once within the term —
  a deputy whose term ends this year and has not reported is always scheduled.
"""
import datetime as dt
import io
import math

from peewee import fn

from models import (Account, Activity, Attendance, Ballot, Booking, Case, CaseEvent, Contact, Deputy, DutyReport,
                    Participation, Project, ProjectDeputy, utcnow)
from services import audit, ballots, calendar, notify, stats
from services.activities import KINDS
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.vocab import ANSWER_CLASSES, setting
from services.workflow import as_actor, retried, write_transaction

STEPS = {"accept": "受理", "decline": "不予受理", "forward": "转交人大办", "reply": "回复群众", "opinion": "提出意见"}
WORDS_LIMIT = 3000


def _bounds(year):
    return calendar.utc_start(dt.date(year, 1, 1)), calendar.utc_start(dt.date(year + 1, 1, 1))


def account_of(deputy):
    return Account.get_or_none(Account.deputy == deputy, Account.role == "deputy")


def _has_kinds():
    return "kind" in Case._meta.fields


SUGGESTION_GONE = ("draft", "withdrawn")  # a suggestion counts once it was handed in and not taken back


def suggestions(deputy_ids, year):
    """{deputy id: 代表建议 of the year led and co-signed, the led ones' answer classes, the deputy's 测评}, or None
    while the case workflow has no suggestion kind. Reads the suggestion kind's tables (issue 17): `Signer`
    (lead / co, a co-signer counting once confirmed) and `Evaluation` (the signers' 测评 of the answer); without a
    `Signer` table the lead is the case's deputy."""
    if not _has_kinds():
        return None
    import models
    start, end = _bounds(year)
    signer, evaluation = getattr(models, "Signer", None), getattr(models, "Evaluation", None)
    found = {i: {"led": 0, "cosigned": 0, "classes": {k: 0 for k in ANSWER_CLASSES}, "evaluated": 0,
                 "satisfied": 0} for i in deputy_ids}
    year_of = [Case.kind == "suggestion", Case.state.not_in(SUGGESTION_GONE), Case.submitted_at >= start,
               Case.submitted_at < end]
    if signer is not None:
        who = signer.deputy
        led = (Case.select(who, Case.answer_class, fn.COUNT(Case.id)).join(signer, on=(signer.case == Case.id))
               .where(who.in_(deputy_ids), signer.role == "lead", *year_of))
        for deputy_id, n in (Case.select(who, fn.COUNT(Case.id)).join(signer, on=(signer.case == Case.id))
                             .where(who.in_(deputy_ids), signer.role == "co", signer.confirmed_at.is_null(False),
                                    *year_of).group_by(who).tuples()):
            found[deputy_id]["cosigned"] = n
    else:
        who = Case.deputy
        led = Case.select(who, Case.answer_class, fn.COUNT(Case.id)).where(who.in_(deputy_ids), *year_of)
    for deputy_id, answer_class, n in led.group_by(who, Case.answer_class).tuples():
        found[deputy_id]["led"] += n
        if answer_class in ANSWER_CLASSES:
            found[deputy_id]["classes"][answer_class] += n
    if evaluation is not None and hasattr(evaluation, "result"):
        for deputy_id, result, n in (evaluation.select(evaluation.deputy, evaluation.result, fn.COUNT(evaluation.id))
                                     .where(evaluation.deputy.in_(deputy_ids), evaluation.created_at >= start,
                                            evaluation.created_at < end)
                                     .group_by(evaluation.deputy, evaluation.result).tuples()):
            found[deputy_id]["evaluated"] += n
            found[deputy_id]["satisfied"] += n if result in stats.SATISFIED else 0
    return found


def questions(deputy_ids, year):
    """{deputy id: {"asked", "listed"}}: questions the deputy put to a 问政 in the year (the inquiry kind: a question
    whose asker is the deputy's account) and how many went into the 问题清单; None without that kind."""
    if not _has_kinds():
        return None
    from services.inquiry_questions import IN_LIST
    start, end = _bounds(year)
    found = {i: {"asked": 0, "listed": 0} for i in deputy_ids}
    for deputy_id, state, n in (Case.select(Account.deputy, Case.state, fn.COUNT(Case.id))
                                .join(Account, on=(Case.reporter == Account.id))
                                .where(Case.kind == "inquiry", Account.role == "deputy", Account.deputy.in_(deputy_ids),
                                       Case.submitted_at >= start, Case.submitted_at < end)
                                .group_by(Account.deputy, Case.state).tuples()):
        found[deputy_id]["asked"] += n
        found[deputy_id]["listed"] += n if state in IN_LIST else 0
    return found


def record(deputy, year):
    """The year's 履职档案 of one deputy, as a plain dict (the pages, the league table and the 述职报告 read it)."""
    return records([deputy], year)[0]


def records(deputies, year):
    """The records of many deputies at once (one grouped query per part, so the league table of a county's
    hundreds of deputies costs what one record does), in the order given."""
    start, end = _bounds(year)
    now = utcnow()
    ids = [d.id for d in deputies]
    reports_only = [Case.kind == "report"] if _has_kinds() else []
    scope = {"start": dt.date(year, 1, 1), "end": dt.date(year + 1, 1, 1), **({"kind": "report"} if _has_kinds()
                                                                                else {})}
    if len(ids) == 1:
        scope["deputy"] = ids[0]
    figures = {row["key"]: row for row in stats.figures(by="deputy", live=True, **scope)}
    blank = stats.figures(live=True, deputy=-1)
    steps = {i: {name: 0 for name in STEPS} for i in ids}
    for deputy_id, action, n in (CaseEvent.select(Account.deputy, CaseEvent.action, fn.COUNT(CaseEvent.id))
                                 .join(Account, on=(CaseEvent.actor == Account.id))
                                 .where(Account.role == "deputy", Account.deputy.in_(ids),
                                        CaseEvent.action.in_(list(STEPS)), CaseEvent.at >= start, CaseEvent.at < end)
                                 .group_by(Account.deputy, CaseEvent.action).tuples()):
        steps[deputy_id][action] = n
    classes = {i: {k: 0 for k in ANSWER_CLASSES} for i in ids}
    for deputy_id, answer_class, n in (Case.select(Case.deputy, Case.answer_class, fn.COUNT(Case.id)).where(
            Case.deputy.in_(ids), Case.submitted_at >= start, Case.submitted_at < end, Case.answer_class != "",
            *reports_only).group_by(Case.deputy, Case.answer_class).tuples()):
        classes[deputy_id][answer_class] = n
    receptions = {i: {"duty": 0, "attended": 0} for i in ids}
    attended = {i: {kind: {"invited": 0, "attended": 0} for kind in KINDS if kind != "reception"} for i in ids}
    for deputy_id, kind, role, checked_in_at in (  # what has started (or was checked in early), not cancelled
            Attendance.select(Attendance.deputy, Activity.kind, Attendance.role, Attendance.checked_in_at)
            .join(Activity).where(Attendance.deputy.in_(ids), Activity.state == "planned", Activity.starts_at >= start,
                                  Activity.starts_at < end,
                                  (Activity.starts_at < now) | Attendance.checked_in_at.is_null(False)).tuples()):
        entry = receptions[deputy_id] if kind == "reception" else attended[deputy_id][kind]
        entry["duty" if kind == "reception" else "invited"] += role == ("duty" if kind == "reception" else "invited")
        entry["attended"] += checked_in_at is not None
    ballots_by_kind = {i: {} for i in ids}
    voters = {f"d{i}": i for i in ids}
    for voter, kind, n in (Participation.select(Participation.voter, Ballot.kind, fn.COUNT(Participation.id))
                           .join(Ballot).where(Participation.voter.in_(list(voters)), Ballot.opens_at >= start,
                                               Ballot.opens_at < end)
                           .group_by(Participation.voter, Ballot.kind).tuples()):
        ballots_by_kind[voters[voter]][ballots.KINDS.get(kind, kind)] = n
    projects = {i: [] for i in ids}
    for link in (ProjectDeputy.select(ProjectDeputy, Project).join(Project)
                 .where(ProjectDeputy.deputy.in_(ids), Project.year == year).order_by(Project.code)):
        projects[link.deputy_id].append(link.project)
    bookings = dict(Booking.select(Booking.deputy, fn.COUNT(Booking.id)).join(Activity).where(
        Booking.deputy.in_(ids), Booking.state == "booked", Activity.starts_at >= start, Activity.starts_at < end)
        .group_by(Booking.deputy).tuples())
    contacts = dict(Contact.select(Contact.deputy, fn.COUNT(Contact.id)).where(
        Contact.deputy.in_(ids), Contact.day >= dt.date(year, 1, 1), Contact.day < dt.date(year + 1, 1, 1))
        .group_by(Contact.deputy).tuples())
    reports = {r.deputy_id: r for r in DutyReport.select().where(DutyReport.deputy.in_(ids), DutyReport.year == year)}
    led = suggestions(ids, year)
    asked = questions(ids, year)
    rows = []
    for deputy in deputies:
        f = figures.get(deputy.id, blank)
        report = reports.get(deputy.id)
        rows.append({
            "deputy": deputy, "year": year,
            "reports": {"received": f["total"], "responded": f["responded"],
                        "avg_response_hours": (round(f["response_seconds"] / 3600 / f["responded"], 1)
                                               if f["responded"] else None),
                        "concluded": f["concluded"], "rated": f["rated"], "satisfied": f["satisfied"],
                        "satisfaction_rate": f["satisfaction_rate"], "classes": classes[deputy.id]},
            "steps": steps[deputy.id],
            "suggestions": led[deputy.id] if led is not None else None,
            "receptions": receptions[deputy.id],
            "bookings": bookings.get(deputy.id, 0),
            "activities": attended[deputy.id],
            "activities_attended": sum(a["attended"] for a in attended[deputy.id].values()),
            "questions": asked[deputy.id] if asked is not None else None,
            "ballots": sum(ballots_by_kind[deputy.id].values()), "ballots_by_kind": ballots_by_kind[deputy.id],
            "projects": projects[deputy.id], "contacts": contacts.get(deputy.id, 0),
            "duty_report": report, "review": _review(report),
        })
    return rows


def _review(report):
    """The 述职评议 of a report: its ballot, state, and once published the 满意率 and how many marked it."""
    if report is None or not report.ballot_id:
        return None
    found = ballots.result(report.ballot)
    item = found.data["items"][0] if found is not None and found.data.get("items") else None
    published = item is not None and report.ballot.state == "published"
    return {"ballot": report.ballot, "state": report.ballot.state, "rate": item["rate"] if published else None,
            "marked": item["marked"] if published else None}


def total(entry):
    """履职次数 for the league table: reception days attended, activities attended, the deputy's own steps on
    cases, ballots taken part in."""
    return (entry["receptions"]["attended"] + entry["activities_attended"] + sum(entry["steps"].values())
            + entry["ballots"])


def league(year, level=None):
    """Deputies compared with their like: one table per level, each sorted by 履职次数; a level with fewer than
    DUTY_LEAGUE_MIN serving deputies is listed as hidden (no table)."""
    from services.directory import DEPUTY_LEVELS, serving
    minimum = setting("DUTY_LEAGUE_MIN", 5)
    query = Deputy.select().where(serving())
    if level:
        query = query.where(Deputy.level == level)
    by_level = {}
    for deputy in query.order_by(Deputy.code):
        by_level.setdefault(deputy.level, []).append(deputy)
    tables = []
    for key, deputies in sorted(by_level.items(), key=lambda kv: list(DEPUTY_LEVELS).index(kv[0])
                                if kv[0] in DEPUTY_LEVELS else 99):
        label = DEPUTY_LEVELS.get(key, key)
        if len(deputies) < minimum:
            tables.append({"level": key, "label": label, "size": len(deputies), "hidden": True, "rows": []})
            continue
        rows = records(deputies, year)
        for row in rows:
            row["total"] = total(row)
        rows.sort(key=lambda r: (-r["total"], r["deputy"].code))
        tables.append({"level": key, "label": label, "size": len(deputies), "hidden": False, "rows": rows})
    return {"minimum": minimum, "tables": tables}


def public_summary(deputy, year=None):
    """The short summary on the 代表码 page: this year's figures people can read in a glance."""
    entry = record(deputy, year or calendar.today().year)
    return {"year": entry["year"], "receptions": entry["receptions"]["attended"],
            "activities": entry["activities_attended"], "received": entry["reports"]["received"],
            "responded": entry["reports"]["responded"], "concluded": entry["reports"]["concluded"],
            "projects": len(entry["projects"]), "review": entry["review"]}


# --- inactivity ---------------------------------------------------------------------------------------------

def last_active(deputies):
    """{deputy id: the last time they checked in, took a step on a case or were contacted (双联系), or None}."""
    ids = [d.id for d in deputies]
    found = {i: [] for i in ids}
    for query in (Attendance.select(Attendance.deputy, fn.MAX(Attendance.checked_in_at))
                  .where(Attendance.deputy.in_(ids)).group_by(Attendance.deputy),
                  CaseEvent.select(Account.deputy, fn.MAX(CaseEvent.at)).join(Account, on=(CaseEvent.actor == Account.id))
                  .where(Account.role == "deputy", Account.deputy.in_(ids)).group_by(Account.deputy),
                  Contact.select(Contact.deputy, fn.MAX(Contact.day)).where(Contact.deputy.in_(ids))
                  .group_by(Contact.deputy)):
        for deputy_id, moment in query.tuples():
            if moment:
                found[deputy_id].append(_moment(moment))
    return {i: max(m) if m else None for i, m in found.items()}


def _moment(value):
    """A MAX() read back (a datetime, a date, or their text on SQLite) as a naive UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
    return value if isinstance(value, dt.datetime) else calendar.utc_start(value)


def inactive(months=None, now=None):
    """Serving deputies with no activity in the last N months (DUTY_INACTIVE_MONTHS): [(deputy, last active)]."""
    from services.directory import serving
    months = months or setting("DUTY_INACTIVE_MONTHS", 3)
    since = (now or utcnow()) - dt.timedelta(days=30 * months)
    deputies = list(Deputy.select().where(serving()).order_by(Deputy.code))
    last = last_active(deputies)
    return [(d, last[d.id]) for d in deputies if last[d.id] is None or last[d.id] < since]


@retried
def remind_inactive(now=None):
    """The remind_inactive_deputies job: a gentle reminder to each inactive deputy, once a month."""
    month = calendar.local(now or utcnow()).strftime("%Y-%m")
    months = setting("DUTY_INACTIVE_MONTHS", 3)
    written = 0
    for deputy, _ in inactive(months, now):
        account = account_of(deputy)
        if account is None or not account.active:
            continue
        upcoming = Activity.select().join(Attendance).where(
            Attendance.deputy == deputy, Activity.state == "planned", Activity.starts_at > utcnow()).count()
        with write_transaction():
            written += notify.write(account, "duty_inactive", f"inactive:{deputy.id}:{month}",
                                    {"months": months, "name": deputy.name, "upcoming": upcoming})
    return {"reminded": written}


# --- figures for the office ------------------------------------------------------------------------------

def station_figures(year, today=None):
    """Per station: reception days planned (up to today), held (at least one check-in), cancelled, bookings,
    check-ins."""
    from models import Station
    today = today or calendar.today()
    start, _ = _bounds(year)
    until = min(_bounds(year)[1], calendar.utc_start(today + dt.timedelta(days=1)))
    rows = []
    for station in Station.select().order_by(Station.path):
        days = list(Activity.select().where(Activity.station == station, Activity.kind == "reception",
                                            Activity.starts_at >= start, Activity.starts_at < until))
        if not days:
            continue
        ids = [d.id for d in days if d.state == "planned"]
        checked = (Attendance.select(Attendance.activity).where(Attendance.activity.in_(ids),
                                                                Attendance.checked_in_at.is_null(False))
                   if ids else [])
        held = {a.activity_id for a in checked}
        rows.append({"station": station, "planned": len(ids), "held": len(held),
                     "cancelled": sum(1 for d in days if d.state == "cancelled"),
                     "bookings": Booking.select().where(Booking.activity.in_(ids), Booking.state == "booked").count()
                     if ids else 0,
                     "checkins": Attendance.select().where(Attendance.activity.in_(ids),
                                                           Attendance.checked_in_at.is_null(False)).count()
                     if ids else 0})
    return rows


# --- 述职 ----------------------------------------------------------------------------------------------------

def _staff(actor):
    if as_actor(actor).role not in ("staff", "admin", "system"):
        raise Forbidden("not_permitted", "只有人大工作人员可以安排述职")


@retried
def schedule(actor, year):
    """Schedule this year's 述职: a third of the deputies serving this year (rounded up), those whose term ends
    soonest first, every deputy whose term ends this year and has not reported in it. Returns the new rows."""
    _staff(actor)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    serving = list(Deputy.select().where((Deputy.term_start.is_null() | (Deputy.term_start <= last)),
                                         (Deputy.term_end.is_null() | (Deputy.term_end >= first))))
    reported = {r.deputy_id: r.year for r in DutyReport.select()}
    due = []
    for deputy in serving:
        since = deputy.term_start.year if deputy.term_start else year - 4
        if deputy.id in reported and reported[deputy.id] >= since:
            continue
        due.append(deputy)
    due.sort(key=lambda d: (d.term_end or dt.date(9000, 1, 1), d.code))
    already = DutyReport.select().where(DutyReport.year == year).count()
    quota = max(0, math.ceil(len(serving) / 3) - already)
    must = [d for d in due if d.term_end and d.term_end.year <= year]
    chosen = must + [d for d in due if d not in must][:max(0, quota - len(must))]
    with write_transaction():
        rows = [DutyReport.create(deputy=d, year=year, scheduled_by=as_actor(actor).account) for d in chosen]
        audit.record(as_actor(actor).account, "duty.schedule", ("year", str(year)), {"deputies": len(rows)})
    return rows


@retried
def schedule_one(actor, deputy, year):
    _staff(actor)
    with write_transaction():
        if DutyReport.select().where(DutyReport.deputy == deputy, DutyReport.year == year).exists():
            raise Conflict("already_scheduled", f"{deputy.name}已安排在{year}年述职")
        return DutyReport.create(deputy=deputy, year=year, scheduled_by=as_actor(actor).account)


def scheduled(year):
    return list(DutyReport.select().join(Deputy).where(DutyReport.year == year).order_by(Deputy.code))


def report_of(deputy, year):
    report = DutyReport.get_or_none(DutyReport.deputy == deputy, DutyReport.year == year)
    if report is None:
        raise NotFound("not_scheduled", f"{year}年没有安排这位代表述职")
    return report


@retried
def set_words(actor, report, words):
    """The deputy's own words in the 述职报告 (the deputy themselves, or staff for them)."""
    actor = as_actor(actor)
    own = actor.role == "deputy" and actor.account.deputy_id == report.deputy_id
    if not (actor.role in ("staff", "admin") or own):
        raise Forbidden("not_permitted", "只有代表本人或工作人员可以修改述职内容")
    words = str(words or "").strip()
    if len(words) > WORDS_LIMIT:
        raise InvalidInput("too_long", f"述职内容请不超过{WORDS_LIMIT}字")
    with write_transaction():
        DutyReport.update(own_words=words, updated_at=utcnow()).where(DutyReport.id == report.id).execute()
        audit.record(actor, "duty.words", ("deputy", report.deputy.code), {"year": report.year})
    report.own_words = words
    return report


@retried
def start_review(actor, report, form):
    """述职评议: a 测评 ballot (kind duty_review, one item: the deputy) by the public through the 代表码 page (one vote
    per WeChat identity), or by the listed deputies (a township 主席团); opened at once."""
    _staff(actor)
    if report.ballot_id:
        raise Conflict("review_exists", "该代表的述职评议已经发起")
    electorate = "deputies" if form.get("electorate") == "deputies" else "public"
    data = {"title": f"{report.deputy.name}代表{report.year}年度述职评议", "kind": "duty_review", "method": "rate",
            "electorate": electorate, "opens_at": form.get("opens_at"), "closes_at": form.get("closes_at"),
            "items": report.deputy.name, "deputies": form.get("deputies") or []}
    with write_transaction():
        ballot = ballots.create(actor, data)
        DutyReport.update(ballot=ballot, updated_at=utcnow()).where(DutyReport.id == report.id,
                                                                   DutyReport.ballot.is_null()).execute()
        ballots.open_ballot(actor, ballot)
    report.ballot = ballot
    return ballot


def open_review(deputy):
    """The deputy's public 述职评议 open now (the 代表码 page links to it), or None."""
    now = utcnow()
    return (Ballot.select().join(DutyReport, on=(DutyReport.ballot == Ballot.id))
            .where(DutyReport.deputy == deputy, Ballot.electorate == "public", Ballot.state == "open",
                   Ballot.opens_at <= now, Ballot.closes_at > now).first())


# --- the 述职报告 draft: .docx and PDF ------------------------------------------------------------------------

def _percent(rate):
    return stats.percent(rate)


def draft_sections(entry):
    """The 述职报告's text from the record: [(heading, [paragraph, …])] — the one source of the .docx and PDF."""
    deputy, year, r = entry["deputy"], entry["year"], entry["reports"]
    from services.directory import DEPUTY_LEVELS
    station = deputy.station.name if deputy.station_id else "所在联络站"
    sections = [("一、基本情况", [
        f"{deputy.name}，{DEPUTY_LEVELS.get(deputy.level, deputy.level)}"
        + (f"，选区：{deputy.constituency}" if deputy.constituency else "") + f"，编入{station}。"
        f"现将{year}年度履职情况报告如下，请各位选民评议。"])]
    receptions = entry["receptions"]
    sections.append(("二、接待选民、联系群众", [
        f"全年安排接待选民日值班{receptions['duty']}次，到站签到接待{receptions['attended']}次，"
        f"接受群众预约约见{entry['bookings']}人次；常委会组成人员联系本人{entry['contacts']}次。"]))
    attended = [f"{KINDS[k]}{v['attended']}次" for k, v in entry["activities"].items() if v["attended"]]
    sections.append(("三、参加视察调研等活动", [
        f"全年参加活动{entry['activities_attended']}次" + (f"，其中{'、'.join(attended)}。" if attended else "。")]))
    classes = "、".join(f"{k}类{n}件" for k, n in r["classes"].items() if n)
    steps = entry["steps"]
    sections.append(("四、反映群众意见建议", [
        f"通过代表码等渠道收到群众反映{r['received']}件，本人受理{steps['accept']}件、转交人大办{steps['forward']}件、"
        f"不予受理并说明理由{steps['decline']}件，回复群众{steps['reply']}次"
        + (f"，平均{r['avg_response_hours']}小时内作出响应" if r["avg_response_hours"] is not None else "") + "。",
        f"已办结{r['concluded']}件" + (f"（{classes}）" if classes else "") + f"，群众评价{r['rated']}件，"
        f"满意（含基本满意）{r['satisfied']}件，满意率{_percent(r['satisfaction_rate'])}。"]))
    if entry["suggestions"] is not None:
        s = entry["suggestions"]
        classes = "、".join(f"{k}类{n}件" for k, n in s["classes"].items() if n)
        sections.append(("五、提出代表建议", [
            f"领衔提出代表建议{s['led']}件，附议{s['cosigned']}件" + (f"；已答复的{classes}" if classes else "")
            + (f"；对答复测评{s['evaluated']}次，满意（含基本满意）{s['satisfied']}次" if s["evaluated"] else "") + "。"]))
    if entry["questions"] and entry["questions"]["asked"]:
        sections[-1][1].append(f"在问政中提出问题{entry['questions']['asked']}个，"
                               f"列入问题清单{entry['questions']['listed']}个。")
    sections.append(("六、参加表决和监督", [
        f"参加各类表决、测评{entry['ballots']}次"
        + (f"（{'、'.join(f'{k}{n}次' for k, n in entry['ballots_by_kind'].items())}）" if entry["ballots_by_kind"] else "")
        + "。", (f"领办监督民生实事项目{len(entry['projects'])}个：" + "、".join(p.name for p in entry["projects"]) + "。")
        if entry["projects"] else "本年度未领办民生实事项目。"]))
    report = entry["duty_report"]
    if report is not None and report.own_words:
        sections.append(("七、本人述职", [p.strip() for p in report.own_words.splitlines() if p.strip()]))
    if entry["review"] and entry["review"]["rate"] is not None:
        sections.append(("八、述职评议结果", [f"参加评议{entry['review']['marked']}人，满意率{_percent(entry['review']['rate'])}。"]))
    return sections


def title_of(entry):
    return f"{entry['deputy'].name}代表{entry['year']}年度述职报告"


def draft_docx(deputy, year):
    """The draft 述职报告 as .docx (python-docx), for the county to edit in Word or WPS."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt
    entry = record(deputy, year)
    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "宋体", Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    document.add_heading(title_of(entry), level=0)
    for heading, paragraphs in draft_sections(entry):
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "项目", "数量"
    for label, value in figure_rows(entry):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, str(value)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def figure_rows(entry):
    return [("接待选民日值班（次）", entry["receptions"]["duty"]), ("接待选民日到站（次）", entry["receptions"]["attended"]),
            ("群众预约约见（人次）", entry["bookings"]), ("参加活动（次）", entry["activities_attended"]),
            ("收到群众反映（件）", entry["reports"]["received"]), ("作出响应（件）", entry["reports"]["responded"]),
            ("已办结（件）", entry["reports"]["concluded"]), ("参加表决（次）", entry["ballots"]),
            ("领办项目（个）", len(entry["projects"]))]


def draft_pdf(deputy, year):
    """The same draft as PDF (ReportLab, with its built-in Chinese font STSong-Light: no font file needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
    from xml.sax.saxutils import escape
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    entry = record(deputy, year)
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK",
                          firstLineIndent=24)
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=24, firstLineIndent=0, spaceBefore=8)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=28, alignment=1, firstLineIndent=0)
    story = [Paragraph(escape(title_of(entry)), title), Spacer(1, 6 * mm)]
    for heading, paragraphs in draft_sections(entry):
        story.append(Paragraph(escape(heading), head))
        story += [Paragraph(escape(text), body) for text in paragraphs]
    story += [Spacer(1, 6 * mm), Table([["项目", "数量"]] + [[k, str(v)] for k, v in figure_rows(entry)],
                                       style=[("FONT", (0, 0), (-1, -1), "STSong-Light", 11),
                                              ("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0))])]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title_of(entry), leftMargin=25 * mm, rightMargin=25 * mm,
                      topMargin=25 * mm, bottomMargin=25 * mm).build(story)
    return out.getvalue()
