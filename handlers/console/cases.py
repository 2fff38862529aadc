"""Cases: the queue (the department's inbox), the case page with its action forms, bulk assign, exports."""
import datetime as dt
from urllib.parse import urlencode

from flask import Response, flash, g, redirect, render_template, request, send_file, stream_with_context, url_for

from models import Answer, Assignment, Case, Department, Deputy, Project, Rating, Station
from services import calendar, exports, levels, notify, paging, search, stats, todo, uploads, workflow
from services.errors import ServiceError
from services.stats import scoped
from services.vocab import KIND_STATES

from . import EVERYONE, STAFF, actor, back, bp, fail, roles

FILTERS = ("state", "deputy", "station", "department", "category", "overdue", "round", "start", "end", "q", "todo",
           "figure", "source", "at_station", "project", "kind")
PER_PAGE = 50
DEPUTY_MENU = 500  # more deputies than this: the filter takes a code instead of a menu
PAGING = ("page", "after", "before", "last")  # the pager's own arguments (services/paging.py)
# lists by deadline, nearest today first (the most recently overdue, the soonest due): an index walk from today
# finds them, where newest-filed first read every case filed within one deadline period (docs/performance.md)
BY_DEADLINE = {"overdue": False, "s_overdue": False, "due_soon": True}  # to-do: ascending
# the action forms the console offers (deputies act in the mini-program; citizens never here)
CONSOLE_ACTIONS = ("accept", "decline", "assign", "sign", "return", "progress", "request_extension",
                   "approve_extension", "refuse_extension", "urge", "answer", "reopen", "close",
                   "publish", "unpublish", "reassign", "recall", "edit", "approve_content", "withhold", "merge",
                   "transfer", "contact", "callback", "rate_by_phone")


def _date(value):
    day = calendar.parse_day(value)
    if value and day is None:
        flash(f"日期格式有误：{value}", "error")
    return day


def filtered(args):
    """The queue for the signed-in account with the request's filters applied."""
    f = {name: (args.get(name) or "").strip() for name in FILTERS}
    end = _date(f["end"])
    query = scoped(todo.visible(g.account, kind=f["kind"] or "report"),  # the queue lists one kind at a time
                   start=_date(f["start"]), end=end and end + dt.timedelta(days=1),
                   station=Station.get_or_none(Station.code == f["station"]) if f["station"] else None)
    if f["station"] and not Station.select().where(Station.code == f["station"]).exists():
        query = query.where(False)
    if f["state"]:
        query = query.where(Case.state == f["state"])
    for name, field, model in (("deputy", Case.deputy, Deputy), ("department", Case.lead_department, Department),
                               ("at_station", Case.station, Station), ("project", Case.project, Project)):
        if f[name] == "-":  # none (a statistics row such as 未交办)
            query = query.where(field.is_null())
        elif f[name]:
            query = query.where(field.in_(model.select(model.id).where(model.code == f[name])))
    if f["category"]:
        query = query.where(Case.category == f["category"])
    if f["overdue"]:
        query = query.where(Case.state.in_(workflow.HANDLING_STATES), Case.deadline < calendar.today())
    if f["round"] == "2":
        query = query.where(Case.round >= 2)
    if f["figure"]:  # a statistics figure's drill-down: exactly the cases it counts
        where = stats.figure_condition(f["figure"])
        query = query.where(where if where is not None else False)
    if f["source"]:
        query = query.where(Case.source == f["source"])
    if f["todo"]:
        where = todo.condition(f["todo"], g.account)
        query = query.where(where if where is not None else False)
    if f["q"]:
        q = f["q"][:50]
        if Case.select().where(Case.number == q).exists():  # a case's number: its index, not a scan of every text
            query = query.where(Case.number == q)
        else:
            query = search.matching(query, q)  # what LIKE finds, looked up in the index of pieces (services/search.py)
    return query, f


@bp.get("/todo")
@roles("staff", "admin", "department")
def todo_home():
    return render_template("console/todo.html", items=todo.overview(g.account, todo.visible(g.account)),
                           age=todo.age, states=workflow.STATES, kind_states=KIND_STATES, push_modes=notify.PUSH_MODES,
                           push_mode=notify.push_mode(g.account))


@bp.post("/todo/push-mode")
@roles("staff")
def push_mode():
    try:
        notify.set_push_mode(g.account, request.form.get("mode"))
        flash(f"推送方式已改为：{notify.PUSH_MODES[request.form['mode']]}", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.todo_home"))


@bp.get("/cases")
@roles(*EVERYONE)
def cases():
    query, f = filtered(request.args)
    ascending = BY_DEADLINE.get("overdue" if f["overdue"] else f["todo"])
    rows, links = paging.page(exports.listed(query), request.args, PER_PAGE,
                              key=None if ascending is None else Case.deadline, ascending=bool(ascending))
    return render_template(
        "console/cases.html", rows=rows, f=f, total=paging.total(query, rows, links), links=links,
        by_deadline=ascending,
        states=KIND_STATES.get(f["kind"] or "report", workflow.STATES), categories=workflow.CATEGORIES,
        kinds=workflow.KIND_LABELS, today=calendar.today(), sources=workflow.SOURCES,
        figure_label=stats.figure_label(f["figure"]), todo_label={t.key: t.label for t in todo.todos_for(
            g.account)}.get(f["todo"]),
        departments=Department.select().where(Department.active == True).order_by(Department.code),  # noqa
        stations=Station.select().order_by(Station.path), deputies=deputy_menu(),
        query_string=urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in PAGING]),
        deadline_table=calendar.deadline_table())


def deputy_menu():
    """The deputies for the filter's menu, or None when there are too many for one (a province's 100,000):
    the filter then takes a deputy's code."""
    if len(Deputy.select(Deputy.id).limit(DEPUTY_MENU + 1).tuples()) > DEPUTY_MENU:  # read on an index, not sorted
        return None
    return list(Deputy.select(Deputy.code, Deputy.name).order_by(Deputy.code))


@bp.get("/cases/export.<fmt>")
@roles(*STAFF)
def export(fmt):
    query, _ = filtered(request.args)
    stamp = calendar.today().strftime("%Y%m%d")
    if fmt == "xlsx":  # written to a temporary file row by row, then sent from it: memory stays constant
        office = g.account.station if g.account.station_id else None
        sent = send_file(exports.to_xlsx(query, exports.list_title(station=office)), mimetype=exports.XLSX_MIME)
        sent.headers.update(exports.attachment(f"问题清单-{stamp}.xlsx"))
        return sent
    if fmt == "csv":  # streamed as it is read, a thousand cases at a time
        return Response(stream_with_context(exports.to_csv(query)), mimetype="text/csv; charset=utf-8",
                        headers=exports.attachment(f"问题清单-{stamp}.csv"))
    return Response("不支持的格式", status=404)


@bp.post("/cases/bulk-assign")
@roles(*STAFF)
def bulk_assign():
    numbers = request.form.getlist("numbers")
    if not numbers:
        flash("请先勾选要交办的案件", "error")
        return redirect(back(url_for("console.cases")))
    data = {"lead": request.form.get("lead"), "assist": request.form.getlist("assist"),
            "days": request.form.get("days"), "note": request.form.get("note", "")}
    done, failed = [], []
    for number in numbers:
        try:
            workflow.perform(workflow.get_case(number, actor()), "assign", actor(), data)
            done.append(number)
        except ServiceError as err:
            failed.append(f"{number}（{err.message}）")
    if done:
        flash(f"已交办 {len(done)} 件：{'、'.join(done)}", "ok")
    if failed:
        flash(f"{len(failed)} 件未能交办：{'；'.join(failed)}", "error")
    return redirect(back(url_for("console.cases")))


@bp.route("/cases/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_case():
    """代录: staff enter what a citizen reported at a reception day, by phone or by letter."""
    typed, status = {}, 200
    if request.method == "POST":
        typed = {key: request.form.get(key, "") for key in ("intake", "station", "deputy", "category",
                                                            "citizen_name", "contact_phone", "title", "content")}
        try:
            found = workflow.submit_case(actor(), typed, source=typed["intake"])
            flash(f"已代录：{found.number}", "ok")
            return redirect(url_for("console.case", number=found.number))
        except ServiceError as err:
            fail(err)
            status = err.status
    stations = Station.select().order_by(Station.path)
    if g.account.role == "staff" and g.account.station_id:
        stations = stations.where(Station.path.startswith(g.account.station.path))
    return render_template("console/case_new.html", typed=typed, stations=stations,
                           deputies=Deputy.select().where(Deputy.station.in_(stations)).order_by(Deputy.code),
                           categories=workflow.CATEGORIES, intakes=workflow.INTAKE_SOURCES), status


@bp.get("/cases/<number>")
@roles(*EVERYONE)
def case(number):
    who = actor()
    found = workflow.get_case(number, who)
    if found.kind == "suggestion":  # a suggestion has its own page (handlers/console/suggestions.py)
        return redirect(url_for("console.suggestion", number=number))
    if found.kind == "inquiry":  # a 问政 question has its own page
        return redirect(url_for("console.inquiry_question", number=found.number))
    return render_case(found, who)


def render_case(found, who, typed=None, failed=None, reveal=False, status=200):
    """The case page; after a refused form its typed values come back (`typed`, for action `failed`)."""
    allowed = [a for a in workflow.allowed_actions(found, who) if a in CONSOLE_ACTIONS] \
        if who.role != "deputy" else []
    return render_template(
        "console/case.html", case=found, who=who, allowed=allowed, actions=workflow.ACTIONS,
        timeline=workflow.timeline(found, who), show_reporter=workflow.reporter_visible(found, who),
        phone=found.contact_phone if reveal else workflow.mask_phone(found.contact_phone),
        can_reveal=workflow.may_see_phone(found, who) and bool(found.contact_phone) and not reveal,
        typed=typed or {}, failed=failed,
        assignments=list(found.assignments.order_by(Assignment.round, Assignment.id)),
        answers=list(found.answers.order_by(Answer.id)), ratings=list(found.ratings.order_by(Rating.id)),
        states=workflow.STATES, categories=workflow.CATEGORIES, decline_reasons=workflow.DECLINE_REASONS,
        return_reasons=workflow.RETURN_REASONS, answer_classes=workflow.ANSWER_CLASSES,
        transfer_targets=workflow.TRANSFER_TARGETS, callback_results=workflow.CALLBACK_RESULTS,
        sources=workflow.SOURCES, ratings_labels=workflow.RATINGS,
        departments=levels.departments_for(found.station), hand_over_options=levels.hand_over_options(found, who),
        deadline_table=calendar.deadline_table(), default_days=_default_days(), today=calendar.today(),
        upload_url=uploads.url_for_upload, insight=insight(found, who)), status


def insight(found, who):
    """民情分析 on the case page, for staff only and always as a suggestion: likely duplicates filed before this
    one (with a score, merged in one click), how many met the same problem (我也遇到), and for a new case the
    suggested category and lead department with the model's measured accuracy."""
    from services import analysis
    if who.role not in STAFF or found.kind != analysis.REPORT:
        return None
    duplicates = []
    if found.state in workflow.OPEN_STATES:
        duplicates = [(c, score) for c, score in analysis.similar(
            analysis.case_text(found), station=found.station_id, deputy=found.deputy_id, latitude=found.latitude,
            longitude=found.longitude, exclude=found.id, before=found) if workflow.can_view(c, who)]
    counts = analysis.support_counts([found.id] + [c.id for c, _ in duplicates])
    suggestion = analysis.suggest(found) if found.state in ("submitted", "accepted") else None
    return {"duplicates": duplicates, "counts": counts, "supporters": counts.get(found.id, 0),
            "suggestion": suggestion}


def _default_days():
    from flask import current_app
    return current_app.config.get("DEFAULT_DEADLINE_DAYS", 15)


@bp.post("/cases/<number>/phone")
@roles("staff", "admin", "department")
def reveal_phone(number):
    """The reporter's full phone, for those who may call them (回访); every view is in the audit log."""
    who = actor()
    found = workflow.get_case(number, who)
    workflow.reveal_phone(found, who)
    return render_case(found, who, reveal=True)


@bp.post("/cases/<number>/act/<action>")
@roles("staff", "admin", "department")
def act(number, action):
    who = actor()
    found = workflow.get_case(number, who)
    if action not in CONSOLE_ACTIONS or found.kind != "report":
        return fail(ServiceError("unknown_action", "不支持的操作", status=404))
    if request.form.get("seen_state") in workflow.STATES:  # the state the form was shown in: stale forms fail
        found.state, found.version = request.form["seen_state"], request.form.get("seen_version", type=int)
    data = {key: request.form.get(key) for key in request.form
            if key not in ("csrf_token", "next", "seen_state", "seen_version")}
    data["assist"] = request.form.getlist("assist")
    try:
        data["attachments"] = [uploads.save_attachment(f, g.account).token
                               for f in request.files.getlist("attachments") if f and f.filename]
        workflow.perform(found, action, who, data)
        flash(f"已{workflow.ACTIONS[action].label}：{found.number}", "ok")
    except ServiceError as err:
        fail(err)
        return render_case(workflow.get_case(number, who), who, typed=data, failed=action, status=err.status)
    return redirect(url_for("console.case", number=found.number))
