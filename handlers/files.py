"""GET /uploads/<token> — uploaded images (already stripped of EXIF), cached for a long time."""
import os

from flask import Blueprint, abort, current_app, send_file

from models import Upload

bp = Blueprint("files", __name__)


@bp.get("/uploads/<token>")
def upload(token):
    found = Upload.get_or_none(Upload.token == token)
    if found is None:
        abort(404)
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], found.path)
    if not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype=found.mime, max_age=31536000, etag=True)


def init_app(app):
    app.register_blueprint(bp)
