"""Mini-program API: `POST /api/v1/cases` (file a report) and `GET /api/v1/cases/<number>` (read one) under
gunicorn, 16 concurrent clients (wrk, closed loop), on a SQLite file and on a throwaway MariaDB.

Each backend gets the demo county plus 3,000 citizen accounts with bearer tokens. Every report comes from
the next citizen in turn with its own client_request_id (a new case each time), so no citizen comes near
the rate limit (10 an hour, left as configured: it is still counted in the database for every report);
the content check goes to the WeChat stand-in on 127.0.0.1, where every citizen has the mini-program open
(so the check passes, as for a real reporter, instead of refusing with 61010 and flagging every case). Reads are by each case's reporter, over the
demo cases and the ones just filed. Any reply other than 2xx with the case in it counts as an error."""
import itertools
import json
import os
import tempfile

from bench import load

TIMES_ITSELF = True  # takes the benchmark lock around its timed phases only

CLIENTS = 16
SECONDS = 5
CITIZENS = 3000
REPORT = {"category": "traffic", "title": "路灯不亮", "content": "幸福路口的路灯坏了一个多月，晚上行人看不清路。",
          "location": "青山县幸福路"}


def bare_app():
    """The yardstick: a bare Flask app that parses the same request's JSON and answers a number (no database,
    no WeChat), under the same gunicorn settings."""
    from flask import Flask, jsonify, request
    app = Flask(__name__)

    @app.post("/api/v1/cases")
    def cases():
        data = request.get_json()
        return jsonify({"case": {"number": "2026-000001", "title": data["title"]}, "created": True}), 201

    return app


def prepare(url):
    """Demo county and citizens on `url`; → (token of each citizen, function giving (token, number) pairs)."""
    from app import create_app
    from models import Account, Case, db
    from models.migrate import migrate
    from services import apiauth, seed
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), db.connection_context():
        migrate()
        seed.seed_demo(log=lambda *_: None)
        with db.atomic():
            for start in range(0, CITIZENS, 500):
                Account.insert_many([{"role": "citizen", "openid": f"openid-bench{i}", "display_name": f"群众{i}"}
                                     for i in range(start, min(CITIZENS, start + 500))]).execute()
        tokens = [apiauth.issue_token(a) for a in Account.select().where(Account.openid.startswith("openid-bench"))]

    def readable():
        """Reports only: the demo's 问政 questions are cases too, and /api/v1/cases/<number> answers 404 for them
        (they have their own endpoints) — the 11–21 "errors" of the GET rows before 2026-12-01 19:00."""
        with app.app_context(), db.connection_context():
            return [(apiauth.issue_token(c.reporter), c.number) for c in Case.select(Case, Account).join(
                Account, on=Case.reporter).where(Case.kind == "report")]
    return tokens, readable


def reports(tokens, count, ids):
    deputies = itertools.cycle(f"DB{i:04d}" for i in range(1, 30))  # DB0030's term has ended
    return [("POST", "/api/v1/cases", {"Authorization": f"Bearer {tokens[i % len(tokens)]}",
                                       "Content-Type": "application/json"},
             json.dumps({**REPORT, "deputy": next(deputies), "client_request_id": f"bench-{next(ids)}"},
                        ensure_ascii=False)) for i in range(count)]


def reads(pairs, count):
    return [("GET", f"/api/v1/cases/{number}", {"Authorization": f"Bearer {token}"}, "")
            for token, number in itertools.islice(itertools.cycle(pairs), count)]


def timed(base, warm_file, timed_file, app_pid, db_pid):
    """A 1 s warm-up, then wrk's figures plus the CPU milliseconds per request of the app (gunicorn) and of
    MariaDB."""
    load.wrk(base, warm_file, 1, CLIENTS, expect='"number"')
    before = load.cpu_seconds(app_pid), load.cpu_seconds(db_pid) if db_pid else 0.0
    fig = load.wrk(base, timed_file, SECONDS, CLIENTS, expect='"number"')
    fig["app_cpu"], fig["db_cpu"] = ((load.cpu_seconds(pid) - was) * 1000 / fig["requests"] if pid else 0.0
                                     for pid, was in zip((app_pid, db_pid), before))
    return fig


def socket_errors(fig):
    """' (read 3, …)': wrk's socket errors by kind, when there were any."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in fig.get("socket", {}).items() if n)
    return f" ({kinds})" if kinds else ""


def measure(label, url, workdir, standin, standin_url, db_pid=None):
    tokens, readable = prepare(url)
    for i in range(CITIZENS):
        standin.opened(f"openid-bench{i}")
    ids = itertools.count()
    posts = [load.write_requests(os.path.join(workdir, f"{label}-{name}.txt"), reports(tokens, count, ids))
             for name, count in (("post-warm", 1000), ("post", 2 * CITIZENS - 1000))]
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "WECHAT_API_BASE": standin_url,
           "WECHAT_MP_APP_ID": "wxmpbench00000001", "WECHAT_MP_APP_SECRET": "mp-secret"}
    figures = {}
    with load.timing(), load.gunicorn("app:create_app()", env, ready="/healthz") as (base, pid):
        figures["POST /api/v1/cases"] = timed(base, *posts, pid, db_pid)
        gets = load.write_requests(os.path.join(workdir, f"{label}-get.txt"), reads(readable(), 20000))
        figures["GET /api/v1/cases/<number>"] = timed(base, gets, gets, pid, db_pid)
    return [[f"API {endpoint}, {label}", f"requests/s, {CLIENTS} clients", f"{fig['rps']:.0f} req/s",
             "0 errors", f"{fig['bad']} bad replies, {fig['errors']} socket errors{socket_errors(fig)}; p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; "
             f"CPU/request: app {fig['app_cpu']:.1f} ms" + (f", MariaDB {fig['db_cpu']:.1f} ms" if db_pid else "")
             + f"; {fig['requests']} requests, {fig['wrapped']} wraps"] for endpoint, fig in figures.items()]


def run():
    from tests.mariadb import MariaDB
    from wechat.standin import WeChatStandIn
    standin = WeChatStandIn()
    rows = []
    try:
        standin_url = standin.start()
        with tempfile.TemporaryDirectory() as workdir:
            bare = load.write_requests(os.path.join(workdir, "bare.txt"), reports(["x"], 2000, itertools.count()))
            with load.timing(), load.gunicorn("bench.api_bench:bare_app()", {}) as (base, pid):
                fig = timed(base, bare, bare, pid, None)
            rows.append(["bare Flask JSON POST (yardstick)", f"requests/s, {CLIENTS} clients", f"{fig['rps']:.0f} req/s",
                         "", f"p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; CPU/request: app "
                         f"{fig['app_cpu']:.2f} ms; {fig['requests']} requests"])
            rows += measure("SQLite", f"sqlite:///{workdir}/bench.db", workdir, standin, standin_url)
            server = MariaDB().start()
            try:
                rows += measure("MariaDB", server.url, workdir, standin, standin_url, server.proc.pid)
            finally:
                server.stop()
    finally:
        standin.stop()
    return rows
