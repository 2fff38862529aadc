"""民生实事项目: list, create and edit, milestones, progress updates with photos, plaque download."""
from flask import flash, g, redirect, render_template, request, url_for

from models import Case, Department, Deputy, Follow, Milestone, ProjectDeputy, ProjectUpdate, Station
from services import livelihood, micro, projects, stats, uploads
from services.directory import PROJECT_STATUS
from services.errors import ServiceError
from services.money import yuan
from services.workflow import require_scope

from . import EVERYONE, STAFF, actor, bp, fail, roles


def _form():
    data = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    data["deputies"] = [c for c in request.form.get("deputies", "").replace("，", ",").split(",") if c.strip()]
    data["published"] = bool(request.form.get("published"))
    return data


def _choices():
    return dict(departments=Department.select().order_by(Department.code), statuses=PROJECT_STATUS,
                stations=Station.select().order_by(Station.path))


@bp.get("/projects")
@roles(*EVERYONE)
def projects_list():
    rows = list(projects.visible(actor()))
    figures = {r["key"]: r for r in stats.figures(by="project")}
    return render_template("console/projects.html", rows=rows, figures=figures, statuses=PROJECT_STATUS,
                           percent=stats.percent)


@bp.route("/projects/new", methods=["GET", "POST"])
@roles(*STAFF)
def project_new():
    if request.method == "POST":
        try:
            project = projects.save(actor(), _form())
            flash(f"已创建项目 {project.code}", "ok")
            return redirect(url_for("console.project", code=project.code))
        except ServiceError as err:
            fail(err)
    return render_template("console/project_form.html", project=None, form=request.form, **_choices())


@bp.route("/projects/<code>/edit", methods=["GET", "POST"])
@roles(*STAFF)
def project_edit(code):
    project = projects.get(code, actor())
    require_scope(actor(), project.station, "项目")
    if request.method == "POST":
        try:
            projects.save(actor(), _form(), project)
            flash("项目已保存", "ok")
            return redirect(url_for("console.project", code=project.code))
        except ServiceError as err:
            fail(err)
    form = request.form if request.method == "POST" else None
    return render_template("console/project_form.html", project=project, form=form, **_choices())


@bp.get("/projects/<code>")
@roles(*EVERYONE)
def project(code):
    found = projects.get(code, actor())
    return render_template(
        "console/project.html", project=found, statuses=PROJECT_STATUS, who=actor(),
        can_manage=projects.can_manage(actor(), found), can_update=projects.can_update(found, actor()),
        supervisors=list(Deputy.select().join(ProjectDeputy).where(ProjectDeputy.project == found)),
        milestones=list(found.milestones.order_by(Milestone.sort, Milestone.id)),
        updates=list(found.updates.order_by(ProjectUpdate.created_at.desc(), ProjectUpdate.id.desc())),
        followers=Follow.select().where(Follow.project == found).count(),
        figures=stats.figures(project=found.id), cases=list(found.cases.order_by(Case.submitted_at.desc())),
        percent=stats.percent, upload_url=uploads.url_for_upload, micro=micro.of_project(found), yuan=yuan,
        origin=livelihood.origin(found), evaluation=livelihood.evaluation(found))


@bp.post("/projects/<code>/milestones")
@roles(*STAFF)
def milestone_add(code):
    found = projects.get(code, actor())
    try:
        projects.add_milestone(actor(), found, request.form)
        flash("已添加节点", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.project", code=found.code))


@bp.post("/projects/<code>/milestones/<int:milestone_id>/done")
@roles("staff", "admin", "department")
def milestone_done(code, milestone_id):
    found = projects.get(code, actor())
    try:
        projects.finish_milestone(actor(), found, milestone_id)
        flash("节点已标记完成", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.project", code=found.code))


@bp.post("/projects/<code>/updates")
@roles("staff", "admin", "department")
def project_update(code):
    found = projects.get(code, actor())
    try:
        photos = [uploads.save_attachment(f, g.account).token for f in request.files.getlist("photos")
                  if f and f.filename]
        projects.add_update(actor(), found, {"text": request.form.get("text"),
                                             "progress": request.form.get("progress"), "photos": photos})
        flash("已发布进展，关注者将收到通知", "ok")
    except ServiceError as err:
        fail(err)
    return redirect(url_for("console.project", code=found.code))
