"""A stand-in for WeChat's API: a real HTTP server on 127.0.0.1 that answers like api.weixin.qq.com.

Used by every test (tests/conftest.py points WECHAT_API_BASE at it) and by `make run` in sandbox mode
(no real WeChat credentials; the page /dev/wechat shows what it received). It is STRICT: it refuses what
WeChat refuses (WECHAT.md §11), each refusal a named rule in RULES, and a test may switch one rule off
only by naming it (`relax("consent")`, until the next reset). It records every call, and can be told to
fail: `inject(path, errcode=…, status=…, delay=…, times=1)`. `latency=` (seconds) makes every API call
answer that much later, like a distant server (benchmarks).

What it knows, like WeChat's servers do, and how tests tell it what the WeChat app on a phone did:
- apps {appid: secret} (empty: any pair) and which mini-program each official account has linked
  (`links` {oa appid: [mp appid]}); templates: the accounts' templates, realistic ones by default
  (TEMPLATES: id → app "mp"/"oa", title, {"<rule><kid>": keyword name}, type 2 one-time / 3 long-term).
- `consent(openid, template_id, n=1)`: the person ticked the template in wx.requestSubscribeMessage;
  `unfollow(openid)` / `follow(openid)`; `user_wrote(openid, trigger)`: a message (48 h, 5 answers),
  or a menu click / follow / scan (1 minute, 3 answers) opens the customer-service window.
- jscode2session: code "code-<name>" (or "code-<name>~<anything>", a later wx.login of the same person)
  → openid "openid-<name>", each code once; unionid "unionid-<name>" when the name contains "union".
  Mini-program openids are "openid-<name>", official-account openids "oa-<name>" (and any configured);
  each is valid only on its own app's APIs. `opened(openid)`: the person has the mini-program open (a
  login counts too); content checks need that in the last 2 hours.
- msg_sec_check v2: text containing "违禁" → risky, "待审" → review, else pass.
- Web OAuth: /connect/oauth2/authorize sends the visitor back with code "code-<name>" (name from `as=`, the
  cookie /_standin/as sets, or a typed answer); sns/oauth2/access_token turns it into openid "oa-<name>".
"""
import base64
import html
import io
import json
import re
import secrets
import socket
import sys
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingTCPServer
from urllib.parse import unquote_to_bytes, urlencode

from flask import Flask, Response, jsonify, redirect, request

ERRMSG = {
    -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid", 40013: "invalid appid", 40029: "invalid code", 40037: "invalid template_id",
    40125: "invalid appsecret", 40129: "invalid scene", 40163: "code been used", 40169: "invalid length for scene",
    40016: "invalid button size", 40018: "invalid button name size", 40027: "invalid sub button url size",
    40165: "invalid weapp pagepath", 40166: "invalid weapp appid",
    41001: "access_token missing", 41030: "invalid page", 42001: "access_token expired",
    43004: "require subscribe", 43101: "user refuse to accept the msg", 44002: "empty post data",
    45009: "reach max api daily quota limit", 45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled", 45047: "out of response count limit",
    47001: "data format error", 47003: "argument invalid!", 61010: "user is not recently active", 87014: "risky content",
}

# what each endpoint is called in .sent(kind)
KINDS = {
    "token": "cgi-bin/token", "stable_token": "cgi-bin/stable_token", "jscode2session": "sns/jscode2session",
    "subscribe": "cgi-bin/message/subscribe/send", "template": "cgi-bin/message/template/send",
    "custom": "cgi-bin/message/custom/send", "msg_sec_check": "wxa/msg_sec_check",
    "wxacode": "wxa/getwxacodeunlimit", "qrcode": "cgi-bin/qrcode/create", "menu": "cgi-bin/menu/create",
    "user_info": "cgi-bin/user/info", "oauth": "sns/oauth2/access_token",
    "mp_templates": "wxaapi/newtmpl/gettemplate", "mp_keywords": "wxaapi/newtmpl/getpubtemplatekeywords",
    "oa_templates": "cgi-bin/template/get_all_private_template",
}
TOKEN_TTL = 7200
OAUTH_COOKIE = "standin_wechat_user"  # the sandbox's "who am I in WeChat" for web OAuth
OLD_TOKEN_GRACE = 300          # an access token stays valid 5 minutes after a newer one is issued
FORCE_REFRESH_PER_DAY, FORCE_REFRESH_GAP = 20, 30
CLIENT_MSG_ID_TTL = 600        # template send: one message per openid + client_msg_id within 10 minutes
RECENT_USE = 2 * 3600          # msg_sec_check: the user used the mini-program in the last 2 hours
CS_WINDOWS = {"message": (48 * 3600, 5), "click": (60, 3), "subscribe": (60, 3), "scan": (60, 3)}

# The strict rules, by name: relax(name) switches one off until reset() (a test must ask by name).
RULES = {
    "app_openid": "an openid is valid only on the APIs of the app that issued it (40003)",
    "template": "a template id of this app (40037); data keys exactly the template's keywords, so no "
                "first/remark (47003)",
    "values": "each keyword's value as its rule is published (47003)",
    "consent": "a subscribe message spends one unused consent of that openid and template (43101)",
    "follower": "template and customer-service messages only to followers (43004 / 45015)",
    "cs_window": "customer-service messages only inside a trigger's window and count (45015 / 45047)",
    "linked": "a template message opens only a mini-program linked to the official account (40166)",
    "login_once": "a wx.login or web OAuth code works once (40163)",
    "force_refresh": "stable_token force_refresh at most 20 a day and 30 s apart (45009 / 45011)",
    "recent_use": "content checks only for a user of the mini-program in the last 2 hours (61010)",
}

# keyword rule → check of its value, as published (WECHAT.md §4.1); the key of a keyword is <rule><kid>
_T = r"\d{1,2}:\d{2}(:\d{2})?"
_D = r"\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?"
_TIME = re.compile(rf"({_D}\s*)?{_T}(\s*~\s*({_D}\s*)?{_T})?")
_DATE = re.compile(rf"{_D}(\s*{_T})?(\s*~\s*{_D}(\s*{_T})?)?")
_HAN = r"\u4e00-\u9fff"


def _symbols(v):
    return all(unicodedata.category(ch)[0] in "PS" for ch in v)


VALUE_RULES = {
    "thing": lambda v: len(v) <= 20,
    "number": lambda v: len(v) <= 32 and re.fullmatch(r"\d+(\.\d+)?", v),
    "letter": lambda v: len(v) <= 32 and re.fullmatch(r"[A-Za-z]+", v),
    "symbol": lambda v: len(v) <= 5 and _symbols(v),
    "character_string": lambda v: len(v) <= 32 and re.fullmatch(r"[\x21-\x7e]+", v),
    "time": lambda v: _TIME.fullmatch(v),
    "date": lambda v: _DATE.fullmatch(v),
    "amount": lambda v: re.fullmatch(r"[￥¥$€£]?\d{1,10}(\.\d{1,2})?元?", v),
    "phone_number": lambda v: len(v) <= 17 and re.fullmatch(r"[\d+\-() ]+", v),
    "car_number": lambda v: len(v) <= 8 and re.fullmatch(rf"[{_HAN}A-Za-z0-9][A-Za-z0-9]*[{_HAN}A-Za-z0-9]?", v),
    "name": lambda v: len(v) <= (20 if v.isascii() else 10),
    "phrase": lambda v: re.fullmatch(rf"[{_HAN}]{{1,5}}", v),
    "enum": None, "const": None,  # only the values the template lists
}
KEYWORD = re.compile(r"([a-z_]+?)(\d+)")
SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")


_UNREADABLE = re.compile("[\x00-\x1f\x7f-\x9f\U00010000-\U0010ffff]")  # Unicode's Cc, and past the BMP


def _readable(value):
    """No control characters (newlines included), no characters outside the Basic Multilingual Plane
    (emoji) — what WeChat's keyword check refuses (stricter than its documentation says, not looser)."""
    return not _UNREADABLE.search(value)


# The accounts' templates, as an operator would pick them in the consoles: WeChat's own keyword keys,
# never the ones our code would choose. "type": 2 one-time, 3 long-term subscription (mini-program).
TEMPLATES = {
    # mini-program subscribe messages (订阅消息 → 公共模板库)
    "kXzR1qPZl0c3m5WbQ9tHfS2uV8yN4aJdE6gL7oT1iMw": {
        "app": "mp", "tid": 1832, "title": "办理进度通知", "type": 2, "keywords": {
            "character_string12": "受理编号", "thing3": "事项名称", "phrase7": "办理状态", "thing9": "温馨提示",
            "time2": "更新时间"}},
    "pA4nL8cVx2RsQ0wE5tYu7iO9pKjH3gFdS1aZ6mNbV4c": {
        "app": "mp", "tid": 5102, "title": "待办事项提醒", "type": 2, "keywords": {
            "character_string5": "事项编号", "thing1": "事项名称", "thing8": "待办内容", "date11": "截止日期"}},
    "Rt6yU1iO3pAs5dF7gH9jK2lZ4xC6vB8nM0qW1eR3tYu": {
        "app": "mp", "tid": 2417, "title": "项目进度通知", "type": 2, "keywords": {
            "thing4": "项目名称", "thing2": "进度说明", "character_string6": "完成进度", "time3": "更新时间"}},
    "Lm9nB7vC5xZ3aS1dF2gH4jK6lQ8wE0rT2yU4iO6pA8s": {
        "app": "mp", "tid": 3350, "title": "工作汇总提醒", "type": 2, "keywords": {
            "thing6": "提醒事项", "number3": "数量", "thing5": "备注", "date1": "日期"}},
    # official-account template messages (模板消息, keyword library since 2023: no first/remark)
    "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY": {
        "app": "oa", "title": "办理进度提醒", "keywords": {
            "character_string2": "案件编号", "thing5": "反映事项", "phrase3": "办理状态", "thing8": "办理说明",
            "time4": "更新时间"}},
    "V0zWq2Ex4Rc6Tv8Yb1Un3Im5Ol7Pk9Aj0Sh2Dg4Ff6G": {
        "app": "oa", "title": "待办任务提醒", "keywords": {
            "character_string1": "任务编号", "thing6": "任务名称", "thing2": "待办事项", "date9": "截止日期"}},
    "J7hG5fD3sA1pO9iU7yT5rE3wQ1zX8cV6bN4mL2kJ0hG": {
        "app": "oa", "title": "项目进展通知", "keywords": {
            "thing1": "项目名称", "thing3": "进展情况", "character_string4": "完成比例", "time2": "更新时间"}},
    "Ht3Ky8Lw2Qz6Mx1Nc5Vb9Bn4Ad7Sf0Gh2Jk6Lq8We1R": {
        "app": "oa", "title": "工作提醒", "keywords": {
            "thing2": "提醒内容", "number4": "数量", "thing3": "备注", "date5": "日期"}},
}


class _KeepAlive(BaseHTTPRequestHandler):
    """HTTP/1.1 with connections kept alive between calls, as WeChat's servers answer, running the stand-in's
    WSGI app one request at a time per connection (a thread each). Werkzeug's development server cannot be
    used for that: it closes every connection, and after each answer reads whatever else the socket holds
    until the client closes — on a kept-alive connection that is the client's next request, so both sides
    wait for each other for good (why a first attempt, patching werkzeug's "Connection: close" away, hung).
    Request bodies need a Content-Length (every client here sends one); answers are sent whole with theirs."""
    protocol_version = "HTTP/1.1"
    timeout = 75  # seconds an idle connection is kept, as nginx does
    wbufsize = -1  # headers and body leave in one write (flushed after each answer): no Nagle/delayed-ACK stall
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411)  # closes the connection
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "QUERY_STRING": query,
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(length),
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name in self.headers.keys():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = (", " if key != "HTTP_COOKIE" else "; ").join(self.headers.get_all(name))
        answer = []
        result = self.server.app(environ, lambda status, headers, exc_info=None: answer.extend((status, headers)))
        try:
            data = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        status, headers = answer
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_POST = do_HEAD = do_GET


class _Server(ThreadingTCPServer):
    """A thread per connection; remembers the open ones, so stop() can close the idle kept-alive ones too."""
    daemon_threads = allow_reuse_address = True
    request_queue_size = 1024  # socketserver's 5 drops connections when 64 drain senders connect at once

    def __init__(self, address, app):
        super().__init__(address, _KeepAlive)
        self.app, self.open = app, set()

    def process_request(self, request, client_address):
        self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error
            super().handle_error(request, client_address)

    def close_all(self):
        self.server_close()
        for request in list(self.open):
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Fail(Exception):
    def __init__(self, errcode, detail=""):
        super().__init__(errcode)
        self.errcode, self.detail = errcode, detail


class WeChatStandIn:
    def __init__(self, apps=None, links=None, templates=None, openids=None, latency=0):
        self.latency = latency  # seconds added to every API call
        self._lock = threading.Lock()
        self._server = self._thread = None
        self.base_url = None
        self._defaults = (dict(apps or {}), {k: list(v) for k, v in (links or {}).items()},
                          dict(TEMPLATES if templates is None else templates), set(openids or ()))
        self.reset()

    # --- control ----------------------------------------------------------------------------------

    def configure(self, apps=None, links=None, templates=None, openids=None):
        """Change what is valid until the next reset(): apps {appid: secret} (empty: any pair), links
        {oa appid: [mp appids]}, templates {id: {"app", "title", "keywords", "type"?, "values"?}}, extra
        valid openids. None leaves a part unchanged."""
        if apps is not None:
            self.apps = dict(apps)
        if links is not None:
            self.links = {k: list(v) for k, v in links.items()}
        if templates is not None:
            self.templates = dict(templates)
        if openids is not None:
            self.openids = set(openids)

    def reset(self):
        """Back to the configuration given at construction, every rule strict; forget calls, failures,
        tokens, logins, consents, follows and conversations."""
        apps, links, templates, openids = self._defaults
        self.apps, self.links, self.templates, self.openids = dict(apps), dict(links), dict(templates), set(openids)
        with self._lock:
            self.relaxed = set()
            self.calls = []
            self._injections = []
            self._tokens = {}       # token -> [appid, expires_at]
            self._latest = {}       # (appid, "token"|"stable") -> the newest token
            self._forced = {}       # appid -> [times of forced refreshes]
            self._opened = {}       # openid -> when the person last used the mini-program
            self._codes = set()     # login codes used
            self._consents = {}     # (openid, template id) -> unused consents
            self._unfollowed = set()
            self._windows = {}      # openid -> [[trigger, opened_at, answers]]
            self._client_msgs = {}  # (openid, client_msg_id) -> (msgid, at)
            self._counter = 0

    def relax(self, *rules):
        """Switch the named strict rules off until reset() (RULES lists them)."""
        unknown = set(rules) - set(RULES)
        if unknown:
            raise ValueError(f"unknown stand-in rules: {sorted(unknown)}")
        self.relaxed.update(rules)

    def strict(self, rule):
        return rule not in self.relaxed

    def consent(self, openid, template_id, count=1):
        """The person ticked the template in wx.requestSubscribeMessage (one send per tick)."""
        with self._lock:
            key = (openid, template_id)
            self._consents[key] = self._consents.get(key, 0) + count

    def consents(self, openid, template_id):
        with self._lock:
            return self._consents.get((openid, template_id), 0)

    def opened(self, openid):
        """The person is using the mini-program now (WeChat knows; content checks ask for it)."""
        with self._lock:
            self._opened[openid] = time.time()

    def unfollow(self, openid):
        self._unfollowed.add(openid)

    def follow(self, openid):
        self._unfollowed.discard(openid)

    def user_wrote(self, openid, trigger="message", at=None):
        """The follower wrote to the account ("message") or clicked the menu, followed or scanned
        ("click", "subscribe", "scan"): customer-service messages may answer for a while."""
        with self._lock:
            self._windows.setdefault(openid, []).append([trigger, at or time.time(), 0])

    def inject(self, path, errcode=None, status=None, delay=None, times=1):
        """The next `times` calls to `path` (e.g. "message/subscribe/send") wait `delay` seconds, then answer
        HTTP `status` or WeChat `errcode` (or normally when neither is given: a slow answer)."""
        with self._lock:
            self._injections.append({"path": path.strip("/"), "errcode": errcode, "status": status,
                                     "delay": delay, "times": times})

    def expire_tokens(self):
        """Every token issued so far expires now (calls with it get 42001)."""
        with self._lock:
            for entry in self._tokens.values():
                entry[1] = 0

    def sent(self, kind):
        """The JSON bodies (or query for GETs) of successful calls of a kind: subscribe, template, custom, …
        (a template send repeated with the same client_msg_id is not sent again, so not listed)."""
        path = "/" + KINDS.get(kind, kind).strip("/")
        with self._lock:
            return [c["json"] if c["json"] is not None else c["query"] for c in self.calls
                    if c["path"] == path and c["errcode"] == 0 and not c.get("repeat")]

    def start(self, port=0):
        self._server = _Server(("127.0.0.1", port), self.wsgi_app())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="wechat-standin")
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        return self.base_url

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(10)
            self._server.close_all()
            self._server = None

    # --- the HTTP side ----------------------------------------------------------------------------

    def wsgi_app(self):
        app = Flask("wechat_standin")
        routes = {
            "cgi-bin/token": self._token, "cgi-bin/stable_token": self._stable_token,
            "sns/jscode2session": self._jscode2session, "sns/oauth2/access_token": self._oauth2_access_token,
            "cgi-bin/message/subscribe/send": self._subscribe_send,
            "cgi-bin/message/template/send": self._template_send,
            "cgi-bin/message/custom/send": self._custom_send,
            "wxa/msg_sec_check": self._msg_sec_check, "wxa/getwxacodeunlimit": self._wxacode,
            "cgi-bin/qrcode/create": self._qrcode_create, "cgi-bin/menu/create": self._menu_create,
            "cgi-bin/user/info": self._user_info,
            "wxaapi/newtmpl/gettemplate": self._mp_templates,
            "wxaapi/newtmpl/getpubtemplatekeywords": self._mp_keywords,
            "cgi-bin/template/get_all_private_template": self._oa_templates,
        }
        no_token = {"cgi-bin/token", "cgi-bin/stable_token", "sns/jscode2session", "sns/oauth2/access_token"}

        @app.get("/_standin/calls")
        def calls():
            with self._lock:
                return jsonify(list(reversed(self.calls[-200:])))

        @app.post("/_standin/consent")
        def consent():
            """Sandbox: the mini-program's wx.requestSubscribeMessage, as WeChat's servers learn of it."""
            body = request.get_json(force=True, silent=True) or {}
            for template_id in body.get("template_ids") or ():
                self.consent(body.get("openid"), template_id, int(body.get("count") or 1))
            return jsonify({"errcode": 0})

        @app.post("/_standin/opened")
        def opened():
            """Tests: the person has the mini-program open while it calls our API."""
            self.opened((request.get_json(force=True, silent=True) or {}).get("openid"))
            return jsonify({"errcode": 0})

        @app.post("/_standin/wrote")
        def wrote():
            """Sandbox: a follower wrote to the official account."""
            body = request.get_json(force=True, silent=True) or {}
            self.user_wrote(body.get("openid"), body.get("trigger") or "message")
            return jsonify({"errcode": 0})

        @app.get("/connect/oauth2/authorize")
        def oauth_authorize():
            return self._oauth_authorize()

        @app.get("/_standin/as")
        def act_as():
            """Sandbox: this browser is now WeChat user <name> (remembered in a cookie), then on to `next`."""
            name, nxt = request.args.get("name", ""), request.args.get("next", "")
            if not re.fullmatch(r"[\w.-]{1,50}", name) or not nxt.startswith(("http://", "https://")):
                return Response("stand-in: name and next (an absolute URL) are required", status=400)
            response = redirect(nxt)
            response.set_cookie(OAUTH_COOKIE, name, httponly=True, samesite="Lax")
            return response

        @app.route("/<path:path>", methods=["GET", "POST"])
        def endpoint(path):
            path = path.strip("/")
            query = request.args.to_dict()
            try:
                body = json.loads(request.get_data() or b"null")
            except ValueError:
                body = "<not json>"
            call = {"path": "/" + path, "method": request.method, "query": query, "json": body,
                    "appid": None, "errcode": None, "at": time.time()}
            with self._lock:
                self.calls.append(call)
                injection = self._take_injection(path)
            if self.latency:
                time.sleep(self.latency)
            if injection:
                if injection["delay"]:
                    time.sleep(injection["delay"])
                if injection["status"]:
                    call["errcode"] = f"HTTP {injection['status']}"
                    return Response("stand-in: injected failure", status=injection["status"])
                if injection["errcode"] is not None:
                    return self._error(call, injection["errcode"])
            handler = routes.get(path)
            if handler is None:
                call["errcode"] = 404
                return Response("not found", status=404)
            try:
                if path not in no_token:
                    call["appid"] = self._check_token(query.get("access_token"))
                if request.method == "POST" and path not in ("cgi-bin/token",) and not isinstance(body, dict):
                    raise Fail(47001 if body else 44002)
                result = handler(body if isinstance(body, dict) else {}, query, call)
            except Fail as fail:
                return self._error(call, fail.errcode, fail.detail)
            call["errcode"] = 0
            if isinstance(result, Response):
                return result
            return jsonify({"errcode": 0, "errmsg": "ok", **result})

        return app

    def _take_injection(self, path):
        for inj in self._injections:
            if inj["times"] > 0 and (path == inj["path"] or path.endswith("/" + inj["path"])):
                inj["times"] -= 1
                return inj
        return None

    def _error(self, call, errcode, detail=""):
        call["errcode"] = errcode
        msg = ERRMSG.get(errcode, "error") + (f" {detail}" if detail else "")
        return jsonify({"errcode": errcode, "errmsg": f"{msg} rid: standin-{secrets.token_hex(4)}"})

    # --- checks -----------------------------------------------------------------------------------

    def _check_app(self, appid, secret):
        if not appid or (self.apps and appid not in self.apps):
            raise Fail(40013)
        if not secret or (self.apps and self.apps[appid] != secret):
            raise Fail(40125)

    def _check_token(self, token):
        if not token:
            raise Fail(41001)
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            raise Fail(40001)
        if entry[1] <= time.time():
            raise Fail(42001)
        return entry[0]

    def _check_openid(self, openid, app):
        """A valid openid of the app ("mp" or "oa") whose API is called."""
        prefix = "openid" if app == "mp" else "oa"
        ours = re.fullmatch(rf"{prefix}-[\w.-]{{1,50}}", openid or "")
        theirs = re.fullmatch(r"(openid|oa)-[\w.-]{1,50}", openid or "")
        if not openid or not (openid in self.openids or ours or (theirs and not self.strict("app_openid"))):
            raise Fail(40003)

    def _check_template(self, body, app):
        self._check_openid(body.get("touser"), app)
        template_id = body.get("template_id")
        template = self.templates.get(template_id)
        if not template_id or ((template is None or template["app"] != app) and self.strict("template")):
            raise Fail(40037)
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            raise Fail(47001)
        keywords = (template or {}).get("keywords") or {}
        if template is not None and self.strict("template"):
            for key in keywords:
                if key not in data:
                    raise Fail(47003, f"data.{key}.value is empty")
            for key in data:
                if key not in keywords:
                    raise Fail(47003, f"data.{key} is not a keyword of the template")
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                raise Fail(47003, f"data.{key}.value is empty")
            if self.strict("values") and not self._value_ok(key, value, template):
                raise Fail(47003, f"data.{key}.value invalid")
        return template

    @staticmethod
    def _value_ok(key, value, template):
        match = KEYWORD.fullmatch(key)
        if not match or match.group(1) not in VALUE_RULES:
            return False
        if not _readable(value) or len(value) > 200:
            return False
        rule = VALUE_RULES[match.group(1)]
        if rule is None:  # enum / const
            return value in ((template or {}).get("values") or {}).get(key, ())
        return bool(rule(value))

    def _new_token(self, appid, kind):
        """A new token; the one it replaces stays valid OLD_TOKEN_GRACE seconds more."""
        now = time.time()
        with self._lock:
            self._counter += 1
            token = f"TOKEN-{self._counter}-{secrets.token_hex(8)}"
            old = self._tokens.get(self._latest.get((appid, kind)))
            if old is not None:
                old[1] = min(old[1], now + OLD_TOKEN_GRACE)
            self._tokens[token] = [appid, now + TOKEN_TTL]
            self._latest[(appid, kind)] = token
        return token

    # --- endpoints --------------------------------------------------------------------------------

    def _token(self, body, query, call):
        self._check_app(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "client_credential":
            raise Fail(47001)
        call["appid"] = query["appid"]
        return {"access_token": self._new_token(query["appid"], "token"), "expires_in": TOKEN_TTL}

    def _stable_token(self, body, query, call):
        appid = body.get("appid")
        self._check_app(appid, body.get("secret"))
        if body.get("grant_type") != "client_credential":
            raise Fail(47001)
        call["appid"] = appid
        now = time.time()
        with self._lock:
            token = self._latest.get((appid, "stable"))
            entry = self._tokens.get(token)
            if body.get("force_refresh") and self.strict("force_refresh"):
                forced = [t for t in self._forced.get(appid, []) if t > now - 86400]
                if len(forced) >= FORCE_REFRESH_PER_DAY:
                    raise Fail(45009)
                if forced and now - forced[-1] < FORCE_REFRESH_GAP:
                    raise Fail(45011)
                self._forced[appid] = forced + [now]
        if body.get("force_refresh") or entry is None or entry[1] <= now:
            token = self._new_token(appid, "stable")
            with self._lock:
                entry = self._tokens[token]
        return {"access_token": token, "expires_in": int(entry[1] - now)}

    def _jscode2session(self, body, query, call):
        self._check_app(query.get("appid"), query.get("secret"))
        code = query.get("js_code") or ""
        if query.get("grant_type") != "authorization_code" or not re.fullmatch(r"code-[\w.-]{1,50}(~\w{1,20})?", code):
            raise Fail(40029)
        with self._lock:
            if code in self._codes and self.strict("login_once"):
                raise Fail(40163)
            self._codes.add(code)
        call["appid"] = query["appid"]
        name = code[len("code-"):].split("~")[0]
        result = {"openid": f"openid-{name}", "session_key": base64.b64encode(secrets.token_bytes(16)).decode()}
        if "union" in name:
            result["unionid"] = f"unionid-{name}"
        self.opened(result["openid"])
        return result

    def _oauth2_access_token(self, body, query, call):
        """Official-account web OAuth (snsapi_base): code "code-<name>" → openid "oa-<name>"."""
        self._check_app(query.get("appid"), query.get("secret"))
        code = query.get("code") or ""
        if query.get("grant_type") != "authorization_code" or not re.fullmatch(r"code-[\w.-]{1,50}(~\w{1,20})?", code):
            raise Fail(40029)
        with self._lock:
            if code in self._codes and self.strict("login_once"):
                raise Fail(40163)
            self._codes.add(code)
        call["appid"] = query["appid"]
        openid = f"oa-{code[len('code-'):].split('~')[0]}"
        return {"access_token": secrets.token_hex(16), "expires_in": 7200, "refresh_token": secrets.token_hex(16),
                "openid": openid, "scope": "snsapi_base"}

    def _oauth_authorize(self):
        """WeChat's web OAuth authorize page (open.weixin.qq.com/connect/oauth2/authorize): checks what WeChat
        checks, then sends the visitor back to redirect_uri with code "code-<name>" and the state. Who the
        visitor is: `as=<name>` in the query (tests), else the stand-in's cookie (/_standin/as, the sandbox),
        else a small page where they type a name, like a WeChat user confirming who they are."""
        args = request.args
        call = {"path": "/connect/oauth2/authorize", "method": "GET", "query": args.to_dict(), "json": None,
                "appid": args.get("appid"), "errcode": None, "at": time.time()}
        with self._lock:
            self.calls.append(call)
        back = args.get("redirect_uri", "")
        problem = ("appid" if not args.get("appid") or (self.apps and args["appid"] not in self.apps) else
                   "redirect_uri" if not back.startswith(("http://", "https://")) else
                   "response_type" if args.get("response_type") != "code" else
                   "scope" if args.get("scope") not in ("snsapi_base", "snsapi_userinfo") else "")
        if problem:
            call["errcode"] = 10003 if problem == "redirect_uri" else 10001
            return Response(f"<p>Oops! Something went wrong:( {problem} 参数错误</p>", status=400,
                            mimetype="text/html")
        name = args.get("as") or request.cookies.get(OAUTH_COOKIE) or ""
        if not re.fullmatch(r"[\w.-]{1,50}", name):
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in args.items() if k != "as")
            call["errcode"] = 0  # the page asking who they are
            return Response(
                '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
                "<title>微信授权（替身）</title><h3>微信网页授权（接口替身）</h3><p>你是哪位微信用户？</p>"
                f'<form method="get">{hidden}<input name="as" placeholder="用户名，如 alice" required>'
                '<button type="submit">确认</button></form>', mimetype="text/html")
        call["errcode"] = 0
        sep = "&" if "?" in back else "?"
        code = f"code-{name}~{secrets.token_hex(4)}"  # a fresh code each time, like WeChat's (each works once)
        return redirect(f"{back}{sep}{urlencode({'code': code, 'state': args.get('state', '')})}")


    def _subscribe_send(self, body, query, call):
        template = self._check_template(body, "mp")
        if body.get("miniprogram_state", "formal") not in ("developer", "trial", "formal"):
            raise Fail(47001)
        page = body.get("page")
        if page is not None and (not isinstance(page, str) or page.startswith("/")):
            raise Fail(41030)
        if self.strict("consent"):
            key = (body["touser"], body["template_id"])
            with self._lock:
                if self._consents.get(key, 0) <= 0:
                    raise Fail(43101)
                if (template or {}).get("type", 2) != 3:  # a long-term subscription is not used up
                    self._consents[key] -= 1
        return {}

    def _template_send(self, body, query, call):
        self._check_template(body, "oa")
        mp = body.get("miniprogram")
        if mp is not None:
            if not (isinstance(mp, dict) and mp.get("appid") and isinstance(mp.get("pagepath"), str)):
                raise Fail(47001)
            if mp["pagepath"].startswith("/"):
                raise Fail(40165)
            if self.strict("linked") and mp["appid"] not in self.links.get(call["appid"], ()):
                raise Fail(40166)
        openid = body["touser"]
        if openid in self._unfollowed and self.strict("follower"):
            raise Fail(43004)
        client_msg_id = body.get("client_msg_id")
        now = time.time()
        with self._lock:
            seen = self._client_msgs.get((openid, client_msg_id)) if client_msg_id else None
            if seen and now - seen[1] < CLIENT_MSG_ID_TTL:
                call["repeat"] = True  # the same message again: WeChat does not send it twice
                return {"msgid": seen[0]}
            self._counter += 1
            msgid = 200000000 + self._counter
            if client_msg_id:
                self._client_msgs[(openid, client_msg_id)] = (msgid, now)
            return {"msgid": msgid}

    def _custom_send(self, body, query, call):
        openid = body.get("touser")
        self._check_openid(openid, "oa")
        kind = body.get("msgtype")
        if kind == "text":
            if not (body.get("text") or {}).get("content"):
                raise Fail(44002)
        elif kind == "news":
            articles = (body.get("news") or {}).get("articles")
            if not articles or len(articles) > 1 or not all(a.get("title") for a in articles):
                raise Fail(47001)
        elif kind not in ("image", "voice", "video", "music", "mpnews", "msgmenu", "wxcard", "miniprogrampage"):
            raise Fail(47001)
        if openid in self._unfollowed and self.strict("follower"):
            raise Fail(45015)
        if self.strict("cs_window"):
            now = time.time()
            with self._lock:
                open_ = [w for w in self._windows.get(openid, []) if now - w[1] < CS_WINDOWS[w[0]][0]]
                if not open_:
                    raise Fail(45015)
                free = [w for w in open_ if w[2] < CS_WINDOWS[w[0]][1]]
                if not free:
                    raise Fail(45047)
                free[0][2] += 1
        return {}

    def _msg_sec_check(self, body, query, call):
        if body.get("version") != 2:
            raise Fail(47001)
        openid = body.get("openid")
        self._check_openid(openid, "mp")
        if self.strict("recent_use") and time.time() - self._opened.get(openid, 0) > RECENT_USE:
            raise Fail(61010)
        if body.get("scene") not in (1, 2, 3, 4):
            raise Fail(40129)
        content = body.get("content")
        if not content:
            raise Fail(44002)
        if not isinstance(content, str) or len(content) > 2500:
            raise Fail(47001)
        suggest, label = ("risky", 20006) if "违禁" in content else ("review", 21000) if "待审" in content \
            else ("pass", 100)
        return {"trace_id": secrets.token_hex(8), "result": {"suggest": suggest, "label": label},
                "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}]}

    def _wxacode(self, body, query, call):
        """The code's image: JPEG, as WeChat sends it, unless is_hyaline asks for a transparent PNG."""
        import qrcode
        scene = body.get("scene")
        if not isinstance(scene, str) or not SCENE.match(scene):
            raise Fail(40169)
        page = body.get("page") or ""
        if page.startswith("/") or "?" in page:
            raise Fail(41030)
        width = body.get("width", 430)
        if not isinstance(width, int) or not 280 <= width <= 1280:
            raise Fail(47001)
        image = qrcode.make(f"wxacode:{page}?scene={scene}", box_size=8).get_image()
        out = io.BytesIO()
        if body.get("is_hyaline"):
            image.convert("RGBA").save(out, format="PNG")
            return Response(out.getvalue(), mimetype="image/png")
        image.convert("RGB").save(out, format="JPEG", quality=90)
        return Response(out.getvalue(), mimetype="image/jpeg")

    def _qrcode_create(self, body, query, call):
        action = body.get("action_name")
        scene = (body.get("action_info") or {}).get("scene") or {}
        if action in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise Fail(40129)
        elif action in ("QR_SCENE", "QR_LIMIT_SCENE"):
            value = scene.get("scene_id")
            if not isinstance(value, int) or value <= 0 or (action == "QR_LIMIT_SCENE" and value > 100000):
                raise Fail(40129)
        else:
            raise Fail(47001)
        ticket = base64.urlsafe_b64encode(f"{value}|{secrets.token_hex(6)}".encode()).decode().rstrip("=")
        result = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket}"}
        if "LIMIT" not in action:
            result["expire_seconds"] = min(int(body.get("expire_seconds") or 30), 2592000)
        return result

    def _menu_create(self, body, query, call):
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise Fail(40016)
        for top in buttons:
            if len(top.get("name", "").encode()) > 16 or not top.get("name"):
                raise Fail(40018)
            subs = top.get("sub_button")
            if subs is not None:
                if not 1 <= len(subs) <= 5:
                    raise Fail(40016)
                for sub in subs:
                    if not sub.get("name") or len(sub["name"].encode()) > 60:
                        raise Fail(40018)
                    self._check_button(sub)
            else:
                self._check_button(top)
        return {}

    @staticmethod
    def _check_button(button):
        kind = button.get("type")
        need = {"click": ("key",), "view": ("url",), "miniprogram": ("url", "appid", "pagepath"),
                "scancode_push": ("key",), "scancode_waitmsg": ("key",)}.get(kind)
        if need is None or not all(button.get(k) for k in need):
            raise Fail(47001)
        if len(button.get("url", "").encode()) > 1024 or len(button.get("key", "").encode()) > 128:
            raise Fail(40027)

    def _user_info(self, body, query, call):
        openid = query.get("openid")
        self._check_openid(openid, "oa")
        name = openid.split("-", 1)[-1]
        followed = openid not in self._unfollowed
        info = {"subscribe": int(followed), "openid": openid}
        if followed:
            info.update(language="zh_CN", subscribe_time=int(time.time()))
        if "union" in name:
            info["unionid"] = f"unionid-{name}"
        return info

    # --- the accounts' templates (what `flask wechat templates` reads) ------------------------------

    def _listed(self, app):
        return [(tid, t) for tid, t in self.templates.items() if t["app"] == app]

    @staticmethod
    def _content(template):
        return "".join(f"{name}:{{{{{key}.DATA}}}}\n" for key, name in template["keywords"].items())

    def _mp_templates(self, body, query, call):
        """wxaapi/newtmpl/gettemplate: the mini-program's chosen templates."""
        return {"data": [{"priTmplId": tid, "title": t["title"], "content": self._content(t), "example": "",
                          "type": t.get("type", 2),
                          **({"keywordEnumValueList": [{"keywordCode": f"{k}.DATA", "enumValueList": v}
                                                       for k, v in t["values"].items()]} if t.get("values") else {})}
                         for tid, t in self._listed("mp")]}

    def _mp_keywords(self, body, query, call):
        """wxaapi/newtmpl/getpubtemplatekeywords?tid=: a library template's keywords (kid, name, rule)."""
        for _, t in self._listed("mp"):
            if str(t.get("tid")) == query.get("tid"):
                return {"count": len(t["keywords"]), "data": [
                    {"kid": int(KEYWORD.fullmatch(k).group(2)), "name": name, "example": "",
                     "rule": KEYWORD.fullmatch(k).group(1)} for k, name in t["keywords"].items()]}
        raise Fail(47001)

    def _oa_templates(self, body, query, call):
        """cgi-bin/template/get_all_private_template: the official account's templates."""
        return {"template_list": [{"template_id": tid, "title": t["title"], "primary_industry": "政府",
                                   "deputy_industry": "公共事业", "content": self._content(t), "example": ""}
                                  for tid, t in self._listed("oa")]}
