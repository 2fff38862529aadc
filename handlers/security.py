"""What every web request shares for safety: the real client address behind trusted proxies, the security
headers, and the ONE CSRF check for every form (console, H5 pages, sandbox, phone workbench…).

- TRUSTED_PROXIES = how many reverse proxies stand in front (nginx: 1). Werkzeug's ProxyFix then takes the
  client address and scheme from that many X-Forwarded-For / X-Forwarded-Proto entries, so rate limits and
  the audit log see the citizen, not nginx. 0 (default): the headers are ignored — nobody can forge them.
- CSRF: a random token per session (session["csrf"]), put in every form as the hidden field `csrf_token`
  by the template helper `csrf_token()` (H5 templates also get it as `csrf`); every POST/PUT/PATCH/DELETE
  must bring it back, compared in constant time. The JSON API (bearer tokens, no cookies) and the WeChat
  webhook (signatures) are exempt, as is any view marked with @csrf_exempt.
- Headers: a Content-Security-Policy without inline script (scripts are static files), frame-ancestors
  'none', nosniff, a Referrer-Policy, and HSTS when the site is served over https — on every page a browser
  may show; not on the WeChat webhook's XML and text replies, which only WeChat's servers read.
- Sessions: Flask's signed cookies, the signing serializer made once per key rather than on every request;
  none at all for the WeChat webhook (MACHINE_PATHS), which neither reads nor writes one.
"""
import hmac
import secrets

from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from services.errors import InvalidInput

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
EXEMPT_BLUEPRINTS = ("api", "wechat_webhook")
CSRF_MESSAGE = "页面已过期，请刷新页面后重新提交"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def csrf_token():
    """This session's CSRF token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def new_csrf_token():
    """A fresh token (at login, so a token seen before signing in is worth nothing after)."""
    session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_exempt(view):
    """Mark a view that proves its caller otherwise (a signature, a bearer token)."""
    view.csrf_exempt = True
    return view


def check_csrf():
    if request.method in SAFE_METHODS or request.blueprint in EXEMPT_BLUEPRINTS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "csrf_exempt", False):
        return
    sent, kept = request.form.get("csrf_token", ""), session.get("csrf", "")
    if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        raise InvalidInput("csrf_failed", CSRF_MESSAGE)


MACHINE_PATHS = frozenset({"/wechat"})   # handlers/oa/webhook.py: answered to WeChat's servers, never a browser


def headers(response):
    if request.path in MACHINE_PATHS and response.mimetype != "text/html":   # its error pages keep them
        return response
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


class Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer kept per secret key (and fallbacks): Flask
    builds a new one — itsdangerous serializer, signer settings — for every request."""
    _kept = (None, None)

    def open_session(self, app, request):
        if request.path in MACHINE_PATHS:
            return None   # Flask's null session: nothing to read, nothing saved
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept_keys, serializer = self._kept
        if kept_keys != keys:
            serializer = super().get_signing_serializer(app)
            self._kept = (keys, serializer)
        return serializer


def init_app(app):
    app.session_interface = Sessions()
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.before_request(check_csrf)
    app.after_request(headers)
    app.add_template_global(csrf_token)
    from services import privacy
    app.add_template_global(privacy.notice, "privacy_notice")
