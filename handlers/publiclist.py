"""GET /public/cases — the published issue list (问题清单): for each published case its public state, the
department's answer and the result (class and the citizen's rating), nothing personal (no reporter, phone,
place or the report's own text); each department's figures (from services.stats, the one definition).
Mobile first: cards, no wide tables (it fits a 320-px phone)."""
from flask import Blueprint, render_template, request

from models import Answer, Case, Department
from services import stats, workflow
from services.workflow import ANSWER_CLASSES, CATEGORIES, RATINGS, state_label

bp = Blueprint("publiclist", __name__)
PER_PAGE = 30


@bp.get("/public/cases")
def cases():
    department = Department.get_or_none(Department.code == request.args.get("department", ""))
    query = Case.select(Case.id, Case.number, Case.title, Case.category, Case.state, Case.answer_class, Case.rating,
                        Case.submitted_at, Case.closed_at, Case.lead_department).where(Case.published == True, Case.kind == "report")  # noqa
    if department is not None:
        query = query.where(Case.lead_department == department)
    page = workflow.page(request.args)
    total = query.count()
    rows = list(query.order_by(Case.submitted_at.desc(), Case.id.desc()).paginate(page, PER_PAGE))
    names = {d.id: d.name for d in Department.select()}
    answers = {}  # case id -> its latest answer's text
    if rows:
        for answer in Answer.select(Answer.case, Answer.text).where(Answer.case.in_([c.id for c in rows])).order_by(
                Answer.round, Answer.id):
            answers[answer.case_id] = answer.text
    figures = [r for r in stats.figures(by="department") if r["key"] is not None]
    return render_template("publiclist/cases.html", rows=rows, answers=answers, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), names=names, figures=figures,
                           department=department, departments=Department.select().order_by(Department.code),
                           categories=CATEGORIES, answer_classes=ANSWER_CLASSES, ratings=RATINGS,
                           state_label=state_label, percent=stats.percent, floor=stats.SATISFACTION_FLOOR)


def init_app(app):
    app.register_blueprint(bp)
