"""WeChat API clients, built in one place from configuration.

Every call, the token fetch included, goes to WECHAT_API_BASE (the real API, or the stand-in in tests and
in sandbox mode). The access token comes from /cgi-bin/stable_token (many processes share one token and
no fetch invalidates another's) and is kept in shared storage. A call rejected for its token (40001,
40014, 42001) is retried a bounded number of times with a fresh token. Errors: WeChatAPIError (WeChat
answered with an errcode) and WeChatUnavailable (network error, timeout, 5xx, not configured).
"""
import functools
import json
import logging
import os
import re
from urllib.parse import urlencode

import requests
import urllib3
from flask import current_app

from wechat import store
from wechat.errors import WeChatAPIError, WeChatUnavailable

log = logging.getLogger(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
TOKEN_RETRIES = 2          # after a token error: fetch again, then force a refresh, then give up
TOKEN_MARGIN = 300         # seconds: stop using a stored token this long before WeChat expires it
_CA = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or requests.utils.DEFAULT_CA_BUNDLE_PATH


@functools.lru_cache(maxsize=8)
def _pool(base):
    """The kept-alive connections to one API base (room for every drain sender and reply worker), through the
    environment's proxy for it if any; the environment is read once per base, not on every call. urllib3
    itself, not requests on top of it: half the client's CPU per call (0.4 against 0.75 ms, the drain's
    largest cost). Never retried by urllib3: a resent message would arrive twice."""
    proxy = requests.utils.get_environ_proxies(base).get(base.split(":", 1)[0])
    options = {"maxsize": 64, "retries": False, "ca_certs": _CA}
    return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


class Client:
    """One WeChat application (the official account or the mini-program)."""

    def __init__(self, appid, secret, base, timeout):
        if not appid or not secret:
            raise WeChatUnavailable("未配置微信 AppID/AppSecret")
        self.appid, self.secret, self.base, self.timeout = appid, secret, base.rstrip("/") + "/", timeout

    @property
    def token_key(self):
        return f"wechat:token:{self.appid}"

    def token(self, refresh=False, force=False):
        if not refresh:
            cached = store.get(self.token_key)
            if cached:
                return cached
        data = self.request("POST", "cgi-bin/stable_token", json_body={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force})
        token = data["access_token"]
        store.put(self.token_key, token, max(60, int(data.get("expires_in", 7200)) - TOKEN_MARGIN))
        return token

    def request(self, method, path, params=None, json_body=None, raw=False):
        """One HTTP round trip; returns the JSON answer (or bytes when `raw` and WeChat sent no JSON)."""
        body = None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        url = self.base + path + (f"?{urlencode(params)}" if params else "")
        try:
            resp = _pool(self.base).urlopen(method, url, body=body, timeout=self.timeout, redirect=False,
                                            headers={"Content-Type": "application/json"} if body is not None else {})
        except urllib3.exceptions.HTTPError as err:
            raise WeChatUnavailable(f"{path}: {err.__class__.__name__}") from err
        if resp.status >= 400:
            raise WeChatUnavailable(f"{path}: HTTP {resp.status}")
        if raw and not resp.data.lstrip().startswith(b"{"):
            return resp.data
        try:
            data = json.loads(resp.data)
        except ValueError as err:
            raise WeChatUnavailable(f"{path}: not JSON") from err
        if data.get("errcode"):
            raise WeChatAPIError(data["errcode"], data.get("errmsg", ""))
        return data

    def call(self, method, path, params=None, json_body=None, raw=False):
        """An API call with the access token; token errors are retried at most TOKEN_RETRIES times."""
        for attempt in range(TOKEN_RETRIES + 1):
            token = self.token(refresh=attempt > 0, force=attempt > 1)
            try:
                return self.request(method, path, {**(params or {}), "access_token": token}, json_body, raw)
            except WeChatAPIError as err:
                if err.errcode not in TOKEN_ERRORS or attempt == TOKEN_RETRIES:
                    raise
                log.warning("wechat %s: token rejected (%s), fetching a new one", path, err.errcode)


def _client(prefix):
    cfg = current_app.config
    return Client(cfg.get(f"WECHAT_{prefix}_APP_ID"), cfg.get(f"WECHAT_{prefix}_APP_SECRET"),
                  cfg.get("WECHAT_API_BASE") or "https://api.weixin.qq.com/", cfg.get("WECHAT_TIMEOUT") or 5)


def official_account():
    return _client("OA")


def mini_program():
    return _client("MP")


def _values(data):
    """Template data as WeChat wants it: {"thing1": {"value": "…"}} (plain strings are wrapped)."""
    return {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in (data or {}).items()}


# --- mini-program ---------------------------------------------------------------------------------

def code_to_session(code):
    """wx.login's code → {"openid", "session_key", "unionid"?} (never send session_key to the client)."""
    c = mini_program()
    data = c.request("GET", "sns/jscode2session", params={
        "appid": c.appid, "secret": c.secret, "js_code": code, "grant_type": "authorization_code"})
    return {k: data[k] for k in ("openid", "session_key", "unionid") if data.get(k)}


def msg_sec_check(openid, content, scene=2):
    """Content security v2 → "pass" | "review" | "risky" (errcode 0 only means the call worked)."""
    try:
        data = mini_program().call("POST", "wxa/msg_sec_check", json_body={
            "content": content, "version": 2, "openid": openid, "scene": scene})
    except WeChatAPIError as err:
        if err.errcode == 87014:
            return "risky"
        raise
    return (data.get("result") or {}).get("suggest") or "review"


def send_subscribe_message(openid, template_id, data, page=None):
    """A mini-program subscribe message (uses one of the user's one-time consents; 43101 = none left)."""
    body = {"touser": openid, "template_id": template_id, "data": _values(data)}
    if page:
        body["page"] = page.lstrip("/")
    mini_program().call("POST", "cgi-bin/message/subscribe/send", json_body=body)


def get_wxacode_unlimited(scene, page=None, width=430):
    """A mini-program code for `scene` (≤ 32 characters); `page` without a leading slash. WeChat answers
    JPEG bytes (PNG only with is_hyaline); image_type() tells which."""
    body = {"scene": scene, "width": width, "check_path": False}
    if page:
        body["page"] = page.lstrip("/")
    return mini_program().call("POST", "wxa/getwxacodeunlimit", json_body=body, raw=True)


def image_type(data):
    """"image/jpeg" or "image/png" for an image WeChat sent, None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return None


def mp_templates():
    """The mini-program's templates (getTemplate): [{"id", "title", "keywords": {"<rule><kid>": name},
    "long_term": type 3, "values": {keyword: [enum values]}}]."""
    data = mini_program().call("GET", "wxaapi/newtmpl/gettemplate")
    return [{"id": t["priTmplId"], "title": t.get("title", ""), "keywords": _keywords(t.get("content", "")),
             "long_term": t.get("type") == 3,
             "values": {e["keywordCode"].split(".")[0]: e.get("enumValueList") or []
                        for e in t.get("keywordEnumValueList") or []}} for t in data.get("data") or []]


def mp_library_keywords(tid):
    """A library template's keywords (getPubTemplateKeyWordsById): [{"kid", "name", "rule", "example"}] —
    what an operator chooses from (kidList) when adding the template in the mini-program console."""
    return mini_program().call("GET", "wxaapi/newtmpl/getpubtemplatekeywords", params={"tid": tid}).get("data") or []


def oa_templates():
    """The official account's templates (get_all_private_template), in the same shape as mp_templates().
    Templates from before 2023 carry {{first.DATA}} / {{remark.DATA}}: WeChat no longer shows them."""
    data = official_account().call("GET", "cgi-bin/template/get_all_private_template")
    return [{"id": t["template_id"], "title": t.get("title", ""), "keywords": _keywords(t.get("content", "")),
             "long_term": False, "values": {}} for t in data.get("template_list") or []]


def _keywords(content):
    """{"thing7": "项目名称", …} from a template's content ("项目名称:{{thing7.DATA}}\n…")."""
    return {key: name.strip().rstrip(":：").strip() for name, key in re.findall(r"([^\n{}]*)\{\{(\w+)\.DATA\}\}", content)
            if key not in ("first", "remark")}


# --- official account -----------------------------------------------------------------------------

def send_template_message(openid, template_id, data, url=None, miniprogram=None, client_msg_id=None):
    """An official-account template message; returns WeChat's msgid (its delivery is reported to the
    webhook as TEMPLATESENDJOBFINISH). `miniprogram` is a page path or {"appid", "pagepath"}. WeChat sends
    one message per openid + `client_msg_id` within 10 minutes: a retried send does not arrive twice."""
    body = {"touser": openid, "template_id": template_id, "data": _values(data)}
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    if url:
        body["url"] = url
    if miniprogram:
        if isinstance(miniprogram, str):
            miniprogram = {"appid": current_app.config.get("WECHAT_MP_APP_ID"), "pagepath": miniprogram.lstrip("/")}
        body["miniprogram"] = miniprogram
    return official_account().call("POST", "cgi-bin/message/template/send", json_body=body).get("msgid")


def create_oa_qrcode(scene, permanent=True):
    """A parametric official-account QR code for `scene` (e.g. "d:DB0001") → {"ticket", "url"}."""
    body = {"action_name": "QR_LIMIT_STR_SCENE" if permanent else "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}}}
    if not permanent:
        body["expire_seconds"] = 2592000
    data = official_account().call("POST", "cgi-bin/qrcode/create", json_body=body)
    return {"ticket": data["ticket"], "url": data["url"]}


def send_custom_message(openid, content=None, articles=None):
    """A customer-service message (allowed for 48 h after the user wrote to us): text, or one news card."""
    if articles:
        body = {"touser": openid, "msgtype": "news", "news": {"articles": [
            {"title": a["title"], "description": a.get("description", ""), "url": a.get("url", ""),
             "picurl": a.get("image", "")} for a in articles[:1]]}}
    else:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
    official_account().call("POST", "cgi-bin/message/custom/send", json_body=body)


def oa_user_info(openid):
    """The follower's profile; its `unionid` (when the account is bound to an Open Platform) links the
    official-account openid to the mini-program account."""
    return official_account().call("GET", "cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"})


def create_menu(menu):
    official_account().call("POST", "cgi-bin/menu/create", json_body=menu)
