"""Placeholder blueprint; built by its own issue."""
from flask import Blueprint

bp = Blueprint("publiclist", __name__)


def init_app(app):
    app.register_blueprint(bp)
