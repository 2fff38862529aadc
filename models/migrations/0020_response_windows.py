"""响应率 from the tally: case_tally counts the first responses within 12, 24, 48 and 72 hours (services/stats.py
WINDOWS), so the statistics page no longer counts them over every case of the period (at 1 M cases 3.8 s); the
columns are added with a database default and filled by recounting the tally."""
from peewee import SQL, IntegerField
from playhouse.migrate import migrate


def up(db, migrator):
    from services import stats
    columns = []
    for name in stats.WINDOWS:
        field = IntegerField(default=0)
        field.constraints = [SQL("DEFAULT 0")]  # added in place (SQLite would otherwise rebuild the table)
        columns.append(migrator.add_column("case_tally", name, field, allow_not_null=True))
    migrate(*columns)
    stats.rebuild()
