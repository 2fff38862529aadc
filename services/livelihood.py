"""民生实事项目票决制 — from the yearly call for candidates to the deputies' vote, the projects and the year-end 测评.

1. 项目征集: the year's call is a consultation of kind `project` on the 征集 engine (services/consultations.py:
   its H5 page, the mini-program, the official account, station codes and paper opinions are the doors). Staff turn
   each opinion worth it into a proposal (`adopt`: what, where, why, rough cost — a ProjectCandidate linked to
   the opinion), add the government's own candidates, merge proposals that say the same (`merged_into`) and screen
   them into the candidate list (`listed`) with estimated budgets and responsible departments, or out with a
   reason; screening answers the opinion behind it (采纳 / 部分采纳 / 未采纳), so the engine's published replies
   tell every proposer what became of theirs.
2. 票决: a 选择 ballot of the 表决 engine (kind project_vote) — the listed candidates as items (ref "c<id>"),
   more candidates than places (差额), the session's deputies as the electorate, passing with more than
   PROJECT_VOTE_THRESHOLD of ALL deputies; ties for the last places go to the engine's re-vote.
3. `apply_result`: each winner becomes a Project linked back to its candidate (and so to the proposals merged
   into it); the proposers follow it and are told, those not elected are told too.
4. Year end: a 测评 ballot (kind project_review, items ref "p<project id>") rates each project; published results
   flag those under PROJECT_PASS_RATE (80 %) and their departments are told to 整改.
"""
from peewee import fn

from models import (Account, Ballot, BallotItem, Counter, Deputy, Department, Follow, KeyValue, Milestone, Opinion,
                    Project, ProjectCandidate, ProjectDeputy, ProjectUpdate, Station, is_mysql)
from services import audit, ballots, calendar, consultations, notify
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.money import fen, yuan
from services.projects import by_code
from services.vocab import setting
from services.workflow import as_actor, number, retried, text, write_transaction

SOURCES = {"citizen": "群众", "deputy": "人大代表", "government": "政府部门", "staff": "人大工作人员"}
CHANNELS = {"h5": "网页", "miniprogram": "小程序", "official_account": "公众号", "station": "联络站二维码",
            "console": "工作台"}
STATES = {"proposed": "待筛选", "listed": "列入候选项目", "merged": "已合并", "screened_out": "未列入候选",
          "elected": "票决当选", "not_elected": "未当选"}
ON_LIST = ("listed", "elected", "not_elected")


def _staff(actor):
    if as_actor(actor).role not in ("staff", "admin"):
        raise Forbidden("not_permitted", "只有人大工作人员可以办理项目征集和票决")


def call_year():
    """The year the call is for: PROJECT_CALL_YEAR, else next year (the 人代会 early in the year votes on it)."""
    return int(setting("PROJECT_CALL_YEAR", 0) or calendar.today().year + 1)


# --- 项目征集 --------------------------------------------------------------------------------------

OPINION_CHANNELS = {"h5": "h5", "miniprogram": "miniprogram", "oa": "official_account", "paper": "station"}


def _call_key(year):
    return f"project_call:{year}"


def call_of(year):
    """The year's 项目征集 consultation, or None."""
    from models import Consultation
    row = KeyValue.get_or_none(KeyValue.key == _call_key(year))
    return Consultation.get_or_none(Consultation.code == row.value) if row else None


@retried
def open_call(actor, year, data):
    """The yearly call for candidates: a 项目征集 consultation (open questions, public unless stations are named),
    remembered as the year's call. It is opened, closed and published on the 征集 engine's console page."""
    _staff(actor)
    if call_of(year) is not None:
        raise Conflict("call_exists", f"{year}年的民生实事项目征集已经发布")
    with write_transaction():
        found = consultations.create(actor, {
            "title": f"{year}年民生实事项目征集", "kind": "project", "mode": "questions",
            "audience": "stations" if data.get("stations") else "public",
            "intro": data.get("intro") or f"请您提出希望{year}年办理的民生实事项目：做什么、在哪里、为什么、大约需要多少钱。"
                                          "收集的建议经筛选后形成候选项目，由人大代表在人民代表大会上票决。",
            "questions": data.get("questions") or f"您建议{year}年办理哪件民生实事？（做什么、在哪里、为什么、大约需要多少钱）",
            **{k: data.get(k) for k in ("opens_at", "closes_at", "stations")}})
        KeyValue.create(key=_call_key(year), value=found.code)
    return found


def waiting_opinions(year):
    """The call's opinions not yet turned into a proposal, oldest first."""
    found = call_of(year)
    if found is None:
        return []
    taken = ProjectCandidate.select(ProjectCandidate.opinion).where(ProjectCandidate.opinion.is_null(False))
    return list(found.opinions.where(Opinion.id.not_in(taken)).order_by(Opinion.created_at, Opinion.id))


@retried
def adopt(actor, opinion, data):
    """An opinion of the year's call becomes a proposal (its what / where / rough cost read by staff from the
    opinion's text, which stays its 理由); its author is the proposer and hears of the outcome."""
    _staff(actor)
    consultation = opinion.consultation
    year = next((int(k.key.rsplit(":", 1)[1]) for k in KeyValue.select().where(
        KeyValue.key.startswith("project_call:"), KeyValue.value == consultation.code)), None)
    if year is None:
        raise InvalidInput("not_a_call", "这条意见不属于民生实事项目征集")
    author = opinion.author
    fields = dict(name=text(data, "name", "项目名称（做什么）", limit=120, minimum=4),
                  location=text(data, "location", "地点（在哪里）", limit=200, minimum=2),
                  reason=text(data, "reason", "理由", required=False, limit=2000) or opinion.text,
                  estimate=fen(data, "estimate", "估算费用", required=False) or 0,
                  department=by_code(Department, data.get("department"), "责任单位"))
    with write_transaction():
        if ProjectCandidate.select().where(ProjectCandidate.opinion == opinion.id).exists():
            raise Conflict("already_adopted", "这条意见已经转为项目建议")
        return ProjectCandidate.create(
            year=year, source="deputy" if author and author.role == "deputy" else "citizen",
            channel="station" if opinion.station_id else OPINION_CHANNELS.get(opinion.channel, "h5"),
            proposer=author, deputy=author.deputy if author and author.role == "deputy" else None,
            station=opinion.station, opinion=opinion, **fields)


def _answer_opinion(actor, candidate, decision, reason):
    """Screening answers the 征集 opinion behind a proposal, unless its replies are already published."""
    if candidate.opinion_id is None:
        return
    opinion = Opinion.get_by_id(candidate.opinion_id)
    if opinion.consultation.state in ("open", "closed"):
        consultations.answer(actor, opinion, {"decision": decision, "reason": reason})


@retried
def propose(who, data):
    """A proposal typed in the console: a department's (政府部门), or one staff enter as the government's (listed at
    once) or as their own (人大工作人员). Citizens and deputies propose through the call (`adopt`)."""
    actor = as_actor(who)
    role = actor.role
    if role not in ("department", "staff", "admin"):
        raise Forbidden("not_permitted", "群众和代表请通过民生实事项目征集提出建议")
    source = "government" if role == "department" or data.get("source") == "government" else "staff"
    year = number(data, "year", "年度", 2000, 2100) if role in ("staff", "admin") and data.get("year") else call_year()
    fields = dict(name=text(data, "name", "项目名称（做什么）", limit=120, minimum=4),
                  location=text(data, "location", "地点（在哪里）", limit=200, minimum=2),
                  reason=text(data, "reason", "理由（为什么）", limit=2000, minimum=4),
                  estimate=fen(data, "estimate", "估算费用", required=False) or 0)
    department = actor.account.department if role == "department" else by_code(
        Department, data.get("department"), "责任单位")
    station = Station.get_or_none(Station.code == str(data.get("station") or "")[:16]) if data.get("station") else None
    with write_transaction():
        candidate = ProjectCandidate.create(
            year=year, source=source, channel="console", proposer=actor.account, station=station,
            department=department, state="listed" if source == "government" and role != "department" else "proposed",
            **fields)
    return candidate


def get(candidate_id):
    found = ProjectCandidate.get_or_none(ProjectCandidate.id == candidate_id)
    if found is None:
        raise NotFound("no_candidate", "没有找到这个项目建议")
    return found


def proposals(year):
    return list(ProjectCandidate.select().where(ProjectCandidate.year == year).order_by(ProjectCandidate.id))


def candidate_list(year):
    """The candidates on the list (with how many proposals each stands for), in the order they were listed."""
    rows = list(ProjectCandidate.select().where(ProjectCandidate.year == year, ProjectCandidate.state.in_(ON_LIST))
                .order_by(ProjectCandidate.id))
    merged = dict(ProjectCandidate.select(ProjectCandidate.merged_into, fn.COUNT(ProjectCandidate.id)).where(
        ProjectCandidate.merged_into.in_([c.id for c in rows] or [0])).group_by(ProjectCandidate.merged_into).tuples())
    for row in rows:
        row.proposal_count = 1 + merged.get(row.id, 0)
    return rows


@retried
def screen(actor, candidate, data):
    """Staff's screening before the vote: list (with name, budget, department), merge into another proposal, or
    screen out with the reason."""
    _staff(actor)
    action = data.get("action")
    if candidate.state not in ("proposed", "listed"):
        raise Conflict("state_changed", "这个项目建议已经处理过了")
    if _on_ballot(candidate):
        raise Conflict("on_ballot", "这个候选项目已经提交票决，不能再修改")
    with write_transaction():
        if action == "list":
            candidate.name = text(data, "name", "项目名称", limit=120, minimum=4) if data.get("name") else candidate.name
            candidate.estimate = fen(data, "estimate", "估算预算", required=False) or candidate.estimate
            candidate.department = by_code(Department, data.get("department"), "责任单位") or candidate.department
            if not candidate.department or not candidate.estimate:
                raise InvalidInput("incomplete", "列入候选项目须填写估算预算和责任单位")
            candidate.state, candidate.note = "listed", text(data, "note", "说明", required=False, limit=500)
            _answer_opinion(actor, candidate, "adopted", f"已列入{candidate.year}年民生实事候选项目“{candidate.name}”，"
                                                          "将提请人民代表大会票决")
        elif action == "merge":
            target = ProjectCandidate.get_or_none(ProjectCandidate.id == data.get("into"),
                                                  ProjectCandidate.year == candidate.year)
            if target is None or target.id == candidate.id or target.state not in ("proposed", "listed"):
                raise InvalidInput("bad_merge", "请选择要合并到的项目建议（同一年度、尚未合并）", field="into")
            candidate.state, candidate.merged_into = "merged", target
            candidate.note = text(data, "note", "合并说明", required=False, limit=500) or f"与“{target.name}”合并"
            ProjectCandidate.update(merged_into=target).where(ProjectCandidate.merged_into == candidate.id).execute()
            _answer_opinion(actor, candidate, "partly", f"与相同建议合并为“{target.name}”一并筛选")
        elif action == "screen_out":
            candidate.state, candidate.note = "screened_out", text(data, "note", "未列入的理由", limit=500, minimum=4)
            _answer_opinion(actor, candidate, "rejected", candidate.note)
        else:
            raise InvalidInput("invalid_choice", "请选择列入、合并或不列入")
        candidate.save()
        audit.record(as_actor(actor).account, f"candidate.{action}", ("candidate", candidate.id), {})
    return candidate


def _on_ballot(candidate):
    return BallotItem.select().where(BallotItem.ref == f"c{candidate.id}").exists()


def session_deputies():
    """The electorate of the 人代会's vote: every county-level deputy (PROJECT_VOTE_LEVEL)."""
    return list(Deputy.select().where(Deputy.level == setting("PROJECT_VOTE_LEVEL", "county")).order_by(Deputy.code))


def start_vote(actor, year, data):
    """The 票决 ballot (draft) of the year's candidate list: `places` projects, more candidates than places."""
    _staff(actor)
    listed = [c for c in candidate_list(year) if c.state == "listed"]
    places = number(data, "places", "应选项目数", 1, 100)
    if len(listed) <= places:
        raise InvalidInput("not_competitive", f"候选项目（{len(listed)}个）须多于应选项目数（{places}个），实行差额票决")
    deputies = data.get("deputies") or [d.code for d in session_deputies()]
    return ballots.create(actor, {
        **data, "title": data.get("title") or f"{year}年民生实事项目票决", "kind": "project_vote", "method": "choose",
        "electorate": "deputies", "places": places, "deputies": deputies, "base": "all",
        "threshold": str(setting("PROJECT_VOTE_THRESHOLD", 0.5)),
        "entries": [(c.name, f"c{c.id}") for c in listed]})


def _next_project_code(year):
    name = f"project-{year}"
    while True:
        Counter.insert(name=name, value=1).on_conflict(
            conflict_target=None if is_mysql() else [Counter.name], update={Counter.value: Counter.value + 1}).execute()
        code = f"MS{year}{Counter.get_by_id(name).value:02d}"
        if not Project.select().where(Project.code == code).exists():
            return code


def _proposers(candidate):
    """The accounts behind a candidate: its own proposer and those of the proposals merged into it."""
    ids = [c.proposer_id for c in ProjectCandidate.select(ProjectCandidate.proposer).where(
        (ProjectCandidate.id == candidate.id) | (ProjectCandidate.merged_into == candidate.id)) if c.proposer_id]
    return list(Account.select().where(Account.id.in_(ids or [0]), Account.active == True))  # noqa: E712


@retried
def apply_result(actor, ballot):
    """After the result is published: each elected candidate becomes a Project (department, budget, the deputies
    who proposed it supervising it, its proposers following it); the rest are told they were not elected. Items
    tied for a re-vote wait for it. Safe to run again. Returns the new projects."""
    _staff(actor)
    found, linked = ballots.linked(ballot, "c")
    if ballot.kind != "project_vote" or ballot.state != "published" or found is None:
        raise Conflict("not_published", "票决结果公布后才能确定项目")
    made = []
    with write_transaction():
        for candidate_id, row in linked:
            candidate = ProjectCandidate.get_or_none(ProjectCandidate.id == candidate_id)
            if candidate is None or candidate.state != "listed":
                continue
            if row["elected"]:
                made.append(_establish(candidate, row, ballot))
            elif row["id"] not in found.data["revote"]:
                candidate.state = "not_elected"
                candidate.save()
                for account in _proposers(candidate):
                    notify.write(account, "candidate_not_elected", f"cand{candidate.id}:{account.id}",
                                 {"name": candidate.name[:40], "code": ballot.code, "votes": row["votes"]})
        audit.record(as_actor(actor).account, "ballot.apply", ("ballot", ballot.code), {"projects": len(made)})
    return made


def _establish(candidate, row, ballot):
    project = Project.create(code=_next_project_code(candidate.year), name=candidate.name,
                             description=candidate.reason, department=candidate.department, station=candidate.station,
                             year=candidate.year, budget=(candidate.estimate + 99) // 100,
                             location=candidate.location, status="planned")
    candidate.state, candidate.project = "elected", project
    candidate.save()
    deputies = {c.deputy_id for c in ProjectCandidate.select(ProjectCandidate.deputy).where(
        (ProjectCandidate.id == candidate.id) | (ProjectCandidate.merged_into == candidate.id)) if c.deputy_id}
    for deputy in deputies:  # 代表领办: the deputies who proposed it supervise it (staff may add more)
        ProjectDeputy.insert(project=project, deputy=deputy).on_conflict_ignore().execute()
    ProjectUpdate.create(project=project, text=f"经人大代表票决（得票{row['votes']}），列为{candidate.year}年民生实事项目。")
    values = {"project": project.name, "code": project.code, "votes": row["votes"]}
    for account in _proposers(candidate):
        Follow.insert(account=account, project=project).on_conflict_ignore().execute()
        notify.write(account, "candidate_elected", f"cand{candidate.id}:{account.id}", values, project=project)
    return project


def origin(project):
    """How a project came to be: its candidate, the proposals behind it and the vote — or None."""
    candidate = ProjectCandidate.get_or_none(ProjectCandidate.project == project.id)
    if candidate is None:
        return None
    behind = list(ProjectCandidate.select().where((ProjectCandidate.id == candidate.id) |
                                                  (ProjectCandidate.merged_into == candidate.id)))
    return {"candidate": candidate, "proposals": len(behind),
            "sources": sorted({SOURCES[c.source] for c in behind}), "vote": _vote_of(candidate)}


def _vote_of(candidate):
    item = (BallotItem.select().join(Ballot).where(BallotItem.ref == f"c{candidate.id}", Ballot.state == "published")
            .order_by(Ballot.id.desc()).first())
    found = ballots.result(item.ballot) if item else None
    row = next((r for r in found.data["items"] if r["id"] == item.id), None) if found else None
    return {"ballot": item.ballot, "votes": row["votes"], "electors": found.data["electors"]} if row else None


# --- year-end 测评 ---------------------------------------------------------------------------------

def voted_projects(year):
    return list(Project.select().join(ProjectCandidate, on=(ProjectCandidate.project == Project.id)).where(
        ProjectCandidate.year == year).order_by(Project.code))


def start_evaluation(actor, year, data):
    """The year-end 测评 of the year's voted projects by the deputies (满意 / 基本满意 / 不满意)."""
    _staff(actor)
    rated = voted_projects(year)
    if not rated:
        raise InvalidInput("nothing_to_rate", f"{year}年还没有票决产生的民生实事项目")
    return ballots.create(actor, {
        **data, "title": data.get("title") or f"{year}年民生实事项目满意度测评", "kind": "project_review",
        "method": "rate", "electorate": "deputies", "deputies": data.get("deputies") or
        [d.code for d in session_deputies()], "pass_rate": str(setting("PROJECT_PASS_RATE", 0.8)),
        "entries": [(p.name, f"p{p.id}") for p in rated]})


def evaluation(project):
    """The latest published 测评 of a project: {rate, flagged, ballot} or None."""
    item = (BallotItem.select().join(Ballot).where(BallotItem.ref == f"p{project.id}", Ballot.state == "published",
                                                   Ballot.kind == "project_review")
            .order_by(Ballot.id.desc()).first())
    found = ballots.result(item.ballot) if item else None
    row = next((r for r in found.data["items"] if r["id"] == item.id), None) if found else None
    return {"rate": row["rate"], "flagged": row["flagged"], "ballot": item.ballot} if row else None


@retried
def apply_evaluation(actor, ballot):
    """After a 测评 is published: each flagged project's department is told to 整改. Returns the flagged projects."""
    _staff(actor)
    found, linked = ballots.linked(ballot, "p")
    if ballot.kind != "project_review" or ballot.state != "published" or found is None:
        raise Conflict("not_published", "测评结果公布后才能通知整改")
    flagged = []
    with write_transaction():
        for project_id, row in linked:
            project = Project.get_or_none(Project.id == project_id)
            if project is None or not row["flagged"] or not project.department_id:
                continue
            flagged.append(project)
            values = {"project": project.name, "code": project.code, "rate": ballots.percent(row["rate"])}
            for account in Account.select().where(Account.role == "department", Account.active == True,  # noqa: E712
                                                  Account.department == project.department_id):
                notify.write(account, "project_flagged", f"flag{ballot.id}:{project.id}:{account.id}", values,
                             project=project)
    return flagged


# --- figures ---------------------------------------------------------------------------------------

def completed_on(project):
    """The day a project reached 100 % (its first update saying so), or None."""
    first = (ProjectUpdate.select(fn.MIN(ProjectUpdate.created_at)).where(ProjectUpdate.project == project.id,
                                                                        ProjectUpdate.progress == 100).scalar())
    return calendar.local(first).date() if first else None


def figures(year):
    """The call's opinions per door, proposals per source, 候选项目, the vote, projects done (on time), 满意度, and the year's micro-project fund."""
    from services import micro
    rows = proposals(year)
    call = call_of(year)
    said = list(call.opinions) if call else []
    by_channel = {label: sum(1 for o in said if o.channel == key) for key, label in consultations.CHANNELS.items()}
    by_source = {label: sum(1 for r in rows if r.source == key) for key, label in SOURCES.items()}
    votes = []
    for ballot in Ballot.select().join(BallotItem).where(BallotItem.ref.in_([f"c{r.id}" for r in rows] or [""]),
                                                         Ballot.kind == "project_vote").distinct().order_by(Ballot.id):
        found = ballots.result(ballot)
        if found:
            votes.append({"ballot": ballot, "papers": found.data["papers"], "electors": found.data["electors"],
                          "elected": [r["name"] for r in found.data["items"] if r["elected"]],
                          "revote": len(found.data["revote"])})
    projects = voted_projects(year)
    done = [p for p in projects if p.status == "completed"]
    on_time = [p for p in done if p.planned_end is None or (completed_on(p) or p.planned_end) <= p.planned_end]
    rated = [(p, evaluation(p)) for p in projects]
    rates = [e["rate"] for _, e in rated if e and e["rate"] is not None]
    ledgers = [micro.ledger(f) for f in micro.funds(year)]
    spending = {k: sum(lg[k] for lg in ledgers) for k in ("allocated", "committed", "spent", "remaining")}
    return {"year": year, "proposals": len(rows), "by_source": by_source,
            "call": {"consultation": call, "opinions": len(said), "by_channel": by_channel},
            "candidates": sum(1 for r in rows if r.state in ON_LIST), "votes": votes, "projects": len(projects),
            "done": len(done), "on_time": len(on_time), "budget": sum(p.budget for p in projects),
            "satisfaction": round(sum(rates) / len(rates), 4) if rates else None,
            "flagged": [p.name for p, e in rated if e and e["flagged"]],
            "micro": {**{k: yuan(v) for k, v in spending.items()}, "funds": len(ledgers)},
            "milestones_done": Milestone.select().where(Milestone.project.in_([p.id for p in projects] or [0]),
                                                        Milestone.done_on.is_null(False)).count()}
