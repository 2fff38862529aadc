"""Placeholder blueprint; built by its own issue."""
from flask import Blueprint

bp = Blueprint("console", __name__)


def init_app(app):
    app.register_blueprint(bp)
