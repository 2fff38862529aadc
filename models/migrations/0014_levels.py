"""Levels: each department belongs to a node of the one tree of congresses and stations (services/levels.py).
A nullable column only, so app nodes of the previous release keep running while it is applied."""
from peewee import ForeignKeyField
from playhouse.migrate import migrate


def up(db, migrator):
    from models import Station
    migrate(migrator.add_column("department", "station_id", ForeignKeyField(Station, null=True, field=Station.id,
                                                                            on_delete="SET NULL")))
