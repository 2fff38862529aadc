"""代表建议 in the console: the list by session (with the 一览表 and the figures), drafting on a deputy's behalf,
and a suggestion's page with the forms of every step this account may take (office and department steps)."""
from flask import Response, flash, g, redirect, render_template, request, url_for

from handlers import suggestion_forms
from models import Deputy
from services import calendar, exports, stats, suggestions, uploads, workflow
from services.errors import NotFound, ServiceError
from services.vocab import CATEGORIES, RATINGS, SUGGESTION_STATES, session_label, state_label

from . import STAFF, actor, bp, fail, roles

KIND = "suggestion"
FIGURE_BY = {"department": "承办单位", "deputy": "领衔代表", "session": "会议", "category": "类别"}
HEADINGS = ["件数", "已交办", "应办结", "已答复", "办结率", "按期办结率", "已测评", "满意率", "办成率（A类）", "面商率"]


def _filters():
    f = {name: (request.args.get(name) or "").strip()[:32] for name in ("session", "state", "category", "department")}
    session = workflow.number(f, "session", "会议", 0, suggestions.MAX_SESSION) if f["session"] else None
    return f, session


def _figure_row(label, r):
    p = stats.percent
    return [label, r["total"], r["handled"], r["due"], r["concluded"], p(r["completion_rate"]), p(r["on_time_rate"]),
            r["rated"], p(r["satisfaction_rate"]), p(r["success_rate"]), p(r["consult_rate"])]


@bp.get("/suggestions")
@roles("staff", "admin", "department")
def suggestions_list():
    f, session = _filters()
    rows = list(suggestions.listed(actor(), session=session, state=f["state"], category=f["category"],
                                   department=f["department"]))
    staff = g.account.role != "department"
    figures = stats.suggestion_figures(session=session) if staff else None
    tables = {head: [_figure_row(r["label"], r) for r in stats.suggestion_figures(by=by, session=session)]
              for by, head in FIGURE_BY.items()} if staff else {}
    return render_template("console/suggestions.html", rows=rows, f=f, figures=figures, percent=stats.percent,
                           tables=tables, headings=HEADINGS,
                           states=SUGGESTION_STATES, categories=CATEGORIES, label=lambda c: state_label(
                               c.state, kind=KIND), sessions={n: session_label(n) for n in range(0, 11)},
                           number_text=suggestions.number_text)


@bp.get("/suggestions/list.xlsx")
@roles(*STAFF)
def suggestions_export():
    """拟办理代表建议一览表 of a session."""
    f, session = _filters()
    cases = suggestions.listed(actor(), session=session, state=f["state"], category=f["category"])
    name = f"代表建议一览表-{session_label(session) if session is not None else '全部'}.xlsx"
    return Response(exports.suggestion_list_xlsx(cases, session), mimetype=exports.XLSX_MIME,
                    headers=exports.attachment(name))


@bp.get("/suggestions/figures.xlsx")
@roles(*STAFF)
def suggestions_figures_export():
    _, session = _filters()
    widths = [24] + [10] * len(HEADINGS)
    sheets = [("总体", ["范围"] + HEADINGS, widths, [_figure_row("全部", stats.suggestion_figures(session=session))])]
    for by, head in FIGURE_BY.items():
        sheets.append((f"按{head}", [head] + HEADINGS, widths,
                       [_figure_row(r["label"], r) for r in stats.suggestion_figures(by=by, session=session)]))
    return Response(exports.table_xlsx(sheets), mimetype=exports.XLSX_MIME,
                    headers=exports.attachment("代表建议办理统计.xlsx"))


@bp.route("/suggestions/new", methods=["GET", "POST"])
@roles(*STAFF)
def suggestion_new():
    """Staff enter a deputy's suggestion on the deputy's behalf (the deputy is its 领衔代表)."""
    typed, status = {}, 200
    if request.method == "POST":
        try:
            typed = suggestion_forms.posted("draft", g.account)
            found = suggestions.draft(actor(), typed, source="console")
            flash(f"已保存草稿：{found.number}", "ok")
            return redirect(url_for("console.suggestion", number=found.number))
        except ServiceError as err:
            fail(err)
            status = err.status
    leads = {d.code: d.name for d in Deputy.select().order_by(Deputy.code)}
    return render_template("console/suggestion_new.html", typed=typed, leads=leads,
                           fields=suggestion_forms.fields("edit_draft") + [("attachments", "附件（图片）", "file", None)]
                           ), status


@bp.get("/suggestions/<number>")
@roles("staff", "admin", "department")
def suggestion(number):
    return render_suggestion(_get(number))


def _get(number):
    found = workflow.get_case(number, actor())
    if found.kind != KIND:
        raise NotFound("case_not_found", "建议不存在或无权查看")
    return found


def render_suggestion(found, typed=None, failed=None, status=200):
    who = actor()
    d = suggestions.detail(found)
    return render_template(
        "console/suggestion.html", case=found, d=d, allowed=workflow.allowed_actions(found, who),
        defaults=suggestion_forms.defaults(found, d),
        actions=suggestions.ACTIONS, fields_of=lambda name: suggestion_forms.fields(name, found, who), timeline=workflow.timeline(found, who),
        typed=typed or {}, failed=failed, ratings=RATINGS, upload_url=uploads.url_for_upload,
        kind_state=state_label(found.state, kind=KIND), today=calendar.today(),
        post_url=lambda name: url_for("console.suggestion_act", number=found.number, action=name)), status


@bp.post("/suggestions/<number>/act/<action>")
@roles("staff", "admin", "department")
def suggestion_act(number, action):
    who = actor()
    found = _get(number)
    if action not in suggestions.ACTIONS:
        return fail(ServiceError("unknown_action", "不支持的操作", status=404))
    if request.form.get("seen_state") in SUGGESTION_STATES:  # the state the form was shown in: stale forms fail
        found.state, found.version = request.form["seen_state"], request.form.get("seen_version", type=int)
    data = {}
    try:
        data = suggestion_forms.posted(action, g.account)
        workflow.perform(found, action, who, data)
        flash(f"已{suggestions.ACTIONS[action].label}：{found.number}", "ok")
    except ServiceError as err:
        fail(err)
        return render_suggestion(_get(number), typed=data, failed=action, status=err.status)
    return redirect(url_for("console.suggestion", number=number))
