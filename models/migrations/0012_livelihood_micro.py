"""票决制 and 微实事: candidate projects (proposals screened into the 票决 list), the micro-project funds, their
micro-projects and spending entries; a ballot item says what it votes on (`ref`)."""
from peewee import SQL, CharField
from playhouse.migrate import migrate


def up(db, migrator):
    from models import MicroFund, MicroProject, MicroSpend, ProjectCandidate
    field = CharField(max_length=24, default="")
    field.constraints = [SQL("DEFAULT ''")]  # added in place (SQLite would otherwise rebuild the table)
    migrate(migrator.add_column("ballot_item", "ref", field, allow_not_null=True),
            migrator.add_index("ballot_item", ("ref",), False))
    db.create_tables([ProjectCandidate, MicroFund, MicroProject, MicroSpend])
