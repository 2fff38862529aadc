"""微实事 — the micro-project fund: 代表提、人大定、政府办.

- A fund (MicroFund) per township (or the county) and year, with its budget and the most one micro-project may
  cost (settings MICRO_FUND_BUDGET and MICRO_PROJECT_CAP, in yuan, are the defaults of the set-up form).
- 代表提: a deputy proposes a micro-project (what, where, estimated cost, the citizens' reports behind it).
- 人大定: the township 人大主席团 approves (with the amount and the decision it was taken in) or rejects with a
  reason — recorded directly, or as a 主席团 ballot (`put_to_vote` → the 表决 engine → `apply_ballot`).
- 政府办: an approved micro-project becomes a small Project (plaque, milestones, listed on the station's page) and
  gets spending entries; `finish` marks it done and releases what was not spent.

The ledger, exact to the fen (amounts are whole fen, services/money.py):
  allocated = the fund's budget; committed = approved amounts of the projects under way + what the finished ones
  spent; spent = every spending entry; remaining = allocated − committed.
Overspend is refused: an approval above the cap or above what remains, a spending entry above what the project
was approved for. Every write against a fund raises the fund's `version` first, so two writers queue on that
row (and on a Galera cluster conflict and run again whole) rather than both spending the same money.
"""
import datetime as dt
import re

from peewee import IntegrityError, fn

from models import (Account, Case, Counter, Deputy, Department, MicroFund, MicroProject, MicroSpend, Project,
                    ProjectDeputy, Station, is_mysql, utcnow)
from services import audit, calendar, levels, notify
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.money import fen, yuan
from services.projects import by_code
from services.vocab import setting
from services.workflow import as_actor, in_scope, number, retried, text, write_transaction

STATES = {"proposed": "待主席团审议", "approved": "已批准，实施中", "rejected": "未批准", "done": "已完成"}
DECISIONS = {"approve": "批准", "reject": "不予批准"}
BUDGET_YUAN, CAP_YUAN = 2_000_000, 100_000  # defaults of MICRO_FUND_BUDGET / MICRO_PROJECT_CAP


def _staff_for(actor, station):
    actor = as_actor(actor)
    if actor.role not in ("staff", "admin", "system") or (actor.role != "system" and not in_scope(actor, station.id)):
        raise Forbidden("not_permitted", "只有本乡镇（县）人大的工作人员可以办理微实事")


# --- funds and the ledger -----------------------------------------------------------------------------

@retried
def create_fund(actor, data):
    station = Station.get_or_none(Station.code == (data.get("station") or "").strip())
    if station is None:
        raise InvalidInput("unknown_station", "请选择乡镇（县）", field="station")
    _staff_for(actor, station)
    year = number(data, "year", "年度", 2000, 2100)
    budget_yuan, cap_yuan = defaults()
    budget = fen(data, "budget", "年度资金", required=False) or budget_yuan * 100
    cap = fen(data, "cap", "单个项目上限", required=False) or cap_yuan * 100
    if not 0 < cap <= budget:
        raise InvalidInput("bad_cap", "单个项目上限须大于0且不超过年度资金", field="cap")
    try:
        with write_transaction():
            fund = MicroFund.create(station=station, year=year, budget=budget, cap=cap,
                                    created_by=as_actor(actor).account)
            audit.record(as_actor(actor).account, "micro.fund", ("station", station.code),
                         {"year": year, "budget": budget, "cap": cap})
    except IntegrityError:
        raise Conflict("fund_exists", f"{station.name}{year}年的微实事资金已经设立")
    return fund


def defaults():
    """(budget, cap) in yuan that a new fund gets unless the form says otherwise."""
    return setting("MICRO_FUND_BUDGET", BUDGET_YUAN), setting("MICRO_PROJECT_CAP", CAP_YUAN)


def fund_of(station_code, year):
    fund = (MicroFund.select().join(Station).where(Station.code == str(station_code)[:16], MicroFund.year == year)
            .first())
    if fund is None:
        raise NotFound("no_fund", "没有找到这个微实事资金")
    return fund


def funds(year=None, station=None):
    query = MicroFund.select(MicroFund, Station).join(Station).order_by(MicroFund.year.desc(), Station.path)
    if station is not None:
        query = query.where(MicroFund.station == station)
    return list(query.where(MicroFund.year == year) if year else query)


def _sum(query):
    return int(query.scalar() or 0)


def ledger(fund):
    """{allocated, committed, spent, remaining, pending} in fen (pending: proposals not yet decided)."""
    of_fund = MicroProject.fund == fund.id
    spends = MicroSpend.select(fn.SUM(MicroSpend.amount)).join(MicroProject)
    approved = _sum(MicroProject.select(fn.SUM(MicroProject.amount)).where(of_fund, MicroProject.state == "approved"))
    done = _sum(spends.where(of_fund, MicroProject.state == "done"))
    committed = approved + done
    return {"allocated": fund.budget, "committed": committed, "spent": _sum(spends.where(of_fund)),
            "remaining": fund.budget - committed,
            "pending": _sum(MicroProject.select(fn.SUM(MicroProject.estimate)).where(
                of_fund, MicroProject.state == "proposed"))}


def spent_by(micro):
    return _sum(MicroSpend.select(fn.SUM(MicroSpend.amount)).where(MicroSpend.micro == micro.id))


def _hold(fund):
    """Take the fund's row for this transaction (see the module's docstring)."""
    MicroFund.update(version=MicroFund.version + 1).where(MicroFund.id == fund.id).execute()


# --- 代表提 ----------------------------------------------------------------------------------------

def _next_code(year):
    name = f"micro-{year}"
    Counter.insert(name=name, value=1).on_conflict(
        conflict_target=None if is_mysql() else [Counter.name], update={Counter.value: Counter.value + 1}).execute()
    return f"WS{year}{Counter.get_by_id(name).value:03d}"


def _case_numbers(value):
    numbers = [n for n in re.split(r"[\s,，、;；]+", str(value or "")) if n]
    if isinstance(value, list):
        numbers = [str(n).strip() for n in value if str(n).strip()]
    found = {c.number for c in Case.select(Case.number).where(Case.number.in_(numbers))} if numbers else set()
    missing = [n for n in numbers if n not in found]
    if missing:
        raise InvalidInput("unknown_case", f"没有找到群众反映：{'、'.join(missing[:5])}", field="cases")
    return list(dict.fromkeys(numbers))


@retried
def propose(actor, fund, data):
    """A deputy's proposal (staff may enter one for a deputy, naming the deputy's code)."""
    actor = as_actor(actor)
    if actor.role == "deputy":
        deputy = actor.account.deputy
    elif actor.role in ("staff", "admin"):
        _staff_for(actor, fund.station)
        deputy = Deputy.get_or_none(Deputy.code == (data.get("deputy") or "").strip().upper())
    else:
        raise Forbidden("not_permitted", "微实事由人大代表提出")
    if deputy is None:
        raise InvalidInput("unknown_deputy", "请填写提出微实事的代表（代表码）", field="deputy")
    if deputy.station_id is None or not Station.select().where(
            Station.id == deputy.station_id, Station.path.startswith(fund.station.path)).exists():
        raise InvalidInput("not_here", f"{deputy.name}代表不属于{fund.station.name}，不能使用这笔资金", field="deputy")
    fields = dict(title=text(data, "title", "微实事名称", limit=120, minimum=2),
                  location=text(data, "location", "地点", limit=200),
                  description=text(data, "description", "情况说明", required=False, limit=2000),
                  estimate=fen(data, "estimate", "预计费用"),
                  department=by_code(Department, data.get("department"), "实施单位"),
                  cases=_case_numbers(data.get("cases")))
    if not 0 < fields["estimate"] <= fund.cap:
        raise InvalidInput("over_cap", f"预计费用须大于0且不超过单个项目上限{yuan(fund.cap)}元", field="estimate")
    with write_transaction():
        micro = MicroProject.create(code=_next_code(fund.year), fund=fund, deputy=deputy, proposer=actor.account,
                                    **fields)
        values = {"code": micro.code, "title": micro.title[:40], "deputy": deputy.name,
                  "amount": yuan(micro.estimate)}
        for account in notify.staff_for(fund.station_id):
            notify.write(account, "micro_proposed", f"micro{micro.id}:{account.id}", values)
    return micro


def fund_for(deputy, year):
    """The fund a deputy proposes to: that year's fund of the nearest station above (or at) the deputy's."""
    if deputy is None or deputy.station_id is None:
        return None
    return (MicroFund.select().join(Station).where(MicroFund.year == year,
                                                   MicroFund.station.in_(levels.path_ids(deputy.station)))
            .order_by(fn.LENGTH(Station.path).desc()).first())


def of_deputy(deputy):
    rows = list(MicroProject.select().where(MicroProject.deputy == deputy).order_by(MicroProject.id.desc()))
    for row in rows:
        row.spent = spent_by(row)
    return rows


def get(code):
    micro = MicroProject.get_or_none(MicroProject.code == str(code or "").strip().upper()[:16])
    if micro is None:
        raise NotFound("no_micro", "没有找到这个微实事")
    return micro


def can_view(micro, actor):
    actor = as_actor(actor)
    if actor.role in ("staff", "admin"):
        return in_scope(actor, micro.fund.station_id)
    if actor.role == "deputy":
        return micro.deputy_id == actor.account.deputy_id
    return actor.role == "department" and micro.department_id == actor.account.department_id


# --- 人大定 ----------------------------------------------------------------------------------------

@retried
def decide(actor, micro, data):
    """The 主席团's decision recorded by staff: approve (amount, default the estimate; the implementing department,
    default the proposal's; the decision it was taken in) or reject (the reason)."""
    _staff_for(actor, micro.fund.station)
    decision = data.get("decision")
    if decision not in DECISIONS:
        raise InvalidInput("invalid_choice", "请选择批准或不予批准", field="decision")
    if decision == "reject":
        note = text(data, "note", "不予批准的理由", limit=500, minimum=4)
        with write_transaction():
            return _reject(actor, micro, note)
    note = text(data, "note", "决定依据（如主席团第几次会议）", limit=500, minimum=4)
    amount = fen(data, "amount", "批准金额", required=False) or micro.estimate
    department = by_code(Department, data.get("department"), "实施单位") or micro.department
    if department is None:
        raise InvalidInput("department_required", "请选择实施单位（政府办）", field="department")
    with write_transaction():
        return _approve(actor, micro, amount, note, department=department)


def _move(micro, expected, **changes):
    if not MicroProject.update(**changes).where(MicroProject.id == micro.id, MicroProject.state == expected).execute():
        raise Conflict("state_changed", "这个微实事的状态已变化，请刷新页面")
    for key, value in changes.items():
        setattr(micro, key, value)


def _approve(actor, micro, amount, note, ballot=None, department=None):
    fund = micro.fund
    _hold(fund)
    if MicroProject.get_by_id(micro.id).state != "proposed":
        raise Conflict("state_changed", "这个微实事的状态已变化，请刷新页面")
    if not 0 < amount <= fund.cap:
        raise InvalidInput("over_cap", f"批准金额须大于0且不超过单个项目上限{yuan(fund.cap)}元", field="amount")
    remaining = ledger(fund)["remaining"]
    if amount > remaining:
        raise Conflict("overspend", f"微实事资金余额不足：可用{yuan(remaining)}元，本项目需{yuan(amount)}元")
    if Project.select().where(Project.code == micro.code).exists():
        raise Conflict("code_taken", f"项目编码 {micro.code} 已被其他项目使用")
    project = Project.create(code=micro.code, name=f"微实事：{micro.title}"[:120], description=micro.description,
                             department=department or micro.department, station=fund.station, year=fund.year,
                             budget=(amount + 99) // 100, location=micro.location, status="planned")
    if micro.deputy_id:
        ProjectDeputy.create(project=project, deputy=micro.deputy_id)  # 代表领办: the proposer supervises it
    _move(micro, "proposed", state="approved", amount=amount, decision_note=note, decided_at=utcnow(),
          decided_by=as_actor(actor).account, ballot=ballot, project=project,
          department=department or micro.department)
    _tell(micro, "批准", f"批准{yuan(amount)}元")
    audit.record(as_actor(actor).account, "micro.approve", ("micro", micro.code), {"amount": amount, "note": note})
    return micro


def _reject(actor, micro, note, ballot=None):
    _move(micro, "proposed", state="rejected", decision_note=note, decided_at=utcnow(),
          decided_by=as_actor(actor).account, ballot=ballot)
    _tell(micro, "不予批准", note)
    audit.record(as_actor(actor).account, "micro.reject", ("micro", micro.code), {"note": note})
    return micro


def _tell(micro, decision, note):
    values = {"code": micro.code, "title": micro.title[:40], "decision": decision, "note": note[:60]}
    for account in Account.select().where(Account.deputy == micro.deputy_id, Account.role == "deputy",
                                          Account.active == True):  # noqa: E712
        notify.write(account, "micro_decided", f"microdecided{micro.id}:{account.id}", values)


def put_to_vote(actor, fund, data):
    """A 主席团 ballot on the fund's undecided proposals: each passes with more than half of all members
    (MICRO_VOTE_THRESHOLD), members listed by deputy code."""
    from services import ballots
    _staff_for(actor, fund.station)
    pending = list(fund.micro_projects.where(MicroProject.state == "proposed").order_by(MicroProject.id))
    chosen = [m for m in pending if str(m.id) in (data.get("micro") or [str(m.id) for m in pending])]
    if not chosen:
        raise InvalidInput("nothing_to_vote", "没有待审议的微实事")
    return ballots.create(actor, {
        **data, "title": data.get("title") or f"{fund.station.name}{fund.year}年微实事项目审议",
        "kind": "micro", "method": "choose", "electorate": "deputies", "places": len(chosen), "base": "all",
        "threshold": str(setting("MICRO_VOTE_THRESHOLD", 0.5)),
        "entries": [(f"{m.code} {m.title}", f"m{m.id}") for m in chosen]})


@retried
def apply_ballot(actor, ballot):
    """The 主席团's vote decides: an item elected is approved for its estimate, one not elected is rejected;
    items already decided are left alone. Returns (approved, rejected)."""
    from services import ballots
    found, linked = ballots.linked(ballot, "m")
    if ballot.kind != "micro" or found is None:
        raise Conflict("not_closed", "主席团表决结束后才能按结果作出决定")
    done = [0, 0]
    with write_transaction():
        for micro_id, row in linked:
            micro = MicroProject.get_or_none(MicroProject.id == micro_id)
            if micro is None or micro.state != "proposed":
                continue
            tally = f"得票{row['votes']}，应到{found.data['electors']}人"
            _hold(micro.fund)
            if row["elected"]:
                _approve(actor, micro, micro.estimate, f"主席团表决通过（{tally}）", ballot)
                done[0] += 1
            elif row["id"] not in found.data["revote"]:
                _reject(actor, micro, f"主席团表决未通过（{tally}）", ballot)
                done[1] += 1
    return tuple(done)


# --- 政府办 ----------------------------------------------------------------------------------------

def _may_carry_out(actor, micro):
    actor = as_actor(actor)
    if actor.role in ("staff", "admin") and in_scope(actor, micro.fund.station_id):
        return
    if actor.role == "department" and micro.department_id and micro.department_id == actor.account.department_id:
        return
    raise Forbidden("not_permitted", "只有实施单位和人大工作人员可以登记支出")


@retried
def spend(actor, micro, data):
    """A spending entry; refused when it would take the project past its approved amount."""
    _may_carry_out(actor, micro)
    amount = fen(data, "amount", "支出金额")
    note = text(data, "note", "支出说明", limit=200, minimum=2)
    day = (data.get("spent_on") or "").strip()
    try:
        spent_on = dt.date.fromisoformat(day) if day else calendar.today()
    except ValueError:
        raise InvalidInput("invalid_date", "支出日期格式应为 年-月-日", field="spent_on") from None
    if amount <= 0:
        raise InvalidInput("invalid_amount", "支出金额须大于0", field="amount")
    with write_transaction():
        _hold(micro.fund)
        micro = MicroProject.get_by_id(micro.id)
        if micro.state != "approved":
            raise Conflict("not_approved", "只有已批准、实施中的微实事可以登记支出")
        already = spent_by(micro)
        if already + amount > micro.amount:
            raise Conflict("overspend", f"超出批准金额：批准{yuan(micro.amount)}元，已支出{yuan(already)}元，"
                                        f"本次{yuan(amount)}元，最多还能支出{yuan(micro.amount - already)}元")
        entry = MicroSpend.create(micro=micro, amount=amount, spent_on=spent_on, note=note,
                                  created_by=as_actor(actor).account)
        audit.record(as_actor(actor).account, "micro.spend", ("micro", micro.code), {"amount": amount})
    return entry


@retried
def finish(actor, micro, data):
    """Done: the project reaches 100 % (its followers are told) and what was not spent goes back to the fund."""
    from services import projects
    _may_carry_out(actor, micro)
    note = text(data, "note", "完成情况", limit=500, minimum=2)
    with write_transaction():
        _hold(micro.fund)
        _move(micro, "approved", state="done")
        projects.add_update(actor, micro.project, {
            "text": f"{note}（实际支出{yuan(spent_by(micro))}元）", "progress": 100})
        audit.record(as_actor(actor).account, "micro.finish", ("micro", micro.code), {})
    return micro


def of_project(project):
    """The micro-project a Project carries out (with what it has spent), or None."""
    found = MicroProject.get_or_none(MicroProject.project == project.id)
    if found is not None:
        found.spent = spent_by(found)
    return found


def listing(fund, public=False):
    """The fund's micro-projects, newest first; the public sees the decided ones only."""
    query = fund.micro_projects.order_by(MicroProject.id.desc())
    rows = list(query.where(MicroProject.state.in_(("approved", "done"))) if public else query)
    spent = dict(MicroSpend.select(MicroSpend.micro, fn.SUM(MicroSpend.amount)).where(
        MicroSpend.micro.in_([m.id for m in rows] or [0])).group_by(MicroSpend.micro).tuples())
    for micro in rows:
        micro.spent = int(spent.get(micro.id) or 0)
    return rows
