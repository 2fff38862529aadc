"""The console at a province's size: the holiday calendar the office edits (节假日安排) and the indexes the case
queue's filters read newest first (docs/performance.md, "Console at a million cases")."""


def up(db, migrator):
    from models import Holiday
    db.create_tables([Holiday])
