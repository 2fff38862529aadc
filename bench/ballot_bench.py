"""Public 测评 burst: 10,000 votes in 60 seconds on a 网络问政's satisfaction ballot (three items), on SQLite
and on MariaDB, through POST /v/<code> under gunicorn (docs/deployment.md's settings).

Each voter is a distinct WeChat identity already known to the page (a signed session cookie holding the
openid web OAuth would have put there, and its CSRF token), marking all three items. The votes arrive open
loop at 10,000 / 60 s (bench/load.py: arrivals do not wait for answers; latency from the scheduled time).
Meanwhile a big-screen client reloads /v/<code>/live every second. Afterwards 200 of the voters try again.
Checked: every vote answered 303 (counted) and the repeats 409; `participation` and `paper` hold exactly
one row per counted vote (0 lost, 0 double); the live page's turnout never goes down, reaches 10,000, and
is counted on each request (no cache), so it is as fresh as its own response time."""
import datetime as dt
import os
import re
import tempfile
import threading
import time
import urllib.request

from bench import load

VOTES, SECONDS, REPEATS = 10_000, 60, 200


def prepare(url):
    """A fresh database with one open public 测评 ballot; → (its code, the form body, the app for cookies)."""
    from app import create_app
    from models import Account, db
    from models.migrate import migrate
    from services import ballots
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), db.connection_context():
        migrate()
        staff = Account.create(role="staff", username="bench-staff", display_name="工作人员")
        now = dt.datetime.now() + dt.timedelta(hours=8)  # the form's local time (Asia/Shanghai)
        ballot = ballots.create(staff, {
            "title": "网络问政满意度测评", "kind": "satisfaction", "method": "rate", "electorate": "public",
            "items": "县交通运输局\n县住建局\n县教育局", "opens_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
        ballots.open_ballot(staff, ballot)
        body = "&".join(f"mark_{item.id}={mark}" for item, mark in zip(ballots.items(ballot), ("good", "fair", "poor")))
    return ballot.code, body, app


def requests(app, code, body, voters):
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    out = []
    for n in voters:
        cookie = serializer.dumps({"wx_oa_openid": f"oa-bench-{n}", "csrf": f"t{n}"})
        out.append(("POST", f"/v/{code}", {"Content-Type": "application/x-www-form-urlencoded",
                                            "Cookie": f"{name}={cookie}"}, f"csrf_token=t{n}&{body}"))
    return out


def watch(base, code, stop, seen):
    """The big screen: reload the live page every second; record (response seconds, turnout shown)."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            html = urllib.request.urlopen(f"{base}/v/{code}/live", timeout=10).read().decode()
            seen.append((time.perf_counter() - started, int(re.search(r"已投票 (\d+)", html).group(1))))
        except OSError:
            seen.append((time.perf_counter() - started, None))
        stop.wait(1)


def counted(url, code):
    from app import create_app
    from models import Ballot, Paper, Participation, db
    with create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"}).app_context(), db.connection_context():
        ballot = Ballot.get(Ballot.code == code)
        return (Participation.select().where(Participation.ballot == ballot).count(),
                Paper.select().where(Paper.ballot == ballot).count())


def measure(label, url, db_pid=None):
    code, body, app = prepare(url)
    votes, repeats = requests(app, code, body, range(VOTES)), requests(app, code, body, range(REPEATS))
    seen, stop = [], threading.Event()
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://daibiao.bench"}
    with load.timing():
        with load.gunicorn("app:create_app()", env, ready="/healthz") as (base, pid):
            cpu = load.cpu_seconds(pid), load.cpu_seconds(db_pid) if db_pid else 0.0
            screen = threading.Thread(target=watch, args=(base, code, stop, seen))
            screen.start()
            results = load.open_loop(base, votes, VOTES / SECONDS)
            time.sleep(1.5)
            stop.set()
            screen.join()
            used = [(load.cpu_seconds(p) - was) for p, was in zip((pid, db_pid), cpu) if p]
            again = load.open_loop(base, repeats, 100)
    participations, papers = counted(url, code)
    ok = sum(1 for r in results if r[1] == 303)
    latencies = [r[0] * 1000 for r in results]
    p99 = load.percentile(latencies, 99)
    shown = [n for _, n in seen if n is not None]
    monotonic = all(a <= b for a, b in zip(shown, shown[1:]))
    screen_ms = max(s for s, _ in seen) * 1000
    lost, double = ok - papers, papers - VOTES
    return [
        [f"public 测评 burst, {label}", f"{VOTES:,} votes in {SECONDS} s (open loop)", f"p99 {p99:.0f} ms", "< 1000 ms",
         f"{'met' if p99 < 1000 and ok == VOTES else 'NOT met'}; p50 {load.percentile(latencies, 50):.0f} ms, "
         f"max {max(latencies):.0f} ms; {ok} counted (303), {len(results) - ok} other; CPU s: "
         + " + ".join(f"{u:.0f}" for u in used)],
        [f"public 测评 burst, {label}", "lost / counted twice", f"{max(lost, 0)} / {max(double, 0)}", "0 / 0",
         f"participation {participations}, paper {papers}; {sum(1 for r in again if r[1] == 409)} of {REPEATS} "
         f"repeat votes refused (409)"],
        [f"public 测评 burst, {label}", "big screen /live during the burst", f"max {screen_ms:.0f} ms", "fresh < 5 s",
         f"{'met' if screen_ms < 5000 and monotonic and shown and shown[-1] == papers else 'NOT met'}; "
         f"{len(seen)} reloads, turnout counted per request, never down: {monotonic}, last shown {shown[-1] if shown else '—'}"],
    ]


def run():
    from tests.mariadb import MariaDB
    server = MariaDB().start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as workdir:
            rows += measure("SQLite", f"sqlite:///{os.path.join(workdir, 'daibiao.db')}")
            rows += measure("MariaDB", server.url, server.proc.pid)
    finally:
        server.stop()
    return rows


TIMES_ITSELF = True
