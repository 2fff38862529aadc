"""表决 — the ballot engine: one machine for every vote and evaluation, with kinds (部门评议, 票决, 满意度测评,
述职评议). The rules live here and nowhere else:

- Window: a vote counts only while the ballot is open (state "open") and now lies in [opens_at, closes_at).
- Electorate: "deputies" — the listed deputies (Elector rows), signed in on the phone workbench; "public" —
  anyone with a WeChat identity, one vote each (a keyed hash of the openid is the voter key).
- Secrecy: a vote writes two rows in one transaction, in random order: a Participation (who voted: unique per
  ballot and voter) and a Paper (what was chosen: a random key, the ballot and the marks — no voter, no time).
- Counting (`tally`, a pure function): only after closing; the result is frozen as a BallotResult; a
  correction is a new, explained entry. Rules are settings on the ballot (RULES):
  quorum — papers handed in ÷ electors must reach it, else nothing passes;
  base — "all": a candidate passes with more than `threshold` of ALL electors; "voting": of the valid papers;
  places — choose up to N items; a paper marking more than N is invalid (over-voting);
  a tie for the last place(s) elects none of the tied items: they go to a re-vote (`revote`);
  满意率 = (满意 + 基本满意) ÷ valid marks on that item; below `pass_rate` is flagged for 整改.
"""
import hashlib
import hmac
import random
import secrets

from flask import current_app
from peewee import IntegrityError, fn

from models import (Account, Ballot, BallotItem, BallotResult, Department, Deputy, Elector, Paper, Participation,
                    utcnow)
from services import audit, notify, window
from services.errors import Conflict, Forbidden, InvalidInput
from services.workflow import SYSTEM, as_actor, retried, write_transaction

KINDS = {"review": "部门评议", "project_vote": "民生实事项目票决", "satisfaction": "满意度测评",
         "duty_review": "述职评议", "project_review": "民生实事项目测评", "micro": "微实事项目审议",
         "inquiry": "问政满意度测评", "other": "其他表决"}
# kind: what follows when a ballot of that kind is counted — function(ballot, result entry), run in the same
# transaction at closing (entry #1) and at each correction (#2, #3 …: the follow-up is redone from the corrected
# count); and what follows its publication — function(ballot). 问政 registers both (services/inquiries.py: under
# the line opens 二次整改, a correction above it withdraws it; the results are pushed to followers)
ON_COUNT, ON_PUBLISH = {}, {}
METHODS = {"choose": "选择（N选M）", "rate": "测评（满意/基本满意/不满意）"}
ELECTORATES = {"deputies": "代表（名单）", "public": "公众（每个微信一票）"}
STATES = {"draft": "未开始", "open": "投票中", "closed": "已结束（结果未公布）", "published": "结果已公布"}
MARKS = {"good": "满意", "fair": "基本满意", "poor": "不满意"}
RULES = {  # name: (default, label)
    "quorum": (0.5, "到会（投票）人数须达到选民总数的比例"),
    "base": ("all", "通过票数的基数：all 全体选民 / voting 有效票"),
    "threshold": (0.5, "通过须超过基数的比例"),
    "pass_rate": (0.8, "满意率低于此值列为整改"),
}
BASES = {"all": "全体选民", "voting": "有效票"}


# --- counting (pure) -------------------------------------------------------------------------------

def rules_of(ballot_rules):
    return {name: (ballot_rules or {}).get(name, default) for name, (default, _) in RULES.items()}


def valid_paper(method, places, item_ids, marks):
    """Whether a paper counts: choose — distinct known items, at most `places`; rate — each mark a known item
    with 满意/基本满意/不满意."""
    if method == "choose":
        return isinstance(marks, list) and len(set(marks)) == len(marks) <= places and set(marks) <= item_ids
    return isinstance(marks, dict) and {int(k) for k in marks} <= item_ids and set(marks.values()) <= set(MARKS)


def tally(method, places, rules, items, electors, papers):
    """Count `papers` (their marks) for `items` [(id, name)] under `rules`; `electors` is the size of the
    electorate (None for the public). Returns the result as a plain dict (what BallotResult stores)."""
    rules = rules_of(rules)
    ids = {i for i, _ in items}
    good = [m for m in papers if valid_paper(method, places, ids, m)]
    cast = len(papers)
    quorum_met = electors is None or (electors > 0 and cast >= rules["quorum"] * electors)
    result = {"method": method, "places": places, "rules": rules, "electors": electors, "papers": cast,
              "valid": len(good), "invalid": cast - len(good), "quorum_met": quorum_met,
              "turnout": round(cast / electors, 4) if electors else None, "revote": [], "items": []}
    if method == "choose":
        base = electors if rules["base"] == "all" and electors else len(good)
        counts = {i: 0 for i in ids}
        for marks in good:
            for i in marks:
                counts[i] += 1
        rows = sorted(({"id": i, "name": name, "votes": counts[i],
                        "passes": quorum_met and counts[i] > rules["threshold"] * base} for i, name in items),
                      key=lambda r: -r["votes"])
        passing = [r for r in rows if r["passes"]]
        if len(passing) > places:  # more pass than there are places: the most votes win; a tie at the edge re-votes
            edge = passing[places - 1]["votes"]
            if passing[places]["votes"] == edge:
                result["revote"] = [r["id"] for r in passing if r["votes"] == edge]
            passing = [r for r in passing if r["votes"] > edge or (r["votes"] == edge and not result["revote"])]
        elected = {r["id"] for r in passing}
        for rank, row in enumerate(rows, start=1):
            row.update(rank=rank, elected=row["id"] in elected, base=base)
        result["items"] = rows
        return result
    for i, name in items:
        counts = {k: sum(1 for m in good if m.get(str(i), m.get(i)) == k) for k in MARKS}
        marked = sum(counts.values())
        rate = round((counts["good"] + counts["fair"]) / marked, 4) if marked else None
        result["items"].append({"id": i, "name": name, **counts, "marked": marked, "rate": rate,
                                "flagged": quorum_met and rate is not None and rate < rules["pass_rate"]})
    result["items"].sort(key=lambda r: -(r["rate"] if r["rate"] is not None else -1))
    for row in result["items"]:  # equal rates share a rank
        row["rank"] = 1 + sum(1 for other in result["items"] if (other["rate"] or 0) > (row["rate"] or 0))
    return result


# --- setting up ------------------------------------------------------------------------------------

def _staff(actor):
    if as_actor(actor).role not in ("staff", "admin", "system"):
        raise Forbidden("not_permitted", "只有人大工作人员可以组织表决")


def _fraction(value, name):
    try:
        number = float(str(value).strip().rstrip("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise InvalidInput("bad_rule", f"{RULES[name][1]}：请填写0到1之间的数或百分数")
    if not 0 <= number <= 1:
        raise InvalidInput("bad_rule", f"{RULES[name][1]}：请填写0到1之间的数或百分数")
    return number


def parse_rules(data):
    rules = {}
    for name, (default, _) in RULES.items():
        value = data.get(name)
        if value in (None, ""):
            rules[name] = default
        elif name == "base":
            if value not in BASES:
                raise InvalidInput("bad_rule", "通过票数的基数只能是全体选民或有效票")
            rules[name] = value
        else:
            rules[name] = _fraction(value, name)
    return rules


@retried
def create(actor, data, parent=None):
    """A ballot in draft from a form: title, kind, method, places, electorate, opens_at, closes_at, the rules,
    items (one per line) and/or departments (codes), deputies (codes) for a deputies' ballot."""
    _staff(actor)
    title = (data.get("title") or "").strip()
    if not 2 <= len(title) <= 120:
        raise InvalidInput("bad_title", "请填写表决名称（2到120个字）")
    kind, method, electorate = data.get("kind"), data.get("method"), data.get("electorate")
    if kind not in KINDS or method not in METHODS or electorate not in ELECTORATES:
        raise InvalidInput("bad_choice", "请选择表决类型、方式和投票人范围")
    opens_at, closes_at = window.window(data)
    rules = parse_rules(data)
    if electorate == "public":
        rules.update(base="voting", quorum=0.0)
    names = [(line.strip(), None, "") for line in (data.get("items") or "").splitlines() if line.strip()]
    for code in data.get("departments") or []:
        department = Department.get_or_none(Department.code == code)
        if department is None:
            raise InvalidInput("bad_department", f"没有编码为 {code} 的承办单位")
        names.append((department.name, department, ""))
    names += [(name, None, ref) for name, ref in data.get("entries") or []]  # (name, ref) from a kind's service
    if len(names) < (2 if method == "choose" else 1) or len({n for n, _, _ in names}) != len(names):
        raise InvalidInput("bad_items", "请填写表决事项（不重复；选择方式至少两项）")
    try:
        places = int(data.get("places") or 1)
    except ValueError:
        places = 0
    if method == "choose" and not 1 <= places <= len(names):
        raise InvalidInput("bad_places", "应选名额须至少为1，且不多于候选项数")
    deputies = []
    if electorate == "deputies":
        codes = [c.strip() for c in data.get("deputies") or [] if c.strip()]
        deputies = list(Deputy.select().where(Deputy.code.in_(codes))) if codes else []
        if not deputies or len(deputies) != len(set(codes)):
            raise InvalidInput("bad_electors", "请选择参加表决的代表")
    with write_transaction():
        ballot = Ballot.create(code=window.new_code("B"), title=title, kind=kind, method=method,
                               places=places if method == "choose" else 1, electorate=electorate,
                               opens_at=opens_at, closes_at=closes_at, rules=rules,
                               created_by=as_actor(actor).account, parent=parent)
        for sort, (name, department, ref) in enumerate(names):
            BallotItem.create(ballot=ballot, sort=sort, name=name[:120], department=department, ref=ref)
        for deputy in deputies:
            Elector.create(ballot=ballot, deputy=deputy)
        audit.record(as_actor(actor).account, "ballot.create", ("ballot", ballot.code), {"title": title})
    return ballot


def get(code):
    return window.by_code(Ballot, code, "no_ballot", "没有找到这次表决，请核对二维码或链接")


def items(ballot):
    return list(ballot.items.order_by(BallotItem.sort, BallotItem.id))


def electorate_size(ballot):
    return ballot.electors.count() if ballot.electorate == "deputies" else None


def turnout(ballot):
    return ballot.participations.count()


@retried
def open_ballot(actor, ballot):
    """Start the vote; every listed deputy is told (push to the phone page)."""
    _staff(actor)
    with write_transaction():
        window.cas(ballot, "draft", state="open")
        values = {"title": ballot.title[:40], "code": ballot.code,
                  "closes_text": notify.local_stamp(ballot.closes_at), "count": len(items(ballot))}
        accounts = Account.select().join(Elector, on=(Elector.deputy == Account.deputy)).where(
            Elector.ballot == ballot, Account.role == "deputy", Account.active == True)  # noqa: E712
        for account in accounts:
            notify.write(account, "ballot_open", f"ballot{ballot.id}:{account.id}", values)
        audit.record(as_actor(actor).account, "ballot.open", ("ballot", ballot.code), {})
    return ballot


def voter_key(ballot, deputy=None, openid=None):
    if deputy is not None:
        return f"d{deputy.id}"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"ballot-voter:{openid}".encode(), hashlib.sha256).hexdigest()[:40]


def may_vote(ballot, deputy=None, openid=None, check_twice=True):
    """Why this person may not vote now (a Chinese message), or None. `check_twice=False` leaves voting twice
    to the unique index on participation (cast: one query fewer per vote)."""
    outside = window.refusal(ballot, "投票尚未开始", "投票已经结束")
    if outside:
        return outside
    if ballot.electorate == "deputies":
        if deputy is None or not Elector.select().where(Elector.ballot == ballot, Elector.deputy == deputy).exists():
            return "您不在本次表决的投票人名单中"
    elif not openid:
        return "请在微信中打开本页投票（每个微信号一票）"
    if check_twice and Participation.select().where(Participation.ballot == ballot,
                                    Participation.voter == voter_key(ballot, deputy, openid)).exists():
        return "您已经投过票了，每人只能投一次"
    return None


def parse_marks(ballot, form):
    """The marks of a phone form: choose — the checked item ids (`item`); rate — `mark_<id>` per item."""
    ids = {i.id for i in items(ballot)}
    if ballot.method == "choose":
        try:
            marks = [int(v) for v in form.getlist("item")]
        except ValueError:
            raise InvalidInput("bad_marks", "选票无效，请重新选择")
        if len(marks) > ballot.places:
            raise InvalidInput("over_vote", f"最多只能选择{ballot.places}项，您选了{len(marks)}项")
        if not marks:
            raise InvalidInput("empty_vote", "请至少选择一项")
        return marks if valid_paper("choose", ballot.places, ids, marks) else _bad()
    marks = {str(i): form.get(f"mark_{i}") for i in ids if form.get(f"mark_{i}")}
    if len(marks) != len(ids):
        raise InvalidInput("incomplete_vote", "请对每一项都作出评价")
    return marks if valid_paper("rate", 1, ids, marks) else _bad()


def _bad():
    raise InvalidInput("bad_marks", "选票无效，请重新选择")


COMMENT_LIMIT = 300


def clean_comment(ballot, text, account=None):
    """The optional 测评 comment: trimmed, at most COMMENT_LIMIT characters, WeChat's content check as for
    reports when the voter has an account (risky text is refused; the paper is then not written)."""
    text = str(text or "").strip()
    if not text:
        return ""
    if ballot.method != "rate":
        raise InvalidInput("no_comment", "本次表决不收集意见")
    if len(text) > COMMENT_LIMIT:
        raise InvalidInput("comment_too_long", f"意见建议请不超过{COMMENT_LIMIT}字")
    if account is not None:
        from services.reports import vet
        vet(account, text)
    return text


@retried
def cast(ballot, marks, deputy=None, openid=None, comment=""):
    """One vote: who voted and what was chosen, as two unlinked rows in one transaction (random order)."""
    with write_transaction():
        refusal = may_vote(ballot, deputy, openid, check_twice=False)
        if refusal:
            raise Forbidden("may_not_vote", refusal)
        writes = [lambda: Participation.insert(ballot=ballot, voter=voter_key(ballot, deputy, openid)).execute(),
                  lambda: Paper.insert(id=secrets.token_hex(8), ballot=ballot, marks=marks,
                                       comment=comment).execute()]
        random.shuffle(writes)
        try:
            for write in writes:
                write()
        except IntegrityError:
            raise Conflict("may_not_vote", "您已经投过票了，每人只能投一次")


@retried
def close(actor, ballot):
    """End the vote and freeze the count (the first BallotResult)."""
    _staff(actor)
    with write_transaction():
        window.cas(ballot, "open", state="closed", closes_at=min(ballot.closes_at, utcnow()))
        entry = _record(actor, ballot, "")
        if ballot.kind in ON_COUNT:
            ON_COUNT[ballot.kind](ballot, entry)
        audit.record(as_actor(actor).account, "ballot.close", ("ballot", ballot.code), {})
    return ballot


def close_due(now=None):
    """Close (and count) every open ballot whose window has ended (the close_due_ballots job)."""
    closed = 0
    for ballot in Ballot.select().where(Ballot.state == "open", Ballot.closes_at <= (now or utcnow())):
        try:
            close(SYSTEM, ballot)
            closed += 1
        except Conflict:  # closed by the office meanwhile
            pass
    return closed


def count(ballot, rules=None):
    papers = [p.marks for p in Paper.select(Paper.marks).where(Paper.ballot == ballot)]
    return tally(ballot.method, ballot.places, rules or ballot.rules, [(i.id, i.name) for i in items(ballot)],
                 electorate_size(ballot), papers)


def _record(actor, ballot, note, rules=None):
    seq = (BallotResult.select(fn.MAX(BallotResult.seq)).where(BallotResult.ballot == ballot).scalar() or 0) + 1
    return BallotResult.create(ballot=ballot, seq=seq, data=count(ballot, rules), note=note,
                               created_by=as_actor(actor).account)


def result(ballot):
    """The frozen result in force (the latest entry), or None before closing."""
    return ballot.results.order_by(BallotResult.seq.desc()).first()


@retried
def publish(actor, ballot):
    _staff(actor)
    with write_transaction():
        window.cas(ballot, "closed", state="published")
        if ballot.kind in ON_PUBLISH:
            ON_PUBLISH[ballot.kind](ballot)
        audit.record(as_actor(actor).account, "ballot.publish", ("ballot", ballot.code), {})
    return ballot


@retried
def correct(actor, ballot, data):
    """A correction: a new result entry, recounted from the same papers under the corrected rules, with the
    reason. The earlier entries stay as they were."""
    _staff(actor)
    note = (data.get("note") or "").strip()
    if ballot.state not in ("closed", "published"):
        raise Conflict("not_closed", "投票结束后才能更正结果")
    if len(note) < 4:
        raise InvalidInput("no_reason", "请写明更正的原因")
    given = {k: v for k, v in data.items() if k in RULES and v}
    rules = {**ballot.rules, **{k: v for k, v in parse_rules(given).items() if k in given}}  # the rest as they were
    with write_transaction():
        entry = _record(actor, ballot, note[:1000], rules)
        if ballot.kind in ON_COUNT:
            ON_COUNT[ballot.kind](ballot, entry)
        audit.record(as_actor(actor).account, "ballot.correct", ("ballot", ballot.code), {"note": note[:200]})
    return entry


def revote(actor, ballot, data):
    """A re-vote of the items tied for the last places: a new ballot (parent = this one), same electorate."""
    found = result(ballot)
    if found is None or not found.data.get("revote"):
        raise Conflict("no_tie", "本次表决没有需要重新投票的并列事项")
    refs = {item.id: item.ref for item in items(ballot)}
    tied = [(row["name"], refs.get(row["id"], "")) for row in found.data["items"] if row["id"] in found.data["revote"]]
    elected = sum(1 for row in found.data["items"] if row["elected"])
    return create(actor, {**data, "title": data.get("title") or f"{ballot.title}（并列事项再次投票）",
                          "kind": ballot.kind, "method": "choose", "electorate": ballot.electorate,
                          "places": ballot.places - elected, "items": "", "entries": tied,
                          "deputies": [e.deputy.code for e in ballot.electors],
                          **{k: str(v) for k, v in ballot.rules.items()}}, parent=ballot)


def export_xlsx(ballot):
    """The result with turnout and every count, for the county's assessment."""
    from services.exports import table_xlsx
    found = result(ballot)
    if found is None:
        raise Conflict("not_closed", "投票结束后才能导出结果")
    data = found.data
    head = [("表决", ballot.title), ("类型", KINDS[ballot.kind]), ("方式", METHODS[ballot.method]),
            ("应投票人数", data["electors"] if data["electors"] is not None else "公众"), ("收回选票", data["papers"]),
            ("有效票", data["valid"]), ("无效票", data["invalid"]),
            ("达到法定人数", "是" if data["quorum_met"] else "否（结果无效）"),
            ("结果版本", f"第{found.seq}版" + (f"（更正：{found.note}）" if found.note else ""))]
    if ballot.method == "rate":
        body = [[r["rank"], r["name"], r["good"], r["fair"], r["poor"], r["marked"], percent(r["rate"]),
                 "是" if r["flagged"] else ""] for r in data["items"]]
        table = ("测评结果", ["名次", "评议对象", "满意", "基本满意", "不满意", "有效票", "满意率", "须整改"],
                 [8, 30, 10, 10, 10, 10, 10, 10], body)
    else:
        body = [[r["rank"], r["name"], r["votes"], "当选" if r["elected"] else
                 ("并列，须再次投票" if r["id"] in data["revote"] else "")] for r in data["items"]]
        table = ("票决结果", ["名次", "事项", "得票", "结果"], [8, 40, 10, 20], body)
    comments = [[c.comment] for c in Paper.select(Paper.comment).where(Paper.ballot == ballot, Paper.comment != "")
                .order_by(Paper.id)]
    return table_xlsx([("表决概况", ["项目", "内容"], [20, 60], head), table, ("意见建议", ["意见建议"], [80], comments)])


def linked(ballot, letter):
    """The result in force (None before the count) and [(record id, its result row)] for the items that stand
    for records of one kind (ref "<letter><id>": "c" candidate, "p" project, "m" micro-project)."""
    found = result(ballot)
    rows = {row["id"]: row for row in found.data["items"]} if found else {}
    return found, [(int(i.ref[1:]), rows[i.id]) for i in items(ballot)
                   if found and i.ref[:1] == letter and i.ref[1:].isdigit() and i.id in rows]


def percent(rate):
    return "—" if rate is None else f"{rate * 100:.1f}%"


def open_for(deputy):
    """The open ballots a deputy is listed in (the phone workbench shows them)."""
    return list(Ballot.select().join(Elector).where(Elector.deputy == deputy, Ballot.state == "open")
                .order_by(Ballot.closes_at))
