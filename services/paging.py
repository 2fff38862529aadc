"""Keyset paging for long lists shown newest first (the console's case queue, the cases export).

A page is found from where the last one ended — `(submitted_at, id)` below the previous page's last row — never
by skipping rows with OFFSET, whose cost grows with the page number (page 10,000 of a million cases read and
threw away 500,000 rows). The id breaks ties between cases filed in the same instant, so no row is skipped or
shown twice, and cases filed meanwhile appear on the first page, not shifted into the next. The person sees
首页 / 上一页 / 下一页 / 末页 and a count capped at COUNT_CAP ("1000+"), counted with a bounded query. A list may
be ordered by another key, a date such as the deadline, either way (`key`, `ascending`).
"""
import datetime as dt
import re

from peewee import DateField

from services.errors import InvalidInput

COUNT_CAP = 1_000
_CURSOR = re.compile(r"^(\d{8}(?:T\d{6}\.\d{6})?)_(\d{1,19})$")
_MOMENT, _DAY = "%Y%m%dT%H%M%S.%f", "%Y%m%d"


def cursor(row, at="submitted_at"):
    """The text a link carries to continue after (or before) this row: its key (a moment or a day) and id."""
    value = getattr(row, at)
    return f"{value:{_MOMENT if isinstance(value, dt.datetime) else _DAY}}_{row.id}"


def _parse(text, key):
    """A cursor back to (key value, id), the value of the key's own type (a day for a DateField)."""
    found = _CURSOR.match(text or "")
    day = isinstance(key, DateField)
    if not found or int(found.group(2)) >= 2 ** 63 or ("T" in found.group(1)) == day:
        raise InvalidInput("invalid_cursor", "翻页参数有误，请回到第一页", field="after")
    moment = dt.datetime.strptime(found.group(1), _DAY if day else _MOMENT)
    return moment.date() if day else moment, int(found.group(2))


def _below(moment, ident, key, pk):
    """Rows after (moment, ident) newest first. `key <= moment` repeats the bound alone so that an index ending
    in the key is read from there as a range (the OR by itself made MariaDB walk from the newest row)."""
    return (key <= moment) & ((key < moment) | ((key == moment) & (pk < ident)))


def _above(moment, ident, key, pk):
    return (key >= moment) & ((key > moment) | ((key == moment) & (pk > ident)))


def page(query, args, size=50, key=None, pk=None, ascending=False):
    """One page of `query` (a peewee select without ordering) newest first (`ascending`: oldest first) by `key`
    (submitted_at unless told), from the request's ?after= / ?before= cursor or ?last=1. Returns (rows, links)
    where links has `first`, `previous`, `next`, `last` as dicts of query arguments (None when there is no such
    page)."""
    model = query.model
    key, pk = key or model.submitted_at, pk or model.id
    after, before, last = args.get("after"), args.get("before"), args.get("last") == "1"
    onward, back = ((key.asc(), pk.asc()), (key.desc(), pk.desc()))[::1 if ascending else -1]
    past, behind = (_above, _below) if ascending else (_below, _above)
    if after:
        rows = list(query.where(past(*_parse(after, key), key, pk)).order_by(*onward).limit(size + 1))
        more_before, more_after = True, len(rows) > size
        rows = rows[:size]
    elif before:
        rows = list(query.where(behind(*_parse(before, key), key, pk)).order_by(*back).limit(size + 1))
        more_before, more_after = len(rows) > size, True
        rows = rows[:size][::-1]
    elif last:
        rows = list(query.order_by(*back).limit(size + 1))
        more_before, more_after = len(rows) > size, False
        rows = rows[:size][::-1]
    else:
        rows = list(query.order_by(*onward).limit(size + 1))
        more_before, more_after = False, len(rows) > size
        rows = rows[:size]
    name = key.name
    links = {"first": {} if more_before else None, "last": {"last": "1"} if more_after else None,
             "previous": {"before": cursor(rows[0], name)} if more_before and rows else {} if more_before else None,
             "next": {"after": cursor(rows[-1], name)} if more_after and rows else None}
    return rows, links


def count(query, cap=None):
    """How many rows `query` has, counting at most cap + 1 of them: (number, capped)."""
    cap = cap or COUNT_CAP
    found = query.order_by().limit(cap + 1).count()
    return min(found, cap), found > cap


def total(query, rows, links):
    """共 … 件 above the pager: a list on one page is its rows (no second reading of the table, which a text search
    that matches nothing would scan twice); else counted, capped."""
    if links["previous"] is None and links["next"] is None:
        return count_label(len(rows), False)
    return count_label(*count(query))


def count_label(number, capped):
    """共 … 件: the number, or "1万+" when there are more than the cap."""
    if not capped:
        return str(number)
    return f"{number // 10_000}万+" if number % 10_000 == 0 else f"{number}+"


def batches(query, size=1000, key=None, pk=None):
    """Every row of `query` newest first, fetched `size` at a time by keyset (constant memory for an export)."""
    model = query.model
    key, pk = key or model.submitted_at, pk or model.id
    where = None
    while True:
        batch = list((query.where(where) if where is not None else query)
                     .order_by(key.desc(), pk.desc()).limit(size))
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        where = _below(getattr(batch[-1], key.name), batch[-1].id, key, pk)
