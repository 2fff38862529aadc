"""The append-only audit log (services/audit.py)."""


def up(db, migrator):
    from models import AuditLog
    db.create_tables([AuditLog])
