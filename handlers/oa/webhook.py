"""The official account's server URL (/wechat): verified, decrypted, de-duplicated, answered in time.

- GET: URL verification (signature over token, timestamp, nonce) → echostr.
- POST: the mode is the server's configuration, never the request's. With WECHAT_OA_AES_KEY set only
  encrypted messages are accepted (encrypt_type=aes, msg_signature over token, timestamp, nonce AND the
  ciphertext), since a plaintext signature does not cover the body; without a key only plaintext.
  Key rotation: WECHAT_OA_AES_KEY, then WECHAT_OA_AES_KEY_PREVIOUS; the reply is encrypted with the key
  that worked. Bad or missing signature, the other mode, a timestamp more than 5 minutes off (MAX_SKEW)
  or a nonce already used for another message → 403; body over WECHAT_MAX_BODY → 413; anything
  unreadable (malformed XML, empty body, entity declarations, unknown MsgType, a MsgId or CreateTime that
  is not a number) → a log line and "success".
- Nonces are claimed in shared storage (wechat/store.py) for NONCE_TTL, remembering the message they
  came with: the same nonce with the same message is WeChat's own re-delivery (answered from the
  de-duplication storage, no second side effect); with any other message it is a forgery (403). The
  claim runs where the answer does (under the time budget), so a locked database never holds the reply.
  In safe mode a pure handler's answer (below) claims nothing: msg_signature covers the body, so only the
  token's holder could put another message under a nonce — and could as well pick a new one.
- WeChat waits 5 s, then re-sends (up to 4 deliveries). The work runs in a worker thread under a time
  budget (WECHAT_REPLY_BUDGET, default 3.5 s): if it is not done in time — a slow or locked database,
  say — the reply goes out at once (a short "正在查询" for a question, else "success") and the worker's
  answer follows as a customer-service message. Worker threads are kept between messages with their
  database connection. On SQLite a pure handler (below) runs on the request's own thread instead, with a
  kept connection whose busy timeout is the budget (reads never wait there; only the claim may wait for
  the write lock), and goes to a worker only when the lock outlasts the budget. De-duplication claims the
  message key in shared storage in the same transaction as the handler's side effects, so a retry causes
  none and gets the same answer; a pure handler (it only reads, e.g. 查询 and 帮助) answers first and
  stores the nonce's claim, the message's claim and its answer in one statement (pure_answer) — in
  plaintext mode; in safe mode it stores nothing (a retry asks again) and never waits for a write lock.
- Nothing of this opens a session or sets a browser's headers (handlers/security.py MACHINE_PATHS).
"""
import functools
import logging
import queue
import re
import threading
import time

import xmltodict
from flask import Blueprint, Response, abort, current_app, request
from peewee import InterfaceError, OperationalError, SqliteDatabase
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from models import db, write_transaction
from models.base import BUSY_TIMEOUT_MS
from wechat import client, store
from wechat.errors import WeChatError
from handlers.oa.router import NeedsClaim, read_only, router

log = logging.getLogger("wechat.webhook")
bp = Blueprint("wechat_webhook", __name__)

MAX_SKEW = 300             # seconds a message's timestamp may be off the server's clock, either way
NONCE_TTL = 2 * MAX_SKEW   # a nonce is remembered for as long as its timestamp could pass
DEDUP_TTL = max(600, NONCE_TTL)  # seconds a message key (and its answer) is remembered; a pure answer's
                                 # nonce is kept as long (one statement stores both)
LATE_TEXT = "正在查询，结果稍后发送给您。"


def success():
    return Response("success", mimetype="text/plain")


@bp.route("/wechat", methods=["GET", "POST"])
def webhook():
    # No per-request database connection (app.py): workers hold their own, answer_here() keeps this thread's.
    cfg, args = current_app.config, request.args
    token = cfg.get("WECHAT_OA_TOKEN")
    if not token:
        log.error("wechat: WECHAT_OA_TOKEN is not set; refusing the request")
        abort(403)
    aes = bool(cfg.get("WECHAT_OA_AES_KEY"))
    if request.method == "GET":   # URL verification: the plain signature in both modes
        if not signature_ok(token, args):
            log.warning("wechat: bad signature from %s", request.remote_addr)
            abort(403)
        return Response(args.get("echostr", ""), mimetype="text/plain")
    if aes != (args.get("encrypt_type") == "aes"):
        log.warning("wechat: %s message refused: the server is configured for %s mode", "an encrypted" if not aes
                    else "a plaintext", "safe (AES)" if aes else "plaintext")
        abort(403)
    if (not aes or "signature" in args) and not signature_ok(token, args):
        log.warning("wechat: bad signature from %s", request.remote_addr)
        abort(403)
    if not fresh(args.get("timestamp", "")):
        log.warning("wechat: stale or malformed timestamp %r from %s", args.get("timestamp", "")[:20],
                    request.remote_addr)
        abort(403)
    body = read_body(cfg.get("WECHAT_MAX_BODY", 64 * 1024))
    crypto = None
    if aes:
        body, crypto = decrypt(body, token, args)
        if body is None:
            return success()
    msg = readable(body)
    if msg is None:
        return success()
    nonce = f"wx:nonce:{args.get('timestamp')}:{args.get('nonce', '')}"[:191]
    reply = answer(msg, float(cfg.get("WECHAT_REPLY_BUDGET", 3.5)), nonce, covered=crypto is not None)
    if reply is REFUSED:
        log.warning("wechat: nonce reused with another message from %s: refused", request.remote_addr)
        abort(403)
    if not reply:
        return success()
    xml = render(reply, msg)
    if crypto is not None:
        xml = crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return Response(xml, mimetype="application/xml")


def fresh(timestamp):
    """A timestamp (seconds) within MAX_SKEW of the server's clock."""
    return timestamp.isdigit() and len(timestamp) <= 12 and abs(now() - int(timestamp)) <= MAX_SKEW


def now():
    return time.time()


def readable(body):
    """The parsed message, or None (logged) when it cannot be handled: not XML, entities, no or an unknown
    MsgType, a MsgId or CreateTime that is not a number."""
    try:
        msg = parse_message(body)
        if msg is not None:
            msg.id, msg.time  # noqa: B018 — wechatpy converts them lazily; a non-number raises here
    except Exception as err:  # noqa: BLE001 — expat errors, "entities are disabled", missing MsgType…
        log.warning("wechat: unreadable message ignored (%s: %s)", err.__class__.__name__, err)
        return None
    if msg is None:
        log.warning("wechat: empty message body ignored")
        return None
    if msg.type == "unknown":
        log.warning("wechat: unknown message type %r (event %r) from %s ignored", msg._data.get("MsgType"),
                    msg._data.get("Event"), msg._data.get("FromUserName"))
        return None
    return msg


webhook.no_request_connection = True


def signature_ok(token, args):
    try:
        check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
        return True
    except InvalidSignatureException:
        return False


def read_body(limit):
    length = request.content_length
    if (length or 0) > limit:
        abort(413)
    # With a Content-Length the stream ends there: read it whole (a sized read allocates `limit` bytes first).
    body = request.stream.read() if length is not None else request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413)
    return body


def decrypt(body, token, args):
    """(plaintext XML, the crypto whose key worked); (None, None) for an unreadable envelope; 403 when the
    msg_signature is missing or wrong, or no configured key decrypts the message."""
    cfg = current_app.config
    if not args.get("msg_signature"):
        abort(403)
    envelope = _envelope(body)
    if envelope is None:
        return None, None
    keys = [k for k in (cfg.get("WECHAT_OA_AES_KEY"), cfg.get("WECHAT_OA_AES_KEY_PREVIOUS")) if k]
    for number, key in enumerate(keys):
        crypto = _crypto(token, key, cfg.get("WECHAT_OA_APP_ID"))
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


# WeChat's envelope as it sends it: only the ciphertext is read (the msg_signature covers it), so the plain
# shape is taken without an XML parser; anything else goes through xmltodict.
_ENVELOPE = re.compile(rb"\s*<xml>\s*(?:<ToUserName><!\[CDATA\[[^\]<>]*\]\]></ToUserName>\s*)?"
                       rb"<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>\s*</xml>\s*")


def _envelope(body):
    """{"Encrypt": ciphertext} of a safe-mode body; None (logged) when it is unreadable."""
    plain = _ENVELOPE.fullmatch(body)
    if plain:
        return {"Encrypt": plain.group(1).decode()}
    try:
        envelope = xmltodict.parse(body)["xml"]
        envelope["Encrypt"]
        return envelope
    except Exception as err:  # noqa: BLE001
        log.warning("wechat: unreadable encrypted envelope ignored (%s: %s)", err.__class__.__name__, err)
        return None


@functools.lru_cache(maxsize=8)
def _crypto(token, key, appid):
    """One WeChatCrypto per configuration (it decodes the key and builds its cipher when made)."""
    return WeChatCrypto(token, key, appid)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cdata(text):
    """Text that stays one CDATA section: "]]>" split across two (WeChat reads them as one text), and the
    characters XML 1.0 forbids removed — otherwise the reply is invalid and WeChat shows
    "该公众号暂时无法提供服务"."""
    return _XML_INVALID.sub("", str(text or "")).replace("]]>", "]]]]><![CDATA[>")


def render(reply, msg):
    """The passive reply's XML; every value a person or the database supplied goes through cdata()."""
    if isinstance(reply, str):
        return create_reply(cdata(reply), msg, render=True)
    return create_reply([{k: cdata(a.get(k, "")) for k in ("title", "description", "image", "url")}
                         for a in reply[:8]], msg, render=True)


def dedup_key(msg):
    """WeChat's retries of one delivery share it: MsgId for messages; for events FromUserName + CreateTime
    with the event and its EventKey (two menu clicks in the same second are two events)."""
    if msg.type == "event":
        key = msg._data.get("EventKey") or ""
        return f"wx:evt:{msg.source}:{msg.time}:{msg.event}:{msg.id or ''}:{key}"[:191]
    return f"wx:msg:{msg.id}" if msg.id else f"wx:msg:{msg.source}:{msg.time}"[:191]


def process(msg, pure_only=False, nonce=None, resolved=None, covered=False):
    """Handle a message once: the first delivery claims its key (and the request's nonce, claim_nonce), runs
    the handler and stores the answer — in one transaction on the database, so a retry waits for it and then
    reads the same answer. A pure handler (router: it only reads) runs first, and its answer is stored with
    both claims in one statement (pure_answer) — unless the message's signature covered its body (covered:
    safe mode's msg_signature), when nothing is stored: only the token's holder could send another message
    under this nonce, and could as well choose a new one, so the claim would guard nothing, and a retry only
    asks again. REFUSED when the nonce came with another message: nothing is handled then. pure_only:
    ORDINARY instead of running a handler that is not pure (or raised NeedsClaim), with nothing claimed.
    resolved: router.resolve(msg), when the caller has it already."""
    key = dedup_key(msg)
    handler, args = resolved or router.resolve(msg)
    if handler in router.pure:
        try:
            with read_only():
                reply = handler(*args)
        except NeedsClaim:
            pass
        else:
            return reply if covered else pure_answer(msg, key, reply, nonce)
    if pure_only:
        return ORDINARY
    if not claim_nonce(nonce, msg):
        return REFUSED
    run = (lambda: handler(*args)) if handler else (lambda: None)
    if store.uses_database():
        with write_transaction():
            if not store.add(key, {"pending": True}, DEDUP_TTL):
                log.info("wechat: retry of %s answered from storage", key)
                return (store.get(key) or {}).get("reply")
            reply = run()
            store.put(key, {"reply": reply}, DEDUP_TTL)
        return reply
    if not store.add(key, {"pending": True}, DEDUP_TTL):
        return (store.get(key) or {}).get("reply")
    try:
        reply = run()
    except Exception:
        store.delete(key)
        raise
    store.put(key, {"reply": reply}, DEDUP_TTL)
    return reply


def pure_answer(msg, key, reply, nonce):
    """A pure handler's reply, kept under the message's key with the nonce's claim in one statement: that is
    the whole story for a new message with a new nonce. Otherwise (a retry, a reused nonce, expired claims
    still there) each claim is asked for alone: REFUSED for another message's nonce — and the message's key
    this call may just have stored taken back —, the answer stored first for a retry."""
    claims = {nonce: key, key: {"reply": reply}} if nonce else {key: {"reply": reply}}
    stored = store.add_all(claims, DEDUP_TTL)
    if stored == len(claims):
        return reply
    if not claim_nonce(nonce, msg):
        if stored:   # the nonce was not stored (another message's): the message's key was, by this forgery
            store.delete(key)
        return REFUSED
    if store.add(key, {"reply": reply}, DEDUP_TTL):   # an expired claim taken over
        return reply
    log.info("wechat: retry of %s answered from storage", key)
    return (store.get(key) or {}).get("reply")


class Workers:
    """Threads that answer messages, kept between messages with their database connection (a new thread
    and a new connection for every message cost more than the answer itself). A message never waits for
    a busy worker: without an idle one a new thread starts, as many as are needed, so a stuck database
    cannot hold up the next message's holding reply. A worker idle for IDLE seconds closes its connection
    and ends."""
    IDLE = 5.0

    def __init__(self):
        self._lock = threading.Lock()
        self._idle = 0            # workers waiting for a message and not yet promised one
        self._pending = 0         # messages submitted and not yet finished
        self._done = threading.Condition(self._lock)
        self._tasks = queue.SimpleQueue()

    def submit(self, app, task):
        with self._lock:
            self._pending += 1
            spawn = not self._idle
            if not spawn:
                self._idle -= 1   # promised this task
        self._tasks.put((app, task))
        if spawn:
            threading.Thread(target=self._run, daemon=True, name="wechat-reply").start()

    def _run(self):
        database = None           # the database object this thread holds a connection of
        while True:
            try:
                app, task = self._tasks.get(timeout=self.IDLE)
            except queue.Empty:
                _close(database)
                database = None
                with self._lock:
                    if self._idle:            # not promised a task: end
                        self._idle -= 1
                        return
                continue                      # promised one: it is on its way
            if database is not None and database is not db.obj:
                _close(database)              # the app switched databases (tests)
            database = db.obj
            try:
                with app.app_context():
                    task()
            except Exception:  # noqa: BLE001 — task logs its own failures; never lose the worker
                log.exception("wechat: reply worker failed")
            with self._lock:
                self._pending -= 1
                self._idle += 1
                self._done.notify_all()

    def wait(self, timeout=30):
        with self._done:
            self._done.wait_for(lambda: self._pending == 0, timeout)


def _close(database):
    if database is not None and not database.is_closed():
        try:
            database.close()
        except Exception:  # noqa: BLE001 — a dead connection
            log.warning("wechat: could not close a reply worker's database connection", exc_info=True)


_workers = Workers()
LOST_CONNECTION = (2006, 2013, 2055)   # MySQL: server has gone away, lost connection


ORDINARY = object()   # process(pure_only=True), answer_here(): not answered, hand the message to a worker


REFUSED = object()    # answer(): the nonce came with another message — a forgery, answered 403


def claim_nonce(nonce, msg):
    """True when this nonce is new, or was used by this same message before (WeChat re-delivering it)."""
    if not nonce:
        return True
    key = dedup_key(msg)
    return store.add(nonce, key, NONCE_TTL) or store.get(nonce) == key


def answer_here(msg, budget, nonce=None, covered=False):
    """A pure handler's answer on SQLite, on this request's thread and its kept connection: handing the
    message to a worker thread costs more CPU than the answer. Reads never wait on SQLite (WAL); the claims
    (none when covered: process) may wait for the write lock, so the busy timeout is the budget meanwhile.
    ORDINARY (nothing stored) for any other handler or database, claims in Redis, NeedsClaim, or a lock held
    past the budget; REFUSED for a nonce another message used."""
    if not isinstance(db.obj, SqliteDatabase) or not (covered or store.uses_database()):
        return ORDINARY   # resolving reads too (a conversation's state): not on this thread then
    resolved = router.resolve(msg)
    if resolved[0] not in router.pure:
        return ORDINARY
    db.connect(reuse_if_open=True)
    conn = db.connection()
    if not covered:   # every connection's busy timeout is BUSY_TIMEOUT_MS (models/base.py): set back below
        conn.execute(f"PRAGMA busy_timeout = {int(budget * 1000)}")
    try:
        return process(msg, pure_only=True, nonce=nonce, resolved=resolved, covered=covered)
    except Exception as err:  # noqa: BLE001 — "database is locked": nothing was stored; a worker retries
        log.warning("wechat: %s not answered on the request thread (%s); handed to a worker", dedup_key(msg), err)
        return ORDINARY
    finally:
        if not covered:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def answer(msg, budget, nonce=None, covered=False):
    """process(msg) in a worker thread (a pure handler on SQLite: answer_here); past the budget, reply now
    and send the answer later. The nonce is claimed first (claim_nonce): REFUSED when another message had
    it — then nothing is handled, and nothing follows later either."""
    start = time.monotonic()
    reply = answer_here(msg, budget, nonce, covered)
    if reply is not ORDINARY:
        return reply
    budget -= time.monotonic() - start
    app = current_app._get_current_object()
    state = {"done": False, "late": False, "reply": None}
    lock, finished = threading.Lock(), threading.Event()

    def work():
        try:
            reply = attempt(msg, nonce, covered)
        except Exception:  # noqa: BLE001
            log.exception("wechat: handling %s from %s failed", dedup_key(msg), msg.source)
            reply = None
        with lock:
            state.update(done=True, reply=reply)
            late = state["late"]
        finished.set()
        if late and reply and reply is not REFUSED:
            deliver_late(msg, reply)

    _workers.submit(app, work)
    finished.wait(budget)
    with lock:
        if state["done"]:
            return state["reply"]
        state["late"] = True
    log.warning("wechat: %s not answered within %.1f s; the answer will follow as a customer-service message",
                dedup_key(msg), budget)
    return LATE_TEXT if msg.type == "text" or getattr(msg, "event", "") == "click" else None


def attempt(msg, nonce=None, covered=False):
    """claim_nonce, then process(msg), on this thread's connection; once more on a fresh one when a kept
    MySQL connection turns out to have been lost meanwhile (server restart, wait_timeout) — nothing was
    committed then."""
    def run():
        return process(msg, nonce=nonce, covered=covered)
    reused = not db.is_closed()
    db.connect(reuse_if_open=True)
    try:
        return run()
    except (OperationalError, InterfaceError) as err:
        if not (reused and err.args and err.args[0] in LOST_CONNECTION):
            raise
        log.warning("wechat: a kept database connection was lost (%s); trying again", err)
        _close(db.obj)
        db.connect()
        return run()


def deliver_late(msg, reply):
    """The answer that missed the 5 seconds, as a customer-service message; when WeChat will not carry it
    (outside the 48-hour window, over the count: 45015 / 45047, or WeChat unreachable) it is kept in the
    person's inbox and listed under 发送失败."""
    try:
        if isinstance(reply, str):
            client.send_custom_message(msg.source, content=reply)
        else:
            client.send_custom_message(msg.source, articles=reply)
    except WeChatError as err:
        log.error("wechat: late answer to %s could not be sent (%s)", msg.source, err)
        from services import notify
        text = reply if isinstance(reply, str) else "\n".join(f"{a.get('title', '')} {a.get('url', '')}" for a in reply)
        notify.undeliverable(msg.source, f"late:{dedup_key(msg)}", text, f"客服消息发送失败：{err}")


def wait_for_workers(timeout=30):
    """Wait until every message handed to a worker has been answered (used by tests)."""
    _workers.wait(timeout)
