"""民生实事项目 — creating and editing projects, milestones, supervising deputies and progress updates.

A progress update is a ProjectUpdate and the followers' notifications, written in one transaction.
"""
import datetime as dt
import re

from models import Deputy, Department, Milestone, Project, ProjectDeputy, ProjectUpdate, Station, db, retried, utcnow
from services import notify
from services.directory import PROJECT_STATUS as STATUSES
from services.errors import Forbidden, InvalidInput, NotFound
from services.workflow import as_actor, in_scope, number, require_scope, text, uploads

CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def can_manage(actor, project=None):
    """Staff manage projects; station-scoped staff only those of their subtree (county-wide ones are the
    county office's)."""
    actor = as_actor(actor)
    return actor.role in ("staff", "admin") and (project is None or in_scope(actor, project.station_id))


def can_view(project, actor):
    actor = as_actor(actor)
    if actor.role in ("staff", "admin"):
        return True
    if actor.role == "department":
        return project.department_id is not None and project.department_id == actor.account.department_id
    if actor.role == "deputy":
        return ProjectDeputy.select().where(ProjectDeputy.project == project,
                                            ProjectDeputy.deputy == actor.account.deputy_id).exists()
    return False


def can_update(project, actor):
    """Staff in scope and the project's own department report progress; deputies only watch."""
    actor = as_actor(actor)
    if actor.role in ("staff", "admin"):
        return can_manage(actor, project)
    return actor.role == "department" and can_view(project, actor)


def get(code, actor):
    project = Project.get_or_none(Project.code == str(code).strip().upper())
    if project is None or not can_view(project, actor):
        raise NotFound("project_not_found", "项目不存在或无权查看")
    return project


def visible(actor):
    actor = as_actor(actor)
    query = Project.select().order_by(Project.year.desc(), Project.code)
    if actor.role == "department":
        return query.where(Project.department == actor.account.department_id)
    if actor.role == "deputy":
        return query.where(Project.id.in_(ProjectDeputy.select(ProjectDeputy.project).where(
            ProjectDeputy.deputy == actor.account.deputy_id)))
    return query if actor.role in ("staff", "admin") else query.where(False)


def _date(data, name, label):
    value = (data.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_date", f"{label}格式应为 年-月-日", field=name) from None


def by_code(model, code, label):
    if not code:
        return None
    found = model.get_or_none(model.code == code)
    if found is None:
        raise InvalidInput("unknown_" + model.__name__.lower(), f"未找到{label}：{code}")
    return found


@retried
def save(actor, data, project=None):
    """Create (project=None) or edit a project from form data; supervising deputies by code."""
    if not can_manage(actor):
        raise Forbidden("not_permitted", "只有人大工作人员可以管理项目")
    if project is not None:
        require_scope(actor, project.station, "项目")
    fields = dict(
        name=text(data, "name", "项目名称", limit=120), description=text(data, "description", "项目简介",
                                                                   required=False, limit=2000),
        department=by_code(Department, data.get("department"), "责任单位"),
        station=by_code(Station, data.get("station"), "联络站"),
        year=number(data, "year", "年度", 2000, 2100), budget=number(data, "budget", "预算（元）", 0, 10 ** 11, 0),
        location=text(data, "location", "地点", required=False, limit=200),
        planned_start=_date(data, "planned_start", "计划开工"), planned_end=_date(data, "planned_end", "计划完工"),
        status=data.get("status") or "planned", published=bool(data.get("published", True)),
    )
    require_scope(actor, fields["station"], "项目")
    if fields["status"] not in STATUSES:
        raise InvalidInput("invalid_choice", "请选择项目状态", field="status")
    if fields["planned_start"] and fields["planned_end"] and fields["planned_end"] < fields["planned_start"]:
        raise InvalidInput("invalid_dates", "计划完工日期不能早于开工日期", field="planned_end")
    codes = [c.strip().upper() for c in data.get("deputies") or [] if c.strip()]
    deputies = list(Deputy.select().where(Deputy.code.in_(codes))) if codes else []
    if len(deputies) != len(set(codes)):
        raise InvalidInput("unknown_deputy", "领办代表有误，请核对代表码", field="deputies")
    with db.atomic():
        if project is None:
            code = (data.get("code") or "").strip().upper()
            if not CODE.match(code):
                raise InvalidInput("invalid_code", "项目编码应为2到16位大写字母或数字", field="code")
            if Project.select().where(Project.code == code).exists():
                raise InvalidInput("code_taken", f"项目编码 {code} 已被使用", field="code")
            project = Project(code=code)
        for name, value in fields.items():
            setattr(project, name, value)
        project.updated_at = utcnow()
        project.save()
        ProjectDeputy.delete().where(ProjectDeputy.project == project,
                                     ProjectDeputy.deputy.not_in([d.id for d in deputies] or [0])).execute()
        for deputy in deputies:
            ProjectDeputy.insert(project=project, deputy=deputy).on_conflict_ignore().execute()
    return project


def add_milestone(actor, project, data):
    if not can_manage(actor):
        raise Forbidden("not_permitted", "只有人大工作人员可以管理项目")
    require_scope(actor, project.station, "项目")
    return Milestone.create(project=project, title=text(data, "title", "节点名称", limit=100),
                            planned_date=_date(data, "planned_date", "计划日期"),
                            sort=project.milestones.count())


def finish_milestone(actor, project, milestone_id, done_on=None):
    if not can_update(project, actor):
        raise Forbidden("not_permitted", "无权更新此项目")
    milestone = Milestone.get_or_none(Milestone.id == milestone_id, Milestone.project == project)
    if milestone is None:
        raise NotFound("milestone_not_found", "节点不存在")
    from services.calendar import today
    milestone.done_on = done_on or today()
    milestone.save()
    return milestone


@retried
def add_update(actor, project, data):
    """A dated progress update with photos; the project's progress/status follow it; followers hear of it."""
    actor = as_actor(actor)
    if not can_update(project, actor):
        raise Forbidden("not_permitted", "无权更新此项目")
    body = text(data, "text", "进展内容", limit=1000, minimum=2)
    progress = data.get("progress")
    progress = None if progress in (None, "") else number(data, "progress", "完成进度（%）", 0, 100)
    photos = uploads(data, "photos", actor)
    with db.atomic():
        update = ProjectUpdate.create(project=project, author=actor.account, text=body, progress=progress,
                                      photos=photos)
        if progress is not None:
            project.progress = progress
            project.status = "completed" if progress == 100 else "in_progress" if progress else project.status
        project.updated_at = utcnow()
        project.save()
        notify.project_updated(project, update)
    return update
