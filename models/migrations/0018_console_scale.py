"""The console at a province's size: the holiday calendar the office edits (节假日安排) and the indexes the case
queue's filters read newest first, in place of single-column ones MariaDB intersected (docs/performance.md,
"Console at a million cases")."""
from playhouse.migrate import migrate


def up(db, migrator):
    from models import Holiday
    db.create_tables([Holiday])
    migrate(migrator.add_index("case", ("state", "submitted_at")),
            migrator.add_index("case", ("category", "submitted_at")),
            migrator.add_index("case", ("source", "submitted_at")),
            migrator.add_index("case", ("round", "submitted_at")),
            migrator.add_index("assignment", ("department_id", "case_id")),
            # replaced by the composites above (each keeps its foreign key's index): MariaDB intersected these
            *(migrator.drop_index("case", f"case_{column}") for column in (
                "state", "category", "deputy_id", "station_id", "lead_department_id")))
