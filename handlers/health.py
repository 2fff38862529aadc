"""GET /healthz — is the app up, and what state is its database in."""
from flask import Blueprint, jsonify

from models import Case, Deputy, Station, db, is_mysql
from models.migrate import current_version

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        body = {"status": "ok", "database": {
            "backend": "mysql" if is_mysql() else "sqlite", "schema_version": current_version(),
            "stations": Station.select().count(), "deputies": Deputy.select().count(),
            "cases": Case.select().count()}}
        return jsonify(body), 200
    except Exception as exc:  # the database is down or not migrated: say so, do not crash
        db.close() if not db.is_closed() else None
        return jsonify({"status": "error", "database": {"error": type(exc).__name__, "detail": str(exc)[:200]}}), 503


def init_app(app):
    app.register_blueprint(bp)
