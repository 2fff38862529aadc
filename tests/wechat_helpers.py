"""Building deliveries exactly as WeChat's servers send them to /wechat (plaintext and AES modes): each
delivery signed afresh, with the current time and a nonce of its own, as the server demands."""
import hashlib
import itertools
import time

from wechatpy.crypto import WeChatCrypto

_ids = itertools.count(int(time.time()) * 1000)
_nonces = itertools.count(int(time.time() * 1000) % 10**9)


def fresh():
    """(timestamp, nonce) for a new delivery: now, and a nonce never used before."""
    return str(int(time.time())), str(next(_nonces))


def sign(*parts):
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def text_xml(content, openid="oa-alice", msgid=None, create_time=None):
    return (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msgid or next(_ids)}</MsgId></xml>")


def event_xml(event, openid="oa-alice", key=None, create_time=None, extra=""):
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or next(_ids)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{key_xml}{extra}</xml>")


TRIGGERS = {"click": "click", "scancode_push": "click", "scancode_waitmsg": "click", "subscribe": "subscribe",
            "scan": "scan"}


def tell_wechat(client, xml):
    """What WeChat's servers know when they deliver a follower's message or event: the follower wrote, so
    customer-service messages may answer (the stand-in's window rules)."""
    import re

    import requests
    found = dict(re.findall(r"<(FromUserName|MsgType|Event)><!\[CDATA\[(.*?)\]\]>", xml))
    trigger = "message" if found.get("MsgType") != "event" else TRIGGERS.get(found.get("Event", "").lower())
    if trigger and found.get("FromUserName"):
        base = client.application.config["WECHAT_API_BASE"].rstrip("/")
        requests.post(f"{base}/_standin/wrote", json={"openid": found["FromUserName"], "trigger": trigger}, timeout=5)


def post_plain(client, xml, token="testtoken", timestamp=None, nonce=None):
    timestamp = fresh()[0] if timestamp is None else timestamp
    nonce = fresh()[1] if nonce is None else nonce
    if isinstance(xml, str):
        tell_wechat(client, xml)
    return client.post(f"/wechat?signature={sign(token, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}"
                       f"&openid=x", data=xml.encode("utf-8") if isinstance(xml, str) else xml)


def post_aes(client, envelope, token, msg_signature, timestamp, nonce, with_signature=True, plain=None):
    """`plain`: the message inside the envelope, so the stand-in learns that the follower wrote."""
    if plain:
        tell_wechat(client, plain)
    url = f"/wechat?encrypt_type=aes&msg_signature={msg_signature}&timestamp={timestamp}&nonce={nonce}"
    if with_signature:
        url += f"&signature={sign(token, timestamp, nonce)}"
    return client.post(url, data=envelope.encode())


def encrypt_for(app, xml, timestamp, nonce, key=None):
    """A safe-mode envelope for `xml` and its msg_signature, as WeChat would make it."""
    import xmltodict
    cfg = app.config
    crypto = WeChatCrypto(cfg["WECHAT_OA_TOKEN"], key or cfg["WECHAT_OA_AES_KEY"], cfg["WECHAT_OA_APP_ID"])
    envelope = crypto.encrypt_message(xml, nonce, timestamp)
    parsed = xmltodict.parse(envelope)["xml"]
    safe = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
    return safe, parsed["MsgSignature"]


def open_reply(resp, token, key, appid):
    """Decrypt our encrypted reply exactly as WeChat would (checking its msg_signature) → the reply object."""
    import xmltodict
    envelope = xmltodict.parse(resp.get_data(as_text=True))["xml"]
    crypto = WeChatCrypto(token, key, appid)
    return read_reply(crypto.decrypt_message(resp.get_data(), envelope["MsgSignature"], envelope["TimeStamp"],
                                             envelope["Nonce"]))


def read_reply(xml):
    """A passive reply as WeChat reads it: type, source/target, content (text) or articles (news)."""
    from types import SimpleNamespace

    import xmltodict
    data = xmltodict.parse(xml, force_list=("item",))["xml"]
    items = (data.get("Articles") or {}).get("item", [])
    return SimpleNamespace(
        type=data["MsgType"], source=data["FromUserName"], target=data["ToUserName"], content=data.get("Content"),
        articles=[{"title": i.get("Title") or "", "description": i.get("Description") or "", "url": i.get("Url") or "",
                   "image": i.get("PicUrl") or ""} for i in items])


WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36 "
             "MicroMessenger/8.0.47.2560 NetType/WIFI Language/zh_CN")


def web_oauth(client, path, name, headers=None):
    """Open `path` in WeChat's browser as WeChat user `name`: the app sends the visitor to the stand-in's
    authorize page, which sends them back with a code; returns the final response of the app."""
    from urllib.parse import urlsplit

    import requests
    headers = {"User-Agent": WECHAT_UA, **(headers or {})}
    response = client.get(path, headers=headers)
    if response.status_code != 302 or "/connect/oauth2/authorize" not in response.headers["Location"]:
        return response
    back = requests.get(response.headers["Location"].split("#")[0] + f"&as={name}", allow_redirects=False,
                        timeout=5)
    assert back.status_code == 302, back.text
    url = urlsplit(back.headers["Location"])
    return client.get(f"{url.path}?{url.query}", headers=headers)


# --- templates: the stand-in's realistic templates, mapped exactly as `flask wechat templates --write` does ---

def _mapping():
    import json
    from pathlib import Path
    return json.loads((Path(__file__).resolve().parent.parent / "wechat" / "sandbox_templates.json").read_text("utf-8"))


MAPPING = _mapping()
MP_IDS = {key: entry["id"] for key, entry in MAPPING["mp"].items()}
OA_IDS = {key: entry["id"] for key, entry in MAPPING["oa"].items()}


def wire(app, **config):
    """Both channels mapped to the stand-in's templates (plus any other settings given)."""
    app.config.update(WECHAT_MP_TEMPLATES=MAPPING["mp"], WECHAT_OA_TEMPLATES=MAPPING["oa"], **config)
    return app


def subscribe(account, key="case_progress", count=1):
    """The person ticks the template in wx.requestSubscribeMessage: WeChat (the stand-in at WECHAT_API_BASE)
    and we both count the consent (for the template id configured now)."""
    import requests
    from flask import current_app

    from services import delivery
    delivery.add_quota(account, key, count)
    requests.post(current_app.config["WECHAT_API_BASE"].rstrip("/") + "/_standin/consent", timeout=5,
                  json={"openid": account.openid, "template_ids": [delivery.template_id("subscribe", key)], "count": count})


def value(body, name):
    """The value a sent template message (or subscribe message) carries for one of our values
    (number, title, status…), found through the mapping of its template."""
    for entry in (*MAPPING["mp"].values(), *MAPPING["oa"].values()):
        if entry["id"] == body["template_id"]:
            keyword = next(k for k, v in entry["keywords"].items() if v == name)
            return body["data"][keyword]["value"]
    raise KeyError(body["template_id"])
