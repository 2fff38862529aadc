"""A province-scale set-up on 127.0.0.1: a 3-node MariaDB Galera cluster (Debian's galera-4), HAProxy in front of
it and of the app, redis-server, 2 app nodes (gunicorn) and 2 schedulers, all data in one temporary folder.

    python -m bench.cluster start   (make cluster)       python -m bench.cluster stop   (make cluster-stop)
    python -m bench.cluster status

The running set-up is described in instance/cluster.json (its folder, ports and process ids), so `stop` finds
what `start` left; the failure drill (bench/drill_bench.py) drives the same class, killing and restarting
single nodes. Ports: CLUSTER_PORT (default 13300) is HAProxy's MySQL port; the others follow it (see PORTS).
Galera nodes run as the `mysql` user (rsync state transfer drops to an unprivileged user; docs/deployment.md).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "instance" / "cluster.json"
BIN = ROOT / ".venv" / "bin"
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
NODES = (1, 2, 3)
APPS = (1, 2)
# offsets from the base port: HAProxy's MySQL front, node i's client port, Galera replication (gcomm), its
# incremental (IST) and snapshot (SST) transfer ports, HAProxy's HTTP front, Redis, app node i, the stand-in
PORTS = dict(mysql=0, node=0, gcomm=10, ist=20, sst=30, web=40, redis=41, app=50, standin=60)
SECRET = "cluster-demo-secret-key-not-for-production"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop(pid, sig=signal.SIGTERM, wait=30):
    """Signal one process we started, by its id, and wait for it to go (SIGKILL after `wait` seconds)."""
    if not pid or not _alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.time() + wait
    while _alive(pid):
        if time.time() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline += 10
        time.sleep(0.1)
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


class Cluster:
    def __init__(self, base=None, folder=None, pids=None, standin_url=None, state=STATE):
        self.state = Path(state)
        self.extra_env = {}
        self.base = int(base or os.environ.get("CLUSTER_PORT", 13300))
        self.dir = Path(folder) if folder else None
        self.pids = pids or {}
        self.standin_url = standin_url

    # --- addresses ---------------------------------------------------------------------------------
    def port(self, what, i=0):
        return self.base + PORTS[what] + i

    @property
    def database_url(self):
        return f"mysql://app:app@127.0.0.1:{self.port('mysql')}/app?charset=utf8mb4"

    def node_url(self, i):
        return f"mysql://app:app@127.0.0.1:{self.port('node', i)}/app?charset=utf8mb4"

    @property
    def web(self):
        return f"http://127.0.0.1:{self.port('web')}"

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.port('redis')}/0"

    def env(self):
        """The environment every app node and scheduler runs with."""
        return {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "SECRET_KEY": SECRET,
                "PUBLIC_BASE_URL": self.web, "WECHAT_SANDBOX": "1", "WECHAT_API_BASE": self.standin_url,
                "UPLOAD_FOLDER": str(self.dir / "uploads"), "QUIET_HOURS": "", "TRUSTED_PROXIES": "1", **self.extra_env}

    # --- processes ---------------------------------------------------------------------------------
    def _spawn(self, name, argv, env=None):
        log = open(self.dir / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                start_new_session=True)
        self.pids[name] = proc.pid
        self.save()
        return proc.pid

    def save(self):
        self.state.parent.mkdir(exist_ok=True)
        self.state.write_text(json.dumps({"base": self.base, "dir": str(self.dir), "pids": self.pids,
                                     "standin_url": self.standin_url}, indent=1))

    @classmethod
    def load(cls):
        if not STATE.exists():
            return None
        state = json.loads(STATE.read_text())
        return cls(state["base"], state["dir"], state["pids"], state.get("standin_url"))

    def kill(self, name, sig=signal.SIGKILL):
        """Kill one part (node2, app1, …) as a crash would (SIGKILL: its whole process group, so gunicorn's
        workers go with it) or stop it cleanly (SIGTERM)."""
        pid = self.pids.pop(name, None)
        if pid and sig == signal.SIGKILL and _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        _stop(pid, sig)
        self.save()

    # --- Galera -------------------------------------------------------------------------------------
    def sql(self, i, statement):
        return subprocess.run(["mariadb", "-uroot", f"--socket={self.dir}/n{i}/sock", "-N", "-B", "-e", statement],
                              capture_output=True, text=True)

    def status(self, i, name):
        out = self.sql(i, f"show status like '{name}'")
        return out.stdout.split("\t")[-1].strip() if out.returncode == 0 else None

    def start_node(self, i, new_cluster=False):
        node = self.dir / f"n{i}"
        if not (node / "data").exists():
            node.mkdir(exist_ok=True)
            shutil.chown(node, "mysql")
            done = subprocess.run(["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=normal",
                                   f"--datadir={node}/data", "--user=mysql"], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"mariadb-install-db n{i}: {done.stderr[-1500:]}")
        members = ",".join(f"127.0.0.1:{self.port('gcomm', n)}" for n in NODES)
        gcomm = f"127.0.0.1:{self.port('gcomm', i)}"
        argv = ["mariadbd", "--no-defaults", f"--datadir={node}/data", f"--port={self.port('node', i)}",
                "--bind-address=127.0.0.1", f"--socket={node}/sock", "--user=mysql", "--skip-log-bin",
                "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2", "--innodb-buffer-pool-size=128M",
                "--innodb-flush-log-at-trx-commit=0", "--max-connections=400", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci", "--wsrep-on=ON", f"--wsrep-provider={PROVIDER}",
                "--wsrep-cluster-name=daibiao", f"--wsrep-cluster-address=gcomm://{members}",
                f"--wsrep-node-address={gcomm}", f"--wsrep-node-name=n{i}",
                f"--wsrep-provider-options=gmcast.listen_addr=tcp://{gcomm};"
                f"ist.recv_addr=127.0.0.1:{self.port('ist', i)};gcache.size=256M",
                "--wsrep-sst-method=rsync", f"--wsrep-sst-receive-address=127.0.0.1:{self.port('sst', i)}",
                "--wsrep-slave-threads=2"] + (["--wsrep-new-cluster"] if new_cluster else [])
        self._spawn(f"node{i}", argv)

    def wait_synced(self, i, timeout=180):
        deadline = time.time() + timeout
        while self.status(i, "wsrep_local_state_comment") != "Synced":
            if not _alive(self.pids.get(f"node{i}", 0)) or time.time() > deadline:
                tail = (self.dir / "logs" / f"node{i}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Galera node n{i} did not reach Synced; the end of its log:\n{tail}")
            time.sleep(0.5)

    def cluster_size(self, i):
        return int(self.status(i, "wsrep_cluster_size") or 0)

    # --- the rest -------------------------------------------------------------------------------------
    def haproxy_config(self):
        nodes = "\n".join(f"  server n{i} 127.0.0.1:{self.port('node', i)} check inter 500 fall 2 rise 2 "
                          f"on-marked-down shutdown-sessions" for i in NODES)
        apps = "\n".join(f"  server a{i} 127.0.0.1:{self.port('app', i)} check inter 500 fall 2 rise 2"
                         for i in APPS)
        return f"""global
  maxconn 4000
defaults
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  retries 2
  option redispatch
# the database: every node takes writes (multi-master); a node that stops answering MySQL's handshake is
# taken out and its open connections are cut, so the app's pool reconnects to a live one
listen mysql
  bind 127.0.0.1:{self.port('mysql')}
  mode tcp
  balance leastconn
  option mysql-check user haproxy_check post-41
{nodes}
# the app nodes: a request that could not reach a node is sent to the other
listen web
  bind 127.0.0.1:{self.port('web')}
  mode http
  option forwardfor
  balance roundrobin
  option httpchk GET /healthz
  retry-on conn-failure
{apps}
"""

    def start_app(self, i):
        self._spawn(f"app{i}", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port('app', i)}", "--workers", "2",
                                "--threads", "4", "--timeout", "60", "app:create_app()"], self.env())

    def start_scheduler(self, i):
        self._spawn(f"scheduler{i}", [str(BIN / "flask"), "--app", "app", "scheduler"], self.env())

    def wait_http(self, url, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"{url} did not answer; logs in {self.dir}/logs")
            time.sleep(0.3)

    def flask(self, *args):
        done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], env=self.env(), cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def start(self, seed=True, apps=True, log=print):
        """Everything (apps=False: only the Galera nodes and HAProxy, for restoring a backup into)."""
        for tool in ("mariadbd", "haproxy", "redis-server", "rsync"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: apt-get install -y mariadb-server galera-4 rsync haproxy "
                                   "redis-server (make cluster installs them)")
        if not Path(PROVIDER).exists():
            raise RuntimeError("galera-4 is not installed (apt-get install -y galera-4)")
        self.dir = Path(tempfile.mkdtemp(prefix="daibiao-cluster-"))
        self.dir.chmod(0o755)  # the mysql user must reach its nodes' folders
        (self.dir / "logs").mkdir()
        (self.dir / "logs").chmod(0o777)
        self.save()
        started = time.time()
        self.start_node(1, new_cluster=True)
        self.wait_synced(1)
        created = self.sql(1, "create database app character set utf8mb4 collate utf8mb4_unicode_ci;"
                              "create user 'app'@'127.0.0.1' identified by 'app';"
                              "grant all on *.* to 'app'@'127.0.0.1';"
                              "create user 'haproxy_check'@'127.0.0.1';")
        if created.returncode != 0:
            raise RuntimeError(created.stderr)
        for i in NODES[1:]:
            self.start_node(i)
            self.wait_synced(i)
        log(f"Galera: {self.cluster_size(1)} nodes synced in {time.time() - started:.0f} s")
        (self.dir / "haproxy.cfg").write_text(self.haproxy_config())
        self._spawn("haproxy", ["haproxy", "-db", "-f", str(self.dir / "haproxy.cfg")])
        if not apps:
            return self
        (self.dir / "redis").mkdir()
        self._spawn("redis", ["redis-server", "--port", str(self.port("redis")), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.dir / "redis")])
        if not self.standin_url:
            self.standin_url = f"http://127.0.0.1:{self.port('standin')}/"
            self._spawn("standin", [str(BIN / "flask"), "--app", "app", "wechat", "standin",
                                    "--port", str(self.port("standin"))], self.env())
        self.flask("migrate")
        if seed:
            self.flask("seed-demo")
        for i in APPS:
            self.start_app(i)
        for i in APPS:
            self.start_scheduler(i)
        self.wait_http(f"{self.web}/healthz")
        log(f"ready in {time.time() - started:.0f} s: {self.web}/console/login  (MySQL through HAProxy: "
            f"{self.database_url}, Redis {self.redis_url}, folder {self.dir})")
        return self

    def stop(self):
        order = [n for n in self.pids if not n.startswith("node")] + [n for n in self.pids if n.startswith("node")]
        for name in order:
            _stop(self.pids.pop(name), signal.SIGTERM)
        if self.dir and self.dir.name.startswith("daibiao-cluster-"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.state.unlink(missing_ok=True)


def main(command):
    running = Cluster.load()
    if command == "start":
        if running is not None:
            sys.exit(f"a cluster is already running (folder {running.dir}); `make cluster-stop` first")
        cluster = Cluster()
        try:
            cluster.start()
        except Exception:
            cluster.stop()
            raise
    elif command == "stop":
        if running is None:
            print("no cluster running")
            return
        running.stop()
        print("cluster stopped, folder removed")
    elif command == "status":
        if running is None:
            print("no cluster running")
            return
        for name, pid in running.pids.items():
            print(f"{name:12} {pid:>8} {'up' if _alive(pid) else 'DOWN'}")
        for i in NODES:
            print(f"n{i}: {running.status(i, 'wsrep_local_state_comment')}, size {running.cluster_size(i)}")
    else:
        sys.exit("usage: python -m bench.cluster start|stop|status")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
