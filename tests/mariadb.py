"""A throwaway MariaDB server for the test suite: own data directory, loopback only, removed afterwards.

Used when TEST_DATABASE=mariadb (and by benchmarks). If the server cannot start, the tests fail loudly.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDB:
    def __init__(self, *options, kept=None):
        self.options = list(options)  # more mariadbd options (a benchmark's larger buffer pool); the last one wins
        self.kept = kept  # a directory kept between runs (a benchmark's 10 M cases): started again as it was left
        self.dir = kept or tempfile.mkdtemp(prefix="daibiao-mariadb-")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.socket = os.path.join(self.dir, "sock")
        self.proc = None

    @property
    def url(self):
        return f"mysql://app:app@127.0.0.1:{self.port}/app?charset=utf8mb4"

    def client(self, sql):
        return subprocess.run(["mariadb", "-uroot", f"--socket={self.socket}", "-e", sql],
                              capture_output=True, text=True)

    def start(self):
        for tool in ("mariadb-install-db", "mariadbd", "mariadb"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: install Debian's mariadb-server (make test does)")
        existing = self.kept and os.path.exists(f"{self.dir}/data/app")
        for attempt in range(0 if existing else 3):  # the bootstrap server now and then dies of signal 11: afresh
            shutil.rmtree(f"{self.dir}/data", ignore_errors=True)
            installed = subprocess.run(["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=normal",
                                        f"--datadir={self.dir}/data", "--user=root"], capture_output=True, text=True)
            if installed.returncode == 0:
                break
        else:
            if not existing:
                raise RuntimeError(f"mariadb-install-db failed three times: {installed.stderr[-2000:]}")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.dir}/data", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.socket}", "--user=root", "--skip-log-bin",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
             "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=256M", "--max-connections=500", *self.options],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + (300 if existing else 30)  # a kept 10 M cases' pool loads
        while self.client("select 1").returncode != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("MariaDB did not start; see its log")
            time.sleep(0.2)
        if existing:
            return self
        result = self.client("create database app character set utf8mb4 collate utf8mb4_unicode_ci;"
                             "create user 'app'@'127.0.0.1' identified by 'app';"
                             "grant all on *.* to 'app'@'127.0.0.1';")
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if not self.kept:
            shutil.rmtree(self.dir, ignore_errors=True)
