"""Webhook: the `查询 <案件号>` round trip in safe mode (AES) against POST /wechat under gunicorn, compared
with a bare Flask + wechatpy echo app (check signature, decrypt, parse, reply, encrypt; no database) served
by the same gunicorn settings in the same run, and beside it the same echo plus one indexed MariaDB read of the
case (mysqlclient alone): the floor under any 查询 on MariaDB.

Our app is served twice at once, on a throwaway MariaDB (production's database, docs/deployment.md) and on a
SQLite file (the default deployment, `make run`), each with the demo county: every request is a follower asking
about one of their own cases, with a fresh MsgId (so de-duplication claims a new key each time) and its own
nonce and signature, encrypted right before its run (a timestamp is good for 5 minutes).

The three servers stay up for the whole run (each settled and warmed first); ROUNDS rounds
(WEBHOOK_BENCH_ROUNDS, default 3), each: the echo, then ours on each database (the order turns
round by round), SECONDS each (WEBHOOK_BENCH_SECONDS, default 25) of wrk, closed loop — so every figure of
ours has an echo measured within a minute of it, on the same machine load —; then a fixed-rate open-loop
generator (bench/load.py) at half of that round's maximum for HALF_SECONDS (WEBHOOK_BENCH_HALF_SECONDS,
default 8), every reply decrypted and checked to be the case's status. The rows give the median over the
rounds and the spread (lowest–highest): throughput, the ratio to the same round's echo, p99 at half load.
CPU per request of the app's processes and of MariaDB comes from /proc over each timed wrk run (MariaDB's
column is empty for SQLite, which runs inside the app's processes): on two shared cores, throughput ≈
2 s / (CPU seconds per request, wrk's own included). Defaults: about 8 minutes in all."""
import contextlib
import itertools
import os
import random
import tempfile
import time
from types import SimpleNamespace

from bench import load

TIMES_ITSELF = True  # takes the benchmark lock around its timed phases only
from tests.wechat_helpers import encrypt_for, sign, text_xml

ROUNDS = int(os.environ.get("WEBHOOK_BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("WEBHOOK_BENCH_SECONDS", "25"))
HALF_SECONDS = int(os.environ.get("WEBHOOK_BENCH_HALF_SECONDS", "8"))
CONNECTIONS = 32
MOST = 3000        # req/s of ours a run's requests are written for (more would reuse MsgIds: counted as wraps)
WECHAT = dict(WECHAT_OA_TOKEN="benchtoken", WECHAT_OA_AES_KEY="bench" + "K" * 38, WECHAT_OA_APP_ID="wxoabench00000001",
              WECHAT_OA_APP_SECRET="oa-secret")


def echo_app(lookup=False):
    """The yardstick: Flask + wechatpy doing only what any safe-mode webhook must (no database). lookup: the
    floor of any 查询 on MariaDB besides — the echo plus one indexed read of the case by its number (mysqlclient
    itself, a kept connection per thread), its state in the reply."""
    import threading
    from flask import Flask, Response, abort, request
    from wechatpy import create_reply, parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    env = os.environ
    crypto = WeChatCrypto(env["WECHAT_OA_TOKEN"], env["WECHAT_OA_AES_KEY"], env["WECHAT_OA_APP_ID"])
    app = Flask(__name__)
    kept = threading.local()

    def state_of(number):
        if getattr(kept, "conn", None) is None:
            import MySQLdb
            from playhouse.db_url import parse
            kept.conn = MySQLdb.connect(**parse(env["DATABASE_URL"]))   # host, port, user, passwd, database, charset
            kept.conn.autocommit(True)
        cursor = kept.conn.cursor()
        cursor.execute("SELECT id, state FROM `case` WHERE number = %s", (number,))
        row = cursor.fetchone()
        return row[1] if row else ""

    @app.post("/wechat")
    def wechat():
        a = request.args
        try:
            check_signature(crypto.token, a["signature"], a["timestamp"], a["nonce"])
            xml = crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"], a["nonce"])
        except InvalidSignatureException:
            abort(403)
        msg = parse_message(xml)
        text = f"{msg.content} 状态：{state_of(msg.content.split()[-1])}" if lookup else msg.content
        reply = create_reply(text, msg, render=True)
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


def max_throughput(base, timed_file, app_pid, db_pid):
    """wrk's figures plus the CPU milliseconds per request spent by the app (gunicorn) and by MariaDB
    (db_cpu None without a database server: db_pid None), and the machine's load average as the run began."""
    before = load.cpu_seconds(app_pid), load.cpu_seconds(db_pid) if db_pid else 0.0
    machine = os.getloadavg()[0]
    fig = load.wrk(base, timed_file, SECONDS, CONNECTIONS, expect="<Encrypt>")
    fig["load"] = machine
    fig["app_cpu"], fig["db_cpu"] = ((load.cpu_seconds(pid) - was) * 1000 / fig["requests"] if pid else None
                                     for pid, was in zip((app_pid, db_pid), before))
    return fig


def half_load(base, asks, ids, rate):
    """p50, p99, max (ms) of an open-loop run at `rate`, how many requests, non-200 and replies without the
    case's status, and the load average before it."""
    machine = os.getloadavg()[0]
    results = load.open_loop(base, requests(asks, int(rate * HALF_SECONDS), ids), rate)
    latencies = [r[0] * 1000 for r in results]
    return dict(rate=rate, p50=load.percentile(latencies, 50), p99=load.percentile(latencies, 99),
                max=max(latencies), requests=len(results), non200=sum(1 for r in results if r[1] != 200),
                wrong=sum(1 for r in results if r[1] == 200 and "状态：" not in open_reply(r[2])), load=machine)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def spread(values, fmt):
    """"median (lowest–highest)" of one figure over the rounds."""
    return f"{median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def rows_for(label, runs, echoes, halves, setting):
    """runs, echoes: wrk figures of ours and of the echo before it, one each round; halves: half_load()s."""
    ratios = [fig["rps"] / echo["rps"] for fig, echo in zip(runs, echoes)]
    p99s = [h["p99"] for h in halves]
    ratio, p99 = median(ratios), median(p99s)
    rounds = "; ".join(f"round {i + 1}: {fig['rps']:.0f} vs echo {echo['rps']:.0f} req/s = {r:.2f}, "
                       f"{describe(fig)}" for i, (fig, echo, r) in enumerate(zip(runs, echoes, ratios)))
    halfs = "; ".join(f"round {i + 1}: {h['p99']:.1f} ms at {h['rate']:.0f} req/s (p50 {h['p50']:.1f}, max "
                      f"{h['max']:.0f}; {h['requests']} requests, {h['non200']} non-200, {h['wrong']} without the "
                      f"case status; load average {h['load']:.1f} before)" for i, h in enumerate(halves))
    return [
        [label, f"max throughput (closed loop), median of {len(runs)}", spread([f["rps"] for f in runs], ".0f")
         + " req/s", "", f"CPU/request: app {spread([f['app_cpu'] for f in runs], '.2f')} ms"
         + (f", MariaDB {spread([f['db_cpu'] for f in runs], '.2f')} ms" if runs[0]["db_cpu"] is not None else "")
         + f"; {rounds}; {setting}"],
        [label, "throughput / the same round's echo, median", spread(ratios, ".2f"), "≥ 0.60",
         "met" if ratio >= 0.6 else "NOT met"],
        [label, "p99 at half load (open loop), median", spread(p99s, ".1f") + " ms", "< 50 ms",
         f"{'met' if p99 < 50 else 'NOT met'}; {halfs}"]]


def describe(fig):
    db = f" + MariaDB {fig['db_cpu']:.2f}" if fig.get("db_cpu") is not None else ""
    return (f"p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms, CPU/request {fig['app_cpu']:.2f}{db} ms, "
            f"{fig['requests']} requests, {fig['bad']} non-200/not encrypted, {fig['errors']} socket errors, "
            f"{fig['wrapped']} wraps, load average {fig['load']:.1f} before")


def run():
    from tests.mariadb import MariaDB
    from wechat.standin import WeChatStandIn
    server, standin = MariaDB().start(), WeChatStandIn()
    try:
        with tempfile.TemporaryDirectory() as workdir, contextlib.ExitStack() as servers:
            urls = {"MariaDB": server.url, "SQLite": f"sqlite:///{os.path.join(workdir, 'daibiao.db')}"}
            db_pids = {"MariaDB": server.proc.pid, "SQLite": None}
            asks = {label: seed(url) for label, url in urls.items()}
            base_env = {**WECHAT, "SECRET_KEY": "bench", "WECHAT_API_BASE": standin.start(),
                        "PUBLIC_BASE_URL": "http://daibiao.bench"}
            ids = itertools.count(int(time.time()) * 1000)

            def write(name, label, count):
                return load.write_requests(os.path.join(workdir, name), requests(asks[label], count, ids))

            apps = {"echo": servers.enter_context(load.gunicorn("bench.webhook_bench:echo_app()", base_env)),
                    "floor": servers.enter_context(load.gunicorn("bench.webhook_bench:echo_app(lookup=True)",
                                                                 {**base_env, "DATABASE_URL": server.url}))}
            for label, url in urls.items():
                apps[label] = servers.enter_context(
                    load.gunicorn("app:create_app()", {**base_env, "DATABASE_URL": url}, ready="/healthz"))
            echo_file = write("echo", "MariaDB", 20000)   # no de-duplication: the echo may go round it again
            for label, (base, pid) in apps.items():
                load.settled(pid)   # every worker loaded (jieba: seconds each), then warmed
                load.wrk(base, echo_file if label in ("echo", "floor") else write(f"{label}-warm", label, 3000), 3,
                         CONNECTIONS, expect="<Encrypt>")
            echoes, floors, runs, halves = [], [], {label: [] for label in urls}, {label: [] for label in urls}
            labels = list(urls)
            for round_ in range(ROUNDS):
                order = labels[round_ % len(labels):] + labels[:round_ % len(labels)]
                files = {label: write(f"{label}-{round_}", label, MOST * SECONDS) for label in order}
                with load.timing():   # the lock per round: each round's requests are written just before it
                    echoes.append(max_throughput(apps["echo"][0], echo_file, apps["echo"][1], None))
                    floors.append(max_throughput(apps["floor"][0], echo_file, apps["floor"][1], server.proc.pid))
                    for label in order:
                        base, pid = apps[label]
                        runs[label].append(max_throughput(base, files[label], pid, db_pids[label]))
                    for label in order:
                        halves[label].append(half_load(apps[label][0], asks[label], ids, runs[label][-1]["rps"] / 2))
    finally:
        standin.stop()
        server.stop()
    setting = (f"gunicorn {load.GUNICORN['workers']}×{load.GUNICORN['threads']}, wrk {CONNECTIONS} conns {SECONDS} s, "
               f"{ROUNDS} rounds, half load {HALF_SECONDS} s")
    rows = [["bare Flask + wechatpy echo", f"max throughput (closed loop), median of {ROUNDS}",
             spread([e["rps"] for e in echoes], ".0f") + " req/s", "",
             f"CPU/request {spread([e['app_cpu'] for e in echoes], '.2f')} ms; "
             + "; ".join(f"round {i + 1}: {describe(e)}" for i, e in enumerate(echoes)) + f"; {setting}"]]
    floor_ratios = [f["rps"] / e["rps"] for f, e in zip(floors, echoes)]
    rows += [["echo + one MariaDB lookup (the floor)", f"max throughput (closed loop), median of {ROUNDS}",
              spread([f["rps"] for f in floors], ".0f") + " req/s", "",
              f"CPU/request: app {spread([f['app_cpu'] for f in floors], '.2f')} ms, MariaDB "
              f"{spread([f['db_cpu'] for f in floors], '.2f')} ms; what no 查询 on MariaDB can go below: "
              + "; ".join(f"round {i + 1}: {describe(f)}" for i, f in enumerate(floors))],
             ["echo + one MariaDB lookup (the floor)", "throughput / the same round's echo, median",
              spread(floor_ratios, ".2f"), "", "the most 查询 on MariaDB could reach with one lookup a question"]]
    for label in urls:
        rows += rows_for(f"webhook 查询, {label}", runs[label], echoes, halves[label], setting)
    return rows
