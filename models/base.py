"""The database proxy, the base model and small field helpers shared by every table."""
import datetime as dt
import functools
import json
import random
import time

from peewee import DatabaseProxy, Model, OperationalError, TextField
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledMySQLDatabase
from pymysql.constants import SERVER_STATUS

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


POOL = {"max_connections": 64, "stale_timeout": 300, "timeout": 10}


class PooledMySQL(PooledMySQLDatabase):
    """peewee's MySQL pool, rolling back on check-in only when a transaction is open (PyMySQL keeps the
    server's status flags), not on every request."""

    def _can_reuse(self, conn):
        if conn.server_status is None or conn.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
            return super()._can_reuse(conn)
        return True


def open_database(url):
    """Connect the proxy to DATABASE_URL (sqlite:///path or mysql://user:pw@host:port/name).

    MySQL connections come from a pool per process (each request and webhook worker thread borrows one and
    gives it back on close): opening a MySQL connection costs tens of milliseconds — PyMySQL builds a TLS
    context on every connect — which would otherwise be paid on every request. The URL's query may set the
    pool's max_connections, stale_timeout (seconds before a connection is replaced) and timeout (seconds to
    wait for a free one)."""
    if url.startswith("sqlite"):
        database = connect(url, pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                         "busy_timeout": 10000, "synchronous": "normal"})
    elif url.startswith("mysql://"):
        params = {"charset": "utf8mb4", **POOL, **parse(url)}
        database = PooledMySQL(params.pop("database"), **params)
    else:
        database = connect(url, charset="utf8mb4")
    old = db.obj
    db.initialize(database)
    if isinstance(old, PooledDatabase):
        old.close_idle()
    return database


def keeps_connection():
    """True when a thread keeps its connection between requests (SQLite: a file, nothing to pool)."""
    from peewee import SqliteDatabase
    return isinstance(db.obj, SqliteDatabase)


def is_mysql():
    from peewee import MySQLDatabase
    return isinstance(db.obj, MySQLDatabase)


# MySQL/MariaDB: deadlock — also how a Galera certification conflict surfaces, at COMMIT —, lock wait timeout,
# and a Galera node that has left the primary component ("WSREP has not yet prepared node"): in each the
# server rolled the whole transaction back, so running it again cannot do anything twice.
RETRIED_ERRORS = (1213, 1205, 1047)
RETRIES = 4


def write_transaction():
    """A transaction that takes the write lock up front on SQLite (so racing writers queue, not fail)."""
    return db.atomic() if is_mysql() or db.in_transaction() else db.atomic("IMMEDIATE")


def retried(write):
    """Run a whole write again when MySQL/MariaDB aborted it as a deadlock or conflict (the transaction was rolled
    back, so nothing of it stands): each try reads afresh. Inside an outer transaction the error goes up to it.
    Every write that matters is a function wearing this (docs/deployment.md, "Galera")."""
    @functools.wraps(write)
    def run(*args, **kwargs):
        for attempt in range(RETRIES):
            nested = db.in_transaction()
            try:
                return write(*args, **kwargs)
            except OperationalError as err:
                code = err.args[0] if err.args else None
                if nested or code not in RETRIED_ERRORS or attempt == RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    return run
