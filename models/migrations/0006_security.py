"""Security (issue 14): the server-side session version of every account (logout and password change end
older sessions and tokens)."""
from peewee import IntegerField


def up(db, migrator):
    from playhouse.migrate import migrate
    migrate(migrator.add_column("account", "session_version", IntegerField(default=0)))
