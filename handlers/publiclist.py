"""GET /public/cases — the published issue list (问题清单): resolution state, no personal data,
and each department's figures (from services.stats, the one definition)."""
from flask import Blueprint, render_template, request

from models import Case, Department
from services import stats, workflow
from services.workflow import ANSWER_CLASSES, CATEGORIES, RATINGS, state_label

bp = Blueprint("publiclist", __name__)
PER_PAGE = 30


@bp.get("/public/cases")
def cases():
    department = Department.get_or_none(Department.code == request.args.get("department", ""))
    query = Case.select(Case.number, Case.title, Case.category, Case.state, Case.answer_class, Case.rating,
                        Case.submitted_at, Case.closed_at, Case.lead_department).where(Case.published == True)  # noqa
    if department is not None:
        query = query.where(Case.lead_department == department)
    page = workflow.page(request.args)
    total = query.count()
    rows = list(query.order_by(Case.submitted_at.desc(), Case.id.desc()).paginate(page, PER_PAGE))
    names = {d.id: d.name for d in Department.select()}
    figures = [r for r in stats.figures(by="department") if r["key"] is not None]
    return render_template("publiclist/cases.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), names=names, figures=figures,
                           department=department, departments=Department.select().order_by(Department.code),
                           categories=CATEGORIES, answer_classes=ANSWER_CLASSES, ratings=RATINGS,
                           state_label=state_label, percent=stats.percent, floor=stats.SATISFACTION_FLOOR)


def init_app(app):
    app.register_blueprint(bp)
