"""GET /healthz — is the app up, and what state is its database in: 200 when it answers, 503 with the
reason while it does not (down, unreachable, not migrated), so a load balancer takes the node out."""
from flask import Blueprint, jsonify

from models import Case, Deputy, Station, db, is_mysql
from models.migrate import current_version

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    # no per-request connection (app.py): connecting is part of the check, and its failure is the answer
    try:
        with db.connection_context():
            body = {"status": "ok", "database": {
                "backend": "mysql" if is_mysql() else "sqlite", "schema_version": current_version(),
                "stations": Station.select().count(), "deputies": Deputy.select().count(),
                "cases": Case.select().count()}}
        return jsonify(body), 200
    except Exception as exc:  # noqa: BLE001 — the database is down or not migrated: say so, do not crash
        return jsonify({"status": "error", "database": {
            "error": type(exc).__name__, "detail": str(exc)[:200],
            "reason": "数据库无法连接或尚未初始化"}}), 503


healthz.no_request_connection = True


def init_app(app):
    app.register_blueprint(bp)
