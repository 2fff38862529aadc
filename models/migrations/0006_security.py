"""Security (issue 14): the server-side session version of every account (logout and password change end
older sessions and tokens). Safe to run again: a column already there is left alone."""
from peewee import IntegerField


def up(db, migrator):
    from playhouse.migrate import migrate
    have = {c.name for c in db.get_columns("account")}
    if "session_version" not in have:
        migrate(migrator.add_column("account", "session_version", IntegerField(default=0)))
