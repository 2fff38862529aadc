"""WeChat web OAuth (网页授权, snsapi_base) for every H5 door: /d /p /s /c /bind /m.

Inside WeChat's browser a page view is sent once, silently, to WeChat's authorize page
(`WECHAT_OPEN_BASE/connect/oauth2/authorize`), which sends the visitor back with `code` and `state`; the code is
exchanged at `WECHAT_API_BASE/sns/oauth2/access_token` for the visitor's official-account openid, which is
kept in the signed session under `SESSION_KEY`. Identified or not, the page is then shown: one round trip at
most per session, never a loop.

API (what the doors use):
- `protect(bp, *endpoints, on_identified=None)` — register on a blueprint: GET requests to those endpoints
  (all of the blueprint's when none are named) go through OAuth once; `on_identified(openid)` runs when an
  openid arrives (e.g. the H5 pages remember the citizen account).
- `oa_openid()` — the visitor's official-account openid from the session, or None.
- `in_wechat()` — inside WeChat's browser (or acting as a WeChat user in sandbox mode, see below).
- `forget()` — drop the identity (sign-out, or the sandbox switching person); no new round trip follows.

Where OAuth goes: the real authorize page in production; in tests and in sandbox mode the stand-in
(wechat/standin.py) serves `/connect/oauth2/authorize` too, and answers `code=code-<name>`, exchanged for
openid `oa-<name>`. In sandbox mode WECHAT_OPEN_BASE defaults to the stand-in, and a desktop browser counts as
"inside WeChat" once /dev/wechat has made it act as a WeChat user (`SANDBOX_KEY`).
"""
from urllib.parse import urlencode

from flask import current_app, redirect, request, session

SESSION_KEY = "wx_oa_openid"      # the visitor's official-account openid
TRIED_KEY = "wx_oauth_tried"      # one round trip per session
SANDBOX_KEY = "wx_sandbox_as"     # sandbox mode: the WeChat user this browser plays
STATE = "h5"
REAL_OPEN_BASE = "https://open.weixin.qq.com"


def oa_openid():
    return session.get(SESSION_KEY)


def in_wechat():
    if current_app.config.get("WECHAT_SANDBOX") and session.get(SANDBOX_KEY):
        return True
    return "micromessenger" in request.headers.get("User-Agent", "").lower()


def available():
    """OAuth can run: an official account is configured, and a sandbox never sends anyone to real WeChat."""
    cfg = current_app.config
    if not cfg.get("WECHAT_OA_APP_ID"):
        return False
    return not (cfg.get("WECHAT_SANDBOX") and open_base().startswith(REAL_OPEN_BASE))


def open_base():
    return (current_app.config.get("WECHAT_OPEN_BASE") or REAL_OPEN_BASE).rstrip("/")


def authorize_url(back):
    query = urlencode({"appid": current_app.config["WECHAT_OA_APP_ID"], "redirect_uri": back,
                       "response_type": "code", "scope": "snsapi_base", "state": STATE})
    return f"{open_base()}/connect/oauth2/authorize?{query}#wechat_redirect"


def exchange(code):
    """The OAuth code → the visitor's official-account openid (None when WeChat refuses or is away)."""
    from wechat import client
    from wechat.errors import WeChatError
    try:
        oa = client.official_account()
        data = oa.request("GET", "sns/oauth2/access_token", params={
            "appid": oa.appid, "secret": oa.secret, "code": code, "grant_type": "authorization_code"})
    except WeChatError as err:
        current_app.logger.warning("H5 OAuth failed: %s", err)
        return None
    return data.get("openid") or None


def identify(on_identified=None):
    """Run OAuth for this GET if it is needed: returns a redirect to WeChat's authorize page, or None."""
    if request.method != "GET" or oa_openid() or not available() or not in_wechat():
        return None
    code = request.args.get("code")
    if code and request.args.get("state") == STATE:
        openid = exchange(code)
        if openid:
            session[SESSION_KEY] = openid
            session.permanent = True
            if on_identified:
                on_identified(openid)
        return None  # identified or not, the page is shown; never a second round trip
    if session.get(TRIED_KEY):
        return None
    session[TRIED_KEY] = True
    return redirect(authorize_url(current_app.config["PUBLIC_BASE_URL"] + request.full_path.rstrip("?")))


def forget():
    session.pop(SESSION_KEY, None)
    session[TRIED_KEY] = True


def protect(bp, *endpoints, on_identified=None):
    """Identify visitors of these endpoints of `bp` (all of them when none are named) through web OAuth."""
    names = {e if "." in e else f"{bp.name}.{e}" for e in endpoints}

    @bp.before_request
    def _web_oauth():
        if names and request.endpoint not in names:
            return None
        return identify(on_identified)
