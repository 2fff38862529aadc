"""The workflow as an engine over kinds of matter: Case.kind (report for every existing case), the tally keyed
by kind (rebuilt from the cases); and the tables of the suggestion kind (代表建议)."""
from peewee import SQL, CharField
from playhouse.migrate import migrate


def up(db, migrator):
    from models import CaseTally, Commitment, Evaluation, Signer, Suggestion
    from services import stats
    kind = CharField(max_length=12, default="report")
    kind.constraints = [SQL("DEFAULT 'report'")]  # added in place (SQLite would otherwise rebuild `case`)
    migrate(migrator.add_column("case", "kind", kind, allow_not_null=True),
            migrator.add_index("case", ("kind",)))
    db.drop_tables([CaseTally])
    db.create_tables([CaseTally])
    stats.rebuild()
    db.create_tables([Suggestion, Signer, Evaluation, Commitment])
