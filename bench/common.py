"""What the benchmarks share: throwaway instances, a real `caredesk serve`, PostgreSQL
databases made and dropped for the run, and percentiles."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("CAREDESK_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def machine() -> str:
    """The context a figure needs: other work on the machine changes it by half or more."""
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    """A caredesk instance of its own: a data dir and, optionally, a PostgreSQL database."""

    data_dir: Path
    database_url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREDESK_")}
        env.update(CAREDESK_DATA_DIR=str(self.data_dir), CAREDESK_LOG_LEVEL="WARNING")
        if self.database_url:
            env["CAREDESK_DATABASE_URL"] = self.database_url
        return env

    def caredesk(self, *args: str, quiet: bool = True) -> str:
        """Run a `caredesk` command in this instance; answer its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "caredesk", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if quiet else None,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"caredesk {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
        return done.stdout

    def prepare(self) -> None:
        """Migrate and load the guide's model, without demo data."""
        self.caredesk("setup", "--no-demo")

    def token(self, email: str, role: str, *extra: str) -> str:
        self.caredesk("user", "add", email, "--role", role, *extra)
        return self.caredesk("token", "create", email).split()[-1]


@contextlib.contextmanager
def sqlite_instance(keep: Path | None = None) -> Iterator[Instance]:
    """A fresh data dir (SQLite), removed afterwards unless `keep` names it."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield Instance(keep)
        return
    path = Path(tempfile.mkdtemp(prefix="caredesk-bench-"))
    try:
        yield Instance(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def postgres_reachable(server: str = PG_SERVER) -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(f"{server}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {server}: {str(exc).strip()}"


@contextlib.contextmanager
def postgres_instance(name: str, server: str = PG_SERVER) -> Iterator[Instance]:
    """A new database `name` (dropped first if a previous run left it) and a data dir."""
    import psycopg

    def admin(sql: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    try:
        with sqlite_instance() as instance:
            instance.database_url = f"{server}/{name}"
            yield instance
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def served(
    instance: Instance, *, workers: int | None = None, threads: int | None = None
) -> Iterator[tuple[str, int]]:
    """`caredesk serve --web-only` on a free port, stopped (its whole process group) after."""
    port = free_port()
    args = [sys.executable, "-m", "caredesk", "serve", "--web-only", "--port", str(port)]
    if workers:
        args += ["--workers", str(workers)]
    if threads:
        args += ["--threads", str(threads)]
    server = subprocess.Popen(
        args, env=instance.env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until_up("127.0.0.1", port, server)
        yield "127.0.0.1", port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def server_cpu_seconds(port: int) -> float:
    """CPU time (user + system) used so far by `caredesk serve` on `port`: its master and
    workers, one process group. Divided by the requests, it says what one costs whatever
    else the shared machine is doing."""
    group = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"serve" in args and str(port).encode() in args:
                group = os.getpgid(int(entry.name))
                break
        except (OSError, ProcessLookupError):
            continue
    if group is None:
        return 0.0
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ... utime is the 12th, stime the 13th.
        if int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_up(
    host: str, port: int, server: subprocess.Popen[bytes], timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"caredesk serve exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"caredesk serve did not answer on port {port} within {timeout} s")


class Client:
    """One HTTP/1.1 client with a bearer token; reconnects when the server closes."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(
        self, method: str, path: str, body: object = None, *, key: str | None = None
    ) -> tuple[int, dict]:
        """Send one request; `key` becomes its Idempotency-Key, which makes a retry safe."""
        payload = None if body is None else json.dumps(body)
        headers = {**self.headers, "Idempotency-Key": key} if key else self.headers
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed a kept-alive connection between requests: reconnect once,
                # unless a repeat could open a second case.
                self.conn.close()
                if attempt == 2 or (method != "GET" and not key):
                    raise
        try:
            return response.status, json.loads(data) if data else {}
        except ValueError:  # an error page rather than the API's JSON
            return response.status, {"message": data[:300].decode(errors="replace")}

    def close(self) -> None:
        self.conn.close()
