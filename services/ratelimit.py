"""Rate limits in shared storage (the database's KeyValue table, or Redis when REDIS_URL is set), so every
process counts together.

A fixed window per key: `hit("case:<account id>", 10, 3600)` allows ten hits an hour, then raises TooMany.
"""
import datetime as dt

from peewee import Case as When
from peewee import Expression, fn

from models import KeyValue, is_mysql, retried, utcnow
from services.errors import TooMany
from wechat.prepared import Prepared
from wechat.store import redis_client


@retried
def hit(key, limit, window_seconds, message=None):
    """Count one hit against `key`; raise TooMany (429, rate_limited) once the window's limit is passed.
    One upsert, no locking read first: a read-then-insert on a new key takes a gap lock on MySQL/MariaDB,
    and two first hits on different keys then deadlock each other."""
    from services.workflow import write_transaction
    key = f"rl:{key}"[:191]
    r = redis_client()
    if r is not None:  # the window starts with the first hit (SET NX EX), then INCR: one round trip
        count = r.pipeline().set(key, 0, ex=window_seconds, nx=True).incr(key).execute()[1]
        if count > limit:
            raise too_many(window_seconds, message)
        return count
    now = utcnow()
    values = dict(key=key, now=now, expires=now + dt.timedelta(seconds=window_seconds))
    if is_mysql():  # one statement in autocommit: no BEGIN, read or COMMIT round trips
        count = _HIT.execute(**values).lastrowid
    else:
        with write_transaction():
            count = int(_HIT.execute(**values).fetchone()[0])
    if count > limit:
        raise too_many(window_seconds, message)
    return count


def _hit():
    """The counting upsert, which also answers the count (as services.workflow.next_count: MySQL/MariaDB
    through LAST_INSERT_ID(expr), read from the statement's OK packet; SQLite with RETURNING): a lapsed window
    starts again at 1. Its SQL built once (wechat/prepared.py)."""
    arg = Prepared.arg
    lapsed = KeyValue.expires_at.is_null() | (KeyValue.expires_at <= arg("now"))
    counted = When(None, [(lapsed, 1)], Expression(KeyValue.value, "+", 1))
    mysql = is_mysql()
    return KeyValue.insert(key=arg("key"), value=fn.LAST_INSERT_ID(1) if mysql else "1",
                           expires_at=arg("expires")).on_conflict(
        conflict_target=None if mysql else [KeyValue.key],
        update={KeyValue.value: fn.LAST_INSERT_ID(counted) if mysql else counted,  # before expires_at: MySQL
                KeyValue.expires_at: When(None, [(lapsed, arg("expires"))], KeyValue.expires_at)}  # sets in order
    ).returning(*(() if mysql else (KeyValue.value,)))


_HIT = Prepared(_hit)


def count(key):
    """The hits counted against `key` in its current window (0 when none or lapsed), without counting one."""
    r = redis_client()
    if r is not None:
        return int(r.get(f"rl:{key}"[:191]) or 0)
    row = KeyValue.get_or_none(KeyValue.key == f"rl:{key}"[:191])
    return int(row.value) if row is not None and row.expires_at and row.expires_at > utcnow() else 0


def too_many(window_seconds, message=None):
    minutes = max(1, window_seconds // 60)
    return TooMany("rate_limited", message or f"操作太频繁，请{minutes}分钟后再试", retry_after=window_seconds)
