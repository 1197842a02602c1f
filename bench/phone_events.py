"""Call events per second through `caredesk serve`: the CTI endpoint under concurrent PBXs.

    .venv/bin/python bench/phone_events.py             # the full run: 10 s, 8 clients
    .venv/bin/python bench/phone_events.py --smoke     # what bench/run.py runs (2 s)
    .venv/bin/python bench/phone_events.py --postgres  # on a fresh PostgreSQL database
    .venv/bin/python bench/phone_events.py --strict    # exit 1 when the target is missed

A fresh instance gets the guide's model, an intake token, four representatives with
extensions (available) and 200 contacts with phone numbers; `caredesk serve --web-only`
(gunicorn, real subprocess) serves it, and client processes each play whole calls
(newCall, answer, hangup, form-encoded as PBX bridges send them) back to back for a fixed
time. Every answered call opens a phone case, so this measures the full path: token,
routing by calendar and presence, caller identification, case, clock, timeline events.

Target on a 2-core machine: at least 500 events/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    machine,
    percentile,
    postgres_instance,
    postgres_reachable,
    served,
    server_cpu_seconds,
    sqlite_instance,
)

TARGET_EVENTS_PER_SECOND = 500.0
CONTACTS = 200


def seed_here() -> None:
    """Runs inside the instance: representatives with extensions, contacts with phones."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    from caredesk.people import services as people
    from caredesk.people.models import User
    from caredesk.people.presence import set_presence

    for n in range(4):
        rep = people.add_user(f"rep{n}@bench.test", role="representative", extension=str(201 + n))
        set_presence(rep, "available", actor=rep)
    people.get_or_create_organization("Acme", domains=["acme.test"])
    User.objects.bulk_create(
        User(
            email=f"contact{n}@acme.test",
            role="customer",
            phone=f"+1212555{n:04d}",
            organization_id=people.get_or_create_organization("Acme").pk,
        )
        for n in range(CONTACTS)
    )
    print(f"seeded 4 representatives and {CONTACTS} contacts")


def call_events(call_id: str, n: int) -> list[dict[str, str]]:
    """One whole call: two in three callers are known contacts, the answering agent by
    extension."""
    return [
        {"event": "newCall", "direction": "in", "from": f"+1212555{n % 300:04d}",
         "to": "+18884773448", "callId": call_id},
        {"event": "answer", "answeringNumber": str(201 + n % 4), "callId": call_id},
        {"event": "hangup", "cause": "normalClearing", "callId": call_id},
    ]  # fmt: skip


def in_process_here(token: str, calls: int) -> None:
    """Runs inside the instance: whole calls through Django's test client (middleware,
    token, view, services, commit; no HTTP server), the CPU and the SQL statements of each
    event type. CPU time, so what else the machine runs changes it little."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    path = f"/api/v1/cti/{token}"
    kinds = ("newCall", "answer", "hangup")
    statements: dict[str, list[int]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for n in range(calls + 3):
        for fields in call_events(f"in-process-{n}", n):
            body = urlencode(fields)
            kind = fields["event"]
            if n < 3:  # the first calls fill the per-process caches and count statements
                with CaptureQueriesContext(connection) as ctx:
                    response = client.post(path, body, "application/x-www-form-urlencoded")
                statements[kind].append(len(ctx.captured_queries))
            else:
                start = time.process_time()
                response = client.post(path, body, "application/x-www-form-urlencoded")
                cpu[kind].append(time.process_time() - start)
            assert response.status_code == 200, response.content
    mean = {k: 1000 * sum(v) / len(v) for k, v in cpu.items()}
    print(
        f"in process, {calls} calls: "
        + ", ".join(f"{k} {mean[k]:.2f} ms ({statements[k][-1]} statements)" for k in kinds)
        + f"; {sum(mean.values()) / 3:.2f} ms per event"
    )


def _client(
    host: str, port: int, token: str, client: int, seconds: float, out: multiprocessing.Queue
) -> None:
    """One PBX: whole calls, event after event, for `seconds`, on one kept connection.

    Written on a bare socket: on a 2-core machine the clients share the cores with the
    server, and http.client's own work would be counted against caredesk."""
    head = (
        f"POST /api/v1/cti/{token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
    ).encode()
    sock = socket.create_connection((host, port), timeout=30)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        for fields in call_events(f"bench-{client}-{n}", n):
            body = urlencode(fields).encode()
            start = time.perf_counter()
            try:
                sock.sendall(b"%s%d\r\n\r\n%s" % (head, len(body), body))
                status, keep = _response(sock)
            except OSError:
                errors += 1
                sock.close()
                sock = socket.create_connection((host, port), timeout=30)
                continue
            latencies.append(time.perf_counter() - start)
            errors += status != 200
            if not keep:
                sock.close()
                sock = socket.create_connection((host, port), timeout=30)
        n += 1
    sock.close()
    out.put((latencies, errors))


def _response(sock: socket.socket) -> tuple[int, bool]:
    """Read one HTTP/1.1 response with a Content-Length: its status, and whether the server
    keeps the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line[15:]) for line in lines if line.startswith(b"content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        rest += chunk
    return int(lines[0].split()[1]), b"connection: close" not in lines


def measure(host: str, port: int, token: str, clients: int, seconds: float) -> dict[str, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(host, port, token, i, seconds, queue))
        for i in range(clients)
    ]
    cpu_before = server_cpu_seconds(port)
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(seconds, time.perf_counter() - started - 0.05)
    cpu = server_cpu_seconds(port) - cpu_before
    latencies = [x for r in results for x in r[0]]
    return {
        "cpu_ms": 1000 * cpu / len(latencies) if latencies else 0.0,
        "events": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "errors": sum(r[1] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="2 s (bench/run.py)")
    parser.add_argument("--seconds", type=float, default=None, help="how long to send")
    parser.add_argument("--clients", type=int, default=8, help="parallel PBX processes")
    parser.add_argument("--workers", type=int, default=None, help="web workers of the server")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL, not SQLite")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--seed-here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-process-here", metavar="TOKEN", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_here:
        seed_here()
        return 0
    if args.in_process_here:
        in_process_here(args.in_process_here, 30 if args.smoke else 200)
        return 0
    seconds = args.seconds or (2.0 if args.smoke else 10.0)
    print(machine())
    if args.postgres:
        problem = postgres_reachable()
        if problem:
            print(f"skipped: {problem}")
            return 0
        instance_context = postgres_instance("caredesk_bench_phone")
    else:
        instance_context = sqlite_instance()
    with instance_context as instance:
        instance.prepare()
        subprocess.run(
            [sys.executable, __file__, "--seed-here"], env=instance.env, cwd=ROOT, check=True
        )
        instance.caredesk("user", "add", "pbx@bench.test", "--role", "manager")
        intake = instance.caredesk("token", "create", "pbx@bench.test", "--scope", "intake")
        token = intake.split()[-1]
        with served(instance, workers=args.workers) as (host, port):
            measure(host, port, token, 2, 0.5)  # warm every worker's imports and caches
            r = measure(host, port, token, args.clients, seconds)
        in_process = subprocess.run(
            [sys.executable, __file__, "--in-process-here", token]
            + (["--smoke"] if args.smoke else []),
            env=instance.env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
        ).stdout.strip()  # fmt: skip
        calls = instance.caredesk(
            "shell", "-c",
            "from caredesk.phone.models import Call; from caredesk.tickets.models import Ticket;"
            " print(Call.objects.filter(outcome='answered').count(), Ticket.objects.count())",
        ).split()[-2:]  # fmt: skip
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{'database':12} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
        f" {'server CPU ms/event':>20}"
    )
    print(
        f"{database:12} {r['rate']:9.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['errors']:7.0f}"
        f" {r['cpu_ms']:20.2f}"
    )
    cores = os.cpu_count() or 1
    if r["cpu_ms"]:
        print(
            f"server CPU per event {r['cpu_ms']:.2f} ms: {cores} idle cores would serve about"
            f" {1000 * cores / r['cpu_ms']:.0f} events/s (clients and other load excluded)"
        )
    print(in_process)
    print(
        f"{r['events']:.0f} events; {calls[0]} calls answered, {calls[1]} cases opened"
        " (the in-process calls included)"
    )
    met = r["rate"] >= TARGET_EVENTS_PER_SECOND
    print(
        f"target: >= {TARGET_EVENTS_PER_SECOND:.0f} events/s: {'met' if met else 'MISSED'} "
        f"({r['rate']:.0f} events/s, {args.clients} clients, {os.cpu_count()} cores)"
    )
    if r["errors"]:
        print("errors during the run")
        return 1
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
