"""The database proxy, the base model and small field helpers shared by every table."""
import contextlib
import datetime as dt
import fcntl
import functools
import itertools
import json
import os
import random
import threading
import time

import MySQLdb
from peewee import (DatabaseProxy, Model, MySQLDatabase, OperationalError, SqliteDatabase, TextField,
                    __exception_wrapper__, quote)
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledMySQLDatabase

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


BUSY_TIMEOUT_MS = 10000  # SQLite: how long a writer waits for the write lock

POOL = {"max_connections": 64, "stale_timeout": 300, "timeout": 10}


class MySQLdbDatabase(MySQLDatabase):
    """MySQL/MariaDB through mysqlclient (MySQLdb, the C driver; peewee on its own would take PyMySQL when both
    are installed), one statement per call (multi-statements off)."""

    def _connect(self):
        return MySQLdb.connect(database=self.database, autocommit=True, multi_statements=False,
                               **self.connect_params)

    def get_binary_type(self):
        return MySQLdb.Binary


class PooledMySQL(PooledMySQLDatabase, MySQLdbDatabase):
    """peewee's MySQL pool on mysqlclient. A connection goes back to the pool without a ROLLBACK round trip
    unless a transaction was begun on it and never finished (peewee refuses to close inside its own
    transactions; this covers a COMMIT or ROLLBACK that raised, or a bare BEGIN)."""

    def begin(self, isolation_level=None):
        super().begin(isolation_level)
        self._state.conn.open_transaction = True

    def commit(self):
        super().commit()
        self._state.conn.open_transaction = False

    def rollback(self):
        super().rollback()
        self._state.conn.open_transaction = False

    def _is_closed(self, conn):
        try:
            conn.ping()  # mysqlclient never reconnects by itself (a reconnected session would lose its state)
        except Exception:
            return True
        return False

    def _can_reuse(self, conn):
        if getattr(conn, "open_transaction", False):
            try:
                conn.rollback()
                conn.open_transaction = False
            except Exception:
                return False
        return True


def open_database(url):
    """Connect the proxy to DATABASE_URL (sqlite:///path or mysql://user:pw@host:port/name).

    MySQL connections come from a pool per process (each request and webhook worker thread borrows one and
    gives it back on close): opening a MySQL connection costs a handshake and authentication (milliseconds),
    which would otherwise be paid on every request. The URL's query may set the
    pool's max_connections, stale_timeout (seconds before a connection is replaced) and timeout (seconds to
    wait for a free one)."""
    if url.startswith("sqlite"):
        database = connect(url, pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": BUSY_TIMEOUT_MS,
                                         "synchronous": "normal", "wal_autocheckpoint": AUTOCHECKPOINT_PAGES})
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
    return isinstance(db.obj, SqliteDatabase)


def is_mysql():
    return isinstance(db.obj, MySQLDatabase)


# MySQL/MariaDB: deadlock — also how a Galera certification conflict surfaces, at COMMIT —, lock wait timeout,
# and a Galera node that has left the primary component ("WSREP has not yet prepared node"): in each the
# server rolled the whole transaction back, so running it again cannot do anything twice.
RETRIED_ERRORS = (1213, 1205, 1047)
RETRIES = 4


def write_transaction():
    """A transaction that takes the write lock up front on SQLite (so racing writers queue, not fail), in
    turn with the other writers of every thread and process (`_writers_turn`)."""
    if is_mysql() or db.in_transaction():
        return db.atomic()
    return _sqlite_write(db.obj)


@contextlib.contextmanager
def _sqlite_write(database):
    with _writers_turn(database), database.atomic("IMMEDIATE"):
        yield
    _checkpoint_now_and_then(database)


# SQLite copies the WAL into the database (a checkpoint: 20–70 ms of writing and fsync for its usual 1,000 pages)
# inside the COMMIT that makes the WAL pass the threshold — which, here, would be while the writers' turn is
# still held, every writer waiting on it. So a connection's own checkpoints come only past 10,000 pages (a
# backstop for writes outside write_transaction), and every CHECKPOINT_EVERY-th write transaction of a process
# copies what has been written since (a PASSIVE checkpoint: it never waits for, nor blocks, anyone) after
# giving the turn on.
AUTOCHECKPOINT_PAGES = 10000
CHECKPOINT_EVERY = 32
_writes = itertools.count(1)


def _checkpoint_now_and_then(database):
    if next(_writes) % CHECKPOINT_EVERY == 0:
        try:
            database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except OperationalError:  # "table is locked": this connection is still reading a query; a later turn will
            pass


# SQLite has one write lock, and a writer that finds it taken polls: its busy handler sleeps 1, 2, 5, 10, …
# then 100 ms at a time, so a newcomer often takes the lock before one that has waited long (16 writers
# queueing made a p99 over a second). Writers of one database instead wait their turn on a lock of their
# process (threading.Lock) and then on a file lock beside the database (flock, shared by every process on the
# machine, freed by the kernel if the holder dies), both blocking without polling, and only then BEGIN
# IMMEDIATE. SQLite's lock stays what keeps writers apart: a write outside write_transaction, or a process
# without this code, still meets the busy handler. A thread that waits longer than the busy timeout for its
# process's turn goes ahead without it (and then meets the busy handler).
_TURNS = {}          # (pid, database file) → (threading.Lock, open file of the flock)
_TURNS_LOCK = threading.Lock()


def _turn_locks(path):
    key = (os.getpid(), path)  # a forked worker opens its own file: a flock belongs to an open file
    found = _TURNS.get(key)
    if found is None:
        with _TURNS_LOCK:
            found = _TURNS.get(key)
            if found is None:
                fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                found = _TURNS[key] = (threading.Lock(), fd)
    return found


@contextlib.contextmanager
def _writers_turn(database, within=None):
    """Both locks of the turn. within=None: wait for the file lock as long as it takes (a thread that does not get
    its process's lock within the busy timeout goes ahead without the turn); within=seconds: "database is locked"
    when the turn is not had in that time (the file lock tried every half millisecond until then)."""
    path = database.database
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    lock, fd = _turn_locks(os.path.abspath(path))
    deadline = None if within is None else time.monotonic() + within
    if not lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000 if within is None else within):
        if within is not None:
            raise OperationalError("database is locked (no writers' turn within the busy timeout)")
        yield
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if deadline is None else fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError("database is locked (no writers' turn within the busy timeout)")
                time.sleep(0.0005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        lock.release()


@contextlib.contextmanager
def writers_turn():
    """The writers' turn for one write outside write_transaction (the webhook's claims): within the connection's
    busy timeout, which the webhook sets to its reply budget, or "database is locked" — never the turn's wait
    and then SQLite's busy wait one after the other. Nothing on MySQL/MariaDB or inside a transaction."""
    if not keeps_connection() or db.in_transaction():
        yield
        return
    database = db.obj
    within = database.connection().execute("PRAGMA busy_timeout").fetchone()[0] / 1000
    with _writers_turn(database, within):
        yield


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


# --- the submit path's rows, with their SQL built once ---------------------------------------------
# Rendering a peewee query's SQL costs far more than running it (0.2–0.5 ms against tens of microseconds on
# SQLite): a report's filing did it 19 times. These two build the text once per table, column set and kind of
# database, then only convert the values as peewee would (Field.db_value / python_value).
_SQL = {}


def _quote(database, name):
    return quote([name], database.quote)


def _cached_sql(key, build):
    sql = _SQL.get(key)
    if sql is None:
        sql = _SQL[key] = build()
    return sql


def _insert_sql(model, fields, ignore=False):
    database = db.obj

    def build():
        columns = ", ".join(_quote(database, f.column_name) for f in fields)
        marks = ", ".join([database.param] * len(fields))
        verb = ("INSERT IGNORE" if is_mysql() else "INSERT OR IGNORE") if ignore else "INSERT"
        return f"{verb} INTO {_quote(database, model._meta.table_name)} ({columns}) VALUES ({marks})"
    return _cached_sql(("insert", model, tuple(f.name for f in fields), ignore, type(database)), build)


def create_row(model, **values):
    """model.create(**values): the new instance (defaults applied, id set), in one INSERT."""
    row = model(**values)
    fields = [model._meta.fields[name] for name in row.__data__]
    cursor = db.obj.execute_sql(_insert_sql(model, fields), [f.db_value(row.__data__[f.name]) for f in fields])
    if model._meta.auto_increment and row._pk is None:
        row._pk = cursor.lastrowid
    row._dirty.clear()
    return row


def insert_rows(model, rows, ignore=False):
    """model.insert_many(rows).execute() for rows of the same keys (defaults applied), or with `ignore` its
    .on_conflict_ignore(): the number of rows inserted."""
    if not rows:
        return 0
    data = [model(**values).__data__ for values in rows]
    fields = [model._meta.fields[name] for name in data[0]]
    sql = _insert_sql(model, fields, ignore)
    params = [[f.db_value(row[f.name]) for f in fields] for row in data]
    database = db.obj
    if len(params) == 1:
        return database.execute_sql(sql, params[0]).rowcount
    cursor = database.cursor()
    try:
        with __exception_wrapper__:  # the driver's errors as peewee's (IntegrityError, OperationalError)
            cursor.executemany(sql, params)
        return cursor.rowcount
    finally:
        cursor.close()


def row_where(field, value):
    """model.get_or_none(field == value) for a unique `field`: the row as an instance, or None."""
    model, database = field.model, db.obj
    columns = model._meta.sorted_fields

    def build():
        names = ", ".join(_quote(database, f.column_name) for f in columns)
        return (f"SELECT {names} FROM {_quote(database, model._meta.table_name)} "
                f"WHERE {_quote(database, field.column_name)} = {database.param} LIMIT 1")
    sql = _cached_sql(("select", model, field.name, type(database)), build)
    cursor = database.execute_sql(sql, [field.db_value(value)])
    found = cursor.fetchone()
    cursor.close()
    if found is None:
        return None
    row = model(__no_default__=1, **{f.name: (f.python_value(v) if v is not None else None)
                                     for f, v in zip(columns, found)})
    row._dirty.clear()
    return row
