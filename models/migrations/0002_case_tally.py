"""The statistics tally: Case.responded_at (first accept / decline / forward) and the case_tally table the
dashboard reads, both filled from what the database already holds; the (state, deadline) index widened to
cover the live count of cases in hand and not yet due."""
from peewee import DateTimeField, fn
from playhouse.migrate import migrate


def up(db, migrator):
    from models import Case, CaseEvent, CaseTally
    from services import stats
    from services.workflow import RESPONSES
    migrate(migrator.add_column("case", "responded_at", DateTimeField(null=True)),
            migrator.drop_index("case", "case_state_deadline"),
            migrator.add_index("case", ("state", "deadline", "submitted_at", "station_id", "lead_department_id",
                                        "deputy_id", "category", "project_id")))
    first = CaseEvent.select(fn.MIN(CaseEvent.at)).where(CaseEvent.case == Case.id, CaseEvent.action.in_(RESPONSES),
                                                         CaseEvent.actor_role == "deputy")  # the rule since 0008
    Case.update(responded_at=first).execute()
    db.create_tables([CaseTally])
    stats.rebuild()
