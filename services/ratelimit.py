"""Rate limits in shared storage (the database's KeyValue table), so every process counts together.

A fixed window per key: `hit("case:<account id>", 10, 3600)` allows ten hits an hour, then raises TooMany.
"""
import datetime as dt

from peewee import IntegrityError

from models import KeyValue, is_mysql, utcnow
from services.errors import TooMany


def hit(key, limit, window_seconds, message=None):
    """Count one hit against `key`; raise TooMany (429, rate_limited) once the window's limit is passed."""
    from services.workflow import write_transaction
    key = f"rl:{key}"[:191]
    now = utcnow()
    for attempt in range(2):
        try:
            with write_transaction():
                query = KeyValue.select().where(KeyValue.key == key)
                row = (query.for_update() if is_mysql() else query).first()
                if row is None or row.expires_at is None or row.expires_at <= now:
                    count = 1
                    KeyValue.insert(key=key, value="1", expires_at=now + dt.timedelta(seconds=window_seconds)) \
                        .on_conflict_replace().execute()
                else:
                    count = int(row.value or 0) + 1
                    KeyValue.update(value=str(count)).where(KeyValue.key == key).execute()
            break
        except IntegrityError:
            if attempt:
                raise
    if count > limit:
        minutes = max(1, window_seconds // 60)
        raise TooMany("rate_limited", message or f"操作太频繁，请{minutes}分钟后再试", retry_after=window_seconds)
    return count
