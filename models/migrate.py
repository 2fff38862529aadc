"""A small versioned migration runner.

An empty database gets the whole current schema at once and every known migration is recorded as
applied (like loading a schema file). An existing database gets the migrations it has not yet had, in
order, each in its own transaction together with its row in `schema_version`. A migration is a module
`models/migrations/NNNN_name.py` with `up(db, migrator)`, using playhouse.migrate operations.
"""
import importlib
import pkgutil

from peewee import CharField, DateTimeField, IntegerField
from playhouse.migrate import MySQLMigrator, SqliteMigrator

from . import migrations as migrations_pkg
from .base import BaseModel, db, is_mysql, utcnow
from .tables import ALL_MODELS


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = CharField(max_length=100)
    applied_at = DateTimeField(default=utcnow)


def discover():
    """[(version, name, module)] for every module in models/migrations, in order."""
    found = []
    for info in pkgutil.iter_modules(migrations_pkg.__path__):
        head, _, _ = info.name.partition("_")
        if head.isdigit():
            found.append((int(head), info.name, importlib.import_module(f"{migrations_pkg.__name__}.{info.name}")))
    return sorted(found)


def migrate(migrations=None, log=lambda msg: None):
    """Bring the connected database up to date; return the versions applied now."""
    migrations = discover() if migrations is None else migrations
    fresh = not db.table_exists(SchemaVersion._meta.table_name)
    if fresh and not any(db.table_exists(m._meta.table_name) for m in ALL_MODELS):
        with db.atomic():
            db.create_tables(ALL_MODELS + [SchemaVersion])
            for version, name, _ in migrations:
                SchemaVersion.create(version=version, name=name)
        log(f"created schema at version {migrations[-1][0] if migrations else 0}")
        return []
    if fresh:
        db.create_tables([SchemaVersion])
    done = {row.version for row in SchemaVersion.select()}
    migrator = MySQLMigrator(db.obj) if is_mysql() else SqliteMigrator(db.obj)
    applied = []
    for version, name, module in migrations:
        if version in done:
            continue
        with db.atomic():
            module.up(db, migrator)
            SchemaVersion.create(version=version, name=name)
        log(f"applied {name}")
        applied.append(version)
    return applied


def current_version():
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0
