"""Security (issue 14): the server-side session version of every account (logout and password change end
older sessions and tokens), and phone numbers encrypted at rest (models/sealing.py): the columns widened
to 128 characters, the numbers already there sealed. Safe to run again."""
from peewee import IntegerField


def up(db, migrator):
    from playhouse.migrate import migrate

    from models import is_mysql, sealing
    if "session_version" not in {c.name for c in db.get_columns("account")}:
        migrate(migrator.add_column("account", "session_version", IntegerField(default=0)))
    if is_mysql():   # SQLite does not enforce VARCHAR lengths
        for table, column in sealing.COLUMNS:
            db.execute_sql(f"ALTER TABLE `{table}` MODIFY `{column}` VARCHAR(128) NOT NULL DEFAULT ''")
    sealing.reseal(db, is_mysql())
