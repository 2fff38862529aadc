"""A citizen's report from the mini-program (or H5): rate limit, WeChat content check, then the workflow.

Content check (msgSecCheck v2): `risky` → refused with a clear message; `review` → accepted and
flagged for staff; WeChat unreachable or erring → accepted and flagged. A report is never lost
because WeChat is down. A replayed client request id returns the first case without a second check
and without counting against the rate limit.
"""
from flask import current_app
from peewee import fn

from models import Case, retried
from services import ratelimit, workflow
from services.errors import Forbidden, InvalidInput

FLAG_REVIEW = "内容安全检查建议人工复核"
FLAG_UNAVAILABLE = "内容安全检查暂不可用，待人工复核"
FLAG_UNCHECKED = "未经内容安全检查，待人工复核"
RISKY_MESSAGE = "内容可能含有违规信息，请修改后再提交"


def check_text(account, content):
    """'' when the text passed, else the reason to flag it; raises InvalidInput when WeChat says risky."""
    from wechat import client
    from wechat.errors import WeChatAPIError, WeChatUnavailable
    if not account.openid:
        return FLAG_UNCHECKED
    try:
        verdict = client.msg_sec_check(account.openid, content, scene=2)
    except WeChatAPIError as err:
        if err.errcode == 87014:  # v1's "risky content", in case v2 answers with it
            raise InvalidInput("content_risky", RISKY_MESSAGE) from None
        current_app.logger.warning("msg_sec_check failed: %s", err)
        return FLAG_UNAVAILABLE
    except WeChatUnavailable as err:
        current_app.logger.warning("msg_sec_check unreachable: %s", err)
        return FLAG_UNAVAILABLE
    if verdict == "risky":
        raise InvalidInput("content_risky", RISKY_MESSAGE)
    return FLAG_REVIEW if verdict == "review" else ""


def submit(account, data, source="miniprogram"):
    """Returns (case, created). created is False for a replayed client request id. The cheap checks of the
    form come first (workflow.submit_case), so WeChat is asked only about a report that could be filed."""
    def vet(fields):
        limit, window = current_app.config.get("REPORT_RATE_LIMIT", (10, 3600))
        ratelimit.hit(f"report:{account.id}", limit, window, message="您提交得太频繁了，请稍后再试")
        return check_text(account, "\n".join(filter(None, [str(data.get("title") or "").strip(), fields["content"],
                                                            fields["location"]])))
    case = workflow.submit_case(account, data, source=source, vet=vet)
    return case, not getattr(case, "replayed", False)


def web_reporter_of(data):
    """The browser-only citizen who already filed this form (its client_request_id, a random token only
    that browser's page held), so a re-post after a lost answer reaches the first case instead of a 409.
    None when there is none, or the reporter has any other identity (WeChat, phone, a login)."""
    request_id = workflow.request_id_of(data)
    first = Case.get_or_none(Case.client_request_id == request_id) if request_id else None
    reporter = first.reporter if first is not None and first.reporter_id else None
    if reporter is None or reporter.role != "citizen" or reporter.openid or reporter.oa_openid \
            or reporter.username or reporter.phone:
        return None
    return reporter


def vet(account, text_):
    """Refuse risky text in follow-ups (supplements, rating comments); anything else goes through."""
    if str(text_ or "").strip():
        check_text(account, str(text_))


@retried
def rate(case, account, data):
    """A reporter rates the answer (every door: mini-program, H5, official account). 不满意 must say why,
    and opens the next round at once when rounds are left (MAX_ROUNDS): rating and reopening commit together."""
    value = workflow.choice(data, "value", workflow.RATINGS, "评价")
    comment = workflow.text(data, "comment", "评价意见", required=False)
    if value == "unsatisfied" and not comment:
        raise InvalidInput("reason_required", "请写一写哪里不满意，以便承办单位重新办理", field="comment")
    vet(account, comment)
    with workflow.write_transaction():
        fresh = workflow.perform(case, "rate", account, {"value": value, "comment": comment})
        if fresh.rating == "unsatisfied" and "reopen" in workflow.allowed_actions(fresh, workflow.SYSTEM):
            fresh = workflow.perform(fresh, "reopen", workflow.SYSTEM, {})
    return fresh


def answers(case):
    """The departments' answers to this case, latest first, in the citizen's words."""
    from models import Answer
    return [{"round": a.round, "department": a.department.name if a.department_id else "承办单位",
             "klass": a.answer_class, "klass_label": workflow.ANSWER_CLASSES.get(a.answer_class, ""),
             "text": a.text, "attachments": list(a.attachments or []), "at": a.created_at}
            for a in case.answers.order_by(Answer.round.desc(), Answer.id.desc())]


def mine(account, page=1, per_page=20):
    """The reporter's own cases, newest first. Returns (rows, total)."""
    query = Case.select().where(Case.reporter == account)
    return list(query.order_by(Case.submitted_at.desc(), Case.id.desc()).paginate(page, per_page)), query.count()


INBOX_FILTERS = {"todo": ("submitted",), "open": workflow.OPEN_STATES,
                 "closed": tuple(s for s in workflow.STATES if s not in workflow.OPEN_STATES)}


def deputy_inbox(account, state="", q="", category="", page=1, per_page=20):
    """The cases that came in through this deputy's code (or projects they supervise), with counts per state.

    Returns (rows, total, counts). `state` is a state code or one of INBOX_FILTERS."""
    if account.role != "deputy" or not account.deputy_id:
        raise Forbidden("not_deputy", "只有人大代表可以使用代表工作台")
    base = Case.select().where(workflow.deputy_cases(account.deputy), Case.kind == "report")
    counts = {row.state: row.n for row in base.select(Case.state, fn.COUNT(Case.id).alias("n")).group_by(Case.state)}
    query = base
    if state:
        states = INBOX_FILTERS.get(state) or ((state,) if state in workflow.STATES else None)
        if states is None:
            raise InvalidInput("invalid_choice", "请选择有效的状态", field="state")
        query = query.where(Case.state.in_(states))
    if category:
        query = query.where(Case.category == workflow.choice({"category": category}, "category",
                                                             workflow.CATEGORIES, "问题类别"))
    q = str(q or "").strip()[:50]
    if q:
        query = query.where(Case.title.contains(q) | Case.content.contains(q) | (Case.number == q))
    total = query.count()
    rows = list(query.order_by(Case.submitted_at.desc(), Case.id.desc()).paginate(page, per_page))
    return rows, total, {s: counts.get(s, 0) for s in workflow.STATES}


DEPARTMENT_TABS = {"todo": ("assigned",), "open": ("in_progress",), "closed": workflow.CONCLUDED_STATES}


def department_inbox(account, tab="todo", page=1, per_page=20):
    """A department's cases: assigned to it in the current round and waiting to be signed (todo), in hand
    (open), or answered (closed, any case ever assigned to it). Returns (rows, total, counts per tab)."""
    from models import Assignment
    if account.role != "department" or not account.department_id:
        raise Forbidden("not_department", "只有承办单位可以使用承办工作台")
    current = Assignment.select(Assignment.case).where(Assignment.department == account.department_id,
                                                       Assignment.active == True,  # noqa: E712
                                                       Assignment.round == Case.round)
    ever = Assignment.select(Assignment.case).where(Assignment.department == account.department_id)
    queries = {name: Case.select().where(Case.kind == "report", Case.state.in_(states),
                                         Case.id.in_(ever if name == "closed" else current))
               for name, states in DEPARTMENT_TABS.items()}
    if tab not in queries:
        raise InvalidInput("invalid_choice", "请选择有效的分类", field="tab")
    query = queries[tab]
    order = (Case.deadline, Case.id) if tab != "closed" else (Case.answered_at.desc(), Case.id)
    rows = list(query.order_by(*order).paginate(page, per_page))
    return rows, query.count(), {name: q.count() for name, q in queries.items()}
