"""The failure drill (a benchmark, not a test): the province set-up of bench/cluster.py — 3 Galera nodes behind
HAProxy, Redis, 2 app nodes, 2 schedulers — under 16 clients filing reports and deputies accepting them, the
scheduler draining the outbox through the WeChat stand-in, while one Galera node and then one app node (its
gunicorn and its scheduler) are killed (SIGKILL) and brought back. Then: every report answered 201 exists with
its timeline and notifications, no notification was delivered twice, the tally equals a recount, and the
throughput before / during / after. Last, the backup: a dump, restored into a fresh cluster, gives the same
figures and row counts.

A client treats a refused connection, a 5xx or a timeout as "try again": the same request, with the same
client_request_id, until it gets an answer (a retry that finds its case already filed gets that case back).
`python -m bench drill` (about 4 minutes here)."""
import itertools
import random
import subprocess
import threading
import time
from collections import Counter, defaultdict

import requests

from bench.cluster import ROOT, SECRET, Cluster
from bench.drain_bench import RemoteStandIn
from bench.load import free_port

DRILL_STATE = ROOT / "instance" / "drill-cluster.json"  # apart from `make cluster`'s
TIMES_ITSELF = True  # the drill times itself (it is about loss, not speed)

CLIENTS = 16
CITIZENS = 2000
PHASES = (("before", 20), ("during", None), ("after", 20))  # "during": as long as the kills and restarts take
DOWN = 10  # seconds a killed part stays down
APP_IDS = {"wxsandbox0fficial1": "sandbox-secret", "wxsandbox0mini0001": "sandbox-secret"}
REPORT = {"category": "traffic", "title": "路灯不亮", "content": "幸福路口的路灯坏了一个多月，晚上行人看不清路。",
          "location": "青山县幸福路"}


def _base_port():
    """A base port with its whole block (base … base+61) free."""
    while True:
        base = free_port() // 100 * 100
        if base + 70 < 65535 and all(_free(base + i) for i in range(0, 62)):
            return base


def _free(port):
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def prepare(cluster, standin):
    """Citizens who use the mini-program and follow the official account, with bearer tokens; each deputy's
    token (demo county's deputies). → (citizen tokens, {deputy code: token})."""
    from app import create_app
    from models import Account, Deputy, db
    from services import accounts, apiauth
    app = create_app({"DATABASE_URL": cluster.database_url, "SECRET_KEY": SECRET})
    with app.app_context(), db.connection_context():
        with db.atomic():
            for start in range(0, CITIZENS, 500):
                Account.insert_many([{"role": "citizen", "openid": f"openid-drill{i}", "oa_openid": f"oa-drill{i}",
                                      "oa_followed": True, "display_name": f"群众{i}"}
                                     for i in range(start, min(CITIZENS, start + 500))]).execute()
        citizens = [apiauth.issue_token(a) for a in Account.select().where(Account.openid.startswith("openid-drill"))]
        deputies = {d.code: apiauth.issue_token(accounts.person_account(d))
                    for d in Deputy.select() if not d.term_end or d.term_end.year >= 2027}
    for i in range(CITIZENS):
        standin.opened(f"openid-drill{i}")
    return citizens, deputies


class Clients:
    """CLIENTS threads, each filing reports (2 in 3) and accepting a filed one as its deputy (1 in 3)."""

    def __init__(self, web, citizens, deputies):
        self.web, self.citizens, self.deputies = web, citizens, deputies
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.filed = {}          # number → deputy code (every 201)
        self.to_accept = []
        self.accepted = set()
        self.done_at = []        # monotonic time of every completed operation
        self.retries = Counter()
        self.ids = itertools.count()

    def call(self, session, method, path, token, body):
        """The same request until it is answered: (status, json). A 5xx or no answer is retried."""
        while True:
            try:
                reply = session.request(method, self.web + path, json=body, timeout=15,
                                        headers={"Authorization": f"Bearer {token}"})
                if reply.status_code < 500:
                    return reply.status_code, reply.json()
                self.retries[f"HTTP {reply.status_code}"] += 1
            except requests.RequestException as err:
                self.retries[type(err).__name__] += 1
            time.sleep(0.2)

    def run(self, seed):
        rng = random.Random(seed)
        session = requests.Session()
        codes = list(self.deputies)
        while not self.stop.is_set():
            with self.lock:
                number = self.to_accept.pop(rng.randrange(len(self.to_accept))) \
                    if self.to_accept and rng.random() < 1 / 3 else None
            if number is None:
                code = rng.choice(codes)
                body = {**REPORT, "deputy": code, "client_request_id": f"drill-{seed}-{next(self.ids)}"}
                status, answer = self.call(session, "POST", "/api/v1/cases", rng.choice(self.citizens), body)
                if status not in (200, 201):
                    raise RuntimeError(f"filing answered {status}: {answer}")
                with self.lock:
                    self.filed[answer["case"]["number"]] = code
                    self.to_accept.append(answer["case"]["number"])
            else:
                status, answer = self.call(session, "POST", f"/api/v1/cases/{number}/actions/accept",
                                           self.deputies[self.filed[number]], {})
                if status != 200 and not (status == 409 and self._is_accepted(session, number)):
                    raise RuntimeError(f"accept {number} answered {status}: {answer}")
                with self.lock:
                    self.accepted.add(number)
            with self.lock:
                self.done_at.append(time.monotonic())

    def _is_accepted(self, session, number):
        """A retried accept whose first try went through (the answer was lost) is refused as already done."""
        status, answer = self.call(session, "GET", f"/api/v1/cases/{number}", self.deputies[self.filed[number]], None)
        return status == 200 and answer["case"]["state"] != "submitted"


def drill(cluster, clients, log):
    """Run the load through the three phases; → {phase: (operations, seconds)} and the events' times."""
    threads = [threading.Thread(target=clients.run, args=(i,), daemon=True) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    marks = {"before": started}
    time.sleep(PHASES[0][1])
    marks["during"] = time.monotonic()
    events = []

    def note(what):
        events.append((time.monotonic() - started, what))
        log(f"  {time.monotonic() - started:5.1f} s  {what}")
    note("kill Galera node n2 (SIGKILL)")
    cluster.kill("node2")
    time.sleep(DOWN)
    note("restart n2")
    cluster.start_node(2)
    cluster.wait_synced(2)
    note(f"n2 synced again (cluster size {cluster.cluster_size(1)})")
    note("kill app node 1: its gunicorn and its scheduler (SIGKILL)")
    cluster.kill("app1")
    cluster.kill("scheduler1")
    time.sleep(DOWN)
    note("restart app node 1")
    cluster.start_app(1)
    cluster.start_scheduler(1)
    cluster.wait_http(f"http://127.0.0.1:{cluster.port('app', 1)}/healthz")
    note("app node 1 serving again")
    marks["after"] = time.monotonic()
    time.sleep(PHASES[2][1])
    marks["end"] = time.monotonic()
    clients.stop.set()
    for t in threads:
        t.join(60)
    if any(t.is_alive() for t in threads):
        raise RuntimeError("a client did not finish")
    times = sorted(clients.done_at)
    phases = {}
    for name, start, end in (("before", marks["before"], marks["during"]), ("during", marks["during"], marks["after"]),
                             ("after", marks["after"], marks["end"])):
        phases[name] = (sum(start <= t < end for t in times), end - start)
    return phases, events


def check(cluster, clients, standin, log):
    """After the outbox has drained: what was lost or doubled, and the tally against a recount."""
    from app import create_app
    from models import Case, CaseEvent, DeliveryAttempt, Notification, db
    from services import stats
    app = create_app({"DATABASE_URL": cluster.database_url, "SECRET_KEY": SECRET})
    problems = []
    with app.app_context(), db.connection_context():
        deadline = time.time() + 300
        while Notification.select().where(Notification.state.in_(("pending", "sending"))).exists():
            if time.time() > deadline:
                problems.append("outbox not drained in 5 minutes")
                break
            time.sleep(2)
        drained = time.time() - (deadline - 300)
        numbers = list(clients.filed)
        cases = {c.number: c for c in Case.select().where(Case.number.in_(numbers))}
        missing = [n for n in numbers if n not in cases]
        ids = [c.id for c in cases.values()]
        events = Counter(e.case_id for e in CaseEvent.select(CaseEvent.case).where(CaseEvent.case.in_(ids)))
        kinds = defaultdict(Counter)
        for n in Notification.select(Notification.case, Notification.kind).where(Notification.case.in_(ids)):
            kinds[n.case_id][n.kind] += 1
        no_event = [c.number for c in cases.values() if not events[c.id]]
        no_note = [c.number for c in cases.values() if not kinds[c.id]]
        accepted_wrong = [n for n in clients.accepted if cases[n].state == "submitted"]
        unsent_accepts = [n for n in clients.accepted if not kinds[cases[n].id]["case_accepted"]]
        doubled_accepts = [n for n in clients.accepted if kinds[cases[n].id]["case_accepted"] > 1]
        ok_attempts = Counter(a.notification_id for a in DeliveryAttempt.select(DeliveryAttempt.notification)
                              .where(DeliveryAttempt.result == "ok"))
        twice_ok = sum(1 for v in ok_attempts.values() if v > 1)
        sends = [c for c in standin.calls() if c["path"].endswith("/send") and c["errcode"] == 0]
        delivered = Counter((c["json"].get("touser"), c["json"].get("client_msg_id")) for c in sends
                            if not c.get("repeat"))
        twice_sent = sum(1 for v in delivered.values() if v > 1)
        repeats = sum(1 for c in sends if c.get("repeat"))
        states = Counter(n.state for n in Notification.select(Notification.state))
        tally_diff = [by for by in (None, "state", "deputy", "station", "category")
                      if stats.figures(by=by) != stats.figures(by=by, live=True)]
        totals = {"cases": Case.select().count(), "events": CaseEvent.select().count(),
                  "notifications": Notification.select().count(), "figures": stats.figures(by="state")}
    for label, found in (("201 cases missing", missing), ("cases without timeline", no_event),
                         ("cases without notifications", no_note), ("accepted but still submitted", accepted_wrong),
                         ("accepted without case_accepted notice", unsent_accepts),
                         ("case_accepted written twice", doubled_accepts), ("tally ≠ recount", tally_diff)):
        if found:
            problems.append(f"{len(found)} {label} (e.g. {found[:3]})")
    if twice_ok:
        problems.append(f"{twice_ok} notifications with two successful attempts")
    if twice_sent:
        problems.append(f"{twice_sent} messages sent twice by WeChat")
    summary = dict(filed=len(numbers), accepted=len(clients.accepted), notifications=dict(states),
                   template_sends=len(delivered), repeats_refused_by_wechat=repeats, drained_seconds=drained)
    return problems, summary, totals


def backup_and_restore(cluster, totals, log):
    """mariadb-dump of the live database (one consistent snapshot), restored into a fresh cluster; the figures
    and row counts there must equal those here. → (problems, dump seconds, restore seconds, dump MB)."""
    from app import create_app
    from models import Case, CaseEvent, Notification, db
    from services import stats
    dump = cluster.dir.parent / f"{cluster.dir.name}.sql"
    started = time.time()
    with open(dump, "wb") as out:
        done = subprocess.run(["mariadb-dump", "-uroot", f"--socket={cluster.dir}/n1/sock", "--single-transaction",
                               "--routines", "--triggers", "--databases", "app"], stdout=out, stderr=subprocess.PIPE)
    if done.returncode:
        raise RuntimeError(done.stderr.decode()[-1000:])
    dumped = time.time() - started
    size = dump.stat().st_size / 1e6
    cluster.stop()
    fresh = Cluster(base=cluster.base, standin_url=cluster.standin_url, state=DRILL_STATE)
    try:
        fresh.start(apps=False, log=log)
        started = time.time()
        with open(dump, "rb") as source:
            done = subprocess.run(["mariadb", "-uroot", f"--socket={fresh.dir}/n3/sock"], stdin=source,
                                  stderr=subprocess.PIPE)  # into node 3: Galera copies it to the others
        if done.returncode:
            raise RuntimeError(done.stderr.decode()[-1000:])
        restored = time.time() - started
        app = create_app({"DATABASE_URL": fresh.node_url(1), "SECRET_KEY": SECRET})
        with app.app_context(), db.connection_context():
            again = {"cases": Case.select().count(), "events": CaseEvent.select().count(),
                     "notifications": Notification.select().count(), "figures": stats.figures(by="state")}
        problems = [f"{k}: {totals[k]} before, {again[k]} restored" for k in totals if totals[k] != again[k]]
    finally:
        fresh.stop()
        dump.unlink(missing_ok=True)
    return problems, dumped, restored, size


def run(log=print):
    standin = RemoteStandIn(apps=APP_IDS, links={"wxsandbox0fficial1": ["wxsandbox0mini0001"]}, latency=0.02)
    cluster = Cluster(base=_base_port(), standin_url=standin.base_url, state=DRILL_STATE)
    cluster.extra_env = {"REPORT_RATE_LIMIT": "1000", "DELIVERY_CONCURRENCY": "4"}
    rows = []
    try:
        cluster.start(log=log)
        citizens, deputies = prepare(cluster, standin)
        clients = Clients(cluster.web, citizens, deputies)
        phases, events = drill(cluster, clients, log)
        problems, summary, totals = check(cluster, clients, standin, log)
        log(f"  {summary}")
        for name, (ops, seconds) in phases.items():
            rows.append([f"failure drill, {name}", f"operations/s, {CLIENTS} clients", f"{ops / seconds:.1f} op/s",
                         "—", f"{ops} operations in {seconds:.0f} s" + (
                             "; " + "; ".join(f"{t:.0f} s {w}" for t, w in events) if name == "during" else "")])
        rows.append(["failure drill, outcome", "lost / doubled", "0 / 0" if not problems else "PROBLEMS", "0 / 0",
                     ("OK; " if not problems else "MISSED; " + "; ".join(problems) + "; ")
                     + f"{summary['filed']} reports answered 201, {summary['accepted']} accepted, notifications "
                     f"{summary['notifications']}, {summary['template_sends']} template messages sent once each "
                     f"({summary['repeats_refused_by_wechat']} resends stopped by client_msg_id), outbox drained "
                     f"{summary['drained_seconds']:.0f} s after the load; client retries {dict(clients.retries)}"])
        trouble, dumped, restored, size = backup_and_restore(cluster, totals, log)
        rows.append(["backup and restore", "dump → fresh cluster", "equal" if not trouble else "DIFFERENT",
                     "equal", ("OK; " if not trouble else "MISSED; " + "; ".join(trouble) + "; ")
                     + f"dump {dumped:.1f} s ({size:.1f} MB), restore into a fresh 3-node cluster {restored:.1f} s; "
                     f"{totals['cases']} cases, {totals['events']} events, {totals['notifications']} notifications"])
    finally:
        if cluster.dir is not None and cluster.pids:
            cluster.stop()
        standin.stop()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
