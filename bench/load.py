"""Load generation shared by the HTTP benchmarks: gunicorn servers, wrk (closed loop, maximum throughput)
and a fixed-rate open-loop generator (latency at a given offered rate), all on 127.0.0.1.

Requests are built in Python beforehand and written one a line to a file (method, path, headers, body
separated by tabs); bench/requests.lua makes wrk cycle through them, each wrk thread taking every n-th
line, so no request repeats until the file runs out (reported as `wrapped`). Every timed phase holds
an exclusive flock on /tmp/bench.lock so only one benchmark on the machine times at a time.
"""
import asyncio
import contextlib
import fcntl
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_name("requests.lua")
GUNICORN = dict(workers=4, threads=4)   # docs/deployment.md


@contextlib.contextmanager
def timing(lock="/tmp/bench.lock"):
    """Hold the machine-wide benchmark lock (the same lock as `flock /tmp/bench.lock …`)."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port():
    from tests.mariadb import free_port as port
    return port()


def cpu_seconds(*pids):
    """User + system CPU seconds used so far by these processes and their live children (gunicorn workers)."""
    total = 0.0
    for pid in pids:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        total += cpu_seconds(*map(int, children)) if children else 0.0
    return total


def settled(pid, idle=0.03, every=0.5, limit=120):
    """Wait until these processes (a gunicorn and its workers) have used under `idle` CPU seconds in `every`
    seconds: a server answers once its first worker is up, while the others may still be loading (each worker
    warms up for ~2.5 s of CPU: imports, jieba's dictionary), which a timed phase begun at once would count."""
    deadline, last = time.time() + limit, cpu_seconds(pid)
    while time.time() < deadline:
        time.sleep(every)
        now = cpu_seconds(pid)
        if now - last < idle:
            return
        last = now


@contextlib.contextmanager
def gunicorn(app, env, ready="/", workers=GUNICORN["workers"], threads=GUNICORN["threads"]):
    """Serve `app` ("module:factory()") with gunicorn on a free loopback port; yields (base URL, its pid)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + ready, timeout=5).read()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not start")
                time.sleep(0.2)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def write_requests(path, requests):
    """requests: (method, path, {header: value}, body str) → one line each for bench/requests.lua."""
    with open(path, "w", encoding="utf-8") as out:
        for method, target, headers, body in requests:
            line = "\t".join([method, target, "|".join(f"{k}: {v}" for k, v in headers.items()), body or ""])
            assert "\n" not in line and line.count("\t") == 3, "a request must fit on one line"
            out.write(line + "\n")
    return path


def wrk(base, requests_file, seconds, connections, expect="", threads=2):
    """Closed-loop load: `connections` clients each sending the next request as soon as the last is answered.
    → {rps, p50, p99 (ms), requests, bad (non-2xx or without `expect`), errors (socket/timeouts), wrapped,
    socket: the errors by kind {connect, read, write, timeout}}."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(LUA), base,
         "--", str(requests_file), expect, str(threads)],
        capture_output=True, text=True, check=True).stdout
    fields = re.search(r"^RESULT (.*)$", out, re.M).group(1).split()
    requests, micros, p50, p99, bad, errors, wrapped = (float(x) for x in fields[:7])
    return dict(rps=requests / (micros / 1e6), p50=p50 / 1000, p99=p99 / 1000, requests=int(requests),
                bad=int(bad), errors=int(errors), wrapped=int(wrapped),
                socket=dict(zip(("connect", "read", "write", "timeout"), (int(x) for x in fields[7:]))))


def http_bytes(method, target, headers, body, host):
    data = (body or "").encode()
    head = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def open_loop(base, requests, rate, timeout=5.0):
    """Send `requests` (as for write_requests) at a fixed rate — request i leaves at start + i/rate whether
    or not earlier ones were answered (a new connection is opened when none is idle), so a slow server
    cannot slow the arrivals. Latency runs from the scheduled time, so a late client counts against us.
    → list of (latency seconds, status, body bytes); status 0 for a timeout or a broken connection."""
    host = base.split("//", 1)[1]
    address, port = host.rsplit(":", 1)
    payloads = [http_bytes(*r, host=host) for r in requests]
    return asyncio.run(_open_loop(address, int(port), payloads, rate, timeout))


async def _open_loop(address, port, payloads, rate, timeout):
    loop = asyncio.get_running_loop()
    idle, results = [], []

    async def exchange(conn, payload):
        reader, writer = conn
        writer.write(payload)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        return int(status_line.split()[1]), await reader.readexactly(length), close

    async def one(payload, at):
        status, body = 0, b""
        try:
            async with asyncio.timeout(timeout):
                while True:  # a kept-alive connection the server closed meanwhile: the next, at last a new one
                    reused = bool(idle)
                    conn = idle.pop() if reused else await asyncio.open_connection(address, port)
                    try:
                        status, body, close = await exchange(conn, payload)
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        conn[1].close()
                        if not reused:
                            raise
                (conn[1].close() if close else idle.append(conn))
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        results.append((loop.time() - at, status, body))

    start = loop.time() + 0.05
    tasks = []
    for i, payload in enumerate(payloads):
        at = start + i / rate
        if at > loop.time():
            await asyncio.sleep(at - loop.time())
        tasks.append(asyncio.create_task(one(payload, at)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return results


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")
