"""The statistics' 应办结 counts the cases in hand whose deadline is still ahead; every figure reads one kind of
matter, so `kind` joins the (state, deadline, …) index and that count is read from the index alone (it looked up
every such case's row: docs/performance.md, "Statistics dashboard"). The new index is built before the old one goes,
so nodes still running the old code keep theirs until then."""
from playhouse.migrate import make_index_name, migrate

OLD = ("state", "deadline", "submitted_at", "station_id", "lead_department_id", "deputy_id", "category", "project_id")


def up(db, migrator):
    migrate(migrator.add_index("case", (*OLD[:2], "kind", *OLD[2:])),
            migrator.drop_index("case", make_index_name("case", OLD)))
