"""The office's corrections: a staff summary, merged duplicates, transfers (转办), reports entered on a
citizen's behalf, the review of flagged content, and ratings given by phone. 代表响应 now counts only the
deputy's own first accept / decline / forward, so Case.responded_at is recounted from the timeline."""
from peewee import SQL, BooleanField, CharField, ForeignKeyField, TextField, fn
from playhouse.migrate import migrate


def _with_default(migrator, table, name, field, default):
    """A NOT NULL column with a database default, added in place (SQLite would otherwise rebuild the table,
    which its foreign keys refuse)."""
    field.constraints = [SQL(f"DEFAULT {default}")]
    return migrator.add_column(table, name, field, allow_not_null=True)


def up(db, migrator):
    from models import Account, Case, CaseEvent
    from services import stats
    from services.workflow import RESPONSES
    migrate(_with_default(migrator, "case", "summary", TextField(default=""), "''"),
            migrator.add_column("case", "merged_into_id", ForeignKeyField(Case, null=True, field=Case.id,
                                                                          on_delete="RESTRICT")),
            _with_default(migrator, "case", "transfer_to", CharField(max_length=32, default=""), "''"),
            migrator.add_column("case", "entered_by_id", ForeignKeyField(Account, null=True, field=Account.id,
                                                                         on_delete="SET NULL")),
            _with_default(migrator, "case", "review", CharField(max_length=8, default=""), "''"),
            _with_default(migrator, "rating", "by_phone", BooleanField(default=False), "0"))
    first = CaseEvent.select(fn.MIN(CaseEvent.at)).where(CaseEvent.case == Case.id, CaseEvent.action.in_(RESPONSES),
                                                         CaseEvent.actor_role == "deputy")
    Case.update(responded_at=first).execute()
    stats.rebuild()
