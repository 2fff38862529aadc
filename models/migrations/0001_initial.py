"""The first schema: created whole by the runner on an empty database, so nothing to do here."""


def up(db, migrator):
    pass
