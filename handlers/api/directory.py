"""Public directory: deputies, stations, categories and projects (no sign-in needed), and following."""
from flask import g, jsonify, request

from services import directory, follows, uploads, workflow

from .common import bp, day, deputy_brief, login_required, optional_account, paging, station_brief, when


@bp.get("/deputies")
def deputies():
    """The public directory of serving deputies: ?station=<code> (its subtree), ?q=<name or code>."""
    page, per_page = paging()
    rows, total = directory.search_deputies(request.args.get("station"), request.args.get("q", ""), page, per_page)
    return jsonify({"deputies": [deputy_brief(d) for d in rows], "total": total, "page": page,
                    "per_page": per_page})


@bp.get("/deputies/<code>")
def deputy(code):
    found = directory.deputy_by_code(code)
    return jsonify({"deputy": {
        **deputy_brief(found), "constituency": found.constituency, "bio": found.bio,
        "public_contact": found.public_contact, "term_start": day(found.term_start), "term_end": day(found.term_end),
        "term_ended": directory.term_ended(found),
        "projects": [project_brief(p) for p in directory.supervised_projects(found)],
    }})


@bp.get("/stations/<code>")
def station(code):
    found = directory.station_by_code(code)
    return jsonify({"station": {
        "code": found.code, "name": found.name, "level": found.level,
        "level_label": directory.STATION_LEVELS.get(found.level, found.level), "kind": found.kind,
        "kind_label": directory.STATION_KINDS.get(found.kind, found.kind), "address": found.address,
        "reception_hours": found.reception_hours, "phone": found.phone,
        "parent": station_brief(found.parent) if found.parent_id else None,
        "children": [station_brief(s) for s in directory.station_children(found)],
        "deputies": [deputy_brief(d) for d in directory.station_deputies(found)],
    }})


@bp.get("/categories")
def categories():
    """Choices for the report form and the rating: codes with their Chinese labels."""
    pairs = lambda table: [{"code": k, "label": v} for k, v in table.items()]  # noqa: E731
    return jsonify({"categories": pairs(workflow.CATEGORIES), "ratings": pairs(workflow.RATINGS),
                    "decline_reasons": pairs(workflow.DECLINE_REASONS), "limits": workflow.LIMITS})


def project_brief(project):
    return {"code": project.code, "name": project.name, "year": project.year, "progress": project.progress,
            "status": project.status, "status_label": directory.PROJECT_STATUS.get(project.status, project.status)}


def project_json(project, account):
    return {"project": {
        **project_brief(project), "description": project.description, "budget": project.budget,
        "location": project.location, "planned_start": day(project.planned_start),
        "planned_end": day(project.planned_end),
        "department": project.department.name if project.department_id else None,
        "station": station_brief(project.station) if project.station_id else None,
        "milestones": [{"title": m.title, "planned_date": day(m.planned_date), "done_on": day(m.done_on),
                        "done": m.done_on is not None} for m in directory.project_milestones(project)],
        "updates": [{"text": u.text, "progress": u.progress, "photos": uploads.described(u.photos),
                     "at": when(u.created_at)}
                    for u in directory.project_updates(project)],
        "deputies": [deputy_brief(d) for d in directory.project_deputies(project)],
        "followers": follows.follower_count(project), "following": follows.is_following(account, project),
    }}


@bp.get("/projects/<code>")
def project(code):
    return jsonify(project_json(follows.project_by_code(code), optional_account()))


@bp.get("/me/follows")
@login_required
def followed():
    """The projects I follow."""
    return jsonify({"projects": [project_brief(p) for p in follows.followed(g.account)]})


@bp.put("/projects/<code>/follow")
@login_required
def follow(code):
    found = follows.project_by_code(code)
    follows.follow(g.account, found)
    return jsonify({"following": True, "followers": follows.follower_count(found)})


@bp.delete("/projects/<code>/follow")
@login_required
def unfollow(code):
    found = follows.project_by_code(code)
    follows.unfollow(g.account, found)
    return jsonify({"following": False, "followers": follows.follower_count(found)})
