"""Draining the outbox: 10,000 notifications through the WeChat stand-in answering every call after 50 ms,
on a throwaway MariaDB server and on SQLite: one sender (the baseline), one process with
DELIVERY_CONCURRENCY senders, and PROCESSES drainer processes side by side.

Half the people hold a subscribe consent (mini-program subscribe message), half follow the official
account (template message). After the drain the stand-in's record must show every message sent exactly
once, every row 'sent' with one successful DeliveryAttempt, and no error anywhere."""
import ast
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter

from app import create_app
from models import Account, DeliveryAttempt, Notification, SubscriptionQuota, db
from models.migrate import migrate
from services import delivery, notify
from tests.mariadb import MariaDB
from tests.wechat_helpers import MAPPING, MP_IDS, value
from wechat.standin import WeChatStandIn

COUNT = int(os.environ.get("DRAIN_BENCH_COUNT", 10_000))
PROCESSES = 2           # drainer processes side by side in the last row
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = 100          # rows drained by one sender, for comparison
LATENCY = 0.05          # seconds WeChat takes to answer each call
APPS = {"wxoabench000000001": "oa-secret", "wxmpbench000000001": "mp-secret"}
CONFIG = {
    "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://daibiao.test", "QUIET_HOURS": "",
    "WECHAT_OA_APP_ID": "wxoabench000000001", "WECHAT_OA_APP_SECRET": "oa-secret",
    "WECHAT_MP_APP_ID": "wxmpbench000000001", "WECHAT_MP_APP_SECRET": "mp-secret",
    "WECHAT_MP_TEMPLATES": MAPPING["mp"], "WECHAT_OA_TEMPLATES": MAPPING["oa"],  # the stand-in's templates
    "WECHAT_TEMPLATES_FILE": "",
}


def _serve(conn, kwargs):
    standin = WeChatStandIn(**kwargs)
    conn.send(standin.start())
    for name, args in iter(conn.recv, None):
        value = getattr(standin, name)
        conn.send(value(*args) if callable(value) else value)
    standin.stop()


class RemoteStandIn:
    """The stand-in in a process of its own, as WeChat is: its CPU is not the drain's. Methods and
    attributes are called through a pipe: `standin.sent("template")`, `standin.calls()`."""

    def __init__(self, **kwargs):
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, kwargs), daemon=True)
        self._proc.start()
        self.base_url = self._conn.recv()

    def __getattr__(self, name):
        def remote(*args):
            self._conn.send((name, args))
            return self._conn.recv()
        return remote

    @property
    def pid(self):
        return self._proc.pid

    def stop(self):
        self._conn.send(None)
        self._proc.join(10)


def outbox(n, prefix, standin):
    """n pending notifications: even ones to subscribers (one consent each, which WeChat knows of too),
    odd ones to followers."""
    with db.atomic():
        Account.bulk_create([Account(role="citizen", openid=f"openid-{prefix}{i}") if i % 2 == 0 else
                             Account(role="citizen", oa_openid=f"oa-{prefix}{i}", oa_followed=True)
                             for i in range(n)], batch_size=500)
        ids = [a.id for a in Account.select(Account.id).where(
            Account.openid.startswith(f"openid-{prefix}") | Account.oa_openid.startswith(f"oa-{prefix}"))
            .order_by(Account.id)]
        SubscriptionQuota.insert_many([{"account": a, "template_key": "case_progress", "remaining": 1}
                                       for a in ids[::2]]).execute()
    for i in range(0, n, 2):
        standin.consent(f"openid-{prefix}{i}", MP_IDS["case_progress"])
    for i, account_id in enumerate(ids):
        notify.write(account_id, "case_accepted", f"{prefix}{i}", {"number": f"{prefix}{i:05d}", "title": "测试"})


def drainers(processes, senders):
    """Drain with `processes` processes side by side (`flask run-jobs drain_outbox --once`, what a second
    scheduler host or a cron line beside the scheduler runs); returns the summed counts and their CPU."""
    from flask import current_app
    cfg = current_app.config
    env = {**os.environ, **{k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in CONFIG.items()},
           "DATABASE_URL": cfg["DATABASE_URL"], "WECHAT_API_BASE": cfg["WECHAT_API_BASE"],
           "DELIVERY_CONCURRENCY": str(senders)}
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run-jobs", "drain_outbox", "--once"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(processes)]
    counts = Counter()
    for proc in procs:
        out = proc.communicate(timeout=600)[0]
        counts.update(ast.literal_eval(out.strip().splitlines()[-1].split(": ", 1)[1]))
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(counts), cpu.ru_utime + cpu.ru_stime


def cpu_of(*pids):
    """Seconds of CPU the processes have used so far (user + system, from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def server_counts():
    """MariaDB's statement and commit counters, server-wide (the bench is the server's only client)."""
    return {name: int(value) for name, value in db.execute_sql(
        "SHOW GLOBAL STATUS WHERE variable_name IN ('Questions', 'Com_commit')").fetchall()}


def measure(standin, n, prefix, senders, processes=0, server=None):
    """Drain n fresh rows with `senders` senders (in each of `processes` processes, 0: in this one);
    (rate, problems, note)."""
    mark = len(standin.calls())
    outbox(n, prefix, standin)
    others = [standin.pid] + ([server.proc.pid] if server else [])  # WeChat's stand-in and MariaDB
    statements = server_counts() if server else None
    started, cpu, elsewhere = time.perf_counter(), time.process_time(), cpu_of(*others)
    if processes:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        counts, children = drainers(processes, senders)
        cpu = children - before.ru_utime - before.ru_stime  # the drainers' own CPU
    else:
        counts = delivery.drain(concurrency=senders)
        cpu = time.process_time() - cpu
    seconds, elsewhere = time.perf_counter() - started, cpu_of(*others) - elsewhere
    if statements:
        statements = {k: (v - statements[k]) / n for k, v in server_counts().items()}
    calls = standin.calls()[mark:]
    sent = [value(c["json"], "number") for c in calls
            if c["path"].endswith("/send") and c["errcode"] == 0 and not c.get("repeat")]
    copies = Counter(sent)
    problems = []
    if counts != {"sent": n}:
        problems.append(f"drain {counts}")
    if len(copies) != n or set(copies) != {f"{prefix}{i:05d}" for i in range(n)}:
        problems.append(f"{n - len(copies)} missing")
    if len(sent) != len(copies):
        problems.append(f"{len(sent) - len(copies)} duplicates")
    states = Counter(r.state for r in Notification.select(Notification.state).where(
        Notification.dedupe_key.startswith(prefix)))
    if states != {"sent": n}:
        problems.append(f"rows {dict(states)}")
    attempts = Counter(a.result for a in DeliveryAttempt.select(DeliveryAttempt.result).join(Notification).where(
        Notification.dedupe_key.startswith(prefix)))
    if attempts != {"ok": n}:
        problems.append(f"attempts {dict(attempts)}")
    failed = [c for c in calls if c["errcode"] != 0]
    if failed:
        problems.append(f"{len(failed)} WeChat errors")
    sends = sorted(c["at"] for c in calls if c["path"].endswith("/send"))
    peak = first = 0  # most sends within any one second
    for i, t in enumerate(sends):
        while sends[first] <= t - 1:
            first += 1
        peak = max(peak, i - first + 1)
    tokens = sum(c["path"].endswith("/stable_token") for c in calls)
    note = (f"{seconds:.1f} s; {'delivered exactly once' if not problems else '; '.join(problems)}; "
            f"peak {peak}/s; drain CPU {cpu / n * 1000:.1f} ms/msg"
            + (f" (+ MariaDB and stand-in {elsewhere / n * 1000:.1f})" if server else
               f" (+ stand-in {elsewhere / n * 1000:.1f})")
            + (f"; {statements['Questions']:.1f} statements and {statements['Com_commit']:.2f} commits a message"
               if statements else "") + f"; {tokens} token fetches; load {os.getloadavg()[0]:.1f}")
    return n / seconds, problems, note


def backend(name, url, standin, server=None):
    app = create_app({**CONFIG, "DATABASE_URL": url, "WECHAT_API_BASE": standin.base_url})
    senders = app.config["DELIVERY_CONCURRENCY"]
    rows = []
    with app.app_context(), db.connection_context():
        migrate()
        if name == "MariaDB":
            rate, _, note = measure(standin, BASELINE, "s", 1, server=server)
            rows.append([f"outbox drain, {name}", f"{BASELINE} messages, 1 sender (before)", f"{rate:.0f} msg/s",
                         "—", note])
        rate, problems, note = measure(standin, COUNT, "b", senders, server=server)
        rows.append([f"outbox drain, {name}", f"{COUNT:,} messages, {senders} senders", f"{rate:.0f} msg/s",
                     "≥ 400 msg/s", ("OK; " if rate >= 400 and not problems else "MISSED; ") + note])
        rate, problems, note = measure(standin, COUNT, "q", senders, processes=PROCESSES, server=server)
        rows.append([f"outbox drain, {name}", f"{COUNT:,} messages, {PROCESSES} processes × {senders} senders",
                     f"{rate:.0f} msg/s", "≥ 400 msg/s",
                     ("OK; " if rate >= 400 and not problems else "MISSED; ") + note])
    return rows


def run():
    standin = RemoteStandIn(apps=APPS, links={"wxoabench000000001": ["wxmpbench000000001"]}, latency=LATENCY)
    server = MariaDB().start()
    rows = []
    try:
        rows += backend("MariaDB", server.url, standin, server)
        with tempfile.TemporaryDirectory() as tmp:
            rows += backend("SQLite", f"sqlite:///{os.path.join(tmp, 'bench.db')}", standin)
    finally:
        server.stop()
        standin.stop()
    return rows
