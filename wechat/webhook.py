"""The official account's server URL (/wechat): verified, decrypted, de-duplicated, answered in time.

- GET: URL verification (signature over token, timestamp, nonce) → echostr.
- POST: plaintext mode (signature) or compatible/safe mode (encrypt_type=aes, msg_signature over the
  ciphertext too). Key rotation: WECHAT_OA_AES_KEY, then WECHAT_OA_AES_KEY_PREVIOUS; the reply is
  encrypted with the key that worked. Bad or missing signature → 403; body over WECHAT_MAX_BODY → 413;
  anything unreadable (malformed XML, empty body, entity declarations, unknown MsgType) → a log line and
  "success".
- WeChat waits 5 s, then re-sends (up to 4 deliveries). The work runs in a worker thread under a time
  budget (WECHAT_REPLY_BUDGET, default 3.5 s): if it is not done in time — a slow or locked database,
  say — the reply goes out at once (a short "正在查询" for a question, else "success") and the worker's
  answer follows as a customer-service message. De-duplication claims the message key in shared storage
  in the same transaction as the handler's side effects, so a retry causes none and gets the same answer.
"""
import logging
import threading

import xmltodict
from flask import Blueprint, Response, abort, current_app, request
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from models import db
from wechat import client, store
from wechat.errors import WeChatError
from wechat.router import router

log = logging.getLogger("wechat.webhook")
bp = Blueprint("wechat_webhook", __name__)

DEDUP_TTL = 600            # seconds a message key (and its answer) is remembered
LATE_TEXT = "正在查询，结果稍后发送给您。"
_workers = set()           # worker threads still running (tests wait for them)


def success():
    return Response("success", mimetype="text/plain")


@bp.route("/wechat", methods=["GET", "POST"])
def webhook():
    cfg, args = current_app.config, request.args
    token = cfg.get("WECHAT_OA_TOKEN")
    if not token:
        log.error("wechat: WECHAT_OA_TOKEN is not set; refusing the request")
        abort(403)
    aes = args.get("encrypt_type") == "aes"
    if (not aes or "signature" in args) and not signature_ok(token, args):
        log.warning("wechat: bad signature from %s", request.remote_addr)
        abort(403)
    if request.method == "GET":
        return Response(args.get("echostr", ""), mimetype="text/plain")
    body = read_body(cfg.get("WECHAT_MAX_BODY", 64 * 1024))
    crypto = None
    if aes:
        body, crypto = decrypt(body, token, args)
        if body is None:
            return success()
    try:
        msg = parse_message(body)
    except Exception as err:  # noqa: BLE001 — expat errors, "entities are disabled", missing MsgType…
        log.warning("wechat: unreadable message ignored (%s: %s)", err.__class__.__name__, err)
        return success()
    if msg is None:
        log.warning("wechat: empty message body ignored")
        return success()
    if msg.type == "unknown":
        log.warning("wechat: unknown message type %r (event %r) from %s ignored", msg._data.get("MsgType"),
                    msg._data.get("Event"), msg._data.get("FromUserName"))
        return success()
    reply = answer(msg, float(cfg.get("WECHAT_REPLY_BUDGET", 3.5)))
    if not reply:
        return success()
    xml = render(reply, msg)
    if crypto is not None:
        xml = crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return Response(xml, mimetype="application/xml")


def signature_ok(token, args):
    try:
        check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
        return True
    except InvalidSignatureException:
        return False


def read_body(limit):
    if (request.content_length or 0) > limit:
        abort(413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413)
    return body


def decrypt(body, token, args):
    """(plaintext XML, the crypto whose key worked); (None, None) for an unreadable envelope; 403 when the
    msg_signature is missing or wrong, or no configured key decrypts the message."""
    cfg = current_app.config
    if not args.get("msg_signature"):
        abort(403)
    try:
        envelope = xmltodict.parse(body)["xml"]
        envelope["Encrypt"]
    except Exception as err:  # noqa: BLE001
        log.warning("wechat: unreadable encrypted envelope ignored (%s: %s)", err.__class__.__name__, err)
        return None, None
    keys = [k for k in (cfg.get("WECHAT_OA_AES_KEY"), cfg.get("WECHAT_OA_AES_KEY_PREVIOUS")) if k]
    for number, key in enumerate(keys):
        crypto = WeChatCrypto(token, key, cfg.get("WECHAT_OA_APP_ID"))
        try:
            plain = crypto.decrypt_message(envelope, args["msg_signature"], args.get("timestamp", ""),
                                           args.get("nonce", ""))
        except InvalidSignatureException:
            log.warning("wechat: bad msg_signature from %s", request.remote_addr)
            abort(403)
        except Exception as err:  # noqa: BLE001 — wrong key: bad padding, wrong appid, garbage
            log.info("wechat: AES key %d did not decrypt (%s)", number + 1, err.__class__.__name__)
            continue
        if number:
            log.warning("wechat: message decrypted with WECHAT_OA_AES_KEY_PREVIOUS; finish the key rotation")
        return plain, crypto
    log.error("wechat: no configured AES key decrypts the message (check WECHAT_OA_AES_KEY and the AppID)")
    abort(403)


def render(reply, msg):
    if isinstance(reply, str):
        return create_reply(reply, msg, render=True)
    return create_reply([{k: a.get(k, "") for k in ("title", "description", "image", "url")} for a in reply[:8]],
                        msg, render=True)


def dedup_key(msg):
    if msg.type == "event":
        return f"wx:evt:{msg.source}:{msg.time}:{msg.event}:{msg.id or ''}"[:191]
    return f"wx:msg:{msg.id}" if msg.id else f"wx:msg:{msg.source}:{msg.time}"[:191]


def process(msg):
    """Handle a message once: the first delivery claims its key, runs the handler and stores the answer —
    in one transaction on the database, so a retry waits for it and then reads the same answer."""
    from services.workflow import write_transaction
    key = dedup_key(msg)
    if store.uses_database():
        with write_transaction():
            if not store.add(key, {"pending": True}, DEDUP_TTL):
                log.info("wechat: retry of %s answered from storage", key)
                return (store.get(key) or {}).get("reply")
            reply = router.dispatch(msg)
            store.put(key, {"reply": reply}, DEDUP_TTL)
        return reply
    if not store.add(key, {"pending": True}, DEDUP_TTL):
        return (store.get(key) or {}).get("reply")
    try:
        reply = router.dispatch(msg)
    except Exception:
        store.delete(key)
        raise
    store.put(key, {"reply": reply}, DEDUP_TTL)
    return reply


def answer(msg, budget):
    """process(msg) in a worker thread; past the budget, reply now and send the answer later."""
    app = current_app._get_current_object()
    state = {"done": False, "late": False, "reply": None}
    lock, finished = threading.Lock(), threading.Event()

    def work():
        with app.app_context():
            try:
                db.connect(reuse_if_open=True)
                reply = process(msg)
            except Exception:  # noqa: BLE001
                log.exception("wechat: handling %s from %s failed", dedup_key(msg), msg.source)
                reply = None
            with lock:
                state.update(done=True, reply=reply)
                late = state["late"]
            finished.set()
            if late and reply:
                deliver_late(msg, reply)
            if not db.is_closed():
                db.close()
        _workers.discard(threading.current_thread())

    worker = threading.Thread(target=work, daemon=True, name="wechat-reply")
    _workers.add(worker)
    worker.start()
    finished.wait(budget)
    with lock:
        if state["done"]:
            return state["reply"]
        state["late"] = True
    log.warning("wechat: %s not answered within %.1f s; the answer will follow as a customer-service message",
                dedup_key(msg), budget)
    return LATE_TEXT if msg.type == "text" or getattr(msg, "event", "") == "click" else None


def deliver_late(msg, reply):
    try:
        if isinstance(reply, str):
            client.send_custom_message(msg.source, content=reply)
        else:
            client.send_custom_message(msg.source, articles=reply)
    except WeChatError as err:
        log.error("wechat: late answer to %s could not be sent (%s)", msg.source, err)


def wait_for_workers(timeout=30):
    """Wait for worker threads still answering (used by tests)."""
    for worker in list(_workers):
        worker.join(timeout)
