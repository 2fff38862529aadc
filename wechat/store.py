"""Shared storage for WeChat state that many processes must agree on: the access token and webhook
de-duplication. The database's KeyValue table by default; Redis when REDIS_URL is set."""
import datetime as dt
import json
import threading
import time
from contextlib import contextmanager

from flask import current_app
from models import KeyValue, db, row_where, utcnow, writers_turn
from wechat.prepared import Prepared

_redis = {}
_memo = {}              # while memo() is active: {key: (value, read at)}, shared by the process's threads
_memo_prefixes = []     # one tuple of key prefixes per active memo() block
_memo_lock = threading.Lock()
MEMO_SECONDS = 10


@contextmanager
def memo(*prefixes):
    """Within this block a value whose key starts with one of `prefixes` is read at most once every
    MEMO_SECONDS by the process's threads (puts write through): an outbox drain reads the access token and
    the quota flags once, not once per send. Only for keys a few seconds' staleness cannot hurt — a token
    another process refreshed meanwhile stays valid 5 minutes (WECHAT.md §11)."""
    with _memo_lock:
        _memo_prefixes.append(prefixes)
    try:
        yield
    finally:
        with _memo_lock:
            _memo_prefixes.remove(prefixes)
            if not _memo_prefixes:
                _memo.clear()


def _memoised(key):
    return any(key.startswith(p) for group in _memo_prefixes for p in group)


def redis_client():
    """The Redis client when REDIS_URL is set (one per URL and process), else None."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    if url not in _redis:
        import redis
        _redis[url] = redis.Redis.from_url(url, socket_timeout=2)
    return _redis[url]


def get(key):
    """The stored value (decoded JSON), or None when absent or expired."""
    if _memo_prefixes and _memoised(key):
        hit = _memo.get(key)
        if hit is not None and time.monotonic() - hit[1] < MEMO_SECONDS:
            return hit[0]
        value = _read(key)
        _memo[key] = (value, time.monotonic())
        return value
    return _read(key)


def _read(key):
    r = redis_client()
    if r is not None:
        raw = r.get(f"kv:{key}")
        return None if raw is None else json.loads(raw)
    db.connect(reuse_if_open=True)
    row = row_where(KeyValue.key, key)
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    return json.loads(row.value)


def put(key, value, ttl):
    """Store `value` (JSON-able) for `ttl` seconds, replacing what was there."""
    if _memo_prefixes and _memoised(key):
        _memo[key] = (value, time.monotonic())
    r = redis_client()
    if r is not None:
        r.set(f"kv:{key}", json.dumps(value, ensure_ascii=False), ex=int(ttl))
        return
    db.connect(reuse_if_open=True)
    row = dict(value=json.dumps(value, ensure_ascii=False), expires_at=utcnow() + dt.timedelta(seconds=ttl))
    if not KeyValue.update(**row).where(KeyValue.key == key).execute():  # usually there: one statement
        KeyValue.insert(key=key, **row).on_conflict_replace().execute()


def add(key, value, ttl):
    """Store `value` only if `key` is absent (or expired); True when this call stored it. Inside a database
    transaction a concurrent `add` of the same key waits for that transaction, so the first one wins."""
    r = redis_client()
    if r is not None:
        return bool(r.set(f"kv:{key}", json.dumps(value, ensure_ascii=False), ex=int(ttl), nx=True))
    db.connect(reuse_if_open=True)
    now = utcnow()
    row = dict(key=key, value=json.dumps(value, ensure_ascii=False), expires_at=now + dt.timedelta(seconds=ttl))
    if _CLAIM.execute(**row).rowcount:   # INSERT … ON CONFLICT IGNORE, its SQL built once
        return True
    # Taken. An expired row may be taken over; a live one is left without asking for its write lock, so
    # deliveries that lost a race do not deadlock each other on MySQL.
    expires_at = KeyValue.select(KeyValue.expires_at).where(KeyValue.key == key).scalar()
    if expires_at is not None and expires_at > now:
        return False
    return KeyValue.update(value=row["value"], expires_at=row["expires_at"]).where(
        KeyValue.key == key, KeyValue.expires_at <= now).execute() == 1


_CLAIM = Prepared(lambda: KeyValue.insert(key=Prepared.arg("key"), value=Prepared.arg("value"),
                                          expires_at=Prepared.arg("expires_at")).on_conflict_ignore())


def add_all(values, ttl):
    """add() for several keys ({key: value}) at once, in one statement on the database: how many it stored,
    each only where its key was absent. A key there already, live or expired, is not stored: the caller
    asks add() about it (add takes expired keys over)."""
    r = redis_client()
    if r is not None:
        pipe = r.pipeline(transaction=False)
        for key, value in values.items():
            pipe.set(f"kv:{key}", json.dumps(value, ensure_ascii=False), ex=int(ttl), nx=True)
        return sum(map(bool, pipe.execute()))
    db.connect(reuse_if_open=True)
    expires_at = utcnow() + dt.timedelta(seconds=ttl)
    claim = _CLAIMS.get(len(values))
    if claim is None:
        count = len(values)
        claim = _CLAIMS[count] = Prepared(lambda: KeyValue.insert_many(
            [{KeyValue.key: Prepared.arg(f"key{i}"), KeyValue.value: Prepared.arg(f"value{i}"),
              KeyValue.expires_at: Prepared.arg("expires_at")} for i in range(count)]).on_conflict_ignore())
    rows = {"expires_at": expires_at}
    for i, (key, value) in enumerate(values.items()):
        rows[f"key{i}"], rows[f"value{i}"] = key, json.dumps(value, ensure_ascii=False)
    with writers_turn():  # SQLite: in turn with the other writers, not against its polling busy handler
        return claim.execute(**rows).rowcount


_CLAIMS = {}   # number of rows: the INSERT … ON CONFLICT IGNORE of that many, its SQL built once


def delete(key):
    _memo.pop(key, None)
    r = redis_client()
    if r is not None:
        r.delete(f"kv:{key}")
        return
    db.connect(reuse_if_open=True)
    KeyValue.delete().where(KeyValue.key == key).execute()


def purge_expired(now=None, batch=10000):
    """Remove the database's expired keys (Redis expires its own): de-duplication claims, nonces and rate-limit
    windows would otherwise stay for ever, two rows for every message the official account receives. An expired
    key already counts as absent everywhere (get, add), so removing it changes nothing a reader sees. In batches,
    each its own short transaction (a Galera write set stays small); returns how many were removed."""
    if not uses_database():
        return 0
    now, removed = now or utcnow(), 0
    while True:
        keys = [row.key for row in KeyValue.select(KeyValue.key).where(KeyValue.expires_at <= now).limit(batch)]
        if not keys:
            return removed
        removed += KeyValue.delete().where(KeyValue.key.in_(keys), KeyValue.expires_at <= now).execute()


def uses_database():
    return redis_client() is None
