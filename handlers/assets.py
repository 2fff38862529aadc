"""What makes the pages quick on a slow phone network (docs/performance.md, H5 pages):

- Text answers (HTML, CSS, JS, JSON, SVG) of more than 1 kB are gzipped when the browser accepts it
  (COMPRESS_RESPONSES, on by default; nginx may do it instead — then switch it off).
- Static files are fingerprinted: url_for('static', …) adds ?v=<hash of the file>, and such a URL is
  cached by the phone for a year (a changed file gets a new URL); without ?v= an hour.
- The report form shrinks phone photos in the browser (static/public/h5.js, H5_PHOTO_MAX_PX, 0: off); the
  server still enforces its own limits (services/uploads.py), and the form works without the script.
"""
import gzip
import hashlib
import os

from flask import request
from werkzeug.security import safe_join

COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
MIN_SIZE = 1024
UNCOMPRESSED = ("wechat_webhook",)  # WeChat's servers read the passive reply: small, plain, as documented
LEVEL = 6
STATIC_YEAR, STATIC_HOUR = 31536000, 3600
_fingerprints = {}
_packed = {}  # (static file, fingerprint) -> gzipped bytes


def fingerprint(app, filename):
    """A short hash of a static file's content (memoised by modification time)."""
    path = safe_join(app.static_folder, filename)
    try:
        if path is None or not os.path.isfile(path):
            return None
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    cached = _fingerprints.get(path)
    if cached is None or cached[0] != mtime:
        with open(path, "rb") as f:
            cached = _fingerprints[path] = (mtime, hashlib.sha256(f.read()).hexdigest()[:10])
    return cached[1]


def compressible(response):
    return (200 <= response.status_code and response.status_code not in (204, 304)
            and "Content-Encoding" not in response.headers and (response.mimetype or "").startswith(COMPRESSIBLE))


def compress(response, cache_key=None):
    """Gzip the body when the browser accepts it; `cache_key` keeps the result (static files)."""
    response.vary.add("Accept-Encoding")
    if "gzip" not in request.headers.get("Accept-Encoding", "").lower():
        return response
    packed = _packed.get(cache_key) if cache_key else None
    if packed is None:
        response.direct_passthrough = False
        body = response.get_data()
        if len(body) < MIN_SIZE:
            return response
        packed = gzip.compress(body, LEVEL)
        if cache_key:
            _packed[cache_key] = packed
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    if response.headers.get("ETag"):  # another representation: another tag
        response.set_etag(response.get_etag()[0] + "-gz", weak=True)
    return response


def init_app(app):
    @app.url_defaults
    def _fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = fingerprint(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _fast(response):
        static = request.endpoint == "static"
        if static and response.status_code in (200, 304):
            versioned = bool(request.args.get("v"))
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = STATIC_YEAR if versioned else STATIC_HOUR
            response.cache_control.immutable = versioned or None
        if (not app.config.get("COMPRESS_RESPONSES", True) or request.blueprint in UNCOMPRESSED
                or not compressible(response)):
            return response
        if static:  # a small text file: compressed once per version
            name = (request.view_args or {}).get("filename")
            version = fingerprint(app, name) if name and response.status_code == 200 else None
            return compress(response, (name, version)) if version else response
        return response if response.is_streamed else compress(response)
