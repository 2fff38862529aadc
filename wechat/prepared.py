"""Queries on the webhook's hot path with their SQL built once per kind of database, not per message.

Building a peewee query and rendering its SQL costs far more than running it (about 0.15–0.2 ms against
tens of microseconds on SQLite), and the official account answers the same few questions all day. A
Prepared query is written as usual with named markers (`Prepared.arg("number")`) in place of the values
that change; its SQL and parameter list are rendered once per database class, and each run only
substitutes the values and converts the selected columns as peewee would. Constants that are plain words or
integers (states, action names, LIMIT 1) are written into the SQL text instead of passed with every run:
a driver that quotes parameters in Python (PyMySQL) pays for each of them on every statement.
"""
import re

from models import db

_PLAIN = re.compile(r"[A-Za-z0-9_]{1,64}")


class _Marker(str):
    pass


class Prepared:
    def __init__(self, build, columns=()):
        """build() → a peewee query using Prepared.arg(name) markers; columns: the selected fields, in order,
        whose python_value converts each row (as the query's .tuples() would)."""
        self.build, self.columns, self._rendered, self._readers = build, tuple(columns), {}, {}

    @staticmethod
    def arg(name):
        return _Marker(f"\x00prepared:{name}\x00")

    def _render(self):
        kind = type(db.obj)
        rendered = self._rendered.get(kind)
        if rendered is None:
            query = self.build()
            sql, params = query.sql()
            slots = [(p[len("\x00prepared:"):-1] if isinstance(p, str) and p.startswith("\x00prepared:")
                      and p.endswith("\x00") else None, p) for p in params]
            rendered = self._rendered[kind] = (*_inlined(sql, slots, db.obj.param), query)
        return rendered

    def execute(self, **values):
        """The cursor of the query run with these values for its markers."""
        sql, slots, _ = self._render()
        return db.execute_sql(sql, [values[name] if name is not None else constant for name, constant in slots])

    def rows(self, **values):
        """The rows of a model query as iterating it would give them (model instances, joined rows attached).
        peewee's row reader works out on each run which column goes to which model and converter (~0.1 ms
        with a join); it is the same for every run of the same SQL, so the first run's answer is kept."""
        sql, slots, query = self._render()
        cursor = db.execute_sql(sql, [values[name] if name is not None else constant for name, constant in slots])
        reader = query._get_cursor_wrapper(cursor)
        known = self._readers.get(type(db.obj))
        if known is not None:
            vars(reader).update(known)
            reader.initialized = True
        found = list(reader)
        if known is None and reader.initialized:
            self._readers[type(db.obj)] = {k: v for k, v in vars(reader).items() if k not in _PER_CURSOR}
        return found

    def first(self, **values):
        """The first row as a tuple of Python values (None when there is none)."""
        row = self.execute(**values).fetchone()
        if row is None:
            return None
        return tuple(c.python_value(v) if v is not None else None for c, v in zip(self.columns, row))


def instance(model, fields, values):
    """The model instance of a row read with only these fields (values converted, e.g. by Prepared.first):
    what peewee's own row reader builds (model(__no_default__=1, **row)), without running each field's setter."""
    row = model.__new__(model)
    row.__data__ = {f.name: v for f, v in zip(fields, values)}
    row._dirty, row.__rel__ = set(), {}
    return row


def _inlined(sql, slots, mark):
    """(sql, slots) with every constant slot that is an int or a plain word written into the SQL as a literal."""
    pieces = sql.split(mark)
    if len(pieces) != len(slots) + 1:   # a marker inside the text itself: leave it all as it is
        return sql, slots
    out, kept = [pieces[0]], []
    for (name, value), piece in zip(slots, pieces[1:]):
        if name is None and type(value) is int:
            out.append(str(value))
        elif name is None and isinstance(value, str) and _PLAIN.fullmatch(value):
            out.append(f"'{value}'")
        else:
            out.append(mark)
            kept.append((name, value))
        out.append(piece)
    return "".join(out), kept


_PER_CURSOR = {"cursor", "count", "index", "initialized", "populated", "row_cache"}  # peewee's CursorWrapper
