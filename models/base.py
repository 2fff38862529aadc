"""The database proxy, the base model and small field helpers shared by every table."""
import datetime as dt
import json

from peewee import DatabaseProxy, Model, TextField
from playhouse.db_url import connect

db = DatabaseProxy()


def utcnow():
    """Naive UTC now: every timestamp is stored in UTC and shown in the configured time zone."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class JSONField(TextField):
    """A JSON value stored as text (portable across SQLite and MySQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def open_database(url):
    """Connect the proxy to DATABASE_URL (sqlite:///path or mysql://user:pw@host:port/name)."""
    if url.startswith("sqlite"):
        database = connect(url, pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                         "busy_timeout": 10000, "synchronous": "normal"})
    else:
        if url.startswith("mysql://"):
            url = "mysql://" + url[len("mysql://"):]
        database = connect(url, charset="utf8mb4")
    db.initialize(database)
    return database


def is_mysql():
    from peewee import MySQLDatabase
    return isinstance(db.obj, MySQLDatabase)
