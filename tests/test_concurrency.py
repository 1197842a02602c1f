"""500 cases opened at once by 8 HTTP clients get 500 distinct numbers, and every one is
stored: through a real `caredesk serve` (gunicorn, several worker processes), on SQLite and
on PostgreSQL. Each test runs its own instance: a temporary data dir, and for PostgreSQL a
database of its own, dropped afterwards."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from instances import caredesk, scratch_postgres
from instances import instance_env as _env

CASES, CLIENTS = 500, 8
ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _served(env: dict[str, str]) -> Iterator[int]:
    """`caredesk serve --web-only` with four workers; its process group is stopped after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "caredesk", "serve", "--web-only", "--port", str(port),
         "--workers", "4"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"caredesk serve exited with {server.returncode}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "caredesk serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: object = None
) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    try:
        return response.status, json.loads(data or b"{}")
    except ValueError:  # an error page rather than the API's JSON
        return response.status, {"message": data[:300].decode(errors="replace")}


def _open_cases_concurrently(env: dict[str, str]) -> None:
    caredesk(env, "setup", "--no-demo")
    caredesk(env, "user", "add", "alice@acme.test", "--role", "customer", "--org", "Acme")
    caredesk(env, "user", "add", "rep@caredesk.test", "--role", "representative")
    token = caredesk(env, "token", "create", "alice@acme.test").split()[-1]
    rep_token = caredesk(env, "token", "create", "rep@caredesk.test").split()[-1]
    start = threading.Barrier(CLIENTS)

    with _served(env) as port:

        def client(k: int) -> list[tuple[int, dict]]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            start.wait()  # all eight begin together
            answers = []
            for i in range(k, CASES, CLIENTS):
                subject = f"Dialer stopped on NA4 (client {k}, request {i})"
                answers.append(
                    _request(conn, "POST", "/api/v1/tickets", token, {"subject": subject})
                )
            conn.close()
            return answers

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for batch in pool.map(client, range(CLIENTS)) for a in batch]

        # Eight calls at once from one new caller: one contact, eight cases, no error.
        def new_caller(k: int) -> tuple[int, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = {"subject": f"Call {k}", "requester": "bob@acme.test", "channel": "phone"}
            start.wait()
            return _request(conn, "POST", "/api/v1/tickets", rep_token, body)

        with ThreadPoolExecutor(CLIENTS) as pool:
            calls = list(pool.map(new_caller, range(CLIENTS)))

        stored: dict[str, str] = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        path = "/api/v1/tickets?limit=200"
        while path:
            status, page = _request(conn, "GET", path, rep_token)
            assert status == 200, page
            stored.update((t["number"], t["subject"]) for t in page["items"])
            path = f"/api/v1/tickets?limit=200&cursor={page['next']}" if page["next"] else ""

    failures = [(status, body) for status, body in answers + calls if status != 201]
    assert not failures, failures[:5]
    assert {body["requester"] for _, body in calls} == {"bob@acme.test"}
    numbers = [body["number"] for _, body in answers]
    assert len(numbers) == CASES
    assert len(set(numbers)) == CASES, "two requests got the same number"
    # Nothing rolled back, so no gaps either: CASE-100 … CASE-599.
    assert set(numbers) == {f"CASE-{n}" for n in range(100, 100 + CASES)}
    # Every answer is a stored case, with the subject its request sent.
    assert stored == {body["number"]: body["subject"] for _, body in answers + calls}


def test_concurrent_cases_on_sqlite(tmp_path: Path) -> None:
    _open_cases_concurrently(_env(tmp_path))


@pytest.mark.postgres
def test_concurrent_cases_on_postgres(tmp_path: Path) -> None:
    with scratch_postgres("concurrency") as url:
        _open_cases_concurrently(_env(tmp_path, url))
