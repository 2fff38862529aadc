"""The mini-program's JSON API under /api/v1 (reference: docs/api.md and /openapi.json).

Thin handlers: parse → call a service → render. Errors are ServiceErrors, rendered by app.py as
HTTP status + {"error": {"code", "message"}}.
"""
from .common import bp, docs_bp


def init_app(app):
    from . import cases, consultations, directory, inquiries, me, suggestions  # noqa: F401  (register the routes)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
