"""Placeholder package; built by its own issue."""


def init_app(app):
    pass
