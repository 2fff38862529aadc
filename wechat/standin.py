"""A stand-in for WeChat's API: a real HTTP server on 127.0.0.1 that answers like api.weixin.qq.com.

Used by every test (tests/conftest.py points WECHAT_API_BASE at it) and by `make run` in sandbox mode
(no real WeChat credentials; the page /dev/wechat shows what it received). It checks what WeChat checks —
app credentials, access tokens (missing 41001, unknown 40001, expired 42001), openids (40003), template
ids (40037), required fields and value lengths per keyword type (47003), scene and page rules — records
every call, and can be told to fail: `inject(path, errcode=…, status=…, delay=…, times=1)`. `latency=`
(seconds) makes every API call answer that much later, like a distant server (benchmarks).

Conventions (deterministic, so tests can name users):
- jscode2session: code "code-<name>" → openid "openid-<name>"; unionid "unionid-<name>" when the code
  contains "union". Any other code → 40029.
- Valid openids: those it issued, those configured (`configure(openids=…)`), and any "openid-<name>"
  (mini-program) or "oa-<name>" (official account). cgi-bin/user/info gives "oa-<name>" the unionid
  "unionid-<name>" when the name contains "union".
- Web OAuth: /connect/oauth2/authorize sends the visitor back with code "code-<name>" (name from `as=`, the
  cookie /_standin/as sets, or a typed answer); sns/oauth2/access_token turns it into openid "oa-<name>".
- msg_sec_check v2: text containing "违禁" → risky, "待审" → review, else pass.
- Template ids: when `templates` is configured ({id: [keyword keys] or None}), other ids → 40037 and
  missing keywords → 47003; when it is empty, any id is accepted.
"""
import base64
import html
import io
import json
import re
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import WSGIRequestHandler, make_server

ERRMSG = {
    -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid", 40013: "invalid appid", 40029: "invalid code", 40037: "invalid template_id",
    40125: "invalid appsecret", 40129: "invalid scene", 40169: "invalid length for scene",
    40016: "invalid button size", 40018: "invalid button name size", 40027: "invalid sub button url size",
    41001: "access_token missing", 41030: "invalid page", 42001: "access_token expired",
    43101: "user refuse to accept the msg", 44002: "empty post data", 45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled", 47001: "data format error",
    47003: "argument invalid!", 87014: "risky content",
}

# what each sending endpoint is called in .sent(kind)
KINDS = {
    "token": "cgi-bin/token", "stable_token": "cgi-bin/stable_token", "jscode2session": "sns/jscode2session",
    "subscribe": "cgi-bin/message/subscribe/send", "template": "cgi-bin/message/template/send",
    "custom": "cgi-bin/message/custom/send", "msg_sec_check": "wxa/msg_sec_check",
    "wxacode": "wxa/getwxacodeunlimit", "qrcode": "cgi-bin/qrcode/create", "menu": "cgi-bin/menu/create",
    "user_info": "cgi-bin/user/info", "oauth": "sns/oauth2/access_token",
}
TOKEN_TTL = 7200
OAUTH_COOKIE = "standin_wechat_user"  # the sandbox's "who am I in WeChat" for web OAuth

# keyword type → check of its value (WECHAT.md §4.1)
_T = r"\d{1,2}:\d{2}(:\d{2})?"
_D = r"\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?"
_TIME = re.compile(rf"^({_D}\s*)?{_T}(\s*~\s*({_D}\s*)?{_T})?$")
_DATE = re.compile(rf"^{_D}(\s*{_T})?(\s*~\s*{_D}(\s*{_T})?)?$")
VALUE_RULES = {
    "thing": lambda v: len(v) <= 20,
    "number": lambda v: len(v) <= 32 and re.fullmatch(r"[+-]?\d+(\.\d+)?", v),
    "letter": lambda v: len(v) <= 32 and re.fullmatch(r"[A-Za-z]+", v),
    "symbol": lambda v: len(v) <= 5,
    "character_string": lambda v: len(v) <= 32 and re.fullmatch(r"[\x21-\x7e]+", v),
    "time": lambda v: _TIME.match(v),
    "date": lambda v: _DATE.match(v),
    "amount": lambda v: re.fullmatch(r"[￥¥$€£]?\d{1,10}(\.\d{1,2})?元?", v),
    "phone_number": lambda v: len(v) <= 17 and re.fullmatch(r"[\d+\-() ]+", v),
    "car_number": lambda v: len(v) <= 8,
    "name": lambda v: len(v) <= (20 if v.isascii() else 10),
    "phrase": lambda v: re.fullmatch(r"[\u4e00-\u9fff]{1,5}", v),
}
SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Fail(Exception):
    def __init__(self, errcode, detail=""):
        super().__init__(errcode)
        self.errcode, self.detail = errcode, detail


class WeChatStandIn:
    def __init__(self, apps=None, templates=None, openids=None, latency=0):
        self.latency = latency  # seconds added to every API call
        self._lock = threading.Lock()
        self._server = self._thread = None
        self.base_url = None
        self._defaults = (dict(apps or {}), dict(templates or {}), set(openids or ()))
        self.reset()

    # --- control ----------------------------------------------------------------------------------

    def configure(self, apps=None, templates=None, openids=None):
        """Change what is valid until the next reset(): apps {appid: secret} (empty: any pair), templates
        {id: [keyword keys] or None} (empty: any id), extra valid openids. None leaves a part unchanged."""
        if apps is not None:
            self.apps = dict(apps)
        if templates is not None:
            self.templates = dict(templates)
        if openids is not None:
            self.openids = set(openids)

    def reset(self):
        """Back to the configuration given at construction; forget calls, failures, tokens, issued openids."""
        self.apps, self.templates, self.openids = (type(x)(x) for x in self._defaults)
        with self._lock:
            self.calls = []
            self._injections = []
            self._tokens = {}       # token -> [appid, expires_at]
            self._stable = {}       # appid -> token
            self._issued = set()
            self._counter = 0

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
        """The JSON bodies (or query for GETs) of successful calls of a kind: subscribe, template, custom, …"""
        path = "/" + KINDS.get(kind, kind).strip("/")
        with self._lock:
            return [c["json"] if c["json"] is not None else c["query"] for c in self.calls
                    if c["path"] == path and c["errcode"] == 0]

    def start(self, port=0):
        self._server = make_server("127.0.0.1", port, self.wsgi_app(), threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="wechat-standin")
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/"
        return self.base_url

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(10)
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
        }
        no_token = {"cgi-bin/token", "cgi-bin/stable_token", "sns/jscode2session", "sns/oauth2/access_token"}

        @app.get("/_standin/calls")
        def calls():
            with self._lock:
                return jsonify(list(reversed(self.calls[-200:])))

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

    def _check_openid(self, openid):
        if not (openid and (openid in self._issued or openid in self.openids
                            or re.fullmatch(r"(openid|oa)-[\w.-]{1,50}", openid))):
            raise Fail(40003)

    def _check_template(self, body):
        self._check_openid(body.get("touser"))
        template_id = body.get("template_id")
        if not template_id or (self.templates and template_id not in self.templates):
            raise Fail(40037)
        data = body.get("data")
        if not isinstance(data, dict):
            raise Fail(47001)
        for key in self.templates.get(template_id) or ():
            if key not in data:
                raise Fail(47003, f"data.{key}.value is empty")
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                raise Fail(47003, f"data.{key}.value is empty")
            match = re.fullmatch(r"([a-z_]+?)(\d+)", key)
            rule = VALUE_RULES.get(match.group(1)) if match else None
            if len(value) > 200 or (rule is not None and not rule(value)):
                raise Fail(47003, f"data.{key}.value invalid")

    def _new_token(self, appid):
        with self._lock:
            self._counter += 1
            token = f"TOKEN-{self._counter}-{secrets.token_hex(8)}"
            self._tokens[token] = [appid, time.time() + TOKEN_TTL]
        return token

    # --- endpoints --------------------------------------------------------------------------------

    def _token(self, body, query, call):
        self._check_app(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "client_credential":
            raise Fail(47001)
        call["appid"] = query["appid"]
        return {"access_token": self._new_token(query["appid"]), "expires_in": TOKEN_TTL}

    def _stable_token(self, body, query, call):
        appid = body.get("appid")
        self._check_app(appid, body.get("secret"))
        if body.get("grant_type") != "client_credential":
            raise Fail(47001)
        call["appid"] = appid
        with self._lock:
            token = self._stable.get(appid)
            entry = self._tokens.get(token)
        if body.get("force_refresh") or entry is None or entry[1] <= time.time():
            token = self._new_token(appid)
            with self._lock:
                self._stable[appid] = token
                entry = self._tokens[token]
        return {"access_token": token, "expires_in": int(entry[1] - time.time())}

    def _jscode2session(self, body, query, call):
        self._check_app(query.get("appid"), query.get("secret"))
        code = query.get("js_code") or ""
        if query.get("grant_type") != "authorization_code" or not re.fullmatch(r"code-[\w.-]{1,50}", code):
            raise Fail(40029)
        call["appid"] = query["appid"]
        name = code[len("code-"):]
        result = {"openid": f"openid-{name}", "session_key": base64.b64encode(secrets.token_bytes(16)).decode()}
        if "union" in code:
            result["unionid"] = f"unionid-{name}"
        with self._lock:
            self._issued.add(result["openid"])
        return result

    def _oauth2_access_token(self, body, query, call):
        """Official-account web OAuth (snsapi_base): code "code-<name>" → openid "oa-<name>"."""
        self._check_app(query.get("appid"), query.get("secret"))
        code = query.get("code") or ""
        if query.get("grant_type") != "authorization_code" or not re.fullmatch(r"code-[\w.-]{1,50}", code):
            raise Fail(40029)
        call["appid"] = query["appid"]
        openid = f"oa-{code[len('code-'):]}"
        with self._lock:
            self._issued.add(openid)
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
            call["errcode"] = "chooser"
            return Response(
                '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
                "<title>微信授权（替身）</title><h3>微信网页授权（接口替身）</h3><p>你是哪位微信用户？</p>"
                f'<form method="get">{hidden}<input name="as" placeholder="用户名，如 alice" required>'
                '<button type="submit">确认</button></form>', mimetype="text/html")
        call["errcode"] = 0
        sep = "&" if "?" in back else "?"
        return redirect(f"{back}{sep}{urlencode({'code': f'code-{name}', 'state': args.get('state', '')})}")

    def _subscribe_send(self, body, query, call):
        self._check_template(body)
        if body.get("miniprogram_state", "formal") not in ("developer", "trial", "formal"):
            raise Fail(47001)
        return {}

    def _template_send(self, body, query, call):
        self._check_template(body)
        mp = body.get("miniprogram")
        if mp is not None and not (isinstance(mp, dict) and mp.get("appid") and mp.get("pagepath") is not None):
            raise Fail(47001)
        with self._lock:
            self._counter += 1
            return {"msgid": 200000000 + self._counter}

    def _custom_send(self, body, query, call):
        self._check_openid(body.get("touser"))
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
        return {}

    def _msg_sec_check(self, body, query, call):
        if body.get("version") != 2:
            raise Fail(47001)
        self._check_openid(body.get("openid"))
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
        image = qrcode.make(f"wxacode:{page}?scene={scene}", box_size=8)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return Response(out.getvalue(), mimetype="image/png")

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
        self._check_openid(openid)
        name = openid.split("-", 1)[-1]
        info = {"subscribe": 1, "openid": openid, "language": "zh_CN", "subscribe_time": int(time.time())}
        if "union" in name:
            info["unionid"] = f"unionid-{name}"
        return info
