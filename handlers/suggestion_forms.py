"""The forms of a suggestion's steps, shared by the console and the phone workbench: which fields each action
asks for (templates/suggestions/_actions.html renders them) and how a posted form becomes the action's data.
No rule lives here: services/suggestions.py checks every value."""
import re

from flask import request

from models import Deputy, Department
from services import levels, uploads
from services.vocab import (CATEGORIES, CONSULT_WAYS, EVALUATION_ITEMS, NOT_REGISTERED_REASONS, RATINGS,
                            RETURN_REASONS, SUGGESTION_CLASSES, session_label)
from services.suggestions import MAX_SESSION


def _departments():
    return {d.code: d.name for d in Department.select().where(Department.active == True).order_by(  # noqa: E712
        Department.code)}


def _deputies():
    return {d.code: d.name for d in Deputy.select().order_by(Deputy.code)}


def _sessions():
    return {str(n): session_label(n) for n in range(0, MAX_SESSION + 1)}


# field: (label, widget, options or None); widgets: text, textarea, select, multi, date, number, file
NOTE = ("说明", "textarea", None)
EVALUATE = [*[(name, (label, "select", RATINGS)) for name, label in EVALUATION_ITEMS.items()],
            ("comment", ("意见", "textarea", None))]
FORM = [("title", ("标题", "text", None)), ("cause", ("案由", "text", None)), ("reasons", ("理由和现状", "textarea", None)),
        ("measures", ("建议（具体措施）", "textarea", None)), ("category", ("类别", "select", CATEGORIES)),
        ("session", ("会议", "select", _sessions)), ("cosigners", ("附议代表", "multi", _deputies)),
        ("attachments", ("附件（图片）", "file", None))]


def fields(action, case=None, actor=None):
    """[(name, label, widget, options)] of one action's form (options resolved for selects; 转办's targets
    depend on the case and the acting office)."""
    spec = {
        "hand_over": [("to_station", ("转办到", "select", lambda: {
            s.code: s.name for s in (levels.hand_over_options(case, actor) if case is not None else [])})),
                      ("reason", ("转办原因", "text", None))],
        "edit_draft": [f for f in FORM if f[0] != "attachments"],
        "decline_cosign": [("note", NOTE)], "withdraw": [("note", NOTE)],
        "register": [("category", ("类别（可调整）", "select", {"": "不变", **CATEGORIES}))],
        "classify": [("category", ("类别", "select", CATEGORIES))],
        "merge": [("original", ("并入的建议编号", "text", None)), ("reason", ("并案理由", "text", None))],
        "not_register": [("reason", ("不予立案的原因", "select", NOT_REGISTERED_REASONS)), ("note", NOTE)],
        "mark_key": [("leader", ("领衔督办领导", "text", None))],
        "assign": [("lead", ("主办单位", "select", _departments)), ("assist", ("协办单位", "multi", _departments)),
                   ("joint", ("会办单位", "multi", _departments)), ("months", ("办理时限（月，不填按默认）", "number", None)),
                   ("note", NOTE)],
        "return": [("reason", ("退回原因", "select", RETURN_REASONS)), ("note", NOTE)],
        "assist_opinion": [("note", ("协办意见", "textarea", None))],
        "consult": [("how", ("面商方式", "select", CONSULT_WAYS)), ("when", ("面商日期", "date", None)),
                    ("who", ("参加人员", "text", None)), ("note", ("面商情况", "textarea", None))],
        "progress": [("note", ("办理进展", "textarea", None))],
        "request_extension": [("days", ("延期天数（工作日）", "number", None)), ("reason", ("延期理由", "text", None))],
        "refuse_extension": [("note", NOTE)], "urge": [("note", NOTE)],
        "answer": [("answer_class", ("答复类别", "select", SUGGESTION_CLASSES)), ("text", ("答复内容", "textarea", None)),
                   ("letter", ("盖章的答复函（PDF）", "file", None)),
                   ("promise", ("承诺事项（B类必填）", "text", None)), ("promise_due", ("承诺兑现日期（B类必填）", "date", None))],
        "evaluate": EVALUATE, "co_evaluate": EVALUATE,
        "reopen": [("months", ("重新办理时限（月，不填按默认）", "number", None)), ("note", NOTE)],
        "close": [("note", NOTE)], "commitment_done": [("note", ("兑现情况", "textarea", None))],
    }.get(action, [])
    return [(name, label, widget, options() if callable(options) else options)
            for name, (label, widget, options) in spec]


def defaults(case, detail):
    """What a form shows before anything is typed: the draft's own values in 修改草稿."""
    form = detail["form"]
    return {"edit_draft": {"title": case.title, "cause": form.cause, "reasons": form.reasons,
                           "measures": form.measures, "category": case.category, "session": str(form.session),
                           "cosigners": [s.deputy.code for s in detail["signers"] if s.role == "co"]}}


MULTI = ("assist", "joint", "cosigners")
SKIP = ("csrf_token", "next", "seen_state", "seen_version", "action")


def posted(action=None, account=None):
    """The posted form as the action's data: lists for the multi-selects, the letter and the attachments
    saved as uploads (a PDF letter, images), empty optional numbers left out (the service's defaults apply)."""
    data = {key: request.form.get(key) for key in request.form if key not in SKIP and key not in MULTI}
    for key in MULTI:
        if key in request.form or action in ("draft", "edit_draft") and key == "cosigners":
            data[key] = [v for v in request.form.getlist(key) if v]
    if "from_reports" in data:  # report numbers typed in one box
        data["from_reports"] = [n for n in re.split(r"[\s,，、;；]+", data["from_reports"] or "") if n]
    for key in ("months", "days"):
        if data.get(key) == "":
            data.pop(key)
    letter = request.files.get("letter")
    if letter and letter.filename:
        data["letter"] = uploads.save_attachment(letter, account).token
    files = [f for f in request.files.getlist("attachments") if f and f.filename]
    if files or action == "draft":
        data["attachments"] = [uploads.save_image(f, account).token for f in files]
    return data
