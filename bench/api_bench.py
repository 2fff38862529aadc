"""Mini-program API: `POST /api/v1/cases` (file a report) and `GET /api/v1/cases/<number>` (read one) under
gunicorn, 16 concurrent clients (wrk, closed loop), on a SQLite file and on a throwaway MariaDB.

Each backend gets the demo county plus 3,000 citizen accounts with bearer tokens. Every report comes from
the next citizen in turn with its own client_request_id (a new case each time), so no citizen comes near
the rate limit (10 an hour, left as configured: it is still counted in the database for every report);
the content check goes to the WeChat stand-in on 127.0.0.1, where every citizen has the mini-program open
(so the check passes, as for a real reporter, instead of refusing with 61010 and flagging every case). Reads are by each case's reporter, over the
demo cases and the ones just filed. Any reply other than 2xx with the case in it counts as an error.

Timing starts once every gunicorn worker has warmed up and gone idle (`load.settled`), after a 1 s warm-up;
the POST is timed RUNS times (SECONDS each, new reports every run) and its median run reported beside the
others. Run alone: `python -m bench api` (≈ 3 minutes)."""
import itertools
import json
import os
import tempfile

from bench import load

TIMES_ITSELF = True  # takes the benchmark lock around its timed phases only

CLIENTS = 16
SECONDS = 5
RUNS = 3       # timed POST runs per backend: the median is reported, with every run's figures beside it
PER_RUN = 2000  # distinct reports per timed run (≈ 180 req/s × 5 s on SQLite, with room)
CITIZENS = 3000  # so each files at most 3 of the 1,000 + RUNS × PER_RUN reports: the rate limit is never reached
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


def timed(base, warm_file, timed_files, app_pid, db_pid):
    """Once every worker has warmed up and the server is idle, a 1 s warm-up, then one wrk run per timed file
    (each its own requests: a repeated client_request_id would be a cheaper replay): wrk's figures plus the CPU
    milliseconds per request of the app (gunicorn) and of MariaDB, each the median of the runs, with "runs"
    keeping every run's figures (the spread)."""
    load.settled(app_pid)
    load.wrk(base, warm_file, 1, CLIENTS, expect='"number"')
    runs = []
    for timed_file in timed_files:
        before = load.cpu_seconds(app_pid), load.cpu_seconds(db_pid) if db_pid else 0.0
        fig = load.wrk(base, timed_file, SECONDS, CLIENTS, expect='"number"')
        fig["app_cpu"], fig["db_cpu"] = ((load.cpu_seconds(pid) - was) * 1000 / fig["requests"] if pid else 0.0
                                         for pid, was in zip((app_pid, db_pid), before))
        runs.append(fig)
    middle = sorted(runs, key=lambda f: f["app_cpu"])[len(runs) // 2]
    return {**middle, **{k: sorted(f[k] for f in runs)[len(runs) // 2] for k in ("rps", "p50", "p99", "db_cpu")},
            "requests": sum(f["requests"] for f in runs), "bad": sum(f["bad"] for f in runs),
            "errors": sum(f["errors"] for f in runs), "wrapped": sum(f["wrapped"] for f in runs), "runs": runs}


def spread(fig):
    """'; runs: app 7.1/7.4/7.9 ms, p99 150/170/190 ms' when there was more than one run."""
    runs = fig.get("runs", [])
    if len(runs) < 2:
        return ""
    listed = lambda key, form: "/".join(form.format(v) for v in sorted(f[key] for f in runs))  # noqa: E731
    return f"; {len(runs)} runs: app {listed('app_cpu', '{:.1f}')} ms, p99 {listed('p99', '{:.0f}')} ms"


def socket_errors(fig):
    """' (read 3, …)': wrk's socket errors by kind, when there were any."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in fig.get("socket", {}).items() if n)
    return f" ({kinds})" if kinds else ""


def measure(label, url, workdir, standin, standin_url, db_pid=None):
    tokens, readable = prepare(url)
    for i in range(CITIZENS):
        standin.opened(f"openid-bench{i}")
    ids = itertools.count()
    warm = load.write_requests(os.path.join(workdir, f"{label}-post-warm.txt"), reports(tokens, 1000, ids))
    posts = [load.write_requests(os.path.join(workdir, f"{label}-post{run}.txt"), reports(tokens, PER_RUN, ids))
             for run in range(RUNS)]
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "WECHAT_API_BASE": standin_url,
           "WECHAT_MP_APP_ID": "wxmpbench00000001", "WECHAT_MP_APP_SECRET": "mp-secret"}
    figures = {}
    with load.timing(), load.gunicorn("app:create_app()", env, ready="/healthz") as (base, pid):
        figures["POST /api/v1/cases"] = timed(base, warm, posts, pid, db_pid)
        gets = load.write_requests(os.path.join(workdir, f"{label}-get.txt"), reads(readable(), 20000))
        figures["GET /api/v1/cases/<number>"] = timed(base, gets, [gets], pid, db_pid)
    return [[f"API {endpoint}, {label}", f"requests/s, {CLIENTS} clients", f"{fig['rps']:.0f} req/s",
             "0 errors", f"{fig['bad']} bad replies, {fig['errors']} socket errors{socket_errors(fig)}; p50 {fig['p50']:.1f} ms, p99 {fig['p99']:.1f} ms; "
             f"CPU/request: app {fig['app_cpu']:.1f} ms" + (f", MariaDB {fig['db_cpu']:.1f} ms" if db_pid else "")
             + f"; {fig['requests']} requests, {fig['wrapped']} wraps{spread(fig)}"] for endpoint, fig in figures.items()]


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
                fig = timed(base, bare, [bare], pid, None)
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
