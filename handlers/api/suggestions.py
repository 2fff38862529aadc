"""代表建议 for the mini-program's deputy workbench: drafting, co-signing, submitting and the deputy's 测评
(services/suggestions.py; the same steps as the phone workbench /m/suggestions)."""
from flask import g, jsonify

from services import suggestions, workflow
from services.errors import NotFound
from services.vocab import (CATEGORIES, EVALUATION_ITEMS, RATINGS, SUGGESTION_CLASSES, session_label,
                            state_label)

from .common import body, bp, day, login_required, photos, when

API_ACTIONS = ("edit_draft", "cosign", "decline_cosign", "submit", "withdraw", "evaluate", "co_evaluate")


def _get(number):
    found = workflow.get_case(number, g.account)
    if found.kind != "suggestion":
        raise NotFound("case_not_found", "建议不存在或无权查看")
    return found


def brief(case):
    form = suggestions.form(case)
    return {"number": case.number, "title": case.title, "state": case.state,
            "state_label": state_label(case.state, for_citizen=True, kind="suggestion"),
            "category": case.category, "category_label": CATEGORIES.get(case.category, ""),
            "session": form.session, "session_label": session_label(form.session),
            "registered_number": suggestions.number_text(form) or None, "deadline": day(case.deadline),
            "lead_deputy": case.deputy.name if case.deputy_id else None, "updated_at": when(case.updated_at)}


def detail(case):
    d = suggestions.detail(case)
    form = d["form"]
    return {
        **brief(case), "cause": form.cause, "reasons": form.reasons, "measures": form.measures,
        "attachments": photos(case.photos), "from_reports": form.from_reports, "round": case.round,
        "key_leader": form.key_leader or None,
        "signers": [{"code": s.deputy.code, "name": s.deputy.name, "role": s.role,
                     "confirmed": s.confirmed_at is not None, "declined": s.declined_at is not None}
                    for s in d["signers"]],
        "departments": [{"name": a.department.name, "role": a.role} for a in d["assignments"]],
        "answers": [{"round": a.round, "answer_class": a.answer_class,
                     "answer_class_label": SUGGESTION_CLASSES.get(a.answer_class, ""), "text": a.text,
                     "letter": photos(a.attachments), "at": when(a.created_at)} for a in d["answers"]],
        "evaluations": [{"round": e.round, "deputy": e.deputy.name, "comment": e.comment,
                         **{k: e.__data__[k] for k in EVALUATION_ITEMS},
                         **{f"{k}_label": RATINGS[e.__data__[k]] for k in EVALUATION_ITEMS}} for e in d["evaluations"]],
        "commitments": [{"text": c.text, "due": day(c.due), "done": c.done_at is not None} for c in d["commitments"]],
        "timeline": [{**item, "at": when(item["at"])} for item in workflow.timeline(case, g.account)],
        "allowed_actions": [{"action": name, "label": suggestions.ACTIONS[name].label}
                            for name in workflow.allowed_actions(case, g.account) if name in API_ACTIONS],
    }


@bp.get("/suggestions")
@login_required
def suggestion_list():
    """The signed-in deputy's suggestions: led, co-signed and the invitations to co-sign."""
    return jsonify({"suggestions": [brief(c) for c in suggestions.listed(g.account)]})


@bp.post("/suggestions")
@login_required
def suggestion_draft():
    case = suggestions.draft(g.account, body(), source="miniprogram")
    return jsonify({"suggestion": detail(case)}), 201


@bp.get("/suggestions/<number>")
@login_required
def suggestion(number):
    return jsonify({"suggestion": detail(_get(number))})


@bp.post("/suggestions/<number>/actions/<action>")
@login_required
def suggestion_action(number, action):
    if action not in API_ACTIONS:
        raise NotFound("unknown_action", "不支持的操作")
    fresh = workflow.perform(_get(number), action, g.account, body())
    return jsonify({"suggestion": detail(fresh)})
