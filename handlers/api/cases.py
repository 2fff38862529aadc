"""Cases: uploads, reporting, "mine", detail, supplements, rating, and the deputy workbench."""
from flask import g, jsonify, request

from models import Answer, Case
from services import analysis, ratelimit, reports, uploads, workflow
from services.errors import InvalidInput, NotFound
from wechat.prepared import Prepared

from .common import body, bp, deputy_brief, login_required, paging, photos, station_brief, when, day


@bp.post("/uploads")
@login_required
def upload():
    """One image as multipart field `file`; its type is sniffed from the bytes and its EXIF removed."""
    file = request.files.get("file")
    if file is None:
        raise InvalidInput("missing_file", "请选择要上传的图片", field="file")
    ratelimit.hit(f"upload:{g.account.id}", 60, 3600, message="上传太频繁，请稍后再试")
    saved = uploads.save_image(file, account=g.account)
    return jsonify({"id": saved.token, "url": uploads.url_for_upload(saved.token), "width": saved.width,
                    "height": saved.height}), 201


@bp.post("/cases")
@login_required
def create_case():
    case, created = reports.submit(g.account, body())
    return jsonify({"case": case_detail(case, g.account), "created": created}), 201 if created else 200


@bp.get("/cases/mine")
@login_required
def my_cases():
    page, per_page = paging()
    rows, total = reports.mine(g.account, page, per_page)
    return jsonify({"cases": [case_brief(c, g.account) for c in rows], "total": total, "page": page,
                    "per_page": per_page})


@bp.get("/cases/<number>")
@login_required
def case(number):
    return jsonify({"case": case_detail(report(number), g.account)})


def report(number):
    """A report by its number (a suggestion has its own endpoints: /suggestions/<number>)."""
    found = workflow.get_case(number, g.account)
    if found.kind != "report":
        raise NotFound("case_not_found", "案件不存在或无权查看")
    return found


@bp.post("/cases/<number>/supplements")
@login_required
def supplement(number):
    data = body()
    reports.vet(g.account, data.get("note"))
    return act(number, "supplement", {"note": data.get("note"), "photos": data.get("photos") or [],
                                      "client_request_id": data.get("client_request_id")})


@bp.post("/cases/<number>/phone")
@login_required
def reveal_phone(number):
    """The reporter's full phone for those who may call them (回访); every view is in the audit log."""
    return jsonify({"phone": workflow.reveal_phone(workflow.get_case(number, g.account), g.account)})


@bp.post("/cases/<number>/rating")
@login_required
def rate(number):
    data = body()
    fresh = reports.rate(workflow.get_case(number, g.account), g.account, data)
    return jsonify({"case": case_detail(fresh, g.account)})


@bp.post("/cases/<number>/actions/<action>")
@login_required
def action(number, action):
    """Any action the workflow lets this person take now (the deputy's accept, decline, opinion, forward,
    reply; a citizen's supplement and rate); the buttons come from `allowed_actions`."""
    return act(number, action, body())


def act(number, action_name, data):
    fresh = workflow.perform(report(number), action_name, g.account, data)
    return jsonify({"case": case_detail(fresh, g.account)})


@bp.get("/deputy/cases")
@login_required
def deputy_cases():
    """The deputy's inbox: ?state=todo|open|closed|<state>, ?category=, ?q=, paged."""
    page, per_page = paging()
    args = request.args
    rows, total, counts = reports.deputy_inbox(g.account, args.get("state", ""), args.get("q", ""),
                                               args.get("category", ""), page, per_page)
    return jsonify({"cases": [case_brief(c, g.account) for c in rows], "total": total, "page": page,
                    "per_page": per_page, "counts": counts})


# --- shapes -----------------------------------------------------------------------------------------

def case_brief(case, account):
    citizen = account.role == "citizen"
    return {"number": case.number, "title": case.title, "category": case.category,
            "category_label": workflow.CATEGORIES.get(case.category, case.category), "state": case.state,
            "state_label": workflow.state_label(case.state, for_citizen=citizen),
            "submitted_at": when(case.submitted_at), "updated_at": when(case.updated_at),
            "deputy": case.deputy.name if case.deputy_id else None, "anonymous": case.anonymous,
            "rating": case.rating, **({} if citizen else {"flagged": case.flagged, "urge_level": case.urge_level,
                                                         "deadline": day(case.deadline)})}


def reporter_json(case, account):
    if case.reporter_id is None or case.reporter_id == account.id:
        return None
    if not workflow.reporter_visible(case, account):
        return {"anonymous": True, "display_name": "匿名群众"}
    reporter = case.reporter
    return {"anonymous": case.anonymous, "display_name": reporter.display_name or "群众",
            "phone": workflow.mask_phone(reporter.phone)}


def timeline_json(case, account, for_citizen):
    items = workflow.timeline(case, account, for_citizen=for_citizen)
    for item in items:
        item["at"] = when(item["at"])
        if item["data"].get("photos"):
            item["data"] = {**item["data"], "photos": photos(item["data"]["photos"])}
    return items


_ANSWERS = Prepared(lambda: Answer.select().where(Answer.case == Prepared.arg("case"))  # SQL built once
                    .order_by(Answer.round, Answer.created_at, Answer.id))


def case_detail(case, account):
    citizen = account.role == "citizen"
    visible = workflow.reporter_visible(case, account)
    answers = _ANSWERS.rows(case=case.id)
    return {
        **case_brief(case, account), "content": case.content, "photos": photos(case.photos),
        "location": case.location, "latitude": case.latitude, "longitude": case.longitude,
        "contact_phone": workflow.mask_phone(case.contact_phone) if visible else "",
        "reporter": reporter_json(case, account), "deputy": deputy_brief(case.deputy) if case.deputy_id else None,
        "station": station_brief(case.station) if case.station_id else None,
        "project": {"code": case.project.code, "name": case.project.name} if case.project_id else None,
        "round": case.round, "rating_label": workflow.RATINGS.get(case.rating, ""),
        "answers": [{"round": a.round, "answer_class": a.answer_class,
                     "answer_class_label": workflow.ANSWER_CLASSES.get(a.answer_class, ""), "text": a.text,
                     "department": a.department.name if a.department_id else None,
                     "attachments": photos(a.attachments), "at": when(a.created_at)} for a in answers],
        "timeline": timeline_json(case, account, for_citizen=citizen),
        "allowed_actions": [{"action": name, "label": workflow.actions_of(case)[name].label}
                            for name in workflow.allowed_actions(case, account)],
        **({} if citizen else {"flag_reason": case.flag_reason,
                               "can_reveal_phone": bool(case.contact_phone) and workflow.may_see_phone(case, account)}),
    }


@bp.get("/similar")
@login_required
def similar():
    """附近有相同的反映: open reports near the one being written (query: deputy | station | project, text,
    latitude, longitude), never who reported them."""
    ratelimit.hit(f"similar:{g.account.id}", 600, 3600, message="查询太频繁，请稍后再试")
    return jsonify({"similar": analysis.offers_for_report(request.args)})


@bp.post("/cases/<number>/support")
@login_required
def support(number):
    """我也遇到: the signed-in citizen met the same problem; counted once per person."""
    found = Case.get_or_none(Case.number == number)
    if found is None:
        raise NotFound("case_not_found", "未找到这条反映")
    count, added = analysis.support(found, g.account)
    return jsonify({"supporters": count, "added": added}), 201 if added else 200
