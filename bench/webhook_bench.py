"""Webhook: the `查询 <案件号>` round trip in safe mode (AES) against POST /wechat under gunicorn, compared
with a bare Flask + wechatpy echo app (check signature, decrypt, parse, reply, encrypt; no database) served
by the same gunicorn settings in the same run, measured right before each of ours (the load of a shared
machine drifts between phases); every figure carries the load average as its run began.

Our app runs twice, on a throwaway MariaDB (production's database, docs/deployment.md) and on a SQLite file
(the default deployment, `make run`), each with the demo county: every request is a follower asking about one of their own cases, with a fresh MsgId (so de-duplication claims a new
key each time) and its own nonce and signature, encrypted beforehand. Maximum throughput: wrk, closed loop.
Latency: a fixed-rate open-loop generator (bench/load.py) at half that maximum, every reply decrypted and
checked to be the case's status. CPU per request of the app's processes and of MariaDB comes from /proc over
the timed wrk run (MariaDB's column is empty for SQLite, which runs inside the app's processes): on two
shared cores, throughput ≈ 2 s / (CPU seconds per request)."""
import itertools
import os
import random
import tempfile
import time
from types import SimpleNamespace

from bench import load

TIMES_ITSELF = True  # takes the benchmark lock around its timed phases only
from tests.wechat_helpers import encrypt_for, sign, text_xml

SECONDS = 5
CONNECTIONS = 32
WECHAT = dict(WECHAT_OA_TOKEN="benchtoken", WECHAT_OA_AES_KEY="bench" + "K" * 38, WECHAT_OA_APP_ID="wxoabench00000001",
              WECHAT_OA_APP_SECRET="oa-secret")


def echo_app():
    """The yardstick: Flask + wechatpy doing only what any safe-mode webhook must (no database)."""
    from flask import Flask, Response, abort, request
    from wechatpy import create_reply, parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    env = os.environ
    crypto = WeChatCrypto(env["WECHAT_OA_TOKEN"], env["WECHAT_OA_AES_KEY"], env["WECHAT_OA_APP_ID"])
    app = Flask(__name__)

    @app.post("/wechat")
    def wechat():
        a = request.args
        try:
            check_signature(crypto.token, a["signature"], a["timestamp"], a["nonce"])
            xml = crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"], a["nonce"])
        except InvalidSignatureException:
            abort(403)
        msg = parse_message(xml)
        reply = create_reply(msg.content, msg, render=True)
        return Response(crypto.encrypt_message(reply, a["nonce"], a["timestamp"]), mimetype="application/xml")

    return app


def requests(asks, count, ids):
    """`count` safe-mode deliveries of "查询 <number>" from (openid, number) pairs, each with a fresh MsgId."""
    cfg = SimpleNamespace(config=WECHAT)
    out = []
    for i in range(count):
        openid, number = asks[i % len(asks)]
        timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
        body, msg_signature = encrypt_for(cfg, text_xml(f"查询 {number}", openid=openid, msgid=next(ids)),
                                          timestamp, nonce)
        out.append(("POST", f"/wechat?signature={sign(WECHAT['WECHAT_OA_TOKEN'], timestamp, nonce)}"
                    f"&timestamp={timestamp}&nonce={nonce}&openid={openid}&encrypt_type=aes"
                    f"&msg_signature={msg_signature}", {"Content-Type": "text/xml"}, body))
    return out


def open_reply(body):
    """The plaintext of an encrypted passive reply ('' when it is not one)."""
    import xmltodict
    from wechatpy.crypto import WeChatCrypto
    try:
        env = xmltodict.parse(body)["xml"]
        crypto = WeChatCrypto(WECHAT["WECHAT_OA_TOKEN"], WECHAT["WECHAT_OA_AES_KEY"], WECHAT["WECHAT_OA_APP_ID"])
        return crypto.decrypt_message(body, env["MsgSignature"], env["TimeStamp"], env["Nonce"])
    except Exception:  # noqa: BLE001 — "success", an error page, garbage
        return ""


def seed(url):
    """The demo county on `url`; → (openid, case number) of followers asking about their own cases."""
    from app import create_app
    from models import Account, Case, db
    from models.migrate import migrate
    from services import seed as demo
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), db.connection_context():
        migrate()
        demo.seed_demo(log=lambda *_: None)
        return [(c.reporter.oa_openid, c.number) for c in
                Case.select(Case, Account).join(Account, on=Case.reporter)
                .where(Account.oa_openid.is_null(False), Case.kind == "report")]  # 查询 takes a report's number


def max_throughput(base, warm_file, timed_file, app_pid, db_pid):
    """wrk's figures plus the CPU milliseconds per request spent by the app (gunicorn) and by MariaDB
    (db_cpu None without a database server: db_pid None), and the machine's load average as the timed run began."""
    load.wrk(base, warm_file, 2, CONNECTIONS, expect="<Encrypt>")
    before = load.cpu_seconds(app_pid), load.cpu_seconds(db_pid) if db_pid else 0.0
    machine = os.getloadavg()[0]
    fig = load.wrk(base, timed_file, SECONDS, CONNECTIONS, expect="<Encrypt>")
    fig["load"] = machine
    fig["app_cpu"], fig["db_cpu"] = ((load.cpu_seconds(pid) - was) * 1000 / fig["requests"] if pid else None
                                     for pid, was in zip((app_pid, db_pid), before))
    return fig


def measure(label, env, asks, ids, workdir, db_pid):
    """Rows for our app on one database: maximum throughput, then p99 at half of it (open loop)."""
    warm, timed = (load.write_requests(os.path.join(workdir, f"{label}-{name}"), requests(asks, count, ids))
                   for name, count in (("warm", 3000), ("timed", 20000)))
    half = requests(asks, 8000, ids)
    with load.timing():
        with load.gunicorn("app:create_app()", env, ready="/healthz") as (base, pid):
            fig = max_throughput(base, warm, timed, pid, db_pid)
            rate = fig["rps"] / 2
            fig["half_load"] = os.getloadavg()[0]
            results = load.open_loop(base, half[:int(rate * SECONDS)], rate)
    return fig, rate, results


def rows_for(label, fig, echo, rate, results, setting):
    latencies = [r[0] * 1000 for r in results]
    non200 = sum(1 for r in results if r[1] != 200)
    wrong = sum(1 for r in results if r[1] == 200 and "状态：" not in open_reply(r[2]))
    ratio = fig["rps"] / echo["rps"]
    p99 = load.percentile(latencies, 99)
    return [
        [label, "max throughput (closed loop)", f"{fig['rps']:.0f} req/s", "", describe(fig, setting)],
        [label, "throughput / echo's", f"{ratio:.2f}", "≥ 0.60", "met" if ratio >= 0.6 else "NOT met"],
        [label, f"p99 at half load ({rate:.0f} req/s, open loop)", f"{p99:.1f} ms", "< 50 ms",
         f"{'met' if p99 < 50 else 'NOT met'}; p50 {load.percentile(latencies, 50):.1f} ms, "
         f"max {max(latencies):.0f} ms; {len(results)} requests, {non200} non-200, {wrong} without the case status; "
         f"load average {fig['half_load']:.1f} before"]]


def describe(fig, setting):
    db = f", MariaDB {fig['db_cpu']:.2f} ms" if fig.get("db_cpu") is not None else ""
    return (f"p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; CPU/request: app {fig['app_cpu']:.2f} ms{db}; "
            f"{fig['requests']} requests, {fig['bad']} non-200/not encrypted, {fig['errors']} socket errors, "
            f"{fig['wrapped']} wraps; load average {fig['load']:.1f} before the run; {setting}")


def run():
    from tests.mariadb import MariaDB
    from wechat.standin import WeChatStandIn
    server, standin = MariaDB().start(), WeChatStandIn()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as workdir:
            sqlite_url = f"sqlite:///{os.path.join(workdir, 'daibiao.db')}"
            asks = {"MariaDB": seed(server.url), "SQLite": seed(sqlite_url)}
            base_env = {**WECHAT, "SECRET_KEY": "bench", "WECHAT_API_BASE": standin.start(),
                        "PUBLIC_BASE_URL": "http://daibiao.bench"}
            ids = itertools.count(int(time.time()) * 1000)
            warm, timed = (load.write_requests(os.path.join(workdir, name), requests(asks["MariaDB"], count, ids))
                           for name, count in (("echo-warm", 3000), ("echo-timed", 20000)))
            echo, ours = {}, {}
            for label, url, db_pid in (("MariaDB", server.url, server.proc.pid), ("SQLite", sqlite_url, None)):
                with load.timing():   # the yardstick right before each of ours: a shared machine's load drifts
                    with load.gunicorn("bench.webhook_bench:echo_app()", base_env) as (base, pid):
                        echo[label] = max_throughput(base, warm, timed, pid, None)  # no de-duplication: same requests
                ours[label] = measure(label, {**base_env, "DATABASE_URL": url}, asks[label], ids, workdir, db_pid)
        setting = f"gunicorn {load.GUNICORN['workers']}×{load.GUNICORN['threads']}, wrk {CONNECTIONS} conns {SECONDS} s"
        for label, (fig, rate, results) in ours.items():
            rows.append([f"bare Flask + wechatpy echo (before {label})", "max throughput (closed loop)",
                         f"{echo[label]['rps']:.0f} req/s", "", describe(echo[label], setting)])
            rows += rows_for(f"webhook 查询, {label}", fig, echo[label], rate, results, setting)
    finally:
        standin.stop()
        server.stop()
    return rows
