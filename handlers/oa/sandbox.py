"""The sandbox page (/dev/wechat): the stand-in plays WeChat, and /dev/wechat shows what the app "sent to WeChat".

The page also lets a newcomer be any WeChat user: pick one (a few made-up followers and everyone bound so
far), talk to the official account as them, "scan" a binding QR (the subscribe/SCAN event WeChat would
send), and open the H5 pages as them — web OAuth then runs through the stand-in's authorize page, which
the stand-in's cookie tells who the visitor is (/_standin/as). The session keys of web OAuth and the phone
workbench ("wx_…", "m_…") are dropped on a switch, so the browser starts afresh as the new person.
"""
import hashlib
import json
import time

import requests
import xmltodict
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from handlers.webauth import SANDBOX_KEY
from wechat.sandbox import tell_standin
from wechat.standin import KINDS

bp = Blueprint("wechat_sandbox", __name__, template_folder="templates")

LABELS = {"stable_token": "获取接口令牌", "token": "获取接口令牌（旧接口）", "jscode2session": "小程序登录",
          "subscribe": "小程序订阅消息", "template": "公众号模板消息", "custom": "公众号客服消息",
          "msg_sec_check": "内容安全检测", "wxacode": "小程序码", "qrcode": "公众号带参二维码",
          "menu": "公众号菜单", "user_info": "关注者信息", "oauth": "网页授权",
          "mp_templates": "小程序模板列表", "mp_keywords": "公共模板关键词", "oa_templates": "公众号模板列表"}
PATH_LABELS = {"/" + path: LABELS.get(kind, kind) for kind, path in KINDS.items()}
PATH_LABELS["/connect/oauth2/authorize"] = "网页授权页"
SANDBOX_OPENID = "oa-sandbox-visitor"
MADE_UP = ("sandbox-visitor", "alice", "bob", "wang")  # followers "oa-<name>" anyone may play
AS_KEY = SANDBOX_KEY  # the WeChat user this browser plays


def _sandbox_only():
    if not current_app.config.get("WECHAT_SANDBOX"):
        abort(404)


@bp.get("/dev/wechat")
def page():
    _sandbox_only()
    try:
        calls = requests.get(current_app.config["WECHAT_API_BASE"].rstrip("/") + "/_standin/calls", timeout=3).json()
        error = ""
    except (requests.RequestException, ValueError) as err:
        calls, error = [], f"连接不到微信接口替身（{err.__class__.__name__}）"
    rows = [{"at": time.strftime("%m-%d %H:%M:%S", time.localtime(c["at"])),
             "label": PATH_LABELS.get(c["path"], c["path"]),
             "to": (c["json"] or {}).get("touser") or (c["json"] or {}).get("openid") or c["query"].get("openid", "")
             if isinstance(c["json"], (dict, type(None))) else "",
             "body": json.dumps(c["json"] if c["json"] is not None else c["query"], ensure_ascii=False, indent=1),
             "ok": c["errcode"] == 0, "errcode": c["errcode"]}
            for c in calls if not c["path"].endswith("token")]
    people = bound_people()
    who = current_openid()
    only = request.args.get("to", "")
    if only:
        rows = [r for r in rows if r["to"] == only]
    for r in rows:
        r["name"] = people.get(r["to"], "")
    choices = [(f"oa-{n}", people.get(f"oa-{n}", "")) for n in MADE_UP] + [
        (o, name) for o, name in people.items() if o.removeprefix("oa-") not in MADE_UP]
    return render_template("wechat/sandbox.html", rows=rows, error=error, reply=request.args.get("reply", ""),
                           said=request.args.get("said", ""), who=who, choices=choices, only=only)


def bound_people():
    """{official-account openid: who} for everyone bound to a deputy or console account so far."""
    from models import Account
    rows = Account.select().where(Account.oa_openid.is_null(False), Account.role != "citizen")
    return {a.oa_openid: (f"{a.deputy.name} 代表" if a.deputy_id else a.display_name or a.username or "")
            for a in rows}


def current_openid():
    return f"oa-{session.get(AS_KEY) or SANDBOX_OPENID.removeprefix('oa-')}"


@bp.post("/dev/wechat/as")
def act_as():
    """Be this WeChat user from now on (their messages, scans and H5 visits)."""
    _sandbox_only()
    name = (request.form.get("openid") or "").strip().removeprefix("oa-")
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or len(name) > 50:
        abort(400)
    for key in [k for k in session if k.startswith(("wx_", "m_"))]:
        session.pop(key)
    session[AS_KEY] = name
    return redirect(url_for("wechat_sandbox.page"))


@bp.get("/dev/wechat/open")
def open_as():
    """Open an H5 page (default the phone workbench) in "WeChat's browser" as the current user: the stand-in
    remembers who they are for its authorize page, then sends the browser on."""
    _sandbox_only()
    target = request.args.get("next", "/m/")
    if not target.startswith("/") or target.startswith("//"):
        abort(400)
    session[AS_KEY] = current_openid().removeprefix("oa-")
    cfg = current_app.config
    query = urlencode({"name": session[AS_KEY], "next": cfg["PUBLIC_BASE_URL"] + target})
    return redirect(f"{cfg['WECHAT_OPEN_BASE'].rstrip('/')}/_standin/as?{query}")


@bp.post("/dev/wechat/scan")
def scan():
    """"Scan" a binding QR (its link /bind/<token> or the token): WeChat's subscribe event with the scene
    qrscene_bind:<token> for someone new to the account, SCAN with bind:<token> for a follower."""
    _sandbox_only()
    from models import Account
    token = (request.form.get("token") or "").strip().rstrip("/").rsplit("/", 1)[-1][:32]
    openid = current_openid()
    followed = Account.select().where(Account.oa_openid == openid, Account.oa_followed == True).exists()  # noqa
    event, key = ("SCAN", f"bind:{token}") if followed else ("subscribe", f"qrscene_bind:{token}")
    tell_standin("wrote", openid=openid, trigger="scan" if followed else "subscribe")
    timestamp = str(int(time.time()))
    xml = (f"<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]>"
           f"</Event><EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[sandbox]]></Ticket></xml>")
    return redirect(url_for("wechat_sandbox.page", said=f"（扫码）{event} {key}", reply=readable(deliver(xml))))


@bp.post("/dev/wechat/say")
def say():
    """Send a text to the official account as a sandbox follower would, through the real webhook."""
    _sandbox_only()
    text = (request.form.get("text") or "帮助")[:200]
    xml = (f"<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><FromUserName><![CDATA[{current_openid()}]]>"
           f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text.replace(']]>', '')}]]></Content><MsgId>{time.time_ns()}</MsgId></xml>")
    tell_standin("wrote", openid=current_openid())
    return redirect(url_for("wechat_sandbox.page", said=text, reply=readable(deliver(xml))))


def deliver(xml):
    """Post a message to the real webhook as WeChat would (signed; encrypted in safe mode); the plain reply."""
    cfg = current_app.config
    timestamp, nonce = str(int(time.time())), str(time.time_ns() % 10**9)
    signature = hashlib.sha1("".join(sorted([cfg["WECHAT_OA_TOKEN"], timestamp, nonce])).encode()).hexdigest()
    url = f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"
    if cfg.get("WECHAT_OA_AES_KEY"):   # the server accepts only what its mode says: encrypt as WeChat would
        from wechatpy.crypto import WeChatCrypto
        crypto = WeChatCrypto(cfg["WECHAT_OA_TOKEN"], cfg["WECHAT_OA_AES_KEY"], cfg["WECHAT_OA_APP_ID"])
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        url += f"&encrypt_type=aes&msg_signature={envelope['MsgSignature']}"
        xml = (f"<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName>"
               f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
    resp = current_app.test_client().post(url, data=xml.encode())
    xml = resp.get_data(as_text=True)
    if cfg.get("WECHAT_OA_AES_KEY") and xml.startswith("<xml>"):
        envelope = xmltodict.parse(xml)["xml"]
        xml = crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    return xml


def readable(xml):
    """A passive reply as the follower would see it: its text, or each card's title and link."""
    if xml in ("", "success"):
        return "（没有回复）"
    data = xmltodict.parse(xml, force_list=("item",))["xml"]
    if data.get("MsgType") == "text":
        return data.get("Content") or ""
    return "\n".join(f"【{i.get('Title')}】{i.get('Description') or ''}\n{i.get('Url')}"
                     for i in (data.get("Articles") or {}).get("item", []))
