"""The console at a province's size: the holiday calendar the office edits (节假日安排) and the indexes the case
queue's filters read newest first (docs/performance.md, "Console at a million cases")."""
from playhouse.migrate import migrate


def up(db, migrator):
    from models import Holiday
    db.create_tables([Holiday])
    migrate(migrator.add_index("case", ("state", "submitted_at")),
            migrator.add_index("case", ("category", "submitted_at")),
            migrator.add_index("case", ("source", "submitted_at")),
            migrator.add_index("assignment", ("department_id", "case_id")))
