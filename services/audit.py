"""审计日志 — the one place that writes the audit log: every change that matters and every view of a
citizen's personal data by staff. Call `record` inside the transaction of the change it reports, so the
entry and the change commit together (a view has no change: it commits on its own)."""
import datetime as dt

from flask import has_request_context, request

from models import AuditLog, create_row, utcnow


def _target(target):
    """(type, id) from a model instance, a (type, id) pair or None."""
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, key = target
        return str(kind)[:24], str(key)[:64]
    kind = type(target).__name__.lower()
    key = getattr(target, "number", None) or getattr(target, "code", None) or getattr(target, "username", None) \
        or target.id
    return kind[:24], str(key)[:64]


def client_ip():
    return (request.remote_addr or "")[:45] if has_request_context() else ""


def record(actor, action, target=None, detail=None, ip=None):
    """Append one entry. `actor`: an Account, a workflow Actor or None (the system)."""
    account = getattr(actor, "account", actor) if actor is not None else None
    role = getattr(actor, "role", None) or (account.role if account is not None else "system")
    name = ""
    if account is not None:
        name = account.display_name or account.username or f"#{account.id}"
    kind, key = _target(target)
    return create_row(AuditLog, at=utcnow(), actor=account, actor_role=role, actor_name=name[:64], action=action[:48],
                           target_type=kind, target_id=key, detail=detail or {},
                           ip=(ip if ip is not None else client_ip())[:45])


def search(start=None, end=None, actor="", action="", target="", ip=""):
    """The log filtered for the console page and its export, newest first. `start`/`end` are local dates
    (end inclusive); `actor` matches the name kept with the entry, `action` a prefix (case. → every case
    change), `target` a case number, code or id."""
    from services import calendar
    query = AuditLog.select().order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if start:
        query = query.where(AuditLog.at >= calendar.utc_start(start))
    if end:
        query = query.where(AuditLog.at < calendar.utc_start(end + dt.timedelta(days=1)))
    if actor:
        query = query.where(AuditLog.actor_name == actor)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    if target:
        query = query.where(AuditLog.target_id == target)
    if ip:
        query = query.where(AuditLog.ip == ip)
    return query


def purge(days, now=None):
    """Remove entries older than the retention period (never less than 180 days); returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=max(180, days))
    return AuditLog.delete().where(AuditLog.at < cutoff).execute()


def entries(target=None, actor=None, action=None, limit=200):
    """The newest entries, filtered by target, actor account or action."""
    query = AuditLog.select().order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if target is not None:
        kind, key = _target(target)
        query = query.where(AuditLog.target_type == kind, AuditLog.target_id == key)
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    if action:
        query = query.where(AuditLog.action == action)
    return list(query.limit(limit))
