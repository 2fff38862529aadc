"""A lease in the database (KeyValue row): one holder at a time. The scheduler leader (several scheduler
processes, one fires the jobs) and each outbox sender (services/delivery.py: a crashed sender's rows come
back as soon as its lease is gone) use it.

The holder renews the lease well before it expires; when it dies, another process takes over once the
lease has expired (LEASE_TTL). Jobs are also safe to run twice (dedupe keys, workflow guards, row claims),
so a hand-over at the wrong moment costs at most a repeated no-op.
"""
import datetime as dt

from models import KeyValue, db, is_mysql, retried, utcnow

KEY = "lease:scheduler"
LEASE_TTL = 60      # seconds
RENEW_EVERY = 15    # seconds


@retried
def acquire(holder, ttl=LEASE_TTL, now=None, key=KEY):
    """Take or renew the lease for `holder`; True when `holder` is the leader now."""
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    with db.atomic() if is_mysql() else db.atomic("IMMEDIATE"):
        KeyValue.insert(key=key, value=holder, expires_at=expires).on_conflict_ignore().execute()
        KeyValue.update(value=holder, expires_at=expires).where(
            KeyValue.key == key, (KeyValue.value == holder) | (KeyValue.expires_at < now)).execute()
        query = KeyValue.select().where(KeyValue.key == key)
        row = (query.for_update() if is_mysql() else query).get()
    return row.value == holder


def holder(now=None, key=KEY):
    """Who holds the lease now (None when nobody does)."""
    row = KeyValue.get_or_none(KeyValue.key == key)
    return row.value if row is not None and row.expires_at and row.expires_at >= (now or utcnow()) else None


def release(holder, key=KEY):
    KeyValue.delete().where(KeyValue.key == key, KeyValue.value == holder).execute()
